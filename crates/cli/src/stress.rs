//! The hidden `stress-writer` subcommand: a registry writer for the crash test.

use crate::store::open_or_create;
use anyhow::Result;
use chrono::NaiveDate;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use yrd_registry::{Command, Submission};
use yrd_types::{
    AccountId, AccountKind, JurisdictionCode, TransactionId, UnitClass, UnitTypeCode, Vintage,
};

/// Sets up two trading accounts with units (once), then moves units back and forth in batches of
/// `batch`, forever, printing `acked <last seq>` after every durable batch.
pub fn run(data_dir: &Path, batch: usize) -> Result<ExitCode> {
    let (_, text) = yrd_config::MarketConfig::builtin("yrd")?;
    let date = NaiveDate::from_ymd_opt(2024, 1, 2).expect("valid date");
    let mut registry = open_or_create(data_dir, text, "yrd", date)?;
    let sh = JurisdictionCode::new("CN-SH")?;
    let class = UnitClass {
        jurisdiction: sh.clone(),
        unit_type: UnitTypeCode::new("CEA")?,
        vintage: Vintage::new(2024)?,
    };
    let (a, b) = (AccountId::new("STRESS-A")?, AccountId::new("STRESS-B")?);
    let setup = [
        Command::OpenAccount {
            account: a.clone(),
            kind: AccountKind::Trading,
            jurisdiction: sh.clone(),
            holder_name: "A".into(),
        },
        Command::OpenAccount {
            account: b.clone(),
            kind: AccountKind::Trading,
            jurisdiction: sh.clone(),
            holder_name: "B".into(),
        },
        Command::Issue {
            jurisdiction: sh.clone(),
            unit_type: class.unit_type.clone(),
            vintage: class.vintage,
            quantity: 1_000_000,
        },
        Command::Transfer {
            from: AccountId::new("CN-SH-GOV")?,
            to: AccountId::new("CN-SH-AUCTION")?,
            class: class.clone(),
            quantity: 1_000_000,
        },
        Command::Transfer {
            from: AccountId::new("CN-SH-AUCTION")?,
            to: a.clone(),
            class: class.clone(),
            quantity: 1_000_000,
        },
    ];
    let setup: Vec<Submission> = setup
        .into_iter()
        .enumerate()
        .map(|(i, command)| {
            Ok(Submission {
                id: TransactionId::new(format!("stress-setup-{i}"))?,
                date,
                command,
            })
        })
        .collect::<Result<_>>()?;
    // Idempotent: a restarted writer's setup comes back as duplicates.
    for result in registry.submit_batch(&setup)? {
        result?;
    }
    let mut out = std::io::stdout().lock();
    let mut n = registry.state().last_seq();
    loop {
        let mut subs = Vec::with_capacity(batch);
        for _ in 0..batch.max(1) {
            n += 1;
            // Even sequence numbers move a unit A->B, odd ones B->A: B only ever sends back the unit
            // it just received (n equals the sequence number the transfer will get).
            let (from, to) = if n.is_multiple_of(2) {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            subs.push(Submission {
                id: TransactionId::new(format!("stress-{n}"))?,
                date,
                command: Command::Transfer {
                    from,
                    to,
                    class: class.clone(),
                    quantity: 1,
                },
            });
        }
        for result in registry.submit_batch(&subs)? {
            result?;
        }
        writeln!(out, "acked {}", registry.state().last_seq())?;
        out.flush()?;
    }
}
