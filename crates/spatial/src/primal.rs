//! Rules 1 and 2: steps aggregated into groups, and the surplus-maximising LP over the groups.

use crate::lp::{Lp, LpFailure, Sense};
use crate::{Problem, Side, SolverChoice, SpatialError};
use std::collections::BTreeMap;

/// All steps of one (location, side, price): indistinguishable to the LP.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub location: usize,
    pub side: Side,
    /// Minor units per lot.
    pub price: i64,
    /// Sum of the steps' quantities, lots.
    pub quantity: u64,
    /// Indices of its steps, in the order of the steps in the problem.
    pub steps: Vec<usize>,
}

/// Groups ordered by (location, side, price): a deterministic order independent of the order of
/// the steps.
pub(crate) fn groups(problem: &Problem) -> Vec<Group> {
    let mut by_key: BTreeMap<(usize, Side, i64), Group> = BTreeMap::new();
    for (k, step) in problem.steps.iter().enumerate() {
        let g = by_key
            .entry((step.location, step.side, step.price))
            .or_insert_with(|| Group {
                location: step.location,
                side: step.side,
                price: step.price,
                quantity: 0,
                steps: Vec::new(),
            });
        // Bounded by TOTAL_QUANTITY_MAX (validated), far below u64::MAX.
        g.quantity += step.quantity;
        g.steps.push(k);
    }
    by_key.into_values().collect()
}

/// The solver's primal solution, as it returned it.
#[derive(Debug, Clone)]
pub(crate) struct Primal {
    /// Fill of every group, lots.
    pub x: Vec<f64>,
    /// Net change `D_i` per location, lots.
    pub d: Vec<f64>,
    /// Gross fill per location, `sum |x_g|` over its groups, lots: the scale of the float noise
    /// in `D_i` (buys and sells at one location cancel in `D_i`, not in its noise).
    pub gross: Vec<f64>,
    /// Slack `s_r` per receptor, receptor units (0 for a receptor with a non-negative headroom,
    /// which has no slack column).
    pub s: Vec<f64>,
}

/// A group bound above this many times the largest fill of a first solution (at least 1 lot) is
/// cut to it for a second solve; see [`solve`].
const BOUND_SLACK: f64 = 4.0;

/// Solves rule 2's LP. Objective coefficients are divided by [`objective_scale`]; the solution
/// is the same.
///
/// Huge quantities that are far from filled cost precision: the simplex starts a buy at its
/// bound and works its way down, and `10^11 - (10^11 - 17)` keeps only about five decimals. So
/// when some group's quantity exceeds `BOUND_SLACK x` the largest fill `X` of the first solution
/// (at least 1 lot), the LP is solved again with every bound cut to `BOUND_SLACK x X`. If no cut
/// group reaches its cut bound in that second solution, it is optimal for the uncut LP too (a
/// local optimum of a linear programme is a global one) and is the one used; otherwise the first
/// solution stands.
pub(crate) fn solve(
    problem: &Problem,
    groups: &[Group],
    violation_price: f64,
    solver: SolverChoice,
) -> Result<Primal, SpatialError> {
    let bounds: Vec<f64> = groups.iter().map(|g| g.quantity as f64).collect();
    let first = solve_with(problem, groups, &bounds, violation_price, solver)?;
    let largest = first.x.iter().fold(1.0f64, |m, &x| m.max(x.abs()));
    let cut = BOUND_SLACK * largest;
    if bounds.iter().all(|&q| q <= cut) {
        return Ok(first);
    }
    let cut_bounds: Vec<f64> = bounds.iter().map(|&q| q.min(cut)).collect();
    let Ok(second) = solve_with(problem, groups, &cut_bounds, violation_price, solver) else {
        return Ok(first);
    };
    let certified = bounds
        .iter()
        .zip(&second.x)
        .all(|(&q, &x)| q <= cut || x < cut * (1.0 - 1e-6));
    Ok(if certified { second } else { first })
}

/// The objective's divisor: the highest step price, but at most `10^6 x` the lowest positive one
/// (1 without a positive price). The solver's reduced-cost tolerance is absolute (about
/// `1e-10`): divided by the highest price alone, a 1-fen step next to a 10^12-fen one would cost
/// `1e-12`, below it, and the solver could not tell filling it from not. So the cheapest step
/// costs at least `1e-6`, and over the range of [`crate::PRICE_MAX`] the dearest at most `10^6`;
/// within six orders of magnitude the highest price is 1, as before.
fn objective_scale(groups: &[Group]) -> f64 {
    let positive = || groups.iter().map(|g| g.price).filter(|&p| p > 0);
    match (positive().min(), positive().max()) {
        (Some(low), Some(high)) => (high as f64).min(low as f64 * 1e6),
        _ => 1.0,
    }
}

