//! Shared output helpers: batched submission with a progress bar, tables, number formatting.

use anyhow::{Result, bail};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use yrd_registry::{JournalStore, Registry, RegistryState, Submission};

/// Counts of a batched submission.
#[derive(Debug, Default, Clone, Copy)]
pub struct Submitted {
    /// Newly applied.
    pub applied: u64,
    /// Already applied before (same id, same content): a resumed run.
    pub duplicates: u64,
}

/// Submits `submissions` in durable batches of `batch`, showing progress (hidden when stderr is
/// not a terminal). Stops at the first refusal, naming it; batches before it stay applied.
pub fn submit_all<S: JournalStore>(
    registry: &mut Registry<S>,
    submissions: &[Submission],
    batch: usize,
    label: &str,
) -> Result<Submitted> {
    let bar = ProgressBar::new(submissions.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    let mut counts = Submitted::default();
    for chunk in submissions.chunks(batch.max(1)) {
        let results = registry.submit_batch(chunk)?;
        for (submission, result) in chunk.iter().zip(results) {
            match result {
                Ok(receipt) if receipt.duplicate => counts.duplicates += 1,
                Ok(_) => counts.applied += 1,
                Err(rejection) => {
                    bar.abandon();
                    bail!(
                        "{} ({}): {rejection}",
                        submission.id,
                        submission.command.kind()
                    );
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(counts)
}

/// A table with the house style and a header row.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    t
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `-1234567` as `-1,234,567`.
pub fn signed(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let digits = u64::try_from(v.unsigned_abs()).map_or_else(|_| v.to_string(), thousands);
    format!("{sign}{digits}")
}

/// Minor units as `CNY 24,000.00`.
pub fn money(state: &RegistryState, minor: i128) -> String {
    let market = &state.config().market;
    let per = i128::from(market.currency_minor_per_major.max(1));
    let decimals = (per as f64).log10().round() as usize;
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = signed(i128::try_from(abs / per.unsigned_abs()).unwrap_or(i128::MAX));
    if decimals == 0 {
        return format!("{} {sign}{major}", market.currency);
    }
    let frac = abs % per.unsigned_abs();
    format!("{} {sign}{major}.{frac:0decimals$}", market.currency)
}

/// An area's code and name from the market geography (`CN-SH-QP Qingpu District`), or the code.
pub fn area_label(state: &RegistryState, code: &str) -> String {
    state
        .config()
        .geography
        .as_ref()
        .and_then(|g| g.area(code))
        .map_or(code.to_string(), |a| format!("{code} {}", a.name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000), "1,000");
        assert_eq!(super::thousands(435_160_768), "435,160,768");
    }
}
