//! The clearing: purchase limits, interim clearing, containment reserves, final clearing, tie
//! draw, awards. One parent function (`clear`) holds the control flow; the leaves are pure.

use crate::bids::BidBook;
use crate::rules::{AuctionRules, RulesError, TieRule, UnderSubscription};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Why an auction could not be cleared at all. Bad bids never get here: [`BidBook`] refuses them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearError {
    /// The rules break a check.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The bids were checked against another lot size than the rules'.
    #[error("AUCTION_LOT_MISMATCH: bids checked against lot {book}, rules say {rules}")]
    LotMismatch {
        /// The book's lot.
        book: u64,
        /// The rules' lot.
        rules: u64,
    },
}

/// What set the clearing price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSetBy {
    /// The bid at which cumulative demand reaches the quantity offered.
    Bid,
    /// The reserve price: demand at or above it did not cover the quantity offered (`sell_bids`).
    Reserve,
    /// The CCR trigger: the released reserve was not all taken at or above its trigger.
    CcrTrigger,
    /// The ECR trigger: withholding part of the ECR kept the price from falling below it.
    EcrTrigger,
    /// No price: the auction was cancelled or nothing was sold.
    Nothing,
}

/// A ratio of two integers, shown with two decimals (rounded half up) without floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Numerator.
    pub numerator: u64,
    /// Denominator; zero shows as `-`.
    pub denominator: u64,
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.denominator == 0 {
            return f.write_str("-");
        }
        let den = u128::from(self.denominator);
        let hundredths = (u128::from(self.numerator) * 200 + den) / (2 * den);
        write!(f, "{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

impl Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The full record of a clearing, for the administrator. Per-bid vectors are in the book's bid
/// order; per-bidder vectors in the book's bidder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What every winner pays per allowance; `None` when nothing was sold.
    pub clearing_price_minor: Option<i64>,
    /// What set it.
    pub price_set_by: PriceSetBy,
    /// Price of the interim clearing of the base supply (the reserve price when demand at or
    /// above it does not cover the supply), which the containment reserves are tested against.
    pub interim_price_minor: i64,
    /// Allowances offered: supply, minus ECR withheld, plus CCR released.
    pub quantity_offered: u64,
    /// Allowances awarded.
    pub sold: u64,
    /// `quantity_offered - sold`.
    pub unsold: u64,
    /// CCR allowances added to the supply (all of the CCR quantity, or 0).
    pub ccr_released: u64,
    /// Allowances withheld by the ECR.
    pub ecr_withheld: u64,
    /// True when the EU rule cancelled an under-subscribed auction.
    pub cancelled: bool,
    /// Distinct bidders.
    pub bidders: u32,
    /// Bidders awarded at least one lot.
    pub winners: u32,
    /// Qualified demand over quantity offered (see [`Outcome::qualified_quantity`]).
    pub bid_to_cover: Ratio,
    /// Quantity bid at or above the reserve price after purchase limits.
    pub qualified_quantity: u64,
    /// Bids at the clearing price that shared a partial fill (0 when none had to).
    pub tied_bids: u32,
    /// The seed of the tie draw.
    pub seed: u64,
    /// Per bid: the quantity that could win, after the purchase limit (0 below the reserve).
    pub bid_eligible: Vec<u64>,
    /// Per bid: the quantity awarded.
    pub bid_awarded: Vec<u64>,
    /// Per bidder: the quantity awarded, summed over its bids.
    pub bidder_awarded: Vec<u64>,
}

/// One price step of the demand curve, bids sorted by price descending.
#[derive(Debug, Clone, Copy)]
struct Level {
    price_minor: i64,
    /// End (exclusive) of this level's bids in the sorted order.
    end: usize,
    /// Cumulative eligible demand of this level and every higher one.
    through: u64,
}

/// How the final clearing ends.
#[derive(Debug, Clone, Copy)]
enum Fill {
    /// Cumulative demand reaches `supply` at `levels[level]`: it sets the price and shares.
    Exhausted { level: usize, supply: u64 },
    /// Every bid at or above `floor` is filled and pays `price`.
    AllAtOrAbove {
        floor: i64,
        price: i64,
        by: PriceSetBy,
    },
    /// Nothing sells.
    Cancel,
}

