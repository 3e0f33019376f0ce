use super::*;
use proptest::prelude::*;
use yrd_types::{UnitTypeCode, Vintage};

fn class(vintage: u16) -> UnitClass {
    UnitClass {
        jurisdiction: JurisdictionCode::new("CN-SH").unwrap(),
        unit_type: UnitTypeCode::new("CEA").unwrap(),
        vintage: Vintage::new(vintage).unwrap(),
    }
}

fn open(ledger: &mut Ledger, id: &str, kind: AccountKind) -> AccountNo {
    ledger
        .open_account(AccountSpec {
            id: AccountId::new(id).unwrap(),
            kind,
            jurisdiction: JurisdictionCode::new("CN-SH").unwrap(),
            holder_name: id.to_string(),
            installation: None,
        })
        .unwrap()
}

fn blocks(ledger: &Ledger, account: AccountNo, c: &UnitClass) -> Vec<(u64, u64)> {
    let no = ledger.class_no(c).unwrap();
    ledger
        .account(account)
        .holdings
        .get(&no)
        .map_or(vec![], |h| h.blocks().map(|b| (b.first, b.last)).collect())
}

#[test]
fn issuance_hands_out_consecutive_serials() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    assert_eq!(
        l.issue(&class(2019), 100, gov).unwrap(),
        SerialRange {
            first: 1,
            last: 100
        }
    );
    assert_eq!(
        l.issue(&class(2019), 50, gov).unwrap(),
        SerialRange {
            first: 101,
            last: 150
        }
    );
    // Adjacent blocks merge.
    assert_eq!(blocks(&l, gov, &class(2019)), vec![(1, 150)]);
    // Another vintage is another serial space.
    assert_eq!(
        l.issue(&class(2020), 10, gov).unwrap(),
        SerialRange { first: 1, last: 10 }
    );
}

#[test]
fn partial_transfer_splits_lowest_block_and_reversal_restores_it() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    let op = open(&mut l, "OP", AccountKind::OperatorHolding);
    let sur = open(&mut l, "SUR", AccountKind::Surrender);
    l.issue(&class(2019), 1000, gov).unwrap();
    let moved = l.move_units(gov, op, &class(2019), 300).unwrap();
    assert_eq!(
        moved,
        vec![SerialRange {
            first: 1,
            last: 300
        }]
    );
    assert_eq!(blocks(&l, gov, &class(2019)), vec![(301, 1000)]);
    let surrendered = l.move_units(op, sur, &class(2019), 120).unwrap();
    assert_eq!(
        surrendered,
        vec![SerialRange {
            first: 1,
            last: 120
        }]
    );
    assert_eq!(blocks(&l, op, &class(2019)), vec![(121, 300)]);
    // Reversal moves the same serials back; the operator's blocks merge again.
    l.move_ranges(sur, op, &class(2019), &surrendered).unwrap();
    assert_eq!(blocks(&l, op, &class(2019)), vec![(1, 300)]);
    assert_eq!(l.quantity(sur, &class(2019)), 0);
    assert!(l.audit().is_empty());
}

#[test]
fn moving_more_than_held_is_refused_and_changes_nothing() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    let op = open(&mut l, "OP", AccountKind::OperatorHolding);
    l.issue(&class(2019), 10, gov).unwrap();
    let err = l.move_units(gov, op, &class(2019), 11).unwrap_err();
    assert_eq!(
        err.to_string(),
        "account GOV holds 10 units of CN-SH/CEA/2019, 11 requested"
    );
    assert_eq!(l.quantity(gov, &class(2019)), 10);
    assert_eq!(l.quantity(op, &class(2019)), 0);
    assert_eq!(
        l.move_units(gov, op, &class(2019), 0).unwrap_err(),
        LedgerError::ZeroQuantity
    );
    let err = l
        .move_ranges(op, gov, &class(2019), &[SerialRange { first: 1, last: 1 }])
        .unwrap_err();
    assert!(matches!(err, LedgerError::RangesNotHeld { .. }));
}

