//! Transactions as callers submit them, and what they did.

use crate::security::Process;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use yrd_compliance::{EmissionsSource, StatusCode};
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, Money, OrderRef, SerialRange,
    TransactionId, UnitClass, UnitTypeCode, Vintage,
};

/// A transaction submitted to the registry: the caller's idempotency id, the business date it
/// takes effect, and the command. Submitting the same id again with the same date and command has
/// no further effect; with anything different it is refused ([`crate::RuleCode::TransactionIdReused`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Idempotency id chosen by the caller.
    pub id: TransactionId,
    /// Business date (the compliance calendar refers to it).
    pub date: NaiveDate,
    /// What to do.
    pub command: Command,
}

/// Every state change the registry knows. Quantities are in the unit type's base unit (t CO2e or
/// kg); years are compliance years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Creates a jurisdiction's system accounts (government holding, auction, reserve, surrender,
    /// cancellation, deletion) with ids `{J}-GOV`, `{J}-AUCTION`, `{J}-RESERVE`, `{J}-SURRENDER`,
    /// `{J}-CANCELLATION`, `{J}-DELETION`. Done once per jurisdiction when the registry is created.
    OpenSystemAccounts {
        /// Jurisdiction.
        jurisdiction: JurisdictionCode,
    },
    /// Opens an operator holding or trading account.
    OpenAccount {
        /// New account id.
        account: AccountId,
        /// `operator_holding` or `trading`.
        kind: AccountKind,
        /// Administering jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Account holder's name.
        holder_name: String,
    },
    /// Closes an empty account (EU Reg. 2019/1122 Art. 26).
    CloseAccount {
        /// Account.
        account: AccountId,
    },
    /// Registers an installation and links it to its (open, unlinked) operator holding account.
    RegisterInstallation {
        /// New installation id.
        installation: InstallationId,
        /// Its operator holding account.
        account: AccountId,
        /// Name.
        name: String,
        /// Sector or activity.
        sector: String,
        /// First compliance year.
        first_year: u16,
    },
    /// Takes an installation out of (or back into) the compliance cycle from a year on.
    SetInstallationActive {
        /// Installation.
        installation: InstallationId,
        /// First year the change applies to.
        from_year: u16,
        /// Active or not.
        active: bool,
    },
    /// Creates units in the jurisdiction's government holding account.
    Issue {
        /// Issuing jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Unit type.
        unit_type: UnitTypeCode,
        /// Vintage.
        vintage: Vintage,
        /// Units to create.
        quantity: u64,
    },
    /// Free allocation from the jurisdiction's government holding account to an installation's
    /// account, for the year of the vintage. A shortfall deduction owed for that year is taken off.
    Allocate {
        /// Receiving installation.
        installation: InstallationId,
        /// Unit type.
        unit_type: UnitTypeCode,
        /// Vintage = allocation year.
        vintage: Vintage,
        /// Units before any deduction.
        quantity: u64,
    },
    /// Moves units between accounts (market transfers, auction delivery, administrative moves).
    Transfer {
        /// Sending account.
        from: AccountId,
        /// Receiving account.
        to: AccountId,
        /// Units of this class.
        class: UnitClass,
        /// How many.
        quantity: u64,
    },
    /// Surrenders units for an installation's obligation of a year, from its operator holding
    /// account; eligible units are taken oldest vintage first.
    Surrender {
        /// Installation.
        installation: InstallationId,
        /// The account surrendering: must be the installation's.
        account: AccountId,
        /// Obligation code, e.g. `CO2E`.
        obligation: UnitTypeCode,
        /// Compliance year.
        year: u16,
        /// Units to surrender.
        quantity: u64,
    },
    /// Reverses (part of) an earlier surrender: the same serials return to the installation's
    /// account, most recently surrendered first.
    ReverseSurrender {
        /// The surrender transaction.
        surrender: TransactionId,
        /// Units to return.
        quantity: u64,
    },
    /// Deletes units held by a government, auction or reserve account.
    Delete {
        /// Account.
        from: AccountId,
        /// Class.
        class: UnitClass,
        /// How many.
        quantity: u64,
    },
    /// Voluntarily cancels units held by an operator or trading account (retirement).
    Cancel {
        /// Account.
        from: AccountId,
        /// Class.
        class: UnitClass,
        /// How many.
        quantity: u64,
    },
    /// Enters (or corrects) an installation's verified emissions for a year.
    EnterEmissions {
        /// Installation.
        installation: InstallationId,
        /// Obligation code.
        obligation: UnitTypeCode,
        /// Year.
        year: u16,
        /// Verified emissions, base units.
        quantity: u64,
        /// Verifier or competent authority.
        source: EmissionsSource,
    },
    /// Records that an installation has no obligation for a year (exclusion), or undoes it.
    SetNoObligation {
        /// Installation.
        installation: InstallationId,
        /// Obligation code.
        obligation: UnitTypeCode,
        /// Year.
        year: u16,
        /// Whether the year carries no obligation.
        no_obligation: bool,
    },
    /// Suspends or resumes an installation's compliance process for a year (status X).
    SuspendProcess {
        /// Installation.
        installation: InstallationId,
        /// Year.
        year: u16,
        /// Suspended or not.
        suspended: bool,
    },
    /// Processes the deadline: decides the status of every active installation of the
    /// jurisdiction for the obligation and year.
    ProcessDeadline {
        /// Jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Obligation code.
        obligation: UnitTypeCode,
        /// Year.
        year: u16,
    },
    /// Pays money into a participant's cash account (minor currency units).
    Deposit {
        /// Operator holding or trading account.
        account: AccountId,
        /// Amount, minor units (fen, cent).
        amount_minor: i64,
    },
    /// Pays available money out of a participant's cash account.
    Withdraw {
        /// Operator holding or trading account.
        account: AccountId,
        /// Amount, minor units.
        amount_minor: i64,
    },
    /// Places an order on the exchange. A buy reserves price x quantity + fee of cash, a sell
    /// reserves the units; what it trades settles delivery-versus-payment in this transaction.
    PlaceOrder {
        /// The participant's order reference (unique).
        order: OrderRef,
        /// Trading account.
        account: AccountId,
        /// Instrument: the unit class traded, e.g. `CN-SH/CEA/2024`.
        class: UnitClass,
        /// Buy or sell.
        side: OrderSide,
        /// Limit price, minor units per base unit (absent for a market order).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price_minor: Option<i64>,
        /// Base units.
        quantity: u64,
        /// Good till cancelled, day, immediate or cancel, fill or kill, market.
        time_in_force: TimeInForce,
        /// Time of day of the order (trading sessions).
        time: NaiveTime,
    },
    /// Cancels an open order.
    CancelOrder {
        /// Order reference.
        order: OrderRef,
        /// Its owner.
        account: AccountId,
        /// Time of day.
        time: NaiveTime,
    },
    /// Reduces an open order's quantity; it keeps its time priority.
    ReduceOrder {
        /// Order reference.
        order: OrderRef,
        /// Its owner.
        account: AccountId,
        /// Units to take off.
        quantity: u64,
        /// Time of day.
        time: NaiveTime,
    },
    /// Changes an open order's price; it loses its time priority and may trade at once.
    AmendOrder {
        /// Order reference.
        order: OrderRef,
        /// Its owner.
        account: AccountId,
        /// New limit price, minor units per base unit.
        price_minor: i64,
        /// Time of day.
        time: NaiveTime,
    },
    /// Proposes a block trade (大宗协议): negotiated between two named parties, at least the block
    /// threshold, priced within the block band; the proposer's side is reserved.
    ProposeBlockTrade {
        /// Reference of the block trade (unique among order references).
        trade: OrderRef,
        /// The party proposing: the seller or the buyer.
        proposed_by: AccountId,
        /// Seller.
        seller: AccountId,
        /// Buyer.
        buyer: AccountId,
        /// Instrument.
        class: UnitClass,
        /// Price, minor units per base unit.
        price_minor: i64,
        /// Base units.
        quantity: u64,
        /// Time of day (block session).
        time: NaiveTime,
    },
    /// The other party confirms a proposed block trade, which then settles delivery-versus-payment.
    ConfirmBlockTrade {
        /// Block trade reference.
        trade: OrderRef,
        /// The confirming party.
        account: AccountId,
        /// Time of day (block session).
        time: NaiveTime,
    },
    /// The proposer withdraws a block trade not yet confirmed.
    WithdrawBlockTrade {
        /// Block trade reference.
        trade: OrderRef,
        /// The proposer.
        account: AccountId,
    },
    /// Sets up an auction (jurisdiction administrator): the jurisdiction's auction account offers
    /// `rules.supply` allowances of `class` (plus any cost containment reserve), reserved until it
    /// clears; bids are accepted from the auction's date through `closes`.
    CreateAuction {
        /// Auction reference.
        auction: OrderRef,
        /// Allowances sold.
        class: UnitClass,
        /// Supply, lot, reserve price, purchase limit, tie rule, seed, under-subscription rule,
        /// containment reserves (see `yrd_auction::AuctionRules`).
        rules: yrd_auction::AuctionRules,
        /// Last day of the bidding window.
        closes: NaiveDate,
        /// For a joint auction of several jurisdictions: each one's share of the supply (the
        /// first share's class is `class`) and reserve price; empty for a single jurisdiction.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joint: Vec<JointShare>,
        /// What happens to allowances left unsold (default: carried in the auction account to a
        /// later auction).
        #[serde(default, skip_serializing_if = "UnsoldRule::is_carry")]
        unsold: UnsoldRule,
    },
    /// Admits an account to bid in an auction, in a bidder group.
    QualifyBidder {
        /// Auction.
        auction: OrderRef,
        /// Bidder.
        account: AccountId,
        /// Bidder group (purchase limits apply per group).
        group: String,
    },
    /// Places a sealed bid, or replaces the bidder's bid of the same reference; the guarantee
    /// (price x quantity) is reserved from cash.
    SubmitBid {
        /// Auction.
        auction: OrderRef,
        /// Bid reference.
        bid: OrderRef,
        /// Bidder.
        account: AccountId,
        /// Price, minor units per allowance.
        price_minor: i64,
        /// Allowances, a multiple of the lot.
        quantity: u64,
    },
    /// Withdraws a sealed bid before the window closes.
    WithdrawBid {
        /// Auction.
        auction: OrderRef,
        /// Bid reference.
        bid: OrderRef,
        /// Bidder.
        account: AccountId,
    },
    /// Suspends a bidder from an auction, or lifts the suspension.
    SetBidderSuspended {
        /// Auction.
        auction: OrderRef,
        /// Bidder.
        account: AccountId,
        /// Suspended or not.
        suspended: bool,
    },
    /// Clears an auction after its window closed and settles every award.
    ClearAuction {
        /// Auction.
        auction: OrderRef,
    },
    /// Places an operator holding or trading account in an area of the market's geography (a
    /// jurisdiction administrator's act). Cross-regional rules apply to transfers of pollutant
    /// rights between accounts in different areas.
    SetAccountArea {
        /// Account.
        account: AccountId,
        /// Area code from the geography, e.g. `CN-SH-QP` (Qingpu).
        area: String,
    },
    /// One jurisdiction's administrator approves one cross-regional transfer (sender, receiver,
    /// class, quantity). When the administrators of both parties' jurisdictions have approved, the
    /// matching `transfer` may proceed where a rule asks for approval, and uses the approval up.
    ApproveCrossRegionalTransfer {
        /// Approval reference, shared by both jurisdictions' approvals.
        approval: OrderRef,
        /// The approving jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Sending account.
        from: AccountId,
        /// Receiving account.
        to: AccountId,
        /// Units of this class.
        class: UnitClass,
        /// Units delivered by the sender (base units, e.g. kg).
        quantity: u64,
    },
    /// Opens a receptor-constrained call market (a jurisdiction administrator): one pollutant and
    /// vintage over areas of the geography, constrained by its receptors; steps are accepted from
    /// the command's date through `closes`.
    CreateCallMarket {
        /// Market reference.
        market: OrderRef,
        /// Operating jurisdiction (its government account is the cash counterparty).
        operator: JurisdictionCode,
        /// Pollutant (a water or air pollutant unit type of the geography).
        pollutant: UnitTypeCode,
        /// Vintage of the rights issued and accepted.
        vintage: Vintage,
        /// Areas (locations) that may take part; water pollutants need one common basin, air
        /// pollutants one common airshed.
        areas: Vec<String>,
        /// Receptors (monitoring sections, air stations) of the geography constraining the
        /// clearing; each must measure the pollutant.
        receptors: Vec<String>,
        /// Base units (kg) per lot: quantities are whole lots, prices are per lot.
        lot: u64,
        /// Last day of the window.
        closes: NaiveDate,
    },
    /// Submits a sealed step to a call market from a located account: a buy reserves price x lots
    /// of cash, a sell reserves the units.
    SubmitCallStep {
        /// Call market.
        market: OrderRef,
        /// Step reference (unique in the market).
        step: OrderRef,
        /// Submitting account (its area is its location).
        account: AccountId,
        /// Buy or sell.
        side: OrderSide,
        /// For a sell, the class delivered (default: the account's jurisdiction's, of the market's
        /// pollutant and vintage); none for a buy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        class: Option<UnitClass>,
        /// Base units, a multiple of the lot.
        quantity: u64,
        /// Limit price, minor units per lot.
        price_minor: i64,
    },
    /// Withdraws a step before the window closes.
    WithdrawCallStep {
        /// Call market.
        market: OrderRef,
        /// Step reference.
        step: OrderRef,
        /// The submitting account.
        account: AccountId,
    },
    /// Clears a call market after its window and settles every fill at its area's price.
    ClearCallMarket {
        /// Call market.
        market: OrderRef,
    },
    /// Cancels an open call market (its operator, e.g. after a failed clearing): every step's
    /// cash guarantee and reserved units are released; nothing settles.
    CancelCallMarket {
        /// Call market.
        market: OrderRef,
    },
    /// Halts or resumes trading in an instrument (exchange operator).
    SetTradingHalt {
        /// Instrument.
        class: UnitClass,
        /// Halted or not.
        halted: bool,
    },
    /// A holder's transfer, initiated by one representative; it needs a second one's approval
    /// (four eyes, EU Reg. 2019/1122 Art. 35(1)). The units are reserved until it executes or is
    /// cancelled. To an account not on the sender's trusted list at most the configured limit
    /// (`[security] untrusted_transfer_limit`); an operator holding account sends only to trusted
    /// accounts (Art. 23; brief).
    ProposeTransfer {
        /// Transfer id, unique among transfers.
        transfer: OrderRef,
        /// Sending account.
        from: AccountId,
        /// Receiving account.
        to: AccountId,
        /// Units of this class.
        class: UnitClass,
        /// How many.
        quantity: u64,
        /// The initiating representative (opaque user reference, the signed-in username).
        initiator: String,
        /// Registry local time of the proposal.
        at: NaiveDateTime,
    },
    /// A second representative approves a proposed transfer; it executes at once when the
    /// timetable says so (to a trusted account within the window), else it is scheduled (delayed
    /// execution, EU Reg. 2019/1122 Art. 35(2)-(3)).
    ApproveTransfer {
        /// Transfer id.
        transfer: OrderRef,
        /// The approving representative: not the initiator.
        approver: String,
        /// Registry local time of the approval (= proposal for execution).
        at: NaiveDateTime,
    },
    /// Cancels a transfer awaiting approval or scheduled, releasing its units (either
    /// representative may stop a suspicious transfer during the delay).
    CancelTransfer {
        /// Transfer id.
        transfer: OrderRef,
        /// Who cancels.
        by: String,
        /// Registry local time.
        at: NaiveDateTime,
    },
    /// Executes every scheduled transfer due at `at`, in (execute_at, id) order; one that is now
    /// refused becomes failed and its units are released. Submitted by the server every minute.
    ExecuteDueTransfers {
        /// Registry local time.
        at: NaiveDateTime,
    },
    /// Proposes adding `trusted` to `account`'s trusted account list (EU Reg. 2019/1122 Art. 23).
    ProposeTrustedAccount {
        /// The list's account.
        account: AccountId,
        /// The account to trust.
        trusted: AccountId,
        /// The initiating representative.
        initiator: String,
        /// Registry local time.
        at: NaiveDateTime,
    },
    /// A second representative approves a proposed addition; it takes effect after the
    /// configured number of working days (`[security] trusted_activation_working_days`).
    ApproveTrustedAccount {
        /// The list's account.
        account: AccountId,
        /// The trusted account.
        trusted: AccountId,
        /// The approving representative: not the initiator.
        approver: String,
        /// Registry local time.
        at: NaiveDateTime,
    },
    /// Removes an account from a trusted list at once, or withdraws a pending addition
    /// (Art. 23(4): removals are executed immediately).
    RemoveTrustedAccount {
        /// The list's account.
        account: AccountId,
        /// The trusted account.
        trusted: AccountId,
        /// Who removes it.
        by: String,
        /// Registry local time.
        at: NaiveDateTime,
    },
    /// Suspends an account (administrator; EU Reg. 2019/1122 Art. 30) - it can then neither
    /// send nor receive units or cash, place orders, bid or surrender - or reinstates it.
    SetAccountSuspended {
        /// Account.
        account: AccountId,
        /// Suspended or not.
        suspended: bool,
        /// Why (required when suspending).
        reason: String,
    },
    /// Suspends or resumes a process of a jurisdiction (administrator; brief: "administrators
    /// can suspend ... a whole process").
    SetProcessSuspended {
        /// Jurisdiction.
        jurisdiction: JurisdictionCode,
        /// `transfers`, `trading`, `auctions`, `issuance` or `surrender`.
        process: Process,
        /// Suspended or not.
        suspended: bool,
    },
}

