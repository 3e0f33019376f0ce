//! `yrd-ets cash ...`, `yrd-ets order ...` and `yrd-ets market ...`: the exchange from the
//! command line.
//!
//! Amounts and prices are typed in major currency units (`1234.56`, `81.00`) and converted exactly
//! to minor units (fen) as decimal strings: no floating point ever touches money. Each order or
//! cash command is one registry transaction with a deterministic id (`cli/order/{ACCOUNT}/{REF}/place`,
//! `cli/cash/{ACCOUNT}/{DATE}/deposit/{FEN}`, ...), so running the same command again is a no-op
//! that says so; `--id` chooses another id. A refusal prints the rule code and message, changes
//! nothing and exits 1.

use crate::output::{table, thousands};
use crate::store::{open, open_read_only};
use anyhow::{Context, Result, anyhow, bail};
use chrono::{NaiveDate, NaiveTime};
use clap::{Subcommand, ValueEnum};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yrd_registry::reports::{self, InstrumentSummary};
use yrd_registry::{
    Command, Effect, JournalStore, OrderSide, Receipt, Registry, RegistryState, Submission,
    TimeInForce,
};
use yrd_types::{AccountId, Money, OrderRef, TransactionId, UnitClass};

/// `yrd-ets cash ...`.
#[derive(Subcommand)]
pub enum CashCommand {
    /// Pays money into a participant's cash account.
    Deposit(CashArgs),
    /// Pays available money out of a participant's cash account (sale proceeds count from the
    /// next trading day).
    Withdraw(CashArgs),
    /// Shows a participant's cash: available, reserved for buy orders, proceeds pending by date.
    Balance {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Operator holding or trading account.
        #[arg(long)]
        account: String,
        /// Show what is available on this date (YYYY-MM-DD; default: the latest pending date,
        /// i.e. everything).
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

/// Arguments of a deposit or withdrawal.
#[derive(clap::Args)]
pub struct CashArgs {
    /// Data directory.
    #[arg(long)]
    data_dir: PathBuf,
    /// Operator holding or trading account.
    #[arg(long)]
    account: String,
    /// Amount in major units with at most as many decimals as the currency has (CNY: 2), e.g.
    /// `1234.56`.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// Business date (YYYY-MM-DD).
    #[arg(long)]
    date: NaiveDate,
    /// Transaction id (default `cli/cash/{ACCOUNT}/{DATE}/{deposit|withdraw}/{MINOR}`: the same
    /// amount twice on one day needs an explicit id).
    #[arg(long)]
    id: Option<String>,
}

/// Side of an order on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum SideArg {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// Time in force on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum TifArg {
    /// Good till cancelled.
    Gtc,
    /// Until the end of the trading day.
    Day,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Market order (no price): trades what it can within the band, cancels the rest.
    Market,
}

/// Where, when and which order: shared by every order command.
#[derive(clap::Args)]
pub struct OrderTarget {
    /// Data directory.
    #[arg(long)]
    data_dir: PathBuf,
    /// Trading account (operator holding or trading).
    #[arg(long)]
    account: String,
    /// The order's reference (unique per registry).
    #[arg(long)]
    order: String,
    /// Business date (YYYY-MM-DD).
    #[arg(long)]
    date: NaiveDate,
    /// Time of day, exchange local time (HH:MM or HH:MM:SS).
    #[arg(long, value_parser = parse_time)]
    time: NaiveTime,
    /// Transaction id (default `cli/order/{ACCOUNT}/{REF}/...`).
    #[arg(long)]
    id: Option<String>,
}

/// `yrd-ets order ...`.
#[derive(Subcommand)]
pub enum OrderCommand {
    /// Places an order; prints its trades and its status.
    Place {
        #[command(flatten)]
        target: OrderTarget,
        /// Instrument, e.g. `CN-SH/CEA/2024`.
        #[arg(long)]
        class: String,
        /// buy or sell.
        #[arg(long, value_enum)]
        side: SideArg,
        /// Units (t CO2e).
        #[arg(long)]
        quantity: u64,
        /// Limit price in major units per unit, e.g. `81.00` (none for a market order).
        #[arg(long, allow_hyphen_values = true)]
        price: Option<String>,
        /// Time in force.
        #[arg(long, value_enum, default_value = "gtc")]
        tif: TifArg,
    },
    /// Cancels an open order.
    Cancel {
        #[command(flatten)]
        target: OrderTarget,
    },
    /// Takes units off an open order (it keeps its time priority).
    Reduce {
        #[command(flatten)]
        target: OrderTarget,
        /// Units to take off.
        #[arg(long)]
        quantity: u64,
    },
    /// Changes an open order's price (it loses its time priority and may trade at once).
    Amend {
        #[command(flatten)]
        target: OrderTarget,
        /// New limit price in major units per unit.
        #[arg(long, allow_hyphen_values = true)]
        price: String,
    },
    /// Lists an account's open orders.
    List {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Account.
        #[arg(long)]
        account: String,
    },
}

/// `yrd-ets market ...`.
#[derive(Subcommand)]
pub enum MarketCommand {
    /// Every instrument: previous close, best bid and ask, today's open/high/low/last, volume,
    /// turnover, VWAP and number of trades.
    Summary {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this instrument.
        #[arg(long)]
        class: Option<String>,
    },
    /// The order book by price level (bids and asks side by side).
    Book {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this instrument (default: every instrument).
        #[arg(long)]
        class: Option<String>,
        /// Price levels per side.
        #[arg(long, default_value_t = 5)]
        depth: usize,
    },
    /// The most recent trades, newest first.
    Trades {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this instrument (default: every instrument).
        #[arg(long)]
        class: Option<String>,
        /// How many trades per instrument.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

// ---- parsing ----

/// Parses an amount typed in major units (`1234.56`) into minor units, exactly: digits, an
/// optional `.` and at most `log10(minor_per_major)` decimals. No sign, no exponent, no grouping.
pub fn parse_major(text: &str, minor_per_major: u32) -> Result<i64, String> {
    let s = text.trim();
    let decimals = minor_per_major.max(1).ilog10() as usize;
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.starts_with('-') {
        return Err(format!(
            "`{s}` is negative; amounts and prices are positive"
        ));
    }
    if s.starts_with('+') {
        return Err(format!("`{s}`: write the amount without a sign"));
    }
    if s.contains(['e', 'E']) {
        return Err(format!(
            "`{s}`: exponents are not accepted; write the amount in full, e.g. 1234.56"
        ));
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && frac.is_empty())
    {
        return Err(format!(
            "`{s}` is not an amount: digits with an optional decimal point, e.g. 1234.56"
        ));
    }
    if frac.len() > decimals {
        return Err(format!(
            "`{s}` has {} decimals; the currency's minor unit allows at most {decimals}",
            frac.len()
        ));
    }
    let too_large = || format!("`{s}` is too large");
    let major: i64 = int.parse().map_err(|_| too_large())?;
    let frac_minor: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<decimals$}")
            .parse()
            .map_err(|_| too_large())?
    };
    major
        .checked_mul(i64::from(minor_per_major.max(1)))
        .and_then(|m| m.checked_add(frac_minor))
        .ok_or_else(too_large)
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let s = text.trim();
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map_err(|_| format!("`{s}` is not a time of day (HH:MM or HH:MM:SS)"))
}

fn tx_id(explicit: Option<String>, default: impl FnOnce() -> String) -> Result<TransactionId> {
    let id = explicit.unwrap_or_else(default);
    TransactionId::new(id).map_err(|e| anyhow!("--id: {e}"))
}

fn time_tag(date: NaiveDate, time: NaiveTime) -> String {
    format!("{date}T{}", time.format("%H:%M:%S"))
}

impl From<SideArg> for OrderSide {
    fn from(s: SideArg) -> Self {
        match s {
            SideArg::Buy => OrderSide::Buy,
            SideArg::Sell => OrderSide::Sell,
        }
    }
}

impl From<TifArg> for TimeInForce {
    fn from(t: TifArg) -> Self {
        match t {
            TifArg::Gtc => TimeInForce::Gtc,
            TifArg::Day => TimeInForce::Day,
            TifArg::Ioc => TimeInForce::Ioc,
            TifArg::Fok => TimeInForce::Fok,
            TifArg::Market => TimeInForce::Market,
        }
    }
}

// ---- formatting ----

/// Minor units as major units, integer digits grouped: `8100` -> `81.00`,
/// `10921000` -> `109,210.00`.
pub fn major(state: &RegistryState, minor: i64) -> String {
    let text = Money(minor).display_major(state.config().market.currency_minor_per_major);
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
    let grouped = int.parse::<u64>().map_or(int.to_string(), thousands);
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn opt_major(state: &RegistryState, minor: Option<i64>) -> String {
    minor.map_or("-".into(), |m| major(state, m))
}

fn side_text(s: OrderSide) -> &'static str {
    match s {
        OrderSide::Buy => "buy",
        OrderSide::Sell => "sell",
    }
}

/// Open orders as a sequence of receipts leaves them: seeded with the orders open before the
/// transactions, then updated from each receipt's effects. A batch is applied as a whole, so this
/// is how each line of a trading day gets the status its order had right after that line.
#[derive(Default)]
pub struct OrderTracker {
    /// Reference -> (side, price, units open).
    open: HashMap<OrderRef, (OrderSide, i64, u64)>,
}

impl OrderTracker {
    /// The tracker seeded with the open orders of `accounts`.
    pub fn new<'a>(
        state: &RegistryState,
        accounts: impl IntoIterator<Item = &'a AccountId>,
    ) -> Self {
        let mut open = HashMap::new();
        for a in accounts {
            for o in reports::open_orders(state, a).unwrap_or_default() {
                open.insert(o.order, (o.side, o.price, o.remaining));
            }
        }
        OrderTracker { open }
    }

