//! `yrd-ets submit`: transactions from a JSON Lines file.

use crate::store::open;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;
use yrd_registry::Submission;

/// The most lines a submission file may hold: one durable batch.
pub const MAX_LINES: usize = 100_000;

/// Parses every line first (a line that does not parse stops everything, naming file:line:column),
/// then submits them in order as one durable batch. Without `keep_going`, any refusal aborts the
/// whole file before anything is stored.
pub fn run(data_dir: &Path, file: &Path, keep_going: bool) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut submissions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let submission: Submission = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{}:{}: {}", file.display(), i + 1, e.column(), e))?;
        submissions.push((i + 1, submission));
        if submissions.len() > MAX_LINES {
            bail!(
                "{}: more than {MAX_LINES} submissions; split the file",
                file.display()
            );
        }
    }
    if submissions.is_empty() {
        bail!(
            "{}: no submissions in the file (blank lines and lines starting with # are skipped)",
            file.display()
        );
    }
    let mut registry = open(data_dir)?;
    if !keep_going {
        // Dry-run on a copy of the state first, so that a refusal anywhere stores nothing.
        let mut probe = registry.state().clone();
        for (line, s) in &submissions {
            let (_, hash) = yrd_registry::RegistryState::canonical(s);
            if let Err(violations) = probe.apply(s, hash) {
                let rejection = yrd_registry::Rejection {
                    tx_id: s.id.to_string(),
                    violations,
                };
                bail!(
                    "{}:{line}: {rejection}\nnothing was submitted",
                    file.display()
                );
            }
        }
    }
    let batch: Vec<Submission> = submissions.iter().map(|(_, s)| s.clone()).collect();
    let results = registry.submit_batch(&batch)?;
    let mut refused = 0;
    for ((line, s), result) in submissions.iter().zip(results) {
        match result {
            Ok(r) if r.duplicate => println!(
                "{}:{line}: {} already applied as transaction {}",
                file.display(),
                s.id,
                r.seq
            ),
            Ok(r) => println!(
                "{}:{line}: {} applied as transaction {}",
                file.display(),
                s.id,
                r.seq
            ),
            Err(rejection) => {
                refused += 1;
                println!("{}:{line}: {rejection}", file.display());
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(4)
    })
}
