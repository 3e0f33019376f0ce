//! Registry tests: every bad input the issue names gets a specific refusal and changes nothing;
//! idempotency; the hash chain and the audit catch tampering.

use super::*;
use crate::audit::audit;
use chrono::NaiveDate;
use yrd_compliance::{EmissionsSource, StatusCode};
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, TransactionId, UnitClass,
    UnitTypeCode, Vintage,
};

const YRD: &str = include_str!("../../../config/yrd.toml");

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 3, 1).unwrap()
}

fn sub(id: &str, command: Command) -> Submission {
    Submission {
        id: TransactionId::new(id).unwrap(),
        date: date(),
        command,
    }
}

/// A submission dated the day after the yrd 2019 surrender deadline (31 December 2020).
fn after_2019_deadline(id: &str, command: Command) -> Submission {
    Submission {
        date: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
        ..sub(id, command)
    }
}

fn acc(s: &str) -> AccountId {
    AccountId::new(s).unwrap()
}
fn jur(s: &str) -> JurisdictionCode {
    JurisdictionCode::new(s).unwrap()
}
fn ut(s: &str) -> UnitTypeCode {
    UnitTypeCode::new(s).unwrap()
}
fn inst(s: &str) -> InstallationId {
    InstallationId::new(s).unwrap()
}
fn cea(j: &str, vintage: u16) -> UnitClass {
    UnitClass {
        jurisdiction: jur(j),
        unit_type: ut("CEA"),
        vintage: Vintage::new(vintage).unwrap(),
    }
}

/// A YRD registry with installation P1 (Shanghai, account OP-1) holding 1,000 t of 2019 CEA,
/// a trading account TR-1 and a second installation P2 (Jiangsu, OP-2).
fn fixture() -> Registry<MemoryStore> {
    let mut r = Registry::create(MemoryStore::new(), YRD, "yrd.toml", date()).unwrap();
    let setup = vec![
        sub(
            "a1",
            Command::OpenAccount {
                account: acc("OP-1"),
                kind: AccountKind::OperatorHolding,
                jurisdiction: jur("CN-SH"),
                holder_name: "Plant 1 Co".into(),
            },
        ),
        sub(
            "a2",
            Command::OpenAccount {
                account: acc("OP-2"),
                kind: AccountKind::OperatorHolding,
                jurisdiction: jur("CN-JS"),
                holder_name: "Plant 2 Co".into(),
            },
        ),
        sub(
            "a3",
            Command::OpenAccount {
                account: acc("TR-1"),
                kind: AccountKind::Trading,
                jurisdiction: jur("CN-SH"),
                holder_name: "Trader".into(),
            },
        ),
        sub(
            "i1",
            Command::RegisterInstallation {
                installation: inst("P1"),
                account: acc("OP-1"),
                name: "Plant 1".into(),
                sector: "POWER".into(),
                first_year: 2019,
            },
        ),
        sub(
            "i2",
            Command::RegisterInstallation {
                installation: inst("P2"),
                account: acc("OP-2"),
                name: "Plant 2".into(),
                sector: "STEEL".into(),
                first_year: 2019,
            },
        ),
        sub(
            "iss",
            Command::Issue {
                jurisdiction: jur("CN-SH"),
                unit_type: ut("CEA"),
                vintage: Vintage::new(2019).unwrap(),
                quantity: 10_000,
            },
        ),
        sub(
            "alloc",
            Command::Allocate {
                installation: inst("P1"),
                unit_type: ut("CEA"),
                vintage: Vintage::new(2019).unwrap(),
                quantity: 1_000,
            },
        ),
    ];
    for result in r.submit_batch(&setup).unwrap() {
        result.unwrap();
    }
    r
}

fn refused(r: &mut Registry<MemoryStore>, id: &str, command: Command) -> Rejection {
    refused_submission(r, sub(id, command))
}

fn refused_submission(r: &mut Registry<MemoryStore>, submission: Submission) -> Rejection {
    let before = r.state().last_seq();
    let holdings_before = r.state().ledger().class_totals();
    let rejection = r.submit(submission).unwrap().unwrap_err();
    assert_eq!(
        r.state().last_seq(),
        before,
        "a refusal must not journal anything"
    );
    assert_eq!(
        r.state().ledger().class_totals(),
        holdings_before,
        "a refusal must not move units"
    );
    rejection
}

fn codes(r: &Rejection) -> Vec<RuleCode> {
    r.violations.iter().map(|v| v.code).collect()
}

#[test]
fn allocation_moves_serials_from_the_government_account() {
    let r = fixture();
    let rows = reports::holdings(r.state(), &acc("OP-1")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].quantity, 1_000);
    assert_eq!(
        (rows[0].blocks[0].first, rows[0].blocks[0].last),
        (1, 1_000)
    );
    let gov = reports::holdings(r.state(), &acc("CN-SH-GOV")).unwrap();
    assert_eq!((gov[0].quantity, gov[0].blocks[0].first), (9_000, 1_001));
}

#[test]
fn transfer_beyond_holdings_is_refused() {
    let mut r = fixture();
    let rej = refused(
        &mut r,
        "t1",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-1"),
            class: cea("CN-SH", 2019),
            quantity: 1_001,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
    assert_eq!(
        rej.violations[0].message,
        "account OP-1 holds 1000 units of CN-SH/CEA/2019; 1001 requested"
    );
    assert_eq!(rej.violations[0].field, "quantity");
}

#[test]
fn zero_and_overflowing_quantities_are_refused() {
    let mut r = fixture();
    let rej = refused(
        &mut r,
        "t0",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-1"),
            class: cea("CN-SH", 2019),
            quantity: 0,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::ZeroQuantity]);
    let rej = refused(
        &mut r,
        "big",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: u64::MAX,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::QuantityTooLarge]);
    // 10,000 are issued: another 10^15 - 9,999 would take the class past its bound of 10^15.
    let rej = refused(
        &mut r,
        "big2",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: yrd_types::Quantity::MAX - 9_999,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::QuantityOverflow]);
    // Exactly up to the bound is fine.
    r.submit(sub(
        "big3",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: yrd_types::Quantity::MAX - 10_000,
        },
    ))
    .unwrap()
    .unwrap();
    assert!(audit(r.store()).unwrap().is_clean());
}

#[test]
fn calendar_rules_are_enforced() {
    let mut r = fixture();
    let on = |id: &str, y: i32, m: u32, d: u32, command: Command| Submission {
        date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        ..sub(id, command)
    };
    let emissions = Command::EnterEmissions {
        installation: inst("P1"),
        obligation: ut("CO2E"),
        year: 2020,
        quantity: 5,
        source: EmissionsSource::Verifier,
    };
    let rej = refused_submission(&mut r, on("e", 2020, 6, 1, emissions));
    assert_eq!(codes(&rej), vec![RuleCode::YearNotEnded]);
    let surrender = Command::Surrender {
        installation: inst("P1"),
        account: acc("OP-1"),
        obligation: ut("CO2E"),
        year: 2021,
        quantity: 5,
    };
    let rej = refused_submission(&mut r, on("s", 2020, 6, 1, surrender));
    assert_eq!(codes(&rej), vec![RuleCode::YearNotBegun]);
    let open = |name: &str| Command::OpenAccount {
        account: acc("TR-9"),
        kind: AccountKind::Trading,
        jurisdiction: jur("CN-SH"),
        holder_name: name.into(),
    };
    let rej = refused_submission(&mut r, on("far", 2201, 1, 1, open("x")));
    assert_eq!(codes(&rej), vec![RuleCode::DateOutOfRange]);
    let rej = refused(&mut r, "ctl", open("evil\u{1b}[2J"));
    assert_eq!(codes(&rej), vec![RuleCode::InvalidField]);
    let rej = refused(&mut r, "long", open(&"x".repeat(201)));
    assert_eq!(codes(&rej), vec![RuleCode::InvalidField]);
    assert_eq!(rej.violations[0].field, "holder_name");
}