#[test]
fn closing_requires_an_empty_account() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    l.issue(&class(2019), 1, gov).unwrap();
    assert!(matches!(
        l.close_account(gov),
        Err(LedgerError::NotEmpty(_))
    ));
    let op = open(&mut l, "OP", AccountKind::OperatorHolding);
    l.close_account(op).unwrap();
    assert_eq!(l.account(op).status, AccountStatus::Closed);
}

#[test]
fn audit_totals_split_by_category() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    let op = open(&mut l, "OP", AccountKind::OperatorHolding);
    let sur = open(&mut l, "SUR", AccountKind::Surrender);
    let can = open(&mut l, "CAN", AccountKind::Cancellation);
    let del = open(&mut l, "DEL", AccountKind::Deletion);
    l.issue(&class(2019), 1000, gov).unwrap();
    l.move_units(gov, op, &class(2019), 600).unwrap();
    l.move_units(op, sur, &class(2019), 250).unwrap();
    l.move_units(op, can, &class(2019), 50).unwrap();
    l.move_units(gov, del, &class(2019), 100).unwrap();
    let (_, t) = &l.class_totals()[0];
    assert_eq!(
        *t,
        ClassTotals {
            issued: 1000,
            held: 600,
            surrendered: 250,
            cancelled: 50,
            deleted: 100
        }
    );
    assert!(l.audit().is_empty());
}

#[test]
fn audit_detects_tampered_blocks() {
    let mut l = Ledger::new();
    let gov = open(&mut l, "GOV", AccountKind::GovernmentHolding);
    let op = open(&mut l, "OP", AccountKind::OperatorHolding);
    l.issue(&class(2019), 100, gov).unwrap();
    // Forge a duplicate of serials 1-10 in another account, bypassing the ledger's operations.
    let c = l.class_no(&class(2019)).unwrap();
    l.accounts[op.0 as usize]
        .holdings
        .entry(c)
        .or_default()
        .insert(SerialRange { first: 1, last: 10 });
    let findings = l.audit();
    assert!(
        findings
            .iter()
            .any(|f| matches!(f, AuditFinding::ConservationBroken { .. })),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| matches!(f, AuditFinding::SerialOverlap { .. })),
        "{findings:?}"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Issue {
        vintage: u16,
        quantity: u64,
    },
    Move {
        from: usize,
        to: usize,
        vintage: u16,
        quantity: u64,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (2019u16..2022, 1u64..500).prop_map(|(vintage, quantity)| Op::Issue { vintage, quantity }),
        (0usize..5, 0usize..5, 2019u16..2022, 1u64..400).prop_map(
            |(from, to, vintage, quantity)| Op::Move {
                from,
                to,
                vintage,
                quantity
            }
        ),
    ]
}

proptest! {
    /// Conservation and the serial partition hold after every operation, whatever the sequence;
    /// refused moves change nothing.
    #[test]
    fn conservation_holds_after_every_operation(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let mut l = Ledger::new();
        let kinds = [AccountKind::GovernmentHolding, AccountKind::OperatorHolding, AccountKind::Trading,
                     AccountKind::Surrender, AccountKind::Deletion];
        let accounts: Vec<AccountNo> =
            kinds.iter().enumerate().map(|(i, k)| open(&mut l, &format!("A{i}"), *k)).collect();
        let mut issued = std::collections::HashMap::new();
        for op in ops {
            match op {
                Op::Issue { vintage, quantity } => {
                    l.issue(&class(vintage), quantity, accounts[0]).unwrap();
                    *issued.entry(vintage).or_insert(0u64) += quantity;
                }
                Op::Move { from, to, vintage, quantity } => {
                    let before = (l.quantity(accounts[from], &class(vintage)), l.quantity(accounts[to], &class(vintage)));
                    match l.move_units(accounts[from], accounts[to], &class(vintage), quantity) {
                        Ok(ranges) => prop_assert_eq!(ranges.iter().map(|r| r.len()).sum::<u64>(), quantity),
                        Err(_) => prop_assert_eq!(before, (l.quantity(accounts[from], &class(vintage)), l.quantity(accounts[to], &class(vintage)))),
                    }
                }
            }
            prop_assert!(l.audit().is_empty(), "{:?}", l.audit());
        }
        for (class, totals) in l.class_totals() {
            prop_assert_eq!(totals.issued, issued[&class.vintage.year()]);
        }
    }
}
