//! The configuration of one auction: supply, lot, reserve price, purchase limit, tie and
//! under-subscription rules, seed, and the two RGGI containment reserves.

use serde::{Deserialize, Serialize};

/// The largest quantity of allowances one auction may offer (supply, CCR quantity): 10^15, the
/// registry's per-transaction bound (`yrd_types::Quantity::MAX`). Keeping supply below it keeps
/// `percent x supply` and every sum of offered quantities far inside `u64`.
pub const SUPPLY_MAX: u64 = 1_000_000_000_000_000;

/// How bids at the clearing price share what is left when they cannot all be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieRule {
    /// EU common auction platform (EEX; Reg. 1031/2010 Art. 7): the tied bids are put in a
    /// random order and filled in that order, whole lots, until the supply is used up; one bid
    /// may be filled in part.
    Random,
    /// California-Quebec (Cap-and-Trade Regulation s.95911): each tied bid gets its pro-rata share by quantity,
    /// rounded down to whole lots; the lots left over go one each to tied bids in a random order.
    ProRata,
}

/// What happens when the demand at or above the reserve price is below the quantity offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnderSubscription {
    /// EU (Reg. 1031/2010 Art. 7): the auction is cancelled, nothing is sold.
    Cancel,
    /// California-Quebec and RGGI: every bid at or above the reserve price is filled and the
    /// clearing price is the reserve price (the marginal allowance is an unsold one, offered at
    /// the reserve).
    SellBids,
}

/// RGGI cost containment reserve: released when the interim clearing price exceeds the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostContainmentReserve {
    /// Trigger price, minor currency units per allowance (RGGI 2021: 1,300 US cents).
    pub trigger_price_minor: i64,
    /// Allowances added to the supply when released; a whole number of lots.
    pub quantity: u64,
}

/// RGGI emissions containment reserve: withheld when the interim clearing price is below the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionsContainmentReserve {
    /// Trigger price, minor currency units per allowance (RGGI 2021: 600 US cents).
    pub trigger_price_minor: i64,
    /// The largest share of the supply that may be withheld, in percent (RGGI: 10).
    pub withheld_pct: u32,
}

/// One auction's rules. Prices are minor currency units per allowance, quantities allowances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionRules {
    /// Allowances offered before any containment reserve acts; a whole number of lots.
    pub supply: u64,
    /// Lot size: every bid, award and offered quantity is a multiple of it (RGGI, CA-QC 1,000;
    /// EEX 500).
    pub lot: u64,
    /// Nothing sells below this price.
    pub reserve_price_minor: i64,
    /// Purchase limit per bidder group, percent of `supply` (RGGI 25; CA-QC 4/15/40 by class).
    pub purchase_limit_pct: Option<u32>,
    /// How bids at the clearing price share what is left.
    pub tie: TieRule,
    /// Seed of the tie draw; published with the results so anyone can repeat the draw.
    pub seed: u64,
    /// What happens when demand at or above the reserve does not cover the supply.
    pub under_subscription: UnderSubscription,
    /// RGGI cost containment reserve, if the market has one.
    pub ccr: Option<CostContainmentReserve>,
    /// RGGI emissions containment reserve, if the market has one.
    pub ecr: Option<EmissionsContainmentReserve>,
}

