//! `yrd-ets spatial ...`: the receptor-constrained call market ("smart market") on a case file -
//! `clear` prints the clearing, `hotspots` what one-for-one trading would do to the receptors.
//! Quantities and prices are shown in the case's units (tonnes, CNY per tonne).

use crate::output::table;
use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yrd_spatial::case::Case;
use yrd_spatial::hotspots::{self, HotspotReport, Trade};
use yrd_spatial::{Clearing, Problem, Side, SolverChoice};

/// The spatial-market subcommands.
#[derive(Subcommand)]
pub enum SpatialCommand {
    /// Clears a smart-market case file (JSON, the shared format) and prints each bid's fill, the
    /// receptor and locational prices, the total surplus and the operator's revenue.
    Clear {
        /// The case file.
        case: PathBuf,
        /// Print one JSON object (the keys of the case's `expected` block, the rest under
        /// `details`) instead of tables.
        #[arg(long)]
        json: bool,
        /// LP solver.
        #[arg(long, value_enum, default_value_t = Solver::Default)]
        solver: Solver,
    },
    /// Compares one-for-one trading with the smart market: per receptor, the headroom, the load
    /// change of the trades and of the smart-market clearing, and the trades that on their own
    /// push a receptor over its headroom (hot spots).
    Hotspots {
        /// The case file.
        case: PathBuf,
        /// Trades to check, CSV `seller_location,buyer_location,quantity` (quantity in the
        /// case's unit); without it, the uniform one-for-one pool on the case's bids.
        #[arg(long)]
        trades: Option<PathBuf>,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
        /// LP solver of the smart-market clearing.
        #[arg(long, value_enum, default_value_t = Solver::Default)]
        solver: Solver,
    },
}

/// `--solver`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Solver {
    /// microlp, pure Rust, always built in.
    Default,
    /// HiGHS (a build with `--features highs`).
    Highs,
}

impl Solver {
    fn choice(self) -> Result<SolverChoice> {
        match self {
            Solver::Default => Ok(SolverChoice::Default),
            #[cfg(feature = "highs")]
            Solver::Highs => Ok(SolverChoice::Highs),
            #[cfg(not(feature = "highs"))]
            Solver::Highs => {
                bail!("this yrd-ets was built without HiGHS; rebuild it with `--features highs`")
            }
        }
    }
}

/// Runs a spatial subcommand.
pub fn run(command: SpatialCommand) -> Result<ExitCode> {
    match command {
        SpatialCommand::Clear { case, json, solver } => clear(&case, json, solver),
        SpatialCommand::Hotspots {
            case,
            trades,
            json,
            solver,
        } => hotspots(&case, trades.as_deref(), json, solver),
    }
}

/// Reads and converts a case; every error names the file.
fn load(path: &Path) -> Result<(Case, Problem)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let case = Case::from_json_str(&text, &path.display().to_string())?;
    let problem = case.to_problem()?;
    Ok((case, problem))
}

fn clear(path: &Path, json: bool, solver: Solver) -> Result<ExitCode> {
    let solver = solver.choice()?;
    let (case, problem) = load(path)?;
    let clearing = yrd_spatial::clear(&problem, solver)
        .with_context(|| format!("{}: clearing", path.display()))?;
    if json {
        println!("{}", serde_json::to_string(&case.output(&clearing))?);
    } else {
        print_clearing(&case, &problem, &clearing);
    }
    Ok(ExitCode::SUCCESS)
}