#[test]
fn unknown_names_are_refused_each_naming_its_field() {
    let mut r = fixture();
    let rej = refused(
        &mut r,
        "u1",
        Command::Transfer {
            from: acc("NOPE"),
            to: acc("TR-1"),
            class: cea("CN-XX", 2019),
            quantity: 5,
        },
    );
    assert_eq!(
        codes(&rej),
        vec![RuleCode::UnknownAccount, RuleCode::UnknownJurisdiction]
    );
    assert_eq!(rej.violations[0].field, "from");
    let rej = refused(
        &mut r,
        "u2",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CCER"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: 5,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::UnknownUnitType]);
    let rej = refused(
        &mut r,
        "u3",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2050).unwrap(),
            quantity: 5,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::YearOutsidePeriods]);
    let rej = refused(
        &mut r,
        "u4",
        Command::EnterEmissions {
            installation: inst("P9"),
            obligation: ut("CO2E"),
            year: 2019,
            quantity: 1,
            source: EmissionsSource::Verifier,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::UnknownInstallation]);
}

#[test]
fn surrender_from_another_account_is_refused() {
    let mut r = fixture();
    let rej = refused(
        &mut r,
        "s1",
        Command::Surrender {
            installation: inst("P1"),
            account: acc("TR-1"),
            obligation: ut("CO2E"),
            year: 2019,
            quantity: 10,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::NotInstallationAccount]);
    assert!(
        rej.to_string().contains("Directive 2003/87/EC Art. 12(3)"),
        "{rej}"
    );
}

#[test]
fn closed_account_can_neither_send_nor_receive() {
    let mut r = fixture();
    r.submit(sub(
        "open",
        Command::OpenAccount {
            account: acc("TR-2"),
            kind: AccountKind::Trading,
            jurisdiction: jur("CN-SH"),
            holder_name: "T2".into(),
        },
    ))
    .unwrap()
    .unwrap();
    r.submit(sub(
        "close",
        Command::CloseAccount {
            account: acc("TR-2"),
        },
    ))
    .unwrap()
    .unwrap();
    let rej = refused(
        &mut r,
        "t",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-2"),
            class: cea("CN-SH", 2019),
            quantity: 5,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::AccountClosed]);
    // A holding account cannot be closed while it holds units.
    let rej = refused(
        &mut r,
        "c",
        Command::CloseAccount {
            account: acc("OP-1"),
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::AccountNotEmpty]);
}

#[test]
fn account_kinds_limit_what_they_hold_and_receive() {
    let mut r = fixture();
    // Pollutant rights may not be held by trading accounts (yrd.toml holders).
    r.submit(sub(
        "cod",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("COD"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: 5_000,
        },
    ))
    .unwrap()
    .unwrap();
    r.submit(sub(
        "codalloc",
        Command::Allocate {
            installation: inst("P1"),
            unit_type: ut("COD"),
            vintage: Vintage::new(2019).unwrap(),
            quantity: 500,
        },
    ))
    .unwrap()
    .unwrap();
    let cod = UnitClass {
        jurisdiction: jur("CN-SH"),
        unit_type: ut("COD"),
        vintage: Vintage::new(2019).unwrap(),
    };
    let rej = refused(
        &mut r,
        "t1",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-1"),
            class: cod,
            quantity: 10,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::HolderNotPermitted]);
    // A transfer cannot reach a surrender account or take from a government account.
    let rej = refused(
        &mut r,
        "t2",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("CN-SH-SURRENDER"),
            class: cea("CN-SH", 2019),
            quantity: 10,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::TransferNotPermitted]);
    let rej = refused(
        &mut r,
        "t3",
        Command::Transfer {
            from: acc("CN-SH-GOV"),
            to: acc("TR-1"),
            class: cea("CN-SH", 2019),
            quantity: 10,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::TransferNotPermitted]);
    // Jiangsu's auction account may not receive Shanghai's units.
    let rej = refused(
        &mut r,
        "t4",
        Command::Transfer {
            from: acc("CN-SH-GOV"),
            to: acc("CN-JS-AUCTION"),
            class: cea("CN-SH", 2019),
            quantity: 10,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::ForeignUnitsInSystemAccount]);
    // System accounts are not opened by hand.
    let rej = refused(
        &mut r,
        "o",
        Command::OpenAccount {
            account: acc("X-GOV"),
            kind: AccountKind::GovernmentHolding,
            jurisdiction: jur("CN-SH"),
            holder_name: "x".into(),
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::SystemAccountKind]);
}

#[test]
fn idempotency_same_content_once_different_content_refused() {
    let mut r = fixture();
    let t = Command::Transfer {
        from: acc("OP-1"),
        to: acc("TR-1"),
        class: cea("CN-SH", 2019),
        quantity: 100,
    };
    let first = r.submit(sub("t-100", t.clone())).unwrap().unwrap();
    let again = r.submit(sub("t-100", t)).unwrap().unwrap();
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(first.seq, again.seq);
    assert_eq!(
        r.state().ledger().quantity(
            r.state().ledger().find(&acc("TR-1")).unwrap(),
            &cea("CN-SH", 2019)
        ),
        100
    );
    let rej = refused(
        &mut r,
        "t-100",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-1"),
            class: cea("CN-SH", 2019),
            quantity: 101,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::TransactionIdReused]);
}

#[test]
fn surrender_and_reversal_cycle_with_status() {
    let mut r = fixture();
    let batch = vec![
        sub(
            "e",
            Command::EnterEmissions {
                installation: inst("P1"),
                obligation: ut("CO2E"),
                year: 2019,
                quantity: 1_200,
                source: EmissionsSource::Verifier,
            },
        ),
        sub(
            "s",
            Command::Surrender {
                installation: inst("P1"),
                account: acc("OP-1"),
                obligation: ut("CO2E"),
                year: 2019,
                quantity: 1_000,
            },
        ),
        sub(
            "rev",
            Command::ReverseSurrender {
                surrender: TransactionId::new("s").unwrap(),
                quantity: 300,
            },
        ),
        after_2019_deadline(
            "d",
            Command::ProcessDeadline {
                jurisdiction: jur("CN-SH"),
                obligation: ut("CO2E"),
                year: 2019,
            },
        ),
    ];
    let results = r.submit_batch(&batch).unwrap();
    // The reversal returns the highest serials surrendered: 701-1000.
    let rev = results[2].as_ref().unwrap();
    assert!(
        matches!(&rev.effects[0], Effect::Moved { ranges, .. } if ranges[0].first == 701 && ranges[0].last == 1000)
    );
    let rows = reports::compliance_table(r.state(), Some(2019), None);
    let p1 = rows.iter().find(|x| x.installation == "P1").unwrap();
    // 700 surrendered for 1,200 verified: B, shortfall 500, penalty 500 x 5 x CNY 80 = CNY 200,000.
    assert_eq!(
        (p1.surrendered, p1.status, p1.shortfall, p1.penalty.0),
        (700, Some(StatusCode::B), 500, 20_000_000)
    );
    // Reversing more than remains is refused.
    let rej = refused_submission(
        &mut r,
        after_2019_deadline(
            "rev2",
            Command::ReverseSurrender {
                surrender: TransactionId::new("s").unwrap(),
                quantity: 701,
            },
        ),
    );
    assert_eq!(codes(&rej), vec![RuleCode::ReversalExceedsSurrender]);
    // The registry's calendar never runs backwards.
    let rej = refused(
        &mut r,
        "old",
        Command::ReverseSurrender {
            surrender: TransactionId::new("s").unwrap(),
            quantity: 1,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::DateBeforeLast]);
    assert!(audit(r.store()).unwrap().is_clean());
}