/// A rule that a configuration breaks. Each variant is one named check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// `lot` is zero.
    #[error("AUCTION_LOT_ZERO: the lot size must be at least 1")]
    LotZero,
    /// `supply` is zero, above [`SUPPLY_MAX`], or not a whole number of lots.
    #[error(
        "AUCTION_SUPPLY_INVALID: supply {supply} must be 1..={SUPPLY_MAX} and a multiple of the lot {lot}"
    )]
    SupplyInvalid {
        /// The supply given.
        supply: u64,
        /// The lot size.
        lot: u64,
    },
    /// `reserve_price_minor` is negative.
    /// Every real auction has a positive reserve price: at 0, allowances could be sold for nothing.
    #[error("AUCTION_RESERVE_NOT_POSITIVE: reserve price {0} must be positive (minor units)")]
    ReserveNotPositive(i64),
    /// `purchase_limit_pct` is outside 1..=100.
    #[error("AUCTION_PURCHASE_LIMIT_INVALID: purchase limit {0} % must be 1..=100")]
    PurchaseLimitInvalid(u32),
    /// The purchase limit rounds down to less than one lot: no bid could ever win.
    #[error("AUCTION_PURCHASE_LIMIT_BELOW_LOT: {pct} % of {supply} is less than one lot of {lot}")]
    PurchaseLimitBelowLot {
        /// The percentage.
        pct: u32,
        /// The supply.
        supply: u64,
        /// The lot size.
        lot: u64,
    },
    /// The CCR quantity is zero, too large, or not a whole number of lots; or its trigger is
    /// below the reserve price.
    #[error("AUCTION_CCR_INVALID: {0}")]
    CcrInvalid(&'static str),
    /// The ECR share is outside 1..=100, or its trigger is not positive.
    #[error("AUCTION_ECR_INVALID: {0}")]
    EcrInvalid(&'static str),
    /// Both reserves configured with the ECR trigger at or above the CCR trigger: a price could
    /// then both release and withhold.
    #[error("AUCTION_TRIGGERS_CROSSED: the ECR trigger must be below the CCR trigger")]
    TriggersCrossed,
}

impl AuctionRules {
    /// Checks every rule; the first one broken is returned.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.lot == 0 {
            return Err(RulesError::LotZero);
        }
        if self.supply == 0 || self.supply > SUPPLY_MAX || !self.supply.is_multiple_of(self.lot) {
            return Err(RulesError::SupplyInvalid {
                supply: self.supply,
                lot: self.lot,
            });
        }
        if self.reserve_price_minor <= 0 {
            return Err(RulesError::ReserveNotPositive(self.reserve_price_minor));
        }
        if let Some(pct) = self.purchase_limit_pct {
            if !(1..=100).contains(&pct) {
                return Err(RulesError::PurchaseLimitInvalid(pct));
            }
            if self.purchase_limit() == Some(0) {
                return Err(RulesError::PurchaseLimitBelowLot {
                    pct,
                    supply: self.supply,
                    lot: self.lot,
                });
            }
        }
        if let Some(ccr) = self.ccr {
            if ccr.quantity == 0
                || ccr.quantity > SUPPLY_MAX
                || !ccr.quantity.is_multiple_of(self.lot)
            {
                return Err(RulesError::CcrInvalid(
                    "quantity must be 1..=10^15 and a multiple of the lot",
                ));
            }
            if ccr.trigger_price_minor < self.reserve_price_minor {
                return Err(RulesError::CcrInvalid(
                    "trigger price must not be below the reserve price",
                ));
            }
        }
        if let Some(ecr) = self.ecr {
            if !(1..=100).contains(&ecr.withheld_pct) {
                return Err(RulesError::EcrInvalid("withheld share must be 1..=100 %"));
            }
            if ecr.trigger_price_minor <= 0 {
                return Err(RulesError::EcrInvalid("trigger price must be positive"));
            }
        }
        if let (Some(ccr), Some(ecr)) = (self.ccr, self.ecr)
            && ecr.trigger_price_minor >= ccr.trigger_price_minor
        {
            return Err(RulesError::TriggersCrossed);
        }
        Ok(())
    }

    /// The most one bidder group may be awarded: `floor(pct x supply / 100)`, rounded down to
    /// whole lots, of the supply before any containment reserve acts (RGGI and CA-QC set the
    /// limit on the quantity announced in the auction notice).
    pub fn purchase_limit(&self) -> Option<u64> {
        self.purchase_limit_pct
            .map(|pct| percent_in_lots(self.supply, pct, self.lot))
    }

    /// The most the ECR may withhold: `floor(pct x supply / 100)` rounded down to whole lots.
    pub fn ecr_withheld_max(&self) -> u64 {
        self.ecr.map_or(0, |ecr| {
            percent_in_lots(self.supply, ecr.withheld_pct, self.lot)
        })
    }
}

/// `floor(pct x quantity / 100)` rounded down to a multiple of `lot`. Exact: `quantity <=
/// SUPPLY_MAX` and `pct <= 100` keep the product below 2^57.
fn percent_in_lots(quantity: u64, pct: u32, lot: u64) -> u64 {
    debug_assert!(quantity <= SUPPLY_MAX && pct <= 100 && lot > 0);
    let share = quantity * u64::from(pct) / 100;
    share / lot * lot
}