impl Command {
    /// The command's type name as stored in the journal's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::OpenSystemAccounts { .. } => "open_system_accounts",
            Command::OpenAccount { .. } => "open_account",
            Command::CloseAccount { .. } => "close_account",
            Command::RegisterInstallation { .. } => "register_installation",
            Command::SetInstallationActive { .. } => "set_installation_active",
            Command::Issue { .. } => "issue",
            Command::Allocate { .. } => "allocate",
            Command::Transfer { .. } => "transfer",
            Command::Surrender { .. } => "surrender",
            Command::ReverseSurrender { .. } => "reverse_surrender",
            Command::Delete { .. } => "delete",
            Command::Cancel { .. } => "cancel",
            Command::EnterEmissions { .. } => "enter_emissions",
            Command::SetNoObligation { .. } => "set_no_obligation",
            Command::SuspendProcess { .. } => "suspend_process",
            Command::ProcessDeadline { .. } => "process_deadline",
            Command::Deposit { .. } => "deposit",
            Command::Withdraw { .. } => "withdraw",
            Command::PlaceOrder { .. } => "place_order",
            Command::CancelOrder { .. } => "cancel_order",
            Command::ReduceOrder { .. } => "reduce_order",
            Command::AmendOrder { .. } => "amend_order",
            Command::SetTradingHalt { .. } => "set_trading_halt",
            Command::CreateAuction { .. } => "create_auction",
            Command::QualifyBidder { .. } => "qualify_bidder",
            Command::SubmitBid { .. } => "submit_bid",
            Command::WithdrawBid { .. } => "withdraw_bid",
            Command::ClearAuction { .. } => "clear_auction",
            Command::SetBidderSuspended { .. } => "set_bidder_suspended",
            Command::ProposeBlockTrade { .. } => "propose_block_trade",
            Command::ConfirmBlockTrade { .. } => "confirm_block_trade",
            Command::WithdrawBlockTrade { .. } => "withdraw_block_trade",
            Command::SetAccountArea { .. } => "set_account_area",
            Command::ApproveCrossRegionalTransfer { .. } => "approve_cross_regional_transfer",
            Command::CreateCallMarket { .. } => "create_call_market",
            Command::SubmitCallStep { .. } => "submit_call_step",
            Command::WithdrawCallStep { .. } => "withdraw_call_step",
            Command::ClearCallMarket { .. } => "clear_call_market",
            Command::CancelCallMarket { .. } => "cancel_call_market",
            Command::ProposeTransfer { .. } => "propose_transfer",
            Command::ApproveTransfer { .. } => "approve_transfer",
            Command::CancelTransfer { .. } => "cancel_transfer",
            Command::ExecuteDueTransfers { .. } => "execute_due_transfers",
            Command::ProposeTrustedAccount { .. } => "propose_trusted_account",
            Command::ApproveTrustedAccount { .. } => "approve_trusted_account",
            Command::RemoveTrustedAccount { .. } => "remove_trusted_account",
            Command::SetAccountSuspended { .. } => "set_account_suspended",
            Command::SetProcessSuspended { .. } => "set_process_suspended",
        }
    }
}

