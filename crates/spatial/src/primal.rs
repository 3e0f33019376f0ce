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
    /// Indices of its steps, in input order.
    pub steps: Vec<usize>,
}

/// Groups ordered by (location, side, price): a deterministic order independent of input order.
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
    /// Slack `s_r` per receptor, receptor units.
    pub s: Vec<f64>,
}

/// Solves rule 2's LP. Objective coefficients are divided by the highest step price (at least 1)
/// so the solver works with numbers near 1; the solution is the same.
pub(crate) fn solve(
    problem: &Problem,
    groups: &[Group],
    violation_price: f64,
    solver: SolverChoice,
) -> Result<Primal, SpatialError> {
    let n_loc = problem.locations.len();
    let scale = groups.iter().map(|g| g.price).max().unwrap_or(0).max(1) as f64;
    let mut lp = Lp {
        maximise: true,
        ..Lp::default()
    };
    let x: Vec<usize> = groups
        .iter()
        .map(|g| {
            let sign = match g.side {
                Side::Buy => 1.0,
                Side::Sell => -1.0,
            };
            lp.col(0.0, g.quantity as f64, sign * g.price as f64 / scale)
        })
        .collect();
    let d: Vec<usize> = (0..n_loc)
        .map(|_| lp.col(f64::NEG_INFINITY, f64::INFINITY, 0.0))
        .collect();
    let s: Vec<usize> = problem
        .receptors
        .iter()
        .map(|_| lp.col(0.0, f64::INFINITY, -violation_price / scale))
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
        terms.push((s[r], -1.0));
        lp.row(terms, Sense::Le, receptor.headroom);
    }
    if let Some(cap) = &problem.tonnage_cap {
        let terms: Vec<(usize, f64)> = cap
            .weights
            .iter()
            .enumerate()
            .filter(|&(_, &w)| w != 0.0)
            .map(|(i, &w)| (d[i], w))
            .collect();
        lp.row(terms, Sense::Le, cap.cap);
    }
    let values = lp.solve(solver).map_err(|e| match e {
        LpFailure::Infeasible => SpatialError::Solver("the clearing LP is infeasible".to_string()),
        LpFailure::Other(s) => SpatialError::Solver(format!("the clearing LP failed: {s}")),
    })?;
    let pick = |cols: &[usize]| -> Vec<f64> { cols.iter().map(|&j| values[j]).collect() };
    let primal = Primal {
        x: pick(&x),
        d: pick(&d),
        s: pick(&s),
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