/// Clears one auction. Deterministic: the same book, rules and seed give the same outcome.
pub fn clear(book: &BidBook, rules: &AuctionRules) -> Result<Outcome, ClearError> {
    rules.validate()?;
    if book.lot() != rules.lot {
        return Err(ClearError::LotMismatch {
            book: book.lot(),
            rules: rules.lot,
        });
    }
    let reserve = rules.reserve_price_minor;
    let order = sort_by_price(book, reserve);
    let eligible = cut_to_purchase_limits(book, &order, rules.purchase_limit());
    let levels = demand_levels(book, &order, &eligible);

    // Interim clearing of the base supply: the price the containment reserves are tested against.
    let supply = rules.supply;
    let interim = find_level(&levels, supply, reserve);
    let interim_price = interim.map_or(reserve, |i| levels[i].price_minor);

    let mut offered = supply;
    let mut ccr_released = 0;
    let mut ecr_withheld = 0;
    let fill = if let Some(ccr) = rules.ccr.filter(|c| interim_price > c.trigger_price_minor) {
        // RGGI: released when the interim price exceeds the trigger; CCR allowances never sell
        // below the trigger, so the re-clearing's floor is the trigger.
        assert!(
            interim.is_some(),
            "trigger >= reserve, so only a covered supply exceeds it"
        );
        ccr_released = ccr.quantity;
        offered = supply + ccr.quantity;
        let floor = ccr.trigger_price_minor.max(reserve);
        match find_level(&levels, offered, floor) {
            Some(level) => Fill::Exhausted {
                level,
                supply: offered,
            },
            None => Fill::AllAtOrAbove {
                floor,
                price: floor,
                by: PriceSetBy::CcrTrigger,
            },
        }
    } else if let Some(ecr) = rules.ecr.filter(|e| interim_price < e.trigger_price_minor) {
        // RGGI: withhold only as much as keeps the price from falling below the trigger, at most
        // the ECR share of the supply.
        let trigger = ecr.trigger_price_minor;
        let covered = demand_at_or_above(&levels, trigger);
        assert!(
            covered < supply,
            "an interim price below the trigger leaves supply uncovered"
        );
        let needed = supply - covered;
        let withheld_max = rules.ecr_withheld_max();
        if needed <= withheld_max {
            ecr_withheld = needed;
            offered = covered;
            Fill::AllAtOrAbove {
                floor: trigger,
                price: trigger,
                by: PriceSetBy::EcrTrigger,
            }
        } else {
            ecr_withheld = withheld_max;
            offered = supply - withheld_max;
            base_fill(&levels, offered, reserve, rules.under_subscription)
        }
    } else {
        base_fill(&levels, offered, reserve, rules.under_subscription)
    };
    assert!(offered.is_multiple_of(rules.lot));

    let mut rng = ChaCha8Rng::seed_from_u64(rules.seed);
    let (clearing_price, price_set_by, awarded_sorted, tied_bids) = allocate(
        &levels, &order, &eligible, fill, rules.tie, rules.lot, &mut rng,
    );

    let mut bid_eligible = vec![0u64; book.bids().len()];
    let mut bid_awarded = vec![0u64; book.bids().len()];
    let mut bidder_awarded = vec![0u64; book.bidders().len()];
    for (pos, &bid_index) in order.iter().enumerate() {
        let i = bid_index as usize;
        bid_eligible[i] = eligible[pos];
        bid_awarded[i] = awarded_sorted[pos];
        bidder_awarded[book.bids()[i].bidder as usize] += awarded_sorted[pos];
    }
    let sold: u64 = bid_awarded.iter().sum();
    let qualified_quantity = levels.last().map_or(0, |l| l.through);
    let winners = bidder_awarded.iter().filter(|&&a| a > 0).count();
    let outcome = Outcome {
        clearing_price_minor: clearing_price,
        price_set_by,
        interim_price_minor: interim_price,
        quantity_offered: offered,
        sold,
        unsold: offered - sold,
        ccr_released,
        ecr_withheld,
        cancelled: matches!(fill, Fill::Cancel),
        bidders: u32::try_from(book.bidders().len()).expect("bounded by BIDS_MAX"),
        winners: u32::try_from(winners).expect("bounded by BIDS_MAX"),
        bid_to_cover: Ratio {
            numerator: qualified_quantity,
            denominator: offered,
        },
        qualified_quantity,
        tied_bids,
        seed: rules.seed,
        bid_eligible,
        bid_awarded,
        bidder_awarded,
    };
    check_outcome(book, rules, &outcome);
    Ok(outcome)
}

