//! Rule 3: prices recovered from the primal solution alone, without the solver's duals.
//!
//! Each group's fill bounds its location's price (a filled buy paid at most its price, an unfilled
//! one was priced out, and so on); a receptor or the cap may carry a price only where it binds;
//! among all prices meeting those conditions (exactly the dual-optimal prices, by complementary
//! slackness) the lowest are chosen: least `sum mu_r + lambda`, then, while ties remain, least
//! `mu_0`, least `mu_1`, ..., least `lambda` (lexicographic).

use crate::lp::{Lp, LpFailure, Sense};
use crate::primal::{Group, Primal};
use crate::{Problem, Side, SolverChoice, SpatialError};

/// Relative tolerance for "at a bound" of a group fill: `1e-9 x min(quantity, scale)`, the scale
/// being the largest group fill of the solution (at least 1 lot); see [`classify_all`].
pub(crate) const FILL_TOLERANCE: f64 = 1e-9;

/// Relative tolerance for "binds" and "has slack" of a receptor or the cap.
pub(crate) const BINDING_TOLERANCE: f64 = 1e-7;

/// A scaled price at or below this is zero.
const ZERO: f64 = 1e-12;

/// Relative widening of the price bounds on the one retry after an infeasible price LP.
const RELAX: f64 = 1e-7;

/// How much of a group the clearing filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Nothing (within the tolerance).
    Unfilled,
    /// Strictly between.
    Partial,
    /// All (within the tolerance).
    Full,
}

/// Classifies every group fill `x[g]` of its group's quantity. The tolerance is
/// `1e-9 x min(Q_g, X)` with `X` the largest fill of the solution (at least 1 lot): the solver's
/// noise scales with the numbers it works with, not with a bound it never reaches. (Relative to
/// `Q_g` alone, a 10^11-lot step filled 17 lots would count as unfilled and its 17 lots would
/// vanish from every receptor's load.)
pub(crate) fn classify_all(groups: &[Group], x: &[f64]) -> Vec<Class> {
    let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    groups
        .iter()
        .zip(x)
        .map(|(g, &x)| classify(x, g.quantity, scale))
        .collect()
}

/// Classifies a group fill `x` of a quantity `q`, `scale` being the largest fill (see
/// [`classify_all`]).
fn classify(x: f64, q: u64, scale: f64) -> Class {
    let q = q as f64;
    let tol = FILL_TOLERANCE * q.min(scale);
    if x >= q - tol {
        Class::Full
    } else if x <= tol {
        Class::Unfilled
    } else {
        Class::Partial
    }
}

/// The recovered prices.
#[derive(Debug, Clone)]
pub(crate) struct Prices {
    /// `mu_r`, minor units per receptor unit.
    pub mu: Vec<f64>,
    /// `lambda`, minor units per weighted lot (0 when there is no cap).
    pub lambda: f64,
    /// `pi_i = sum_r a_ri mu_r + w_i lambda`, minor units per lot.
    pub pi: Vec<f64>,
    /// `L_i`: the price may not be below it (minor units per lot, at least 0).
    pub lower: Vec<f64>,
    /// `U_i`: the price may not be above it (infinite when nothing bounds it).
    pub upper: Vec<f64>,
    /// Per receptor: its row binds (it could be priced).
    pub binding: Vec<bool>,
    /// The cap's row binds.
    pub cap_binding: bool,
    /// Per location: how far, in minor units per lot, `pi_i` may lie outside `[L_i, U_i]`
    /// through rounding to whole minor units and float noise (the retry's widening included).
    pub tolerance: Vec<f64>,
}

/// Price bounds per location from the group classes (rule 3).
pub(crate) fn bounds(n_loc: usize, groups: &[Group], classes: &[Class]) -> (Vec<f64>, Vec<f64>) {
    let mut lower = vec![0.0f64; n_loc];
    let mut upper = vec![f64::INFINITY; n_loc];
    for (g, &class) in groups.iter().zip(classes) {
        let p = g.price as f64;
        let i = g.location;
        // A buy at p: filled means p >= pi, unfilled p <= pi. A sell at c: filled c <= pi,
        // unfilled c >= pi. Partial: pi = price.
        let (raise_lower, lower_upper) = match (g.side, class) {
            (_, Class::Partial) => (true, true),
            (Side::Buy, Class::Unfilled) | (Side::Sell, Class::Full) => (true, false),
            (Side::Buy, Class::Full) | (Side::Sell, Class::Unfilled) => (false, true),
        };
        if raise_lower {
            lower[i] = lower[i].max(p);
        }
        if lower_upper {
            upper[i] = upper[i].min(p);
        }
    }
    (lower, upper)
}

