//! Case files: the shared JSON format of a smart-market case (`../shared/cases/spatial/`), its
//! strict reader, the conversion to a [`Problem`] in lots and minor units, and the result in the
//! case's own units.
//!
//! ```json
//! {
//!   "description": "...",                      // optional
//!   "locations": ["P1", "P2"],
//!   "receptors": ["R1"],
//!   "transfer_coefficients": {"R1": {"P1": 0.6, "P2": 1.0}},   // missing pair = 0
//!   "headroom": {"R1": 0},                      // every receptor, receptor units
//!   "bids": [{"id": "s1", "location": "P1", "side": "sell", "quantity": 10, "price": 20}],
//!   "trading_unit": 1,                          // optional, case quantity units per lot
//!   "tonnage_cap": {"cap": 100, "weights": {"P1": 1, "P2": 1}},   // optional, every location
//!   "violation_price": 1000000,                 // optional, CNY per receptor unit
//!   "expected": {...}                           // optional, ignored by the engine
//! }
//! ```
//!
//! Units: quantities (bids, cap) in the case's unit (tonnes); prices in CNY per case unit, whole
//! fen; a transfer coefficient is receptor units per case unit. One lot is `trading_unit` case
//! units, so every bid quantity must be a whole number of trading units, and a lot's price
//! (`price x 100 x trading_unit` fen) a whole number of fen. Unknown fields are refused, and so
//! is a key repeated within an object. The converted problem must meet every check of
//! [`Problem::validate`], the bounds of the crate docs included: at least one location, a
//! receptor or a tonnage cap, at most 10^12 lots and 10^12 fen per lot a bid (refused naming the
//! bid), coefficients per lot at most 10^6, headroom at most 10^12 in absolute value.

use crate::{Clearing, Problem, ReceptorSpec, Side, SpatialError, Step, TonnageCap};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Relative tolerance of "a whole number" for quantities and fen given as JSON numbers.
const WHOLE_TOLERANCE: f64 = 1e-9;

/// A case file that could not be read or converted. Shows as `<source>: <what>`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}: {kind}")]
pub struct CaseError {
    /// The name the case was read under (its path).
    pub source_name: String,
    /// What is wrong.
    pub kind: CaseErrorKind,
}

/// What is wrong with a case file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseErrorKind {
    /// Not JSON, or not the case format (a missing or unknown field, a wrong type).
    #[error("SPATIAL_CASE_JSON: line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A location code that is not in `locations`.
    #[error("SPATIAL_CASE_UNKNOWN_LOCATION: {context} names location {name:?}, not in `locations`")]
    UnknownLocation {
        /// Where it appeared.
        context: String,
        /// The code.
        name: String,
    },
    /// A receptor id that is not in `receptors`.
    #[error("SPATIAL_CASE_UNKNOWN_RECEPTOR: {context} names receptor {name:?}, not in `receptors`")]
    UnknownReceptor {
        /// Where it appeared.
        context: String,
        /// The id.
        name: String,
    },
    /// A name given twice (in a list or as an object key).
    #[error("SPATIAL_CASE_DUPLICATE: {context}: {name:?} appears more than once")]
    Duplicate {
        /// Where.
        context: String,
        /// The name.
        name: String,
    },
    /// A receptor without headroom.
    #[error("SPATIAL_CASE_MISSING_HEADROOM: receptor {receptor:?} has no headroom")]
    MissingHeadroom {
        /// The receptor.
        receptor: String,
    },
    /// A location without a cap weight.
    #[error("SPATIAL_CASE_MISSING_WEIGHT: location {location:?} has no tonnage_cap weight")]
    MissingWeight {
        /// The location.
        location: String,
    },
    /// `trading_unit` not positive.
    #[error("SPATIAL_CASE_BAD_TRADING_UNIT: trading_unit {value} must be > 0")]
    BadTradingUnit {
        /// The value.
        value: f64,
    },
    /// A quantity that is not positive.
    #[error("SPATIAL_CASE_BAD_QUANTITY: {context} has quantity {value}; it must be > 0")]
    BadQuantity {
        /// Where.
        context: String,
        /// The value.
        value: f64,
    },
    /// A quantity that is not a whole number of trading units.
    #[error(
        "SPATIAL_CASE_NOT_WHOLE_UNITS: {context} has quantity {quantity}, not a whole number of \
         trading units of {unit}"
    )]
    NotWholeUnits {
        /// Where.
        context: String,
        /// The quantity.
        quantity: f64,
        /// The trading unit.
        unit: f64,
    },
    /// A negative bid price.
    #[error("SPATIAL_CASE_NEGATIVE_PRICE: bid {bid:?} has price {price} < 0")]
    NegativePrice {
        /// The bid id.
        bid: String,
        /// The price, CNY per case unit.
        price: f64,
    },
    /// A price that is not a whole number of fen (per case unit, or per lot).
    #[error(
        "SPATIAL_CASE_NOT_WHOLE_FEN: bid {bid:?} has price {price} CNY per unit, not a whole \
         number of fen per unit or per lot of {unit}"
    )]
    NotWholeFen {
        /// The bid id.
        bid: String,
        /// The price, CNY per case unit.
        price: f64,
        /// The trading unit.
        unit: f64,
    },
    /// A value out of range once converted (a price above `i64::MAX` fen, say).
    #[error("SPATIAL_CASE_OUT_OF_RANGE: {context}: {value} is out of range")]
    OutOfRange {
        /// Where.
        context: String,
        /// The value.
        value: f64,
    },
    /// The converted problem fails a check of [`Problem::validate`].
    #[error(transparent)]
    Problem(SpatialError),
}

