//! The EU registry security controls inside the registry (EU Reg. 2019/1122 Art. 23, 35-39, as
//! summarised in the project brief "Security after the 2010-11 registry thefts"):
//!
//! - four eyes: a holder's transfer is proposed by one representative and approved by another
//!   (`propose_transfer`, `approve_transfer`; RuleCode `FourEyes`);
//! - delayed execution: the approved transfer executes at `yrd_security::SecurityConfig::
//!   execution_time` - immediately, or at a later time when `execute_due_transfers` runs it; the
//!   units stay reserved meanwhile and either representative may cancel it;
//! - trusted account lists: additions take effect `trusted_activation_working_days` after their
//!   approval, removals at once; operator holding accounts may transfer only to trusted accounts;
//!   a transfer to an untrusted account may move at most `untrusted_transfer_limit` units;
//! - suspension of an account (no units or cash in or out, no orders, bids or surrenders) or of a
//!   process of a jurisdiction (transfers, trading, auctions, issuance, surrender).
//!
//! Times (`at`) are registry local time and come in the command: nothing here reads a clock. The
//! security clock (the latest `at` applied) never runs back.
//!
//! ```text
//! propose_transfer -> AwaitingApproval (units reserved)
//!   approve_transfer (other person) -> executed now | Scheduled{execute_at}
//!     execute_due_transfers(at >= execute_at) -> Executed | Failed{reason} (reservation released)
//!   cancel_transfer -> Cancelled (reservation released)
//! ```

use crate::command::{Command, Effect};
use crate::rules::{RuleCode, Violation};
use crate::state::RegistryState;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use yrd_ledger::AccountNo;
use yrd_security::SecurityConfig;
use yrd_types::{AccountId, AccountKind, JurisdictionCode, OrderRef, UnitClass};

/// The most scheduled transfers one `execute_due_transfers` runs; the rest wait for the next one
/// (the server submits it every minute), in the same (execute_at, id) order.
pub const MAX_DUE_PER_COMMAND: usize = 1_000;

/// A registry process that an administrator can suspend for one jurisdiction (EU Reg. 2019/1122
/// Art. 30(1): access to processes; brief: "administrators can suspend ... a whole process").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    /// `transfer`, `propose_transfer`, `approve_transfer` and the execution of scheduled
    /// transfers, when the sender or the receiver is in the jurisdiction.
    Transfers,
    /// `place_order`, `amend_order`, block trades and call-market steps of the jurisdiction's
    /// accounts (cancelling and reducing orders stay possible).
    Trading,
    /// `create_auction` and `clear_auction` of the jurisdiction's allowances, and bids by its
    /// accounts or for its allowances.
    Auctions,
    /// `issue` and free `allocate` by the jurisdiction.
    Issuance,
    /// `surrender` by the jurisdiction's installations.
    Surrender,
}

impl Process {
    /// The snake_case name, e.g. `transfers`.
    pub fn as_str(self) -> &'static str {
        match self {
            Process::Transfers => "transfers",
            Process::Trading => "trading",
            Process::Auctions => "auctions",
            Process::Issuance => "issuance",
            Process::Surrender => "surrender",
        }
    }
}

/// Where a proposed transfer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TransferStatus {
    /// Initiated; a second representative must approve it.
    AwaitingApproval,
    /// Approved; executes at `execute_at` (delayed execution, Art. 35(2)-(3)).
    Scheduled {
        /// When.
        execute_at: NaiveDateTime,
    },
    /// Executed.
    Executed {
        /// When.
        at: NaiveDateTime,
    },
    /// Cancelled before execution.
    Cancelled {
        /// Who cancelled.
        by: String,
        /// When.
        at: NaiveDateTime,
    },
    /// Due but refused when it was to execute (an account suspended or closed, a rule broken).
    Failed {
        /// The rules it broke.
        reason: String,
        /// When.
        at: NaiveDateTime,
    },
}

impl TransferStatus {
    /// The status name, e.g. `awaiting_approval`.
    pub fn name(&self) -> &'static str {
        match self {
            TransferStatus::AwaitingApproval => "awaiting_approval",
            TransferStatus::Scheduled { .. } => "scheduled",
            TransferStatus::Executed { .. } => "executed",
            TransferStatus::Cancelled { .. } => "cancelled",
            TransferStatus::Failed { .. } => "failed",
        }
    }

    fn holds_reservation(&self) -> bool {
        matches!(
            self,
            TransferStatus::AwaitingApproval | TransferStatus::Scheduled { .. }
        )
    }
}

/// A holder's transfer under the four-eyes and delayed-execution rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransfer {
    /// Sequence number of the proposing transaction (orders the reports, newest first).
    pub proposed_seq: u64,
    /// Sender.
    pub from: AccountNo,
    /// Receiver.
    pub to: AccountNo,
    /// Units of this class.
    pub class: UnitClass,
    /// How many (reserved in `from` while pending).
    pub quantity: u64,
    /// Representative who initiated it.
    pub initiator: String,
    /// When.
    pub proposed_at: NaiveDateTime,
    /// Representative who approved it.
    pub approver: Option<String>,
    /// When.
    pub approved_at: Option<NaiveDateTime>,
    /// When it executes (once approved).
    pub execute_at: Option<NaiveDateTime>,
    /// Status.
    pub status: TransferStatus,
}

