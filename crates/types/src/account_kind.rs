use serde::{Deserialize, Serialize};

/// The kinds of registry account (EU Reg. 2019/1122 Art. 12-14; CITSS and COATS have the same
/// split). Which kinds may hold which unit types is market configuration; which transactions may
/// move units between kinds is the registry's transfer matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Operator holding account: one per installation, the account it surrenders from.
    OperatorHolding,
    /// Trading (person or company) account: holds and trades units, has no obligation.
    Trading,
    /// A jurisdiction's government holding account: receives issuance, allocates.
    GovernmentHolding,
    /// A jurisdiction's auction account: holds units offered at auction.
    Auction,
    /// A jurisdiction's reserve (new-entrant, price containment): held back from the market.
    Reserve,
    /// A jurisdiction's surrender account: units surrendered for compliance. Terminal, except
    /// for a reversal of surrender.
    Surrender,
    /// A jurisdiction's voluntary cancellation (retirement) account. Terminal.
    Cancellation,
    /// A jurisdiction's deletion account. Terminal.
    Deletion,
}

impl AccountKind {
    /// Every kind, in declaration order.
    pub const ALL: [AccountKind; 8] = [
        AccountKind::OperatorHolding,
        AccountKind::Trading,
        AccountKind::GovernmentHolding,
        AccountKind::Auction,
        AccountKind::Reserve,
        AccountKind::Surrender,
        AccountKind::Cancellation,
        AccountKind::Deletion,
    ];

    /// True for the kinds whose units are out of circulation (surrendered, cancelled, deleted).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            AccountKind::Surrender | AccountKind::Cancellation | AccountKind::Deletion
        )
    }

    /// True for the one-per-jurisdiction accounts the registry itself creates.
    pub fn is_system(self) -> bool {
        !matches!(self, AccountKind::OperatorHolding | AccountKind::Trading)
    }

    /// The snake_case name used in configuration and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::OperatorHolding => "operator_holding",
            AccountKind::Trading => "trading",
            AccountKind::GovernmentHolding => "government_holding",
            AccountKind::Auction => "auction",
            AccountKind::Reserve => "reserve",
            AccountKind::Surrender => "surrender",
            AccountKind::Cancellation => "cancellation",
            AccountKind::Deletion => "deletion",
        }
    }
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
