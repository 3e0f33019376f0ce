//! Rule 4: continuous fills to whole lots, then the deterministic repair that keeps every
//! receptor (and the cap) within its limit and the operator's settled revenue non-negative.

use crate::primal::Group;
use crate::{Problem, Side, SpatialError};

/// A group fill within this many lots of an integer is that integer before flooring.
pub(crate) const SNAP: f64 = 1e-6;

/// Relative allowance of a receptor's (or the cap's) limit: `1e-9 x max(1, |H_r|)`.
pub(crate) const LIMIT_TOLERANCE: f64 = 1e-9;

/// Rounds of the repair (receptor repair, then revenue repair) with exact revenue cuts; from the
/// next round on every sell cut is at least `2^(round - EXACT_ROUNDS)` lots (rule 4).
pub(crate) const EXACT_ROUNDS: u32 = 16;

/// A row's limit in rule 4: `base`, plus the float noise of the load when `noise` is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    /// Receptor units (weighted lots for the cap).
    pub base: f64,
    /// Add `(n + 1) x f64::EPSILON x sum_i |c_i D_i|` over the `n` locations: a bound on the
    /// rounding error of the load's products and sum (exact integers `D_i`).
    pub noise: bool,
}

impl Limit {
    /// The limit of a row whose bound (a non-negative headroom, the cap) is a limit in its own
    /// right: `bound + 1e-9 x max(1, |bound|)` plus the float noise.
    pub fn whole_lots(bound: f64) -> Limit {
        Limit {
            base: bound + LIMIT_TOLERANCE * bound.abs().max(1.0),
            noise: true,
        }
    }

    /// The limit for the net change `net`.
    pub fn at(&self, coefficients: &[f64], net: &[i64]) -> f64 {
        if !self.noise {
            return self.base;
        }
        let size: f64 = coefficients
            .iter()
            .zip(net)
            .map(|(&a, &d)| (a * d as f64).abs())
            .sum();
        self.base + (net.len() + 1) as f64 * f64::EPSILON * size
    }

    /// `load - limit` for the net change `net`; positive when over.
    pub fn excess(&self, coefficients: &[f64], net: &[i64]) -> f64 {
        load(coefficients, net) - self.at(coefficients, net)
    }
}

/// What the rounding needs besides the problem.
pub(crate) struct RoundingInput<'a> {
    pub problem: &'a Problem,
    pub groups: &'a [Group],
    /// Continuous fill per group after classification (0 / partial / quantity), lots.
    pub group_fill: &'a [f64],
    /// `limit_r` per receptor, receptor units.
    pub limits: &'a [Limit],
    /// The cap's limit, weighted lots (when there is a cap).
    pub cap_limit: Option<Limit>,
    /// Settlement price per location, minor units per lot.
    pub settlement: &'a [i64],
    /// True when the continuous operator revenue was non-negative: the settled one must be too.
    pub revenue_guard: bool,
}

/// Whole-lot fills per step (rule 4).
pub(crate) fn round(input: &RoundingInput<'_>) -> Result<Vec<u64>, SpatialError> {
    let problem = input.problem;
    let steps = &problem.steps;
    let mut fills = vec![0u64; steps.len()];
    for (g, &x) in input.groups.iter().zip(input.group_fill) {
        let nearest = x.round();
        let snapped = if (x - nearest).abs() <= SNAP {
            nearest
        } else {
            x
        };
        let lots = snapped.floor().clamp(0.0, g.quantity as f64) as u64;
        split(lots, g, problem, &mut fills);
    }
    let mut net = net_change(problem, &fills)?;

    // Repair order: buys cheapest first, sells dearest first; among equal prices the step that
    // comes last in the problem's step order goes first.
    let mut buys: Vec<usize> = (0..steps.len())
        .filter(|&k| steps[k].side == Side::Buy)
        .collect();
    buys.sort_by_key(|&k| (steps[k].price, std::cmp::Reverse(k)));
    let mut sells: Vec<usize> = (0..steps.len())
        .filter(|&k| steps[k].side == Side::Sell)
        .collect();
    sells.sort_by_key(|&k| (std::cmp::Reverse(steps[k].price), std::cmp::Reverse(k)));

    // The two repairs can feed each other: a sell cut raises a load, the buy cut that restores it
    // lowers the revenue again, a few lots a round when the settlement prices are (nearly)
    // proportional to the coefficients - 10^10 rounds for 10^11-lot steps. Up to EXACT_ROUNDS
    // rounds cut exactly what is needed; after that the least sell cut doubles every round, and
    // every round cuts that much or empties a sell step, so the sells (at most 10^15 lots) are
    // used up within about 50 more rounds plus one per sell step; with no sells left the revenue
    // cannot be negative.
    let mut round: u32 = 0;
    loop {
        round += 1;
        let least: i128 = if round > EXACT_ROUNDS {
            1i128 << (round - EXACT_ROUNDS).min(100)
        } else {
            1
        };
        repair_receptors(input, &buys, &mut fills, &mut net);
        if !input.revenue_guard {
            break;
        }
        let mut revenue = revenue(input.settlement, &net)?;
        if revenue >= 0 {
            break;
        }
        let mut changed = false;
        for &k in &sells {
            if revenue >= 0 {
                break;
            }
            let i = steps[k].location;
            let price = i128::from(input.settlement[i]);
            if price <= 0 || fills[k] == 0 {
                continue;
            }
            // ceil(-revenue / price) (at least `least`), at most the fill.
            let need = ((-revenue + price - 1) / price).max(least);
            let cut = need.min(i128::from(fills[k])) as u64;
            fills[k] -= cut;
            net[i] += cut as i64;
            revenue += price * i128::from(cut);
            changed = true;
        }
        if !changed {
            // Unreachable: a negative revenue needs a location with a positive price and a net
            // sale, hence a filled sell there. Stop rather than loop.
            break;
        }
    }
    Ok(fills)
}

