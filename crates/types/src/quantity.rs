use serde::{Deserialize, Serialize};

/// A number of base units of one unit type: tonnes CO2e for carbon allowances, kilograms for
/// pollutant discharge rights (the unit type's configuration says which).
///
/// Quantities are never negative and never fractional; arithmetic is checked and returns `None`
/// on overflow or underflow rather than wrapping.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(pub u64);

impl Quantity {
    /// No units.
    pub const ZERO: Quantity = Quantity(0);

    /// The largest quantity any one transaction or unit class may carry: 10^15 base units
    /// (10^15 t CO2e is some 20,000 years of world emissions; 10^15 kg of a pollutant, a million
    /// times a large province's annual load). Keeping every figure below it keeps every sum the
    /// registry forms far from `u64::MAX`.
    pub const MAX: u64 = 1_000_000_000_000_000;

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    /// `self - other`, or `None` when `other` is larger.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).map(Quantity)
    }

    /// `self - other`, floored at zero.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(other.0))
    }

    /// True when there are no units.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An amount of money in the currency's minor unit (CNY fen, EUR cent). Signed, because balances
/// of penalties owed and refunds are differences; arithmetic is checked.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self * quantity` (a per-unit price times a quantity), or `None` on overflow.
    pub fn checked_mul_quantity(self, quantity: Quantity) -> Option<Money> {
        let units = i64::try_from(quantity.0).ok()?;
        self.0.checked_mul(units).map(Money)
    }

    /// Formats with the decimal point placed for a currency with `minor_per_major` minor units,
    /// e.g. `Money(12345).display_major(100)` is `123.45`.
    pub fn display_major(self, minor_per_major: u32) -> String {
        let divisor = i64::from(minor_per_major.max(1));
        let digits = minor_per_major.max(1).ilog10() as usize;
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let major = abs / divisor.unsigned_abs();
        let minor = abs % divisor.unsigned_abs();
        if digits == 0 {
            format!("{sign}{major}")
        } else {
            format!("{sign}{major}.{minor:0digits$}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_arithmetic_is_checked() {
        assert_eq!(Quantity(5).checked_add(Quantity(7)), Some(Quantity(12)));
        assert_eq!(Quantity(u64::MAX).checked_add(Quantity(1)), None);
        assert_eq!(Quantity(3).checked_sub(Quantity(4)), None);
        assert_eq!(Quantity(3).saturating_sub(Quantity(4)), Quantity::ZERO);
    }

    #[test]
    fn money_formats_in_major_units() {
        assert_eq!(Money(12345).display_major(100), "123.45");
        assert_eq!(Money(-5).display_major(100), "-0.05");
        assert_eq!(Money(7).display_major(1), "7");
        assert_eq!(
            Money(100).checked_mul_quantity(Quantity(3)),
            Some(Money(300))
        );
        assert_eq!(Money(i64::MAX).checked_mul_quantity(Quantity(2)), None);
    }
}
