//! Hot spots: what one-for-one trading would do to the receptors, beside the smart market.
//!
//! A uniform one-for-one pool ignores the receptors: one price, every tonne the same wherever it
//! is discharged. [`uniform_pool`] clears the problem's bids that way and pairs them into
//! trades; [`analyse`] gives, per receptor, the load change of a set of trades against the
//! headroom and the smart market's own load change, and flags every trade whose own load change
//! at some receptor is positive and above that receptor's headroom - the trades that create a
//! hot spot (Hung & Shaw 2005 and the brief: a tonne moved upstream-to-downstream need not be
//! harmless even when the total is).

use crate::{Clearing, Problem, Side, SpatialError};

/// Relative tolerance of "exceeds the headroom": `1e-9 x max(1, |H_r|)`.
const EXCEED_TOLERANCE: f64 = 1e-9;

/// One one-for-one trade: the seller's location discharges `quantity` lots less, the buyer's
/// `quantity` lots more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// Index into [`Problem::locations`].
    pub seller_location: usize,
    /// Index into [`Problem::locations`].
    pub buyer_location: usize,
    /// Lots.
    pub quantity: u64,
    /// The sell step it came from (in a pool), index into [`Problem::steps`].
    pub seller_step: Option<usize>,
    /// The buy step it came from (in a pool), index into [`Problem::steps`].
    pub buyer_step: Option<usize>,
}

/// A uniform one-for-one pool on the problem's bids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The clearing price, minor units per lot: the midpoint (rounded down) of the interval of
    /// prices that clear the pool, from `max(last matched sell, first unmatched buy)` to
    /// `min(last matched buy, first unmatched sell)`; `None` when nothing trades.
    pub price: Option<i64>,
    /// The matched pairs, in matching order.
    pub trades: Vec<Trade>,
}

/// Clears the bids as a uniform one-for-one pool, ignoring receptors and cap: buys by price
/// descending, sells by price ascending (equal prices: the order of the steps in the problem),
/// the highest remaining buy matched with the lowest remaining sell while the buy's price is at
/// least the sell's, each match one trade of the smaller remaining quantity. The problem is not validated here.
pub fn uniform_pool(problem: &Problem) -> Pool {
    let steps = &problem.steps;
    let mut buys: Vec<usize> = (0..steps.len())
        .filter(|&k| steps[k].side == Side::Buy)
        .collect();
    buys.sort_by_key(|&k| std::cmp::Reverse(steps[k].price));
    let mut sells: Vec<usize> = (0..steps.len())
        .filter(|&k| steps[k].side == Side::Sell)
        .collect();
    sells.sort_by_key(|&k| steps[k].price);
    let (mut b, mut s) = (0, 0);
    let mut left_b = buys.first().map_or(0, |&k| steps[k].quantity);
    let mut left_s = sells.first().map_or(0, |&k| steps[k].quantity);
    let mut trades = Vec::new();
    let mut last: Option<(i64, i64)> = None;
    while b < buys.len() && s < sells.len() && steps[buys[b]].price >= steps[sells[s]].price {
        let (kb, ks) = (buys[b], sells[s]);
        let q = left_b.min(left_s);
        trades.push(Trade {
            seller_location: steps[ks].location,
            buyer_location: steps[kb].location,
            quantity: q,
            seller_step: Some(ks),
            buyer_step: Some(kb),
        });
        last = Some((steps[kb].price, steps[ks].price));
        left_b -= q;
        left_s -= q;
        if left_b == 0 {
            b += 1;
            left_b = buys.get(b).map_or(0, |&k| steps[k].quantity);
        }
        if left_s == 0 {
            s += 1;
            left_s = sells.get(s).map_or(0, |&k| steps[k].quantity);
        }
    }
    let price = last.map(|(buy, sell)| {
        let next_buy = buys.get(b).map(|&k| steps[k].price);
        let next_sell = sells.get(s).map(|&k| steps[k].price);
        let lo = next_buy.map_or(sell, |p| p.max(sell));
        let hi = next_sell.map_or(buy, |p| p.min(buy));
        lo + (hi - lo) / 2
    });
    Pool { price, trades }
}