/// One entry of an account's trusted account list (Art. 23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedEntry {
    /// Representative who proposed the addition.
    pub initiator: String,
    /// When.
    pub proposed_at: NaiveDateTime,
    /// Representative who approved it.
    pub approver: Option<String>,
    /// From when the account is trusted (approval + the activation delay).
    pub active_from: Option<NaiveDateTime>,
}

impl TrustedEntry {
    /// True when active at `at`.
    pub fn active_at(&self, at: NaiveDateTime) -> bool {
        self.active_from.is_some_and(|t| t <= at)
    }
}

/// The registry's security records.
#[derive(Debug, Clone)]
pub struct Security {
    pub(crate) config: SecurityConfig,
    pub(crate) transfers: BTreeMap<OrderRef, PendingTransfer>,
    /// (account, trusted account) -> entry.
    pub(crate) trusted: BTreeMap<(AccountNo, AccountNo), TrustedEntry>,
    /// Suspended accounts and why.
    pub(crate) suspended_accounts: BTreeMap<AccountNo, String>,
    pub(crate) suspended_processes: BTreeSet<(JurisdictionCode, Process)>,
    /// The latest `at` applied: the security clock, which never runs back.
    pub(crate) clock: Option<NaiveDateTime>,
}

impl Security {
    pub(crate) fn new(config: SecurityConfig) -> Self {
        Security {
            config,
            transfers: BTreeMap::new(),
            trusted: BTreeMap::new(),
            suspended_accounts: BTreeMap::new(),
            suspended_processes: BTreeSet::new(),
            clock: None,
        }
    }

    /// The timetable and limits in force.
    pub fn config(&self) -> &SecurityConfig {
        &self.config
    }

    /// The latest `at` of a security command applied, if any: the registry's security "now".
    pub fn clock(&self) -> Option<NaiveDateTime> {
        self.clock
    }

    /// The earliest `execute_at` of a scheduled transfer, if any: the server may skip
    /// `execute_due_transfers` (and its journal entry) while this lies in the future.
    pub fn next_due(&self) -> Option<NaiveDateTime> {
        self.transfers
            .values()
            .filter_map(|t| match t.status {
                TransferStatus::Scheduled { execute_at } => Some(execute_at),
                _ => None,
            })
            .min()
    }

    /// A transfer by id.
    pub fn transfer(&self, id: &OrderRef) -> Option<&PendingTransfer> {
        self.transfers.get(id)
    }

    /// Every transfer, by id.
    pub fn transfers(&self) -> impl Iterator<Item = (&OrderRef, &PendingTransfer)> {
        self.transfers.iter()
    }

    /// The trusted-list entries of `account`, by trusted account.
    pub fn trusted_entries(
        &self,
        account: AccountNo,
    ) -> impl Iterator<Item = (AccountNo, &TrustedEntry)> {
        self.trusted
            .range((account, AccountNo(0))..=(account, AccountNo(u32::MAX)))
            .map(|((_, t), e)| (*t, e))
    }

    /// True when `to` is on `from`'s trusted list and active at `at`.
    pub fn is_trusted(&self, from: AccountNo, to: AccountNo, at: NaiveDateTime) -> bool {
        self.trusted
            .get(&(from, to))
            .is_some_and(|e| e.active_at(at))
    }

    /// Why the account is suspended, if it is.
    pub fn account_suspension(&self, account: AccountNo) -> Option<&str> {
        self.suspended_accounts.get(&account).map(String::as_str)
    }

    /// Suspended accounts with their reasons.
    pub fn suspended_accounts(&self) -> impl Iterator<Item = (AccountNo, &str)> {
        self.suspended_accounts
            .iter()
            .map(|(a, r)| (*a, r.as_str()))
    }

    /// True when `process` is suspended in `jurisdiction`.
    pub fn process_suspended(&self, jurisdiction: &JurisdictionCode, process: Process) -> bool {
        self.suspended_processes
            .contains(&(jurisdiction.clone(), process))
    }

    /// Suspended processes, in order.
    pub fn suspended_processes(&self) -> impl Iterator<Item = &(JurisdictionCode, Process)> {
        self.suspended_processes.iter()
    }

