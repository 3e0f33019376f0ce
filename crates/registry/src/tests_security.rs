//! The EU registry security controls end to end through `Registry::submit`, on the YRD market's
//! calendar (config/yrd.toml: China Standard Time, State Council holidays). March 2025 has no
//! holiday: Monday 3, Friday 7, Monday 10 March. Friday 4 April 2025 is Qingming.

use super::*;
use crate::audit::audit;
use crate::security::{pending_transfers, suspensions, transfer_parties, trusted_accounts};
use chrono::{NaiveDate, NaiveDateTime};
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, OrderRef, TransactionId, UnitClass,
    UnitTypeCode, Vintage,
};

const YRD: &str = include_str!("../../../config/yrd.toml");

fn at(m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}
fn acc(s: &str) -> AccountId {
    AccountId::new(s).unwrap()
}
fn jur(s: &str) -> JurisdictionCode {
    JurisdictionCode::new(s).unwrap()
}
fn rf(s: &str) -> OrderRef {
    OrderRef::new(s).unwrap()
}
fn cea() -> UnitClass {
    UnitClass {
        jurisdiction: jur("CN-SH"),
        unit_type: UnitTypeCode::new("CEA").unwrap(),
        vintage: Vintage::new(2024).unwrap(),
    }
}

struct Reg {
    r: Registry<MemoryStore>,
    n: u32,
    date: NaiveDate,
}

impl Reg {
    /// TR-1 holds 5,000,000 CEA 2024 of Shanghai, OP-1 (installation P1) 1,000; TR-2 and TR-3
    /// hold nothing. All in CN-SH.
    fn new() -> Self {
        let date = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        let r = Registry::create(MemoryStore::new(), YRD, "yrd.toml", date).unwrap();
        let mut reg = Reg { r, n: 0, date };
        for (id, kind) in [
            ("OP-1", AccountKind::OperatorHolding),
            ("TR-1", AccountKind::Trading),
            ("TR-2", AccountKind::Trading),
            ("TR-3", AccountKind::Trading),
        ] {
            reg.ok(Command::OpenAccount {
                account: acc(id),
                kind,
                jurisdiction: jur("CN-SH"),
                holder_name: format!("{id} Co"),
            });
        }
        reg.ok(Command::RegisterInstallation {
            installation: InstallationId::new("P1").unwrap(),
            account: acc("OP-1"),
            name: "Plant 1".into(),
            sector: "POWER".into(),
            first_year: 2024,
        });
        reg.ok(Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: UnitTypeCode::new("CEA").unwrap(),
            vintage: Vintage::new(2024).unwrap(),
            quantity: 10_000_000,
        });
        reg.ok(Command::Allocate {
            installation: InstallationId::new("P1").unwrap(),
            unit_type: UnitTypeCode::new("CEA").unwrap(),
            vintage: Vintage::new(2024).unwrap(),
            quantity: 1_000,
        });
        reg.ok(Command::Transfer {
            from: acc("CN-SH-GOV"),
            to: acc("CN-SH-AUCTION"),
            class: cea(),
            quantity: 5_000_000,
        });
        reg.ok(Command::Transfer {
            from: acc("CN-SH-AUCTION"),
            to: acc("TR-1"),
            class: cea(),
            quantity: 5_000_000,
        });
        reg
    }

    fn submit(&mut self, command: Command) -> Result<Vec<Effect>, Rejection> {
        self.n += 1;
        // The business date follows the command's time where it has one.
        let date = command_at(&command).map_or(self.date, |t| t.date());
        self.date = self.date.max(date);
        let s = Submission {
            id: TransactionId::new(format!("s{}", self.n)).unwrap(),
            date: self.date,
            command,
        };
        self.r.submit(s).unwrap().map(|receipt| receipt.effects)
    }

    fn ok(&mut self, command: Command) -> Vec<Effect> {
        match self.submit(command) {
            Ok(e) => e,
            Err(r) => panic!("refused: {r}"),
        }
    }

    /// Refused with `code`, and nothing changed (state hash and journal length).
    fn refused(&mut self, command: Command, code: RuleCode) -> Rejection {
        let before = (self.r.state().state_hash(), self.r.state().last_seq());
        let rejection = self.submit(command).unwrap_err();
        assert!(rejection.has(code), "expected {code}, got {rejection}");
        let after = (self.r.state().state_hash(), self.r.state().last_seq());
        assert_eq!(before, after, "a refusal changes nothing");
        rejection
    }

    fn held(&self, account: &str) -> u64 {
        let no = self.r.state().ledger().find(&acc(account)).unwrap();
        self.r.state().ledger().quantity(no, &cea())
    }

    fn free(&self, account: &str) -> u64 {
        let no = self.r.state().ledger().find(&acc(account)).unwrap();
        self.r.state().free_units(no, &cea())
    }

    fn status(&self, transfer: &str) -> &'static str {
        self.r
            .state()
            .security()
            .transfer(&rf(transfer))
            .unwrap()
            .status
            .name()
    }

    fn propose(&mut self, id: &str, from: &str, to: &str, quantity: u64, when: NaiveDateTime) {
        self.ok(propose(id, from, to, quantity, when));
    }

    fn approve(&mut self, id: &str, when: NaiveDateTime) -> Vec<Effect> {
        self.ok(Command::ApproveTransfer {
            transfer: rf(id),
            approver: "bob".into(),
            at: when,
        })
    }

    /// TR-1 trusts TR-2 from Friday 7 March 09:30 (approved Monday 3 March 09:30).
    fn trust_tr2(&mut self) {
        self.trust("TR-1", "TR-2", at(3, 3, 9, 0), at(3, 3, 9, 30));
    }

    fn trust(
        &mut self,
        account: &str,
        trusted: &str,
        proposed: NaiveDateTime,
        approved: NaiveDateTime,
    ) {
        self.ok(Command::ProposeTrustedAccount {
            account: acc(account),
            trusted: acc(trusted),
            initiator: "alice".into(),
            at: proposed,
        });
        self.ok(Command::ApproveTrustedAccount {
            account: acc(account),
            trusted: acc(trusted),
            approver: "bob".into(),
            at: approved,
        });
    }

    fn execute_due(&mut self, when: NaiveDateTime) -> Vec<Effect> {
        self.ok(Command::ExecuteDueTransfers { at: when })
    }
}