    fn take(&mut self, order: &OrderRef, quantity: u64) {
        if let Some(o) = self.open.get_mut(order) {
            o.2 = o.2.saturating_sub(quantity);
            if o.2 == 0 {
                self.open.remove(order);
            }
        }
    }

    fn apply(&mut self, effect: &Effect) {
        match effect {
            Effect::OrderAccepted {
                order,
                side,
                price_minor,
                quantity,
                ..
            } => {
                self.open
                    .insert(order.clone(), (*side, *price_minor, *quantity));
            }
            Effect::Traded {
                quantity,
                buy_order,
                sell_order,
                ..
            } => {
                self.take(buy_order, *quantity);
                self.take(sell_order, *quantity);
            }
            Effect::OrderCancelled {
                order, quantity, ..
            }
            | Effect::OrderReduced { order, quantity } => self.take(order, *quantity),
            Effect::OrderAmended { order, price_minor } => {
                if let Some(o) = self.open.get_mut(order) {
                    o.1 = *price_minor;
                }
            }
            _ => {}
        }
    }
}

/// Prints what a transaction did, one line per effect: trades with price, quantity,
/// counterparty and fee (seen from `order` when the transaction concerns one), cancellations,
/// reductions, cash; then the order's status. `tracker` follows the open orders.
pub fn print_receipt(
    state: &RegistryState,
    prefix: &str,
    receipt: &Receipt,
    order: Option<&OrderRef>,
    tracker: &mut OrderTracker,
) {
    if receipt.duplicate {
        println!(
            "{prefix}already applied as transaction {}: nothing new",
            receipt.seq
        );
        return;
    }
    let mut traded = 0u64;
    let mut cancelled: Vec<String> = Vec::new();
    for e in &receipt.effects {
        tracker.apply(e);
        match e {
            Effect::OrderAccepted {
                order,
                class,
                side,
                price_minor,
                quantity,
            } => println!(
                "{prefix}order {order} accepted: {} {} {class} (reservation price {})",
                side_text(*side),
                thousands(*quantity),
                major(state, *price_minor)
            ),
            Effect::Traded {
                price_minor,
                quantity,
                buy_order,
                sell_order,
                buyer,
                seller,
                fee_minor,
                ..
            } => {
                let line = if order == Some(sell_order) {
                    traded += quantity;
                    format!("{sell_order} sold to {buyer} (order {buy_order})")
                } else {
                    if order == Some(buy_order) {
                        traded += quantity;
                    }
                    format!("{buy_order} bought from {seller} (order {sell_order})")
                };
                println!(
                    "{prefix}trade: {} at {}, {line}, fee {} each side",
                    thousands(*quantity),
                    major(state, *price_minor),
                    major(state, *fee_minor)
                );
            }
            Effect::OrderCancelled {
                order: o,
                quantity,
                reason,
            } => {
                if order == Some(o) {
                    cancelled.push(reason.clone());
                }
                println!(
                    "{prefix}order {o}: {} cancelled ({reason})",
                    thousands(*quantity)
                );
            }
            Effect::OrderReduced { order, quantity } => {
                println!("{prefix}order {order}: reduced by {}", thousands(*quantity))
            }
            Effect::OrderAmended { order, price_minor } => println!(
                "{prefix}order {order}: price changed to {}",
                major(state, *price_minor)
            ),
            Effect::DayClosed {
                class,
                close_minor,
                volume,
            } => println!(
                "{prefix}{class}: previous trading day closed at {}, volume {}",
                major(state, *close_minor),
                thousands(*volume)
            ),
            Effect::TradingHalted { class, halted } => println!(
                "{prefix}{class}: trading {}",
                if *halted { "halted" } else { "resumed" }
            ),
            Effect::CashDeposited {
                account,
                amount_minor,
            } => println!(
                "{prefix}{account}: {} {} deposited",
                state.config().market.currency,
                major(state, *amount_minor)
            ),
            Effect::CashWithdrawn {
                account,
                amount_minor,
            } => println!(
                "{prefix}{account}: {} {} withdrawn",
                state.config().market.currency,
                major(state, *amount_minor)
            ),
            other => println!("{prefix}{other:?}"),
        }
    }
    if let Some(order) = order {
        let status = match tracker.open.get(order) {
            Some((side, price, remaining)) => format!(
                "open, {} to {} at {}{}",
                thousands(*remaining),
                side_text(*side),
                major(state, *price),
                if traded > 0 {
                    format!(" ({} traded now)", thousands(traded))
                } else {
                    String::new()
                }
            ),
            None if cancelled.is_empty() && traded > 0 => "filled".into(),
            None if cancelled.is_empty() => "closed (nothing left open)".into(),
            None if traded > 0 => format!(
                "partially filled ({} traded), remainder cancelled ({})",
                thousands(traded),
                cancelled.join(", ")
            ),
            None => format!("cancelled ({})", cancelled.join(", ")),
        };
        println!("{prefix}status: {status}");
    }
}