    /// Feeds the security records into the state hash, in a fixed order.
    pub(crate) fn hash_into(&self, h: &mut impl sha2::Digest) {
        h.update(
            serde_json::to_string(&self.clock)
                .expect("times serialise")
                .as_bytes(),
        );
        for (id, t) in &self.transfers {
            h.update(id.as_str().as_bytes());
            h.update(t.proposed_seq.to_be_bytes());
            h.update(t.from.0.to_be_bytes());
            h.update(t.to.0.to_be_bytes());
            h.update(t.class.to_string().as_bytes());
            h.update(t.quantity.to_be_bytes());
            let rest = (
                &t.initiator,
                t.proposed_at,
                &t.approver,
                t.approved_at,
                t.execute_at,
                &t.status,
            );
            h.update(
                serde_json::to_string(&rest)
                    .expect("records serialise")
                    .as_bytes(),
            );
        }
        for ((a, t), e) in &self.trusted {
            h.update(a.0.to_be_bytes());
            h.update(t.0.to_be_bytes());
            let rest = (&e.initiator, e.proposed_at, &e.approver, e.active_from);
            h.update(
                serde_json::to_string(&rest)
                    .expect("records serialise")
                    .as_bytes(),
            );
        }
        for (a, reason) in &self.suspended_accounts {
            h.update(a.0.to_be_bytes());
            h.update(reason.as_bytes());
        }
        for (j, p) in &self.suspended_processes {
            h.update(j.as_str().as_bytes());
            h.update(p.as_str().as_bytes());
        }
    }
}

type Checked<T> = Result<T, Violation>;

fn fail(code: RuleCode, field: &'static str, message: impl Into<String>) -> Violation {
    Violation::new(code, field, message)
}

/// A user reference (the signed-in username): not empty. Length and control characters are
/// checked with every name (`MAX_NAME_CHARS`).
fn user(name: &str, field: &'static str) -> Checked<()> {
    if name.trim().is_empty() {
        return Err(fail(
            RuleCode::InvalidField,
            field,
            "must name the representative",
        ));
    }
    Ok(())
}

/// The terms of a transfer proposal.
pub(crate) struct Proposal<'a> {
    pub transfer: &'a OrderRef,
    pub from: &'a AccountId,
    pub to: &'a AccountId,
    pub class: &'a UnitClass,
    pub quantity: u64,
    pub initiator: &'a str,
    pub at: NaiveDateTime,
}

impl RegistryState {
    /// The security records.
    pub fn security(&self) -> &Security {
        &self.security
    }