/// Recovers the prices supporting `primal` (rule 3).
pub(crate) fn recover(
    problem: &Problem,
    groups: &[Group],
    primal: &Primal,
    classes: &[Class],
    violation_price: f64,
    solver: SolverChoice,
) -> Result<Prices, SpatialError> {
    let n_loc = problem.locations.len();
    let (lower, upper) = bounds(n_loc, groups, classes);

    // Which rows bind, which have slack: from the solver's own (consistent) values.
    let mut binding = Vec::with_capacity(problem.receptors.len());
    let mut slack = Vec::with_capacity(problem.receptors.len());
    for (r, receptor) in problem.receptors.iter().enumerate() {
        let row = &problem.coefficients[r];
        let load: f64 = row.iter().zip(&primal.d).map(|(a, d)| a * d).sum();
        let size: f64 = row.iter().zip(&primal.gross).map(|(a, g)| a * g).sum();
        let tol = BINDING_TOLERANCE * 1f64.max(receptor.headroom.abs()).max(size);
        let s = primal.s[r];
        slack.push(s > tol);
        binding.push(load - s >= receptor.headroom - tol);
    }
    let cap_binding = problem.tonnage_cap.as_ref().is_some_and(|cap| {
        let load: f64 = cap.weights.iter().zip(&primal.d).map(|(w, d)| w * d).sum();
        let size: f64 = cap
            .weights
            .iter()
            .zip(&primal.gross)
            .map(|(w, g)| w * g)
            .sum();
        load >= cap.cap - BINDING_TOLERANCE * 1f64.max(cap.cap).max(size)
    });

    // Receptors with slack are priced at M; the free ones (binding, no slack) and the cap (if
    // binding) are the price LP's variables, in that order.
    let mut mu: Vec<f64> = slack
        .iter()
        .map(|&s| if s { violation_price } else { 0.0 })
        .collect();
    let free: Vec<usize> = (0..problem.receptors.len())
        .filter(|&r| binding[r] && !slack[r])
        .collect();
    // Column j < free.len() is mu_free[j]; the last column (if cap_binding) is lambda.
    let mut coef: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_loc];
    for (j, &r) in free.iter().enumerate() {
        for (i, &a) in problem.coefficients[r].iter().enumerate() {
            if a != 0.0 {
                coef[i].push((j, a));
            }
        }
    }
    let n_vars = free.len() + usize::from(cap_binding);
    if let Some(cap) = problem.tonnage_cap.as_ref().filter(|_| cap_binding) {
        for (i, &w) in cap.weights.iter().enumerate() {
            if w != 0.0 {
                coef[i].push((free.len(), w));
            }
        }
    }
    let fixed: Vec<f64> = (0..n_loc)
        .map(|i| {
            (0..problem.receptors.len())
                .filter(|&r| slack[r])
                .map(|r| problem.coefficients[r][i] * mu[r])
                .sum()
        })
        .collect();

    // The price LP works in units of the geometric mean of the smallest and the largest positive
    // finite bound (or fixed part): the solver's tolerances are absolute (about 1e-10), and in
    // units of the largest alone a 1-fen bound next to a 10^12-fen one would vanish in them.
    let (smallest, largest) = lower
        .iter()
        .chain(upper.iter())
        .chain(fixed.iter())
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if largest > 0.0 {
        (smallest * largest).sqrt()
    } else {
        1.0
    };
    let values = if n_vars == 0 {
        Vec::new()
    } else {
        // The price of a receptor with a slack (a negative headroom) never exceeds M (the slack
        // would be cheaper); the others and lambda are unbounded.
        let caps: Vec<f64> = (0..n_vars)
            .map(|j| {
                if j < free.len() && problem.receptors[free[j]].headroom < 0.0 {
                    violation_price / scale
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let lp = PriceLp {
            coef: &coef,
            lower: &lower,
            upper: &upper,
            fixed: &fixed,
            caps: &caps,
            scale,
        };
        let mut result = lp.lowest(0.0, solver);
        if result == Err(LpFailure::Infeasible) {
            result = lp.lowest(RELAX, solver);
        }
        let scaled = result.map_err(|e| {
            SpatialError::Solver(format!(
                "no receptor prices support the clearing (price LP {e})"
            ))
        })?;
        scaled
            .iter()
            .map(|&v| if v <= ZERO { 0.0 } else { v * scale })
            .collect()
    };
    for (j, &r) in free.iter().enumerate() {
        mu[r] = values[j];
    }
    let lambda = if cap_binding { values[free.len()] } else { 0.0 };
    let pi: Vec<f64> = (0..n_loc)
        .map(|i| {
            let receptors: f64 = (0..problem.receptors.len())
                .map(|r| problem.coefficients[r][i] * mu[r])
                .sum();
            let cap = problem
                .tonnage_cap
                .as_ref()
                .map_or(0.0, |c| c.weights[i] * lambda);
            receptors + cap
        })
        .collect();
    if pi.iter().chain(&mu).any(|v| !v.is_finite()) || !lambda.is_finite() {
        return Err(SpatialError::Solver(
            "the recovered prices are not finite".to_string(),
        ));
    }
    // Rounding to whole minor units, the widening of the retry and the solver's own tolerance
    // (about 1e-10 in units of `scale`, allowed 1e-9).
    let tolerance = (0..n_loc)
        .map(|i| {
            let bound = [lower[i], upper[i]]
                .into_iter()
                .filter(|b| b.is_finite())
                .fold(1.0f64, |m, b| m.max(b.abs()));
            0.5 + 2.0 * RELAX * bound + 1e-9 * scale
        })
        .collect();
    Ok(Prices {
        mu,
        lambda,
        pi,
        lower,
        upper,
        binding,
        cap_binding,
        tolerance,
    })
}

/// The price LP's data, in units of `scale`.
struct PriceLp<'a> {
    /// Per location: `(variable, coefficient)`.
    coef: &'a [Vec<(usize, f64)>],
    lower: &'a [f64],
    upper: &'a [f64],
    /// Per location: the part of `pi_i` from receptors fixed at `M`.
    fixed: &'a [f64],
    /// Per variable: its upper bound (scaled).
    caps: &'a [f64],
    scale: f64,
}

impl PriceLp<'_> {
    /// Least sum, then lexicographically least variables (scaled values). `relax` widens every
    /// location bound `b` by `relax x max(1, |b|)` minor units.
    fn lowest(&self, relax: f64, solver: SolverChoice) -> Result<Vec<f64>, LpFailure> {
        let n_vars = self.caps.len();
        let mut lp = Lp::default();
        for &cap in self.caps {
            lp.col(0.0, cap, 1.0);
        }
        for (i, coef) in self.coef.iter().enumerate() {
            let widen = |b: f64| {
                if b.is_finite() {
                    relax * b.abs().max(1.0)
                } else {
                    0.0
                }
            };
            let lo = (self.lower[i] - widen(self.lower[i]) - self.fixed[i]) / self.scale;
            let hi = (self.upper[i] + widen(self.upper[i]) - self.fixed[i]) / self.scale;
            if coef.is_empty() {
                // pi_i is fixed: it must lie within the bounds already.
                if lo > 0.0 || hi < 0.0 {
                    return Err(LpFailure::Infeasible);
                }
                continue;
            }
            if relax == 0.0 && lo == hi {
                lp.row(coef.clone(), Sense::Eq, lo);
                continue;
            }
            if lo > 0.0 {
                lp.row(coef.clone(), Sense::Ge, lo);
            }
            if hi.is_finite() {
                lp.row(coef.clone(), Sense::Le, hi);
            }
        }
        refine(lp, n_vars, solver)
    }
}

/// Solves `lp` (least sum), then refines lexicographically.
fn refine(mut lp: Lp, n_vars: usize, solver: SolverChoice) -> Result<Vec<f64>, LpFailure> {
    let mut v = lp.solve(solver)?;
    if n_vars < 2 {
        return Ok(v);
    }
    // Lexicographic refinement: keep the sum, then push each variable down in turn and hold it
    // there. The bounds are the previous solution's own values (which satisfy them), without any
    // allowance: an allowance would let later stages push earlier variables up into it.
    let total: f64 = v.iter().sum();
    let all: Vec<(usize, f64)> = (0..n_vars).map(|j| (j, 1.0)).collect();
    lp.row(all, Sense::Le, total);
    for j in 0..n_vars {
        if v[j] > ZERO {
            for (k, c) in lp.cols.iter_mut().enumerate() {
                c.cost = if k == j { 1.0 } else { 0.0 };
            }
            v = lp.solve(solver)?;
        }
        lp.cols[j].hi = if v[j] > ZERO { v[j] } else { 0.0 };
    }
    Ok(v)
}
