//! `yrd-ets demo`: the main job. Builds the YRD carbon market from the real CEADs 2019
//! inventories, runs a compliance cycle through the SQLite registry, then the cross-regional
//! market for pollutant discharge rights in 2021 (pilot enterprises, transfers under the
//! geography's rules and trading ratios, a receptor-constrained call market), reports per
//! jurisdiction and per area, and audits the result.

use crate::output::{signed, submit_all, table, thousands};
use crate::report::{print_summary, print_supply};
use crate::store::open_or_create;
use anyhow::{Result, bail};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use yrd_config::MarketConfig;
use yrd_data::ceads::{COVERED_SECTORS_2019, parse_covered_sectors};
use yrd_data::demo::{
    CALL_MARKET, CALL_MARKET_OPERATOR, PILOT_ENTERPRISES, STEP_TRANSFERS, scenario,
};
use yrd_registry::audit::audit;
use yrd_registry::reports::{compliance_table, supply};
use yrd_registry::{Command, Effect, JournalStore, OrderSide, Registry, RegistryState, Submission};
use yrd_types::{AccountId, OrderRef, UnitClass};

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
    let Some(geo) = state.config().geography.as_ref() else {
        bail!("the yrd market has no geography");
    };
    let area_name = |code: &str| {
        geo.area(code)
            .map_or(code.to_string(), |a| format!("{code} {}", a.name))
    };
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

    print_call_market(state, &area_name)?;
    crate::report::print_net_flow_tables(state);
    Ok(())
}

/// The call market's record after clearing: steps and fills, prices by area and receptor,
/// operator revenue.
fn print_call_market(state: &RegistryState, area_name: &dyn Fn(&str) -> String) -> Result<()> {
    let reference = OrderRef::new(CALL_MARKET)?;
    let Some(m) = state.regional().call_market(&reference) else {
        bail!("call market {CALL_MARKET} missing");
    };
    let Some(result) = &m.result else {
        bail!("call market {CALL_MARKET} did not clear");
    };
    let geo = state.config().geography.as_ref().expect("checked above");
    let cfg = &state.config().market;
    let lot_t = m.lot as f64 / 1000.0;
    println!(
        "\nCall market {CALL_MARKET} (operator {CALL_MARKET_OPERATOR}): {} {}, lot {} kg, prices in {} per lot of {} t; \
         sealed steps, window closed {}:",
        m.pollutant,
        m.vintage,
        thousands(m.lot),
        cfg.currency,
        lot_t,
        m.closes
    );
    let mut t = table(&[
        "step",
        "installation",
        "area",
        "side",
        "lots",
        "limit",
        "filled",
        "settlement price",
        "paid (-) / received (+)",
    ]);
    let (mut paid, mut received) = (0i128, 0i128);
    for (step, s) in &m.steps {
        let fill = result.fills.get(step).copied().unwrap_or(0);
        let price = result.settlement_prices.get(&s.area).copied().unwrap_or(0);
        let amount = i128::from(price) * i128::from(fill);
        let (side, amount_signed) = match s.side {
            OrderSide::Buy => {
                paid += amount;
                ("buy", -amount)
            }
            OrderSide::Sell => {
                received += amount;
                ("sell", amount)
            }
        };
        let account = &state.ledger().account(s.account).spec.id;
        t.add_row(vec![
            step.to_string(),
            account.as_str().trim_start_matches("OHA-").to_string(),
            s.area.clone(),
            side.to_string(),
            thousands(s.lots),
            money(state, i128::from(s.price_minor)),
            thousands(fill),
            money(state, i128::from(price)),
            money(state, amount_signed),
        ]);
    }
    println!("{t}");
    let mut t = table(&["area", "settlement price", "net change (lots)"]);
    for area in &m.areas {
        let price = result.settlement_prices.get(area).copied().unwrap_or(0);
        let change = result.net_change.get(area).copied().unwrap_or(0);
        t.add_row(vec![
            area_name(area),
            money(state, i128::from(price)),
            signed(i128::from(change)),
        ]);
    }
    println!("{t}");
    let mut t = table(&[
        "receptor",
        "unit",
        "headroom",
        "load change",
        "binds",
        "shadow price (per receptor unit)",
    ]);
    for code in &m.receptors {
        let Some(r) = geo.receptor(code) else {
            continue;
        };
        // The market's own figures: headroom left when it cleared, load of the settled fills.
        let headroom = result.headroom.get(code).copied().unwrap_or(0.0);
        let load = result
            .receptor_load_change
            .get(code)
            .copied()
            .unwrap_or(0.0);
        let binds = result.receptor_prices.get(code).copied().unwrap_or(0.0) > 0.0;
        let mu = result.receptor_prices.get(code).copied().unwrap_or(0.0);
        t.add_row(vec![
            format!("{code} {}", r.name),
            r.unit.clone(),
            format!("{headroom:.3}"),
            format!("{load:.3}"),
            if binds { "yes" } else { "no" }.to_string(),
            money(state, mu.round() as i128),
        ]);
    }
    println!("{t}");
    let unpriced: Vec<&str> = m
        .areas
        .iter()
        .filter(|a| result.settlement_prices.get(*a).copied().unwrap_or(0) == 0)
        .map(String::as_str)
        .collect();
    if !unpriced.is_empty() {
        println!(
            "an area's price is the sum of receptor shadow prices x its coefficients; reaching no binding receptor, {} clears at zero",
            unpriced.join(", ")
        );
    }
    println!(
        "buyers paid {}, sellers received {}: operator revenue {} to {CALL_MARKET_OPERATOR}-GOV; total surplus {}",
        money(state, paid),
        money(state, received),
        money(state, result.operator_revenue_minor),
        money(state, result.total_surplus_minor),
    );
    Ok(())
}

/// Minor units as `CNY 24,000.00`.
fn money(state: &RegistryState, minor: i128) -> String {
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
