use serde::{Deserialize, Serialize};
use yrd_config::Penalty;
use yrd_types::Money;

/// A compliance status code with EU Transaction Log meaning (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StatusCode {
    /// Surrendered >= verified.
    A,
    /// Surrendered < verified.
    B,
    /// Verified emissions not entered by the deadline.
    C,
    /// Corrected by the authority after the deadline; non-compliant.
    D,
    /// Corrected by the authority after the deadline; compliant.
    E,
    /// Process suspended.
    X,
    /// No obligation for the year (`-`).
    #[serde(rename = "-")]
    NoObligation,
}

impl StatusCode {
    /// The one-character code as published (`A`..`E`, `X`, `-`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::A => "A",
            StatusCode::B => "B",
            StatusCode::C => "C",
            StatusCode::D => "D",
            StatusCode::E => "E",
            StatusCode::X => "X",
            StatusCode::NoObligation => "-",
        }
    }

    /// True when the installation met its obligation (A, E, or nothing owed).
    pub fn is_compliant(self) -> bool {
        matches!(
            self,
            StatusCode::A | StatusCode::E | StatusCode::NoObligation
        )
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status for a judged figure: `A`/`B` at the deadline, `E`/`D` for a re-judgement after an
/// authority's correction. Returns the code and the shortfall (`verified - surrendered`, 0 if none).
pub fn judge(
    surrendered: u64,
    verified: u64,
    after_authority_correction: bool,
) -> (StatusCode, u64) {
    let shortfall = verified.saturating_sub(surrendered);
    let code = match (shortfall == 0, after_authority_correction) {
        (true, false) => StatusCode::A,
        (false, false) => StatusCode::B,
        (true, true) => StatusCode::E,
        (false, true) => StatusCode::D,
    };
    (code, shortfall)
}

/// The penalty for `shortfall` units under `rule`, in the currency's minor unit; `None` on overflow.
pub fn penalty(rule: &Penalty, shortfall: u64) -> Option<Money> {
    let per_unit = match rule {
        Penalty::FixedPerUnit {
            amount_minor_per_unit,
        } => Money(*amount_minor_per_unit),
        Penalty::MultipleOfReferencePrice {
            multiple,
            reference_price_minor,
        } => Money(reference_price_minor.checked_mul(i64::from(*multiple))?),
    };
    per_unit.checked_mul_quantity(yrd_types::Quantity(shortfall))
}