/// A float for a table: at most four decimals, no trailing zeros, no `-0`.
fn number(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Minor units as `-1234.56`.
fn money(minor: i128) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn print_clearing(case: &Case, problem: &Problem, clearing: &Clearing) {
    let unit = case.trading_unit;
    // Minor units per lot -> CNY per case unit.
    let per_unit = |minor_per_lot: f64| minor_per_lot / 100.0 / unit;

    let mut bids = table(&[
        "bid",
        "location",
        "side",
        "quantity",
        "price",
        "fill",
        "settles at",
    ]);
    for (k, bid) in case.bids.iter().enumerate() {
        let i = bid.location;
        bids.add_row(vec![
            bid.id.clone(),
            case.locations[i].clone(),
            side(bid.side).to_string(),
            number(bid.quantity),
            number(bid.price),
            number(clearing.fills[k] as f64 * unit),
            number(per_unit(clearing.settlement_prices[i] as f64)),
        ]);
    }
    println!("fills (case units; prices CNY per unit):\n{bids}");

    let mut receptors = table(&["receptor", "headroom", "load change", "price", "binding"]);
    for (r, spec) in problem.receptors.iter().enumerate() {
        receptors.add_row(vec![
            spec.id.clone(),
            number(spec.headroom),
            number(clearing.receptor_load[r]),
            number(clearing.receptor_prices[r] / 100.0),
            if clearing.receptor_binding[r] {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ]);
    }
    println!("receptors (price CNY per receptor unit):\n{receptors}");

    let mut locations = table(&[
        "location",
        "net change",
        "locational price",
        "settlement price",
    ]);
    for (i, code) in case.locations.iter().enumerate() {
        locations.add_row(vec![
            code.clone(),
            number(clearing.net_change[i] as f64 * unit),
            number(per_unit(clearing.locational_prices[i])),
            number(per_unit(clearing.settlement_prices[i] as f64)),
        ]);
    }
    println!("locations (CNY per unit):\n{locations}");

    let mut summary = table(&["result", "value"]);
    summary.add_row(vec![
        "total surplus (CNY)".to_string(),
        money(clearing.total_surplus),
    ]);
    summary.add_row(vec![
        "operator revenue (CNY)".to_string(),
        money(clearing.operator_revenue),
    ]);
    if let Some(lambda) = clearing.cap_price {
        summary.add_row(vec![
            "tonnage cap price (CNY per weighted unit)".to_string(),
            number(per_unit(lambda)),
        ]);
    }
    summary.add_row(vec![
        "violation price (CNY per receptor unit)".to_string(),
        number(clearing.violation_price / 100.0),
    ]);
    println!("{summary}");
}

/// Reads `seller_location,buyer_location,quantity` (quantity in case units) as trades in lots.
fn read_trades(path: &Path, case: &Case) -> Result<Vec<Trade>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let header = reader
        .headers()
        .with_context(|| format!("{}: line 1", path.display()))?;
    if header.iter().collect::<Vec<_>>() != ["seller_location", "buyer_location", "quantity"] {
        bail!(
            "{}: line 1: the header must be seller_location,buyer_location,quantity",
            path.display()
        );
    }
    let mut trades = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let context = format!("{}: line {line}", path.display());
        let record = record.with_context(|| context.clone())?;
        let where_ = format!("trades line {line}");
        let seller = case.location_index(&record[0], &where_)?;
        let buyer = case.location_index(&record[1], &where_)?;
        let quantity: f64 = record[2]
            .parse()
            .with_context(|| format!("{context}: quantity {:?} is not a number", &record[2]))?;
        trades.push(Trade {
            seller_location: seller,
            buyer_location: buyer,
            quantity: case.lots(quantity, &where_)?,
            seller_step: None,
            buyer_step: None,
        });
    }
    Ok(trades)
}

fn hotspots(
    path: &Path,
    trades_file: Option<&Path>,
    json: bool,
    solver: Solver,
) -> Result<ExitCode> {
    let solver = solver.choice()?;
    let (case, problem) = load(path)?;
    let (pool_price, trades) = match trades_file {
        Some(file) => (None, read_trades(file, &case)?),
        None => {
            let pool = hotspots::uniform_pool(&problem);
            (pool.price, pool.trades)
        }
    };
    let smart = yrd_spatial::clear(&problem, solver)
        .with_context(|| format!("{}: clearing", path.display()))?;
    let report = hotspots::analyse(&problem, &trades, &smart)
        .with_context(|| format!("{}: hot spots", path.display()))?;
    if json {
        let out = hotspots_json(&case, &problem, &trades, trades_file, pool_price, &report);
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_hotspots(&case, &problem, &trades, trades_file, pool_price, &report);
    }
    Ok(ExitCode::SUCCESS)
}