/// A bid of a case, names resolved, in case units.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseBid {
    /// Its id.
    pub id: String,
    /// Index into [`Case::locations`].
    pub location: usize,
    /// Buy or sell.
    pub side: Side,
    /// Case units (tonnes), positive.
    pub quantity: f64,
    /// CNY per case unit.
    pub price: f64,
}

/// A tonnage cap of a case: `sum_i weights[i] x D_i <= cap`, `D` in case units.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseCap {
    /// Case units (weighted).
    pub cap: f64,
    /// Per location, dimensionless.
    pub weights: Vec<f64>,
}

/// A case file, read and with every name resolved; quantities still in case units.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The name it was read under (for messages).
    pub source_name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Location codes, in file order.
    pub locations: Vec<String>,
    /// Receptor ids, in file order.
    pub receptors: Vec<String>,
    /// `[receptor][location]`, receptor units per case unit (0 where the file gives none).
    pub coefficients: Vec<Vec<f64>>,
    /// Per receptor, receptor units.
    pub headroom: Vec<f64>,
    /// The bids, in file order.
    pub bids: Vec<CaseBid>,
    /// Case units per lot (default 1).
    pub trading_unit: f64,
    /// The optional tonnage cap.
    pub tonnage_cap: Option<CaseCap>,
    /// CNY per receptor unit, if given.
    pub violation_price: Option<f64>,
    /// The `expected` block, untouched (tests compare against it).
    pub expected: Option<Value>,
}

/// An object read with its keys in file order and duplicates kept (serde_json would silently keep
/// the last).
#[derive(Debug)]
struct Pairs<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    description: Option<String>,
    locations: Vec<String>,
    receptors: Vec<String>,
    transfer_coefficients: Pairs<Pairs<f64>>,
    headroom: Pairs<f64>,
    bids: Vec<BidFile>,
    #[serde(default)]
    trading_unit: Option<f64>,
    #[serde(default)]
    tonnage_cap: Option<CapFile>,
    #[serde(default)]
    violation_price: Option<f64>,
    #[serde(default)]
    expected: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BidFile {
    id: String,
    location: String,
    side: Side,
    quantity: f64,
    price: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapFile {
    cap: f64,
    weights: Pairs<f64>,
}

/// Name -> index of a list, refusing duplicates.
fn index(names: &[String], context: &str) -> Result<BTreeMap<String, usize>, CaseErrorKind> {
    let mut map = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        if map.insert(n.clone(), i).is_some() {
            return Err(CaseErrorKind::Duplicate {
                context: context.to_string(),
                name: n.clone(),
            });
        }
    }
    Ok(map)
}

/// Refuses a key that appears twice in one object.
fn no_repeats<V>(pairs: &Pairs<V>, context: &str) -> Result<(), CaseErrorKind> {
    let mut seen = std::collections::BTreeSet::new();
    for (k, _) in &pairs.0 {
        if !seen.insert(k.as_str()) {
            return Err(CaseErrorKind::Duplicate {
                context: context.to_string(),
                name: k.clone(),
            });
        }
    }
    Ok(())
}

/// `x` rounded if within `WHOLE_TOLERANCE` (relative) of an integer.
fn whole(x: f64) -> Option<f64> {
    let r = x.round();
    ((x - r).abs() <= WHOLE_TOLERANCE * r.abs().max(1.0)).then_some(r)
}

