use crate::InvalidValue;
use serde::{Deserialize, Deserializer, Serialize};

/// Defines a validated string newtype that (de)serialises as a plain string.
macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                match $check(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(rule) => Err(InvalidValue { what: $what, value, rule }),
                }
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_type!(
    /// A jurisdiction that issues units and administers installations: `CN-SH`, `CN-JS`, `CN-ZJ`,
    /// `CN-AH`, or an EU national registry such as `AT`. Uppercase letters, digits and `-`, 2-16
    /// characters, starting with a letter.
    JurisdictionCode,
    "jurisdiction code",
    check_upper_code
);
code_type!(
    /// A unit type: `CEA` (China carbon emission allowance), `EUA`, or a pollutant right such as
    /// `COD`, `NH3-N`, `SO2`, `NOX`, `VOCS`. Uppercase letters, digits and `-`, 2-16 characters.
    UnitTypeCode,
    "unit type code",
    check_upper_code
);
code_type!(
    /// A registry account identifier, e.g. `CN-SH-GOV` or `OHA-AT-47`: 1-64 characters from
    /// letters, digits and `-_.:`.
    AccountId,
    "account id",
    check_identifier
);
code_type!(
    /// An installation (facility) identifier, e.g. `AT-47`: 1-64 characters from letters, digits
    /// and `-_.:`.
    InstallationId,
    "installation id",
    check_identifier
);
code_type!(
    /// The caller-chosen identifier that makes a transaction idempotent: resubmitting the same id
    /// with the same content has one effect; with different content it is refused. 1-128 characters
    /// from letters, digits and `-_.:/`.
    TransactionId,
    "transaction id",
    check_transaction_id
);

code_type!(
    /// A participant's order reference on the exchange (client order id), unique per registry:
    /// 1-128 characters from letters, digits and `-_.:/`.
    OrderRef,
    "order reference",
    check_transaction_id
);

fn check_upper_code(s: &str) -> Result<(), &'static str> {
    if !(2..=16).contains(&s.len()) {
        return Err("must be 2-16 characters long");
    }
    if !s.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err("must start with an uppercase letter");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may contain only uppercase letters, digits and '-'");
    }
    Ok(())
}

fn check_identifier(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 64 {
        return Err("must be 1-64 characters long");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err("may contain only letters, digits and '-', '_', '.', ':'");
    }
    Ok(())
}

fn check_transaction_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 128 {
        return Err("must be 1-128 characters long");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
    {
        return Err("may contain only letters, digits and '-', '_', '.', ':', '/'");
    }
    Ok(())
}

/// The year units were issued for (EU: the allocation year; China: the compliance year).
/// Valid vintages are 1990-2200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Vintage(u16);

impl Vintage {
    /// Validates a year.
    pub fn new(year: u16) -> Result<Self, InvalidValue> {
        if (1990..=2200).contains(&year) {
            Ok(Self(year))
        } else {
            Err(InvalidValue {
                what: "vintage",
                value: year.to_string(),
                rule: "must be a year in 1990-2200",
            })
        }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for Vintage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Vintage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let year = u16::deserialize(d)?;
        Self::new(year).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_validate() {
        assert!(JurisdictionCode::new("CN-SH").is_ok());
        assert!(JurisdictionCode::new("AT").is_ok());
        let err = JurisdictionCode::new("cn-sh").unwrap_err();
        assert_eq!(err.rule, "must start with an uppercase letter");
        assert!(UnitTypeCode::new("NH3-N").is_ok());
        assert!(UnitTypeCode::new("X").is_err());
        assert!(AccountId::new("OHA-AT-47").is_ok());
        assert!(AccountId::new("bad id").is_err());
        assert!(AccountId::new("").is_err());
        assert!(TransactionId::new("eutl/AT-47/2005/alloc").is_ok());
        assert!(TransactionId::new("x".repeat(129)).is_err());
        assert!(Vintage::new(2019).is_ok());
        assert!(Vintage::new(1900).is_err());
    }

    #[test]
    fn codes_deserialize_with_validation() {
        let ok: JurisdictionCode = serde_json::from_str("\"CN-JS\"").unwrap();
        assert_eq!(ok.as_str(), "CN-JS");
        let bad = serde_json::from_str::<JurisdictionCode>("\"cn\"").unwrap_err();
        assert!(bad.to_string().contains("jurisdiction code"), "{bad}");
    }
}
