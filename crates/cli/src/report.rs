//! `yrd-ets report ...`.

use crate::output::{area_label, money, signed, table, thousands};
use crate::store::open_read_only as open;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yrd_registry::reports::{
    ComplianceRow, compliance_table, holdings, jurisdiction_summaries, net_flows, pair_balances,
    supply,
};
use yrd_registry::{OrderSide, RegistryState};
use yrd_types::{AccountId, JurisdictionCode, OrderRef};

/// The report subcommands.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// Public compliance table: installation, year, allocation, verified, surrendered, status.
    Compliance {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this year.
        #[arg(long)]
        year: Option<u16>,
        /// Only this jurisdiction.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Write CSV here instead of printing a table.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Print the per-jurisdiction summary instead of one row per installation.
        #[arg(long)]
        summary: bool,
    },
    /// Holdings of one account, with serial blocks.
    Holdings {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Account id.
        #[arg(long)]
        account: String,
    },
    /// Supply by jurisdiction, unit type and vintage.
    Supply {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Write CSV here instead of printing a table.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Net-flow ledger between jurisdictions (units issued by one, held, surrendered or cancelled
    /// in another; pairwise balances) and the cumulative net inflow of each area.
    NetFlow {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// The public result of a cleared call market: fills by step, prices by area and receptor.
    CallMarket {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Call market reference.
        #[arg(long)]
        market: String,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a report subcommand.
pub fn run(command: ReportCommand) -> Result<ExitCode> {
    match command {
        ReportCommand::Compliance {
            data_dir,
            year,
            jurisdiction,
            csv,
            summary,
        } => {
            let registry = open(&data_dir)?;
            let j = jurisdiction.map(JurisdictionCode::new).transpose()?;
            if let Some(code) = &j
                && registry.state().config().jurisdiction(code).is_none()
            {
                bail!("jurisdiction {code} is not configured in this market");
            }
            let rows = compliance_table(registry.state(), year, j.as_ref());
            match (csv, summary) {
                (Some(path), true) => {
                    let summaries = jurisdiction_summaries(&rows);
                    let mut w = csv::Writer::from_path(&path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    for s in &summaries {
                        w.serialize(SummaryCsv::from(s))?;
                    }
                    w.flush()?;
                    println!(
                        "wrote {} summary rows to {}",
                        summaries.len(),
                        path.display()
                    );
                }
                (Some(path), false) => {
                    write_csv(&path, &rows)?;
                    println!("wrote {} rows to {}", rows.len(), path.display());
                }
                (None, true) => print_summary(registry.state(), &rows),
                (None, false) => print_compliance(registry.state(), &rows),
            }
        }
        ReportCommand::Holdings { data_dir, account } => {
            let registry = open(&data_dir)?;
            let id = AccountId::new(account)?;
            let Some(rows) = holdings(registry.state(), &id) else {
                bail!("no account {id}")
            };
            let mut t = table(&[
                "jurisdiction",
                "unit type",
                "vintage",
                "quantity",
                "serial blocks",
            ]);
            for r in rows {
                let blocks = r
                    .blocks
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                t.add_row(vec![
                    r.class.jurisdiction.to_string(),
                    r.class.unit_type.to_string(),
                    r.class.vintage.to_string(),
                    thousands(r.quantity),
                    blocks,
                ]);
            }
            println!("holdings of {id}:\n{t}");
        }
        ReportCommand::Supply { data_dir, csv } => {
            let registry = open(&data_dir)?;
            let rows = supply(registry.state());
            if let Some(path) = csv {
                let mut w = csv::Writer::from_path(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                for r in &rows {
                    w.serialize(r)?;
                }
                w.flush()?;
            } else {
                print_supply(&rows, false);
            }
        }
        ReportCommand::NetFlow { data_dir, json } => {
            let registry = open(&data_dir)?;
            print_net_flows(registry.state(), json)?;
        }
        ReportCommand::CallMarket {
            data_dir,
            market,
            json,
        } => {
            let registry = open(&data_dir)?;
            return print_call_market(registry.state(), &market, json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_net_flows(state: &RegistryState, json: bool) -> Result<()> {
    let rows = net_flows(state);
    let pairs = pair_balances(&rows);
    let areas: Vec<(String, String, i128)> = state
        .regional()
        .inflows()
        .map(|(a, p, v)| (a.to_string(), p.to_string(), v))
        .collect();
    if json {
        let areas_json: Vec<_> = areas
            .iter()
            .map(|(a, p, v)| serde_json::json!({"area": a, "pollutant": p, "net_inflow": i64::try_from(*v).unwrap_or(if *v < 0 { i64::MIN } else { i64::MAX })}))
            .collect();
        let out = serde_json::json!({"flows": rows, "pairs": pairs, "areas": areas_json});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print_net_flow_tables(state);
    Ok(())
}

/// The net-flow ledger between jurisdictions, pairwise balances and the areas' net inflows.
pub fn print_net_flow_tables(state: &RegistryState) {
    let area_name = |code: &str| area_label(state, code);
    let unit = |unit_type: &str| {
        state
            .config()
            .unit_types
            .iter()
            .find(|u| u.code.as_str() == unit_type)
            .map_or("", |u| u.base_unit.symbol())
    };
    let rows = net_flows(state);
    println!(
        "\nNet-flow ledger: units issued by one jurisdiction, held, surrendered or cancelled in another:"
    );
    let mut t = table(&[
        "issuer",
        "used in",
        "unit type",
        "held",
        "surrendered",
        "cancelled",
        "unit",
    ]);
    for r in &rows {
        t.add_row(vec![
            r.issuer.clone(),
            r.user.clone(),
            r.unit_type.clone(),
            thousands(r.held),
            thousands(r.surrendered),
            thousands(r.cancelled),
            unit(&r.unit_type).to_string(),
        ]);
    }
    println!("{t}");
    println!(
        "Pairwise balances (net > 0: the first jurisdiction is a net exporter to the second):"
    );
    let mut t = table(&[
        "pair",
        "unit type",
        "first -> second",
        "second -> first",
        "net",
        "unit",
    ]);
    for p in pair_balances(&rows) {
        t.add_row(vec![
            format!("{} / {}", p.first, p.second),
            p.unit_type.clone(),
            thousands(p.first_to_second),
            thousands(p.second_to_first),
            signed(p.net),
            unit(&p.unit_type).to_string(),
        ]);
    }
    println!("{t}");
    println!(
        "Area net inflows (kg; transfers after trading ratios and call-market fills, cumulative):"
    );
    let mut t = table(&["area", "pollutant", "net inflow"]);
    for (area, pollutant, v) in state.regional().inflows() {
        t.add_row(vec![area_name(area), pollutant.to_string(), signed(v)]);
    }
    println!("{t}");
}

fn print_call_market(state: &RegistryState, market: &str, json: bool) -> Result<ExitCode> {
    let reference = yrd_types::OrderRef::new(market)
        .map_err(|e| anyhow::anyhow!("--market {market:?}: {e}"))?;
    let Some(m) = state.regional().call_market(&reference) else {
        bail!("no call market {market}");
    };
    let Some(result) = &m.result else {
        println!(
            "call market {market}: {} steps sealed, window closes {}; not cleared yet",
            m.steps.len(),
            m.closes
        );
        return Ok(ExitCode::SUCCESS);
    };
    if json {
        println!("{}", serde_json::to_string_pretty(result)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_call_market_tables(state, &reference)?;
    Ok(ExitCode::SUCCESS)
}

/// A cleared call market's fills by step, prices by area and receptor, and money, as tables.
pub fn print_call_market_tables(state: &RegistryState, reference: &OrderRef) -> Result<()> {
    let Some(m) = state.regional().call_market(reference) else {
        bail!("no call market {reference}");
    };
    let Some(result) = &m.result else {
        bail!("call market {reference} did not clear");
    };
    let area_name = |code: &str| area_label(state, code);
    let operator = &m.operator;
    let Some(geo) = state.config().geography.as_ref() else {
        bail!("the market has no geography");
    };
    let cfg = &state.config().market;
    let lot_t = m.lot as f64 / 1000.0;
    println!(
        "\nCall market {reference} (operator {operator}): {} {}, lot {} kg, prices in {} per lot of {} t; \
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
        "buyers paid {}, sellers received {}: operator revenue {} to {operator}-GOV; total surplus {}",
        money(state, paid),
        money(state, received),
        money(state, result.operator_revenue_minor),
        money(state, result.total_surplus_minor),
    );
    Ok(())
}

/// Prints supply by jurisdiction, unit type and vintage; with `conserved`, a column saying whether
/// issued = held + surrendered + cancelled + deleted.
pub fn print_supply(rows: &[yrd_registry::reports::SupplyRow], conserved: bool) {
    let mut header = vec![
        "jurisdiction",
        "unit type",
        "vintage",
        "issued",
        "held",
        "surrendered",
        "cancelled",
        "deleted",
    ];
    if conserved {
        header.push("conserved");
    }
    let mut t = table(&header);
    for r in rows {
        let mut row = vec![
            r.jurisdiction.clone(),
            r.unit_type.clone(),
            r.vintage.to_string(),
            thousands(r.issued),
            thousands(r.held),
            thousands(r.surrendered),
            thousands(r.cancelled),
            thousands(r.deleted),
        ];
        if conserved {
            row.push(if r.is_conserved() {
                "yes".into()
            } else {
                "NO".into()
            });
        }
        t.add_row(row);
    }
    println!("{t}");
}

fn status_text(r: &ComplianceRow) -> String {
    r.status.map_or(String::new(), |c| {
        format!("{c}{}", if r.changed_after_deadline { "*" } else { "" })
    })
}

fn print_compliance(state: &RegistryState, rows: &[ComplianceRow]) {
    let mut t = table(&[
        "installation",
        "jurisdiction",
        "obligation",
        "year",
        "allocated",
        "verified",
        "surrendered",
        "status",
        "shortfall",
        "penalty",
    ]);
    for r in rows {
        t.add_row(vec![
            r.installation.clone(),
            r.jurisdiction.clone(),
            r.obligation.clone(),
            r.year.to_string(),
            thousands(r.allocated),
            r.verified.map_or("not entered".into(), thousands),
            thousands(r.surrendered),
            status_text(r),
            thousands(r.shortfall),
            money(state, i128::from(r.penalty.0)),
        ]);
    }
    println!("{t}");
}

/// Prints the per jurisdiction x obligation x year summary.
pub fn print_summary(state: &RegistryState, rows: &[ComplianceRow]) {
    let mut t = table(&[
        "jurisdiction",
        "obligation",
        "year",
        "installations",
        "allocated",
        "verified",
        "surrendered",
        "A",
        "B",
        "C",
        "other",
        "shortfall",
        "penalties",
    ]);
    for s in jurisdiction_summaries(rows) {
        let n = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
        let other: u64 = s
            .by_status
            .iter()
            .filter(|(k, _)| !["A", "B", "C"].contains(&k.as_str()))
            .map(|(_, v)| v)
            .sum();
        let name = state
            .config()
            .jurisdiction(
                &JurisdictionCode::new(s.jurisdiction.clone()).expect("stored codes are valid"),
            )
            .map_or(s.jurisdiction.clone(), |j| format!("{} {}", j.code, j.name));
        t.add_row(vec![
            name,
            s.obligation.clone(),
            s.year.to_string(),
            thousands(s.installations),
            thousands(s.allocated),
            thousands(s.verified),
            thousands(s.surrendered),
            thousands(n("A")),
            thousands(n("B")),
            thousands(n("C")),
            thousands(other),
            thousands(s.shortfall),
            money(state, i128::from(s.penalties.0)),
        ]);
    }
    println!("{t}");
}

fn write_csv(path: &Path, rows: &[ComplianceRow]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "installation",
        "name",
        "jurisdiction",
        "sector",
        "obligation",
        "year",
        "allocated",
        "verified",
        "surrendered",
        "status",
        "shortfall",
        "penalty_minor",
    ])?;
    for r in rows {
        w.write_record([
            r.installation.clone(),
            r.name.clone(),
            r.jurisdiction.clone(),
            r.sector.clone(),
            r.obligation.clone(),
            r.year.to_string(),
            r.allocated.to_string(),
            r.deducted.to_string(),
            r.verified.map_or(String::new(), |v| v.to_string()),
            r.surrendered.to_string(),
            status_text(r),
            r.shortfall.to_string(),
            r.penalty.0.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A summary as one flat CSV row (status counts as columns).
#[derive(serde::Serialize)]
struct SummaryCsv {
    jurisdiction: String,
    obligation: String,
    year: u16,
    installations: u64,
    allocated: u64,
    deducted: u64,
    verified: u64,
    surrendered: u64,
    status_a: u64,
    status_b: u64,
    status_c: u64,
    status_d: u64,
    status_e: u64,
    status_x: u64,
    no_obligation: u64,
    no_status: u64,
    shortfall: u64,
    penalties_minor: i64,
}

impl From<&yrd_registry::reports::JurisdictionSummary> for SummaryCsv {
    fn from(s: &yrd_registry::reports::JurisdictionSummary) -> Self {
        let n = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
        SummaryCsv {
            jurisdiction: s.jurisdiction.clone(),
            obligation: s.obligation.clone(),
            year: s.year,
            installations: s.installations,
            allocated: s.allocated,
            deducted: s.deducted,
            verified: s.verified,
            surrendered: s.surrendered,
            status_a: n("A"),
            status_b: n("B"),
            status_c: n("C"),
            status_d: n("D"),
            status_e: n("E"),
            status_x: n("X"),
            no_obligation: n("-"),
            no_status: n("none"),
            shortfall: s.shortfall,
            penalties_minor: s.penalties.0,
        }
    }
}
