//! Test helper for `tests/crash.rs`, not a user-facing tool.
//!
//! `yrd-storage-crash-writer <data dir> <batch size>` opens a [`SqliteStore`] in `<data dir>`
//! (binding it to the market configuration `test` if it is new) and appends hash-chained entries
//! forever, `<batch size>` per append, continuing from what is stored. After each successful
//! append it prints the last acknowledged seq on its own line and flushes stdout, so a test that
//! kills it knows which entries were promised to be durable.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use yrd_registry::journal::{JournalEntry, JournalStore, genesis_hash};
use yrd_storage::SqliteStore;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yrd-storage-crash-writer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), Some(batch)) = (args.next(), args.next()) else {
        return Err("usage: yrd-storage-crash-writer <data dir> <batch size>".into());
    };
    let dir = PathBuf::from(dir);
    let batch: u64 = batch
        .to_str()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .ok_or("batch size must be a positive integer")?;

    let mut store = SqliteStore::open(&dir).map_err(|e| e.to_string())?;
    if store.market_config().map_err(|e| e.to_string())?.is_none() {
        store
            .init_market_config("test")
            .map_err(|e| e.to_string())?;
    }
    let (mut next, mut prev) = match store.last_entry().map_err(|e| e.to_string())? {
        Some(last) => (last.seq + 1, last.hash),
        None => (1, genesis_hash("test")),
    };

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    loop {
        let entries: Vec<JournalEntry> = (next..next + batch)
            .map(|seq| {
                let tx_id = format!("t{seq}");
                let command = format!(r#"{{"kind":"transfer","seq":{seq}}}"#);
                let effects = format!(r#"{{"moved":["S-{seq}"]}}"#);
                let hash = JournalEntry::compute_hash(&prev, seq, &tx_id, &command, &effects);
                let entry = JournalEntry {
                    seq,
                    tx_id,
                    kind: "transfer".into(),
                    command,
                    effects,
                    prev_hash: prev,
                    hash,
                    recorded_at: "2025-01-01T00:00:00.000Z".into(),
                };
                prev = hash;
                entry
            })
            .collect();
        store.append(&entries).map_err(|e| e.to_string())?;
        next += batch;
        writeln!(out, "{}", next - 1)
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing to stdout: {e}"))?;
    }
}
