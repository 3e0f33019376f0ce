//! Business rules as named checks. Every refusal carries a stable code, a message naming the
//! offending value, and the rule's source where a regulation states it.

use serde::Serialize;

/// A business rule a transaction can break. The code (`as_str`) is stable: clients may match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleCode {
    /// The transaction id was used before with different content.
    TransactionIdReused,
    /// No account with that id.
    UnknownAccount,
    /// No installation with that id.
    UnknownInstallation,
    /// The jurisdiction is not configured.
    UnknownJurisdiction,
    /// The unit type is not configured.
    UnknownUnitType,
    /// The obligation is not configured.
    UnknownObligation,
    /// No surrender transaction with that id.
    UnknownSurrender,
    /// The year lies outside every trading period.
    YearOutsidePeriods,
    /// The year precedes the installation's first compliance year.
    YearBeforeInstallation,
    /// A quantity of zero.
    ZeroQuantity,
    /// A sum would overflow, or exceed the registry's bound per unit class.
    QuantityOverflow,
    /// A quantity above the registry's bound ([`yrd_types::Quantity::MAX`]).
    QuantityTooLarge,
    /// A business date outside 1990-2200.
    DateOutOfRange,
    /// A business date earlier than the last recorded transaction's.
    DateBeforeLast,
    /// Emissions of a year entered before the year has ended.
    YearNotEnded,
    /// A surrender for a year that has not begun.
    YearNotBegun,
    /// The account id is taken.
    DuplicateAccount,
    /// The installation id is taken.
    DuplicateInstallation,
    /// System accounts of the jurisdiction exist already.
    SystemAccountsExist,
    /// System accounts can be opened only with `open_system_accounts`.
    SystemAccountKind,
    /// The account is closed.
    AccountClosed,
    /// The account still holds units.
    AccountNotEmpty,
    /// The sender holds fewer units than requested.
    InsufficientHoldings,
    /// The receiving account's kind may not hold the unit type.
    HolderNotPermitted,
    /// Units may not move between these kinds of account with this transaction.
    TransferNotPermitted,
    /// A system account may hold only its own jurisdiction's units.
    ForeignUnitsInSystemAccount,
    /// The account is not the installation's operator holding account.
    NotInstallationAccount,
    /// The account is already linked to an installation, or is not an operator holding account.
    AccountNotLinkable,
    /// No unit held is eligible for the obligation and year.
    UnitsNotEligible,
    /// The deadline was already processed.
    DeadlineAlreadyProcessed,
    /// The surrender deadline has not passed on the transaction's date.
    DeadlineNotReached,
    /// A reversal larger than what remains of the surrender.
    ReversalExceedsSurrender,
    /// A field's value is unusable (empty name, same sender and receiver).
    InvalidField,
    /// The market configuration has no exchange.
    ExchangeNotConfigured,
    /// Only operator holding and trading accounts trade and hold cash.
    NotAParticipant,
    /// Not enough available cash (no credit).
    InsufficientCash,
    /// Outside the trading sessions or not a trading day.
    OutsideTradingHours,
    /// The instrument is halted.
    InstrumentHalted,
    /// No such instrument (unit type not traded, or class never issued).
    UnknownInstrument,
    /// The order reference was used before.
    DuplicateOrderRef,
    /// No open order with that reference.
    UnknownOrder,
    /// The order belongs to another account.
    NotOrderOwner,
    /// A trading rule (tick, lot, price band, block size, fill-or-kill) refused the order.
    TradingRule,
    /// An auction rule (set-up, lot, supply) refused the command.
    AuctionRule,
    /// The auction's bidding window is closed (or not yet over, for clearing).
    AuctionClosed,
    /// The account is not qualified to bid in the auction.
    NotQualified,
    /// No such area in the market's geography, or the market has none.
    UnknownArea,
    /// A party's installation sector is not in the market's geography.
    UnknownSector,
    /// The area lies in another jurisdiction than the account.
    AreaNotInJurisdiction,
    /// An account holding governed pollutant rights may not move to another area.
    AreaChangeWithHoldings,
    /// An approval command is inconsistent (wrong jurisdiction, reused, different transfer).
    ApprovalRule,
    /// Water-pollutant rights trade only within one river basin.
    CrossBasinWaterTransfer,
    /// Air-pollutant rights leave their airshed only with both jurisdictions' approval.
    CrossAirshedNeedsApproval,
    /// No trades between industrial and agricultural sources.
    IndustryAgricultureTransfer,
    /// Power-sector air-pollutant rights stay in the power sector.
    PowerSectorRingFence,
    /// An area missing its environmental-quality target may not raise its total by transfers in.
    NonAttainmentIncrease,
    /// The market requires both administrators' approval for any cross-jurisdiction transfer.
    CrossJurisdictionNeedsApproval,
    /// After the trading ratio, the receiver would be credited nothing.
    RatioCreditsNothing,
    /// A call-market rule (set-up, lot, area, price, window still open) refused the command.
    CallMarketRule,
    /// The call market's window is over, or it was cleared or cancelled.
    CallMarketClosed,
    /// The clearing solver failed; nothing was settled.
    SpatialSolverFailed,
    /// The approver is the initiator: a second representative must approve (four eyes).
    FourEyes,
    /// An operator holding account may transfer only to accounts on its trusted list.
    NotTrusted,
    /// More units than the per-transfer limit to an account not on the sender's trusted list.
    TransferLimitExceeded,
    /// The account is suspended.
    AccountSuspended,
    /// The process is suspended in the jurisdiction.
    ProcessSuspended,
    /// No transfer with that id.
    UnknownTransfer,
    /// The transfer id was used before.
    DuplicateTransfer,
    /// The transfer is not in a state that allows the command (already approved, executed,
    /// cancelled or failed).
    TransferNotPending,
    /// A trusted-list command is inconsistent (self-trust, already listed, nothing to approve).
    TrustedListRule,
}