/// One thing a transaction did, recorded in the journal beside the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// An account was opened.
    AccountOpened {
        /// Account.
        account: AccountId,
        /// Kind.
        kind: AccountKind,
    },
    /// An account was closed.
    AccountClosed {
        /// Account.
        account: AccountId,
    },
    /// An installation was registered or changed.
    InstallationUpdated {
        /// Installation.
        installation: InstallationId,
    },
    /// Units were created.
    Issued {
        /// Receiving account.
        to: AccountId,
        /// Class.
        class: UnitClass,
        /// Serials created.
        range: SerialRange,
    },
    /// A call market was opened.
    CallMarketCreated {
        /// Market reference.
        market: OrderRef,
    },
    /// A call-market step was accepted (sealed: the journal holds it, reports do not show it).
    CallStepAccepted {
        /// Market.
        market: OrderRef,
        /// Step.
        step: OrderRef,
    },
    /// A call-market step was withdrawn.
    CallStepWithdrawn {
        /// Market.
        market: OrderRef,
        /// Step.
        step: OrderRef,
    },
    /// One fill of a call market, settled: a buy issued new rights to the buyer and took its
    /// payment; a sell retired the seller's units and paid it.
    CallFill {
        /// Market.
        market: OrderRef,
        /// Step.
        step: OrderRef,
        /// Account.
        account: AccountId,
        /// Buy or sell.
        side: OrderSide,
        /// Class issued (buy) or retired (sell).
        class: UnitClass,
        /// Base units.
        quantity: u64,
        /// Settlement price of the step's area, minor units per lot.
        price_minor: i64,
        /// Paid (buy) or received (sell), minor units.
        amount_minor: i64,
        /// Serials issued or retired.
        ranges: Vec<SerialRange>,
    },
    /// A call market was cancelled; its reservations were released.
    CallMarketCancelled {
        /// Market.
        market: OrderRef,
    },
    /// A call market cleared.
    CallMarketCleared {
        /// Market.
        market: OrderRef,
        /// Buyers' payments minus sellers' receipts, minor units.
        operator_revenue_minor: i64,
    },
    /// An account was placed in an area.
    AreaSet {
        /// Account.
        account: AccountId,
        /// Area code.
        area: String,
    },
    /// A jurisdiction approved a cross-regional transfer; `complete` once both have.
    CrossRegionalTransferApproved {
        /// Approval reference.
        approval: OrderRef,
        /// Approving jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Both parties' jurisdictions have now approved.
        complete: bool,
    },
    /// A transfer of pollutant rights between areas, after its trading ratio (the `Moved`
    /// effects beside it carry the serials).
    CrossRegionalTransfer {
        /// Sender's area.
        from_area: String,
        /// Receiver's area.
        to_area: String,
        /// Pollutant (unit type).
        pollutant: UnitTypeCode,
        /// Units credited to the receiver.
        credited: u64,
        /// Units retired (the ratio's excess), into the issuing jurisdiction's cancellation
        /// account.
        retired: u64,
        /// The trading ratio applied, by name.
        ratio: Option<String>,
        /// The approval used, if a rule asked for one.
        approval: Option<OrderRef>,
    },
    /// Units moved between accounts.
    Moved {
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: AccountId,
        /// Class.
        class: UnitClass,
        /// Serials moved.
        ranges: Vec<SerialRange>,
    },
    /// A shortfall deduction was taken off an allocation.
    AllocationDeducted {
        /// Installation.
        installation: InstallationId,
        /// Units withheld.
        quantity: u64,
    },
    /// Verified emissions were recorded; `rejudged` is the new status if an authority's late
    /// correction re-judged the year.
    EmissionsRecorded {
        /// Installation.
        installation: InstallationId,
        /// Year.
        year: u16,
        /// New status, if re-judged.
        rejudged: Option<StatusCode>,
    },
    /// A compliance setting changed (obligation, suspension).
    ComplianceUpdated {
        /// Installation.
        installation: InstallationId,
        /// Year.
        year: u16,
    },
    /// A status was decided at a deadline.
    StatusDecided {
        /// Installation.
        installation: InstallationId,
        /// Year.
        year: u16,
        /// Code.
        code: StatusCode,
        /// Shortfall, base units.
        shortfall: u64,
        /// Penalty, minor currency units.
        penalty: Money,
    },
    /// Cash paid in.
    CashDeposited {
        /// Account.
        account: AccountId,
        /// Amount, minor units.
        amount_minor: i64,
    },
    /// Cash paid out.
    CashWithdrawn {
        /// Account.
        account: AccountId,
        /// Amount, minor units.
        amount_minor: i64,
    },
    /// An order was accepted (its reservation made).
    OrderAccepted {
        /// Order.
        order: OrderRef,
        /// Instrument.
        class: UnitClass,
        /// Side.
        side: OrderSide,
        /// Reservation price (the limit, or the band bound for a market order), minor units.
        price_minor: i64,
        /// Units.
        quantity: u64,
    },
    /// A trade, settled delivery-versus-payment.
    Traded {
        /// Instrument.
        class: UnitClass,
        /// Price, minor units per base unit.
        price_minor: i64,
        /// Units.
        quantity: u64,
        /// Buy order.
        buy_order: OrderRef,
        /// Sell order.
        sell_order: OrderRef,
        /// Buyer's account.
        buyer: AccountId,
        /// Seller's account.
        seller: AccountId,
        /// Fee charged to each side, minor units.
        fee_minor: i64,
        /// Serials delivered.
        ranges: Vec<SerialRange>,
    },
    /// Units of an order were cancelled (requested, unfilled, self-trade prevention, end of day).
    OrderCancelled {
        /// Order.
        order: OrderRef,
        /// Units.
        quantity: u64,
        /// Why.
        reason: String,
    },
    /// An order was reduced.
    OrderReduced {
        /// Order.
        order: OrderRef,
        /// Units taken off.
        quantity: u64,
    },
    /// An order's price changed.
    OrderAmended {
        /// Order.
        order: OrderRef,
        /// New price, minor units.
        price_minor: i64,
    },
    /// A trading day ended for an instrument.
    DayClosed {
        /// Instrument.
        class: UnitClass,
        /// Closing price, minor units.
        close_minor: i64,
        /// Units traded on the book that day.
        volume: u64,
    },
    /// A block trade was proposed.
    BlockProposed {
        /// Reference.
        trade: OrderRef,
        /// Instrument.
        class: UnitClass,
        /// Price, minor units.
        price_minor: i64,
        /// Units.
        quantity: u64,
    },
    /// A block trade was confirmed and settled delivery-versus-payment.
    BlockTraded {
        /// Reference.
        trade: OrderRef,
        /// Instrument.
        class: UnitClass,
        /// Price, minor units.
        price_minor: i64,
        /// Units.
        quantity: u64,
        /// Buyer.
        buyer: AccountId,
        /// Seller.
        seller: AccountId,
        /// Fee charged to each side, minor units.
        fee_minor: i64,
        /// Serials delivered.
        ranges: Vec<SerialRange>,
    },
    /// A block trade proposal was withdrawn.
    BlockWithdrawn {
        /// Reference.
        trade: OrderRef,
    },
    /// An auction was set up.
    AuctionCreated {
        /// Auction.
        auction: OrderRef,
        /// Allowances sold.
        class: UnitClass,
        /// Supply.
        supply: u64,
    },
    /// A bidder was qualified.
    BidderQualified {
        /// Auction.
        auction: OrderRef,
        /// Bidder.
        account: AccountId,
    },
    /// A sealed bid was placed or replaced (its content stays sealed in the journal's command).
    BidSealed {
        /// Auction.
        auction: OrderRef,
        /// Bid.
        bid: OrderRef,
    },
    /// A bidder was suspended or reinstated.
    BidderSuspended {
        /// Auction.
        auction: OrderRef,
        /// Bidder.
        account: AccountId,
        /// Suspended or not.
        suspended: bool,
    },
    /// A sealed bid was withdrawn.
    BidWithdrawn {
        /// Auction.
        auction: OrderRef,
        /// Bid.
        bid: OrderRef,
    },
    /// A winner's award (or, in a joint auction, its part from one jurisdiction), settled: units
    /// delivered and the clearing price paid to that jurisdiction's auction account.
    AuctionAward {
        /// Auction.
        auction: OrderRef,
        /// Winner.
        account: AccountId,
        /// Allowances delivered.
        class: UnitClass,
        /// Allowances.
        quantity: u64,
        /// Paid, minor units.
        paid_minor: i64,
        /// Serials delivered.
        ranges: Vec<SerialRange>,
    },
    /// An auction was cleared.
    AuctionCleared {
        /// Auction.
        auction: OrderRef,
        /// Clearing price, minor units (none when nothing sold).
        clearing_price_minor: Option<i64>,
        /// Allowances sold.
        sold: u64,
        /// The published seed of the tie draw.
        seed: u64,
    },
    /// Trading halted or resumed.
    TradingHalted {
        /// Instrument.
        class: UnitClass,
        /// Halted or not.
        halted: bool,
    },
    /// A transfer was proposed; its units are reserved.
    TransferProposed {
        /// Transfer id.
        transfer: OrderRef,
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: AccountId,
        /// Class.
        class: UnitClass,
        /// Units.
        quantity: u64,
    },
    /// A transfer was approved; it executes at `execute_at` (the approval's own time when
    /// immediate, a `transfer_executed` then follows).
    TransferApproved {
        /// Transfer id.
        transfer: OrderRef,
        /// When it executes.
        execute_at: NaiveDateTime,
    },
    /// A transfer executed (the `moved` effects beside it carry the serials).
    TransferExecuted {
        /// Transfer id.
        transfer: OrderRef,
        /// When.
        at: NaiveDateTime,
    },
    /// A transfer was cancelled; its units were released.
    TransferCancelled {
        /// Transfer id.
        transfer: OrderRef,
        /// Who cancelled.
        by: String,
    },
    /// A scheduled transfer was refused when due; its units were released.
    TransferFailed {
        /// Transfer id.
        transfer: OrderRef,
        /// The rules it broke.
        reason: String,
    },
    /// An addition to a trusted account list was proposed.
    TrustedAccountProposed {
        /// The list's account.
        account: AccountId,
        /// The trusted account.
        trusted: AccountId,
    },
    /// An addition to a trusted account list was approved.
    TrustedAccountApproved {
        /// The list's account.
        account: AccountId,
        /// The trusted account.
        trusted: AccountId,
        /// From when it is trusted.
        active_from: NaiveDateTime,
    },
    /// An account was removed from a trusted list (or a pending addition withdrawn).
    TrustedAccountRemoved {
        /// The list's account.
        account: AccountId,
        /// The removed account.
        trusted: AccountId,
        /// Who removed it.
        by: String,
    },
    /// An account was suspended or reinstated.
    AccountSuspended {
        /// Account.
        account: AccountId,
        /// Suspended or not.
        suspended: bool,
    },
    /// A process of a jurisdiction was suspended or resumed.
    ProcessSuspended {
        /// Jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Process.
        process: Process,
        /// Suspended or not.
        suspended: bool,
    },
}

