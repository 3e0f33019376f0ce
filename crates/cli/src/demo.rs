//! `yrd-ets demo`: the main job. Builds the YRD carbon market from the real CEADs 2019
//! inventories, runs a compliance cycle through the SQLite registry, then the cross-regional
//! market for pollutant discharge rights in 2021 (pilot enterprises, transfers under the
//! geography's rules and trading ratios, a receptor-constrained call market), reports per
//! jurisdiction and per area, and audits the result.

use crate::output::{area_label, submit_all, table, thousands};
use crate::report::{print_call_market_tables, print_net_flow_tables, print_summary, print_supply};
use crate::store::open_or_create;
use anyhow::{Result, bail};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use yrd_config::MarketConfig;
use yrd_data::ceads::{COVERED_SECTORS_2019, parse_covered_sectors};
use yrd_data::demo::{CALL_MARKET, PILOT_ENTERPRISES, STEP_TRANSFERS, scenario};
use yrd_registry::audit::audit;
use yrd_registry::reports::{compliance_table, supply};
use yrd_registry::{Command, Effect, JournalStore, Registry, RegistryState, Submission};
use yrd_types::{AccountId, OrderRef, UnitClass};

/// Marks a directory as the demo's own, so that a rerun may recreate it.
const MARKER: &str = ".yrd-demo";

