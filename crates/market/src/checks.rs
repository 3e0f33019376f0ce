//! Order-entry checks: the price band, tick, lot and block threshold.

use crate::TradingRules;
use crate::round_half_up_to_tick;

/// Source of the price band, tick, lot and block-threshold rules, for [`RuleViolation::regulation`].
const SEEE_RULES: &str = "SEEE announcement on national carbon emission trading (2021); \
                          MEE Rules for the Administration of Carbon Emission Trading (Trial) (2021 No. 21)";

/// The price band around `previous_close`: `(lower, upper)` = `previous_close x (100 -/+ pct) / 100`,
/// each rounded half-up to a multiple of `tick` (SEEE: "rounded to the minimum price change",
/// 四舍五入). All values are minor units per base unit.
///
/// The rounding is of the exact rational value, computed in `i128` with no floating point: with a
/// previous close of 4,567 fen and 10 %, 4,110.3 -> 4,110 and 5,023.7 -> 5,024; exactly .5 rounds
/// up. A valid price lies in `lower..=upper`.
///
/// Both bounds are clamped to `0..=` the largest multiple of `tick` that fits in `i64`: a bound is
/// never negative (e.g. a previous close <= 0 gives `(0, 0)`, refusing every positive price), and
/// clamping the upper bound refuses nothing an `i64` on-tick price could be. When `previous_close`
/// is a multiple of `tick` and positive, `lower <= previous_close <= upper`.
///
/// Panics if `tick <= 0` ([`TradingRules::validate`] requires a positive tick).
pub fn band(previous_close: i64, pct: u32, tick: i64) -> (i64, i64) {
    assert!(tick > 0, "tick must be positive, got {tick}");
    if previous_close <= 0 {
        // Without this, a negative close and a band over 100 % would give lower > upper.
        return (0, 0);
    }
    let close = i128::from(previous_close);
    let pct = i128::from(pct);
    let tick = i128::from(tick);
    // |close| < 2^63 and 100 + pct < 2^33, so neither product nor the rounding overflows i128.
    let round = |percent: i128| {
        round_half_up_to_tick(close * percent, 100, tick).expect("band bounds fit in i128")
    };
    let ceiling = i128::from(i64::MAX) / tick * tick;
    let clamp = |v: i128| i64::try_from(v.clamp(0, ceiling)).expect("clamped into i64");
    let lower = clamp(round(100 - pct));
    let upper = clamp(round(100 + pct));
    debug_assert!(lower <= upper);
    (lower, upper)
}

/// Why an order or a block trade may not be entered. Each variant is one rule with a stable
/// [`code`](RuleViolation::code); prices are minor units per base unit, quantities base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// The price is zero or negative (prices are positive; SEEE order entry).
    #[error("price {price} must be positive")]
    NonPositivePrice {
        /// The price given.
        price: i64,
    },
    /// The price is not a multiple of the tick (SEEE: tick CNY 0.01).
    #[error("price {price} is not a multiple of the tick {tick}")]
    PriceOffTick {
        /// The price given.
        price: i64,
        /// The tick it must be a multiple of.
        tick: i64,
    },
    /// The price is outside the band around the previous close (SEEE: +/-10 % listed, +/-30 % block).
    #[error("price {price} is outside the band {lower}..={upper}")]
    PriceOutsideBand {
        /// The price given.
        price: i64,
        /// Lowest valid price (inclusive).
        lower: i64,
        /// Highest valid price (inclusive).
        upper: i64,
    },
    /// The quantity is zero.
    #[error("quantity must be positive")]
    ZeroQuantity,
    /// The quantity is not a whole number of lots (SEEE: lot 1 t).
    #[error("quantity {quantity} is not a multiple of the lot {lot}")]
    QuantityNotMultipleOfLot {
        /// The quantity given.
        quantity: u64,
        /// The lot it must be a multiple of.
        lot: u64,
    },
    /// A book (listed agreement) order at or above the block threshold; it must go through block
    /// agreement trading (SEEE: listed orders under 100,000 t).
    #[error(
        "quantity {quantity} is at or above the block threshold {threshold}: trade it as a block"
    )]
    BlockSizeOnBook {
        /// The quantity given.
        quantity: u64,
        /// The block threshold; book orders must be below it.
        threshold: u64,
    },
    /// A block trade below the block threshold (SEEE: block agreement 100,000 t or more).
    #[error("quantity {quantity} is below the block threshold {threshold}")]
    BlockTooSmall {
        /// The quantity given.
        quantity: u64,
        /// The block threshold; block trades must be at least it.
        threshold: u64,
    },
}