impl RuleCode {
    /// The stable code, e.g. `INSUFFICIENT_HOLDINGS`.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The regulation or practice the rule comes from, where one states it.
    pub fn source(self) -> Option<&'static str> {
        Some(match self {
            RuleCode::TransactionIdReused => "idempotent transactions (registry practice)",
            RuleCode::AccountClosed | RuleCode::AccountNotEmpty => {
                "EU Reg. 2019/1122 Art. 26 (account closure)"
            }
            RuleCode::HolderNotPermitted
            | RuleCode::TransferNotPermitted
            | RuleCode::ForeignUnitsInSystemAccount => {
                "EU Reg. 389/2013 Art. 40-60 (which accounts may hold and receive which units); market configuration"
            }
            RuleCode::NotInstallationAccount => {
                "Directive 2003/87/EC Art. 12(3): the operator surrenders from its account"
            }
            RuleCode::UnitsNotEligible => {
                "banking and borrowing rules of the trading periods (market configuration)"
            }
            RuleCode::InsufficientHoldings => "no overdraft: units cannot be created by a transfer",
            RuleCode::FourEyes => {
                "EU Reg. 2019/1122 Art. 35(1) (initiation and approval by two representatives)"
            }
            RuleCode::NotTrusted => {
                "EU Reg. 2019/1122 Art. 23; brief: operator accounts transfer only to trusted accounts"
            }
            RuleCode::TransferLimitExceeded => {
                "EU Reg. 2019/1122 Art. 23(3a); brief: 2,000,000 units per transfer to an untrusted account"
            }
            RuleCode::TrustedListRule => "EU Reg. 2019/1122 Art. 23 (trusted account list)",
            RuleCode::AccountSuspended => {
                "EU Reg. 2019/1122 Art. 30 (suspension of access to accounts)"
            }
            RuleCode::ProcessSuspended => {
                "EU Reg. 2019/1122 Art. 30(1) (access to processes); brief: administrators suspend a whole process"
            }
            RuleCode::TransferNotPending => "EU Reg. 2019/1122 Art. 35 (delayed execution)",
            RuleCode::ReversalExceedsSurrender => {
                "EU Reg. 2019/1122 Art. 68 (reversal of surrender)"
            }
            _ => return None,
        })
    }
}

impl std::fmt::Display for RuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// One broken rule: its code, and a message naming the field and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Rule broken.
    pub code: RuleCode,
    /// The field of the command it concerns, e.g. `from`.
    pub field: &'static str,
    /// What exactly is wrong.
    pub message: String,
}

impl Violation {
    pub(crate) fn new(code: RuleCode, field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }
}

/// A refused transaction: every rule it broke. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub struct Rejection {
    /// The transaction id.
    pub tx_id: String,
    /// The broken rules, in check order.
    pub violations: Vec<Violation>,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transaction {} refused:", self.tx_id)?;
        for v in &self.violations {
            write!(f, " [{}] field `{}`: {}", v.code, v.field, v.message)?;
            if let Some(source) = v.code.source() {
                write!(f, " ({source})")?;
            }
            write!(f, ";")?;
        }
        Ok(())
    }
}

impl Rejection {
    /// True if any violation has `code`.
    pub fn has(&self, code: RuleCode) -> bool {
        self.violations.iter().any(|v| v.code == code)
    }
}