/// `R1 (+4 > 0)` for every receptor a trade takes over its headroom.
fn over_text(problem: &Problem, load: &[f64], over: &[usize]) -> String {
    over.iter()
        .map(|&r| {
            format!(
                "{} (+{} > {})",
                problem.receptors[r].id,
                number(load[r]),
                number(problem.receptors[r].headroom)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_hotspots(
    case: &Case,
    problem: &Problem,
    trades: &[Trade],
    trades_file: Option<&Path>,
    pool_price: Option<i64>,
    report: &HotspotReport,
) {
    let unit = case.trading_unit;
    match trades_file {
        Some(file) => println!("{} trades from {}", trades.len(), file.display()),
        None => println!(
            "uniform one-for-one pool on the bids (receptors ignored): price {}, {} trades, {} \
             units",
            pool_price.map_or("none (nothing trades)".to_string(), |p| {
                format!("{} CNY per unit", number(p as f64 / 100.0 / unit))
            }),
            trades.len(),
            number(trades.iter().map(|t| t.quantity as f64).sum::<f64>() * unit)
        ),
    }
    let mut receptors = table(&[
        "receptor",
        "headroom",
        "1:1 load change",
        "smart market load change",
        "1:1 status",
    ]);
    for check in &report.receptors {
        receptors.add_row(vec![
            problem.receptors[check.receptor].id.clone(),
            number(check.headroom),
            number(check.trades_load),
            number(check.smart_load),
            if check.hot_spot { "HOT SPOT" } else { "ok" }.to_string(),
        ]);
    }
    println!("{receptors}");
    let mut t = table(&["seller", "buyer", "quantity", "over headroom on its own"]);
    for check in &report.trades {
        let trade = &trades[check.trade];
        let name = |location: usize, step: Option<usize>| match step {
            Some(k) => format!("{} ({})", case.locations[location], problem.steps[k].id),
            None => case.locations[location].clone(),
        };
        t.add_row(vec![
            name(trade.seller_location, trade.seller_step),
            name(trade.buyer_location, trade.buyer_step),
            number(trade.quantity as f64 * unit),
            over_text(problem, &check.load, &check.over),
        ]);
    }
    println!("trades:\n{t}");
    let hot = report.hot_trades().count();
    if hot == 0 {
        println!("no single trade takes a receptor over its headroom");
    } else {
        println!("{hot} trade(s) take a receptor over its headroom on their own (hot spots)");
    }
}

fn hotspots_json(
    case: &Case,
    problem: &Problem,
    trades: &[Trade],
    trades_file: Option<&Path>,
    pool_price: Option<i64>,
    report: &HotspotReport,
) -> Value {
    let unit = case.trading_unit;
    let receptors: Map<String, Value> = report
        .receptors
        .iter()
        .map(|c| {
            (
                problem.receptors[c.receptor].id.clone(),
                json!({
                    "headroom": c.headroom,
                    "trades_load_change": c.trades_load,
                    "smart_market_load_change": c.smart_load,
                    "hot_spot": c.hot_spot,
                }),
            )
        })
        .collect();
    let trade_rows: Vec<Value> = report
        .trades
        .iter()
        .map(|c| {
            let t = &trades[c.trade];
            let load: Map<String, Value> = problem
                .receptors
                .iter()
                .zip(&c.load)
                .map(|(r, &l)| (r.id.clone(), json!(l)))
                .collect();
            json!({
                "seller_location": case.locations[t.seller_location],
                "buyer_location": case.locations[t.buyer_location],
                "quantity": t.quantity as f64 * unit,
                "seller_bid": t.seller_step.map(|k| problem.steps[k].id.clone()),
                "buyer_bid": t.buyer_step.map(|k| problem.steps[k].id.clone()),
                "load_change": load,
                "hot_spot_at": c.over.iter().map(|&r| problem.receptors[r].id.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "trades_from": trades_file.map_or("uniform_pool".to_string(), |p| p.display().to_string()),
        "pool_price": pool_price.map(|p| p as f64 / 100.0 / unit),
        "receptors": receptors,
        "trades": trade_rows,
        "hot_spot_trades": report.hot_trades().count(),
    })
}