    /// The security clock never runs back: `at` must not be before the latest `at` applied.
    pub(crate) fn check_security_clock(&self, at: NaiveDateTime) -> Checked<()> {
        if let Some(last) = self.security.clock
            && at < last
        {
            return Err(fail(
                RuleCode::DateBeforeLast,
                "at",
                format!("security commands are recorded in time order: {at} is before {last}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn advance_security_clock(&mut self, at: NaiveDateTime) {
        self.security.clock = Some(self.security.clock.map_or(at, |c| c.max(at)));
    }

    /// The one suspension check of every entry point: refuses when the account is suspended
    /// (EU Reg. 2019/1122 Art. 30: suspension of access to accounts). `what` names the act.
    pub(crate) fn check_not_suspended(
        &self,
        account: AccountNo,
        field: &'static str,
        what: &str,
    ) -> Checked<()> {
        if let Some(reason) = self.security.account_suspension(account) {
            let id = &self.ledger().account(account).spec.id;
            return Err(fail(
                RuleCode::AccountSuspended,
                field,
                format!("account {id} is suspended ({reason}): it may not {what}"),
            ));
        }
        Ok(())
    }

    /// Refuses when `process` is suspended in `jurisdiction`.
    pub(crate) fn check_process(
        &self,
        jurisdiction: &JurisdictionCode,
        process: Process,
        field: &'static str,
    ) -> Checked<()> {
        if self.security.process_suspended(jurisdiction, process) {
            return Err(fail(
                RuleCode::ProcessSuspended,
                field,
                format!(
                    "the {} process of {jurisdiction} is suspended",
                    process.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Suspension checks of a transfer between two accounts: neither suspended, the transfers
    /// process of neither's jurisdiction suspended.
    pub(crate) fn check_transfer_allowed_now(&self, from: AccountNo, to: AccountNo) -> Checked<()> {
        self.check_not_suspended(from, "from", "send units")?;
        self.check_not_suspended(to, "to", "receive units")?;
        let fj = &self.ledger().account(from).spec.jurisdiction;
        self.check_process(fj, Process::Transfers, "from")?;
        let tj = &self.ledger().account(to).spec.jurisdiction;
        self.check_process(tj, Process::Transfers, "to")
    }

    /// The trusted-list rules at `at`: an operator holding account sends only to trusted
    /// accounts; to an untrusted account at most `untrusted_transfer_limit` units. Returns
    /// whether `to` is trusted.
    fn check_trust_rules(
        &self,
        from: AccountNo,
        to: AccountNo,
        quantity: u64,
        at: NaiveDateTime,
    ) -> Checked<bool> {
        let trusted = self.security.is_trusted(from, to, at);
        if trusted {
            return Ok(true);
        }
        let (f, t) = (
            &self.ledger().account(from).spec,
            &self.ledger().account(to).spec,
        );
        if f.kind == AccountKind::OperatorHolding {
            return Err(fail(
                RuleCode::NotTrusted,
                "to",
                format!(
                    "operator holding account {} may transfer only to accounts on its trusted list; {} is not (active) on it at {at}",
                    f.id, t.id
                ),
            ));
        }
        let limit = self.security.config.untrusted_transfer_limit;
        if quantity > limit {
            return Err(fail(
                RuleCode::TransferLimitExceeded,
                "quantity",
                format!(
                    "{quantity} units exceed the limit of {limit} per transfer to an account not on {}'s trusted list ({})",
                    f.id, t.id
                ),
            ));
        }
        Ok(false)
    }

    pub(crate) fn propose_transfer(
        &mut self,
        p: &Proposal<'_>,
        seq: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let mut v = Vec::new();
        let _ = self.check_security_clock(p.at).map_err(|e| v.push(e));
        if self.security.transfers.contains_key(p.transfer) {
            v.push(fail(
                RuleCode::DuplicateTransfer,
                "transfer",
                format!("transfer {} was proposed before", p.transfer),
            ));
        }
        let _ = user(p.initiator, "initiator").map_err(|e| v.push(e));
        let from = self
            .open_account_no_pub(p.from, "from")
            .map_err(|e| v.push(e))
            .ok();
        let to = self
            .open_account_no_pub(p.to, "to")
            .map_err(|e| v.push(e))
            .ok();
        let _ = self.class_pub(p.class, "class").map_err(|e| v.push(e));
        if p.quantity == 0 {
            v.push(fail(
                RuleCode::ZeroQuantity,
                "quantity",
                "quantity must be positive",
            ));
        }
        if p.from == p.to {
            v.push(fail(
                RuleCode::InvalidField,
                "to",
                format!("sender and receiver are the same account {}", p.from),
            ));
        }
        if let (Some(f), Some(t)) = (from, to)
            && v.is_empty()
        {
            let _ = self.check_transfer_allowed_now(f, t).map_err(|e| v.push(e));
            let (fk, tk) = (
                self.ledger().account(f).spec.kind,
                self.ledger().account(t).spec.kind,
            );
            if !crate::state::transfer_permitted(fk, tk) {
                v.push(fail(
                    RuleCode::TransferNotPermitted,
                    "to",
                    format!("a transfer may not move units from an account of kind {fk} to one of kind {tk}"),
                ));
            }
            let _ = self
                .may_receive_pub(t, p.class, "to")
                .map_err(|e| v.push(e));
            let _ = self
                .check_trust_rules(f, t, p.quantity, p.at)
                .map_err(|e| v.push(e));
            let free = self.free_units(f, p.class);
            if free < p.quantity {
                v.push(fail(
                    RuleCode::InsufficientHoldings,
                    "quantity",
                    format!(
                        "account {} has {free} units of {} not reserved; {} requested",
                        p.from, p.class, p.quantity
                    ),
                ));
            }
        }
        if !v.is_empty() {
            return Err(v);
        }
        let (f, t) = (from.expect("checked"), to.expect("checked"));
        self.exchange_mut().reserve_units(f, p.class, p.quantity);
        self.security.transfers.insert(
            p.transfer.clone(),
            PendingTransfer {
                proposed_seq: seq,
                from: f,
                to: t,
                class: p.class.clone(),
                quantity: p.quantity,
                initiator: p.initiator.to_string(),
                proposed_at: p.at,
                approver: None,
                approved_at: None,
                execute_at: None,
                status: TransferStatus::AwaitingApproval,
            },
        );
        self.advance_security_clock(p.at);
        Ok(vec![Effect::TransferProposed {
            transfer: p.transfer.clone(),
            from: p.from.clone(),
            to: p.to.clone(),
            class: p.class.clone(),
            quantity: p.quantity,
        }])
    }

    fn pending(&self, transfer: &OrderRef) -> Checked<&PendingTransfer> {
        self.security.transfers.get(transfer).ok_or_else(|| {
            fail(
                RuleCode::UnknownTransfer,
                "transfer",
                format!("no transfer {transfer}"),
            )
        })
    }

    pub(crate) fn approve_transfer(
        &mut self,
        transfer: &OrderRef,
        approver: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        self.check_security_clock(at).map_err(one)?;
        user(approver, "approver").map_err(one)?;
        let t = self.pending(transfer).map_err(one)?.clone();
        if t.status != TransferStatus::AwaitingApproval {
            return Err(one(fail(
                RuleCode::TransferNotPending,
                "transfer",
                format!(
                    "transfer {transfer} is {}, not awaiting approval",
                    t.status.name()
                ),
            )));
        }
        if t.initiator == approver {
            return Err(one(fail(
                RuleCode::FourEyes,
                "approver",
                format!(
                    "{approver} initiated transfer {transfer}; a different representative must approve it"
                ),
            )));
        }
        self.check_transfer_allowed_now(t.from, t.to).map_err(one)?;
        let trusted = self
            .check_trust_rules(t.from, t.to, t.quantity, at)
            .map_err(one)?;
        let execute_at = self
            .security
            .config
            .execution_time(trusted, at)
            .ok_or_else(|| {
                one(fail(
                    RuleCode::InvalidField,
                    "at",
                    format!("no working day follows {at} in the security calendar"),
                ))
            })?;
        let mut effects = vec![Effect::TransferApproved {
            transfer: transfer.clone(),
            execute_at,
        }];
        if execute_at <= at {
            // Immediate: through the transfer path, in this transaction; a refusal there refuses
            // the approval and restores the reservation.
            self.exchange_mut()
                .release_units(t.from, &t.class, t.quantity);
            match self.execute_transfer_now(&t) {
                Ok(moved) => {
                    effects.push(Effect::TransferExecuted {
                        transfer: transfer.clone(),
                        at,
                    });
                    effects.extend(moved);
                }
                Err(v) => {
                    self.exchange_mut()
                        .reserve_units(t.from, &t.class, t.quantity);
                    return Err(v);
                }
            }
        }
        let record = self
            .security
            .transfers
            .get_mut(transfer)
            .expect("found above");
        record.approver = Some(approver.to_string());
        record.approved_at = Some(at);
        record.execute_at = Some(execute_at);
        record.status = if execute_at <= at {
            TransferStatus::Executed { at }
        } else {
            TransferStatus::Scheduled { execute_at }
        };
        self.advance_security_clock(at);
        Ok(effects)
    }

    /// Runs a pending transfer through the transfer path of `Command::Transfer` (cross-regional
    /// rules, ratios, serials) after the suspension checks. The caller released its reservation.
    fn execute_transfer_now(&mut self, t: &PendingTransfer) -> Result<Vec<Effect>, Vec<Violation>> {
        let from = self.ledger().account(t.from).spec.id.clone();
        let to = self.ledger().account(t.to).spec.id.clone();
        if let Err(v) = self.check_transfer_allowed_now(t.from, t.to) {
            return Err(vec![v]);
        }
        self.transfer_pub(&from, &to, &t.class, t.quantity)
    }

    pub(crate) fn cancel_transfer(
        &mut self,
        transfer: &OrderRef,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        self.check_security_clock(at).map_err(one)?;
        user(by, "by").map_err(one)?;
        let t = self.pending(transfer).map_err(one)?.clone();
        if !t.status.holds_reservation() {
            return Err(one(fail(
                RuleCode::TransferNotPending,
                "transfer",
                format!(
                    "transfer {transfer} is {}; only a transfer awaiting approval or scheduled can be cancelled",
                    t.status.name()
                ),
            )));
        }
        self.exchange_mut()
            .release_units(t.from, &t.class, t.quantity);
        self.security
            .transfers
            .get_mut(transfer)
            .expect("found above")
            .status = TransferStatus::Cancelled {
            by: by.to_string(),
            at,
        };
        self.advance_security_clock(at);
        Ok(vec![Effect::TransferCancelled {
            transfer: transfer.clone(),
            by: by.to_string(),
        }])
    }

    pub(crate) fn execute_due_transfers(
        &mut self,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        self.check_security_clock(at).map_err(|v| vec![v])?;
        let mut due: Vec<(NaiveDateTime, OrderRef)> = self
            .security
            .transfers
            .iter()
            .filter_map(|(id, t)| match t.status {
                TransferStatus::Scheduled { execute_at } if execute_at <= at => {
                    Some((execute_at, id.clone()))
                }
                _ => None,
            })
            .collect();
        due.sort();
        due.truncate(MAX_DUE_PER_COMMAND);
        let mut effects = Vec::new();
        for (_, id) in due {
            let t = self.security.transfers[&id].clone();
            self.exchange_mut()
                .release_units(t.from, &t.class, t.quantity);
            let status = match self.execute_transfer_now(&t) {
                Ok(moved) => {
                    effects.push(Effect::TransferExecuted {
                        transfer: id.clone(),
                        at,
                    });
                    effects.extend(moved);
                    TransferStatus::Executed { at }
                }
                Err(violations) => {
                    let reason = violations
                        .iter()
                        .map(|v| format!("[{}] {}", v.code, v.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    effects.push(Effect::TransferFailed {
                        transfer: id.clone(),
                        reason: reason.clone(),
                    });
                    TransferStatus::Failed { reason, at }
                }
            };
            self.security
                .transfers
                .get_mut(&id)
                .expect("listed above")
                .status = status;
        }
        self.advance_security_clock(at);
        Ok(effects)
    }

    pub(crate) fn propose_trusted_account(
        &mut self,
        account: &AccountId,
        trusted: &AccountId,
        initiator: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let (a, t) = self.trusted_pair(account, trusted, at)?;
        user(initiator, "initiator").map_err(|v| vec![v])?;
        if let Some(e) = self.security.trusted.get(&(a, t)) {
            let state = if e.approver.is_none() {
                "pending approval"
            } else {
                "approved"
            };
            return Err(vec![fail(
                RuleCode::TrustedListRule,
                "trusted",
                format!("{trusted} is already on {account}'s trusted list ({state})"),
            )]);
        }
        self.security.trusted.insert(
            (a, t),
            TrustedEntry {
                initiator: initiator.to_string(),
                proposed_at: at,
                approver: None,
                active_from: None,
            },
        );
        self.advance_security_clock(at);
        Ok(vec![Effect::TrustedAccountProposed {
            account: account.clone(),
            trusted: trusted.clone(),
        }])
    }

    /// Both accounts exist, differ, and the clock runs forward. The trusted account may be of
    /// any kind and need not be open (a list may name an account that closes later).
    fn trusted_pair(
        &self,
        account: &AccountId,
        trusted: &AccountId,
        at: NaiveDateTime,
    ) -> Result<(AccountNo, AccountNo), Vec<Violation>> {
        let mut v = Vec::new();
        let _ = self.check_security_clock(at).map_err(|e| v.push(e));
        let a = self
            .open_account_no_pub(account, "account")
            .map_err(|e| v.push(e))
            .ok();
        let t = self.ledger().find(trusted);
        if t.is_none() {
            v.push(fail(
                RuleCode::UnknownAccount,
                "trusted",
                format!("no account {trusted}"),
            ));
        }
        if account == trusted {
            v.push(fail(
                RuleCode::TrustedListRule,
                "trusted",
                format!("account {account} cannot trust itself"),
            ));
        }
        match (a, t) {
            (Some(a), Some(t)) if v.is_empty() => Ok((a, t)),
            _ => Err(v),
        }
    }

    pub(crate) fn approve_trusted_account(
        &mut self,
        account: &AccountId,
        trusted: &AccountId,
        approver: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let (a, t) = self.trusted_pair(account, trusted, at)?;
        user(approver, "approver").map_err(one)?;
        let entry = self.security.trusted.get(&(a, t)).ok_or_else(|| {
            one(fail(
                RuleCode::TrustedListRule,
                "trusted",
                format!("no proposed addition of {trusted} to {account}'s trusted list"),
            ))
        })?;
        if entry.approver.is_some() {
            return Err(one(fail(
                RuleCode::TrustedListRule,
                "trusted",
                format!(
                    "the addition of {trusted} to {account}'s trusted list is already approved"
                ),
            )));
        }
        if entry.initiator == approver {
            return Err(one(fail(
                RuleCode::FourEyes,
                "approver",
                format!(
                    "{approver} proposed adding {trusted} to {account}'s trusted list; a different representative must approve it"
                ),
            )));
        }
        let active_from = self.security.config.trusted_activation(at).ok_or_else(|| {
            one(fail(
                RuleCode::InvalidField,
                "at",
                format!("no working day follows {at} in the security calendar"),
            ))
        })?;
        let entry = self.security.trusted.get_mut(&(a, t)).expect("found above");
        entry.approver = Some(approver.to_string());
        entry.active_from = Some(active_from);
        self.advance_security_clock(at);
        Ok(vec![Effect::TrustedAccountApproved {
            account: account.clone(),
            trusted: trusted.clone(),
            active_from,
        }])
    }

    pub(crate) fn remove_trusted_account(
        &mut self,
        account: &AccountId,
        trusted: &AccountId,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let (a, t) = self.trusted_pair(account, trusted, at)?;
        user(by, "by").map_err(|v| vec![v])?;
        if self.security.trusted.remove(&(a, t)).is_none() {
            return Err(vec![fail(
                RuleCode::TrustedListRule,
                "trusted",
                format!("{trusted} is not on {account}'s trusted list"),
            )]);
        }
        self.advance_security_clock(at);
        Ok(vec![Effect::TrustedAccountRemoved {
            account: account.clone(),
            trusted: trusted.clone(),
            by: by.to_string(),
        }])
    }

    pub(crate) fn set_account_suspended(
        &mut self,
        account: &AccountId,
        suspended: bool,
        reason: &str,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let no = self.ledger().find(account).ok_or_else(|| {
            one(fail(
                RuleCode::UnknownAccount,
                "account",
                format!("no account {account}"),
            ))
        })?;
        if suspended && reason.trim().is_empty() {
            return Err(one(fail(
                RuleCode::InvalidField,
                "reason",
                "a suspension must state its reason",
            )));
        }
        let is = self.security.suspended_accounts.contains_key(&no);
        if is == suspended {
            return Err(one(fail(
                RuleCode::InvalidField,
                "suspended",
                format!(
                    "account {account} is already {}",
                    if is { "suspended" } else { "not suspended" }
                ),
            )));
        }
        if suspended {
            self.security
                .suspended_accounts
                .insert(no, reason.to_string());
        } else {
            self.security.suspended_accounts.remove(&no);
        }
        Ok(vec![Effect::AccountSuspended {
            account: account.clone(),
            suspended,
        }])
    }

    pub(crate) fn set_process_suspended(
        &mut self,
        jurisdiction: &JurisdictionCode,
        process: Process,
        suspended: bool,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        if self.config().jurisdiction(jurisdiction).is_none() {
            return Err(vec![fail(
                RuleCode::UnknownJurisdiction,
                "jurisdiction",
                format!("jurisdiction {jurisdiction} is not configured"),
            )]);
        }
        let key = (jurisdiction.clone(), process);
        let is = self.security.suspended_processes.contains(&key);
        if is == suspended {
            return Err(vec![fail(
                RuleCode::InvalidField,
                "suspended",
                format!(
                    "the {} process of {jurisdiction} is already {}",
                    process.as_str(),
                    if is { "suspended" } else { "running" }
                ),
            )]);
        }
        if suspended {
            self.security.suspended_processes.insert(key);
        } else {
            self.security.suspended_processes.remove(&key);
        }
        Ok(vec![Effect::ProcessSuspended {
            jurisdiction: jurisdiction.clone(),
            process,
            suspended,
        }])
    }
}

impl RegistryState {
    /// The suspension checks of every entry point, run before a command's own checks: a
    /// suspended account may not send or receive units or cash, place orders or block trades,
    /// submit call-market steps, bid or surrender; a suspended process refuses the commands of
    /// its jurisdiction (see [`Process`]). Unknown accounts are left to the command's own checks.
    /// Cancelling orders, withdrawing bids, reversals and administrative commands stay possible.
    pub(crate) fn entry_checks(&self, command: &Command) -> Vec<Violation> {
        let mut v = Vec::new();
        let account = |id: &AccountId,
                       field: &'static str,
                       what: &str,
                       process: Option<Process>|
         -> Vec<Violation> {
            let Some(no) = self.ledger().find(id) else {
                return Vec::new();
            };
            let jurisdiction = &self.ledger().account(no).spec.jurisdiction;
            let suspended = self.check_not_suspended(no, field, what).err();
            let stopped = process.and_then(|p| self.check_process(jurisdiction, p, field).err());
            suspended.into_iter().chain(stopped).collect()
        };
        match command {
            Command::Transfer { from, to, .. } | Command::ProposeTransfer { from, to, .. } => {
                v.extend(account(
                    from,
                    "from",
                    "send units",
                    Some(Process::Transfers),
                ));
                v.extend(account(to, "to", "receive units", Some(Process::Transfers)));
            }
            Command::Cancel { from, .. } => v.extend(account(from, "from", "send units", None)),
            Command::Deposit { account: a, .. } => {
                v.extend(account(a, "account", "receive cash", None))
            }
            Command::Withdraw { account: a, .. } => {
                v.extend(account(a, "account", "send cash", None))
            }
            Command::PlaceOrder { account: a, .. } | Command::AmendOrder { account: a, .. } => {
                v.extend(account(a, "account", "trade", Some(Process::Trading)))
            }
            Command::ProposeBlockTrade { seller, buyer, .. } => {
                v.extend(account(seller, "seller", "trade", Some(Process::Trading)));
                v.extend(account(buyer, "buyer", "trade", Some(Process::Trading)));
            }
            Command::ConfirmBlockTrade { account: a, .. } => {
                v.extend(account(a, "account", "trade", Some(Process::Trading)))
            }
            Command::SubmitCallStep { account: a, .. } => {
                v.extend(account(a, "account", "trade", Some(Process::Trading)))
            }
            Command::SubmitBid {
                auction,
                account: a,
                ..
            } => {
                v.extend(account(a, "account", "bid", Some(Process::Auctions)));
                if let Some(x) = self.auctions().get(auction)
                    && let Err(e) =
                        self.check_process(&x.class().jurisdiction, Process::Auctions, "auction")
                {
                    v.push(e);
                }
            }
            Command::CreateAuction { class, .. } => {
                if let Err(e) = self.check_process(&class.jurisdiction, Process::Auctions, "class")
                {
                    v.push(e);
                }
            }
            Command::ClearAuction { auction } => {
                if let Some(x) = self.auctions().get(auction)
                    && let Err(e) =
                        self.check_process(&x.class().jurisdiction, Process::Auctions, "auction")
                {
                    v.push(e);
                }
            }
            Command::Issue { jurisdiction, .. } => {
                if let Err(e) = self.check_process(jurisdiction, Process::Issuance, "jurisdiction")
                {
                    v.push(e);
                }
            }
            Command::Allocate { installation, .. } => {
                if let Some(no) = self.compliance().find(installation) {
                    let inst = self.compliance().installation(no);
                    v.extend(account(
                        &inst.account,
                        "installation",
                        "receive units",
                        Some(Process::Issuance),
                    ));
                }
            }
            Command::Surrender { account: a, .. } => {
                v.extend(account(a, "account", "surrender", Some(Process::Surrender)))
            }
            _ => {}
        }
        v
    }
}

// ---- reports (read models for the HTTP API) ----

/// One transfer under the security controls, for `pending_transfers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRow {
    /// Transfer id.
    pub transfer: OrderRef,
    /// Sender.
    pub from: AccountId,
    /// Receiver.
    pub to: AccountId,
    /// Class.
    pub class: UnitClass,
    /// Units.
    pub quantity: u64,
    /// Initiating representative.
    pub initiator: String,
    /// When proposed (registry local time).
    pub proposed_at: NaiveDateTime,
    /// Approving representative.
    pub approver: Option<String>,
    /// When approved.
    pub approved_at: Option<NaiveDateTime>,
    /// When it executes / executed (once approved).
    pub execute_at: Option<NaiveDateTime>,
    /// `awaiting_approval`, `scheduled`, `executed`, `cancelled`, `failed`.
    pub status: &'static str,
    /// Why it failed, or who cancelled it.
    pub reason: Option<String>,
}

/// Every transfer under the security controls (all statuses), newest proposal first; only those
/// sent or received by `account` when given.
pub fn pending_transfers(state: &RegistryState, account: Option<&AccountId>) -> Vec<TransferRow> {
    let ledger = state.ledger();
    let filter = account.map(|a| ledger.find(a));
    if filter == Some(None) {
        return Vec::new();
    }
    let mut rows: Vec<(u64, TransferRow)> = state
        .security()
        .transfers()
        .filter(|(_, t)| filter.flatten().is_none_or(|a| t.from == a || t.to == a))
        .map(|(id, t)| {
            let reason = match &t.status {
                TransferStatus::Failed { reason, .. } => Some(reason.clone()),
                TransferStatus::Cancelled { by, .. } => Some(format!("cancelled by {by}")),
                _ => None,
            };
            let row = TransferRow {
                transfer: id.clone(),
                from: ledger.account(t.from).spec.id.clone(),
                to: ledger.account(t.to).spec.id.clone(),
                class: t.class.clone(),
                quantity: t.quantity,
                initiator: t.initiator.clone(),
                proposed_at: t.proposed_at,
                approver: t.approver.clone(),
                approved_at: t.approved_at,
                execute_at: t.execute_at,
                status: t.status.name(),
                reason,
            };
            (t.proposed_seq, row)
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// One entry of a trusted account list, for `trusted_accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedRow {
    /// The trusted account.
    pub trusted: AccountId,
    /// `pending_approval`, `pending_activation` or `active`, judged at the security clock (the
    /// latest `at` applied; the server runs `execute_due_transfers` every minute).
    pub status: &'static str,
    /// Proposing representative.
    pub initiator: String,
    /// Approving representative.
    pub approver: Option<String>,
    /// From when it is trusted.
    pub active_from: Option<NaiveDateTime>,
}

/// The trusted account list of `account`, by trusted account id; `None` for an unknown account.
pub fn trusted_accounts(state: &RegistryState, account: &AccountId) -> Option<Vec<TrustedRow>> {
    let ledger = state.ledger();
    let no = ledger.find(account)?;
    let now = state.security().clock();
    let mut rows: Vec<TrustedRow> = state
        .security()
        .trusted_entries(no)
        .map(|(t, e)| TrustedRow {
            trusted: ledger.account(t).spec.id.clone(),
            status: match (e.active_from, now) {
                (None, _) => "pending_approval",
                (Some(from), Some(now)) if from <= now => "active",
                _ => "pending_activation",
            },
            initiator: e.initiator.clone(),
            approver: e.approver.clone(),
            active_from: e.active_from,
        })
        .collect();
    rows.sort_by(|a, b| a.trusted.cmp(&b.trusted));
    Some(rows)
}

/// A suspended account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspendedAccountRow {
    /// Account.
    pub account: AccountId,
    /// Why.
    pub reason: String,
}

/// A suspended process of a jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspendedProcessRow {
    /// Jurisdiction.
    pub jurisdiction: JurisdictionCode,
    /// Process.
    pub process: Process,
}

/// Every suspension in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suspensions {
    /// Suspended accounts, by id.
    pub accounts: Vec<SuspendedAccountRow>,
    /// Suspended processes, by jurisdiction and process.
    pub processes: Vec<SuspendedProcessRow>,
}

/// Every suspension in force (accounts and processes).
pub fn suspensions(state: &RegistryState) -> Suspensions {
    let ledger = state.ledger();
    let mut accounts: Vec<SuspendedAccountRow> = state
        .security()
        .suspended_accounts()
        .map(|(a, reason)| SuspendedAccountRow {
            account: ledger.account(a).spec.id.clone(),
            reason: reason.to_string(),
        })
        .collect();
    accounts.sort_by(|a, b| a.account.cmp(&b.account));
    let processes = state
        .security()
        .suspended_processes()
        .map(|(j, p)| SuspendedProcessRow {
            jurisdiction: j.clone(),
            process: *p,
        })
        .collect();
    Suspensions {
        accounts,
        processes,
    }
}

/// For authorising `approve_transfer` and `cancel_transfer`: the transfer's sending account and
/// its initiator; `None` for an unknown transfer.
pub fn transfer_parties(state: &RegistryState, transfer: &OrderRef) -> Option<(AccountId, String)> {
    let t = state.security().transfer(transfer)?;
    Some((
        state.ledger().account(t.from).spec.id.clone(),
        t.initiator.clone(),
    ))
}
