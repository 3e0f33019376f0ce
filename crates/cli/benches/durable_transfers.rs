//! Durable transfers per second through the registry and its SQLite journal, one writer.
//!
//! `cargo bench -p yrd-cli --bench durable_transfers` prints, for each mode, the median over
//! several runs of transfers per second, where a transfer counts only once `submit_batch` has
//! returned (journaled with WAL + synchronous=FULL). Modes: one transfer per commit (an fsync each)
//! and batches of 100, 1,000 and 10,000 (group commit). Each run uses a fresh data directory.

use chrono::NaiveDate;
use std::time::Instant;
use yrd_registry::{Command, Registry, Submission};
use yrd_storage::SqliteStore;
use yrd_types::{
    AccountId, AccountKind, JurisdictionCode, TransactionId, UnitClass, UnitTypeCode, Vintage,
};

const RUNS: usize = 5;

fn id(s: String) -> TransactionId {
    TransactionId::new(s).expect("valid id")
}

fn class() -> UnitClass {
    UnitClass {
        jurisdiction: JurisdictionCode::new("CN-SH").expect("code"),
        unit_type: UnitTypeCode::new("CEA").expect("code"),
        vintage: Vintage::new(2024).expect("vintage"),
    }
}

fn setup(dir: &std::path::Path) -> Registry<SqliteStore> {
    let (_, text) = yrd_config::MarketConfig::builtin("yrd").expect("built-in");
    let date = NaiveDate::from_ymd_opt(2024, 1, 2).expect("date");
    let mut r = Registry::create(SqliteStore::open(dir).expect("store"), text, "yrd", date)
        .expect("registry");
    let acc = |s: &str| AccountId::new(s).expect("id");
    let sh = JurisdictionCode::new("CN-SH").expect("code");
    let mut setup = vec![];
    for name in ["TR-A", "TR-B"] {
        setup.push(Command::OpenAccount {
            account: acc(name),
            kind: AccountKind::Trading,
            jurisdiction: sh.clone(),
            holder_name: name.into(),
        });
    }
    setup.push(Command::Issue {
        jurisdiction: sh.clone(),
        unit_type: class().unit_type,
        vintage: class().vintage,
        quantity: 10_000_000,
    });
    setup.push(Command::Transfer {
        from: acc("CN-SH-GOV"),
        to: acc("CN-SH-AUCTION"),
        class: class(),
        quantity: 10_000_000,
    });
    setup.push(Command::Transfer {
        from: acc("CN-SH-AUCTION"),
        to: acc("TR-A"),
        class: class(),
        quantity: 5_000_000,
    });
    setup.push(Command::Transfer {
        from: acc("CN-SH-AUCTION"),
        to: acc("TR-B"),
        class: class(),
        quantity: 5_000_000,
    });
    let subs: Vec<Submission> = setup
        .into_iter()
        .enumerate()
        .map(|(i, command)| Submission {
            id: id(format!("setup-{i}")),
            date,
            command,
        })
        .collect();
    for result in r.submit_batch(&subs).expect("durable") {
        result.expect("setup accepted");
    }
    r
}

/// Transfers/s for `count` transfers submitted in batches of `batch`.
fn run(batch: usize, count: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut r = setup(dir.path());
    let date = NaiveDate::from_ymd_opt(2024, 1, 3).expect("date");
    let (a, b) = (
        AccountId::new("TR-A").expect("id"),
        AccountId::new("TR-B").expect("id"),
    );
    let subs: Vec<Submission> = (0..count)
        .map(|i| {
            let (from, to) = if i % 2 == 0 {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            Submission {
                id: id(format!("t-{i}")),
                date,
                command: Command::Transfer {
                    from,
                    to,
                    class: class(),
                    quantity: 1 + (i % 7) as u64,
                },
            }
        })
        .collect();
    let started = Instant::now();
    for chunk in subs.chunks(batch) {
        for result in r.submit_batch(chunk).expect("durable") {
            result.expect("transfer accepted");
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: run a smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let modes: &[(usize, usize)] = if quick {
        &[(1, 20), (1_000, 2_000)]
    } else {
        &[
            (1, 2_000),
            (100, 50_000),
            (1_000, 200_000),
            (10_000, 200_000),
        ]
    };
    for &(batch, count) in modes {
        let runs = if quick { 1 } else { RUNS };
        let rates: Vec<f64> = (0..runs).map(|_| run(batch, count)).collect();
        println!(
            "durable_transfers batch={batch} transfers={count} runs={runs} median_per_s={:.0} min={:.0} max={:.0}",
            median(rates.clone()),
            rates.iter().copied().fold(f64::INFINITY, f64::min),
            rates.iter().copied().fold(0.0, f64::max)
        );
    }
}
