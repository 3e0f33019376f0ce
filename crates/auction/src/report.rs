//! The public results of an auction: figures only, no bidder identities.

use crate::clear::{Outcome, PriceSetBy, Ratio};
use crate::rules::{AuctionRules, TieRule, UnderSubscription};
use serde::Serialize;

/// What is published after an auction (RGGI, CA-QC and EEX publish these figures; bidders and
/// their awards stay with the administrator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicReport {
    /// What every winner pays per allowance, minor units; `None` when nothing was sold.
    pub clearing_price_minor: Option<i64>,
    /// What set the clearing price.
    pub price_set_by: PriceSetBy,
    /// Reserve price, minor units.
    pub reserve_price_minor: i64,
    /// Supply announced before any containment reserve acted.
    pub supply: u64,
    /// Allowances offered: supply, minus ECR withheld, plus CCR released.
    pub quantity_offered: u64,
    /// Allowances sold.
    pub sold: u64,
    /// Allowances offered and not sold.
    pub unsold: u64,
    /// Cost containment reserve released.
    pub ccr_released: u64,
    /// Emissions containment reserve withheld.
    pub ecr_withheld: u64,
    /// The auction was cancelled (EU rule on under-subscription).
    pub cancelled: bool,
    /// Number of bidders.
    pub bidders: u32,
    /// Number of winning bidders.
    pub winners: u32,
    /// Qualified bid quantity over quantity offered, two decimals.
    pub bid_to_cover: Ratio,
    /// Tie rule.
    pub tie: TieRule,
    /// Under-subscription rule.
    pub under_subscription: UnderSubscription,
    /// The seed of the tie draw, so anyone can repeat it.
    pub seed: u64,
}

impl PublicReport {
    /// The public figures of `outcome`, cleared under `rules`.
    pub fn new(rules: &AuctionRules, outcome: &Outcome) -> PublicReport {
        PublicReport {
            clearing_price_minor: outcome.clearing_price_minor,
            price_set_by: outcome.price_set_by,
            reserve_price_minor: rules.reserve_price_minor,
            supply: rules.supply,
            quantity_offered: outcome.quantity_offered,
            sold: outcome.sold,
            unsold: outcome.unsold,
            ccr_released: outcome.ccr_released,
            ecr_withheld: outcome.ecr_withheld,
            cancelled: outcome.cancelled,
            bidders: outcome.bidders,
            winners: outcome.winners,
            bid_to_cover: outcome.bid_to_cover,
            tie: rules.tie,
            under_subscription: rules.under_subscription,
            seed: outcome.seed,
        }
    }
}
