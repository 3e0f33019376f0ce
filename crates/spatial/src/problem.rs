//! The clearing problem: locations, receptors with their headroom, the transfer-coefficient
//! matrix, an optional weighted tonnage cap, bid steps, and its validation.

use crate::SpatialError;
use std::collections::BTreeSet;

/// The largest quantity one step may ask for: 10^12 lots.
pub const QUANTITY_MAX: u64 = 1_000_000_000_000;

/// The largest total of all step quantities: 10^15 lots, below 2^53, so every group total, fill
/// and net change is an integer an `f64` holds exactly.
pub const TOTAL_QUANTITY_MAX: u128 = 1_000_000_000_000_000;

/// The highest step price: 10^12 minor units per lot (the registry's bound on a step price).
pub const PRICE_MAX: i64 = 1_000_000_000_000;

/// The largest transfer coefficient: 10^6 receptor units per lot.
pub const COEFFICIENT_MAX: f64 = 1e6;

/// The largest headroom in absolute value: 10^12 receptor units.
pub const HEADROOM_MAX: f64 = 1e12;

/// The largest tonnage cap: 10^12 weighted lots (a cap is a receptor whose coefficients are the
/// weights; it is bounded like a headroom).
pub const CAP_MAX: f64 = 1e12;

/// The largest cap weight: 10^6 (bounded like a transfer coefficient).
pub const CAP_WEIGHT_MAX: f64 = 1e6;

/// The largest violation price, given or default: 10^18 minor units per receptor unit.
pub const VIOLATION_PRICE_MAX: f64 = 1e18;

/// Default violation price: this many times the highest step price over the smallest positive
/// transfer coefficient (see [`Problem::effective_violation_price`]).
pub const VIOLATION_PRICE_FACTOR: f64 = 1_000.0;

/// A receptor: a monitoring section or air-quality station with an ambient standard.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceptorSpec {
    /// Its id (e.g. a monitoring section's code); unique, not empty.
    pub id: String,
    /// `H_r` = standard - background - current load, in receptor units (concentration or load);
    /// finite, `|H_r| <=` [`HEADROOM_MAX`]. Negative means the standard is already violated; only
    /// such a receptor has the penalised slack (crate docs, rule 2).
    pub headroom: f64,
}

/// A weighted tonnage cap on the net change: `sum_i weights[i] x D_i <= cap`.
#[derive(Debug, Clone, PartialEq)]
pub struct TonnageCap {
    /// `K`, lots (weighted); finite, `>= 0` (so that no trade at all always meets it: the cap
    /// has no violation slack) and at most [`CAP_MAX`].
    pub cap: f64,
    /// `w_i` per location (same order as [`Problem::locations`]), finite, `>= 0` and at most
    /// [`CAP_WEIGHT_MAX`].
    pub weights: Vec<f64>,
}

/// Buy (the bidder wants to discharge more) or sell (it gives up discharge rights).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buys permits: increases the discharge at its location.
    Buy,
    /// Sells permits: decreases the discharge at its location.
    Sell,
}

/// One bid step: up to `quantity` lots at `location`, at `price` or better.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its id; unique, not empty.
    pub id: String,
    /// Index into [`Problem::locations`].
    pub location: usize,
    /// Buy or sell.
    pub side: Side,
    /// Lots, `1..=QUANTITY_MAX`.
    pub quantity: u64,
    /// Minor currency units per lot, `0..=PRICE_MAX`: the most a buyer pays, the least a seller
    /// takes.
    pub price: i64,
}

/// Which LP solver clears the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolverChoice {
    /// microlp (pure Rust, always built in).
    #[default]
    Default,
    /// HiGHS (only with the `highs` feature), single-threaded for reproducibility.
    #[cfg(feature = "highs")]
    Highs,
}

/// A receptor-constrained call market to clear. See the crate docs for the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Location (area) codes; unique ids, not empty strings; at least one location.
    pub locations: Vec<String>,
    /// Receptors with their headroom. May be empty only when there is a tonnage cap (else
    /// nothing would limit the trades).
    pub receptors: Vec<ReceptorSpec>,
    /// `a_ri` as `coefficients[receptor][location]`: receptor units per lot discharged at the
    /// location; finite, `>= 0` and at most [`COEFFICIENT_MAX`]. Shape
    /// `receptors.len() x locations.len()`.
    pub coefficients: Vec<Vec<f64>>,
    /// An optional weighted cap on the total net change.
    pub tonnage_cap: Option<TonnageCap>,
    /// The bid steps. Their order here is the order of the steps in the problem that every tie
    /// rule refers to (the registry passes them in step-reference order).
    pub steps: Vec<Step>,
    /// Penalty per receptor unit of violation, minor units; `None` for the default of
    /// [`Problem::effective_violation_price`]. Finite, `> 0` and at most
    /// [`VIOLATION_PRICE_MAX`].
    pub violation_price: Option<f64>,
}