#[test]
fn surrender_only_with_eligible_vintages() {
    let mut r = fixture();
    // 2021 units are not eligible for 2019 (no borrowing): only the 1,000 units of 2019 count.
    r.submit(sub(
        "i21",
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2021).unwrap(),
            quantity: 50,
        },
    ))
    .unwrap()
    .unwrap();
    r.submit(sub(
        "a21",
        Command::Allocate {
            installation: inst("P1"),
            unit_type: ut("CEA"),
            vintage: Vintage::new(2021).unwrap(),
            quantity: 50,
        },
    ))
    .unwrap()
    .unwrap();
    let rej = refused(
        &mut r,
        "s",
        Command::Surrender {
            installation: inst("P1"),
            account: acc("OP-1"),
            obligation: ut("CO2E"),
            year: 2019,
            quantity: 1_050,
        },
    );
    assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
    assert!(
        rej.violations[0]
            .message
            .contains("holds 1000 units eligible"),
        "{rej}"
    );
}

#[test]
fn deadline_twice_is_refused() {
    let mut r = fixture();
    let d = Command::ProcessDeadline {
        jurisdiction: jur("CN-SH"),
        obligation: ut("CO2E"),
        year: 2019,
    };
    // On the deadline day itself it is too early.
    let early = Submission {
        date: NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
        ..sub("d0", d.clone())
    };
    let rej = r.submit(early).unwrap().unwrap_err();
    assert_eq!(codes(&rej), vec![RuleCode::DeadlineNotReached]);
    assert_eq!(
        rej.violations[0].message,
        "the 2019 surrender deadline is 2020-12-31; it can be processed from the day after, not on 2020-12-31"
    );
    r.submit(after_2019_deadline("d1", d.clone()))
        .unwrap()
        .unwrap();
    let before = r.state().last_seq();
    let rej = r.submit(after_2019_deadline("d2", d)).unwrap().unwrap_err();
    assert_eq!(codes(&rej), vec![RuleCode::DeadlineAlreadyProcessed]);
    assert_eq!(r.state().last_seq(), before);
}

#[test]
fn reopening_replays_to_the_same_state() {
    let mut r = fixture();
    r.submit(sub(
        "t",
        Command::Transfer {
            from: acc("OP-1"),
            to: acc("TR-1"),
            class: cea("CN-SH", 2019),
            quantity: 10,
        },
    ))
    .unwrap()
    .unwrap();
    let totals = r.state().ledger().class_totals();
    let seq = r.state().last_seq();
    let store = r.store().clone();
    let reopened = Registry::open(store).unwrap();
    assert_eq!(reopened.state().ledger().class_totals(), totals);
    assert_eq!(reopened.state().last_seq(), seq);
    let tr = reopened.state().ledger().find(&acc("TR-1")).unwrap();
    assert_eq!(
        reopened.state().ledger().quantity(tr, &cea("CN-SH", 2019)),
        10
    );
}

#[test]
fn audit_detects_an_altered_entry_and_open_refuses_it() {
    let r = fixture();
    let mut store = r.store().clone();
    assert!(audit(&store).unwrap().is_clean());
    // Change the allocated quantity in the stored command of entry "alloc".
    let entry = store
        .entries_mut()
        .iter_mut()
        .find(|e| e.tx_id == "alloc")
        .unwrap();
    entry.command = entry
        .command
        .replace("\"quantity\":1000", "\"quantity\":9000");
    let report = audit(&store).unwrap();
    assert!(!report.is_clean());
    assert!(
        report.findings[0].contains("alloc") && report.findings[0].contains("altered"),
        "{:?}",
        report.findings
    );
    assert!(matches!(
        Registry::open(store),
        Err(OpenError::Corrupt { .. })
    ));
}

#[test]
fn config_mismatch_is_refused() {
    let r = fixture();
    let eu = include_str!("../../../config/eu-ets.toml");
    let err = Registry::open_or_create(r.store().clone(), eu, "eu-ets", date())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "the data directory was created for another market configuration (yrd); refusing to open it as eu-ets"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ACCOUNTS: [&str; 4] = ["OP-1", "OP-2", "TR-1", "CN-SH-GOV"];

    #[derive(Debug, Clone)]
    enum Op {
        Transfer {
            from: usize,
            to: usize,
            quantity: u64,
        },
        Surrender {
            installation: usize,
            quantity: u64,
        },
        Reverse {
            which: usize,
            quantity: u64,
        },
        Cancel {
            from: usize,
            quantity: u64,
        },
        Delete {
            quantity: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..4, 0usize..4, 0u64..700).prop_map(|(from, to, quantity)| Op::Transfer {
                from,
                to,
                quantity
            }),
            (0usize..2, 0u64..700).prop_map(|(installation, quantity)| Op::Surrender {
                installation,
                quantity
            }),
            (0usize..8, 0u64..300).prop_map(|(which, quantity)| Op::Reverse { which, quantity }),
            (0usize..3, 0u64..300).prop_map(|(from, quantity)| Op::Cancel { from, quantity }),
            (0u64..500).prop_map(|quantity| Op::Delete { quantity }),
        ]
    }

    fn command(op: &Op, surrenders: &[String]) -> Command {
        let class = cea("CN-SH", 2019);
        match op {
            Op::Transfer { from, to, quantity } => Command::Transfer {
                from: acc(ACCOUNTS[*from]),
                to: acc(ACCOUNTS[*to]),
                class,
                quantity: *quantity,
            },
            Op::Surrender {
                installation,
                quantity,
            } => Command::Surrender {
                installation: inst(["P1", "P2"][*installation]),
                account: acc(["OP-1", "OP-2"][*installation]),
                obligation: ut("CO2E"),
                year: 2019,
                quantity: *quantity,
            },
            Op::Reverse { which, quantity } => Command::ReverseSurrender {
                surrender: TransactionId::new(
                    surrenders
                        .get(*which)
                        .cloned()
                        .unwrap_or_else(|| "none".into()),
                )
                .unwrap(),
                quantity: *quantity,
            },
            Op::Cancel { from, quantity } => Command::Cancel {
                from: acc(ACCOUNTS[*from]),
                class,
                quantity: *quantity,
            },
            Op::Delete { quantity } => Command::Delete {
                from: acc("CN-SH-GOV"),
                class,
                quantity: *quantity,
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the sequence of transfers, surrenders, reversals, cancellations and deletions
        /// - accepted or refused - conservation, the serial partition and the agreement of
        /// surrender accounts with compliance records hold after every one; a refusal changes
        /// nothing; and reopening the journal reproduces the same state.
        #[test]
        fn registry_invariants_hold_after_every_transaction(ops in prop::collection::vec(op(), 1..40)) {
            let mut r = fixture();
            let mut surrenders = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                let id = format!("p{i}");
                let before = (r.state().last_seq(), r.state().ledger().class_totals());
                let result = r.submit(sub(&id, command(op, &surrenders))).unwrap();
                match result {
                    Ok(_) => {
                        if matches!(op, Op::Surrender { .. }) {
                            surrenders.push(id);
                        }
                    }
                    Err(_) => prop_assert_eq!(before, (r.state().last_seq(), r.state().ledger().class_totals())),
                }
                prop_assert!(r.state().ledger().audit().is_empty(), "{:?}", r.state().ledger().audit());
            }
            let report = audit(r.store()).unwrap();
            prop_assert!(report.is_clean(), "{:?}", report.findings);
            let reopened = Registry::open(r.store().clone()).unwrap();
            prop_assert_eq!(reopened.state().ledger().class_totals(), r.state().ledger().class_totals());
        }
    }
}