impl RuleViolation {
    /// The stable machine-readable code of the rule, e.g. `MARKET_PRICE_OUTSIDE_BAND`.
    pub fn code(&self) -> &'static str {
        match self {
            RuleViolation::NonPositivePrice { .. } => "MARKET_NON_POSITIVE_PRICE",
            RuleViolation::PriceOffTick { .. } => "MARKET_PRICE_OFF_TICK",
            RuleViolation::PriceOutsideBand { .. } => "MARKET_PRICE_OUTSIDE_BAND",
            RuleViolation::ZeroQuantity => "MARKET_ZERO_QUANTITY",
            RuleViolation::QuantityNotMultipleOfLot { .. } => "MARKET_QUANTITY_NOT_MULTIPLE_OF_LOT",
            RuleViolation::BlockSizeOnBook { .. } => "MARKET_BLOCK_SIZE_ON_BOOK",
            RuleViolation::BlockTooSmall { .. } => "MARKET_BLOCK_TOO_SMALL",
        }
    }

    /// The rule book the check comes from.
    pub fn regulation(&self) -> &'static str {
        SEEE_RULES
    }
}

/// Checks a listed agreement (book) order: positive price on the tick and within
/// [`band`]`(previous_close, price_band_pct, tick_minor)`, positive quantity in whole lots and
/// below `block_threshold`. Returns the first failure in the order of [`order_violations`].
/// `price` and `previous_close` in minor units per base unit, `quantity` in base units.
pub fn check_order(
    rules: &TradingRules,
    previous_close: i64,
    price: i64,
    quantity: u64,
) -> Result<(), RuleViolation> {
    first(order_violations(rules, previous_close, price, quantity))
}

/// Every rule a listed agreement (book) order breaks, price rules first (at most five). A
/// non-positive price is not also reported off-tick or out of band, a zero quantity not also off-lot.
pub fn order_violations(
    rules: &TradingRules,
    previous_close: i64,
    price: i64,
    quantity: u64,
) -> Vec<RuleViolation> {
    let mut violations = price_violations(rules, previous_close, rules.price_band_pct, price);
    violations.extend(lot_violation(rules, quantity));
    if quantity >= rules.block_threshold {
        violations.push(RuleViolation::BlockSizeOnBook {
            quantity,
            threshold: rules.block_threshold,
        });
    }
    violations
}

/// Checks a block agreement trade: positive price on the tick and within
/// [`band`]`(previous_close, block_band_pct, tick_minor)`, quantity in whole lots and at least
/// `block_threshold`. Whether the block session is open is [`crate::block_session_open`]'s
/// question. Returns the first failure in the order of [`block_violations`].
pub fn check_block(
    rules: &TradingRules,
    previous_close: i64,
    price: i64,
    quantity: u64,
) -> Result<(), RuleViolation> {
    first(block_violations(rules, previous_close, price, quantity))
}

/// Every rule a block agreement trade breaks, price rules first (at most five).
pub fn block_violations(
    rules: &TradingRules,
    previous_close: i64,
    price: i64,
    quantity: u64,
) -> Vec<RuleViolation> {
    let mut violations = price_violations(rules, previous_close, rules.block_band_pct, price);
    violations.extend(lot_violation(rules, quantity));
    if quantity < rules.block_threshold {
        violations.push(RuleViolation::BlockTooSmall {
            quantity,
            threshold: rules.block_threshold,
        });
    }
    violations
}

fn first(violations: Vec<RuleViolation>) -> Result<(), RuleViolation> {
    match violations.first() {
        Some(v) => Err(*v),
        None => Ok(()),
    }
}

fn price_violations(
    rules: &TradingRules,
    previous_close: i64,
    band_pct: u32,
    price: i64,
) -> Vec<RuleViolation> {
    if price <= 0 {
        return vec![RuleViolation::NonPositivePrice { price }];
    }
    let mut violations = Vec::with_capacity(5);
    let tick = rules.tick_minor;
    if price % tick != 0 {
        violations.push(RuleViolation::PriceOffTick { price, tick });
    }
    let (lower, upper) = band(previous_close, band_pct, tick);
    if !(lower..=upper).contains(&price) {
        violations.push(RuleViolation::PriceOutsideBand {
            price,
            lower,
            upper,
        });
    }
    violations
}