impl Problem {
    /// Checks every field; the first failure is returned, naming the item.
    ///
    /// # Errors
    /// No location; no receptor and no tonnage cap; empty or duplicate ids, a step's location out
    /// of range, a coefficient matrix of the wrong shape or with a negative, non-finite or too
    /// large entry (above [`COEFFICIENT_MAX`]), a non-finite headroom or one above
    /// [`HEADROOM_MAX`] in absolute value, a negative, non-finite or too large cap
    /// ([`CAP_MAX`]) or cap weight ([`CAP_WEIGHT_MAX`]), cap weights of the wrong length, a
    /// non-positive, non-finite or too large violation price ([`VIOLATION_PRICE_MAX`]), a zero
    /// quantity or one above [`QUANTITY_MAX`], a total above [`TOTAL_QUANTITY_MAX`], a negative
    /// price or one above [`PRICE_MAX`].
    pub fn validate(&self) -> Result<(), SpatialError> {
        if self.locations.is_empty() {
            return Err(SpatialError::NoLocations);
        }
        if self.receptors.is_empty() && self.tonnage_cap.is_none() {
            return Err(SpatialError::Unconstrained);
        }
        unique_ids("location", self.locations.iter().map(String::as_str))?;
        unique_ids("receptor", self.receptors.iter().map(|r| r.id.as_str()))?;
        unique_ids("step", self.steps.iter().map(|s| s.id.as_str()))?;
        if self.coefficients.len() != self.receptors.len() {
            return Err(SpatialError::MatrixRows {
                rows: self.coefficients.len(),
                receptors: self.receptors.len(),
            });
        }
        for (receptor, row) in self.receptors.iter().zip(&self.coefficients) {
            if !receptor.headroom.is_finite() || receptor.headroom.abs() > HEADROOM_MAX {
                return Err(SpatialError::BadHeadroom {
                    receptor: receptor.id.clone(),
                    value: receptor.headroom,
                });
            }
            if row.len() != self.locations.len() {
                return Err(SpatialError::MatrixColumns {
                    receptor: receptor.id.clone(),
                    columns: row.len(),
                    locations: self.locations.len(),
                });
            }
            for (location, &value) in self.locations.iter().zip(row) {
                if !value.is_finite() || !(0.0..=COEFFICIENT_MAX).contains(&value) {
                    return Err(SpatialError::BadCoefficient {
                        receptor: receptor.id.clone(),
                        location: location.clone(),
                        value,
                    });
                }
            }
        }
        if let Some(cap) = &self.tonnage_cap {
            if !cap.cap.is_finite() || !(0.0..=CAP_MAX).contains(&cap.cap) {
                return Err(SpatialError::BadCap { value: cap.cap });
            }
            if cap.weights.len() != self.locations.len() {
                return Err(SpatialError::CapWeightsShape {
                    weights: cap.weights.len(),
                    locations: self.locations.len(),
                });
            }
            for (location, &value) in self.locations.iter().zip(&cap.weights) {
                if !value.is_finite() || !(0.0..=CAP_WEIGHT_MAX).contains(&value) {
                    return Err(SpatialError::BadCapWeight {
                        location: location.clone(),
                        value,
                    });
                }
            }
        }
        if let Some(value) = self
            .violation_price
            .filter(|v| !v.is_finite() || *v <= 0.0 || *v > VIOLATION_PRICE_MAX)
        {
            return Err(SpatialError::BadViolationPrice { value });
        }
        let mut total: u128 = 0;
        for step in &self.steps {
            if step.location >= self.locations.len() {
                return Err(SpatialError::LocationOutOfRange {
                    step: step.id.clone(),
                    location: step.location,
                    locations: self.locations.len(),
                });
            }
            if step.quantity == 0 {
                return Err(SpatialError::ZeroQuantity {
                    step: step.id.clone(),
                });
            }
            if step.quantity > QUANTITY_MAX {
                return Err(SpatialError::QuantityTooLarge {
                    step: step.id.clone(),
                    quantity: step.quantity,
                });
            }
            if step.price < 0 {
                return Err(SpatialError::NegativePrice {
                    step: step.id.clone(),
                    price: step.price,
                });
            }
            if step.price > PRICE_MAX {
                return Err(SpatialError::PriceTooLarge {
                    step: step.id.clone(),
                    price: step.price,
                });
            }
            total += u128::from(step.quantity);
        }
        if total > TOTAL_QUANTITY_MAX {
            return Err(SpatialError::TotalQuantityTooLarge { total });
        }
        Ok(())
    }

    /// The violation price `M` the clearing uses, minor units per receptor unit: the given one,
    /// else `VIOLATION_PRICE_FACTOR x highest step price / smallest positive coefficient` (the
    /// highest price alone when no coefficient is positive), at least 1 and at most
    /// [`VIOLATION_PRICE_MAX`]. Short of that ceiling the default exceeds by a factor 1,000 what
    /// any single step could pay per receptor unit it loads, so a receptor's slack (only a
    /// receptor with a negative headroom has one) is used only when no trade can restore the
    /// standard.
    pub fn effective_violation_price(&self) -> f64 {
        if let Some(m) = self.violation_price {
            return m;
        }
        let max_price = self.steps.iter().map(|s| s.price).max().unwrap_or(0) as f64;
        let min_coefficient = self
            .coefficients
            .iter()
            .flatten()
            .copied()
            .filter(|&a| a > 0.0)
            .fold(f64::INFINITY, f64::min);
        let m = if min_coefficient.is_finite() {
            VIOLATION_PRICE_FACTOR * max_price / min_coefficient
        } else {
            VIOLATION_PRICE_FACTOR * max_price
        };
        if m.is_finite() {
            m.clamp(1.0, VIOLATION_PRICE_MAX)
        } else {
            VIOLATION_PRICE_MAX
        }
    }
}

fn unique_ids<'a>(
    what: &'static str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), SpatialError> {
    let mut seen = BTreeSet::new();
    for (index, id) in ids.enumerate() {
        if id.is_empty() {
            return Err(SpatialError::EmptyId { what, index });
        }
        if !seen.insert(id) {
            return Err(SpatialError::DuplicateId {
                what,
                id: id.to_string(),
            });
        }
    }
    Ok(())
}
