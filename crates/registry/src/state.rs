//! The registry's in-memory state and the one function that changes it: [`RegistryState::apply`].
//!
//! `apply` runs a command's checks against the current state first and changes nothing if any
//! fails; only then does it mutate the ledger and compliance state, in an order where every step
//! that can still fail comes before the first that cannot be undone.

use crate::auction::{AuctionSetup, Auctions, NewBid};
use crate::call_market::{CallSetup, NewStep};
use crate::command::{Command, Effect, Submission};
use crate::exchange::{BlockTerms, Exchange, NewOrder, OrderChange};
use crate::regional::Regional;
use crate::rules::{RuleCode, Violation};
use crate::security::{Proposal, Security};
use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use yrd_compliance::{Compliance, ComplianceError, Installation, InstallationNo, YearKey};
use yrd_config::{MarketConfig, UnitType};
use yrd_ledger::{AccountNo, AccountSpec, AccountStatus, CashLedger, Ledger};
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, Quantity, SerialRange, TransactionId,
    UnitClass, UnitTypeCode, Vintage,
};

/// The suffixes of the system account ids, `{jurisdiction}-{suffix}`.
pub const SYSTEM_ACCOUNTS: [(AccountKind, &str); 6] = [
    (AccountKind::GovernmentHolding, "GOV"),
    (AccountKind::Auction, "AUCTION"),
    (AccountKind::Reserve, "RESERVE"),
    (AccountKind::Surrender, "SURRENDER"),
    (AccountKind::Cancellation, "CANCELLATION"),
    (AccountKind::Deletion, "DELETION"),
];

/// The id of a jurisdiction's system account of `kind`.
pub fn system_account_id(jurisdiction: &JurisdictionCode, kind: AccountKind) -> Option<AccountId> {
    let (_, suffix) = SYSTEM_ACCOUNTS.iter().find(|(k, _)| *k == kind)?;
    AccountId::new(format!("{jurisdiction}-{suffix}")).ok()
}

/// Whether a transfer may move units from an account of kind `from` to one of kind `to`:
/// market transfers between operator and trading accounts; auction delivery to them; returns and
/// releases among a jurisdiction's government, auction and reserve accounts. Terminal accounts
/// are reached only by surrender, cancellation and deletion.
pub fn transfer_permitted(from: AccountKind, to: AccountKind) -> bool {
    use AccountKind::*;
    matches!(
        (from, to),
        (OperatorHolding | Trading, OperatorHolding | Trading)
            | (
                Auction,
                OperatorHolding | Trading | GovernmentHolding | Reserve
            )
            | (GovernmentHolding, Auction | Reserve)
            | (Reserve, GovernmentHolding | Auction)
    )
}

/// What `apply` did with a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A new transaction: its sequence number and effects.
    New {
        /// Sequence number assigned.
        seq: u64,
        /// What it did.
        effects: Vec<Effect>,
    },
    /// The same id with the same content was applied before, as `seq`: nothing happened.
    Duplicate {
        /// The original sequence number.
        seq: u64,
    },
}

/// Serial ranges by unit class, in the order they were taken.
type RangesByClass = Vec<(UnitClass, Vec<SerialRange>)>;

#[derive(Debug, Clone)]
struct SurrenderRecord {
    key: YearKey,
    /// Serials surrendered and not yet reversed, in surrender order.
    remaining: RangesByClass,
}

/// All registry state: configuration, ledger, compliance, and what idempotency needs.
#[derive(Debug, Clone)]
pub struct RegistryState {
    config: MarketConfig,
    ledger: Ledger,
    compliance: Compliance,
    seen: HashMap<TransactionId, (u64, [u8; 32])>,
    surrenders: HashMap<TransactionId, SurrenderRecord>,
    linked: HashMap<AccountNo, InstallationNo>,
    cash: CashLedger,
    exchange: Exchange,
    auctions: Auctions,
    regional: Regional,
    pub(crate) security: Security,
    last_seq: u64,
    last_date: Option<NaiveDate>,
    /// Date and time of the last exchange command: within a day, exchange time never runs back.
    last_exchange_instant: Option<(NaiveDate, chrono::NaiveTime)>,
}

type Checked<T> = Result<T, Violation>;

impl RegistryState {
    /// Empty state under a validated configuration.
    pub fn new(config: MarketConfig) -> Self {
        let compliance = Compliance::new(config.compliance.clone());
        let security = Security::new(config.security_or_default());
        Self {
            config,
            ledger: Ledger::new(),
            compliance,
            seen: HashMap::new(),
            surrenders: HashMap::new(),
            linked: HashMap::new(),
            cash: CashLedger::default(),
            exchange: Exchange::default(),
            auctions: Auctions::default(),
            regional: Regional::default(),
            security,
            last_seq: 0,
            last_date: None,
            last_exchange_instant: None,
        }
    }

    /// The market configuration.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// The unit ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The compliance state.
    pub fn compliance(&self) -> &Compliance {
        &self.compliance
    }

