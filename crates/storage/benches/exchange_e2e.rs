//! The exchange end to end through the durable registry: each order is checked, its cash or units
//! reserved, matched on the book, every trade settled delivery-versus-payment, and the transaction
//! journaled in SQLite (WAL + synchronous=FULL) before `submit_batch` returns.
//!
//! `cargo bench -p yrd-storage --bench exchange_e2e` prints one line per measurement:
//!
//! - `exchange_throughput`: sustained durable orders per second, `count` orders submitted as fast
//!   as possible in batches of `batch` (one group commit per batch); median over several runs, each
//!   on a fresh data directory. Also the trades, accepted and refused submissions of the last run.
//! - `exchange_latency`: open loop at a fixed arrival rate. A generator thread emits orders at
//!   their scheduled arrival times; the writer drains whatever is queued (at most 1,000) into one
//!   `submit_batch` and records, per order, acknowledgement time minus *scheduled* arrival time
//!   (not send time, so a stalled writer cannot hide its queueing delay: no coordinated omission)
//!   in an HDR histogram, in microseconds.
//!
//! Without `--bench` (as `cargo test --benches` runs it) a tiny smoke pass runs instead.
//!
//! The market: 100 trading accounts of CN-SH, each funded with ample cash and 100,000,000 t of
//! CN-SH/CEA/2024 before the trading day (Monday 4 March 2024). Orders come from a deterministic
//! generator: random account and side, limit 79.00-81.00 (the band is 72.00-88.00 around the
//! initial reference 80.00), 1-50 lots, 72 % GTC, 20 % IOC, and 8 % cancels of the account's most
//! recent GTC order (refused as UNKNOWN_ORDER when it has already traded away).
//!
//! Flow: by default prices are on the 1 fen tick and quantities 1-50 t. With
//! `EXCHANGE_E2E_FLOW=lots` prices are on a 5 fen grid and quantities in lots of 400 t, so every
//! fill's 5 bp fee is a whole number of fen. (That variant avoided a registry panic in
//! `settle_fill`, "the buy order's reservation covers price x quantity + fee", when a buy's fee was
//! reserved rounded once for the whole order but charged rounded half up per partial fill; buys now
//! reserve one extra fen per unit.)

use chrono::{NaiveDate, NaiveTime};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use yrd_registry::{
    Command, Effect, OrderSide, Registry, Submission, SubmitResult, TimeInForce, audit::audit,
};
use yrd_storage::SqliteStore;
use yrd_types::{
    AccountId, AccountKind, JurisdictionCode, OrderRef, TransactionId, UnitClass, UnitTypeCode,
    Vintage,
};

const RUNS: usize = 5;
const ACCOUNTS: usize = 100;
/// Cash per account, fen (CNY 10,000,000,000): never the limiting factor.
const CASH: i64 = 1_000_000_000_000;
/// Units per account: never the limiting factor.
const UNITS: u64 = 100_000_000;
/// Most orders the latency writer puts in one group commit.
const BATCH_CAP: usize = 1_000;

fn class() -> UnitClass {
    UnitClass {
        jurisdiction: JurisdictionCode::new("CN-SH").expect("code"),
        unit_type: UnitTypeCode::new("CEA").expect("code"),
        vintage: Vintage::new(2024).expect("vintage"),
    }
}

fn account(i: usize) -> AccountId {
    AccountId::new(format!("TR-{i:03}")).expect("id")
}

fn trading_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 4).expect("Monday 4 March 2024")
}

/// A registry on a fresh store in `dir`, dated the Friday before the trading day, with
/// [`ACCOUNTS`] funded trading accounts.
fn setup(dir: &std::path::Path) -> Registry<SqliteStore> {
    let (_, text) = yrd_config::MarketConfig::builtin("yrd").expect("built-in");
    let date = NaiveDate::from_ymd_opt(2024, 3, 1).expect("date");
    let mut r = Registry::create(SqliteStore::open(dir).expect("store"), text, "yrd", date)
        .expect("registry");
    let sh = JurisdictionCode::new("CN-SH").expect("code");
    let acc = |s: &str| AccountId::new(s).expect("id");
    let total = UNITS * ACCOUNTS as u64;
    let mut cmds = vec![
        Command::Issue {
            jurisdiction: sh.clone(),
            unit_type: class().unit_type,
            vintage: class().vintage,
            quantity: total,
        },
        Command::Transfer {
            from: acc("CN-SH-GOV"),
            to: acc("CN-SH-AUCTION"),
            class: class(),
            quantity: total,
        },
    ];
    for i in 0..ACCOUNTS {
        cmds.push(Command::OpenAccount {
            account: account(i),
            kind: AccountKind::Trading,
            jurisdiction: sh.clone(),
            holder_name: format!("Trader {i}"),
        });
        cmds.push(Command::Deposit {
            account: account(i),
            amount_minor: CASH,
        });
        cmds.push(Command::Transfer {
            from: acc("CN-SH-AUCTION"),
            to: account(i),
            class: class(),
            quantity: UNITS,
        });
    }
    let subs: Vec<Submission> = cmds
        .into_iter()
        .enumerate()
        .map(|(i, command)| Submission {
            id: TransactionId::new(format!("setup-{i}")).expect("id"),
            date,
            command,
        })
        .collect();
    for result in r.submit_batch(&subs).expect("durable") {
        result.expect("setup accepted");
    }
    r
}

