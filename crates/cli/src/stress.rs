//! The hidden `stress-writer` subcommand: a registry writer for the crash test. It trades as well
//! as transfers, so that a kill can land between any two steps of match and settlement - which,
//! being one transaction, have no state in between.

use crate::store::open_or_create;
use anyhow::Result;
use chrono::NaiveDate;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use yrd_registry::{Command, OrderSide, Submission, TimeInForce};
use yrd_types::{
    AccountId, AccountKind, JurisdictionCode, OrderRef, TransactionId, UnitClass, UnitTypeCode,
    Vintage,
};

/// Sets up two funded trading accounts with units (once), then, in batches of `batch`, forever:
/// A offers 1 t at CNY 80.00, B bids for 1 t at CNY 80.00 (they trade), and 1 t is transferred
/// each way; it prints `acked <last seq>` after every durable batch.
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
            quantity: 999_000,
        },
        Command::Transfer {
            from: AccountId::new("CN-SH-AUCTION")?,
            to: b.clone(),
            class: class.clone(),
            quantity: 1_000,
        },
        Command::Deposit {
            account: b.clone(),
            amount_minor: 1_000_000_000_000,
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
            // Every command is valid whatever the previous ones did: A holds plenty to sell and
            // send, B holds plenty of cash and units, and a bid or offer that finds nobody rests.
            let time = chrono::NaiveTime::from_hms_opt(10, 0, 0).expect("valid time");
            let command = match n % 4 {
                0 => Command::PlaceOrder {
                    order: OrderRef::new(format!("S{n}"))?,
                    account: a.clone(),
                    class: class.clone(),
                    side: OrderSide::Sell,
                    price_minor: Some(8_000),
                    quantity: 1,
                    time_in_force: TimeInForce::Gtc,
                    time,
                },
                1 => Command::PlaceOrder {
                    order: OrderRef::new(format!("B{n}"))?,
                    account: b.clone(),
                    class: class.clone(),
                    side: OrderSide::Buy,
                    price_minor: Some(8_000),
                    quantity: 1,
                    time_in_force: TimeInForce::Gtc,
                    time,
                },
                2 => Command::Transfer {
                    from: a.clone(),
                    to: b.clone(),
                    class: class.clone(),
                    quantity: 1,
                },
                _ => Command::Transfer {
                    from: b.clone(),
                    to: a.clone(),
                    class: class.clone(),
                    quantity: 1,
                },
            };
            subs.push(Submission {
                id: TransactionId::new(format!("stress-{n}"))?,
                date,
                command,
            });
        }
        for result in registry.submit_batch(&subs)? {
            result?;
        }
        writeln!(out, "acked {}", registry.state().last_seq())?;
        out.flush()?;
    }
}