    /// Business date of the last applied transaction, if any: the registry's "today".
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.last_date
    }

    /// Sequence number of the last applied transaction (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The sequence number and content hash of an applied transaction id, if any.
    pub fn applied(&self, id: &TransactionId) -> Option<(u64, [u8; 32])> {
        self.seen.get(id).copied()
    }

    /// Canonical JSON of a submission and its SHA-256: what idempotency compares.
    pub fn canonical(submission: &Submission) -> (String, [u8; 32]) {
        let json = serde_json::to_string(submission).expect("commands always serialise");
        let hash = Sha256::digest(json.as_bytes()).into();
        (json, hash)
    }

    /// Applies a submission whose canonical content hash is `content_hash`. A new id is checked
    /// and, if every rule passes, applied and given the next sequence number; a known id with the
    /// same content is a duplicate; with other content it is refused. On refusal nothing changed.
    pub fn apply(
        &mut self,
        submission: &Submission,
        content_hash: [u8; 32],
    ) -> Result<Applied, Vec<Violation>> {
        if let Some((seq, hash)) = self.seen.get(&submission.id) {
            if *hash == content_hash {
                return Ok(Applied::Duplicate { seq: *seq });
            }
            return Err(vec![Violation::new(
                RuleCode::TransactionIdReused,
                "id",
                format!(
                    "transaction id {} was used by transaction {seq} with different content",
                    submission.id
                ),
            )]);
        }
        let calendar = self.general_checks(submission);
        if !calendar.is_empty() {
            return Err(calendar);
        }
        let suspended = self.entry_checks(&submission.command);
        if !suspended.is_empty() {
            return Err(suspended);
        }
        let effects = self.execute(&submission.id, submission.date, &submission.command)?;
        self.last_seq += 1;
        self.last_date = Some(submission.date);
        if let Some(time) = command_time(&submission.command) {
            self.last_exchange_instant = Some((submission.date, time));
        }
        self.seen
            .insert(submission.id.clone(), (self.last_seq, content_hash));
        Ok(Applied::New {
            seq: self.last_seq,
            effects,
        })
    }

    /// Checks every command shares: the business date (in range, never before the last recorded
    /// transaction's, after the year for emissions, within or after the year for a surrender),
    /// quantities within [`Quantity::MAX`], and names of a sane length without control characters.
    fn general_checks(&self, submission: &Submission) -> Vec<Violation> {
        let date = submission.date;
        let mut v = Vec::new();
        let in_range = NaiveDate::from_ymd_opt(1990, 1, 1).is_some_and(|lo| date >= lo)
            && NaiveDate::from_ymd_opt(2200, 12, 31).is_some_and(|hi| date <= hi);
        if !in_range {
            v.push(Violation::new(
                RuleCode::DateOutOfRange,
                "date",
                format!("{date} is outside 1990-01-01..2200-12-31"),
            ));
        }
        if let Some(last) = self.last_date
            && date < last
        {
            v.push(Violation::new(
                RuleCode::DateBeforeLast,
                "date",
                format!("transactions are recorded in date order: {date} is before {last}, the date of transaction {}", self.last_seq),
            ));
        }
        if let (Some(time), Some((last_date, last_time))) = (
            command_time(&submission.command),
            self.last_exchange_instant,
        ) && date == last_date
            && time < last_time
        {
            v.push(Violation::new(
                RuleCode::DateBeforeLast,
                "time",
                format!("exchange transactions are recorded in time order: {time} is before {last_time}, the last one on {date}"),
            ));
        }
        let year_of_date = u16::try_from(date.year()).unwrap_or(0);
        match &submission.command {
            Command::EnterEmissions { year, .. } if year_of_date <= *year => v.push(Violation::new(
                RuleCode::YearNotEnded,
                "year",
                format!("emissions of {year} can be verified only after the year has ended, not on {date}"),
            )),
            Command::Surrender { year, .. } if year_of_date < *year => v.push(Violation::new(
                RuleCode::YearNotBegun,
                "year",
                format!("a surrender for {year} cannot be made on {date}, before the year has begun"),
            )),
            _ => {}
        }
        if let Some(q) = command_quantity(&submission.command)
            && q > Quantity::MAX
        {
            v.push(Violation::new(
                RuleCode::QuantityTooLarge,
                "quantity",
                format!(
                    "{q} exceeds the largest quantity the registry accepts, {}",
                    Quantity::MAX
                ),
            ));
        }
        for (field, text) in command_names(&submission.command) {
            if text.chars().count() > MAX_NAME_CHARS || text.chars().any(char::is_control) {
                v.push(Violation::new(
                    RuleCode::InvalidField,
                    field,
                    format!(
                        "must be at most {MAX_NAME_CHARS} characters without control characters"
                    ),
                ));
            }
        }
        v
    }

    fn execute(
        &mut self,
        tx: &TransactionId,
        date: NaiveDate,
        command: &Command,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v: Violation| vec![v];
        match command {
            Command::OpenSystemAccounts { jurisdiction } => {
                self.open_system_accounts(jurisdiction).map_err(one)
            }
            Command::OpenAccount {
                account,
                kind,
                jurisdiction,
                holder_name,
            } => self.open_account(account, *kind, jurisdiction, holder_name),
            Command::CloseAccount { account } => self.close_account(account).map_err(one),
            Command::RegisterInstallation {
                installation,
                account,
                name,
                sector,
                first_year,
            } => self.register_installation(installation, account, name, sector, *first_year),
            Command::SetInstallationActive {
                installation,
                from_year,
                active,
            } => {
                let no = self
                    .installation(installation, "installation")
                    .map_err(one)?;
                self.compliance
                    .set_active(no, *from_year, *active)
                    .map_err(|e| one(compliance_violation(e)))?;
                Ok(vec![Effect::InstallationUpdated {
                    installation: installation.clone(),
                }])
            }
            Command::Issue {
                jurisdiction,
                unit_type,
                vintage,
                quantity,
            } => self.issue(jurisdiction, unit_type, *vintage, *quantity),
            Command::Allocate {
                installation,
                unit_type,
                vintage,
                quantity,
            } => self.allocate(installation, unit_type, *vintage, *quantity),
            Command::Transfer {
                from,
                to,
                class,
                quantity,
            } => self.transfer(from, to, class, *quantity),
            Command::Surrender {
                installation,
                account,
                obligation,
                year,
                quantity,
            } => self.surrender(tx, installation, account, obligation, *year, *quantity),
            Command::ReverseSurrender {
                surrender,
                quantity,
            } => self.reverse_surrender(surrender, *quantity),
            Command::Delete {
                from,
                class,
                quantity,
            } => self.retire(from, class, *quantity, AccountKind::Deletion),
            Command::Cancel {
                from,
                class,
                quantity,
            } => self.retire(from, class, *quantity, AccountKind::Cancellation),
            Command::EnterEmissions {
                installation,
                obligation,
                year,
                quantity,
                source,
            } => {
                let key = self.year_key(installation, obligation, *year)?;
                let rejudged = self
                    .compliance
                    .enter_emissions(key, *quantity, *source)
                    .map_err(|e| one(compliance_violation(e)))?;
                Ok(vec![Effect::EmissionsRecorded {
                    installation: installation.clone(),
                    year: *year,
                    rejudged: rejudged.map(|s| s.code),
                }])
            }
            Command::SetNoObligation {
                installation,
                obligation,
                year,
                no_obligation,
            } => {
                let key = self.year_key(installation, obligation, *year)?;
                self.compliance
                    .set_no_obligation(key, *no_obligation)
                    .map_err(|e| one(compliance_violation(e)))?;
                Ok(vec![Effect::ComplianceUpdated {
                    installation: installation.clone(),
                    year: *year,
                }])
            }
            Command::SuspendProcess {
                installation,
                year,
                suspended,
            } => {
                let no = self
                    .installation(installation, "installation")
                    .map_err(one)?;
                self.compliance
                    .set_suspended(no, *year, *suspended)
                    .map_err(|e| one(compliance_violation(e)))?;
                Ok(vec![Effect::ComplianceUpdated {
                    installation: installation.clone(),
                    year: *year,
                }])
            }
            Command::ProcessDeadline {
                jurisdiction,
                obligation,
                year,
            } => self.process_deadline(jurisdiction, obligation, *year, date),
            Command::Deposit {
                account,
                amount_minor,
            } => self.deposit(account, *amount_minor),
            Command::Withdraw {
                account,
                amount_minor,
            } => self.withdraw(account, *amount_minor, date),
            Command::PlaceOrder {
                order,
                account,
                class,
                side,
                price_minor,
                quantity,
                time_in_force,
                time,
            } => self.undo_exchange_on_refusal(date, Some(class), |state| {
                state.place_order(
                    date,
                    NewOrder {
                        order,
                        account,
                        class,
                        side: *side,
                        price: *price_minor,
                        quantity: *quantity,
                        time_in_force: *time_in_force,
                        time: *time,
                    },
                )
            }),
            Command::CancelOrder {
                order,
                account,
                time,
            } => self.undo_exchange_on_refusal(date, None, |state| {
                state.change_order(date, *time, order, account, OrderChange::Cancel)
            }),
            Command::ReduceOrder {
                order,
                account,
                quantity,
                time,
            } => self.undo_exchange_on_refusal(date, None, |state| {
                state.change_order(date, *time, order, account, OrderChange::Reduce(*quantity))
            }),
            Command::AmendOrder {
                order,
                account,
                price_minor,
                time,
            } => self.undo_exchange_on_refusal(date, None, |state| {
                state.change_order(
                    date,
                    *time,
                    order,
                    account,
                    OrderChange::Amend(*price_minor),
                )
            }),
            Command::SetTradingHalt { class, halted } => self.set_halt(class, *halted),
            Command::SetAccountArea { account, area } => self.set_account_area(account, area),
            Command::CreateCallMarket {
                market,
                operator,
                pollutant,
                vintage,
                areas,
                receptors,
                lot,
                closes,
            } => self.create_call_market(
                date,
                &CallSetup {
                    market,
                    operator,
                    pollutant,
                    vintage: *vintage,
                    areas,
                    receptors,
                    lot: *lot,
                    closes: *closes,
                },
            ),
            Command::SubmitCallStep {
                market,
                step,
                account,
                side,
                class,
                quantity,
                price_minor,
            } => self.submit_call_step(
                date,
                &NewStep {
                    market,
                    step,
                    account,
                    side: *side,
                    class: class.as_ref(),
                    quantity: *quantity,
                    price_minor: *price_minor,
                },
            ),
            Command::WithdrawCallStep {
                market,
                step,
                account,
            } => self.withdraw_call_step(date, market, step, account),
            Command::ClearCallMarket { market } => self.clear_call_market(date, market),
            Command::CancelCallMarket { market } => self.cancel_call_market(market),
            Command::ApproveCrossRegionalTransfer {
                approval,
                jurisdiction,
                from,
                to,
                class,
                quantity,
            } => self.approve_cross_regional_transfer(
                approval,
                jurisdiction,
                from,
                to,
                class,
                *quantity,
            ),
            Command::CreateAuction {
                auction,
                class,
                rules,
                closes,
                joint,
                unsold,
            } => {
                let setup = AuctionSetup {
                    rules,
                    closes: *closes,
                    joint,
                    unsold: *unsold,
                };
                self.create_auction(date, auction, class, setup)
            }
            Command::QualifyBidder {
                auction,
                account,
                group,
            } => self.qualify_bidder(date, auction, account, group),
            Command::SubmitBid {
                auction,
                bid,
                account,
                price_minor,
                quantity,
            } => {
                let seq = self.last_seq + 1;
                let bid = NewBid {
                    auction,
                    bid,
                    account,
                    price: *price_minor,
                    quantity: *quantity,
                };
                self.submit_bid(date, seq, bid)
            }
            Command::WithdrawBid {
                auction,
                bid,
                account,
            } => self.withdraw_bid(date, auction, bid, account),
            Command::ClearAuction { auction } => self.clear_auction(date, auction),
            Command::SetBidderSuspended {
                auction,
                account,
                suspended,
            } => self.set_bidder_suspended(date, auction, account, *suspended),
            Command::ProposeBlockTrade {
                trade,
                proposed_by,
                seller,
                buyer,
                class,
                price_minor,
                quantity,
                time,
            } => self.undo_exchange_on_refusal(date, Some(class), |state| {
                state.propose_block(
                    date,
                    BlockTerms {
                        trade,
                        proposer: proposed_by,
                        seller,
                        buyer,
                        class,
                        price: *price_minor,
                        quantity: *quantity,
                        time: *time,
                    },
                )
            }),
            Command::ConfirmBlockTrade {
                trade,
                account,
                time,
            } => self.undo_exchange_on_refusal(date, None, |state| {
                state.confirm_block(date, *time, trade, account)
            }),
            Command::WithdrawBlockTrade { trade, account } => self.withdraw_block(trade, account),
            Command::ProposeTransfer {
                transfer,
                from,
                to,
                class,
                quantity,
                initiator,
                at,
            } => {
                let proposal = Proposal {
                    transfer,
                    from,
                    to,
                    class,
                    quantity: *quantity,
                    initiator,
                    at: *at,
                };
                self.propose_transfer(&proposal, self.last_seq + 1)
            }
            Command::ApproveTransfer {
                transfer,
                approver,
                at,
            } => self.approve_transfer(transfer, approver, *at),
            Command::CancelTransfer { transfer, by, at } => self.cancel_transfer(transfer, by, *at),
            Command::ExecuteDueTransfers { at } => self.execute_due_transfers(*at),
            Command::ProposeTrustedAccount {
                account,
                trusted,
                initiator,
                at,
            } => self.propose_trusted_account(account, trusted, initiator, *at),
            Command::ApproveTrustedAccount {
                account,
                trusted,
                approver,
                at,
            } => self.approve_trusted_account(account, trusted, approver, *at),
            Command::RemoveTrustedAccount {
                account,
                trusted,
                by,
                at,
            } => self.remove_trusted_account(account, trusted, by, *at),
            Command::SetAccountSuspended {
                account,
                suspended,
                reason,
            } => self.set_account_suspended(account, *suspended, reason),
            Command::SetProcessSuspended {
                jurisdiction,
                process,
                suspended,
            } => self.set_process_suspended(jurisdiction, *process, *suspended),
        }
    }

    /// A digest of the derived state - every holding's serial blocks, every cash balance, every
    /// open order and book, every auction's bids and result, every compliance record - so that two replays can be compared
    /// (SHA-256, hex). Iteration is in a fixed order, so equal states give equal hashes.
    pub fn state_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.last_seq.to_be_bytes());
        for (no, account) in self.ledger.accounts() {
            h.update(account.spec.id.as_str().as_bytes());
            h.update([account.status as u8]);
            for (class, holding) in account.holdings() {
                h.update(self.ledger.class(class).class.to_string().as_bytes());
                for b in holding.blocks() {
                    h.update(b.first.to_be_bytes());
                    h.update(b.last.to_be_bytes());
                }
            }
            let cash = self.cash.balance(no);
            h.update(cash.available.to_be_bytes());
            h.update(cash.reserved.to_be_bytes());
            for (date, amount) in &cash.pending {
                h.update(date.to_string().as_bytes());
                h.update(amount.to_be_bytes());
            }
        }
        for (class, inst) in self.exchange.instruments() {
            h.update(class.to_string().as_bytes());
            h.update(inst.book.state_hash().to_be_bytes());
            h.update(inst.previous_close.to_be_bytes());
            h.update([u8::from(inst.halted)]);
        }
        for (reference, auction) in &self.auctions.by_ref {
            h.update(reference.as_str().as_bytes());
            let (qualified, bids) = auction.participation();
            h.update((qualified as u64).to_be_bytes());
            h.update((bids as u64).to_be_bytes());
            h.update(
                serde_json::to_string(&auction.result)
                    .expect("reports serialise")
                    .as_bytes(),
            );
        }
        for (account, guarantee) in self.auctions.guarantees_by_account() {
            h.update(account.0.to_be_bytes());
            h.update(guarantee.to_be_bytes());
        }
        for (account, area) in &self.regional.areas {
            h.update(account.0.to_be_bytes());
            h.update(area.as_bytes());
        }
        for (reference, a) in &self.regional.approvals {
            h.update(reference.as_str().as_bytes());
            h.update(a.from.0.to_be_bytes());
            h.update(a.to.0.to_be_bytes());
            h.update(a.class.to_string().as_bytes());
            h.update(a.quantity.to_be_bytes());
            for j in &a.approved_by {
                h.update(j.as_str().as_bytes());
            }
            h.update([u8::from(a.used)]);
        }
        for (reference, market) in &self.regional.call_markets {
            h.update(reference.as_str().as_bytes());
            h.update((market.steps.len() as u64).to_be_bytes());
            h.update([u8::from(market.cancelled)]);
            for (account, g) in market.guarantees() {
                h.update(account.0.to_be_bytes());
                h.update(g.to_be_bytes());
            }
            if let Some(result) = &market.result {
                h.update(
                    serde_json::to_string(result)
                        .expect("results serialise")
                        .as_bytes(),
                );
            }
        }
        for ((area, pollutant), inflow) in &self.regional.inflows {
            h.update(area.as_bytes());
            h.update(pollutant.as_str().as_bytes());
            h.update(inflow.to_be_bytes());
        }
        self.security.hash_into(&mut h);
        for (key, year) in self.compliance.years() {
            h.update(key.installation.0.to_be_bytes());
            h.update([key.obligation]);
            h.update(key.year.to_be_bytes());
            h.update(
                serde_json::to_string(year)
                    .expect("records serialise")
                    .as_bytes(),
            );
        }
        hex::encode(h.finalize())
    }

    /// Runs an exchange command that may first start a new trading day or list a new instrument -
    /// changes made before its last check. If the command is then refused, those changes are
    /// undone, so that a refusal changes nothing and replaying only the accepted commands
    /// reproduces the same state and effects. The copy is taken only on such days.
    fn undo_exchange_on_refusal(
        &mut self,
        date: NaiveDate,
        class: Option<&UnitClass>,
        command: impl FnOnce(&mut Self) -> Result<Vec<Effect>, Vec<Violation>>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rolls = self.exchange.trading_date().is_none_or(|d| d < date);
        let lists = class.is_some_and(|c| !self.exchange.instruments.contains_key(c));
        let saved = (rolls || lists).then(|| (self.exchange.clone(), self.cash.clone()));
        let result = command(self);
        if result.is_err()
            && let Some((exchange, cash)) = saved
        {
            self.exchange = exchange;
            self.cash = cash;
        }
        result
    }

    /// The installation a surrender transaction surrendered for, while any of it is left to
    /// reverse (the server authorizes `reverse_surrender` by its jurisdiction).
    pub fn surrender_installation(&self, surrender: &TransactionId) -> Option<&InstallationId> {
        self.surrenders
            .get(surrender)
            .map(|r| &self.compliance.installation(r.key.installation).id)
    }

    /// The auctions.
    pub fn auctions(&self) -> &Auctions {
        &self.auctions
    }

    pub(crate) fn auctions_mut(&mut self) -> &mut Auctions {
        &mut self.auctions
    }

    pub(crate) fn system_account_pub(
        &self,
        jurisdiction: &JurisdictionCode,
        kind: AccountKind,
        field: &'static str,
    ) -> Checked<AccountNo> {
        self.system_account(jurisdiction, kind, field)
    }

    /// The cash each account has reserved: open buy orders, proposed block purchases, bid
    /// guarantees (what the audit compares with the cash ledger).
    pub(crate) fn reserved_cash_by_account(&self) -> HashMap<AccountNo, i64> {
        let mut m = self.exchange.reserved_cash_by_account();
        for (account, g) in self.auctions.guarantees_by_account() {
            *m.entry(account).or_insert(0) += g;
        }
        for market in self.regional.call_markets.values() {
            for (account, g) in market.guarantees() {
                *m.entry(account).or_insert(0) += g;
            }
        }
        m
    }

    /// Cross-regional records: account areas, approvals, area inflows, call markets.
    pub fn regional(&self) -> &Regional {
        &self.regional
    }

    pub(crate) fn regional_mut(&mut self) -> &mut Regional {
        &mut self.regional
    }

    /// Issues new units of `class` straight into `to` (call-market purchases; the caller checked
    /// the registry bound).
    pub(crate) fn ledger_issue(
        &mut self,
        class: &UnitClass,
        quantity: u64,
        to: AccountNo,
    ) -> SerialRange {
        self.ledger
            .issue(class, quantity, to)
            .expect("checked: positive and within the bound")
    }

    pub(crate) fn class_pub(&self, class: &UnitClass, field: &'static str) -> Checked<()> {
        self.class(class, field)
    }

    /// The installation linked to an operator holding account.
    pub(crate) fn linked_installation(&self, account: AccountNo) -> Option<InstallationNo> {
        self.linked.get(&account).copied()
    }

    /// The cash ledger.
    pub fn cash(&self) -> &CashLedger {
        &self.cash
    }

    pub(crate) fn cash_mut(&mut self) -> &mut CashLedger {
        &mut self.cash
    }

    /// The exchange (books, open orders, reservations).
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    pub(crate) fn exchange_mut(&mut self) -> &mut Exchange {
        &mut self.exchange
    }

    /// Units of `class` held by `account` and not reserved for sell orders or an auction.
    pub fn free_units(&self, account: AccountNo, class: &UnitClass) -> u64 {
        self.ledger.quantity(account, class) - self.exchange.reserved_units(account, class)
    }

    /// The transfer path of `Command::Transfer` (kinds, receiving rules, holdings,
    /// cross-regional rules and ratios), for transfers executed under the security controls.
    pub(crate) fn transfer_pub(
        &mut self,
        from: &AccountId,
        to: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        self.transfer(from, to, class, quantity)
    }

    pub(crate) fn open_account_no_pub(
        &self,
        id: &AccountId,
        field: &'static str,
    ) -> Checked<AccountNo> {
        self.open_account_no(id, field)
    }

    pub(crate) fn may_receive_pub(
        &self,
        to: AccountNo,
        class: &UnitClass,
        field: &'static str,
    ) -> Checked<()> {
        self.may_receive(to, class, field)
    }

    /// Delivers units of a trade (the caller reserved them).
    pub(crate) fn move_units_pub(
        &mut self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        quantity: u64,
    ) -> Vec<SerialRange> {
        self.ledger
            .move_units(from, to, class, quantity)
            .expect("sell orders reserve the units they deliver")
    }

    // ---- lookups: each returns the thing or the violation naming the field ----

    fn account(&self, id: &AccountId, field: &'static str) -> Checked<AccountNo> {
        self.ledger.find(id).ok_or_else(|| {
            Violation::new(RuleCode::UnknownAccount, field, format!("no account {id}"))
        })
    }

    fn open_account_no(&self, id: &AccountId, field: &'static str) -> Checked<AccountNo> {
        let no = self.account(id, field)?;
        if self.ledger.account(no).status == AccountStatus::Closed {
            return Err(Violation::new(
                RuleCode::AccountClosed,
                field,
                format!("account {id} is closed"),
            ));
        }
        Ok(no)
    }

    fn system_account(
        &self,
        jurisdiction: &JurisdictionCode,
        kind: AccountKind,
        field: &'static str,
    ) -> Checked<AccountNo> {
        let id = system_account_id(jurisdiction, kind)
            .expect("jurisdiction codes make valid account ids");
        self.ledger.find(&id).ok_or_else(|| {
            Violation::new(
                RuleCode::UnknownAccount,
                field,
                format!(
                    "no {kind} account {id}: the jurisdiction's system accounts were not opened"
                ),
            )
        })
    }

    fn installation(&self, id: &InstallationId, field: &'static str) -> Checked<InstallationNo> {
        self.compliance.find(id).ok_or_else(|| {
            Violation::new(
                RuleCode::UnknownInstallation,
                field,
                format!("no installation {id}"),
            )
        })
    }

    fn jurisdiction(&self, code: &JurisdictionCode, field: &'static str) -> Checked<()> {
        match self.config.jurisdiction(code) {
            Some(_) => Ok(()),
            None => Err(Violation::new(
                RuleCode::UnknownJurisdiction,
                field,
                format!("jurisdiction {code} is not configured"),
            )),
        }
    }

    fn unit_type(&self, code: &UnitTypeCode, field: &'static str) -> Checked<&UnitType> {
        self.config.unit_type(code).ok_or_else(|| {
            Violation::new(
                RuleCode::UnknownUnitType,
                field,
                format!("unit type {code} is not configured"),
            )
        })
    }

    fn obligation_index(&self, code: &UnitTypeCode, field: &'static str) -> Checked<u8> {
        self.config
            .compliance
            .obligations
            .iter()
            .position(|o| &o.code == code)
            .map(|i| i as u8)
            .ok_or_else(|| {
                Violation::new(
                    RuleCode::UnknownObligation,
                    field,
                    format!("obligation {code} is not configured"),
                )
            })
    }

    fn class(&self, class: &UnitClass, field: &'static str) -> Checked<()> {
        self.jurisdiction(&class.jurisdiction, field)?;
        self.unit_type(&class.unit_type, field)?;
        Ok(())
    }

    fn year_key(
        &self,
        installation: &InstallationId,
        obligation: &UnitTypeCode,
        year: u16,
    ) -> Result<YearKey, Vec<Violation>> {
        let mut violations = Vec::new();
        let no = self
            .installation(installation, "installation")
            .map_err(|v| violations.push(v))
            .ok();
        let ob = self
            .obligation_index(obligation, "obligation")
            .map_err(|v| violations.push(v))
            .ok();
        match (no, ob) {
            (Some(no), Some(ob)) if violations.is_empty() => {
                self.check_year(no, year, "year").map_err(|v| vec![v])?;
                Ok(YearKey {
                    installation: no,
                    obligation: ob,
                    year,
                })
            }
            _ => Err(violations),
        }
    }

    fn check_year(&self, no: InstallationNo, year: u16, field: &'static str) -> Checked<()> {
        if self.config.compliance.period_of(year).is_none() {
            return Err(Violation::new(
                RuleCode::YearOutsidePeriods,
                field,
                format!("year {year} lies outside every trading period"),
            ));
        }
        let inst = self.compliance.installation(no);
        if year < inst.first_year {
            return Err(Violation::new(
                RuleCode::YearBeforeInstallation,
                field,
                format!(
                    "installation {} has no obligation before {}; {year} given",
                    inst.id, inst.first_year
                ),
            ));
        }
        Ok(())
    }

    fn positive(quantity: u64, field: &'static str) -> Checked<()> {
        if quantity == 0 {
            return Err(Violation::new(
                RuleCode::ZeroQuantity,
                field,
                "quantity must be positive",
            ));
        }
        Ok(())
    }

    fn holds(
        &self,
        account: AccountNo,
        class: &UnitClass,
        quantity: u64,
        field: &'static str,
    ) -> Checked<()> {
        let held = self.ledger.quantity(account, class);
        let reserved = self.exchange.reserved_units(account, class);
        if held - reserved < quantity {
            let id = &self.ledger.account(account).spec.id;
            let on_sale = if reserved > 0 {
                format!(
                    " ({reserved} of them reserved for sell orders, an auction or a pending transfer)"
                )
            } else {
                String::new()
            };
            return Err(Violation::new(
                RuleCode::InsufficientHoldings,
                field,
                format!(
                    "account {id} holds {held} units of {class}{on_sale}; {quantity} requested"
                ),
            ));
        }
        Ok(())
    }

    /// The receiving account's kind may hold the unit type, and a system account only its own
    /// jurisdiction's units.
    fn may_receive(&self, to: AccountNo, class: &UnitClass, field: &'static str) -> Checked<()> {
        let spec = &self.ledger.account(to).spec;
        let unit_type = self.unit_type(&class.unit_type, "class")?;
        if !spec.kind.is_terminal() && !unit_type.holders.contains(&spec.kind) {
            return Err(Violation::new(
                RuleCode::HolderNotPermitted,
                field,
                format!(
                    "{} accounts may not hold {} units (account {})",
                    spec.kind, class.unit_type, spec.id
                ),
            ));
        }
        if spec.kind.is_system() && spec.jurisdiction != class.jurisdiction {
            return Err(Violation::new(
                RuleCode::ForeignUnitsInSystemAccount,
                field,
                format!(
                    "{} account {} may hold only {} units, not {class}",
                    spec.kind, spec.id, spec.jurisdiction
                ),
            ));
        }
        Ok(())
    }

    // ---- commands ----

    fn open_system_accounts(&mut self, jurisdiction: &JurisdictionCode) -> Checked<Vec<Effect>> {
        self.jurisdiction(jurisdiction, "jurisdiction")?;
        if self
            .system_account(jurisdiction, AccountKind::GovernmentHolding, "jurisdiction")
            .is_ok()
        {
            return Err(Violation::new(
                RuleCode::SystemAccountsExist,
                "jurisdiction",
                format!("system accounts of {jurisdiction} are already open"),
            ));
        }
        let name = self
            .config
            .jurisdiction(jurisdiction)
            .map(|j| j.name.clone())
            .unwrap_or_default();
        let mut effects = Vec::new();
        for (kind, _) in SYSTEM_ACCOUNTS {
            let id = system_account_id(jurisdiction, kind).expect("valid id");
            let spec = AccountSpec {
                id: id.clone(),
                kind,
                jurisdiction: jurisdiction.clone(),
                holder_name: name.clone(),
                installation: None,
            };
            self.ledger
                .open_account(spec)
                .expect("checked: ids of a new jurisdiction are free");
            effects.push(Effect::AccountOpened { account: id, kind });
        }
        Ok(effects)
    }

    fn open_account(
        &mut self,
        account: &AccountId,
        kind: AccountKind,
        jurisdiction: &JurisdictionCode,
        holder_name: &str,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let mut v = Vec::new();
        if kind.is_system() {
            v.push(Violation::new(
                RuleCode::SystemAccountKind,
                "kind",
                format!("{kind} accounts are opened with open_system_accounts; open operator_holding or trading accounts"),
            ));
        }
        if let Err(e) = self.jurisdiction(jurisdiction, "jurisdiction") {
            v.push(e);
        }
        if self.ledger.find(account).is_some() {
            v.push(Violation::new(
                RuleCode::DuplicateAccount,
                "account",
                format!("account {account} already exists"),
            ));
        }
        if holder_name.trim().is_empty() {
            v.push(Violation::new(
                RuleCode::InvalidField,
                "holder_name",
                "must not be empty",
            ));
        }
        if !v.is_empty() {
            return Err(v);
        }
        let spec = AccountSpec {
            id: account.clone(),
            kind,
            jurisdiction: jurisdiction.clone(),
            holder_name: holder_name.to_string(),
            installation: None,
        };
        self.ledger.open_account(spec).expect("checked: id is free");
        Ok(vec![Effect::AccountOpened {
            account: account.clone(),
            kind,
        }])
    }

    fn close_account(&mut self, account: &AccountId) -> Checked<Vec<Effect>> {
        let no = self.open_account_no(account, "account")?;
        let acc = self.ledger.account(no);
        if acc.spec.kind.is_system() {
            return Err(Violation::new(
                RuleCode::SystemAccountKind,
                "account",
                format!("system account {account} cannot be closed"),
            ));
        }
        if !acc.is_empty() {
            return Err(Violation::new(
                RuleCode::AccountNotEmpty,
                "account",
                format!("account {account} still holds units"),
            ));
        }
        let cash = self.cash.balance(no);
        if cash.available != 0 || cash.reserved != 0 || cash.pending.values().any(|v| *v != 0) {
            return Err(Violation::new(
                RuleCode::AccountNotEmpty,
                "account",
                format!("account {account} still holds cash: withdraw it first"),
            ));
        }
        let open_steps = self
            .regional
            .call_markets
            .values()
            .filter(|m| m.is_open())
            .any(|m| m.steps.values().any(|s| s.account == no));
        if !self.exchange.open_orders(no).is_empty() || open_steps {
            return Err(Violation::new(
                RuleCode::AccountNotEmpty,
                "account",
                format!("account {account} has open orders or call-market steps"),
            ));
        }
        self.ledger.close_account(no).expect("checked: empty");
        Ok(vec![Effect::AccountClosed {
            account: account.clone(),
        }])
    }

    fn register_installation(
        &mut self,
        installation: &InstallationId,
        account: &AccountId,
        name: &str,
        sector: &str,
        first_year: u16,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let mut v = Vec::new();
        if self.compliance.find(installation).is_some() {
            v.push(Violation::new(
                RuleCode::DuplicateInstallation,
                "installation",
                format!("installation {installation} is already registered"),
            ));
        }
        if self.config.compliance.period_of(first_year).is_none() {
            v.push(Violation::new(
                RuleCode::YearOutsidePeriods,
                "first_year",
                format!("year {first_year} lies outside every trading period"),
            ));
        }
        match self.open_account_no(account, "account") {
            Err(e) => v.push(e),
            Ok(no) => {
                let kind = self.ledger.account(no).spec.kind;
                if kind != AccountKind::OperatorHolding {
                    v.push(Violation::new(
                        RuleCode::AccountNotLinkable,
                        "account",
                        format!("account {account} is of kind {kind}; an installation needs an operator_holding account"),
                    ));
                } else if let Some(other) = self.linked.get(&no) {
                    v.push(Violation::new(
                        RuleCode::AccountNotLinkable,
                        "account",
                        format!(
                            "account {account} already belongs to installation {}",
                            self.compliance.installation(*other).id
                        ),
                    ));
                }
            }
        }
        if !v.is_empty() {
            return Err(v);
        }
        let no = self.ledger.find(account).expect("checked");
        let jurisdiction = self.ledger.account(no).spec.jurisdiction.clone();
        let inst = Installation::new(
            installation.clone(),
            account.clone(),
            jurisdiction,
            name.to_string(),
            sector.to_string(),
            first_year,
        );
        let inst_no = self
            .compliance
            .register(inst)
            .map_err(|e| vec![compliance_violation(e)])?;
        self.linked.insert(no, inst_no);
        Ok(vec![Effect::InstallationUpdated {
            installation: installation.clone(),
        }])
    }

    fn issue(
        &mut self,
        jurisdiction: &JurisdictionCode,
        unit_type: &UnitTypeCode,
        vintage: Vintage,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let class = UnitClass {
            jurisdiction: jurisdiction.clone(),
            unit_type: unit_type.clone(),
            vintage,
        };
        let mut v = Vec::new();
        let _ = self
            .jurisdiction(jurisdiction, "jurisdiction")
            .map_err(|e| v.push(e));
        let _ = self
            .unit_type(unit_type, "unit_type")
            .map_err(|e| v.push(e));
        let _ = Self::positive(quantity, "quantity").map_err(|e| v.push(e));
        if self.config.compliance.period_of(vintage.year()).is_none() {
            v.push(Violation::new(
                RuleCode::YearOutsidePeriods,
                "vintage",
                format!("vintage {vintage} lies outside every trading period"),
            ));
        }
        let issued = self
            .ledger
            .class_no(&class)
            .map_or(0, |c| self.ledger.class(c).issued);
        if issued
            .checked_add(quantity)
            .is_none_or(|total| total > Quantity::MAX)
        {
            v.push(Violation::new(
                RuleCode::QuantityOverflow,
                "quantity",
                format!(
                    "{issued} already issued + {quantity} would exceed {} units of {class}",
                    Quantity::MAX
                ),
            ));
        }
        let gov = if v.is_empty() {
            self.system_account(jurisdiction, AccountKind::GovernmentHolding, "jurisdiction")
                .map_err(|e| vec![e])?
        } else {
            return Err(v);
        };
        let range = self
            .ledger
            .issue(&class, quantity, gov)
            .expect("checked: no overflow");
        Ok(vec![Effect::Issued {
            to: self.ledger.account(gov).spec.id.clone(),
            class,
            range,
        }])
    }

    fn allocate(
        &mut self,
        installation: &InstallationId,
        unit_type: &UnitTypeCode,
        vintage: Vintage,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let inst_no = self
            .installation(installation, "installation")
            .map_err(one)?;
        let inst = self.compliance.installation(inst_no).clone();
        let to = self
            .open_account_no(&inst.account, "installation")
            .map_err(one)?;
        self.unit_type(unit_type, "unit_type").map_err(one)?;
        Self::positive(quantity, "quantity").map_err(one)?;
        self.check_year(inst_no, vintage.year(), "vintage")
            .map_err(one)?;
        let class = UnitClass {
            jurisdiction: inst.jurisdiction.clone(),
            unit_type: unit_type.clone(),
            vintage,
        };
        self.may_receive(to, &class, "installation").map_err(one)?;
        let gov = self
            .system_account(
                &inst.jurisdiction,
                AccountKind::GovernmentHolding,
                "installation",
            )
            .map_err(one)?;
        // The obligation this unit type discharges, if any, carries the allocation record and
        // any shortfall deduction owed for the year.
        let obligation = self
            .config
            .compliance
            .obligations
            .iter()
            .position(|o| o.surrender_unit_types.contains(unit_type));
        let key = obligation.map(|o| YearKey {
            installation: inst_no,
            obligation: o as u8,
            year: vintage.year(),
        });
        let deducted = key.map_or(0, |k| self.compliance.pending_deduction(k).min(quantity));
        let net = quantity - deducted;
        self.holds(gov, &class, net, "quantity").map_err(one)?;
        if let Some(k) = key {
            self.compliance
                .record_allocation(k, net, deducted)
                .map_err(|e| one(compliance_violation(e)))?;
        }
        let mut effects = Vec::new();
        if deducted > 0 {
            effects.push(Effect::AllocationDeducted {
                installation: installation.clone(),
                quantity: deducted,
            });
        }
        if net > 0 {
            let ranges = self
                .ledger
                .move_units(gov, to, &class, net)
                .expect("checked: holdings suffice");
            effects.push(Effect::Moved {
                from: self.ledger.account(gov).spec.id.clone(),
                to: inst.account.clone(),
                class,
                ranges,
            });
        }
        Ok(effects)
    }

    fn transfer(
        &mut self,
        from: &AccountId,
        to: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let mut v = Vec::new();
        let from_no = self
            .open_account_no(from, "from")
            .map_err(|e| v.push(e))
            .ok();
        let to_no = self.open_account_no(to, "to").map_err(|e| v.push(e)).ok();
        let _ = self.class(class, "class").map_err(|e| v.push(e));
        let _ = Self::positive(quantity, "quantity").map_err(|e| v.push(e));
        if from == to {
            v.push(Violation::new(
                RuleCode::InvalidField,
                "to",
                format!("sender and receiver are the same account {from}"),
            ));
        }
        if let (Some(f), Some(t)) = (from_no, to_no)
            && v.is_empty()
        {
            let (fk, tk) = (
                self.ledger.account(f).spec.kind,
                self.ledger.account(t).spec.kind,
            );
            if !transfer_permitted(fk, tk) {
                v.push(Violation::new(
                    RuleCode::TransferNotPermitted,
                    "to",
                    format!("a transfer may not move units from an account of kind {fk} to one of kind {tk}"),
                ));
            }
            let _ = self.may_receive(t, class, "to").map_err(|e| v.push(e));
            let _ = self
                .holds(f, class, quantity, "quantity")
                .map_err(|e| v.push(e));
        }
        let cross = match (from_no, to_no) {
            (Some(f), Some(t)) if v.is_empty() => self
                .judge_cross_regional(f, t, class, quantity, "to")
                .map_err(|e| v.push(e))
                .ok()
                .flatten(),
            _ => None,
        };
        if !v.is_empty() {
            return Err(v);
        }
        let (f, t) = (from_no.expect("checked"), to_no.expect("checked"));
        if let Some(cross) = cross {
            return Ok(self.apply_cross_regional(f, t, class, &cross));
        }
        let ranges = self
            .ledger
            .move_units(f, t, class, quantity)
            .expect("checked: holdings suffice");
        Ok(vec![Effect::Moved {
            from: from.clone(),
            to: to.clone(),
            class: class.clone(),
            ranges,
        }])
    }

    /// Eligible holdings of `account` for the obligation and year, oldest vintage first.
    fn eligible_holdings(
        &self,
        account: AccountNo,
        inst: &Installation,
        obligation: u8,
        year: u16,
    ) -> Vec<(UnitClass, u64)> {
        let ob = &self.config.compliance.obligations[obligation as usize];
        let mut eligible: Vec<(UnitClass, u64)> = self
            .ledger
            .account(account)
            .holdings()
            .map(|(c, h)| {
                let class = self.ledger.class(c).class.clone();
                let free = h.quantity() - self.exchange.reserved_units(account, &class);
                (class, free)
            })
            .filter(|(c, free)| {
                *free > 0
                    && ob.surrender_unit_types.contains(&c.unit_type)
                    && (ob.cross_jurisdiction || c.jurisdiction == inst.jurisdiction)
                    && self.config.compliance.vintage_eligible(c.vintage, year)
            })
            .collect();
        eligible.sort_by(|a, b| {
            (a.0.vintage, &a.0.jurisdiction, &a.0.unit_type).cmp(&(
                b.0.vintage,
                &b.0.jurisdiction,
                &b.0.unit_type,
            ))
        });
        eligible
    }

    fn surrender(
        &mut self,
        tx: &TransactionId,
        installation: &InstallationId,
        account: &AccountId,
        obligation: &UnitTypeCode,
        year: u16,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let key = self.year_key(installation, obligation, year)?;
        let inst = self.compliance.installation(key.installation).clone();
        let from = self.open_account_no(account, "account").map_err(one)?;
        if inst.account != *account {
            return Err(one(Violation::new(
                RuleCode::NotInstallationAccount,
                "account",
                format!(
                    "account {account} is not the operator holding account of installation {installation} ({})",
                    inst.account
                ),
            )));
        }
        Self::positive(quantity, "quantity").map_err(one)?;
        let to = self
            .system_account(&inst.jurisdiction, AccountKind::Surrender, "installation")
            .map_err(one)?;
        let eligible = self.eligible_holdings(from, &inst, key.obligation, year);
        let available: u64 = eligible.iter().map(|(_, q)| q).sum();
        if available < quantity {
            let code = if available == 0 {
                RuleCode::UnitsNotEligible
            } else {
                RuleCode::InsufficientHoldings
            };
            return Err(one(Violation::new(
                code,
                "quantity",
                format!(
                    "account {account} holds {available} units eligible for {obligation} {year}; {quantity} requested"
                ),
            )));
        }
        // The compliance record is the step that can still fail; the moves cannot.
        self.compliance
            .record_surrender(key, quantity)
            .map_err(|e| one(compliance_violation(e)))?;
        let to_id = self.ledger.account(to).spec.id.clone();
        let mut effects = Vec::new();
        let mut remaining_record = Vec::new();
        let mut left = quantity;
        for (class, held) in eligible {
            if left == 0 {
                break;
            }
            let take = held.min(left);
            let ranges = self
                .ledger
                .move_units(from, to, &class, take)
                .expect("checked: eligible holdings suffice");
            left -= take;
            remaining_record.push((class.clone(), ranges.clone()));
            effects.push(Effect::Moved {
                from: account.clone(),
                to: to_id.clone(),
                class,
                ranges,
            });
        }
        self.surrenders.insert(
            tx.clone(),
            SurrenderRecord {
                key,
                remaining: remaining_record,
            },
        );
        Ok(effects)
    }

    fn reverse_surrender(
        &mut self,
        surrender: &TransactionId,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let record = self.surrenders.get(surrender).cloned().ok_or_else(|| {
            one(Violation::new(
                RuleCode::UnknownSurrender,
                "surrender",
                format!("no surrender transaction {surrender}"),
            ))
        })?;
        Self::positive(quantity, "quantity").map_err(one)?;
        let remaining: u64 = record
            .remaining
            .iter()
            .flat_map(|(_, r)| r.iter().map(SerialRange::len))
            .sum();
        if quantity > remaining {
            return Err(one(Violation::new(
                RuleCode::ReversalExceedsSurrender,
                "quantity",
                format!(
                    "surrender {surrender} has {remaining} units left to reverse; {quantity} requested"
                ),
            )));
        }
        let inst = self
            .compliance
            .installation(record.key.installation)
            .clone();
        let to = self
            .open_account_no(&inst.account, "surrender")
            .map_err(one)?;
        let from = self
            .system_account(&inst.jurisdiction, AccountKind::Surrender, "surrender")
            .map_err(one)?;
        self.compliance
            .record_reversal(record.key, quantity)
            .map_err(|e| one(compliance_violation(e)))?;
        let (returned, kept) = split_from_end(&record.remaining, quantity);
        let from_id = self.ledger.account(from).spec.id.clone();
        let mut effects = Vec::new();
        for (class, ranges) in returned {
            self.ledger
                .move_ranges(from, to, &class, &ranges)
                .expect("surrendered serials stay in the surrender account");
            effects.push(Effect::Moved {
                from: from_id.clone(),
                to: inst.account.clone(),
                class,
                ranges,
            });
        }
        self.surrenders
            .get_mut(surrender)
            .expect("present")
            .remaining = kept;
        Ok(effects)
    }

    fn retire(
        &mut self,
        from: &AccountId,
        class: &UnitClass,
        quantity: u64,
        into: AccountKind,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let f = self.open_account_no(from, "from").map_err(one)?;
        self.class(class, "class").map_err(one)?;
        Self::positive(quantity, "quantity").map_err(one)?;
        let kind = self.ledger.account(f).spec.kind;
        let allowed = match into {
            AccountKind::Deletion => matches!(
                kind,
                AccountKind::GovernmentHolding | AccountKind::Auction | AccountKind::Reserve
            ),
            _ => matches!(kind, AccountKind::OperatorHolding | AccountKind::Trading),
        };
        if !allowed {
            let what = if into == AccountKind::Deletion {
                "deletion"
            } else {
                "voluntary cancellation"
            };
            return Err(one(Violation::new(
                RuleCode::TransferNotPermitted,
                "from",
                format!("{what} is not permitted from account {from} of kind {kind}"),
            )));
        }
        self.holds(f, class, quantity, "quantity").map_err(one)?;
        let to = self
            .system_account(&class.jurisdiction, into, "class")
            .map_err(one)?;
        let ranges = self
            .ledger
            .move_units(f, to, class, quantity)
            .expect("checked: holdings suffice");
        Ok(vec![Effect::Moved {
            from: from.clone(),
            to: self.ledger.account(to).spec.id.clone(),
            class: class.clone(),
            ranges,
        }])
    }

    fn process_deadline(
        &mut self,
        jurisdiction: &JurisdictionCode,
        obligation: &UnitTypeCode,
        year: u16,
        date: NaiveDate,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        self.jurisdiction(jurisdiction, "jurisdiction")
            .map_err(one)?;
        // Statuses are decided once the surrender deadline has passed, never before.
        if let Some(deadline) = self.config.compliance.surrender_deadline(year) {
            let due = NaiveDate::from_ymd_opt(
                i32::from(year) + 1,
                u32::from(deadline.month),
                u32::from(deadline.day),
            );
            if due.is_some_and(|due| date <= due) {
                return Err(one(Violation::new(
                    RuleCode::DeadlineNotReached,
                    "date",
                    format!(
                        "the {year} surrender deadline is {}; it can be processed from the day after, not on {date}",
                        due.map_or(String::new(), |d| d.to_string())
                    ),
                )));
            }
        }
        let ob = self
            .obligation_index(obligation, "obligation")
            .map_err(one)?;
        let decided = self
            .compliance
            .process_deadline(jurisdiction, ob, obligation.as_str(), year)
            .map_err(|e| one(compliance_violation(e)))?;
        Ok(decided
            .into_iter()
            .map(|(no, s)| Effect::StatusDecided {
                installation: self.compliance.installation(no).id.clone(),
                year,
                code: s.code,
                shortfall: s.shortfall,
                penalty: s.penalty,
            })
            .collect())
    }
}