mod exchange {
    use super::*;
    use crate::command::{OrderSide, TimeInForce};
    use chrono::NaiveTime;
    use yrd_types::OrderRef;

    fn on(id: &str, day: u32, hh: u32, command: Command) -> (Submission, NaiveTime) {
        let s = Submission {
            date: NaiveDate::from_ymd_opt(2020, 3, day).unwrap(),
            ..sub(id, command)
        };
        (s, NaiveTime::from_hms_opt(hh, 0, 0).unwrap())
    }

    fn order(
        id: &str,
        account: &str,
        side: OrderSide,
        price: i64,
        quantity: u64,
        hh: u32,
    ) -> Command {
        Command::PlaceOrder {
            order: OrderRef::new(id).unwrap(),
            account: acc(account),
            class: cea("CN-SH", 2019),
            side,
            price_minor: Some(price),
            quantity,
            time_in_force: TimeInForce::Gtc,
            time: NaiveTime::from_hms_opt(hh, 0, 0).unwrap(),
        }
    }

    fn submit_on(
        r: &mut Registry<MemoryStore>,
        id: &str,
        day: u32,
        command: Command,
    ) -> SubmitResult {
        let (s, _) = on(id, day, 10, command);
        r.submit(s).unwrap()
    }

    /// fixture() + TR-1 funded with CNY 100,000.00; trading on Monday 2 March 2020.
    fn market() -> Registry<MemoryStore> {
        let mut r = fixture();
        submit_on(
            &mut r,
            "dep",
            2,
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 10_000_000,
            },
        )
        .unwrap();
        r
    }

    fn tr1(r: &Registry<MemoryStore>) -> yrd_ledger::AccountNo {
        r.state().ledger().find(&acc("TR-1")).unwrap()
    }

    #[test]
    fn a_trade_settles_delivery_versus_payment() {
        let mut r = market();
        // Previous close CNY 80.00 (yrd.toml): band 72.00-88.00. OP-1 offers 300 t at 81.00.
        submit_on(
            &mut r,
            "o1",
            2,
            order("S1", "OP-1", OrderSide::Sell, 8_100, 300, 10),
        )
        .unwrap();
        // TR-1 bids 200 t at 82.00: trades 200 t at the resting 81.00.
        let receipt = submit_on(
            &mut r,
            "o2",
            2,
            order("B1", "TR-1", OrderSide::Buy, 8_200, 200, 10),
        )
        .unwrap();
        let traded = receipt.effects.iter().find_map(|e| match e {
            Effect::Traded {
                price_minor,
                quantity,
                fee_minor,
                ranges,
                ..
            } => Some((*price_minor, *quantity, *fee_minor, ranges.clone())),
            _ => None,
        });
        // Notional 8,100 x 200 = 1,620,000 fen; fee 5 bp = 810 fen from each side. The seller's
        // lowest serials 1-200 are delivered.
        let (price, quantity, fee, ranges) = traded.unwrap();
        assert_eq!((price, quantity, fee), (8_100, 200, 810));
        assert_eq!((ranges[0].first, ranges[0].last), (1, 200));
        let cash = r.state().cash();
        // Buyer: 10,000,000 - 1,620,000 - 810 = 8,379,190 available, nothing left reserved.
        assert_eq!(cash.balance(tr1(&r)).available, 8_379_190);
        assert_eq!(cash.balance(tr1(&r)).reserved, 0);
        // Seller: 1,620,000 - 810 = 1,619,190, available from the next trading day (Tue 3 March).
        let op1 = r.state().ledger().find(&acc("OP-1")).unwrap();
        let tuesday = NaiveDate::from_ymd_opt(2020, 3, 3).unwrap();
        assert_eq!(cash.available_on(op1, tuesday - chrono::Days::new(1)), 0);
        assert_eq!(cash.available_on(op1, tuesday), 1_619_190);
        assert_eq!(cash.fees(), 1_620);
        // Units: TR-1 holds 200; OP-1 holds 800 of which 100 rest on the book.
        assert_eq!(
            r.state().ledger().quantity(tr1(&r), &cea("CN-SH", 2019)),
            200
        );
        assert_eq!(r.state().free_units(op1, &cea("CN-SH", 2019)), 700);
        assert!(
            audit(r.store()).unwrap().is_clean(),
            "{:?}",
            audit(r.store()).unwrap().findings
        );
        // Reopening replays the matching to the same books and balances.
        let reopened = Registry::open(r.store().clone()).unwrap();
        assert_eq!(
            reopened.state().cash().balance(tr1(&reopened)),
            r.state().cash().balance(tr1(&r))
        );
        let book = |x: &Registry<MemoryStore>| {
            x.state()
                .exchange()
                .instruments()
                .next()
                .unwrap()
                .1
                .book
                .state_hash()
        };
        assert_eq!(book(&reopened), book(&r));
    }

    #[test]
    fn reserved_units_cannot_be_sold_twice_or_transferred() {
        let mut r = market();
        submit_on(
            &mut r,
            "o1",
            2,
            order("S1", "OP-1", OrderSide::Sell, 8_100, 900, 10),
        )
        .unwrap();
        let rej = submit_on(
            &mut r,
            "o2",
            2,
            order("S2", "OP-1", OrderSide::Sell, 8_100, 200, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
        let t = Command::Transfer {
            from: acc("OP-1"),
            to: acc("OP-2"),
            class: cea("CN-SH", 2019),
            quantity: 101,
        };
        let rej = submit_on(&mut r, "t", 2, t).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
        assert!(
            rej.violations[0]
                .message
                .contains("900 of them reserved for sell orders"),
            "{rej}"
        );
        // Cancelling frees them.
        let cancel = Command::CancelOrder {
            order: OrderRef::new("S1").unwrap(),
            account: acc("OP-1"),
            time: NaiveTime::from_hms_opt(10, 5, 0).unwrap(),
        };
        submit_on(&mut r, "c", 2, cancel).unwrap();
        let op1 = r.state().ledger().find(&acc("OP-1")).unwrap();
        assert_eq!(r.state().free_units(op1, &cea("CN-SH", 2019)), 1_000);
        assert!(audit(r.store()).unwrap().is_clean());
    }

    #[test]
    fn orders_breaking_trading_rules_are_refused_with_the_rule() {
        let mut r = market();
        let before = r.state().last_seq();
        // Outside the band: 88.01 > 88.00.
        let rej = submit_on(
            &mut r,
            "x1",
            2,
            order("B1", "TR-1", OrderSide::Buy, 8_801, 10, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::TradingRule]);
        assert!(rej.violations[0].message.contains("8800"), "{rej}");
        // Lunch break.
        let rej = submit_on(
            &mut r,
            "x2",
            2,
            order("B2", "TR-1", OrderSide::Buy, 8_000, 10, 12),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::OutsideTradingHours]);
        // Block size on the book.
        let rej = submit_on(
            &mut r,
            "x3",
            2,
            order("B3", "TR-1", OrderSide::Buy, 8_000, 100_000, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::TradingRule]);
        // More than the cash: 2,000 t x 80.00 = 16,000,000 > 10,000,000.
        let rej = submit_on(
            &mut r,
            "x4",
            2,
            order("B4", "TR-1", OrderSide::Buy, 8_000, 2_000, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientCash]);
        // Short sale.
        let rej = submit_on(
            &mut r,
            "x5",
            2,
            order("S1", "TR-1", OrderSide::Sell, 8_000, 1, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
        // Someone else's order.
        submit_on(
            &mut r,
            "ok",
            2,
            order("B9", "TR-1", OrderSide::Buy, 7_500, 10, 10),
        )
        .unwrap();
        let cancel = Command::CancelOrder {
            order: OrderRef::new("B9").unwrap(),
            account: acc("OP-1"),
            time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        };
        let rej = submit_on(&mut r, "x6", 2, cancel).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::NotOrderOwner]);
        // Duplicate order reference.
        let rej = submit_on(
            &mut r,
            "x7",
            2,
            order("B9", "TR-1", OrderSide::Buy, 7_500, 10, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::DuplicateOrderRef]);
        // Halted instrument.
        submit_on(
            &mut r,
            "h",
            2,
            Command::SetTradingHalt {
                class: cea("CN-SH", 2019),
                halted: true,
            },
        )
        .unwrap();
        let rej = submit_on(
            &mut r,
            "x8",
            2,
            order("B8", "TR-1", OrderSide::Buy, 7_500, 10, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InstrumentHalted]);
        // Only the accepted order, the halt (and nothing of the refusals) were journaled.
        assert_eq!(r.state().last_seq(), before + 2);
        assert!(audit(r.store()).unwrap().is_clean());
    }

    #[test]
    fn proceeds_are_withdrawable_the_next_trading_day_and_the_close_moves_the_band() {
        let mut r = market();
        submit_on(
            &mut r,
            "o1",
            2,
            order("S1", "OP-1", OrderSide::Sell, 8_400, 100, 10),
        )
        .unwrap();
        submit_on(
            &mut r,
            "o2",
            2,
            order("B1", "TR-1", OrderSide::Buy, 8_400, 100, 10),
        )
        .unwrap();
        let w = |amount| Command::Withdraw {
            account: acc("OP-1"),
            amount_minor: amount,
        };
        let rej = submit_on(&mut r, "w1", 2, w(1)).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientCash]);
        // 840,000 - 420 fee = 839,580 on Tuesday.
        submit_on(&mut r, "w2", 3, w(839_580)).unwrap();
        // Tuesday's band is centred on Monday's close, 84.00: 75.60-92.40, so 92.40 is accepted.
        submit_on(
            &mut r,
            "o3",
            3,
            order("B2", "TR-1", OrderSide::Buy, 9_240, 1, 10),
        )
        .unwrap();
        let rej = submit_on(
            &mut r,
            "o4",
            3,
            order("B3", "TR-1", OrderSide::Buy, 9_241, 1, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::TradingRule]);
        assert!(audit(r.store()).unwrap().is_clean());
    }

    #[test]
    fn block_trades_are_negotiated_confirmed_and_settled_but_do_not_set_the_close() {
        let mut r = market();
        // OP-2 gets 150,000 t of 2019 CEA via the auction account; TR-1 another CNY 10,000,000.
        let setup = [
            Command::Issue {
                jurisdiction: jur("CN-SH"),
                unit_type: ut("CEA"),
                vintage: Vintage::new(2019).unwrap(),
                quantity: 150_000,
            },
            Command::Transfer {
                from: acc("CN-SH-GOV"),
                to: acc("CN-SH-AUCTION"),
                class: cea("CN-SH", 2019),
                quantity: 150_000,
            },
            Command::Transfer {
                from: acc("CN-SH-AUCTION"),
                to: acc("OP-2"),
                class: cea("CN-SH", 2019),
                quantity: 150_000,
            },
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 1_000_000_000,
            },
        ];
        for (i, c) in setup.into_iter().enumerate() {
            submit_on(&mut r, &format!("setup{i}"), 2, c).unwrap();
        }
        let t = |hh| NaiveTime::from_hms_opt(hh, 30, 0).unwrap();
        let propose = |qty, hh| Command::ProposeBlockTrade {
            trade: OrderRef::new("BLK-1").unwrap(),
            proposed_by: acc("OP-2"),
            seller: acc("OP-2"),
            buyer: acc("TR-1"),
            class: cea("CN-SH", 2019),
            price_minor: 9_000,
            quantity: qty,
            time: t(hh),
        };
        // Before the 13:00 block session; then below the 100,000 t threshold.
        assert_eq!(
            codes(&submit_on(&mut r, "p0", 2, propose(100_000, 10)).unwrap_err()),
            vec![RuleCode::OutsideTradingHours]
        );
        assert_eq!(
            codes(&submit_on(&mut r, "p1", 2, propose(99_999, 13)).unwrap_err()),
            vec![RuleCode::TradingRule]
        );
        submit_on(&mut r, "p2", 2, propose(100_000, 13)).unwrap();
        let op2 = r.state().ledger().find(&acc("OP-2")).unwrap();
        assert_eq!(r.state().free_units(op2, &cea("CN-SH", 2019)), 50_000);
        // The proposer cannot confirm its own proposal.
        let confirm = |who: &str| Command::ConfirmBlockTrade {
            trade: OrderRef::new("BLK-1").unwrap(),
            account: acc(who),
            time: t(14),
        };
        assert_eq!(
            codes(&submit_on(&mut r, "c0", 2, confirm("OP-2")).unwrap_err()),
            vec![RuleCode::NotOrderOwner]
        );
        let receipt = submit_on(&mut r, "c1", 2, confirm("TR-1")).unwrap();
        // 100,000 t x 90.00 = CNY 9,000,000.00 = 900,000,000 fen; fee 5 bp = 450,000 fen each.
        assert!(receipt.effects.iter().any(|e| matches!(
            e,
            Effect::BlockTraded {
                fee_minor: 450_000,
                quantity: 100_000,
                ..
            }
        )));
        assert_eq!(
            r.state().cash().balance(tr1(&r)).available,
            10_000_000 + 1_000_000_000 - 900_000_000 - 450_000
        );
        assert_eq!(
            r.state().ledger().quantity(tr1(&r), &cea("CN-SH", 2019)),
            100_000
        );
        // The next day's band is still centred on 80.00: block trades do not set the close.
        let rej = submit_on(
            &mut r,
            "o",
            3,
            order("B1", "TR-1", OrderSide::Buy, 8_801, 1, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::TradingRule]);
        assert!(
            audit(r.store()).unwrap().is_clean(),
            "{:?}",
            audit(r.store()).unwrap().findings
        );
    }

    #[test]
    fn exchange_time_never_runs_back_and_block_proposals_lapse_or_meet_a_halt() {
        let mut r = market();
        submit_on(
            &mut r,
            "a",
            2,
            order("S1", "OP-1", OrderSide::Sell, 8_100, 10, 11),
        )
        .unwrap();
        // 10:00 after 11:00 on the same day is refused; the next day starts afresh.
        let rej = submit_on(
            &mut r,
            "b",
            2,
            order("S2", "OP-1", OrderSide::Sell, 8_100, 10, 10),
        )
        .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::DateBeforeLast]);
        assert_eq!(rej.violations[0].field, "time");
        // A block proposal made on Monday lapses at the end of Monday.
        submit_on(
            &mut r,
            "funds",
            2,
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 1_000_000_000,
            },
        )
        .unwrap();
        let t = |hh| NaiveTime::from_hms_opt(hh, 30, 0).unwrap();
        let proposal = |id: &str, hh| Command::ProposeBlockTrade {
            trade: OrderRef::new(id).unwrap(),
            proposed_by: acc("TR-1"),
            seller: acc("OP-1"),
            buyer: acc("TR-1"),
            class: cea("CN-SH", 2019),
            price_minor: 8_000,
            quantity: 100_000,
            time: t(hh),
        };
        let (s, _) = on("p1", 2, 13, proposal("BLK-1", 13));
        r.submit(s).unwrap().unwrap();
        assert!(r.state().cash().balance(tr1(&r)).reserved > 0);
        let confirm = |id: &str| Command::ConfirmBlockTrade {
            trade: OrderRef::new(id).unwrap(),
            account: acc("OP-1"),
            time: t(14),
        };
        let rej = submit_on(&mut r, "c1", 3, confirm("BLK-1")).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::UnknownOrder]);
        assert!(rej.violations[0].message.contains("lapsed"), "{rej}");
        // The lapse itself happens with Tuesday's first accepted exchange command.
        let (s, _) = on("p2", 3, 13, proposal("BLK-2", 13));
        r.submit(s).unwrap().unwrap();
        let reserved_for_one = r.state().cash().balance(tr1(&r)).reserved;
        assert_eq!(reserved_for_one, 800_000_000 + 400_000);
        // A halt between proposal and confirmation stops the confirmation.
        submit_on(
            &mut r,
            "h",
            3,
            Command::SetTradingHalt {
                class: cea("CN-SH", 2019),
                halted: true,
            },
        )
        .unwrap();
        let rej = submit_on(&mut r, "c2", 3, confirm("BLK-2")).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InstrumentHalted]);
        assert!(audit(r.store()).unwrap().is_clean());
    }

    #[test]
    fn no_trading_on_a_configured_holiday() {
        let mut r = market();
        // 1 October 2024, National Day, is a Tuesday listed in yrd.toml's holidays.
        let s = Submission {
            date: NaiveDate::from_ymd_opt(2024, 10, 1).unwrap(),
            ..sub("h", order("B1", "TR-1", OrderSide::Buy, 8_000, 1, 10))
        };
        let rej = r.submit(s).unwrap().unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::OutsideTradingHours]);
    }

    #[test]
    fn a_market_order_never_trades_outside_the_day_band() {
        let mut r = market();
        // Monday: OP-1 offers 10 t at 88.00, the top of the band; nothing trades, close stays 80.00.
        submit_on(
            &mut r,
            "s",
            2,
            order("S1", "OP-1", OrderSide::Sell, 8_800, 10, 10),
        )
        .unwrap();
        // Tuesday a trade at 75.00 would move nothing (no close yet); instead make Monday's close
        // 76.00 with one trade, so that Tuesday's band is 68.40-83.60 and the 88.00 offer is stale.
        submit_on(
            &mut r,
            "s2",
            2,
            order("S2", "OP-1", OrderSide::Sell, 7_600, 1, 10),
        )
        .unwrap();
        submit_on(
            &mut r,
            "b2",
            2,
            order("B2", "TR-1", OrderSide::Buy, 7_600, 1, 10),
        )
        .unwrap();
        let market_buy = Command::PlaceOrder {
            order: OrderRef::new("M1").unwrap(),
            account: acc("TR-1"),
            class: cea("CN-SH", 2019),
            side: OrderSide::Buy,
            price_minor: None,
            quantity: 5,
            time_in_force: TimeInForce::Market,
            time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        };
        let receipt = submit_on(&mut r, "m", 3, market_buy).unwrap();
        assert!(
            !receipt
                .effects
                .iter()
                .any(|e| matches!(e, Effect::Traded { .. })),
            "{:?}",
            receipt.effects
        );
        assert!(
            receipt
                .effects
                .iter()
                .any(|e| matches!(e, Effect::OrderCancelled { quantity: 5, .. }))
        );
        assert!(audit(r.store()).unwrap().is_clean());
    }

    #[test]
    fn a_new_date_ends_day_orders_before_any_change() {
        let mut r = market();
        let day_order = Command::PlaceOrder {
            order: OrderRef::new("D1").unwrap(),
            account: acc("TR-1"),
            class: cea("CN-SH", 2019),
            side: OrderSide::Buy,
            price_minor: Some(7_900),
            quantity: 10,
            time_in_force: TimeInForce::Day,
            time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        };
        submit_on(&mut r, "d1", 2, day_order).unwrap();
        assert_eq!(r.state().cash().balance(tr1(&r)).reserved, 79_000 + 40 + 10);
        // On Tuesday the day order is gone: cancelling it is refused, and the refusal changes
        // nothing (the day roll it started is undone)...
        let before = r.state().state_hash();
        let cancel = Command::CancelOrder {
            order: OrderRef::new("D1").unwrap(),
            account: acc("TR-1"),
            time: NaiveTime::from_hms_opt(9, 45, 0).unwrap(),
        };
        let rej = submit_on(&mut r, "c", 3, cancel).unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::UnknownOrder]);
        assert_eq!(r.state().state_hash(), before);
        // ... and the next accepted command on Tuesday ends Monday for real, releasing the cash.
        submit_on(
            &mut r,
            "o",
            3,
            order("B2", "TR-1", OrderSide::Buy, 7_900, 1, 10),
        )
        .unwrap();
        assert_eq!(r.state().cash().balance(tr1(&r)).reserved, 7_900 + 4 + 1);
        assert!(audit(r.store()).unwrap().is_clean());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Place {
                who: usize,
                buy: bool,
                price: i64,
                quantity: u64,
                tif: u8,
            },
            Cancel {
                which: usize,
            },
            Reduce {
                which: usize,
                by: u64,
            },
            Amend {
                which: usize,
                price: i64,
            },
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (0usize..3, any::<bool>(), 7_900i64..8_100, 1u64..60, 0u8..5)
                    .prop_map(|(who, buy, price, quantity, tif)| Op::Place { who, buy, price, quantity, tif }),
                1 => (0usize..40).prop_map(|which| Op::Cancel { which }),
                1 => (0usize..40, 0u64..30).prop_map(|(which, by)| Op::Reduce { which, by }),
                1 => (0usize..40, 7_900i64..8_100).prop_map(|(which, price)| Op::Amend { which, price }),
            ]
        }

        const WHO: [&str; 3] = ["OP-1", "TR-1", "OP-2"];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            /// Random order streams: after every command cash and units are conserved and
            /// reservations match open orders; a refusal leaves the state hash unchanged; and
            /// replaying the journal reproduces the same state hash.
            #[test]
            fn trading_keeps_every_invariant(ops in prop::collection::vec(op(), 1..60)) {
                let mut r = market();
                // OP-2 gets cash and OP-1 sells from its 1,000 t; TR-1 starts with cash only.
                submit_on(&mut r, "dep2", 2, Command::Deposit { account: acc("OP-2"), amount_minor: 5_000_000 }).unwrap();
                let mut refs: Vec<(String, &str)> = Vec::new();
                for (i, op) in ops.iter().enumerate() {
                    let time = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
                    let command = match op {
                        Op::Place { who, buy, price, quantity, tif } => {
                            let reference = format!("O{i}");
                            refs.push((reference.clone(), WHO[*who]));
                            let time_in_force = [TimeInForce::Gtc, TimeInForce::Day, TimeInForce::Ioc, TimeInForce::Fok, TimeInForce::Market][*tif as usize];
                            Command::PlaceOrder {
                                order: OrderRef::new(reference).unwrap(),
                                account: acc(WHO[*who]),
                                class: cea("CN-SH", 2019),
                                side: if *buy { OrderSide::Buy } else { OrderSide::Sell },
                                price_minor: (time_in_force != TimeInForce::Market).then_some(*price),
                                quantity: *quantity,
                                time_in_force,
                                time,
                            }
                        }
                        Op::Cancel { which } | Op::Reduce { which, .. } | Op::Amend { which, .. } if refs.is_empty() => {
                            let _ = which;
                            continue;
                        }
                        Op::Cancel { which } => {
                            let (reference, who) = &refs[which % refs.len()];
                            Command::CancelOrder { order: OrderRef::new(reference.clone()).unwrap(), account: acc(who), time }
                        }
                        Op::Reduce { which, by } => {
                            let (reference, who) = &refs[which % refs.len()];
                            Command::ReduceOrder { order: OrderRef::new(reference.clone()).unwrap(), account: acc(who), quantity: *by, time }
                        }
                        Op::Amend { which, price } => {
                            let (reference, who) = &refs[which % refs.len()];
                            Command::AmendOrder { order: OrderRef::new(reference.clone()).unwrap(), account: acc(who), price_minor: *price, time }
                        }
                    };
                    let before = r.state().state_hash();
                    if submit_on(&mut r, &format!("x{i}"), 2, command).is_err() {
                        prop_assert_eq!(&before, &r.state().state_hash());
                    }
                    prop_assert!(r.state().ledger().audit().is_empty());
                    prop_assert!(r.state().cash().audit().is_empty(), "{:?}", r.state().cash().audit());
                }
                let report = audit(r.store()).unwrap();
                prop_assert!(report.is_clean(), "{:?}", report.findings);
                let reopened = Registry::open(r.store().clone()).unwrap();
                prop_assert_eq!(reopened.state().state_hash(), r.state().state_hash());
            }
        }
    }
}

