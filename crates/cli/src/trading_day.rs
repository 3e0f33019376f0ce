//! `yrd-ets trading-day`: a scripted trading day from a CSV file.
//!
//! The file has the header `date,time,action,order,account,class,side,price,quantity,tif` and
//! one instruction per line; `action` is one of
//!
//! | action | needs | meaning |
//! |---|---|---|
//! | `place` | time, order, account, class, side, quantity, price (not for tif `market`), tif (default `gtc`) | a new order |
//! | `cancel` | time, order, account | cancels an open order |
//! | `reduce` | time, order, account, quantity | takes `quantity` units off an open order |
//! | `amend` | time, order, account, price | re-prices an open order |
//! | `deposit`, `withdraw` | account, price (the amount) | cash in or out |
//! | `halt`, `resume` | class | the operator halts or resumes an instrument |
//!
//! Columns an action does not use must be empty (`time` may be given for any action). Prices and
//! amounts are in major units (`81.00`, `1000000.00`), parsed exactly; quantities are whole base
//! units (t). Dates are `YYYY-MM-DD`, times `HH:MM[:SS]`, exchange local time; the lines must be in
//! date and time order.
//!
//! The whole file is parsed first: a malformed line stops everything with
//! `file:line: field `x`: reason` and nothing is submitted. Then every line is submitted, in
//! order, as one durable batch, each with the transaction id `day/{file stem}/{line}`. Each order
//! is judged on its own, as on a real exchange: a refused line (price band, lunch break, no
//! units, ...) is reported with its rule code and the day goes on. The exit code is 0 when every
//! line parsed, even if some were refused. Running the same file again applies nothing new: the
//! accepted lines come back as duplicates of their transaction ids and the refused ones are
//! refused again.
//!
//! `examples/trading-day.csv` (with `examples/setup.jsonl`) is a small day on `CN-SH/CEA/2019`;
//! README.md shows how to run it.

use crate::exchange::{
    OrderTracker, major, parse_major, parse_time, print_receipt, print_summary, read,
};
use crate::output::{table, thousands};
use crate::store::open;
use anyhow::{Result, anyhow, bail};
use chrono::{NaiveDate, NaiveTime};
use std::path::Path;
use std::process::ExitCode;
use yrd_registry::reports;
use yrd_registry::{Command, OrderSide, RegistryState, Submission, SubmitResult, TimeInForce};
use yrd_types::{AccountId, OrderRef, TransactionId, UnitClass};

/// The header a trading-day file must start with.
pub const HEADER: [&str; 10] = [
    "date", "time", "action", "order", "account", "class", "side", "price", "quantity", "tif",
];

/// The most lines a trading-day file may hold (one durable batch).
pub const MAX_LINES: usize = 100_000;

/// One parsed line.
struct Line {
    line: u64,
    time: Option<NaiveTime>,
    action: String,
    submission: Submission,
    /// The order and its account, for order actions.
    order: Option<(OrderRef, AccountId)>,
}

/// The fields of one record, by column name, with errors naming file, line and field.
struct Fields<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    action: &'a str,
}

