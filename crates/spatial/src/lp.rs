//! A small, solver-independent LP model (columns with bounds and costs, sparse rows) and its
//! solution through good_lp with the chosen solver. Both LPs of the clearing (the primal and the
//! price recovery) are built as [`Lp`] and solved here, so the two solvers see the same model in
//! the same order.

use crate::SolverChoice;
use good_lp::{Expression, ProblemVariables, ResolutionError, Solution, SolverModel, variable};

/// One column: `lo <= x <= hi` (either may be infinite) with objective coefficient `cost`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub lo: f64,
    pub hi: f64,
    pub cost: f64,
}

/// A row's sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sense {
    Le,
    Ge,
    Eq,
}

/// One row: `sum terms sense rhs`.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub terms: Vec<(usize, f64)>,
    pub sense: Sense,
    pub rhs: f64,
}

/// An LP: maximise or minimise `sum cost x` over the columns subject to the rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lp {
    pub maximise: bool,
    pub cols: Vec<Col>,
    pub rows: Vec<Row>,
}

/// Why an LP has no solution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LpFailure {
    Infeasible,
    Other(String),
}

impl std::fmt::Display for LpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LpFailure::Infeasible => f.write_str("infeasible"),
            LpFailure::Other(s) => f.write_str(s),
        }
    }
}

impl Lp {
    /// Adds a column and returns its index.
    pub fn col(&mut self, lo: f64, hi: f64, cost: f64) -> usize {
        self.cols.push(Col { lo, hi, cost });
        self.cols.len() - 1
    }

    /// Adds a row.
    pub fn row(&mut self, terms: Vec<(usize, f64)>, sense: Sense, rhs: f64) {
        self.rows.push(Row { terms, sense, rhs });
    }

    /// Solves the LP; returns the value of every column.
    pub fn solve(&self, solver: SolverChoice) -> Result<Vec<f64>, LpFailure> {
        if self.rows.is_empty() {
            return self.solve_bounds_only();
        }
        let mut vars = ProblemVariables::new();
        let columns: Vec<good_lp::Variable> = self
            .cols
            .iter()
            .map(|c| {
                let mut def = variable();
                if c.lo.is_finite() {
                    def = def.min(c.lo);
                }
                if c.hi.is_finite() {
                    def = def.max(c.hi);
                }
                vars.add(def)
            })
            .collect();
        let mut objective = Expression::with_capacity(self.cols.len());
        for (c, &v) in self.cols.iter().zip(&columns) {
            if c.cost != 0.0 {
                objective.add_mul(c.cost, v);
            }
        }
        let unsolved = if self.maximise {
            vars.maximise(objective)
        } else {
            vars.minimise(objective)
        };
        let constraints = self.rows.iter().map(|row| {
            let mut e = Expression::with_capacity(row.terms.len());
            for &(j, a) in &row.terms {
                e.add_mul(a, columns[j]);
            }
            match row.sense {
                Sense::Le => e.leq(row.rhs),
                Sense::Ge => e.geq(row.rhs),
                Sense::Eq => e.eq(row.rhs),
            }
        });
        let values = match solver {
            SolverChoice::Default => {
                let solution = unsolved
                    .using(good_lp::microlp)
                    .with_all(constraints)
                    .solve()
                    .map_err(failure)?;
                columns.iter().map(|&v| solution.value(v)).collect()
            }
            #[cfg(feature = "highs")]
            SolverChoice::Highs => {
                let model = unsolved
                    .using(good_lp::highs)
                    .set_threads(1)
                    .set_parallel(good_lp::solvers::highs::HighsParallelType::Off)
                    .with_all(constraints);
                let solution = model.solve().map_err(failure)?;
                columns.iter().map(|&v| solution.value(v)).collect()
            }
        };
        Ok(values)
    }

    /// Without rows every column sits at the bound its cost favours (at `lo`, else `0` clamped
    /// into the bounds, when the cost is zero).
    fn solve_bounds_only(&self) -> Result<Vec<f64>, LpFailure> {
        self.cols
            .iter()
            .map(|c| {
                if c.lo > c.hi {
                    return Err(LpFailure::Infeasible);
                }
                let towards_hi = if self.maximise {
                    c.cost > 0.0
                } else {
                    c.cost < 0.0
                };
                let towards_lo = c.cost != 0.0 && !towards_hi;
                let v = if towards_hi {
                    c.hi
                } else if towards_lo || c.lo.is_finite() {
                    c.lo
                } else {
                    0.0f64.min(c.hi)
                };
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(LpFailure::Other("unbounded".to_string()))
                }
            })
            .collect()
    }
}

fn failure(e: ResolutionError) -> LpFailure {
    match e {
        ResolutionError::Infeasible => LpFailure::Infeasible,
        other => LpFailure::Other(other.to_string()),
    }
}
