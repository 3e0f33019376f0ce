//! The clearing: validation, the LP (rules 1-2), prices (3), rounding and repair (4), settlement
//! (5), and the record of it all ([`Clearing`], rule 6). One parent function holds the flow.

use crate::prices::{self, BINDING_TOLERANCE, Class};
use crate::primal::{self, Group};
use crate::rounding::{self, LIMIT_TOLERANCE, Limit, RoundingInput};
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
    /// within `1e-9 x min(quantity, largest group fill)` of empty or full counts as exactly
    /// that).
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
    /// noise (`1e-7` relative), else 0; receptor units. The penalised slack, non-zero only for a
    /// negative headroom not restored at less than the violation price.
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
/// Any [`Problem::validate`] failure; [`SpatialError::Solver`] when an LP fails, its solution
/// cannot be supported by prices, or a final check fails (a numerical failure: a receptor with a
/// non-negative headroom or the cap over its limit before or after rounding, a settlement price
/// outside its bounds); [`SpatialError::Overflow`] when money does not fit an `i128`.
pub fn clear(problem: &Problem, solver: SolverChoice) -> Result<Clearing, SpatialError> {
    problem.validate()?;
    let violation_price = problem.effective_violation_price();
    let groups = primal::groups(problem);
    let primal = primal::solve(problem, &groups, violation_price, solver)?;
    let classes = prices::classify_all(&groups, &primal.x);

    // Continuous figures, from the classified group fills.
    let group_fill: Vec<f64> = groups
        .iter()
        .zip(&primal.x)
        .zip(&classes)
        .map(|((g, &x), class)| match class {
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
    let gross = primal::gross(problem.locations.len(), &groups, &group_fill);
    // Violation beyond float noise (the binding tolerance of rule 3); noise shows as 0.
    let receptor_slack: Vec<f64> = problem
        .receptors
        .iter()
        .zip(&problem.coefficients)
        .zip(&receptor_load_continuous)
        .map(|((r, row), &load)| {
            let excess = load - r.headroom;
            let noise = BINDING_TOLERANCE * r.headroom.abs().max(1.0).max(dot(row, &gross));
            if excess > noise { excess } else { 0.0 }
        })
        .collect();
    let cap_load_continuous = problem
        .tonnage_cap
        .as_ref()
        .map(|c| dot(&c.weights, &net_change_continuous));
    // A non-negative headroom has no slack, and no trade at all meets it: a continuous load over
    // it (or over the cap) is the solver's numerical failure, never a result.
    check_limits(
        problem,
        Stage::Continuous {
            net: &net_change_continuous,
            gross: &gross,
        },
    )?;
    let prices = prices::recover(problem, &groups, &primal, &classes, violation_price, solver)?;
    let settlement = settlement_prices(problem, &prices)?;
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
    // A non-negative headroom and the cap are limits in their own right; a negative headroom is
    // kept at least where the LP left it (its slack).
    let limits: Vec<Limit> = problem
        .receptors
        .iter()
        .zip(&receptor_load_continuous)
        .map(|(r, &load)| {
            if r.headroom >= 0.0 {
                Limit::whole_lots(r.headroom)
            } else {
                Limit {
                    base: r.headroom.max(load) + LIMIT_TOLERANCE * r.headroom.abs().max(1.0),
                    noise: false,
                }
            }
        })
        .collect();
    let cap_limit = problem
        .tonnage_cap
        .as_ref()
        .map(|c| Limit::whole_lots(c.cap));
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
    // The repair keeps every load within its limit: verify the whole lots all the same.
    check_limits(problem, Stage::Rounded { net: &net_change })?;
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

/// What [`check_limits`] checks.
enum Stage<'a> {
    /// The classified LP solution: within `1e-7 x max(1, |bound|, sum_i c_i gross_i)` of the
    /// bound (rule 3's binding tolerance), `gross_i` the location's gross fill.
    Continuous {
        /// The continuous net change, lots.
        net: &'a [f64],
        /// Gross fill per location, lots.
        gross: &'a [f64],
    },
    /// Whole lots: within rule 4's limit ([`Limit::whole_lots`]), exactly as the repair left
    /// them.
    Rounded {
        /// The rounded net change, lots.
        net: &'a [i64],
    },
}

/// Checks every receptor with a non-negative headroom, and the cap, against its bound for the
/// net change of `stage`. A receptor with a negative headroom may stay over it (its priced slack,
/// rule 2); every other row is met by no trade at all, so a load over it is a numerical failure.
fn check_limits(problem: &Problem, stage: Stage<'_>) -> Result<(), SpatialError> {
    let what = match stage {
        Stage::Continuous { .. } => "the LP solution",
        Stage::Rounded { .. } => "rounding to whole lots",
    };
    let over = |coefficients: &[f64], bound: f64| -> Option<(f64, f64)> {
        let (load, allowed) = match stage {
            Stage::Continuous { net, gross } => (
                dot(coefficients, net),
                bound + BINDING_TOLERANCE * bound.abs().max(1.0).max(dot(coefficients, gross)),
            ),
            Stage::Rounded { net } => (
                rounding::load(coefficients, net),
                Limit::whole_lots(bound).at(coefficients, net),
            ),
        };
        // A NaN load fails too.
        let within = load <= allowed;
        (!within).then_some((load, allowed - bound))
    };
    for (r, receptor) in problem.receptors.iter().enumerate() {
        if receptor.headroom < 0.0 {
            continue;
        }
        if let Some((load, tolerance)) = over(&problem.coefficients[r], receptor.headroom) {
            return Err(SpatialError::Solver(format!(
                "numerical failure: after {what}, receptor {:?} is loaded {load} against its \
                 headroom {} (over by {}, tolerance {tolerance}); a non-negative headroom is \
                 never exceeded, so nothing is cleared",
                receptor.id,
                receptor.headroom,
                load - receptor.headroom
            )));
        }
    }
    if let Some(cap) = &problem.tonnage_cap
        && let Some((load, tolerance)) = over(&cap.weights, cap.cap)
    {
        return Err(SpatialError::Solver(format!(
            "numerical failure: after {what}, the tonnage cap is loaded {load} against its cap \
             {} (over by {}, tolerance {tolerance}); nothing is cleared",
            cap.cap,
            load - cap.cap
        )));
    }
    Ok(())
}

/// Rule 5: `pi_i` to the nearest minor unit, within the bounds the fills set, so that no filled
/// buyer pays above its price and no filled seller receives below its own. A rounded price
/// outside `[L_i, U_i]` (whole minor units) by float noise - `pi_i` within the price LP's
/// tolerance of the interval - becomes the nearer bound; further out it is a numerical failure.
fn settlement_prices(problem: &Problem, prices: &prices::Prices) -> Result<Vec<i64>, SpatialError> {
    (0..problem.locations.len())
        .map(|i| {
            let pi = prices.pi[i];
            let (lower, upper) = (prices.lower[i], prices.upper[i]);
            let rounded = pi.round();
            // Exclusive bound: 2^63 itself does not fit.
            if !rounded.is_finite() || rounded.abs() >= 9.2e18 {
                return Err(SpatialError::Overflow("a settlement price"));
            }
            // The bounds are step prices (whole minor units) or 0 and infinity.
            let clamped = rounded.max(lower).min(upper);
            if lower > upper || (pi - clamped).abs() > prices.tolerance[i] {
                return Err(SpatialError::Solver(format!(
                    "numerical failure: the locational price {pi} at location {:?} is outside \
                     the bounds [{lower}, {upper}] its fills set (the LP solution is not \
                     optimal to working precision; step prices spanning too many orders of \
                     magnitude can cause this)",
                    problem.locations[i]
                )));
            }
            Ok(clamped as i64)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReceptorSpec, Step};

    /// R1 (headroom 0) and R2 (headroom 15) over P1..P3 as in the shared river case, and R3
    /// with headroom -5 (an existing violation).
    fn river() -> Problem {
        Problem {
            locations: vec!["P1".into(), "P2".into(), "P3".into()],
            receptors: vec![
                ReceptorSpec {
                    id: "R1".into(),
                    headroom: 0.0,
                },
                ReceptorSpec {
                    id: "R2".into(),
                    headroom: 15.0,
                },
                ReceptorSpec {
                    id: "R3".into(),
                    headroom: -5.0,
                },
            ],
            coefficients: vec![
                vec![0.6, 1.0, 0.0],
                vec![0.3, 0.5, 1.0],
                vec![0.0, 0.0, 1.0],
            ],
            tonnage_cap: None,
            steps: vec![Step {
                id: "b1".into(),
                location: 1,
                side: Side::Buy,
                quantity: 10,
                price: 10_000,
            }],
            violation_price: None,
        }
    }

    #[test]
    fn an_overloaded_non_negative_headroom_is_a_numerical_failure() {
        // The tester's result: D = (0, 10, 15) loads R1 by 10 (headroom 0) and R2 by 20 (15).
        let p = river();
        let net = [0.0, 10.0, 15.0];
        let e = check_limits(
            &p,
            Stage::Continuous {
                net: &net,
                gross: &net,
            },
        )
        .unwrap_err();
        let SpatialError::Solver(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.starts_with(
                "numerical failure: after the LP solution, receptor \"R1\" is loaded 10 \
                           against its headroom 0 (over by 10"
            ),
            "{m}"
        );
        let e = check_limits(&p, Stage::Rounded { net: &[0, 10, 15] }).unwrap_err();
        assert!(
            e.to_string()
                .contains("after rounding to whole lots, receptor \"R1\" is loaded 10"),
            "{e}"
        );
        // R3 may stay over its negative headroom (its priced slack); R1 and R2 within: fine.
        check_limits(&p, Stage::Rounded { net: &[-10, 6, 15] }).unwrap();
        // Float noise is not a failure; 1e-6 over a headroom of 0 with loads of order 10 is.
        let net = [-10.0, 6.000_000_000_000_001, 15.0];
        let gross = net.map(f64::abs);
        check_limits(
            &p,
            Stage::Continuous {
                net: &net,
                gross: &gross,
            },
        )
        .unwrap();
        let net = [-10.0, 6.000_01, 15.0];
        assert!(
            check_limits(
                &p,
                Stage::Continuous {
                    net: &net,
                    gross: &gross
                }
            )
            .is_err()
        );
    }

    #[test]
    fn an_overloaded_cap_is_a_numerical_failure() {
        let mut p = river();
        p.tonnage_cap = Some(crate::TonnageCap {
            cap: 5.0,
            weights: vec![0.0, 1.0, 1.0],
        });
        // R1 0, R2 0 (within), the cap 6 > 5.
        let e = check_limits(&p, Stage::Rounded { net: &[-10, 6, 0] }).unwrap_err();
        assert!(
            e.to_string().contains(
                "numerical failure: after rounding to whole lots, the tonnage cap is loaded 6 \
                 against its cap 5"
            ),
            "{e}"
        );
    }

    fn prices(pi: f64, lower: f64, upper: f64) -> prices::Prices {
        prices::Prices {
            mu: vec![],
            lambda: 0.0,
            pi: vec![pi],
            lower: vec![lower],
            upper: vec![upper],
            binding: vec![],
            cap_binding: false,
            tolerance: vec![0.5 + 2e-7 * lower.max(1.0)],
        }
    }

    #[test]
    fn settlement_prices_stay_within_their_bounds() {
        let mut p = river();
        p.locations.truncate(1);
        // Rounded normally.
        assert_eq!(
            settlement_prices(&p, &prices(41.6, 0.0, 70.0)),
            Ok(vec![42])
        );
        // Float noise just outside [L, U]: the nearer bound.
        assert_eq!(
            settlement_prices(&p, &prices(1e7 - 0.6, 1e7, 1e7)),
            Ok(vec![10_000_000])
        );
        // Far outside (the tester's "settlement price 0 ... outside [2000, 2000]"): a numerical
        // failure, never a price that breaks a bid's limit.
        let e = settlement_prices(&p, &prices(0.0, 2_000.0, 2_000.0)).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "SPATIAL_SOLVER: numerical failure: the locational price 0 at location \"P1\" is \
                 outside the bounds [2000, 2000]"
            ),
            "{e}"
        );
        // Contradictory bounds.
        assert!(settlement_prices(&p, &prices(50.0, 60.0, 40.0)).is_err());
    }
}
