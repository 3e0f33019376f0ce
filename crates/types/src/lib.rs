//! The vocabulary every yrd-ets layer shares: integer quantities and money, jurisdiction and unit-type
//! codes, vintages, identifiers and serial ranges.
//!
//! Nothing here knows about accounts, markets or storage. Every type validates on construction, so a
//! value of one of these types is always well formed; parsing user input returns [`InvalidValue`]
//! naming the rule that failed, never a panic.

mod account_kind;
mod codes;
mod quantity;
mod serial;

pub use account_kind::AccountKind;
pub use codes::{
    AccountId, InstallationId, JurisdictionCode, TransactionId, UnitTypeCode, Vintage,
};
pub use quantity::{Money, Quantity};
pub use serial::SerialRange;

/// A value that does not satisfy its type's format rule; `what` names the type, `rule` the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {rule}")]
pub struct InvalidValue {
    /// The kind of value, e.g. "jurisdiction code".
    pub what: &'static str,
    /// The offending input, as given.
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

/// Unit classes are fungible: one allowance of a class is as good as another. The class is the
/// registry's key for holdings, issuance and conservation (EU Reg. 389/2013 Art. 40: units carry
/// their issuing party, type and period).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct UnitClass {
    /// Jurisdiction that issued the units.
    pub jurisdiction: JurisdictionCode,
    /// Unit type, e.g. `CEA`, `EUA`, `COD`.
    pub unit_type: UnitTypeCode,
    /// Vintage year the units were issued for.
    pub vintage: Vintage,
}

impl std::fmt::Display for UnitClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.jurisdiction, self.unit_type, self.vintage
        )
    }
}
