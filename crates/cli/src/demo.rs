//! `yrd-ets demo`: the main job. Builds the YRD carbon market from the real CEADs 2019
//! inventories, runs a compliance cycle through the SQLite registry, reports per jurisdiction and
//! audits the result.

use crate::output::{submit_all, thousands};
use crate::report::{print_summary, print_supply};
use crate::store::open_or_create;
use anyhow::{Result, bail};
use chrono::NaiveDate;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use yrd_config::MarketConfig;
use yrd_data::ceads::{COVERED_SECTORS_2019, parse_covered_sectors};
use yrd_data::demo::scenario;
use yrd_registry::audit::audit;
use yrd_registry::reports::{compliance_table, supply};

/// Marks a directory as the demo's own, so that a rerun may recreate it.
const MARKER: &str = ".yrd-demo";

/// Runs the demo in `data_dir` (recreated) with the generator seed `seed`.
pub fn run(data_dir: &Path, seed: u64) -> Result<ExitCode> {
    let started = Instant::now();
    prepare_dir(data_dir)?;
    let sectors = parse_covered_sectors(
        "data/ceads/yrd_2019_covered_sectors.csv",
        COVERED_SECTORS_2019,
    )?;
    let scenario = scenario(&sectors, seed)?;
    let covered: u64 = sectors.iter().map(|s| s.total_t).sum();
    println!(
        "yrd-ets demo: Yangtze River Delta carbon market, CEADs 2019 inventories (Shan et al. 2018, 2020; Guan et al. 2021)\n\
         {} t CO2 in {} covered sector-jurisdictions, split into {} facilities (seed {seed}); data directory {}",
        thousands(covered),
        sectors.len(),
        scenario.facilities.len(),
        data_dir.display()
    );
    let (_, config_text) = MarketConfig::builtin("yrd")?;
    let genesis = NaiveDate::from_ymd_opt(2019, 1, 1).expect("valid date");
    let mut registry = open_or_create(data_dir, config_text, "yrd", genesis)?;
    for step in &scenario.steps {
        let counts = submit_all(&mut registry, &step.submissions, 10_000, step.name)?;
        println!(
            "  {:<28} {:>7} transactions",
            step.name,
            thousands(counts.applied)
        );
    }
    println!(
        "\nCompliance 2019 by jurisdiction (annual rule; penalty 5 x CNY 80.00 per tonne short):"
    );
    print_summary(
        registry.state(),
        &compliance_table(registry.state(), Some(2019), None),
    );
    let allocation_2020 = compliance_table(registry.state(), Some(2020), None);
    let withheld: u64 = allocation_2020.iter().map(|r| r.deducted).sum();
    let cut = allocation_2020.iter().filter(|r| r.deducted > 0).count();
    println!(
        "2020 free allocation: {} t to {} facilities; {} t withheld from {cut} facilities for their 2019 shortfall \
         (2024 Interim Regulations Art. 24)",
        thousands(allocation_2020.iter().map(|r| r.allocated).sum()),
        allocation_2020.len(),
        thousands(withheld),
    );
    println!("\nSupply by jurisdiction and vintage (t CO2e):");
    print_supply(&supply(registry.state()), false);
    let report = audit(registry.store())?;
    crate::audit::print(&report, false);
    println!("done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Creates `dir` empty. An existing directory is removed only if it is a previous demo's (it holds
/// the marker file); anything else is refused.
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "{} exists and is not a demo directory; choose another --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "created by yrd-ets demo; removed and recreated on every run\n",
    )?;
    Ok(())
}
