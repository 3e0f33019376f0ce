//! Opening and creating data directories.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use std::path::Path;
use std::process::ExitCode;
use yrd_config::MarketConfig;
use yrd_registry::Registry;
use yrd_storage::SqliteStore;

/// Opens the registry in `data_dir`, which must have been created.
pub fn open(data_dir: &Path) -> Result<Registry<SqliteStore>> {
    holds_registry(data_dir)?;
    let store = SqliteStore::open(data_dir)?;
    Registry::open(store).with_context(|| format!("opening the registry in {}", data_dir.display()))
}

/// Opens the registry in `data_dir` for reading only (reports, market data, audit views): the
/// store is opened read-only, so nothing a reader does can change it.
pub fn open_read_only(data_dir: &Path) -> Result<Registry<SqliteStore>> {
    holds_registry(data_dir)?;
    let store = SqliteStore::open_read_only(data_dir)?;
    Registry::open(store).with_context(|| format!("opening the registry in {}", data_dir.display()))
}

/// `data_dir` is a directory with a registry database in it.
fn holds_registry(data_dir: &Path) -> Result<()> {
    if data_dir.exists() && !data_dir.is_dir() {
        bail!("{} is a file, not a data directory", data_dir.display());
    }
    if !data_dir.join("registry.sqlite").exists() {
        bail!(
            "{} holds no registry (create one with `yrd-ets init --data-dir {} --market yrd`)",
            data_dir.display(),
            data_dir.display()
        );
    }
    Ok(())
}

/// Opens the registry in `data_dir`, creating it for the given configuration if it is new.
pub fn open_or_create(
    data_dir: &Path,
    config_text: &str,
    source: &str,
    date: NaiveDate,
) -> Result<Registry<SqliteStore>> {
    let store = SqliteStore::open(data_dir)?;
    Registry::open_or_create(store, config_text, source, date)
        .with_context(|| format!("opening the registry in {}", data_dir.display()))
}

/// Reads a market configuration: built-in by name, or a file.
pub fn market_text(market: Option<&str>, market_file: Option<&Path>) -> Result<(String, String)> {
    match (market, market_file) {
        (_, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            MarketConfig::from_toml(&file.display().to_string(), &text)?;
            Ok((text, file.display().to_string()))
        }
        (Some(name), None) => {
            let (_, text) = MarketConfig::builtin(name)?;
            Ok((text.to_string(), name.to_string()))
        }
        (None, None) => bail!("give --market yrd|eu-ets or --market-file FILE"),
    }
}

/// `yrd-ets init`.
pub fn init(
    data_dir: &Path,
    market: Option<&str>,
    market_file: Option<&Path>,
    date: Option<NaiveDate>,
) -> Result<ExitCode> {
    let (text, source) = market_text(market, market_file)?;
    if data_dir.join("registry.sqlite").exists() {
        bail!("{} already holds a registry", data_dir.display());
    }
    let date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let registry = open_or_create(data_dir, &text, &source, date)?;
    let config = registry.state().config();
    println!(
        "created registry for {} ({}) in {}: {} jurisdictions, {} system accounts",
        config.market.name,
        config.market.title,
        data_dir.display(),
        config.jurisdictions.len(),
        registry.state().ledger().accounts().count()
    );
    Ok(ExitCode::SUCCESS)
}

/// `yrd-ets check-config`.
pub fn check_config(file: &Path) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let config = MarketConfig::from_toml(&file.display().to_string(), &text)?;
    println!(
        "{}: valid market configuration `{}`: {} jurisdictions, {} unit types, {} obligations, status rule {:?}",
        file.display(),
        config.market.name,
        config.jurisdictions.len(),
        config.unit_types.len(),
        config.compliance.obligations.len(),
        config.compliance.status_rule
    );
    Ok(ExitCode::SUCCESS)
}