/// The clearing without a containment reserve acting: the step where demand reaches `offered`,
/// or the under-subscription rule.
fn base_fill(levels: &[Level], offered: u64, reserve: i64, rule: UnderSubscription) -> Fill {
    match find_level(levels, offered, reserve) {
        Some(level) => Fill::Exhausted {
            level,
            supply: offered,
        },
        None if offered == 0 => Fill::Cancel,
        None => match rule {
            UnderSubscription::Cancel => Fill::Cancel,
            UnderSubscription::SellBids => Fill::AllAtOrAbove {
                floor: reserve,
                price: reserve,
                by: PriceSetBy::Reserve,
            },
        },
    }
}

/// Indices of the bids at or above the reserve price, by price descending, then order of arrival.
/// Bids below the reserve can never win and, coming last in their group, never use up a
/// purchase limit, so they are left out here.
fn sort_by_price(book: &BidBook, reserve: i64) -> Vec<u32> {
    // One u128 key per bid: the inverted price above the bid index, so an unstable sort of plain
    // integers gives (price desc, arrival asc) and no two keys are equal.
    let mut keys: Vec<u128> = book
        .bids()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.price_minor >= reserve)
        .map(|(i, b)| {
            let price = u64::try_from(b.price_minor).expect("bids have positive prices");
            (u128::from(!price) << 32) | i as u128
        })
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|k| k as u32).collect()
}

/// Each group's bids cut, highest price first (arrival order within a price), so the group's
/// total never exceeds `limit`. `limit` is whole lots, so every cut quantity is too.
fn cut_to_purchase_limits(book: &BidBook, order: &[u32], limit: Option<u64>) -> Vec<u64> {
    let mut left = vec![limit.unwrap_or(u64::MAX); book.groups().len()];
    let groups = book.bidder_groups();
    order
        .iter()
        .map(|&i| {
            let bid = &book.bids()[i as usize];
            let group_left = &mut left[groups[bid.bidder as usize] as usize];
            let quantity = bid.quantity.min(*group_left);
            *group_left -= quantity;
            quantity
        })
        .collect()
}

fn demand_levels(book: &BidBook, order: &[u32], eligible: &[u64]) -> Vec<Level> {
    let mut levels: Vec<Level> = Vec::new();
    let mut through = 0u64;
    for (pos, &i) in order.iter().enumerate() {
        let price = book.bids()[i as usize].price_minor;
        through += eligible[pos];
        match levels.last_mut() {
            Some(level) if level.price_minor == price => {
                level.end = pos + 1;
                level.through = through;
            }
            _ => levels.push(Level {
                price_minor: price,
                end: pos + 1,
                through,
            }),
        }
    }
    levels
}

/// The first level, priced at or above `floor`, where cumulative demand reaches `supply`.
fn find_level(levels: &[Level], supply: u64, floor: i64) -> Option<usize> {
    let i = levels.partition_point(|l| l.through < supply);
    (i < levels.len() && levels[i].price_minor >= floor).then_some(i)
}

fn demand_at_or_above(levels: &[Level], price: i64) -> u64 {
    match levels.partition_point(|l| l.price_minor >= price) {
        0 => 0,
        n => levels[n - 1].through,
    }
}

/// Awards per sorted position, the clearing price, what set it, and how many bids shared a
/// partial fill.
fn allocate(
    levels: &[Level],
    order: &[u32],
    eligible: &[u64],
    fill: Fill,
    tie: TieRule,
    lot: u64,
    rng: &mut ChaCha8Rng,
) -> (Option<i64>, PriceSetBy, Vec<u64>, u32) {
    let mut awarded = vec![0u64; order.len()];
    match fill {
        Fill::Cancel => (None, PriceSetBy::Nothing, awarded, 0),
        Fill::AllAtOrAbove { floor, price, by } => {
            let n = levels.partition_point(|l| l.price_minor >= floor);
            let end = if n == 0 { 0 } else { levels[n - 1].end };
            awarded[..end].copy_from_slice(&eligible[..end]);
            let sold = if n == 0 { 0 } else { levels[n - 1].through };
            if sold == 0 {
                (None, PriceSetBy::Nothing, awarded, 0)
            } else {
                (Some(price), by, awarded, 0)
            }
        }
        Fill::Exhausted { level, supply } => {
            let start = if level == 0 { 0 } else { levels[level - 1].end };
            let above = if level == 0 {
                0
            } else {
                levels[level - 1].through
            };
            let end = levels[level].end;
            awarded[..start].copy_from_slice(&eligible[..start]);
            let remaining = supply - above;
            let level_demand = levels[level].through - above;
            let tied_bids = if remaining == level_demand {
                awarded[start..end].copy_from_slice(&eligible[start..end]);
                0
            } else {
                let tied: Vec<usize> = (start..end).filter(|&p| eligible[p] > 0).collect();
                let drawn = draw_order(&tied, rng);
                match tie {
                    TieRule::Random => fill_in_order(&drawn, eligible, remaining, &mut awarded),
                    TieRule::ProRata => fill_pro_rata(
                        &tied,
                        &drawn,
                        eligible,
                        remaining,
                        level_demand,
                        lot,
                        &mut awarded,
                    ),
                }
                u32::try_from(tied.len()).expect("bounded by BIDS_MAX")
            };
            (
                Some(levels[level].price_minor),
                PriceSetBy::Bid,
                awarded,
                tied_bids,
            )
        }
    }
}

