//! `yrd-ets`: the command line of the Yangtze River Delta emissions trading system.
//!
//! Every command works on a data directory holding the registry's SQLite journal. Commands that
//! read open the registry (replaying and checking the journal); commands that write submit
//! transactions through the registry, which journals them durably before they count.

mod auction;
mod audit;
mod demo;
mod exchange;
mod import;
mod output;
mod report;
mod service_demo;
mod spatial;
mod store;
mod stress;
mod submit;
mod trading_day;
mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// The registry allocates many short-lived strings per transaction (canonical JSON, effects);
// mimalloc handles that churn markedly better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "yrd-ets",
    version,
    about = "Registry and compliance service of a cross-regional emissions trading system"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: build the YRD carbon market from the CEADs 2019 inventories, run a compliance
    /// cycle, print the per-jurisdiction report and audit the registry.
    Demo {
        /// Data directory for the demo registry (recreated on every run).
        #[arg(long, default_value = "yrd-demo")]
        data_dir: PathBuf,
        /// Seed of the facility generator and the market.
        #[arg(long, default_value_t = yrd_data::demo::DEFAULT_SEED)]
        seed: u64,
        /// Also seed a fortnight of exchange trading, an auction and demo users, for trying
        /// `yrd-ets serve` and the web interface on the result (see README).
        #[arg(long)]
        service: bool,
    },
    /// Creates an empty registry for a market configuration.
    Init {
        /// Data directory to create.
        #[arg(long)]
        data_dir: PathBuf,
        /// Built-in market configuration: `yrd` or `eu-ets`.
        #[arg(long, conflicts_with = "market_file")]
        market: Option<String>,
        /// A market configuration file (TOML).
        #[arg(long)]
        market_file: Option<PathBuf>,
        /// Business date of the registry's opening (YYYY-MM-DD, default today). Transactions are
        /// recorded in date order, so history to be entered later must not predate it.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// Validates a market configuration file and prints its summary.
    CheckConfig {
        /// TOML file.
        file: PathBuf,
    },
    /// Imports real data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Submits transactions from a JSON Lines file (one submission per line).
    Submit {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// File of submissions: `{"id": .., "date": "YYYY-MM-DD", "command": {"type": .., ..}}`.
        file: PathBuf,
        /// Apply the lines that pass and report the others, instead of stopping at the first refusal.
        #[arg(long)]
        keep_going: bool,
    },
    /// Audits a registry: hash chain, replay, conservation, serial blocks. Exits non-zero on any
    /// discrepancy.
    Audit {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Reports.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Cash of exchange participants: deposit, withdraw, balance. Amounts in major units (`1234.56`).
    #[command(subcommand)]
    Cash(exchange::CashCommand),
    /// Orders on the exchange: place, cancel, reduce, amend, list. Each prints its trades and the
    /// order's status; a refusal prints the rule and exits 1.
    #[command(subcommand)]
    Order(exchange::OrderCommand),
    /// Market data: summary, order book, recent trades.
    #[command(subcommand)]
    Market(exchange::MarketCommand),
    /// Runs a scripted trading day from a CSV file
    /// (`date,time,action,order,account,class,side,price,quantity,tif`) as one durable batch.
    /// Refused orders are reported and the day goes on: exit 0 when every line parsed.
    TradingDay {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The day's CSV file; its transactions get the ids `day/{file stem}/{line}`.
        file: PathBuf,
    },
    /// Primary market: offline clearing of sealed-bid uniform-price allowance auctions.
    #[command(subcommand)]
    Auction(auction::AuctionCommand),
    /// Receptor-constrained call market ("smart market") on a case file: clearing and hot spots.
    #[command(subcommand)]
    Spatial(spatial::SpatialCommand),
    /// Serves the HTTP JSON API (`/v1/...`, OpenAPI document at `/v1/openapi.json`, metrics at
    /// `/metrics`) on a registry until SIGTERM or ctrl-c. Flags override environment variables
    /// (YRD_DATA_DIR, YRD_BIND, YRD_LOG_FORMAT, YRD_CONFIG), which override the `--config` file.
    Serve(yrd_server::ServeArgs),
    /// Users of the API, in `<data_dir>/users.db`: bootstrap the first administrator, add users
    /// with roles, set a second factor, list, suspend, reinstate. Passwords only from
    /// `--password-env VAR` or `--password-stdin`. Example:
    /// `ADMIN_PW=... yrd-ets user bootstrap --data-dir reg --username admin --jurisdiction CN-SH
    /// --password-env ADMIN_PW && yrd-ets user enrol-totp --data-dir reg --username admin`.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Test tool: submits transfers forever in durable batches, printing `acked <seq>` after each
    /// batch is journaled. The crash test kills it at random points.
    #[command(hide = true)]
    StressWriter {
        /// Data directory (created with the yrd configuration if empty).
        #[arg(long)]
        data_dir: PathBuf,
        /// Transfers per durable batch.
        #[arg(long, default_value_t = 50)]
        batch: usize,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Replays the EU Transaction Log installation records as registry transactions and compares
    /// the computed compliance status with the official one.
    Eutl {
        /// The EUTL CSV (gzip or plain).
        file: PathBuf,
        /// Data directory (created with the eu-ets configuration if empty).
        #[arg(long)]
        data_dir: PathBuf,
        /// Where to write `id,year,official,computed`.
        #[arg(long)]
        report: PathBuf,
        /// Submissions per durable batch.
        #[arg(long, default_value_t = 20_000)]
        batch: usize,
    },
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo {
            data_dir,
            seed,
            service,
        } => demo::run(&data_dir, seed, service),
        Command::Init {
            data_dir,
            market,
            market_file,
            date,
        } => store::init(&data_dir, market.as_deref(), market_file.as_deref(), date),
        Command::CheckConfig { file } => store::check_config(&file),
        Command::Import(ImportCommand::Eutl {
            file,
            data_dir,
            report,
            batch,
        }) => import::eutl(&file, &data_dir, &report, batch),
        Command::Submit {
            data_dir,
            file,
            keep_going,
        } => submit::run(&data_dir, &file, keep_going),
        Command::Audit { data_dir } => audit::run(&data_dir),
        Command::Report(command) => report::run(command),
        Command::Cash(command) => exchange::run_cash(command),
        Command::Order(command) => exchange::run_order(command),
        Command::Market(command) => exchange::run_market(command),
        Command::TradingDay { data_dir, file } => trading_day::run(&data_dir, &file),
        Command::Auction(command) => auction::run(command),
        Command::Spatial(command) => spatial::run(command),
        Command::Serve(args) => yrd_server::run(&args).map(|()| ExitCode::SUCCESS),
        Command::User(command) => user::run(command),
        Command::StressWriter { data_dir, batch } => stress::run(&data_dir, batch),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so `yrd-ets report ... | head` would panic on the closed pipe. Restore
/// the default action: the process ends quietly when its reader goes away, like other Unix tools.
fn restore_default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