fn propose(id: &str, from: &str, to: &str, quantity: u64, when: NaiveDateTime) -> Command {
    Command::ProposeTransfer {
        transfer: rf(id),
        from: acc(from),
        to: acc(to),
        class: cea(),
        quantity,
        initiator: "alice".into(),
        at: when,
    }
}

fn command_at(command: &Command) -> Option<NaiveDateTime> {
    match command {
        Command::ProposeTransfer { at, .. }
        | Command::ApproveTransfer { at, .. }
        | Command::CancelTransfer { at, .. }
        | Command::ExecuteDueTransfers { at }
        | Command::ProposeTrustedAccount { at, .. }
        | Command::ApproveTrustedAccount { at, .. }
        | Command::RemoveTrustedAccount { at, .. } => Some(*at),
        _ => None,
    }
}

fn executed(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::TransferExecuted { transfer, .. } => Some(transfer.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn delayed_execution_timetable_end_to_end() {
    let mut m = Reg::new();
    m.trust_tr2();
    assert_eq!(
        m.r.state()
            .security()
            .trusted_entries(m.r.state().ledger().find(&acc("TR-1")).unwrap())
            .next()
            .unwrap()
            .1
            .active_from,
        Some(at(3, 7, 9, 30))
    );

    // To a trusted account, approved Friday 15:00: immediate, in the approving transaction.
    m.propose("X1", "TR-1", "TR-2", 100, at(3, 7, 14, 0));
    assert_eq!(m.status("X1"), "awaiting_approval");
    assert_eq!((m.held("TR-1"), m.free("TR-1")), (5_000_000, 4_999_900));
    let effects = m.approve("X1", at(3, 7, 15, 0));
    assert_eq!(executed(&effects), ["X1"]);
    assert!(matches!(
        &effects[0],
        Effect::TransferApproved { execute_at, .. } if *execute_at == at(3, 7, 15, 0)
    ));
    assert!(effects.iter().any(|e| matches!(e, Effect::Moved { .. })));
    assert_eq!(m.status("X1"), "executed");
    assert_eq!(
        (m.held("TR-1"), m.free("TR-1"), m.held("TR-2")),
        (4_999_900, 4_999_900, 100)
    );

    // Approved Friday 17:00: Monday 10:00.
    m.propose("X2", "TR-1", "TR-2", 200, at(3, 7, 16, 30));
    let effects = m.approve("X2", at(3, 7, 17, 0));
    assert_eq!(
        effects,
        [Effect::TransferApproved {
            transfer: rf("X2"),
            execute_at: at(3, 10, 10, 0)
        }]
    );
    assert_eq!(m.status("X2"), "scheduled");
    assert_eq!(m.r.state().security().next_due(), Some(at(3, 10, 10, 0)));
    assert_eq!(
        (m.held("TR-1"), m.free("TR-1"), m.held("TR-2")),
        (4_999_900, 4_999_700, 100)
    );

    // Untrusted TR-3, approved Monday 11:00 -> Tuesday 12:00; 13:00 -> Wednesday 12:00.
    m.propose("X3", "TR-1", "TR-3", 1_000, at(3, 10, 8, 0));
    m.propose("X4", "TR-1", "TR-3", 2_000, at(3, 10, 8, 5));
    assert!(m.execute_due(at(3, 10, 9, 59)).is_empty());
    assert_eq!(m.held("TR-2"), 100);
    assert_eq!(executed(&m.execute_due(at(3, 10, 10, 0))), ["X2"]);
    assert_eq!(m.held("TR-2"), 300);
    m.approve("X3", at(3, 10, 11, 0));
    m.approve("X4", at(3, 10, 13, 0));
    let t = |m: &Reg, id: &str| {
        m.r.state()
            .security()
            .transfer(&rf(id))
            .unwrap()
            .execute_at
            .unwrap()
    };
    assert_eq!(t(&m, "X3"), at(3, 11, 12, 0));
    assert_eq!(t(&m, "X4"), at(3, 12, 12, 0));
    assert!(m.execute_due(at(3, 11, 11, 59)).is_empty());
    assert_eq!(executed(&m.execute_due(at(3, 11, 12, 0))), ["X3"]);
    assert_eq!(m.held("TR-3"), 1_000);
    assert_eq!(executed(&m.execute_due(at(3, 12, 12, 0))), ["X4"]);
    assert_eq!(m.held("TR-3"), 3_000);
    assert_eq!((m.held("TR-1"), m.free("TR-1")), (4_996_700, 4_996_700));

    // Qingming: approved Thursday 3 April 13:00 -> Friday holiday, weekend -> Monday 7, then
    // Tuesday 8 April 12:00.
    m.propose("X5", "TR-1", "TR-3", 10, at(4, 3, 12, 30));
    m.approve("X5", at(4, 3, 13, 0));
    assert_eq!(t(&m, "X5"), at(4, 8, 12, 0));
    assert!(m.execute_due(at(4, 7, 12, 0)).is_empty());
    assert_eq!(executed(&m.execute_due(at(4, 8, 12, 1))), ["X5"]);
    assert_eq!(m.held("TR-3"), 3_010);

    // The report: newest first, every status.
    let rows = pending_transfers(m.r.state(), Some(&acc("TR-3")));
    assert_eq!(
        rows.iter()
            .map(|r| r.transfer.to_string())
            .collect::<Vec<_>>(),
        ["X5", "X4", "X3"]
    );
    assert_eq!(rows[0].status, "executed");
    assert_eq!(rows[0].approver.as_deref(), Some("bob"));
    assert_eq!(pending_transfers(m.r.state(), None).len(), 5);
    assert_eq!(
        transfer_parties(m.r.state(), &rf("X4")),
        Some((acc("TR-1"), "alice".to_string()))
    );
}

#[test]
fn four_eyes_refuses_the_same_person() {
    let mut m = Reg::new();
    m.propose("X1", "TR-1", "TR-3", 100, at(3, 3, 10, 0));
    m.refused(
        Command::ApproveTransfer {
            transfer: rf("X1"),
            approver: "alice".into(),
            at: at(3, 3, 10, 5),
        },
        RuleCode::FourEyes,
    );
    m.ok(Command::ProposeTrustedAccount {
        account: acc("TR-1"),
        trusted: acc("TR-2"),
        initiator: "alice".into(),
        at: at(3, 3, 10, 6),
    });
    m.refused(
        Command::ApproveTrustedAccount {
            account: acc("TR-1"),
            trusted: acc("TR-2"),
            approver: "alice".into(),
            at: at(3, 3, 10, 7),
        },
        RuleCode::FourEyes,
    );
    // Approving twice, an unknown transfer, an empty name.
    m.approve("X1", at(3, 3, 10, 8));
    m.refused(
        Command::ApproveTransfer {
            transfer: rf("X1"),
            approver: "carol".into(),
            at: at(3, 3, 10, 9),
        },
        RuleCode::TransferNotPending,
    );
    m.refused(
        Command::ApproveTransfer {
            transfer: rf("NOPE"),
            approver: "carol".into(),
            at: at(3, 3, 10, 9),
        },
        RuleCode::UnknownTransfer,
    );
    m.refused(
        propose("X1", "TR-1", "TR-3", 1, at(3, 3, 10, 9)),
        RuleCode::DuplicateTransfer,
    );
    m.refused(
        Command::ProposeTransfer {
            transfer: rf("X9"),
            from: acc("TR-1"),
            to: acc("TR-3"),
            class: cea(),
            quantity: 1,
            initiator: " ".into(),
            at: at(3, 3, 10, 9),
        },
        RuleCode::InvalidField,
    );
    // The security clock never runs back.
    m.refused(
        propose("X9", "TR-1", "TR-3", 1, at(3, 3, 10, 0)),
        RuleCode::DateBeforeLast,
    );
}

#[test]
fn limit_to_untrusted_accounts_and_none_to_trusted() {
    let mut m = Reg::new();
    m.trust_tr2();
    m.propose("OK", "TR-1", "TR-3", 2_000_000, at(3, 7, 10, 0));
    m.refused(
        propose("BIG", "TR-1", "TR-3", 2_000_001, at(3, 7, 10, 1)),
        RuleCode::TransferLimitExceeded,
    );
    // To the trusted TR-2: 2,500,000 at once.
    m.propose("T", "TR-1", "TR-2", 2_500_000, at(3, 7, 10, 2));
    assert_eq!(executed(&m.approve("T", at(3, 7, 10, 3))), ["T"]);
    assert_eq!(m.held("TR-2"), 2_500_000);
    // An operator holding account sends only to trusted accounts.
    m.refused(
        propose("OP", "OP-1", "TR-3", 10, at(3, 7, 10, 4)),
        RuleCode::NotTrusted,
    );
    m.trust("OP-1", "TR-3", at(3, 7, 10, 5), at(3, 7, 10, 6));
    // Active from Thursday 13 March 10:06 (Mon, Tue, Wed, Thu).
    m.refused(
        propose("OP", "OP-1", "TR-3", 10, at(3, 13, 10, 5)),
        RuleCode::NotTrusted,
    );
    m.propose("OP", "OP-1", "TR-3", 10, at(3, 13, 10, 6));
    assert_eq!(executed(&m.approve("OP", at(3, 13, 10, 7))), ["OP"]);
    assert_eq!(m.held("TR-3"), 10);
}

#[test]
fn trusted_list_activation_after_four_working_days() {
    let mut m = Reg::new();
    // Proposed and approved Thursday 6 March 11:00: active Wednesday 12 March 11:00 (Fri, Mon,
    // Tue, Wed - the weekend does not count).
    m.trust("TR-1", "TR-2", at(3, 6, 10, 0), at(3, 6, 11, 0));
    let rows = trusted_accounts(m.r.state(), &acc("TR-1")).unwrap();
    assert_eq!(rows[0].status, "pending_activation");
    assert_eq!(rows[0].active_from, Some(at(3, 12, 11, 0)));
    // Before: treated as untrusted - the limit applies and the timetable is the untrusted one.
    m.refused(
        propose("BIG", "TR-1", "TR-2", 2_000_001, at(3, 12, 10, 0)),
        RuleCode::TransferLimitExceeded,
    );
    m.propose("A", "TR-1", "TR-2", 5, at(3, 12, 10, 30));
    let effects = m.approve("A", at(3, 12, 10, 59));
    assert_eq!(
        effects,
        [Effect::TransferApproved {
            transfer: rf("A"),
            execute_at: at(3, 13, 12, 0)
        }]
    );
    // From 11:00: trusted, immediate within the window.
    m.propose("B", "TR-1", "TR-2", 5, at(3, 12, 11, 0));
    assert_eq!(executed(&m.approve("B", at(3, 12, 11, 0))), ["B"]);
    let rows = trusted_accounts(m.r.state(), &acc("TR-1")).unwrap();
    assert_eq!(rows[0].status, "active");
    // Removal is immediate: the next approval is untrusted again.
    m.ok(Command::RemoveTrustedAccount {
        account: acc("TR-1"),
        trusted: acc("TR-2"),
        by: "carol".into(),
        at: at(3, 12, 11, 1),
    });
    assert!(
        trusted_accounts(m.r.state(), &acc("TR-1"))
            .unwrap()
            .is_empty()
    );
    m.propose("C", "TR-1", "TR-2", 5, at(3, 12, 11, 2));
    assert!(executed(&m.approve("C", at(3, 12, 11, 3))).is_empty());
    // A pending addition is withdrawn by removing it; self-trust and unknown accounts refused.
    m.ok(Command::ProposeTrustedAccount {
        account: acc("TR-1"),
        trusted: acc("TR-3"),
        initiator: "alice".into(),
        at: at(3, 12, 11, 4),
    });
    assert_eq!(
        trusted_accounts(m.r.state(), &acc("TR-1")).unwrap()[0].status,
        "pending_approval"
    );
    m.ok(Command::RemoveTrustedAccount {
        account: acc("TR-1"),
        trusted: acc("TR-3"),
        by: "alice".into(),
        at: at(3, 12, 11, 5),
    });
    m.refused(
        Command::ProposeTrustedAccount {
            account: acc("TR-1"),
            trusted: acc("TR-1"),
            initiator: "alice".into(),
            at: at(3, 12, 11, 6),
        },
        RuleCode::TrustedListRule,
    );
    m.refused(
        Command::ProposeTrustedAccount {
            account: acc("TR-1"),
            trusted: acc("NOBODY"),
            initiator: "alice".into(),
            at: at(3, 12, 11, 6),
        },
        RuleCode::UnknownAccount,
    );
}

#[test]
fn cancel_releases_the_reservation_and_reservation_prevents_double_spend() {
    let mut m = Reg::new();
    m.propose("X1", "TR-1", "TR-3", 2_000_000, at(3, 3, 10, 0));
    m.propose("X2", "TR-1", "TR-3", 2_000_000, at(3, 3, 10, 1));
    m.propose("X3", "TR-1", "TR-3", 1_000_000, at(3, 3, 10, 2));
    assert_eq!((m.held("TR-1"), m.free("TR-1")), (5_000_000, 0));
    // Nothing left to spend twice: another proposal, the administrative transfer, cancellation.
    m.refused(
        propose("X4", "TR-1", "TR-3", 1, at(3, 3, 10, 3)),
        RuleCode::InsufficientHoldings,
    );
    m.refused(
        Command::Transfer {
            from: acc("TR-1"),
            to: acc("TR-2"),
            class: cea(),
            quantity: 1,
        },
        RuleCode::InsufficientHoldings,
    );
    m.refused(
        Command::Cancel {
            from: acc("TR-1"),
            class: cea(),
            quantity: 1,
        },
        RuleCode::InsufficientHoldings,
    );
    // Cancelled while awaiting approval and while scheduled: the units are free again.
    m.approve("X2", at(3, 3, 10, 4));
    let effects = m.ok(Command::CancelTransfer {
        transfer: rf("X1"),
        by: "alice".into(),
        at: at(3, 3, 10, 5),
    });
    assert_eq!(
        effects,
        [Effect::TransferCancelled {
            transfer: rf("X1"),
            by: "alice".into()
        }]
    );
    m.ok(Command::CancelTransfer {
        transfer: rf("X2"),
        by: "bob".into(),
        at: at(3, 3, 10, 6),
    });
    assert_eq!((m.held("TR-1"), m.free("TR-1")), (5_000_000, 4_000_000));
    assert_eq!(m.status("X2"), "cancelled");
    m.refused(
        Command::CancelTransfer {
            transfer: rf("X2"),
            by: "bob".into(),
            at: at(3, 3, 10, 7),
        },
        RuleCode::TransferNotPending,
    );
    // The cancelled, scheduled one does not execute when it would have been due.
    assert!(m.execute_due(at(3, 5, 12, 0)).is_empty());
    assert_eq!(m.held("TR-3"), 0);
    let row = &pending_transfers(m.r.state(), None)[1];
    assert_eq!(
        (row.status, row.reason.as_deref()),
        ("cancelled", Some("cancelled by bob"))
    );
    assert!(audit(m.r.store()).unwrap().is_clean());
}

#[test]
fn suspended_accounts_and_processes_are_refused_until_reinstated() {
    let mut m = Reg::new();
    m.ok(Command::SetAccountSuspended {
        account: acc("TR-3"),
        suspended: true,
        reason: "suspected theft".into(),
    });
    m.refused(
        propose("X1", "TR-1", "TR-3", 1, at(3, 3, 10, 0)),
        RuleCode::AccountSuspended,
    );
    m.refused(
        propose("X1", "TR-3", "TR-1", 1, at(3, 3, 10, 0)),
        RuleCode::AccountSuspended,
    );
    m.refused(
        Command::Transfer {
            from: acc("TR-1"),
            to: acc("TR-3"),
            class: cea(),
            quantity: 1,
        },
        RuleCode::AccountSuspended,
    );
    m.refused(
        Command::Deposit {
            account: acc("TR-3"),
            amount_minor: 100,
        },
        RuleCode::AccountSuspended,
    );
    let s = suspensions(m.r.state());
    assert_eq!(s.accounts[0].account, acc("TR-3"));
    assert_eq!(s.accounts[0].reason, "suspected theft");
    m.refused(
        Command::SetAccountSuspended {
            account: acc("TR-3"),
            suspended: true,
            reason: "again".into(),
        },
        RuleCode::InvalidField,
    );
    m.ok(Command::SetAccountSuspended {
        account: acc("TR-3"),
        suspended: false,
        reason: String::new(),
    });
    m.ok(Command::Deposit {
        account: acc("TR-3"),
        amount_minor: 100,
    });
    m.propose("X1", "TR-1", "TR-3", 1, at(3, 3, 10, 0));

    // The surrender process of Shanghai, then transfers and issuance.
    for process in [Process::Transfers, Process::Issuance, Process::Surrender] {
        m.ok(Command::SetProcessSuspended {
            jurisdiction: jur("CN-SH"),
            process,
            suspended: true,
        });
    }
    m.refused(
        Command::Transfer {
            from: acc("TR-1"),
            to: acc("TR-2"),
            class: cea(),
            quantity: 1,
        },
        RuleCode::ProcessSuspended,
    );
    m.refused(
        propose("X2", "TR-1", "TR-3", 1, at(3, 3, 10, 1)),
        RuleCode::ProcessSuspended,
    );
    m.refused(
        Command::ApproveTransfer {
            transfer: rf("X1"),
            approver: "bob".into(),
            at: at(3, 3, 10, 2),
        },
        RuleCode::ProcessSuspended,
    );
    m.refused(
        Command::Issue {
            jurisdiction: jur("CN-SH"),
            unit_type: UnitTypeCode::new("CEA").unwrap(),
            vintage: Vintage::new(2024).unwrap(),
            quantity: 1,
        },
        RuleCode::ProcessSuspended,
    );
    m.refused(
        Command::Surrender {
            installation: InstallationId::new("P1").unwrap(),
            account: acc("OP-1"),
            obligation: UnitTypeCode::new("CO2E").unwrap(),
            year: 2024,
            quantity: 1,
        },
        RuleCode::ProcessSuspended,
    );
    assert_eq!(suspensions(m.r.state()).processes.len(), 3);
    m.ok(Command::SetProcessSuspended {
        jurisdiction: jur("CN-SH"),
        process: Process::Transfers,
        suspended: false,
    });
    m.ok(Command::Transfer {
        from: acc("TR-1"),
        to: acc("TR-2"),
        class: cea(),
        quantity: 1,
    });
    m.approve("X1", at(3, 3, 10, 2));
    assert_eq!(m.status("X1"), "scheduled");
}

#[test]
fn a_scheduled_transfer_that_breaks_a_rule_when_due_fails_and_releases_its_units() {
    let mut m = Reg::new();
    m.propose("X1", "TR-1", "TR-3", 500, at(3, 3, 9, 0));
    m.approve("X1", at(3, 3, 9, 30)); // untrusted, before 12:00: Tuesday 4 March 12:00
    m.propose("X2", "TR-1", "TR-2", 700, at(3, 3, 9, 40));
    m.approve("X2", at(3, 3, 9, 50));
    assert_eq!(m.free("TR-1"), 4_998_800);
    m.ok(Command::SetAccountSuspended {
        account: acc("TR-3"),
        suspended: true,
        reason: "court order".into(),
    });
    let effects = m.execute_due(at(3, 4, 12, 0));
    // In (execute_at, id) order: X1 fails, X2 executes; the command succeeds.
    assert!(matches!(
        &effects[0],
        Effect::TransferFailed { transfer, reason }
            if *transfer == rf("X1") && reason.contains("ACCOUNT_SUSPENDED")
    ));
    assert_eq!(executed(&effects), ["X2"]);
    assert_eq!(m.status("X1"), "failed");
    assert_eq!((m.held("TR-1"), m.free("TR-1")), (4_999_300, 4_999_300));
    assert_eq!((m.held("TR-2"), m.held("TR-3")), (700, 0));
    let row = pending_transfers(m.r.state(), None)
        .into_iter()
        .find(|r| r.transfer == rf("X1"))
        .unwrap();
    assert!(row.reason.unwrap().contains("court order"));
}

#[test]
fn replaying_the_journal_reproduces_the_state() {
    let mut m = Reg::new();
    m.trust_tr2();
    m.propose("X1", "TR-1", "TR-2", 100, at(3, 7, 15, 0));
    m.approve("X1", at(3, 7, 15, 1));
    m.propose("X2", "TR-1", "TR-3", 300, at(3, 7, 15, 2));
    m.approve("X2", at(3, 7, 15, 3));
    m.propose("X3", "TR-1", "TR-3", 400, at(3, 7, 15, 4));
    m.ok(Command::SetAccountSuspended {
        account: acc("TR-2"),
        suspended: true,
        reason: "review".into(),
    });
    m.execute_due(at(3, 11, 12, 0));
    assert_eq!(m.held("TR-3"), 300);
    let hash = m.r.state().state_hash();
    let reopened = Registry::open(m.r.store().clone()).unwrap();
    assert_eq!(reopened.state().state_hash(), hash);
    assert_eq!(
        pending_transfers(reopened.state(), None),
        pending_transfers(m.r.state(), None)
    );
    assert!(audit(m.r.store()).unwrap().is_clean());
}

#[test]
fn commands_round_trip_as_json() {
    let c: Command = serde_json::from_str(
        r#"{"type":"propose_transfer","transfer":"X1","from":"TR-1","to":"TR-2",
            "class":"CN-SH/CEA/2024","quantity":5,"initiator":"alice","at":"2025-03-07T15:00:00"}"#,
    )
    .unwrap();
    assert_eq!(c, propose("X1", "TR-1", "TR-2", 5, at(3, 7, 15, 0)));
    let c: Command = serde_json::from_str(
        r#"{"type":"set_process_suspended","jurisdiction":"CN-SH","process":"trading","suspended":true}"#,
    )
    .unwrap();
    assert_eq!(c.kind(), "set_process_suspended");
    assert!(
        serde_json::from_str::<Command>(
            r#"{"type":"execute_due_transfers","at":"2025-03-07T15:00:00","x":1}"#
        )
        .is_err()
    );
}