/// Deterministic order flow (64-bit LCG, Knuth's MMIX constants; high bits used).
struct OrderGen {
    state: u64,
    next: usize,
    /// Per account, its GTC orders not yet cancelled by the generator (most recent last).
    open: Vec<Vec<OrderRef>>,
    time: NaiveTime,
    flow: Flow,
}

/// Price grid and lot of the generated orders.
#[derive(Clone, Copy)]
struct Flow {
    tick: i64,
    lot: u64,
}

impl Flow {
    fn from_env() -> Self {
        match std::env::var("EXCHANGE_E2E_FLOW").as_deref() {
            Ok("lots") => Flow { tick: 5, lot: 400 },
            _ => Flow { tick: 1, lot: 1 },
        }
    }
}

impl OrderGen {
    fn new(seed: u64, flow: Flow) -> Self {
        Self {
            flow,
            state: seed,
            next: 0,
            open: vec![Vec::new(); ACCOUNTS],
            time: NaiveTime::from_hms_opt(10, 0, 0).expect("in session"),
        }
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.state >> 33) % n
    }

    fn submission(&mut self) -> Submission {
        let i = self.next;
        self.next += 1;
        let a = self.rand(ACCOUNTS as u64) as usize;
        let roll = self.rand(100);
        let command = if roll < 8 && !self.open[a].is_empty() {
            Command::CancelOrder {
                order: self.open[a].pop().expect("non-empty"),
                account: account(a),
                time: self.time,
            }
        } else {
            let order = OrderRef::new(format!("O{i}")).expect("ref");
            let tif = if roll < 20 {
                TimeInForce::Ioc
            } else {
                self.open[a].push(order.clone());
                TimeInForce::Gtc
            };
            let side = if self.rand(2) == 0 {
                OrderSide::Buy
            } else {
                OrderSide::Sell
            };
            Command::PlaceOrder {
                order,
                account: account(a),
                class: class(),
                side,
                price_minor: Some(
                    7_900 + self.flow.tick * self.rand(200 / self.flow.tick as u64 + 1) as i64,
                ),
                quantity: self.flow.lot * (1 + self.rand(50)),
                time_in_force: tif,
                time: self.time,
            }
        };
        Submission {
            id: TransactionId::new(format!("x-{i}")).expect("id"),
            date: trading_day(),
            command,
        }
    }

    fn take(&mut self, n: usize) -> Vec<Submission> {
        (0..n).map(|_| self.submission()).collect()
    }
}

/// Accepted and refused submissions (by rule code) and trades.
#[derive(Default)]
struct Tally {
    accepted: u64,
    trades: u64,
    traded_units: u64,
    refused: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, results: Vec<SubmitResult>) {
        for result in results {
            match result {
                Ok(receipt) => {
                    self.accepted += 1;
                    for e in &receipt.effects {
                        if let Effect::Traded { quantity, .. } = e {
                            self.trades += 1;
                            self.traded_units += quantity;
                        }
                    }
                }
                Err(rejection) => {
                    let code = rejection
                        .violations
                        .first()
                        .map_or_else(|| "?".to_string(), |v| v.code.as_str());
                    *self.refused.entry(code).or_insert(0) += 1;
                }
            }
        }
    }

    fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }

    fn refused_text(&self) -> String {
        if self.refused.is_empty() {
            return "none".into();
        }
        self.refused
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The journal holds the setup plus exactly the accepted submissions.
    fn check_journal(&self, r: &Registry<SqliteStore>, setup_entries: u64) {
        let stored = r.store().entry_count().expect("count");
        assert_eq!(
            stored,
            setup_entries + self.accepted,
            "journal entries vs accepted submissions"
        );
    }
}

