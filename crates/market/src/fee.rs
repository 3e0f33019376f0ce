//! Trade value and exchange fees.

use crate::{Overflow, TradingRules, round_half_up_to_tick};
use yrd_types::Money;

/// The value of a trade, `price x quantity`, in minor units (`price` in minor units per base
/// unit, `quantity` in base units); [`Overflow`] when it does not fit in an `i64` [`Money`].
pub fn notional(price: i64, quantity: u64) -> Result<Money, Overflow> {
    // i64 x u64 < 2^127: the product itself always fits in i128.
    let value = i128::from(price) * i128::from(quantity);
    i64::try_from(value)
        .map(Money)
        .map_err(|_| Overflow { what: "notional" })
}

/// The exchange fee charged to EACH side of a trade: `notional x fee_bp / 10,000`, rounded
/// half-up to the minor unit from the exact value (0.5 fen -> 1 fen), computed in `i128`.
/// `price` in minor units per base unit, `quantity` in base units, result in minor units.
///
/// Rule source: the exchange's published fee schedule, a rate in basis points of turnover per
/// side; the rate is configuration ([`TradingRules::fee_bp`]), 0 meaning no fee.
/// [`Overflow`] when the notional or the fee does not fit in an `i64`.
pub fn fee(rules: &TradingRules, price: i64, quantity: u64) -> Result<Money, Overflow> {
    let value = i128::from(notional(price, quantity)?.0);
    // |value| < 2^63 and fee_bp < 2^32: the product fits in i128.
    let scaled = value * i128::from(rules.fee_bp);
    let fee = round_half_up_to_tick(scaled, 10_000, 1).ok_or(Overflow { what: "fee" })?;
    i64::try_from(fee)
        .map(Money)
        .map_err(|_| Overflow { what: "fee" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fee(fee_bp: u32) -> TradingRules {
        TradingRules {
            fee_bp,
            ..TradingRules::china_national()
        }
    }

    #[test]
    fn fee_rounds_half_up_to_the_fen() {
        // 5 bp of 4,567 fen x 10 t = 45,670 fen: 45,670 x 5 / 10,000 = 22.835 -> 23 fen.
        assert_eq!(fee(&with_fee(5), 4_567, 10), Ok(Money(23)));
        // 5 bp of 1,000 fen x 1 t: 1,000 x 5 / 10,000 = 0.5 -> 1 fen (exactly .5 goes up).
        assert_eq!(fee(&with_fee(5), 1_000, 1), Ok(Money(1)));
        // 5 bp of 999 fen: 0.4995 -> 0 fen.
        assert_eq!(fee(&with_fee(5), 999, 1), Ok(Money(0)));
        // 3 bp of 5,000 fen x 100 t = 500,000 fen: 150 fen exactly.
        assert_eq!(fee(&with_fee(3), 5_000, 100), Ok(Money(150)));
        // 1 bp of 4,999 x 3 = 14,997 fen: 1.4997 -> 1; of 15,000 fen: 1.5 -> 2.
        assert_eq!(fee(&with_fee(1), 4_999, 3), Ok(Money(1)));
        assert_eq!(fee(&with_fee(1), 5_000, 3), Ok(Money(2)));
        // No fee configured.
        assert_eq!(fee(&with_fee(0), 4_567, 99_999), Ok(Money(0)));
        // 100 %: the whole notional.
        assert_eq!(fee(&with_fee(10_000), 4_567, 10), Ok(Money(45_670)));
    }

    #[test]
    fn overflow_is_a_value() {
        assert_eq!(notional(4_567, 10), Ok(Money(45_670)));
        assert_eq!(notional(i64::MAX, 1), Ok(Money(i64::MAX)));
        assert_eq!(notional(i64::MAX, 2), Err(Overflow { what: "notional" }));
        assert_eq!(
            fee(&with_fee(5), i64::MAX, u64::MAX),
            Err(Overflow { what: "notional" })
        );
        // Notional fits but an (unvalidated) 20,000 bp fee on it does not.
        assert_eq!(
            fee(&with_fee(20_000), i64::MAX, 1),
            Err(Overflow { what: "fee" })
        );
    }
}