/// Splits serial ranges (in surrender order) into the last `quantity` units, to return, and the
/// rest, to keep. The returned ranges are the highest serials of the latest classes.
fn split_from_end(
    remaining: &[(UnitClass, Vec<SerialRange>)],
    quantity: u64,
) -> (RangesByClass, RangesByClass) {
    let mut kept: RangesByClass = remaining.to_vec();
    let mut returned: RangesByClass = Vec::new();
    let mut left = quantity;
    while left > 0 {
        let (class, ranges) = kept.last_mut().expect("quantity <= remaining");
        let range = ranges.pop().expect("non-empty class entries only");
        let (back, keep) = if range.len() <= left {
            (range, None)
        } else {
            let split = range.last - left + 1;
            (
                SerialRange {
                    first: split,
                    last: range.last,
                },
                Some(SerialRange {
                    first: range.first,
                    last: split - 1,
                }),
            )
        };
        left -= back.len();
        if let Some(k) = keep {
            ranges.push(k);
        }
        match returned.last_mut() {
            Some((c, r)) if c == class => r.insert(0, back),
            _ => returned.push((class.clone(), vec![back])),
        }
        if ranges.is_empty() {
            kept.pop();
        }
    }
    (returned, kept)
}

fn compliance_violation(e: ComplianceError) -> Violation {
    let (code, field) = match &e {
        ComplianceError::DuplicateInstallation(_) => {
            (RuleCode::DuplicateInstallation, "installation")
        }
        ComplianceError::YearOutsidePeriods(_) => (RuleCode::YearOutsidePeriods, "year"),
        ComplianceError::BeforeFirstYear { .. } => (RuleCode::YearBeforeInstallation, "year"),
        ComplianceError::AlreadyProcessed { .. } => (RuleCode::DeadlineAlreadyProcessed, "year"),
        ComplianceError::ReversalExceedsSurrender { .. } => {
            (RuleCode::ReversalExceedsSurrender, "quantity")
        }
        ComplianceError::Overflow(_) => (RuleCode::QuantityOverflow, "quantity"),
    };
    Violation::new(code, field, e.to_string())
}

