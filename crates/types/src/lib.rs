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
    AccountId, InstallationId, JurisdictionCode, OrderRef, TransactionId, UnitTypeCode, Vintage,
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
///
/// Written as one string, `jurisdiction/unit type/vintage` (e.g. `CN-SH/CEA/2019`), in JSON and
/// in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl std::str::FromStr for UnitClass {
    type Err = InvalidValue;

    /// Parses `jurisdiction/unit type/vintage`, e.g. `CN-SH/CEA/2019`.
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let bad = |rule| InvalidValue {
            what: "unit class",
            value: s.to_string(),
            rule,
        };
        let mut parts = s.split('/');
        let (Some(j), Some(u), Some(v), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "must be jurisdiction/unit type/vintage, e.g. CN-SH/CEA/2019",
            ));
        };
        let year: u16 = v.parse().map_err(|_| bad("the vintage must be a year"))?;
        Ok(UnitClass {
            jurisdiction: JurisdictionCode::new(j)?,
            unit_type: UnitTypeCode::new(u)?,
            vintage: Vintage::new(year)?,
        })
    }
}

impl serde::Serialize for UnitClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for UnitClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_class_round_trips_as_one_string() {
        let c: UnitClass = "CN-SH/CEA/2019".parse().unwrap();
        assert_eq!(c.vintage.year(), 2019);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"CN-SH/CEA/2019\"");
        assert_eq!(
            serde_json::from_str::<UnitClass>("\"CN-SH/CEA/2019\"").unwrap(),
            c
        );
        assert!("CN-SH/CEA".parse::<UnitClass>().is_err());
        assert!("CN-SH/CEA/20x9".parse::<UnitClass>().is_err());
        assert!("cn/CEA/2019".parse::<UnitClass>().is_err());
    }

    #[test]
    fn serial_range_is_a_pair() {
        let r = SerialRange { first: 3, last: 9 };
        assert_eq!(serde_json::to_string(&r).unwrap(), "[3,9]");
        assert_eq!(serde_json::from_str::<SerialRange>("[3,9]").unwrap(), r);
        assert!(serde_json::from_str::<SerialRange>("[9,3]").is_err());
    }
}
