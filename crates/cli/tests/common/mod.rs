//! Helpers shared by the end-to-end tests: run the built `yrd-ets`, read its output, count the
//! journal.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// The `yrd-ets` binary cargo built for the tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yrd-ets"))
}

/// Runs `yrd-ets` with `args` to completion.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

/// stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Number of journal entries in the registry of `dir`, read straight from SQLite.
pub fn journal_len(dir: &Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join("registry.sqlite")).unwrap();
    db.query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
        .unwrap()
}
