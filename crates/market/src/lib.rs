//! The trading rules of the yrd-ets exchange, modelled on the China national carbon market and
//! configurable: price ticks and lots, the daily price band, the block-trade threshold, trading
//! sessions and the calendar, the daily closing price and exchange fees.
//!
//! Pure: no I/O, no clock (the caller passes the date and time), no order book (`yrd-book`
//! matches; this crate says whether an order may be entered and what a day's trades add up to).
//! Integer only: prices are `i64` in the currency's minor unit per base unit (CNY fen per t CO2e),
//! quantities are `u64` base units (t), money is [`yrd_types::Money`] in minor units. Every
//! division rounds half-up (towards +infinity at exactly .5) from the exact rational value,
//! computed in `i128`; no floating point anywhere.
//!
//! Rule sources (the defaults of [`TradingRules::china_national`]):
//! - Ministry of Ecology and Environment, *Rules for the Administration of Carbon Emission
//!   Trading (Trial)* (碳排放权交易管理规则（试行）, MEE Announcement 2021 No. 21), which names
//!   listed agreement (挂牌协议) and block agreement (大宗协议) trading and price limits;
//! - Shanghai Environment and Energy Exchange (SEEE), *Announcement on matters concerning national
//!   carbon emission trading* (关于全国碳排放权交易相关事项的公告, June 2021): listed agreement
//!   orders under 100,000 t, 09:30-11:30 and 13:00-15:00, +/-10 % of the previous close; block
//!   agreement 100,000 t or more, 13:00-15:00, +/-30 %; tick CNY 0.01, lot 1 t; the closing price
//!   is the volume-weighted average of the day's listed agreement trades, or the previous close
//!   when there were none;
//! - the project brief, `ets-rules.md`, section "Secondary market".
//!
//! Every refusal is a [`RuleViolation`] with a stable [`RuleViolation::code`]; every overflow is an
//! [`Overflow`] value, never a panic.

#![warn(missing_docs)]

mod calendar;
mod checks;
mod fee;
mod rules;
mod stats;

pub use calendar::{block_session_open, is_trading_day, next_trading_day, session_open};
pub use checks::{
    RuleViolation, band, block_violations, check_block, check_order, order_violations,
};
pub use fee::{fee, notional};
pub use rules::{MAX_HOLIDAYS, MAX_SESSIONS, Session, TradingRules};
pub use stats::{DayStats, RecordError};

/// An amount in minor units (or a quantity) left the range of its integer type; `what` names the
/// figure being computed. Operating data that large is refused rather than wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow computing {what}")]
pub struct Overflow {
    /// The figure being computed, e.g. "notional" or "book turnover".
    pub what: &'static str,
}

/// `numerator / denominator` rounded half-up (ties towards +infinity) to a multiple of `tick`,
/// exactly: `floor(n / (d * tick) + 1/2) * tick`, with floor division so negative values round
/// the same way as positive ones. `None` when `d * tick` or the result leaves `i128`.
///
/// Uses quotient and remainder rather than `(2n + d*tick) / (2 d tick)`, because `2 * d * tick`
/// overflows `i128` for a VWAP with `d` = a `u64` volume and `tick` = an `i64` tick.
fn round_half_up_to_tick(numerator: i128, denominator: i128, tick: i128) -> Option<i128> {
    assert!(denominator > 0, "denominator must be positive");
    assert!(tick > 0, "tick must be positive");
    let step = denominator.checked_mul(tick)?;
    let quotient = numerator.div_euclid(step);
    let remainder = numerator.rem_euclid(step);
    debug_assert!((0..step).contains(&remainder));
    // remainder / step >= 1/2  <=>  remainder >= step - remainder (no overflow: both < step).
    let round_up = remainder >= step - remainder;
    quotient
        .checked_add(i128::from(round_up))?
        .checked_mul(tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_from_the_exact_ratio() {
        // 41103 / 10 = 4110.3 -> 4110; 50237 / 10 = 5023.7 -> 5024.
        assert_eq!(round_half_up_to_tick(41_103, 10, 1), Some(4_110));
        assert_eq!(round_half_up_to_tick(50_237, 10, 1), Some(5_024));
        // Exactly .5 goes up: 25 / 10 = 2.5 -> 3; 7.5 to tick 5 is 1.5 ticks -> 2 ticks = 10.
        assert_eq!(round_half_up_to_tick(25, 10, 1), Some(3));
        assert_eq!(round_half_up_to_tick(75, 10, 5), Some(10));
        // Just below .5 goes down: 7.49 to tick 5 is 1.498 ticks -> 1 tick = 5.
        assert_eq!(round_half_up_to_tick(749, 100, 5), Some(5));
        // Negative ties go towards +infinity: -2.5 -> -2, -2.6 -> -3.
        assert_eq!(round_half_up_to_tick(-25, 10, 1), Some(-2));
        assert_eq!(round_half_up_to_tick(-26, 10, 1), Some(-3));
        // The widest VWAP: d = u64::MAX volume, tick = i64::MAX does not overflow.
        let d = i128::from(u64::MAX);
        let t = i128::from(i64::MAX);
        assert_eq!(round_half_up_to_tick(d * t, d, t), Some(t));
    }
}
