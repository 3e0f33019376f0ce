//! Primary market of yrd-ets: the pure clearing of a single-round, sealed-bid, uniform-price
//! allowance auction as RGGI, the California-Quebec joint auction and the EU common auction
//! platform (EEX) run theirs. Integer only: prices are minor currency units per allowance
//! (`i64`), quantities allowances (`u64`). No I/O beyond reading a CSV from a `Read`, no clock,
//! no registry: the service above qualifies bidders, holds guarantees and settles.
//!
//! # The clearing, step by step
//! 1. **Bids below the reserve price** never sell and are set aside.
//! 2. **Purchase limits** (RGGI 25 %, CA-QC 4/15/40 %) apply before clearing: the limit is
//!    `floor(pct x supply / 100)` rounded down to whole lots, of the supply announced (before any
//!    containment reserve acts). Each group's bids are taken highest price first (order of
//!    arrival within a price) and cut so the group's total never exceeds the limit.
//! 3. **Interim clearing** of the supply: bids sorted by price descending, quantities accumulated;
//!    the clearing price is the price of the bid at which cumulative demand reaches the supply
//!    (CA-QC: the bid that buys the last allowance). When demand at or above the reserve does not
//!    reach the supply, the interim price is the reserve price.
//!    - At an exact step edge (cumulative demand equals the supply at a bid) the price is that
//!      bid's price, the CA-QC wording. RGGI words it as the highest rejected bid, which would be
//!      the next lower price there; this crate follows the CA-QC wording.
//! 4. **Cost containment reserve** (RGGI): if the interim price exceeds the CCR trigger, the CCR
//!    quantity is added to the supply and the auction re-cleared. CCR allowances never sell below
//!    their trigger: bids below it are out of the re-clearing, and if the demand at or above the
//!    trigger does not take the whole enlarged supply, every such bid is filled at the trigger
//!    price and the rest of the CCR stays unsold.
//! 5. **Emissions containment reserve** (RGGI): if the interim price is below the ECR trigger,
//!    allowances are withheld only to the extent needed to keep the price from falling below the
//!    trigger, at most `floor(withheld_pct x supply / 100)` in whole lots. With `covered` the
//!    demand at or above the trigger: if `supply - covered` fits in that maximum, it is withheld,
//!    every bid at or above the trigger is filled and the price is the trigger (withholding never
//!    raises the price above the trigger); otherwise the maximum is withheld and the reduced
//!    supply is cleared as in step 3 (the price then stays below the trigger).
//! 6. **Under-subscription** (demand at or above the reserve below the quantity offered, after
//!    the reserves acted): `cancel` (EU, Reg. 1031/2010 Art. 7) sells nothing and has no price;
//!    `sell_bids` (CA-QC, RGGI) fills every bid at or above the reserve at the reserve price -
//!    the price of the marginal, unsold allowance, as in the undersubscribed CA-QC auction of
//!    May 2016 and the RGGI auctions of 2010-2012, which settled at the reserve price.
//! 7. **Ties**: bids at the clearing price share what the higher bids left. If it covers them
//!    all they are filled; otherwise the tie rule applies (bids cut to zero by a purchase limit
//!    take no part): `random` (EEX) fills the tied bids whole, in drawn order, until the supply
//!    is used up (one bid may be filled in part); `pro_rata` (CA-QC) gives each
//!    `floor(bid x left / tied demand)` rounded down to whole lots, then the lots left over (fewer
//!    than the tied bids) one each in drawn order.
//!
//! # The published tie draw, for a third party to repeat
//! A draw is made only when the bids at the clearing price cannot all be filled.
//! 1. `let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed)` (rand_chacha 0.9 /
//!    rand_core 0.9: the `u64` is expanded to the 32-byte key with PCG32, as documented for
//!    `SeedableRng::seed_from_u64`).
//! 2. List the tied bids (at the clearing price, quantity after purchase limits above zero) in
//!    the order they arrived (CSV line order).
//! 3. The k-th listed bid gets the key `rng.next_u64()` of the k-th call.
//! 4. The drawn order is by key ascending (equal keys, vanishingly unlikely, by arrival).
//!
//! One generator serves one auction and the draw is its only use, so the same seed and bids give
//! the same awards on every machine.
//!
//! # Other published figures
//! Bid-to-cover is the qualified quantity (bid at or above the reserve, after purchase limits;
//! CA-QC's "qualified bids") over the quantity offered (supply, minus ECR withheld, plus CCR
//! released), printed with two decimals rounded half up, computed in integers.

mod bids;
mod clear;
mod report;
mod rules;

pub use bids::{
    BID_QUANTITY_MAX, BIDS_MAX, Bid, BidBook, BidError, BidField, BidRule, DEMAND_TOTAL_MAX,
    read_bids_csv,
};
pub use clear::{ClearError, Outcome, PriceSetBy, Ratio, clear};
pub use report::PublicReport;
pub use rules::{
    AuctionRules, CostContainmentReserve, EmissionsContainmentReserve, RulesError, SUPPLY_MAX,
    TieRule, UnderSubscription,
};