/// One receptor under a set of trades and under the smart market.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceptorCheck {
    /// Index into [`Problem::receptors`].
    pub receptor: usize,
    /// `H_r`, receptor units.
    pub headroom: f64,
    /// Load change of the whole set of trades, receptor units.
    pub trades_load: f64,
    /// Load change of the smart market's clearing (after rounding), receptor units.
    pub smart_load: f64,
    /// The set of trades takes the receptor over its headroom.
    pub hot_spot: bool,
}

/// One trade's own load changes.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeCheck {
    /// Index into the trades analysed.
    pub trade: usize,
    /// Per receptor: `quantity x (a_r,buyer - a_r,seller)`, receptor units.
    pub load: Vec<f64>,
    /// Receptors where that load change is positive and above the headroom (empty: harmless on
    /// its own).
    pub over: Vec<usize>,
}

/// The hot-spot analysis of a set of trades.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotReport {
    /// Per receptor, in problem order.
    pub receptors: Vec<ReceptorCheck>,
    /// Per trade, in the order given.
    pub trades: Vec<TradeCheck>,
}

impl HotspotReport {
    /// The trades that create a hot spot on their own.
    pub fn hot_trades(&self) -> impl Iterator<Item = &TradeCheck> {
        self.trades.iter().filter(|t| !t.over.is_empty())
    }
}

fn exceeds(load: f64, headroom: f64) -> bool {
    load > headroom + EXCEED_TOLERANCE * headroom.abs().max(1.0)
}

/// Analyses `trades` against the receptors of `problem`, beside `smart` (the clearing of the same
/// problem).
///
/// # Errors
/// Any [`Problem::validate`] failure, and [`SpatialError::LocationOutOfRange`] for a trade
/// naming a location that does not exist (its id is `trade <n>`, 1-based).
pub fn analyse(
    problem: &Problem,
    trades: &[Trade],
    smart: &Clearing,
) -> Result<HotspotReport, SpatialError> {
    problem.validate()?;
    let n_loc = problem.locations.len();
    for (n, t) in trades.iter().enumerate() {
        for location in [t.seller_location, t.buyer_location] {
            if location >= n_loc {
                return Err(SpatialError::LocationOutOfRange {
                    step: format!("trade {}", n + 1),
                    location,
                    locations: n_loc,
                });
            }
        }
    }
    let checks: Vec<TradeCheck> = trades
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let q = t.quantity as f64;
            let load: Vec<f64> = problem
                .coefficients
                .iter()
                .map(|row| q * row[t.buyer_location] - q * row[t.seller_location])
                .collect();
            let over = load
                .iter()
                .zip(&problem.receptors)
                .enumerate()
                .filter(|&(_, (&l, r))| l > 0.0 && exceeds(l, r.headroom))
                .map(|(r, _)| r)
                .collect();
            TradeCheck {
                trade: n,
                load,
                over,
            }
        })
        .collect();
    // Net change per location of the whole set, then each receptor's load from it.
    let mut net = vec![0.0f64; n_loc];
    for t in trades {
        net[t.buyer_location] += t.quantity as f64;
        net[t.seller_location] -= t.quantity as f64;
    }
    let receptors = problem
        .receptors
        .iter()
        .enumerate()
        .map(|(r, spec)| {
            let trades_load: f64 = problem.coefficients[r]
                .iter()
                .zip(&net)
                .map(|(a, d)| a * d)
                .sum();
            ReceptorCheck {
                receptor: r,
                headroom: spec.headroom,
                trades_load,
                smart_load: smart.receptor_load.get(r).copied().unwrap_or(0.0),
                hot_spot: exceeds(trades_load, spec.headroom),
            }
        })
        .collect();
    Ok(HotspotReport {
        receptors,
        trades: checks,
    })
}