/// A number for JSON output: an integer when it is one (and exactly representable), else a float.
fn num(x: f64) -> Value {
    if x == 0.0 {
        return Value::from(0);
    }
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// Minor units (fen) to CNY for JSON output: an integer when whole yuan.
fn cny(minor: i128) -> Value {
    if minor % 100 == 0 && minor.abs() < 9_007_199_254_740_992 * 100 {
        Value::from((minor / 100) as i64)
    } else {
        Value::from(minor as f64 / 100.0)
    }
}

impl Case {
    /// Reads a case from its JSON text; `source_name` (the path) is used in every error.
    ///
    /// # Errors
    /// [`CaseErrorKind::Json`] with line and column for malformed JSON, a missing, unknown or
    /// mistyped field; duplicate locations, receptors or object keys; a location or receptor that
    /// is not declared; a receptor without headroom; a location without a cap weight.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<Case, CaseError> {
        Self::parse(text, source_name).map_err(|kind| CaseError {
            source_name: source_name.to_string(),
            kind,
        })
    }

    fn parse(text: &str, source_name: &str) -> Result<Case, CaseErrorKind> {
        let file: CaseFile = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            CaseErrorKind::Json {
                line: e.line(),
                column: e.column(),
                message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
            }
        })?;
        let loc = index(&file.locations, "locations")?;
        let rec = index(&file.receptors, "receptors")?;
        let location = |name: &str, context: String| {
            loc.get(name)
                .copied()
                .ok_or_else(|| CaseErrorKind::UnknownLocation {
                    context,
                    name: name.to_string(),
                })
        };
        let receptor = |name: &str, context: String| {
            rec.get(name)
                .copied()
                .ok_or_else(|| CaseErrorKind::UnknownReceptor {
                    context,
                    name: name.to_string(),
                })
        };

        let mut coefficients = vec![vec![0.0; file.locations.len()]; file.receptors.len()];
        no_repeats(&file.transfer_coefficients, "transfer_coefficients")?;
        for (r_name, row) in &file.transfer_coefficients.0 {
            let r = receptor(r_name, "transfer_coefficients".to_string())?;
            let context = format!("transfer_coefficients.{r_name}");
            no_repeats(row, &context)?;
            for &(ref l_name, a) in &row.0 {
                coefficients[r][location(l_name, context.clone())?] = a;
            }
        }

        no_repeats(&file.headroom, "headroom")?;
        let mut headroom = vec![None; file.receptors.len()];
        for &(ref r_name, h) in &file.headroom.0 {
            headroom[receptor(r_name, "headroom".to_string())?] = Some(h);
        }
        let headroom = headroom
            .into_iter()
            .zip(&file.receptors)
            .map(|(h, r)| {
                h.ok_or_else(|| CaseErrorKind::MissingHeadroom {
                    receptor: r.clone(),
                })
            })
            .collect::<Result<Vec<f64>, _>>()?;

        let bids = file
            .bids
            .into_iter()
            .map(|b| {
                Ok(CaseBid {
                    location: location(&b.location, format!("bid {:?}", b.id))?,
                    id: b.id,
                    side: b.side,
                    quantity: b.quantity,
                    price: b.price,
                })
            })
            .collect::<Result<Vec<_>, CaseErrorKind>>()?;

        let tonnage_cap = match file.tonnage_cap {
            None => None,
            Some(cap) => {
                no_repeats(&cap.weights, "tonnage_cap.weights")?;
                let mut weights = vec![None; file.locations.len()];
                for &(ref l_name, w) in &cap.weights.0 {
                    weights[location(l_name, "tonnage_cap.weights".to_string())?] = Some(w);
                }
                let weights = weights
                    .into_iter()
                    .zip(&file.locations)
                    .map(|(w, l)| {
                        w.ok_or_else(|| CaseErrorKind::MissingWeight {
                            location: l.clone(),
                        })
                    })
                    .collect::<Result<Vec<f64>, _>>()?;
                Some(CaseCap {
                    cap: cap.cap,
                    weights,
                })
            }
        };

        Ok(Case {
            source_name: source_name.to_string(),
            description: file.description,
            locations: file.locations,
            receptors: file.receptors,
            coefficients,
            headroom,
            bids,
            trading_unit: file.trading_unit.unwrap_or(1.0),
            tonnage_cap,
            violation_price: file.violation_price,
            expected: file.expected,
        })
    }

    fn error(&self, kind: CaseErrorKind) -> CaseError {
        CaseError {
            source_name: self.source_name.clone(),
            kind,
        }
    }

    /// Index of a location code; `context` says where it appeared (for the error).
    ///
    /// # Errors
    /// [`CaseErrorKind::UnknownLocation`].
    pub fn location_index(&self, name: &str, context: &str) -> Result<usize, CaseError> {
        self.locations
            .iter()
            .position(|l| l == name)
            .ok_or_else(|| {
                self.error(CaseErrorKind::UnknownLocation {
                    context: context.to_string(),
                    name: name.to_string(),
                })
            })
    }

    /// A quantity in case units as whole lots.
    ///
    /// # Errors
    /// [`CaseErrorKind::BadTradingUnit`], [`CaseErrorKind::BadQuantity`] (not finite or not
    /// positive), [`CaseErrorKind::NotWholeUnits`], [`CaseErrorKind::OutOfRange`].
    pub fn lots(&self, quantity: f64, context: &str) -> Result<u64, CaseError> {
        self.check_unit()?;
        let unit = self.trading_unit;
        if !quantity.is_finite() || quantity <= 0.0 {
            return Err(self.error(CaseErrorKind::BadQuantity {
                context: context.to_string(),
                value: quantity,
            }));
        }
        let lots = whole(quantity / unit).ok_or_else(|| {
            self.error(CaseErrorKind::NotWholeUnits {
                context: context.to_string(),
                quantity,
                unit,
            })
        })?;
        if lots < 1.0 {
            return Err(self.error(CaseErrorKind::NotWholeUnits {
                context: context.to_string(),
                quantity,
                unit,
            }));
        }
        if lots >= 1.8e19 {
            return Err(self.error(CaseErrorKind::OutOfRange {
                context: context.to_string(),
                value: quantity,
            }));
        }
        Ok(lots as u64)
    }

    fn check_unit(&self) -> Result<(), CaseError> {
        let unit = self.trading_unit;
        if !unit.is_finite() || unit <= 0.0 {
            return Err(self.error(CaseErrorKind::BadTradingUnit { value: unit }));
        }
        Ok(())
    }

    /// A bid's price as whole fen per lot.
    fn price_per_lot(&self, bid: &CaseBid) -> Result<i64, CaseError> {
        if bid.price < 0.0 {
            return Err(self.error(CaseErrorKind::NegativePrice {
                bid: bid.id.clone(),
                price: bid.price,
            }));
        }
        let not_whole = || {
            self.error(CaseErrorKind::NotWholeFen {
                bid: bid.id.clone(),
                price: bid.price,
                unit: self.trading_unit,
            })
        };
        let per_unit = whole(bid.price * 100.0).ok_or_else(not_whole)?;
        let per_lot = whole(per_unit * self.trading_unit).ok_or_else(not_whole)?;
        if !per_lot.is_finite() || per_lot >= 9.2e18 {
            return Err(self.error(CaseErrorKind::OutOfRange {
                context: format!("bid {:?} price", bid.id),
                value: bid.price,
            }));
        }
        Ok(per_lot as i64)
    }

    /// The problem in lots and minor units: quantities / trading unit, prices x 100 x trading
    /// unit (fen per lot), coefficients x trading unit (receptor units per lot), cap / trading
    /// unit, violation price x 100. Validated.
    ///
    /// # Errors
    /// A bad trading unit, a quantity that is not positive or not a whole number of trading
    /// units, a negative price or one that is not whole fen (per unit and per lot), and every
    /// check of [`Problem::validate`] ([`CaseErrorKind::Problem`]).
    pub fn to_problem(&self) -> Result<Problem, CaseError> {
        self.check_unit()?;
        let unit = self.trading_unit;
        let steps = self
            .bids
            .iter()
            .map(|b| {
                Ok(Step {
                    id: b.id.clone(),
                    location: b.location,
                    side: b.side,
                    quantity: self.lots(b.quantity, &format!("bid {:?}", b.id))?,
                    price: self.price_per_lot(b)?,
                })
            })
            .collect::<Result<Vec<_>, CaseError>>()?;
        let problem = Problem {
            locations: self.locations.clone(),
            receptors: self
                .receptors
                .iter()
                .zip(&self.headroom)
                .map(|(id, &headroom)| ReceptorSpec {
                    id: id.clone(),
                    headroom,
                })
                .collect(),
            coefficients: self
                .coefficients
                .iter()
                .map(|row| row.iter().map(|a| a * unit).collect())
                .collect(),
            tonnage_cap: self.tonnage_cap.as_ref().map(|c| TonnageCap {
                cap: c.cap / unit,
                weights: c.weights.clone(),
            }),
            steps,
            violation_price: self.violation_price.map(|m| m * 100.0),
        };
        problem
            .validate()
            .map_err(|e| self.error(CaseErrorKind::Problem(e)))?;
        Ok(problem)
    }

    /// The result in case units, with exactly the keys of an `expected` block - `fills` (by bid
    /// id, rounded, case units), `net_change` (rounded, case units), `receptor_prices` (CNY per
    /// receptor unit), `locational_prices` (CNY per case unit, `pi_i` before rounding),
    /// `total_surplus` and `operator_revenue` (CNY, settled) - and everything else under
    /// `details`: `continuous_fills`, `continuous_net_change`, `settlement_prices` (CNY per case
    /// unit), `cap_price` (CNY per weighted case unit, or null), `receptor_load_change` and
    /// `receptor_load_change_continuous` and `receptor_slack` (receptor units),
    /// `total_surplus_continuous`, `operator_revenue_continuous` (CNY), `violation_price` (CNY
    /// per receptor unit), `trading_unit`.
    ///
    /// `clearing` must come from [`Case::to_problem`] of this case.
    pub fn output(&self, clearing: &Clearing) -> Value {
        let unit = self.trading_unit;
        let by_bid = |values: &mut dyn Iterator<Item = f64>| -> Value {
            Value::Object(
                self.bids
                    .iter()
                    .zip(values)
                    .map(|(b, v)| (b.id.clone(), num(v)))
                    .collect::<Map<String, Value>>(),
            )
        };
        let by_name = |names: &[String], values: &mut dyn Iterator<Item = f64>| -> Value {
            Value::Object(
                names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| (n.clone(), num(v)))
                    .collect::<Map<String, Value>>(),
            )
        };
        let per_unit_cny = |minor_per_lot: f64| minor_per_lot / 100.0 / unit;
        let mut details = Map::new();
        details.insert(
            "continuous_fills".into(),
            by_bid(&mut clearing.continuous_fills.iter().map(|&x| x * unit)),
        );
        details.insert(
            "continuous_net_change".into(),
            by_name(
                &self.locations,
                &mut clearing.net_change_continuous.iter().map(|&d| d * unit),
            ),
        );
        details.insert(
            "settlement_prices".into(),
            by_name(
                &self.locations,
                &mut clearing
                    .settlement_prices
                    .iter()
                    .map(|&p| per_unit_cny(p as f64)),
            ),
        );
        details.insert(
            "cap_price".into(),
            clearing
                .cap_price
                .map_or(Value::Null, |l| num(per_unit_cny(l))),
        );
        details.insert(
            "receptor_load_change".into(),
            by_name(&self.receptors, &mut clearing.receptor_load.iter().copied()),
        );
        details.insert(
            "receptor_load_change_continuous".into(),
            by_name(
                &self.receptors,
                &mut clearing.receptor_load_continuous.iter().copied(),
            ),
        );
        details.insert(
            "receptor_slack".into(),
            by_name(
                &self.receptors,
                &mut clearing.receptor_slack.iter().copied(),
            ),
        );
        details.insert(
            "total_surplus_continuous".into(),
            num(clearing.total_surplus_continuous / 100.0),
        );
        details.insert(
            "operator_revenue_continuous".into(),
            num(clearing.operator_revenue_continuous / 100.0),
        );
        details.insert(
            "violation_price".into(),
            num(clearing.violation_price / 100.0),
        );
        details.insert("trading_unit".into(), num(unit));

        let mut out = Map::new();
        out.insert(
            "fills".into(),
            by_bid(&mut clearing.fills.iter().map(|&f| f as f64 * unit)),
        );
        out.insert(
            "net_change".into(),
            by_name(
                &self.locations,
                &mut clearing.net_change.iter().map(|&d| d as f64 * unit),
            ),
        );
        out.insert(
            "receptor_prices".into(),
            by_name(
                &self.receptors,
                &mut clearing.receptor_prices.iter().map(|&m| m / 100.0),
            ),
        );
        out.insert(
            "locational_prices".into(),
            by_name(
                &self.locations,
                &mut clearing.locational_prices.iter().map(|&p| per_unit_cny(p)),
            ),
        );
        out.insert("total_surplus".into(), cny(clearing.total_surplus));
        out.insert("operator_revenue".into(), cny(clearing.operator_revenue));
        out.insert("details".into(), Value::Object(details));
        Value::Object(out)
    }
}