mod auctions {
    use super::*;
    use yrd_auction::{AuctionRules, TieRule, UnderSubscription};
    use yrd_types::OrderRef;

    fn on(id: &str, day: u32, command: Command) -> Submission {
        Submission {
            date: NaiveDate::from_ymd_opt(2020, 3, day).unwrap(),
            ..sub(id, command)
        }
    }

    fn r(s: &str) -> OrderRef {
        OrderRef::new(s).unwrap()
    }

    fn bid(id: &str, account: &str, price: i64, quantity: u64) -> Command {
        Command::SubmitBid {
            auction: r("AUC-1"),
            bid: r(id),
            account: acc(account),
            price_minor: price,
            quantity,
        }
    }

    #[test]
    fn a_uniform_price_auction_clears_and_settles_in_the_registry() {
        let mut reg = fixture();
        let setup = [
            Command::Transfer {
                from: acc("CN-SH-GOV"),
                to: acc("CN-SH-AUCTION"),
                class: cea("CN-SH", 2019),
                quantity: 5_000,
            },
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 10_000_000,
            },
            Command::Deposit {
                account: acc("OP-2"),
                amount_minor: 20_000_000,
            },
            Command::CreateAuction {
                auction: r("AUC-1"),
                class: cea("CN-SH", 2019),
                rules: AuctionRules {
                    supply: 3_000,
                    lot: 1_000,
                    reserve_price_minor: 7_000,
                    purchase_limit_pct: None,
                    tie: TieRule::Random,
                    seed: 42,
                    under_subscription: UnderSubscription::SellBids,
                    ccr: None,
                    ecr: None,
                },
                closes: NaiveDate::from_ymd_opt(2020, 3, 10).unwrap(),
                joint: vec![],
                unsold: crate::command::UnsoldRule::Carry,
            },
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("TR-1"),
                group: "G1".into(),
            },
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("OP-2"),
                group: "G2".into(),
            },
        ];
        for (i, c) in setup.into_iter().enumerate() {
            reg.submit(on(&format!("s{i}"), 2, c)).unwrap().unwrap();
        }
        // The offered units are reserved: the auction account cannot move them meanwhile.
        let rej = reg
            .submit(on(
                "t",
                2,
                Command::Transfer {
                    from: acc("CN-SH-AUCTION"),
                    to: acc("TR-1"),
                    class: cea("CN-SH", 2019),
                    quantity: 2_001,
                },
            ))
            .unwrap()
            .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientHoldings]);
        // TR-1 cannot guarantee 2,000 x 80.00 = CNY 160,000 with CNY 100,000.
        let rej = reg
            .submit(on("b0", 3, bid("B0", "TR-1", 8_000, 2_000)))
            .unwrap()
            .unwrap_err();
        assert_eq!(codes(&rej), vec![RuleCode::InsufficientCash]);
        // Off the lot; not qualified.
        assert_eq!(
            codes(
                &reg.submit(on("bx", 3, bid("BX", "TR-1", 8_000, 1_500)))
                    .unwrap()
                    .unwrap_err()
            ),
            vec![RuleCode::AuctionRule]
        );
        assert_eq!(
            codes(
                &reg.submit(on("by", 3, bid("BY", "OP-1", 8_000, 1_000)))
                    .unwrap()
                    .unwrap_err()
            ),
            vec![RuleCode::NotQualified]
        );
        for (id, c) in [
            ("b1", bid("B1", "TR-1", 8_000, 1_000)),
            ("b2", bid("B2", "OP-2", 7_500, 1_000)),
            ("b3", bid("B3", "OP-2", 7_200, 1_000)),
        ] {
            reg.submit(on(id, 4, c)).unwrap().unwrap();
        }
        // OP-1 bids high, then is suspended: its bid takes no part and its guarantee comes back.
        reg.submit(on(
            "d1",
            4,
            Command::Deposit {
                account: acc("OP-1"),
                amount_minor: 9_000_000,
            },
        ))
        .unwrap()
        .unwrap();
        reg.submit(on(
            "q3",
            4,
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("OP-1"),
                group: "G3".into(),
            },
        ))
        .unwrap()
        .unwrap();
        reg.submit(on("b4", 4, bid("B4", "OP-1", 9_000, 1_000)))
            .unwrap()
            .unwrap();
        let suspend = Command::SetBidderSuspended {
            auction: r("AUC-1"),
            account: acc("OP-1"),
            suspended: true,
        };
        reg.submit(on("sus", 5, suspend)).unwrap().unwrap();
        assert_eq!(
            codes(
                &reg.submit(on("b5", 5, bid("B5", "OP-1", 8_500, 1_000)))
                    .unwrap()
                    .unwrap_err()
            ),
            vec![RuleCode::NotQualified]
        );
        // Guarantees: TR-1 8,000,000; OP-2 7,500,000 + 7,200,000 = 14,700,000 fen.
        let op2 = reg.state().ledger().find(&acc("OP-2")).unwrap();
        assert_eq!(reg.state().cash().balance(op2).reserved, 14_700_000);
        let clear = || Command::ClearAuction {
            auction: r("AUC-1"),
        };
        assert_eq!(
            codes(&reg.submit(on("c0", 10, clear())).unwrap().unwrap_err()),
            vec![RuleCode::AuctionClosed]
        );
        let receipt = reg.submit(on("c1", 11, clear())).unwrap().unwrap();
        // Demand 1,000 @ 80.00, 1,000 @ 75.00, 1,000 @ 72.00 reaches the supply of 3,000 at 72.00:
        // every winner pays 72.00. TR-1 pays 7,200,000 fen, OP-2 14,400,000.
        assert!(receipt.effects.iter().any(|e| matches!(
            e,
            Effect::AuctionCleared {
                clearing_price_minor: Some(7_200),
                sold: 3_000,
                seed: 42,
                ..
            }
        )));
        let tr1 = reg.state().ledger().find(&acc("TR-1")).unwrap();
        assert_eq!(
            reg.state().cash().balance(tr1).available,
            10_000_000 - 7_200_000
        );
        assert_eq!(
            reg.state().cash().balance(op2).available,
            20_000_000 - 14_400_000
        );
        assert_eq!(reg.state().cash().balance(op2).reserved, 0);
        let auction_account = reg.state().ledger().find(&acc("CN-SH-AUCTION")).unwrap();
        assert_eq!(
            reg.state().cash().balance(auction_account).total(),
            21_600_000
        );
        assert_eq!(
            reg.state().ledger().quantity(op2, &cea("CN-SH", 2019)),
            2_000
        );
        assert_eq!(
            reg.state()
                .ledger()
                .quantity(auction_account, &cea("CN-SH", 2019)),
            2_000
        );
        let op1 = reg.state().ledger().find(&acc("OP-1")).unwrap();
        let op1_cash = reg.state().cash().balance(op1);
        assert_eq!((op1_cash.reserved, op1_cash.available), (0, 9_000_000));
        // Bidding after the close is refused; the public result names no bidder.
        assert_eq!(
            codes(
                &reg.submit(on("late", 12, bid("B9", "TR-1", 9_000, 1_000)))
                    .unwrap()
                    .unwrap_err()
            ),
            vec![RuleCode::AuctionClosed]
        );
        let result = reg
            .state()
            .auctions()
            .get(&r("AUC-1"))
            .unwrap()
            .result
            .clone()
            .unwrap();
        let public = serde_json::to_string(&result).unwrap();
        assert!(
            !public.contains("TR-1") && !public.contains("OP-2"),
            "{public}"
        );
        assert!(
            audit(reg.store()).unwrap().is_clean(),
            "{:?}",
            audit(reg.store()).unwrap().findings
        );
        assert_eq!(
            Registry::open(reg.store().clone())
                .unwrap()
                .state()
                .state_hash(),
            reg.state().state_hash()
        );
    }

    #[test]
    fn a_joint_auction_sells_both_jurisdictions_allowances_and_pays_each() {
        use crate::command::JointShare;
        let mut reg = fixture();
        let setup = [
            Command::Transfer {
                from: acc("CN-SH-GOV"),
                to: acc("CN-SH-AUCTION"),
                class: cea("CN-SH", 2019),
                quantity: 2_000,
            },
            Command::Issue {
                jurisdiction: jur("CN-JS"),
                unit_type: ut("CEA"),
                vintage: Vintage::new(2019).unwrap(),
                quantity: 1_000,
            },
            Command::Transfer {
                from: acc("CN-JS-GOV"),
                to: acc("CN-JS-AUCTION"),
                class: cea("CN-JS", 2019),
                quantity: 1_000,
            },
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 10_000_000,
            },
            Command::Deposit {
                account: acc("OP-2"),
                amount_minor: 20_000_000,
            },
        ];
        for (i, c) in setup.into_iter().enumerate() {
            reg.submit(on(&format!("s{i}"), 2, c)).unwrap().unwrap();
        }
        let create = |reserve| Command::CreateAuction {
            auction: r("AUC-1"),
            class: cea("CN-SH", 2019),
            rules: AuctionRules {
                supply: 3_000,
                lot: 1_000,
                reserve_price_minor: reserve,
                purchase_limit_pct: None,
                tie: TieRule::Random,
                seed: 1,
                under_subscription: UnderSubscription::SellBids,
                ccr: None,
                ecr: None,
            },
            closes: NaiveDate::from_ymd_opt(2020, 3, 10).unwrap(),
            joint: vec![
                JointShare {
                    class: cea("CN-SH", 2019),
                    quantity: 2_000,
                    reserve_price_minor: 7_000,
                },
                JointShare {
                    class: cea("CN-JS", 2019),
                    quantity: 1_000,
                    reserve_price_minor: 7_200,
                },
            ],
            unsold: crate::command::UnsoldRule::Carry,
        };
        // The joint reserve price is the higher of the two, 72.00.
        assert_eq!(
            codes(&reg.submit(on("c0", 2, create(7_000))).unwrap().unwrap_err()),
            vec![RuleCode::AuctionRule]
        );
        reg.submit(on("c1", 2, create(7_200))).unwrap().unwrap();
        for (i, c) in [
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("TR-1"),
                group: "G1".into(),
            },
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("OP-2"),
                group: "G2".into(),
            },
            bid("B1", "TR-1", 8_000, 1_000),
            bid("B2", "OP-2", 7_500, 2_000),
        ]
        .into_iter()
        .enumerate()
        {
            reg.submit(on(&format!("b{i}"), 3, c)).unwrap().unwrap();
        }
        reg.submit(on(
            "clear",
            11,
            Command::ClearAuction {
                auction: r("AUC-1"),
            },
        ))
        .unwrap()
        .unwrap();
        // 3,000 sold at 75.00, split 2,000 Shanghai / 1,000 Jiangsu as offered; TR-1 (first bid)
        // is served from Shanghai, OP-2 from the rest of Shanghai's share and then Jiangsu's.
        let q = |who: &str, j: &str| {
            let no = reg.state().ledger().find(&acc(who)).unwrap();
            reg.state().ledger().quantity(no, &cea(j, 2019))
        };
        assert_eq!(
            (q("TR-1", "CN-SH"), q("OP-2", "CN-SH"), q("OP-2", "CN-JS")),
            (1_000, 1_000, 1_000)
        );
        let proceeds = |who: &str| {
            let no = reg.state().ledger().find(&acc(who)).unwrap();
            reg.state().cash().balance(no).total()
        };
        assert_eq!(
            (proceeds("CN-SH-AUCTION"), proceeds("CN-JS-AUCTION")),
            (15_000_000, 7_500_000)
        );
        assert!(
            audit(reg.store()).unwrap().is_clean(),
            "{:?}",
            audit(reg.store()).unwrap().findings
        );
    }

    #[test]
    fn unsold_allowances_can_go_back_to_the_government_account() {
        let mut reg = fixture();
        let setup = [
            Command::Transfer {
                from: acc("CN-SH-GOV"),
                to: acc("CN-SH-AUCTION"),
                class: cea("CN-SH", 2019),
                quantity: 2_000,
            },
            Command::Deposit {
                account: acc("TR-1"),
                amount_minor: 10_000_000,
            },
            Command::CreateAuction {
                auction: r("AUC-1"),
                class: cea("CN-SH", 2019),
                rules: AuctionRules {
                    supply: 2_000,
                    lot: 1_000,
                    reserve_price_minor: 7_000,
                    purchase_limit_pct: None,
                    tie: TieRule::Random,
                    seed: 3,
                    under_subscription: UnderSubscription::SellBids,
                    ccr: None,
                    ecr: None,
                },
                closes: NaiveDate::from_ymd_opt(2020, 3, 10).unwrap(),
                joint: vec![],
                unsold: crate::command::UnsoldRule::ReturnToGovernment,
            },
            Command::QualifyBidder {
                auction: r("AUC-1"),
                account: acc("TR-1"),
                group: "G1".into(),
            },
        ];
        for (i, c) in setup.into_iter().enumerate() {
            reg.submit(on(&format!("s{i}"), 2, c)).unwrap().unwrap();
        }
        reg.submit(on("b", 3, bid("B1", "TR-1", 8_000, 1_000)))
            .unwrap()
            .unwrap();
        let gov = reg.state().ledger().find(&acc("CN-SH-GOV")).unwrap();
        let before = reg.state().ledger().quantity(gov, &cea("CN-SH", 2019));
        reg.submit(on(
            "c",
            11,
            Command::ClearAuction {
                auction: r("AUC-1"),
            },
        ))
        .unwrap()
        .unwrap();
        // Under-subscribed: 1,000 sells at the reserve, 70.00; the other 1,000 goes back.
        let result = reg
            .state()
            .auctions()
            .get(&r("AUC-1"))
            .unwrap()
            .result
            .clone()
            .unwrap();
        assert_eq!(
            (result.clearing_price_minor, result.sold),
            (Some(7_000), 1_000)
        );
        assert_eq!(
            reg.state().ledger().quantity(gov, &cea("CN-SH", 2019)),
            before + 1_000
        );
        let auction_account = reg.state().ledger().find(&acc("CN-SH-AUCTION")).unwrap();
        assert_eq!(
            reg.state()
                .ledger()
                .quantity(auction_account, &cea("CN-SH", 2019)),
            0
        );
        assert!(audit(reg.store()).unwrap().is_clean());
    }
}
