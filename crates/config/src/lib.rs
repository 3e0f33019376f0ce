//! Market configuration: what one deployment of yrd-ets trades and enforces.
//!
//! A market is described in TOML (see `config/yrd.toml` and `config/eu-ets.toml` at the repository
//! root, both embedded in the binary). [`MarketConfig::from_toml`] parses and then validates it;
//! a bad configuration is rejected with the field path and the reason, before anything starts.

mod model;
mod validate;

pub use model::*;

use sha2::{Digest, Sha256};

/// The shipped configurations, by name: `yrd` (the Yangtze River Delta cross-regional market) and
/// `eu-ets` (a single-jurisdiction-style EU ETS market with national registries).
pub const BUILTIN: [(&str, &str); 2] = [
    ("yrd", include_str!("../../../config/yrd.toml")),
    ("eu-ets", include_str!("../../../config/eu-ets.toml")),
];

/// A configuration that cannot be used. `field` is the dotted path of the offending entry
/// (e.g. `compliance.trading_periods[1].first_year`), `source_name` the file or built-in name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid TOML, or does not fit the schema (unknown field, wrong type).
    #[error("{source_name}: {message}")]
    Syntax {
        /// File or built-in name.
        source_name: String,
        /// The parser's message, which names line, column and key.
        message: String,
    },
    /// The TOML parses but breaks a rule.
    #[error("{source_name}: field `{field}`: {reason}")]
    Invalid {
        /// File or built-in name.
        source_name: String,
        /// Dotted path of the offending field.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// `--market NAME` named no built-in configuration.
    #[error("no built-in market configuration named {0:?} (built in: yrd, eu-ets)")]
    UnknownBuiltin(String),
}

impl MarketConfig {
    /// Parses and validates a configuration. `source_name` is used in error messages only.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, ConfigError> {
        let config: MarketConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            source_name: source_name.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        validate::validate(&config).map_err(|(field, reason)| ConfigError::Invalid {
            source_name: source_name.to_string(),
            field,
            reason,
        })?;
        Ok(config)
    }

    /// One of the configurations shipped with yrd-ets, by name.
    pub fn builtin(name: &str) -> Result<(Self, &'static str), ConfigError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ConfigError::UnknownBuiltin(name.to_string()))?;
        Ok((Self::from_toml(name, text)?, text))
    }

    /// SHA-256 of the configuration text, hex: binds a data directory's journal to the rules it
    /// was written under.
    pub fn text_hash(text: &str) -> String {
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests;