/// The published tie draw: the k-th tied bid in order of arrival gets the k-th `next_u64()` of
/// `ChaCha8Rng::seed_from_u64(seed)` as its key; bids are served by key ascending (equal keys by
/// arrival). `tied` is in arrival order, so the result is reproducible from the seed alone.
fn draw_order(tied: &[usize], rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = tied.iter().map(|&p| (rng.next_u64(), p)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, p)| p).collect()
}

/// EEX: tied bids filled whole in drawn order until `remaining` is used up.
fn fill_in_order(drawn: &[usize], eligible: &[u64], mut remaining: u64, awarded: &mut [u64]) {
    for &p in drawn {
        let q = eligible[p].min(remaining);
        awarded[p] = q;
        remaining -= q;
    }
    assert_eq!(remaining, 0, "tied demand exceeds what is left");
}

/// CA-QC: pro-rata shares by quantity rounded down to lots; the remainder one lot each in drawn
/// order. Each share is below its bid (remaining < tied demand), so every bid has room for one
/// more lot, and fewer lots remain than there are tied bids: one pass suffices.
fn fill_pro_rata(
    tied: &[usize],
    drawn: &[usize],
    eligible: &[u64],
    remaining: u64,
    level_demand: u64,
    lot: u64,
    awarded: &mut [u64],
) {
    assert!(remaining < level_demand);
    let mut given = 0u64;
    for &p in tied {
        let exact = u128::from(eligible[p]) * u128::from(remaining) / u128::from(level_demand);
        let share = u64::try_from(exact).expect("below the bid") / lot * lot;
        awarded[p] = share;
        given += share;
    }
    let mut lots_left = (remaining - given) / lot;
    assert_eq!((remaining - given) % lot, 0);
    assert!(lots_left < tied.len() as u64);
    for &p in drawn {
        if lots_left == 0 {
            break;
        }
        assert!(awarded[p] + lot <= eligible[p]);
        awarded[p] += lot;
        lots_left -= 1;
    }
    assert_eq!(lots_left, 0);
}

/// Postconditions of every clearing: a failure is a bug, not bad input.
fn check_outcome(book: &BidBook, rules: &AuctionRules, o: &Outcome) {
    assert!(o.sold <= o.quantity_offered);
    assert_eq!(o.bidder_awarded.iter().sum::<u64>(), o.sold);
    assert_eq!(o.sold == 0, o.clearing_price_minor.is_none());
    assert!(o.ecr_withheld <= rules.ecr_withheld_max());
    assert_eq!(
        o.quantity_offered + o.ecr_withheld,
        rules.supply + o.ccr_released
    );
    for (i, bid) in book.bids().iter().enumerate() {
        let awarded = o.bid_awarded[i];
        assert!(awarded <= o.bid_eligible[i] && o.bid_eligible[i] <= bid.quantity);
        assert!(awarded.is_multiple_of(rules.lot));
        if let Some(price) = o.clearing_price_minor {
            assert!(price >= rules.reserve_price_minor);
            if awarded > 0 {
                assert!(bid.price_minor >= price, "a winner bid below the price");
            }
            if bid.price_minor > price {
                assert_eq!(
                    awarded, o.bid_eligible[i],
                    "a bid above the price was not filled"
                );
            }
        }
    }
    if let Some(limit) = rules.purchase_limit() {
        let mut per_group = vec![0u64; book.groups().len()];
        for (b, &a) in o.bidder_awarded.iter().enumerate() {
            per_group[book.bidder_groups()[b] as usize] += a;
        }
        assert!(per_group.iter().all(|&g| g <= limit));
    }
}