/// Rule 2's LP with the group bounds `bounds` (lots).
fn solve_with(
    problem: &Problem,
    groups: &[Group],
    bounds: &[f64],
    violation_price: f64,
    solver: SolverChoice,
) -> Result<Primal, SpatialError> {
    let n_loc = problem.locations.len();
    let scale = objective_scale(groups);
    let mut lp = Lp {
        maximise: true,
        ..Lp::default()
    };
    let x: Vec<usize> = groups
        .iter()
        .zip(bounds)
        .map(|(g, &bound)| {
            let sign = match g.side {
                Side::Buy => 1.0,
                Side::Sell => -1.0,
            };
            lp.col(0.0, bound, sign * g.price as f64 / scale)
        })
        .collect();
    let d: Vec<usize> = (0..n_loc)
        .map(|_| lp.col(f64::NEG_INFINITY, f64::INFINITY, 0.0))
        .collect();
    // A slack only where the headroom is negative: zero net change meets every other receptor,
    // so a non-negative headroom is never traded away, whatever the violation price.
    let s: Vec<Option<usize>> = problem
        .receptors
        .iter()
        .map(|r| (r.headroom < 0.0).then(|| lp.col(0.0, f64::INFINITY, -violation_price / scale)))
        .collect();
    // D_i - buys at i + sells at i = 0: each group appears in exactly one row.
    let mut balance: Vec<Vec<(usize, f64)>> = d.iter().map(|&j| vec![(j, 1.0)]).collect();
    for (g, &j) in groups.iter().zip(&x) {
        let a = match g.side {
            Side::Buy => -1.0,
            Side::Sell => 1.0,
        };
        balance[g.location].push((j, a));
    }
    for terms in balance {
        lp.row(terms, Sense::Eq, 0.0);
    }
    for (r, receptor) in problem.receptors.iter().enumerate() {
        let mut terms: Vec<(usize, f64)> = problem.coefficients[r]
            .iter()
            .enumerate()
            .filter(|&(_, &a)| a != 0.0)
            .map(|(i, &a)| (d[i], a))
            .collect();
        if let Some(j) = s[r] {
            terms.push((j, -1.0));
        }
        // Without terms the row reads 0 <= H_r with H_r >= 0 (a negative headroom has its
        // slack): always met, left out.
        if !terms.is_empty() {
            lp.row(terms, Sense::Le, receptor.headroom);
        }
    }
    if let Some(cap) = &problem.tonnage_cap {
        let terms: Vec<(usize, f64)> = cap
            .weights
            .iter()
            .enumerate()
            .filter(|&(_, &w)| w != 0.0)
            .map(|(i, &w)| (d[i], w))
            .collect();
        if !terms.is_empty() {
            lp.row(terms, Sense::Le, cap.cap);
        }
    }
    let values = lp.solve(solver).map_err(|e| match e {
        LpFailure::Infeasible => SpatialError::Solver("the clearing LP is infeasible".to_string()),
        LpFailure::Other(s) => SpatialError::Solver(format!("the clearing LP failed: {s}")),
    })?;
    let pick = |cols: &[usize]| -> Vec<f64> { cols.iter().map(|&j| values[j]).collect() };
    let x = pick(&x);
    let primal = Primal {
        gross: gross(n_loc, groups, &x),
        x,
        d: pick(&d),
        s: s.iter().map(|j| j.map_or(0.0, |j| values[j])).collect(),
    };
    if primal
        .x
        .iter()
        .chain(&primal.d)
        .chain(&primal.s)
        .any(|v| !v.is_finite())
    {
        return Err(SpatialError::Solver(
            "the clearing LP returned a non-finite value".to_string(),
        ));
    }
    Ok(primal)
}

/// `sum |x_g|` over the groups at each location, lots.
pub(crate) fn gross(n_loc: usize, groups: &[Group], x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; n_loc];
    for (g, &x) in groups.iter().zip(x) {
        out[g.location] += x.abs();
    }
    out
}