impl Fields<'_> {
    fn err(&self, field: &str, reason: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}:{}: field `{field}`: {reason}", self.file, self.line)
    }

    fn raw(&self, field: &str) -> &str {
        let i = HEADER
            .iter()
            .position(|h| *h == field)
            .expect("known column");
        self.record.get(i).unwrap_or("").trim()
    }

    fn required(&self, field: &str) -> Result<&str> {
        let v = self.raw(field);
        if v.is_empty() {
            return Err(self.err(field, format!("required for `{}`", self.action)));
        }
        Ok(v)
    }

    fn optional(&self, field: &str) -> Option<&str> {
        Some(self.raw(field)).filter(|v| !v.is_empty())
    }

    /// Checks that the columns the action does not use are empty.
    fn only(&self, used: &[&str]) -> Result<()> {
        for field in HEADER {
            if !used.contains(&field) && !["date", "time", "action"].contains(&field) {
                let v = self.raw(field);
                if !v.is_empty() {
                    return Err(self.err(
                        field,
                        format!(
                            "`{v}` given, but `{}` does not use this column",
                            self.action
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn parse<T, E: std::fmt::Display>(
        &self,
        field: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T> {
        let v = self.required(field)?;
        f(v).map_err(|e| self.err(field, e))
    }

    fn account(&self) -> Result<AccountId> {
        self.parse("account", |v| AccountId::new(v))
    }

    fn order(&self) -> Result<OrderRef> {
        self.parse("order", |v| OrderRef::new(v))
    }

    fn class(&self) -> Result<UnitClass> {
        self.parse("class", |v| v.parse::<UnitClass>())
    }

    fn quantity(&self) -> Result<u64> {
        self.parse("quantity", |v| match v.parse::<u64>() {
            Ok(q) => Ok(q),
            Err(_) => Err(format!("`{v}` is not a whole number of units")),
        })
    }

    fn money(&self, field: &str, minor_per_major: u32) -> Result<i64> {
        self.parse(field, |v| parse_major(v, minor_per_major))
    }

    fn time(&self) -> Result<NaiveTime> {
        self.parse("time", parse_time)
    }
}

/// Parses the whole file into submissions; the first malformed line is the error.
fn parse(file: &Path, text: &str, minor_per_major: u32) -> Result<Vec<Line>> {
    let name = file.display().to_string();
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    TransactionId::new(format!("day/{stem}/1")).map_err(|e| {
        anyhow!("{name}: the file name `{stem}` cannot form transaction ids day/{stem}/LINE: {e}")
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| anyhow!("{name}:1: {e}"))?
        .clone();
    let got: Vec<&str> = header.iter().map(str::trim).collect();
    if got != HEADER {
        bail!(
            "{name}:1: the header must be `{}`, found `{}`",
            HEADER.join(","),
            got.join(",")
        );
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut last: Option<(u64, NaiveDate)> = None;
    let mut last_time: Option<(u64, NaiveTime)> = None;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow!("{name}:{line}: {e}")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != HEADER.len() {
            bail!(
                "{name}:{line}: {} fields, expected {} ({})",
                record.len(),
                HEADER.len(),
                HEADER.join(",")
            );
        }
        let action = record.get(2).unwrap_or("").trim().to_string();
        let f = Fields {
            file: &name,
            line,
            record: &record,
            action: &action,
        };
        let date = f.parse("date", |v| NaiveDate::parse_from_str(v, "%Y-%m-%d"))?;
        let time = f
            .optional("time")
            .map(|v| parse_time(v).map_err(|e| f.err("time", e)))
            .transpose()?;
        if let Some((prev_line, prev_date)) = last {
            if date < prev_date {
                return Err(f.err(
                    "date",
                    format!("{date} is before {prev_date} on line {prev_line}; lines must be in date order"),
                ));
            }
            if date > prev_date {
                last_time = None;
            }
        }
        if let Some(t) = time {
            if let Some((prev_line, p)) = last_time
                && t < p
            {
                return Err(f.err(
                    "time",
                    format!(
                        "{} is before {} on line {prev_line}; lines must be in time order",
                        t.format("%H:%M:%S"),
                        p.format("%H:%M:%S")
                    ),
                ));
            }
            last_time = Some((line, t));
        }
        last = Some((line, date));
        let mut order = None;
        let command = match action.as_str() {
            "place" => {
                f.only(&[
                    "order", "account", "class", "side", "price", "quantity", "tif",
                ])?;
                let tif = match f.optional("tif").unwrap_or("gtc") {
                    "gtc" => TimeInForce::Gtc,
                    "day" => TimeInForce::Day,
                    "ioc" => TimeInForce::Ioc,
                    "fok" => TimeInForce::Fok,
                    "market" => TimeInForce::Market,
                    other => {
                        return Err(f.err(
                            "tif",
                            format!("`{other}` is not one of gtc, day, ioc, fok, market"),
                        ));
                    }
                };
                let side = match f.required("side")? {
                    "buy" => OrderSide::Buy,
                    "sell" => OrderSide::Sell,
                    other => return Err(f.err("side", format!("`{other}` is not buy or sell"))),
                };
                let price_minor = if tif == TimeInForce::Market {
                    if let Some(p) = f.optional("price") {
                        return Err(f.err(
                            "price",
                            format!("`{p}` given, but a market order has no price"),
                        ));
                    }
                    None
                } else {
                    Some(f.money("price", minor_per_major)?)
                };
                let (o, a) = (f.order()?, f.account()?);
                order = Some((o.clone(), a.clone()));
                Command::PlaceOrder {
                    order: o,
                    account: a,
                    class: f.class()?,
                    side,
                    price_minor,
                    quantity: f.quantity()?,
                    time_in_force: tif,
                    time: f.time()?,
                }
            }
            "cancel" | "reduce" | "amend" => {
                let used: &[&str] = match action.as_str() {
                    "cancel" => &["order", "account"],
                    "reduce" => &["order", "account", "quantity"],
                    _ => &["order", "account", "price"],
                };
                f.only(used)?;
                let (o, a, t) = (f.order()?, f.account()?, f.time()?);
                order = Some((o.clone(), a.clone()));
                match action.as_str() {
                    "cancel" => Command::CancelOrder {
                        order: o,
                        account: a,
                        time: t,
                    },
                    "reduce" => Command::ReduceOrder {
                        order: o,
                        account: a,
                        quantity: f.quantity()?,
                        time: t,
                    },
                    _ => Command::AmendOrder {
                        order: o,
                        account: a,
                        price_minor: f.money("price", minor_per_major)?,
                        time: t,
                    },
                }
            }
            "deposit" | "withdraw" => {
                f.only(&["account", "price"])?;
                let (account, amount_minor) = (f.account()?, f.money("price", minor_per_major)?);
                if action == "deposit" {
                    Command::Deposit {
                        account,
                        amount_minor,
                    }
                } else {
                    Command::Withdraw {
                        account,
                        amount_minor,
                    }
                }
            }
            "halt" | "resume" => {
                f.only(&["class"])?;
                Command::SetTradingHalt {
                    class: f.class()?,
                    halted: action == "halt",
                }
            }
            other => {
                return Err(f.err(
                    "action",
                    format!(
                        "`{other}` is not one of place, cancel, reduce, amend, deposit, withdraw, halt, resume"
                    ),
                ));
            }
        };
        let id = TransactionId::new(format!("day/{stem}/{line}"))
            .map_err(|e| anyhow!("{name}:{line}: transaction id: {e}"))?;
        lines.push(Line {
            line,
            time,
            action,
            submission: Submission { id, date, command },
            order,
        });
        if lines.len() > MAX_LINES {
            bail!("{name}: more than {MAX_LINES} lines; split the day");
        }
    }
    if lines.is_empty() {
        bail!("{name}: no lines after the header");
    }
    Ok(lines)
}

/// A one-line description of what a line asks for.
fn describe(state: &RegistryState, l: &Line) -> String {
    let time = l
        .time
        .map_or(String::new(), |t| format!("{} ", t.format("%H:%M:%S")));
    let what = match &l.submission.command {
        Command::PlaceOrder {
            order,
            account,
            class,
            side,
            price_minor,
            quantity,
            time_in_force,
            ..
        } => format!(
            "place {order}: {account} {} {} {class} {} {}",
            match side {
                OrderSide::Buy => "buys",
                OrderSide::Sell => "sells",
            },
            thousands(*quantity),
            price_minor.map_or("at market".into(), |p| format!("at {}", major(state, p))),
            format!("{time_in_force:?}").to_lowercase()
        ),
        Command::CancelOrder { order, account, .. } => format!("cancel {order} ({account})"),
        Command::ReduceOrder {
            order,
            account,
            quantity,
            ..
        } => format!("reduce {order} ({account}) by {}", thousands(*quantity)),
        Command::AmendOrder {
            order,
            account,
            price_minor,
            ..
        } => format!(
            "amend {order} ({account}) to {}",
            major(state, *price_minor)
        ),
        Command::Deposit {
            account,
            amount_minor,
        }
        | Command::Withdraw {
            account,
            amount_minor,
        } => format!("{} {} {account}", l.action, major(state, *amount_minor)),
        Command::SetTradingHalt { class, .. } => format!("{} {class}", l.action),
        other => other.kind().to_string(),
    };
    format!("{time}{what}")
}

/// The accounts the lines name, in order of first appearance.
fn accounts_of(lines: &[Line]) -> Vec<AccountId> {
    let mut accounts: Vec<AccountId> = Vec::new();
    for l in lines {
        if let Command::PlaceOrder { account, .. }
        | Command::CancelOrder { account, .. }
        | Command::ReduceOrder { account, .. }
        | Command::AmendOrder { account, .. }
        | Command::Deposit { account, .. }
        | Command::Withdraw { account, .. } = &l.submission.command
            && !accounts.contains(account)
        {
            accounts.push(account.clone());
        }
    }
    accounts
}

/// The instruments the lines name, in order of first appearance.
fn classes_of(lines: &[Line]) -> Vec<UnitClass> {
    let mut classes: Vec<UnitClass> = Vec::new();
    for l in lines {
        if let Command::PlaceOrder { class, .. } | Command::SetTradingHalt { class, .. } =
            &l.submission.command
            && !classes.contains(class)
        {
            classes.push(class.clone());
        }
    }
    classes
}

/// `yrd-ets trading-day`.
pub fn run(data_dir: &Path, file: &Path) -> Result<ExitCode> {
    let text = read(file)?;
    let mut registry = open(data_dir)?;
    let minor_per_major = registry.state().config().market.currency_minor_per_major;
    let lines = parse(file, &text, minor_per_major)?;
    // The accepted lines of a day are stored in one atomic batch and refusals are not journaled,
    // so if any line's id is in the journal the file ran before: its other lines were refused
    // then. They are not judged again (the market has moved on since), and a line whose id was
    // used with other content means the file was edited: refuse it whole.
    let name = file.display();
    let mut seen = Vec::with_capacity(lines.len());
    for l in &lines {
        let (_, hash) = RegistryState::canonical(&l.submission);
        let prior = registry.state().applied(&l.submission.id);
        if let Some((seq, h)) = prior
            && h != hash
        {
            bail!(
                "{name}:{}: transaction id {} was applied as transaction {seq} with other content: \
                 the file changed since it was run; nothing was submitted",
                l.line,
                l.submission.id
            );
        }
        seen.push(prior.map(|(seq, _)| seq));
    }
    let rerun = seen.iter().any(Option::is_some);
    // Each line's order status follows from the orders open before the day and the effects.
    let accounts = accounts_of(&lines);
    let mut tracker = OrderTracker::new(registry.state(), &accounts);
    let results: Vec<Option<SubmitResult>> = if rerun {
        seen.iter().map(|_| None).collect()
    } else {
        let batch: Vec<Submission> = lines.iter().map(|l| l.submission.clone()).collect();
        registry
            .submit_batch(&batch)?
            .into_iter()
            .map(Some)
            .collect()
    };
    let state = registry.state();
    let (mut applied, mut duplicates, mut refused) = (0, 0, 0);
    for ((l, result), prior) in lines.iter().zip(results).zip(&seen) {
        println!("{name}:{}: {}", l.line, describe(state, l));
        match (result, prior) {
            (Some(Ok(receipt)), _) => {
                applied += 1;
                let order = l.order.as_ref().map(|(o, _)| o);
                print_receipt(state, "    ", &receipt, order, &mut tracker);
            }
            (Some(Err(rejection)), _) => {
                refused += 1;
                for v in &rejection.violations {
                    println!(
                        "    REFUSED [{}] field `{}`: {}",
                        v.code, v.field, v.message
                    );
                }
            }
            (None, Some(seq)) => {
                duplicates += 1;
                println!("    already applied as transaction {seq}: nothing new");
            }
            (None, None) => {
                refused += 1;
                println!(
                    "    not applied: refused when this file first ran, or added to it since (refusals are not journaled, \
                     so the two cannot be told apart); put new orders in a new day file"
                );
            }
        }
    }
    println!(
        "{name}: {} lines: {applied} applied, {duplicates} already applied before, {refused} refused",
        lines.len()
    );
    // The market and the participants at the end of the day.
    let classes = classes_of(&lines);
    let summary: Vec<_> = reports::market_summary(state)
        .into_iter()
        .filter(|r| classes.contains(&r.class))
        .collect();
    println!("market:");
    print_summary(state, &summary);
    let last_date = lines.last().map(|l| l.submission.date).expect("not empty");
    let mut header = vec![
        "account".to_string(),
        "cash available".to_string(),
        "reserved".to_string(),
        "pending".to_string(),
    ];
    for c in &classes {
        header.push(format!("{c} held"));
        header.push("on sell orders".to_string());
    }
    let mut t = table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for a in &accounts {
        let Some(cash) = reports::cash_balance(state, a, last_date) else {
            continue;
        };
        let no = state.ledger().find(a).expect("cash_balance found it");
        let pending: i64 = cash.pending.iter().map(|(_, v)| v).sum();
        let mut row = vec![
            a.to_string(),
            major(state, cash.available),
            major(state, cash.reserved),
            major(state, pending),
        ];
        for c in &classes {
            row.push(thousands(state.ledger().quantity(no, c)));
            row.push(thousands(state.exchange().reserved_units(no, c)));
        }
        t.add_row(row);
    }
    println!(
        "participants ({}; pending = sale proceeds available from the next trading day):\n{t}",
        state.config().market.currency
    );
    Ok(ExitCode::SUCCESS)
}