/// Runs the demo in `data_dir` (recreated) with the generator seed `seed`; with `service`, adds
/// the market activity of [`crate::service_demo`] before the audit.
pub fn run(data_dir: &Path, seed: u64, service: bool) -> Result<ExitCode> {
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
         {} t CO2 in {} covered sector-jurisdictions, split into {} facilities (seed {seed}); data directory {}\n\
         then the cross-regional market for pollutant rights in 2021 (illustrative enterprises and quantities)",
        thousands(covered),
        sectors.len(),
        scenario.facilities.len(),
        data_dir.display()
    );
    let (_, config_text) = MarketConfig::builtin("yrd")?;
    let genesis = NaiveDate::from_ymd_opt(2019, 1, 1).expect("valid date");
    let mut registry = open_or_create(data_dir, config_text, "yrd", genesis)?;
    let mut transfers = Vec::new();
    for step in &scenario.steps {
        let applied = if step.name == STEP_TRANSFERS {
            transfers = submit_transfers(&mut registry, &step.submissions)?;
            step.submissions.len() as u64
        } else {
            submit_all(&mut registry, &step.submissions, 10_000, step.name)?.applied
        };
        println!("  {:<30} {:>7} transactions", step.name, thousands(applied));
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
    print_regional(registry.state(), &transfers)?;
    println!(
        "\nSupply by jurisdiction, unit type and vintage (CEA in t CO2e, pollutant rights in kg):"
    );
    print_supply(&supply(registry.state()), false);
    if service {
        crate::service_demo::seed(&mut registry, data_dir)?;
    }
    let report = audit(registry.store())?;
    crate::audit::print(&report, false);
    println!("done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// A transfer of pollutant rights between two areas, as the registry applied it.
struct CrossRow {
    from: AccountId,
    to: AccountId,
    class: UnitClass,
    from_area: String,
    to_area: String,
    credited: u64,
    retired: u64,
    ratio: Option<String>,
    approval: Option<OrderRef>,
}

/// Submits the transfer step in one durable batch and keeps what the registry did with every
/// cross-regional transfer (its `CrossRegionalTransfer` effect). Stops at the first refusal.
fn submit_transfers<S: JournalStore>(
    registry: &mut Registry<S>,
    submissions: &[Submission],
) -> Result<Vec<CrossRow>> {
    let results = registry.submit_batch(submissions)?;
    let mut rows = Vec::new();
    for (submission, result) in submissions.iter().zip(results) {
        let receipt = match result {
            Ok(receipt) => receipt,
            Err(rejection) => bail!(
                "{} ({}): {rejection}",
                submission.id,
                submission.command.kind()
            ),
        };
        let Command::Transfer {
            from, to, class, ..
        } = &submission.command
        else {
            continue;
        };
        for effect in receipt.effects {
            if let Effect::CrossRegionalTransfer {
                from_area,
                to_area,
                credited,
                retired,
                ratio,
                approval,
                ..
            } = effect
            {
                rows.push(CrossRow {
                    from: from.clone(),
                    to: to.clone(),
                    class: class.clone(),
                    from_area,
                    to_area,
                    credited,
                    retired,
                    ratio,
                    approval,
                });
            }
        }
    }
    Ok(rows)
}

/// The cross-regional part: pilot enterprises, transfers, the call market, the net-flow ledger
/// and the areas' net inflows.
fn print_regional(state: &RegistryState, transfers: &[CrossRow]) -> Result<()> {
    if state.config().geography.is_none() {
        bail!("the yrd market has no geography");
    }
    let area_name = |code: &str| area_label(state, code);
    println!(
        "\nCross-regional pollutant rights 2021: pilot enterprises (illustrative; allocations in kg):"
    );
    let mut t = table(&["installation", "area", "sector", "COD 2021", "VOCS 2021"]);
    for p in &PILOT_ENTERPRISES {
        t.add_row(vec![
            format!("{} {}", p.id, p.name),
            area_name(p.area),
            p.sector.to_string(),
            thousands(p.cod_kg),
            thousands(p.vocs_kg),
        ]);
    }
    println!("{t}");

    println!(
        "\nCross-regional transfers (kg; bilateral deliveries, paid outside the registry - no cash moves):"
    );
    let installation = |a: &AccountId| a.as_str().trim_start_matches("OHA-").to_string();
    let mut t = table(&[
        "pollutant",
        "from",
        "to",
        "delivered",
        "credited",
        "retired",
        "ratio",
        "approved by",
    ]);
    for r in transfers {
        t.add_row(vec![
            r.class.to_string(),
            format!("{} ({})", installation(&r.from), r.from_area),
            format!("{} ({})", installation(&r.to), r.to_area),
            thousands(r.credited + r.retired),
            thousands(r.credited),
            thousands(r.retired),
            r.ratio.clone().unwrap_or_else(|| "1:1".into()),
            r.approval.as_ref().map_or_else(
                || "not needed".into(),
                |a| {
                    state.regional().approval(a).map_or(a.to_string(), |a| {
                        let by: Vec<&str> = a.approved_by.iter().map(|j| j.as_str()).collect();
                        by.join(" + ")
                    })
                },
            ),
        ]);
    }
    println!("{t}");
    let mut pollutants: BTreeMap<&str, (u64, u64, u64, BTreeSet<&str>)> = BTreeMap::new();
    for r in transfers {
        let e = pollutants.entry(r.class.unit_type.as_str()).or_default();
        e.0 += r.credited;
        e.1 += r.retired;
        if r.approval.is_some() {
            e.2 += r.credited + r.retired;
        }
        e.3.insert(r.from.as_str());
        e.3.insert(r.to.as_str());
    }
    for (p, (credited, retired, approved, firms)) in pollutants.iter().rev() {
        let approvals = if *approved > 0 {
            format!(
                "; {} kg crossed airsheds with both administrators' approval",
                thousands(*approved)
            )
        } else {
            String::new()
        };
        println!(
            "{p}: {} kg delivered among {} enterprises: {} kg credited, {} kg retired by the trading ratio{approvals}",
            thousands(credited + retired),
            firms.len(),
            thousands(*credited),
            thousands(*retired),
        );
    }
    println!(
        "(VOCS: the July 2024 pilot's 13,257 kg among 8 firms, replayed with 2021 rights; COD: Jiaxing's 3:2 between areas)"
    );

    print_call_market_tables(state, &OrderRef::new(CALL_MARKET)?)?;
    print_net_flow_tables(state);
    Ok(())
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