// ---- running ----

/// Submits one transaction; a refusal becomes an error naming the rule (exit 1).
fn submit_one<S: JournalStore>(registry: &mut Registry<S>, s: Submission) -> Result<Receipt> {
    let result = registry.submit(s)?;
    result.map_err(|rejection| anyhow!("{rejection}\nnothing changed"))
}

fn account(text: String) -> Result<AccountId> {
    AccountId::new(text).map_err(|e| anyhow!("--account: {e}"))
}

fn class(text: &str) -> Result<UnitClass> {
    text.parse::<UnitClass>()
        .map_err(|e| anyhow!("--class: {e}"))
}

fn known_account(state: &RegistryState, id: &AccountId) -> Result<()> {
    if state.ledger().find(id).is_none() {
        bail!("no account {id}");
    }
    Ok(())
}

/// Runs a cash subcommand.
pub fn run_cash(command: CashCommand) -> Result<ExitCode> {
    match command {
        CashCommand::Deposit(a) => cash_move(a, true),
        CashCommand::Withdraw(a) => cash_move(a, false),
        CashCommand::Balance {
            data_dir,
            account: acc,
            date,
        } => {
            let registry = open_read_only(&data_dir)?;
            let state = registry.state();
            let id = account(acc)?;
            known_account(state, &id)?;
            // Without --date: the registry's own "today", the date of its last transaction.
            let date = date
                .or(state.last_date())
                .unwrap_or_else(|| chrono::Utc::now().date_naive());
            let row = reports::cash_balance(state, &id, date).expect("checked");
            print_cash(state, &row);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_cash(state: &RegistryState, row: &reports::CashRow) {
    let cur = &state.config().market.currency;
    let mut t = table(&["", cur]);
    t.add_row(vec!["available".to_string(), major(state, row.available)]);
    t.add_row(vec![
        "reserved for buy orders".to_string(),
        major(state, row.reserved),
    ]);
    for (d, v) in &row.pending {
        t.add_row(vec![
            format!("proceeds available from {d}"),
            major(state, *v),
        ]);
    }
    t.add_row(vec!["total".to_string(), major(state, row.total)]);
    t.add_row(vec![
        format!("available on {}", row.date),
        major(state, row.available_on),
    ]);
    println!("cash of {}:\n{t}", row.account);
}

fn cash_move(a: CashArgs, deposit: bool) -> Result<ExitCode> {
    let mut registry = open(&a.data_dir)?;
    let minor_per_major = registry.state().config().market.currency_minor_per_major;
    let amount = parse_major(&a.amount, minor_per_major).map_err(|e| anyhow!("--amount: {e}"))?;
    let id = account(a.account)?;
    let kind = if deposit { "deposit" } else { "withdraw" };
    let tx = tx_id(a.id, || format!("cli/cash/{id}/{}/{kind}/{amount}", a.date))?;
    let command = if deposit {
        Command::Deposit {
            account: id.clone(),
            amount_minor: amount,
        }
    } else {
        Command::Withdraw {
            account: id.clone(),
            amount_minor: amount,
        }
    };
    let receipt = submit_one(
        &mut registry,
        Submission {
            id: tx.clone(),
            date: a.date,
            command,
        },
    )?;
    let state = registry.state();
    println!("transaction {tx} (#{})", receipt.seq);
    print_receipt(state, "  ", &receipt, None, &mut OrderTracker::default());
    let row = reports::cash_balance(state, &id, a.date).expect("the account exists");
    print_cash(state, &row);
    Ok(ExitCode::SUCCESS)
}

/// Runs an order subcommand.
pub fn run_order(command: OrderCommand) -> Result<ExitCode> {
    if let OrderCommand::List {
        data_dir,
        account: acc,
    } = command
    {
        let registry = open_read_only(&data_dir)?;
        let state = registry.state();
        let id = account(acc)?;
        let Some(rows) = reports::open_orders(state, &id) else {
            bail!("no account {id}")
        };
        let mut t = table(&["order", "instrument", "side", "price", "open quantity"]);
        for r in &rows {
            t.add_row(vec![
                r.order.to_string(),
                r.class.to_string(),
                side_text(r.side).to_string(),
                major(state, r.price),
                thousands(r.remaining),
            ]);
        }
        println!("open orders of {id}: {}\n{t}", rows.len());
        return Ok(ExitCode::SUCCESS);
    }
    let target = match &command {
        OrderCommand::Place { target, .. }
        | OrderCommand::Cancel { target }
        | OrderCommand::Reduce { target, .. }
        | OrderCommand::Amend { target, .. } => target,
        OrderCommand::List { .. } => unreachable!("handled above"),
    };
    let mut registry = open(&target.data_dir)?;
    let minor_per_major = registry.state().config().market.currency_minor_per_major;
    let price = |p: &str| parse_major(p, minor_per_major).map_err(|e| anyhow!("--price: {e}"));
    let order = OrderRef::new(target.order.clone()).map_err(|e| anyhow!("--order: {e}"))?;
    let acc = account(target.account.clone())?;
    let (order_, account_, time) = (order.clone(), acc.clone(), target.time);
    let tag = time_tag(target.date, time);
    let (command, default_id) = match &command {
        OrderCommand::Place {
            class: c,
            side,
            quantity,
            price: p,
            tif,
            ..
        } => (
            Command::PlaceOrder {
                order: order_,
                account: account_,
                class: class(c)?,
                side: (*side).into(),
                price_minor: p.as_deref().map(price).transpose()?,
                quantity: *quantity,
                time_in_force: (*tif).into(),
                time,
            },
            format!("cli/order/{acc}/{order}/place"),
        ),
        OrderCommand::Cancel { .. } => (
            Command::CancelOrder {
                order: order_,
                account: account_,
                time,
            },
            format!("cli/order/{acc}/{order}/cancel/{tag}"),
        ),
        OrderCommand::Reduce { quantity, .. } => (
            Command::ReduceOrder {
                order: order_,
                account: account_,
                quantity: *quantity,
                time,
            },
            format!("cli/order/{acc}/{order}/reduce/{tag}/{quantity}"),
        ),
        OrderCommand::Amend { price: p, .. } => {
            let price_minor = price(p)?;
            (
                Command::AmendOrder {
                    order: order_,
                    account: account_,
                    price_minor,
                    time,
                },
                format!("cli/order/{acc}/{order}/amend/{tag}/{price_minor}"),
            )
        }
        OrderCommand::List { .. } => unreachable!("handled above"),
    };
    let tx = tx_id(target.id.clone(), || default_id)?;
    let mut tracker = OrderTracker::new(registry.state(), [&acc]);
    let receipt = submit_one(
        &mut registry,
        Submission {
            id: tx.clone(),
            date: target.date,
            command,
        },
    )?;
    println!("transaction {tx} (#{})", receipt.seq);
    print_receipt(registry.state(), "  ", &receipt, Some(&order), &mut tracker);
    Ok(ExitCode::SUCCESS)
}

/// The instruments named by `--class`, or every instrument with a market.
fn classes(state: &RegistryState, only: Option<&str>) -> Result<Vec<UnitClass>> {
    let all: Vec<UnitClass> = state
        .exchange()
        .instruments()
        .map(|(c, _)| c.clone())
        .collect();
    match only {
        None => Ok(all),
        Some(text) => {
            let c = class(text)?;
            if !all.contains(&c) {
                bail!("{c} has no market (never traded or halted on this exchange)");
            }
            Ok(vec![c])
        }
    }
}

/// Runs a market data subcommand.
pub fn run_market(command: MarketCommand) -> Result<ExitCode> {
    match command {
        MarketCommand::Summary { data_dir, class } => {
            let registry = open_read_only(&data_dir)?;
            let state = registry.state();
            let wanted = classes(state, class.as_deref())?;
            let rows: Vec<_> = reports::market_summary(state)
                .into_iter()
                .filter(|r| wanted.contains(&r.class))
                .collect();
            print_summary(state, &rows);
        }
        MarketCommand::Book {
            data_dir,
            class,
            depth,
        } => {
            let registry = open_read_only(&data_dir)?;
            let state = registry.state();
            for c in classes(state, class.as_deref())? {
                print_book(state, &c, depth);
            }
        }
        MarketCommand::Trades {
            data_dir,
            class,
            limit,
        } => {
            let registry = open_read_only(&data_dir)?;
            let state = registry.state();
            for c in classes(state, class.as_deref())? {
                let trades = reports::recent_trades(state, &c, limit).expect("listed");
                let mut t = table(&["date", "time", "price", "quantity", "aggressor"]);
                for tr in &trades {
                    t.add_row(vec![
                        tr.date.to_string(),
                        tr.time.format("%H:%M:%S").to_string(),
                        major(state, tr.price),
                        thousands(tr.quantity),
                        side_text(tr.aggressor).to_string(),
                    ]);
                }
                println!("{c}: last {} trades, newest first\n{t}", trades.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the market summary table.
pub fn print_summary(state: &RegistryState, rows: &[InstrumentSummary]) {
    let mut t = table(&[
        "instrument",
        "prev close",
        "status",
        "bid",
        "ask",
        "open",
        "high",
        "low",
        "last",
        "volume",
        "turnover",
        "VWAP",
        "trades",
    ]);
    let quote = |q: Option<reports::Quote>| {
        q.map_or("-".into(), |q| {
            format!("{} x {}", major(state, q.price), thousands(q.volume))
        })
    };
    for r in rows {
        t.add_row(vec![
            r.class.to_string(),
            major(state, r.previous_close),
            if r.halted { "halted" } else { "trading" }.to_string(),
            quote(r.best_bid),
            quote(r.best_ask),
            opt_major(state, r.open),
            opt_major(state, r.high),
            opt_major(state, r.low),
            opt_major(state, r.last),
            thousands(r.volume),
            major(state, r.turnover.0),
            opt_major(state, r.vwap),
            thousands(r.trades),
        ]);
    }
    println!("{t}");
}

fn print_book(state: &RegistryState, class: &UnitClass, depth: usize) {
    let levels = reports::depth(state, class, depth).expect("listed");
    let bids: Vec<_> = levels.iter().filter(|l| l.side == OrderSide::Buy).collect();
    let asks: Vec<_> = levels
        .iter()
        .filter(|l| l.side == OrderSide::Sell)
        .collect();
    let mut t = table(&["orders", "bid volume", "bid", "ask", "ask volume", "orders"]);
    for i in 0..bids.len().max(asks.len()) {
        let (b, a) = (bids.get(i), asks.get(i));
        t.add_row(vec![
            b.map_or(String::new(), |l| l.orders.to_string()),
            b.map_or(String::new(), |l| thousands(l.volume)),
            b.map_or(String::new(), |l| major(state, l.price)),
            a.map_or(String::new(), |l| major(state, l.price)),
            a.map_or(String::new(), |l| thousands(l.volume)),
            a.map_or(String::new(), |l| l.orders.to_string()),
        ]);
    }
    println!("{class} (top {depth} levels):\n{t}");
}

/// Reads a file's text, naming it on failure.
pub fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_parsed_exactly() {
        assert_eq!(parse_major("1234.56", 100), Ok(123_456));
        assert_eq!(parse_major("81", 100), Ok(8_100));
        assert_eq!(parse_major("81.5", 100), Ok(8_150));
        assert_eq!(parse_major(" 0.01 ", 100), Ok(1));
        assert_eq!(parse_major("7", 1), Ok(7));
        // 0.29 is not exactly representable in binary floating point: 0.29 * 100 = 28.999...
        assert_eq!(parse_major("0.29", 100), Ok(29));
        for bad in [
            "1.234", "-5", "+5", "1e3", "1E3", "", ".5", "5.", "1,000", "abc", "1.2.3",
        ] {
            assert!(parse_major(bad, 100).is_err(), "{bad}");
        }
        assert!(parse_major("1.234", 100).unwrap_err().contains("at most 2"));
        assert!(parse_major("-5", 100).unwrap_err().contains("negative"));
        assert!(parse_major("1e3", 100).unwrap_err().contains("exponent"));
        assert!(
            parse_major("99999999999999999999", 100)
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_major("92233720368547758.07", 100).is_ok());
        assert!(parse_major("92233720368547758.08", 100).is_err());
    }

    #[test]
    fn times_take_minutes_or_seconds() {
        assert_eq!(
            parse_time("09:30"),
            Ok(NaiveTime::from_hms_opt(9, 30, 0).unwrap())
        );
        assert_eq!(
            parse_time("13:05:07"),
            Ok(NaiveTime::from_hms_opt(13, 5, 7).unwrap())
        );
        assert!(parse_time("25:00").is_err());
        assert!(parse_time("9h30").is_err());
    }
}
