//! The clearing: validation, the LP (rules 1-2), prices (3), rounding and repair (4), settlement
//! (5), and the record of it all ([`Clearing`], rule 6). One parent function holds the flow.

use crate::prices::{self, BINDING_TOLERANCE, Class};
use crate::primal::{self, Group};
use crate::rounding::{self, LIMIT_TOLERANCE, RoundingInput};
use crate::{Problem, Side, SolverChoice, SpatialError};

/// Relative tolerance of "the continuous operator revenue is non-negative".
const REVENUE_TOLERANCE: f64 = 1e-7;

/// The result of a clearing. Per-step vectors follow [`Problem::steps`], per-location vectors
/// [`Problem::locations`], per-receptor vectors [`Problem::receptors`]. Prices are in minor
/// currency units; quantities in lots.
#[derive(Debug, Clone, PartialEq)]
pub struct Clearing {
    /// The violation price `M` used, minor units per receptor unit.
    pub violation_price: f64,
    /// Per step: the LP's fill before rounding, lots (its group's fill shared pro rata; a group
    /// within `1e-9 x quantity` of empty or full counts as exactly that).
    pub continuous_fills: Vec<f64>,
    /// Per step: whole lots filled, after rounding and repair; never above the step's quantity.
    pub fills: Vec<u64>,
    /// Per location: net change `D_i` before rounding, lots (buys minus sells).
    pub net_change_continuous: Vec<f64>,
    /// Per location: net change after rounding, lots.
    pub net_change: Vec<i64>,
    /// Per receptor: `mu_r`, minor units per receptor unit (0 unless its row binds; the
    /// violation price when it has slack).
    pub receptor_prices: Vec<f64>,
    /// Per receptor: its row binds in the LP solution (it may carry a price).
    pub receptor_binding: Vec<bool>,
    /// `lambda`, minor units per weighted lot; `None` without a cap.
    pub cap_price: Option<f64>,
    /// The cap's row binds in the LP solution (false without a cap).
    pub cap_binding: bool,
    /// Per location: `pi_i = sum_r a_ri mu_r + w_i lambda`, minor units per lot.
    pub locational_prices: Vec<f64>,
    /// Per location: `pi_i` rounded to the nearest minor unit (halves away from zero); every
    /// fill there settles at it.
    pub settlement_prices: Vec<i64>,
    /// Per receptor: load change `sum_i a_ri D_i` before rounding, receptor units.
    pub receptor_load_continuous: Vec<f64>,
    /// Per receptor: load change after rounding, receptor units.
    pub receptor_load: Vec<f64>,
    /// Per receptor: violation `load before rounding - headroom` where positive beyond float
    /// noise (`1e-7` relative), else 0; receptor units. The penalised slack, non-zero only when
    /// the headroom is not restored at less than the violation price.
    pub receptor_slack: Vec<f64>,
    /// Weighted net change under the cap before rounding, weighted lots; `None` without a cap.
    pub cap_load_continuous: Option<f64>,
    /// Weighted net change under the cap after rounding; `None` without a cap.
    pub cap_load: Option<f64>,
    /// `sum_buy p x - sum_sell c y` over the continuous fills, minor units.
    pub total_surplus_continuous: f64,
    /// The same over the rounded fills, minor units, exact.
    pub total_surplus: i128,
    /// `sum_i pi_i D_i` over the continuous fills, minor units (`= sum_r mu_r (H_r + s_r) +
    /// lambda K`).
    pub operator_revenue_continuous: f64,
    /// `sum_i P_i D_i` with settlement prices and rounded net changes, minor units, exact. What
    /// buyers pay minus what sellers receive.
    pub operator_revenue: i128,
}

