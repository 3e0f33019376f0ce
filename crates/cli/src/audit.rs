//! `yrd-ets audit`.

use crate::output::thousands;
use anyhow::{Result, bail};
use std::path::Path;
use std::process::ExitCode;
use yrd_registry::audit::audit;
use yrd_storage::SqliteStore;

/// Audits the registry in `data_dir` straight from its journal (not through an opened registry,
/// so a journal that no longer opens is still audited and its faults named).
pub fn run(data_dir: &Path) -> Result<ExitCode> {
    if !data_dir.join("registry.sqlite").exists() {
        bail!("{} holds no registry", data_dir.display());
    }
    // Read-only: the audit never changes what it audits.
    let store = SqliteStore::open_read_only(data_dir)?;
    let report = audit(&store)?;
    print(&report, true);
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Prints an audit report: per-class totals (optional), then findings or a clean bill.
pub fn print(report: &yrd_registry::audit::AuditReport, classes: bool) {
    if classes && !report.classes.is_empty() {
        crate::report::print_supply(
            &yrd_registry::reports::supply_from_totals(&report.classes),
            true,
        );
    }
    if report.is_clean() {
        println!(
            "audit: clean - {} journal entries, hash chain intact, every entry replays to its recorded effects; \
             {} conserved, serial blocks disjoint and complete",
            thousands(report.entries),
            plural(report.classes.len(), "unit class", "unit classes")
        );
    } else {
        println!(
            "audit: {} in {} journal entries:",
            plural(report.finding_count, "discrepancy", "discrepancies"),
            thousands(report.entries)
        );
        for f in &report.findings {
            println!("  - {f}");
        }
        if report.finding_count > report.findings.len() {
            println!(
                "  ... and {} more",
                report.finding_count - report.findings.len()
            );
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}