/// Side of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSide {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// How long an order lives and how it may trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled: rests until filled or cancelled.
    Gtc,
    /// Rests until the end of the trading day.
    Day,
    /// Immediate or cancel: trades what it can, cancels the rest.
    Ioc,
    /// Fill or kill: trades all at once or nothing.
    Fok,
    /// Market: trades what it can within the price band, cancels the rest.
    Market,
}

/// What happens to allowances an auction did not sell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsoldRule {
    /// They stay in the jurisdiction's auction account, to be offered again (RGGI, CA-QC).
    #[default]
    Carry,
    /// They go back to the jurisdiction's government holding account.
    ReturnToGovernment,
}

impl UnsoldRule {
    /// True for the default.
    pub fn is_carry(&self) -> bool {
        *self == UnsoldRule::Carry
    }
}

/// One jurisdiction's share of a joint auction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointShare {
    /// Allowances it offers (same unit type and vintage as the others).
    pub class: UnitClass,
    /// Quantity it offers, from its auction account.
    pub quantity: u64,
    /// Its own reserve price, minor units; the auction's is the highest.
    pub reserve_price_minor: i64,
}

/// The registry's answer to an accepted submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Journal sequence number of the transaction.
    pub seq: u64,
    /// True when the id had already been applied with the same content: nothing new happened.
    pub duplicate: bool,
    /// What it did (empty for a duplicate).
    pub effects: Vec<Effect>,
}