/// Shares a group's whole lots among its steps: the floor of each pro-rata share, then one more
/// lot each to the largest remainders (equal remainders: the order of the steps in the problem).
/// Exact integer arithmetic.
fn split(lots: u64, g: &Group, problem: &Problem, fills: &mut [u64]) {
    if let [k] = g.steps[..] {
        fills[k] = lots;
        return;
    }
    let total = u128::from(g.quantity);
    let mut remainders = Vec::with_capacity(g.steps.len());
    let mut given: u64 = 0;
    for &k in &g.steps {
        let share = u128::from(lots) * u128::from(problem.steps[k].quantity);
        // share / total <= lots.
        let base = (share / total) as u64;
        fills[k] = base;
        given += base;
        remainders.push((share % total, k));
    }
    // Stable sort: equal remainders keep the problem's step order.
    remainders.sort_by_key(|&(rem, _)| std::cmp::Reverse(rem));
    for &(_, k) in remainders.iter().take((lots - given) as usize) {
        fills[k] += 1;
    }
}

/// `D_i` = buy fills - sell fills per location, lots.
pub(crate) fn net_change(problem: &Problem, fills: &[u64]) -> Result<Vec<i64>, SpatialError> {
    let mut net = vec![0i64; problem.locations.len()];
    for (step, &f) in problem.steps.iter().zip(fills) {
        // Every fill is at most 10^15 and all of them at most 10^18: no overflow, but check.
        let f = i64::try_from(f).map_err(|_| SpatialError::Overflow("a fill"))?;
        let d = &mut net[step.location];
        *d = match step.side {
            Side::Buy => d.checked_add(f),
            Side::Sell => d.checked_sub(f),
        }
        .ok_or(SpatialError::Overflow("a net change"))?;
    }
    Ok(net)
}

/// `sum_i P_i x D_i`, minor units.
pub(crate) fn revenue(settlement: &[i64], net: &[i64]) -> Result<i128, SpatialError> {
    settlement
        .iter()
        .zip(net)
        .try_fold(0i128, |acc, (&p, &d)| {
            acc.checked_add(i128::from(p) * i128::from(d))
        })
        .ok_or(SpatialError::Overflow("the operator revenue"))
}

/// `sum_i c_i x D_i` in a fixed order.
pub(crate) fn load(coefficients: &[f64], net: &[i64]) -> f64 {
    coefficients
        .iter()
        .zip(net)
        .map(|(&a, &d)| a * d as f64)
        .sum()
}

/// While a receptor or the cap is over its limit: take the most violated (equal excess: lowest
/// index, the cap after every receptor) and cut buys where it has a positive coefficient, in
/// `buys` order, each by `ceil(excess / a_ri)` lots at most its fill, until it is within.
fn repair_receptors(input: &RoundingInput<'_>, buys: &[usize], fills: &mut [u64], net: &mut [i64]) {
    let problem = input.problem;
    let mut rows: Vec<(&[f64], Limit)> = problem
        .coefficients
        .iter()
        .zip(input.limits)
        .map(|(c, &limit)| (c.as_slice(), limit))
        .collect();
    if let Some(cap) = &problem.tonnage_cap {
        let limit = input
            .cap_limit
            .unwrap_or_else(|| Limit::whole_lots(cap.cap));
        rows.push((&cap.weights, limit));
    }
    // Rows that no cut can bring within (only possible with a negative headroom): left alone.
    let mut stuck = vec![false; rows.len()];
    loop {
        let mut worst: Option<(usize, f64)> = None;
        for (r, &is_stuck) in stuck.iter().enumerate() {
            if is_stuck {
                continue;
            }
            let (coefficients, limit) = rows[r];
            let excess = limit.excess(coefficients, net);
            if excess > 0.0 && worst.is_none_or(|(_, w)| excess > w) {
                worst = Some((r, excess));
            }
        }
        let Some((r, _)) = worst else {
            return;
        };
        let (coefficients, limit) = rows[r];
        for &k in buys {
            let excess = limit.excess(coefficients, net);
            if excess <= 0.0 {
                break;
            }
            let i = problem.steps[k].location;
            let a = coefficients[i];
            if fills[k] == 0 || a <= 0.0 {
                continue;
            }
            let lots = (excess / a).ceil();
            let cut = if lots >= fills[k] as f64 {
                fills[k]
            } else {
                (lots as u64).max(1)
            };
            fills[k] -= cut;
            net[i] -= cut as i64;
        }
        if limit.excess(coefficients, net) > 0.0 {
            stuck[r] = true;
        }
    }
}