/// Longest holder, installation or sector name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

fn command_quantity(command: &Command) -> Option<u64> {
    match command {
        Command::Issue { quantity, .. }
        | Command::Allocate { quantity, .. }
        | Command::Transfer { quantity, .. }
        | Command::ProposeTransfer { quantity, .. }
        | Command::ApproveCrossRegionalTransfer { quantity, .. }
        | Command::SubmitCallStep { quantity, .. }
        | Command::Surrender { quantity, .. }
        | Command::ReverseSurrender { quantity, .. }
        | Command::Delete { quantity, .. }
        | Command::Cancel { quantity, .. }
        | Command::EnterEmissions { quantity, .. }
        | Command::PlaceOrder { quantity, .. }
        | Command::ProposeBlockTrade { quantity, .. }
        | Command::ReduceOrder { quantity, .. } => Some(*quantity),
        Command::Deposit { amount_minor, .. } | Command::Withdraw { amount_minor, .. } => {
            u64::try_from(*amount_minor).ok()
        }
        _ => None,
    }
}

/// The time of day an exchange command carries.
fn command_time(command: &Command) -> Option<chrono::NaiveTime> {
    match command {
        Command::PlaceOrder { time, .. }
        | Command::CancelOrder { time, .. }
        | Command::ReduceOrder { time, .. }
        | Command::AmendOrder { time, .. }
        | Command::ProposeBlockTrade { time, .. }
        | Command::ConfirmBlockTrade { time, .. } => Some(*time),
        _ => None,
    }
}

fn command_names(command: &Command) -> Vec<(&'static str, &str)> {
    match command {
        Command::OpenAccount { holder_name, .. } => vec![("holder_name", holder_name.as_str())],
        Command::RegisterInstallation { name, sector, .. } => {
            vec![("name", name.as_str()), ("sector", sector.as_str())]
        }
        Command::ProposeTransfer { initiator, .. }
        | Command::ProposeTrustedAccount { initiator, .. } => {
            vec![("initiator", initiator.as_str())]
        }
        Command::ApproveTransfer { approver, .. }
        | Command::ApproveTrustedAccount { approver, .. } => vec![("approver", approver.as_str())],
        Command::CancelTransfer { by, .. } | Command::RemoveTrustedAccount { by, .. } => {
            vec![("by", by.as_str())]
        }
        Command::SetAccountSuspended { reason, .. } => vec![("reason", reason.as_str())],
        _ => vec![],
    }
}