/// Orders/s for `count` orders submitted in batches of `batch`, on a fresh data directory.
fn throughput_run(flow: Flow, batch: usize, count: usize, check: bool) -> (f64, Tally) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut r = setup(dir.path());
    let setup_entries = r.store().entry_count().expect("count");
    let subs = OrderGen::new(42, flow).take(count);
    let mut tally = Tally::default();
    let started = Instant::now();
    for chunk in subs.chunks(batch) {
        tally.add(r.submit_batch(chunk).expect("durable"));
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    tally.check_journal(&r, setup_entries);
    if check {
        let report = audit(r.store()).expect("audit");
        assert!(report.is_clean(), "audit: {:?}", report.findings);
    }
    (rate, tally)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Open-loop latency at `rate` orders/s for `seconds`, on a fresh data directory.
fn latency_run(flow: Flow, rate: u64, seconds: f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut r = setup(dir.path());
    let setup_entries = r.store().entry_count().expect("count");
    let n = (rate as f64 * seconds) as usize;
    let subs = OrderGen::new(7, flow).take(n);
    let (tx, rx) = mpsc::channel::<(Instant, Submission)>();
    let start = Instant::now() + Duration::from_millis(20);
    let generator = std::thread::spawn(move || {
        let mut late_max = Duration::ZERO;
        for (i, s) in subs.into_iter().enumerate() {
            let scheduled = start + Duration::from_nanos(i as u64 * 1_000_000_000 / rate);
            let now = Instant::now();
            if scheduled > now {
                std::thread::sleep(scheduled - now);
            } else {
                late_max = late_max.max(now - scheduled);
            }
            tx.send((scheduled, s)).expect("writer alive");
        }
        late_max
    });
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("histogram");
    let mut tally = Tally::default();
    let mut batches = 0u64;
    let mut scheduled = Vec::with_capacity(BATCH_CAP);
    let mut batch = Vec::with_capacity(BATCH_CAP);
    while let Ok((t, s)) = rx.recv() {
        scheduled.push(t);
        batch.push(s);
        while batch.len() < BATCH_CAP {
            match rx.try_recv() {
                Ok((t, s)) => {
                    scheduled.push(t);
                    batch.push(s);
                }
                Err(_) => break,
            }
        }
        let results = r.submit_batch(&batch).expect("durable");
        let ack = Instant::now();
        for t in scheduled.drain(..) {
            let us = ack.saturating_duration_since(t).as_micros() as u64;
            hist.saturating_record(us.max(1));
        }
        tally.add(results);
        batch.clear();
        batches += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let late_max = generator.join().expect("generator");
    tally.check_journal(&r, setup_entries);
    println!(
        "exchange_latency rate={rate}/s orders={} p50_us={} p99_us={} p999_us={} max_us={} \
         mean_batch={:.1} wall_s={elapsed:.1} gen_late_max_us={} trades={} refused={} ({})",
        hist.len(),
        hist.value_at_quantile(0.50),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.max(),
        hist.len() as f64 / batches.max(1) as f64,
        late_max.as_micros(),
        tally.trades,
        tally.refused_total(),
        tally.refused_text(),
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run a smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (runs, modes, seconds): (usize, &[(usize, usize)], f64) = if quick {
        (1, &[(1, 20), (100, 300)], 0.5)
    } else {
        (RUNS, &[(1, 1_000), (100, 200_000), (1_000, 200_000)], 8.0)
    };
    let flow = Flow::from_env();
    println!(
        "exchange_e2e flow: price tick {} fen, lot {} t (EXCHANGE_E2E_FLOW=lots for 5 fen / 400 t)",
        flow.tick, flow.lot
    );
    let mut capacity = 0.0f64;
    for &(batch, count) in modes {
        let mut rates = Vec::with_capacity(runs);
        let mut last = Tally::default();
        for run in 0..runs {
            // The first run of each mode also audits the journal (outside the timing).
            let (rate, tally) = throughput_run(flow, batch, count, run == 0);
            rates.push(rate);
            last = tally;
        }
        let med = median(rates.clone());
        capacity = capacity.max(med);
        println!(
            "exchange_throughput batch={batch} orders={count} runs={runs} median_orders_per_s={med:.0} \
             min={:.0} max={:.0} trades={} traded_t={} accepted={} refused={} ({})",
            rates.iter().copied().fold(f64::INFINITY, f64::min),
            rates.iter().copied().fold(0.0, f64::max),
            last.trades,
            last.traded_units,
            last.accepted,
            last.refused_total(),
            last.refused_text(),
        );
    }
    let rates: &[u64] = if quick {
        &[500]
    } else {
        &[2_000, 10_000, 30_000]
    };
    for &rate in rates {
        // An arrival rate at or above capacity only measures an ever-growing queue.
        if !quick && rate as f64 > 0.8 * capacity {
            println!(
                "exchange_latency rate={rate}/s skipped: above 80 % of the measured capacity {capacity:.0}/s"
            );
            continue;
        }
        latency_run(flow, rate, seconds);
    }
}
