//! `yrd-ets audit`: an independent check of a stored registry.
//!
//! The audit reads the journal from the store, not from a running registry: it verifies the
//! sequence and the hash chain of every entry, replays every command into fresh state and checks
//! that each produces exactly the effects recorded beside it, then checks the ledger invariants
//! (per jurisdiction x unit type x vintage: issued = holdings + surrendered + cancelled + deleted,
//! serial blocks disjoint and complete, no negative or empty holding) and that the compliance
//! records agree with the units in the surrender accounts.

use crate::command::Submission;
use crate::journal::{JournalStore, StorageError, genesis_hash};
use crate::state::{Applied, RegistryState};
use yrd_config::MarketConfig;
use yrd_ledger::ClassTotals;
use yrd_types::{AccountKind, UnitClass};

/// The most findings an audit lists before it stops collecting (it still counts them).
pub const MAX_FINDINGS: usize = 100;

/// What an audit found.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// Journal entries read.
    pub entries: u64,
    /// Totals per unit class after replay.
    pub classes: Vec<(UnitClass, ClassTotals)>,
    /// Every discrepancy, in the order found (at most [`MAX_FINDINGS`]).
    pub findings: Vec<String>,
    /// Total number of discrepancies.
    pub finding_count: usize,
}

impl AuditReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.finding_count == 0
    }

    fn find(&mut self, finding: String) {
        self.finding_count += 1;
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        }
    }
}

/// Audits the registry in `store`. `Err` only when the store cannot be read.
pub fn audit<S: JournalStore>(store: &S) -> Result<AuditReport, StorageError> {
    let mut report = AuditReport::default();
    let Some(text) = store.market_config()? else {
        report.find("the store holds no market configuration".into());
        return Ok(report);
    };
    let config = match MarketConfig::from_toml("stored market configuration", &text) {
        Ok(c) => c,
        Err(e) => {
            report.find(format!("stored market configuration is invalid: {e}"));
            return Ok(report);
        }
    };
    let mut state = RegistryState::new(config);
    let mut head = genesis_hash(&text);
    let mut expected_seq = 1u64;
    store.scan(&mut |entry| {
        report.entries += 1;
        let at = format!("journal entry {} ({})", entry.seq, entry.tx_id);
        if entry.seq != expected_seq {
            report.find(format!("{at}: sequence gap, expected {expected_seq}"));
        }
        expected_seq = entry.seq + 1;
        if entry.prev_hash != head {
            report.find(format!("{at}: previous-hash link broken"));
        }
        let recomputed = crate::journal::JournalEntry::compute_hash(
            &entry.prev_hash,
            entry.seq,
            &entry.tx_id,
            &entry.command,
            &entry.effects,
        );
        if recomputed != entry.hash {
            report.find(format!(
                "{at}: stored hash does not match the entry's contents (altered after writing)"
            ));
        }
        head = entry.hash;
        let submission: Submission = match serde_json::from_str(&entry.command) {
            Ok(s) => s,
            Err(e) => {
                report.find(format!("{at}: command does not parse: {e}"));
                return Ok(());
            }
        };
        let (_, content_hash) = RegistryState::canonical(&submission);
        match state.apply(&submission, content_hash) {
            Ok(Applied::New { effects, .. }) => {
                let replayed = serde_json::to_string(&effects).expect("effects serialise");
                if replayed != entry.effects {
                    report.find(format!(
                        "{at}: replay produces different effects than recorded"
                    ));
                }
            }
            Ok(Applied::Duplicate { seq }) => {
                report.find(format!("{at}: transaction id already used by entry {seq}"))
            }
            Err(v) => report.find(format!(
                "{at}: does not replay: {}",
                v.iter()
                    .map(|v| v.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
        Ok(())
    })?;
    for finding in state.ledger().audit() {
        report.find(finding.to_string());
    }
    check_holdings_positive(&state, &mut report);
    check_surrenders_match_compliance(&state, &mut report);
    check_cash_and_reservations(&state, &mut report);
    report.classes = state.ledger().class_totals();
    Ok(report)
}

fn check_holdings_positive(state: &RegistryState, report: &mut AuditReport) {
    for (_, account) in state.ledger().accounts() {
        for (class, holding) in account.holdings() {
            if holding.quantity() == 0 {
                let class = &state.ledger().class(class).class;
                report.find(format!(
                    "account {} keeps an empty holding of {class}",
                    account.spec.id
                ));
            }
        }
    }
}

/// Units in surrender accounts must equal the net surrendered recorded for compliance, per
/// obligation's unit types: the same fact reached by two paths.
fn check_surrenders_match_compliance(state: &RegistryState, report: &mut AuditReport) {
    let config = state.config();
    for (ob_index, ob) in config.compliance.obligations.iter().enumerate() {
        let in_accounts: u64 = state
            .ledger()
            .accounts()
            .filter(|(_, a)| a.spec.kind == AccountKind::Surrender)
            .flat_map(|(_, a)| {
                a.holdings()
                    .map(|(c, h)| (c, h.quantity()))
                    .collect::<Vec<_>>()
            })
            .filter(|(c, _)| {
                ob.surrender_unit_types
                    .contains(&state.ledger().class(*c).class.unit_type)
            })
            .map(|(_, q)| q)
            .sum();
        let recorded: u64 = state
            .compliance()
            .years()
            .filter(|(k, _)| k.obligation as usize == ob_index)
            .map(|(_, y)| y.surrendered)
            .sum();
        if in_accounts != recorded {
            report.find(format!(
                "obligation {}: surrender accounts hold {in_accounts} units but compliance records {recorded} surrendered",
                ob.code
            ));
        }
    }
}

/// Cash is conserved (deposits - withdrawals = balances + fees), the cash each account has
/// reserved equals what its open buy orders need, and no account has reserved more units for sell
/// orders than it holds.
fn check_cash_and_reservations(state: &RegistryState, report: &mut AuditReport) {
    for finding in state.cash().audit() {
        report.find(finding);
    }
    let by_orders = state.reserved_cash_by_account();
    for (no, account) in state.ledger().accounts() {
        let reserved = state.cash().balance(no).reserved;
        let expected = by_orders.get(&no).copied().unwrap_or(0);
        if reserved != expected {
            report.find(format!(
                "account {}: {reserved} cash reserved but its open buy orders and bid guarantees need {expected}",
                account.spec.id
            ));
        }
    }
    for ((no, class), reserved) in &state.exchange().reserved_units {
        let held = state.ledger().quantity(*no, class);
        if *reserved > held {
            report.find(format!(
                "account {}: {reserved} units of {class} reserved for sell orders but {held} held",
                state.ledger().account(*no).spec.id
            ));
        }
    }
}