/// Clears `problem` with `solver` under the rules of the crate docs. Deterministic: the same
/// problem and solver give the same [`Clearing`] bit for bit.
///
/// # Errors
/// Any [`Problem::validate`] failure; [`SpatialError::Solver`] when an LP fails or its solution
/// cannot be supported by prices; [`SpatialError::Overflow`] when money does not fit an `i128`.
pub fn clear(problem: &Problem, solver: SolverChoice) -> Result<Clearing, SpatialError> {
    problem.validate()?;
    let violation_price = problem.effective_violation_price();
    let groups = primal::groups(problem);
    let primal = primal::solve(problem, &groups, violation_price, solver)?;
    let prices = prices::recover(problem, &groups, &primal, violation_price, solver)?;
    let settlement = settlement_prices(problem, &prices)?;

    // Continuous figures, from the classified group fills.
    let group_fill: Vec<f64> = groups
        .iter()
        .zip(&primal.x)
        .map(|(g, &x)| match prices::classify(x, g.quantity) {
            Class::Unfilled => 0.0,
            Class::Full => g.quantity as f64,
            Class::Partial => x,
        })
        .collect();
    let continuous_fills = step_shares(problem, &groups, &group_fill);
    let net_change_continuous = net_continuous(problem, &groups, &group_fill);
    let receptor_load_continuous: Vec<f64> = problem
        .coefficients
        .iter()
        .map(|row| dot(row, &net_change_continuous))
        .collect();
    // Violation beyond float noise (the binding tolerance of rule 3); noise shows as 0.
    let receptor_slack: Vec<f64> = problem
        .receptors
        .iter()
        .zip(&problem.coefficients)
        .zip(&receptor_load_continuous)
        .map(|((r, row), &load)| {
            let size: f64 = row
                .iter()
                .zip(&net_change_continuous)
                .map(|(a, d)| a * d.abs())
                .sum();
            let excess = load - r.headroom;
            let noise = BINDING_TOLERANCE * r.headroom.abs().max(1.0).max(size);
            if excess > noise { excess } else { 0.0 }
        })
        .collect();
    let cap_load_continuous = problem
        .tonnage_cap
        .as_ref()
        .map(|c| dot(&c.weights, &net_change_continuous));
    let total_surplus_continuous: f64 = groups
        .iter()
        .zip(&group_fill)
        .map(|(g, &x)| signed(g.side) * g.price as f64 * x)
        .sum();
    let operator_revenue_continuous = dot(&prices.pi, &net_change_continuous);
    let revenue_scale: f64 = prices
        .pi
        .iter()
        .zip(&net_change_continuous)
        .map(|(p, d)| (p * d).abs())
        .sum();

    // Rounding and repair.
    let limits: Vec<f64> = problem
        .receptors
        .iter()
        .zip(&receptor_load_continuous)
        .map(|(r, &load)| r.headroom.max(load) + LIMIT_TOLERANCE * r.headroom.abs().max(1.0))
        .collect();
    let cap_limit = problem
        .tonnage_cap
        .as_ref()
        .map(|c| c.cap.max(cap_load_continuous.unwrap_or(0.0)) + LIMIT_TOLERANCE * c.cap.max(1.0));
    let fills = rounding::round(&RoundingInput {
        problem,
        groups: &groups,
        group_fill: &group_fill,
        limits: &limits,
        cap_limit,
        settlement: &settlement,
        revenue_guard: operator_revenue_continuous >= -REVENUE_TOLERANCE * (1.0 + revenue_scale),
    })?;
    let net_change = rounding::net_change(problem, &fills)?;
    let receptor_load: Vec<f64> = problem
        .coefficients
        .iter()
        .map(|row| rounding::load(row, &net_change))
        .collect();
    let cap_load = problem
        .tonnage_cap
        .as_ref()
        .map(|c| rounding::load(&c.weights, &net_change));
    let operator_revenue = rounding::revenue(&settlement, &net_change)?;
    let total_surplus = settled_surplus(problem, &fills)?;

    Ok(Clearing {
        violation_price,
        continuous_fills,
        fills,
        net_change_continuous,
        net_change,
        receptor_prices: prices.mu,
        receptor_binding: prices.binding,
        cap_price: problem.tonnage_cap.as_ref().map(|_| prices.lambda),
        cap_binding: prices.cap_binding,
        locational_prices: prices.pi,
        settlement_prices: settlement,
        receptor_load_continuous,
        receptor_load,
        receptor_slack,
        cap_load_continuous,
        cap_load,
        total_surplus_continuous,
        total_surplus,
        operator_revenue_continuous,
        operator_revenue,
    })
}

/// Rule 5: `pi_i` to the nearest minor unit. Checked against the bounds the fills set, so that
/// no filled buyer pays above its price and no filled seller receives below its own.
fn settlement_prices(problem: &Problem, prices: &prices::Prices) -> Result<Vec<i64>, SpatialError> {
    (0..problem.locations.len())
        .map(|i| {
            let rounded = prices.pi[i].round();
            // Exclusive bound: 2^63 itself does not fit.
            if !rounded.is_finite() || rounded.abs() >= 9.2e18 {
                return Err(SpatialError::Overflow("a settlement price"));
            }
            let p = rounded as i64;
            if (p as f64) < prices.lower[i] || (p as f64) > prices.upper[i] {
                return Err(SpatialError::Solver(format!(
                    "settlement price {p} at location {:?} outside the bounds [{}, {}] its fills \
                     set",
                    problem.locations[i], prices.lower[i], prices.upper[i]
                )));
            }
            Ok(p)
        })
        .collect()
}

fn signed(side: Side) -> f64 {
    match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Each step's pro-rata share of its group's fill.
fn step_shares(problem: &Problem, groups: &[Group], group_fill: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; problem.steps.len()];
    for (g, &x) in groups.iter().zip(group_fill) {
        for &k in &g.steps {
            out[k] = if g.steps.len() == 1 {
                x
            } else {
                x * problem.steps[k].quantity as f64 / g.quantity as f64
            };
        }
    }
    out
}

fn net_continuous(problem: &Problem, groups: &[Group], group_fill: &[f64]) -> Vec<f64> {
    let mut net = vec![0.0; problem.locations.len()];
    for (g, &x) in groups.iter().zip(group_fill) {
        net[g.location] += signed(g.side) * x;
    }
    net
}

/// `sum_buy p x - sum_sell c y` in exact integers.
fn settled_surplus(problem: &Problem, fills: &[u64]) -> Result<i128, SpatialError> {
    problem
        .steps
        .iter()
        .zip(fills)
        .try_fold(0i128, |acc, (s, &f)| {
            let value = i128::from(s.price).checked_mul(i128::from(f))?;
            match s.side {
                Side::Buy => acc.checked_add(value),
                Side::Sell => acc.checked_sub(value),
            }
        })
        .ok_or(SpatialError::Overflow("the total surplus"))
}
