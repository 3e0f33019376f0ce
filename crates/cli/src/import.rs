//! `yrd-ets import eutl`.

use crate::output::{submit_all, table, thousands};
use crate::store::open_or_create;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use yrd_config::MarketConfig;
use yrd_data::eutl::read_eutl_gz;
use yrd_data::eutl_replay::{Agreement, compare, plan};
use yrd_registry::{Registry, RegistryState, Submission};
use yrd_storage::SqliteStore;

/// Reads and validates the whole file (a malformed row stops here, before anything is written),
/// plans the replay, submits it in durable batches (a rerun after an interruption resumes: applied
/// transactions come back as duplicates), then writes the comparison report and prints agreement.
pub fn eutl(file: &Path, data_dir: &Path, report: &Path, batch: usize) -> Result<ExitCode> {
    let started = Instant::now();
    let rows = read_eutl_gz(file)?;
    let read_s = started.elapsed().as_secs_f64();
    let (config, config_text) = MarketConfig::builtin("eu-ets")?;
    let plan = plan(&file.display().to_string(), &rows, &config)?;
    let plan_s = started.elapsed().as_secs_f64() - read_s;
    println!(
        "read {} installation-years from {}; planned {} registry transactions",
        thousands(rows.len() as u64),
        file.display(),
        thousands(plan.submissions.len() as u64)
    );
    drop(rows); // the plan keeps what the comparison needs
    let first = NaiveDate::from_ymd_opt(2005, 1, 1).expect("valid date");
    let mut registry = open_or_create(data_dir, config_text, "eu-ets", first)?;
    refuse_foreign_history(&registry, &plan.submissions)?;
    let replay_started = std::time::Instant::now();
    let counts = submit_all(&mut registry, &plan.submissions, batch, "replaying")?;
    let replay_s = replay_started.elapsed().as_secs_f64();
    if counts.duplicates > 0 {
        println!(
            "resumed: {} transactions were already applied",
            thousands(counts.duplicates)
        );
    }
    let (rows_out, agreement) = compare(&plan, registry.state());
    let mut writer =
        csv::Writer::from_path(report).with_context(|| format!("writing {}", report.display()))?;
    for row in &rows_out {
        writer.serialize(row)?;
    }
    writer.flush()?;
    print_agreement(&agreement);
    println!(
        "applied {} transactions; {:.2} s in all (read {read_s:.2} s, plan {plan_s:.2} s, open and replay into the registry {replay_s:.2} s); report: {}",
        thousands(counts.applied),
        started.elapsed().as_secs_f64(),
        report.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A resumed import must be the same import: if any planned id was applied with other content,
/// the directory holds another file's replay, and nothing is submitted.
fn refuse_foreign_history(
    registry: &Registry<SqliteStore>,
    submissions: &[Submission],
) -> Result<()> {
    for s in submissions {
        if let Some((seq, hash)) = registry.state().applied(&s.id)
            && hash != RegistryState::canonical(s).1
        {
            anyhow::bail!(
                "the data directory holds a different replay: transaction {} ({}) was applied as entry {seq} with other content; \
                 nothing was submitted - use a new --data-dir",
                s.id,
                s.command.kind()
            );
        }
    }
    Ok(())
}

fn pct(agreed: u64, rows: u64) -> String {
    if rows == 0 {
        "-".into()
    } else {
        format!("{:.2} %", 100.0 * agreed as f64 / rows as f64)
    }
}

fn print_agreement(a: &Agreement) {
    let mut t = table(&["trading period", "installation-years", "agree", "agreement"]);
    for (phase, (rows, agreed)) in &a.by_phase {
        t.add_row(vec![
            phase.to_string(),
            thousands(*rows),
            thousands(*agreed),
            pct(*agreed, *rows),
        ]);
    }
    println!("{t}");
    let mut t = table(&["official code", "installation-years", "agree", "agreement"]);
    for (code, (rows, agreed)) in &a.by_official {
        let label = if code.is_empty() {
            "(none)".to_string()
        } else {
            code.clone()
        };
        t.add_row(vec![
            label,
            thousands(*rows),
            thousands(*agreed),
            pct(*agreed, *rows),
        ]);
    }
    println!("{t}");
    let mut confusion: Vec<_> = a.confusion.iter().collect();
    confusion.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    let mut t = table(&["official", "computed", "installation-years"]);
    for ((official, computed), n) in confusion {
        let show = |c: &String| {
            if c.is_empty() {
                "(none)".to_string()
            } else {
                c.clone()
            }
        };
        t.add_row(vec![show(official), show(computed), thousands(*n)]);
    }
    println!("disagreements (explained in docs/eutl-agreement.md):\n{t}");
}