fn lot_violation(rules: &TradingRules, quantity: u64) -> Option<RuleViolation> {
    if quantity == 0 {
        Some(RuleViolation::ZeroQuantity)
    } else if rules.lot == 0 || !quantity.is_multiple_of(rules.lot) {
        // An unvalidated zero lot admits no quantity rather than dividing by zero.
        Some(RuleViolation::QuantityNotMultipleOfLot {
            quantity,
            lot: rules.lot,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn china() -> TradingRules {
        TradingRules::china_national()
    }

    #[test]
    fn band_rounds_half_up_to_tick_1() {
        // 4567 x 0.9 = 4110.3 -> 4110; 4567 x 1.1 = 5023.7 -> 5024.
        assert_eq!(band(4_567, 10, 1), (4_110, 5_024));
        // 4565 x 0.9 = 4108.5 -> 4109 (exactly .5 goes up); 4565 x 1.1 = 5021.5 -> 5022.
        assert_eq!(band(4_565, 10, 1), (4_109, 5_022));
        // 4555 x 0.7 = 3188.5 -> 3189; 4555 x 1.3 = 5921.5 -> 5922 (block band).
        assert_eq!(band(4_555, 30, 1), (3_189, 5_922));
        // 4800 x 0.9 = 4320, x 1.1 = 5280: exact, no rounding.
        assert_eq!(band(4_800, 10, 1), (4_320, 5_280));
        // 1 fen x 0.9 = 0.9 -> 1; x 1.1 = 1.1 -> 1: the band of a 1-fen close is just 1 fen.
        assert_eq!(band(1, 10, 1), (1, 1));
        // 5 x 0.9 = 4.5 -> 5 (.5 up), 5 x 1.1 = 5.5 -> 6.
        assert_eq!(band(5, 10, 1), (5, 6));
    }

    #[test]
    fn band_rounds_half_up_to_tick_5() {
        // 100 x 0.9 = 90, x 1.1 = 110: already multiples of 5.
        assert_eq!(band(100, 10, 5), (90, 110));
        // 125 x 0.9 = 112.5 = 22.5 ticks -> 23 ticks = 115 (.5 up); 125 x 1.1 = 137.5 = 27.5
        // ticks -> 28 ticks = 140.
        assert_eq!(band(125, 10, 5), (115, 140));
        // 105 x 0.9 = 94.5 = 18.9 ticks -> 19 ticks = 95; 105 x 1.1 = 115.5 = 23.1 ticks -> 115.
        assert_eq!(band(105, 10, 5), (95, 115));
    }

    #[test]
    fn band_is_never_negative_and_never_overflows() {
        // 100 % band: lower 0; a close of 0 or below refuses every positive price.
        assert_eq!(band(4_567, 100, 1), (0, 9_134));
        assert_eq!(band(0, 10, 1), (0, 0));
        assert_eq!(band(-500, 10, 1), (0, 0));
        // 150 % (unvalidated) would give a negative lower bound; it is clamped to 0.
        assert_eq!(band(100, 150, 1).0, 0);
        // i64::MAX x 1.1 does not fit: clamped to the largest on-tick i64.
        assert_eq!(band(i64::MAX, 10, 1).1, i64::MAX);
        assert_eq!(band(i64::MAX / 5 * 5, 10, 5).1, i64::MAX / 5 * 5);
    }

    #[test]
    fn order_checks_name_the_bounds() {
        let r = china();
        assert_eq!(check_order(&r, 4_567, 4_110, 1), Ok(()));
        assert_eq!(check_order(&r, 4_567, 5_024, 99_999), Ok(()));
        let v = check_order(&r, 4_567, 5_025, 10).unwrap_err();
        assert_eq!(
            v,
            RuleViolation::PriceOutsideBand {
                price: 5_025,
                lower: 4_110,
                upper: 5_024
            }
        );
        assert_eq!(v.code(), "MARKET_PRICE_OUTSIDE_BAND");
        assert_eq!(v.to_string(), "price 5025 is outside the band 4110..=5024");
        assert_eq!(
            check_order(&r, 4_567, 4_109, 10),
            Err(RuleViolation::PriceOutsideBand {
                price: 4_109,
                lower: 4_110,
                upper: 5_024
            })
        );
        assert_eq!(
            check_order(&r, 4_567, 0, 10),
            Err(RuleViolation::NonPositivePrice { price: 0 })
        );
        assert_eq!(
            check_order(&r, 4_567, 4_567, 0),
            Err(RuleViolation::ZeroQuantity)
        );
        // 100,000 t is a block: refused on the book, the threshold named.
        let v = check_order(&r, 4_567, 4_567, 100_000).unwrap_err();
        assert_eq!(
            v,
            RuleViolation::BlockSizeOnBook {
                quantity: 100_000,
                threshold: 100_000
            }
        );
        assert_eq!(v.code(), "MARKET_BLOCK_SIZE_ON_BOOK");
    }

    #[test]
    fn tick_and_lot_are_enforced() {
        let mut r = china();
        r.tick_minor = 5;
        r.lot = 10;
        r.initial_reference_price_minor = 100;
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(check_order(&r, 100, 105, 20), Ok(()));
        let v = check_order(&r, 100, 103, 20).unwrap_err();
        assert_eq!(
            v,
            RuleViolation::PriceOffTick {
                price: 103,
                tick: 5
            }
        );
        assert_eq!(v.to_string(), "price 103 is not a multiple of the tick 5");
        let v = check_order(&r, 100, 105, 15).unwrap_err();
        assert_eq!(
            v,
            RuleViolation::QuantityNotMultipleOfLot {
                quantity: 15,
                lot: 10
            }
        );
        assert_eq!(v.to_string(), "quantity 15 is not a multiple of the lot 10");
        // Band with tick 5 around 100 is 90..=110: 115 is on the tick but outside.
        assert_eq!(
            check_order(&r, 100, 115, 20),
            Err(RuleViolation::PriceOutsideBand {
                price: 115,
                lower: 90,
                upper: 110
            })
        );
        // Every failure at once: off tick and out of band, off lot.
        assert_eq!(
            order_violations(&r, 100, 113, 15)
                .iter()
                .map(RuleViolation::code)
                .collect::<Vec<_>>(),
            [
                "MARKET_PRICE_OFF_TICK",
                "MARKET_PRICE_OUTSIDE_BAND",
                "MARKET_QUANTITY_NOT_MULTIPLE_OF_LOT"
            ]
        );
    }

    #[test]
    fn block_trades_use_the_wide_band_and_the_threshold() {
        let r = china();
        // 4567 x 0.7 = 3196.9 -> 3197; x 1.3 = 5937.1 -> 5937.
        assert_eq!(band(4_567, 30, 1), (3_197, 5_937));
        assert_eq!(check_block(&r, 4_567, 3_197, 100_000), Ok(()));
        assert_eq!(check_block(&r, 4_567, 5_937, 2_000_000), Ok(()));
        assert_eq!(
            check_block(&r, 4_567, 5_938, 100_000),
            Err(RuleViolation::PriceOutsideBand {
                price: 5_938,
                lower: 3_197,
                upper: 5_937
            })
        );
        let v = check_block(&r, 4_567, 4_567, 99_999).unwrap_err();
        assert_eq!(
            v,
            RuleViolation::BlockTooSmall {
                quantity: 99_999,
                threshold: 100_000
            }
        );
        assert_eq!(v.code(), "MARKET_BLOCK_TOO_SMALL");
        assert_eq!(
            v.to_string(),
            "quantity 99999 is below the block threshold 100000"
        );
        // A price 20 % up is fine for a block but not on the book.
        assert!(check_block(&r, 5_000, 6_000, 100_000).is_ok());
        assert!(check_order(&r, 5_000, 6_000, 10).is_err());
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            RuleViolation::NonPositivePrice { price: 0 },
            RuleViolation::PriceOffTick { price: 1, tick: 2 },
            RuleViolation::PriceOutsideBand {
                price: 1,
                lower: 2,
                upper: 3,
            },
            RuleViolation::ZeroQuantity,
            RuleViolation::QuantityNotMultipleOfLot {
                quantity: 1,
                lot: 2,
            },
            RuleViolation::BlockSizeOnBook {
                quantity: 1,
                threshold: 2,
            },
            RuleViolation::BlockTooSmall {
                quantity: 1,
                threshold: 2,
            },
        ];
        let mut codes: Vec<_> = all.iter().map(RuleViolation::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|v| !v.regulation().is_empty()));
    }

    proptest! {
        /// The band's bounds sit on the tick and bracket an on-tick positive previous close.
        #[test]
        fn band_bounds_are_on_tick_and_bracket_the_close(
            tick in prop_oneof![Just(1i64), Just(5), Just(10), 1i64..=1_000, 1i64..=i64::MAX],
            close_ticks in 1i64..=i64::MAX,
            pct in 0u32..=100,
        ) {
            let close_ticks = close_ticks % (i64::MAX / tick) + 1;
            let close = close_ticks * tick;
            let (lower, upper) = band(close, pct, tick);
            prop_assert_eq!(lower % tick, 0);
            prop_assert_eq!(upper % tick, 0);
            prop_assert!(0 <= lower && lower <= close && close <= upper);
        }

        /// Whatever the inputs, no panic and no negative bound.
        #[test]
        fn band_never_panics_or_goes_negative(
            tick in 1i64..=i64::MAX,
            close in any::<i64>(),
            pct in any::<u32>(),
        ) {
            let (lower, upper) = band(close, pct, tick);
            prop_assert!(0 <= lower && lower <= upper);
            prop_assert_eq!(lower % tick, 0);
            prop_assert_eq!(upper % tick, 0);
        }
    }
}
