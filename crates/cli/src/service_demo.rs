//! `yrd-ets demo --service`: the demo registry with a fortnight of market activity on top, so
//! that the web service has something to show - trading accounts of four carbon-asset firms (one
//! per jurisdiction) with cash and CEA 2020, ten trading days of exchange orders and trades in
//! January 2022 (a closing-price history), a resting order book, and a Zhejiang auction of 2020
//! allowances that has been cleared.
//!
//! Everything here is illustrative (firms, prices, quantities), and goes through the registry's
//! ordinary transactions, so the audit covers it like anything else.

use crate::output::submit_all;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::Path;
use yrd_registry::{JournalStore, Registry, Submission};

/// The trading firms: account, jurisdiction, holder, and the operator holding account that sells
/// it its starting CEA 2020 (with the quantity, t).
pub const TRADERS: [(&str, &str, &str, &str, u64); 4] = [
    (
        "TR-SH-ALPHA",
        "CN-SH",
        "Alpha Carbon Asset Management (Shanghai) Co.",
        "OHA-CN-SH-POWER-001",
        600_000,
    ),
    (
        "TR-JS-BETA",
        "CN-JS",
        "Beta Low-Carbon Investment (Suzhou) Co.",
        "OHA-CN-JS-POWER-005",
        400_000,
    ),
    (
        "TR-ZJ-GAMMA",
        "CN-ZJ",
        "Gamma Energy Trading (Hangzhou) Co.",
        "OHA-CN-ZJ-POWER-001",
        200_000,
    ),
    (
        "TR-AH-DELTA",
        "CN-AH",
        "Delta Emission Rights Services (Hefei) Co.",
        "OHA-CN-AH-POWER-001",
        200_000,
    ),
];

/// Cash each firm starts with: CNY 200 million, in fen.
pub const STARTING_CASH_FEN: i64 = 20_000_000_000;

/// The ten trading days (Monday 10 to Friday 21 January 2022, after the demo's 2021 pollutant
/// rights) and the day's price of the CN-SH
/// book, fen per t (each within the +/-10 % band of the previous close).
pub const TRADING_DAYS: [(&str, i64); 10] = [
    ("2022-01-10", 8000),
    ("2022-01-11", 8120),
    ("2022-01-12", 8050),
    ("2022-01-13", 8230),
    ("2022-01-14", 8400),
    ("2022-01-17", 8310),
    ("2022-01-18", 8520),
    ("2022-01-19", 8680),
    ("2022-01-20", 8590),
    ("2022-01-21", 8750),
];

/// The first business day after the seeded activity: a server demo's clock starts here.
pub const NEXT_BUSINESS_DAY: &str = "2022-01-24";

/// The Zhejiang auction of 2020 allowances.
pub const AUCTION: &str = "CN-ZJ-2022-01";

/// The demo users: username, role (yrd-auth JSON), what they do. Their password is
/// [`DEMO_PASSWORD`] (or `YRD_DEMO_PASSWORD`), their authenticator secret is printed.
pub const USERS: [(&str, &str); 10] = [
    (
        "admin-sh",
        r#"{"role":"registry_administrator","jurisdiction":"CN-SH"}"#,
    ),
    (
        "admin-js",
        r#"{"role":"registry_administrator","jurisdiction":"CN-JS"}"#,
    ),
    (
        "admin-zj",
        r#"{"role":"registry_administrator","jurisdiction":"CN-ZJ"}"#,
    ),
    (
        "admin-ah",
        r#"{"role":"registry_administrator","jurisdiction":"CN-AH"}"#,
    ),
    (
        "alpha-trader",
        r#"{"role":"account_representative","accounts":["TR-SH-ALPHA"]}"#,
    ),
    (
        "alpha-approver",
        r#"{"role":"additional_authorised_representative","accounts":["TR-SH-ALPHA"]}"#,
    ),
    (
        "beta-trader",
        r#"{"role":"account_representative","accounts":["TR-JS-BETA"]}"#,
    ),
    (
        "beta-approver",
        r#"{"role":"additional_authorised_representative","accounts":["TR-JS-BETA"]}"#,
    ),
    (
        "verifier-sh",
        r#"{"role":"verifier","installations":["CN-SH-POWER-001","CN-SH-POWER-002"]}"#,
    ),
    ("auditor", r#"{"role":"auditor"}"#),
];

/// The demo users' password unless `YRD_DEMO_PASSWORD` gives another: a demonstration
/// credential, printed, never for a registry that holds anything real.
pub const DEMO_PASSWORD: &str = "yrd-demo-password";

/// Applies the market activity to a registry that holds the demo (`yrd-ets demo`), creates the
/// demo users, and prints what a visitor of the service needs.
pub fn seed<S: JournalStore>(registry: &mut Registry<S>, data_dir: &Path) -> Result<()> {
    let submissions = market_activity()?;
    let applied = submit_all(registry, &submissions, 1_000, "market")?.applied;
    println!(
        "\nService demo: {applied} transactions of market activity (4 trading firms, 10 trading days \
         10-21 January 2022, auction {AUCTION}); TR-SH-ALPHA trusts TR-JS-BETA."
    );
    create_users(data_dir)?;
    println!(
        "Serve it with: yrd-ets serve --data-dir {} --clock-start {NEXT_BUSINESS_DAY}T10:00:00\n\
         and open http://127.0.0.1:8080/ (the clock starts on Monday 24 January 2022, 10:00).",
        data_dir.display()
    );
    Ok(())
}

/// Creates the demo users in `<data_dir>/users.db` with the demo password and a fixed
/// authenticator secret each (printed: add it to an authenticator app, or compute the code).
fn create_users(data_dir: &Path) -> Result<()> {
    let password = std::env::var("YRD_DEMO_PASSWORD").unwrap_or_else(|_| DEMO_PASSWORD.into());
    let auth = crate::user::open(data_dir)?;
    println!(
        "Demo users (password {password:?} - demonstration only), with their TOTP secrets (base32):"
    );
    for (username, role) in USERS {
        let role: yrd_auth::Role = serde_json::from_str(role).context("demo role")?;
        auth.provision_user(
            username,
            &yrd_auth::Password::new(password.clone()),
            vec![role],
        )?;
        let enrolment = auth.provision_totp(username, Some(demo_secret(username)))?;
        println!("  {username:<16} {}", enrolment.secret_base32);
    }
    Ok(())
}

/// A demo user's fixed 20-byte TOTP secret: the username, padded. Known by design - so that the
/// browser tests can compute the codes - and therefore only for the demonstration.
pub fn demo_secret(username: &str) -> Vec<u8> {
    format!("{username:-<20}").into_bytes()[..20].to_vec()
}

/// Every submission of the market activity, in order.
fn market_activity() -> Result<Vec<Submission>> {
    let mut out = Vec::new();
    let mut push = |id: String, date: &str, command: Value| {
        out.push(json!({"id": id, "date": date, "command": command}));
    };
    let day0 = TRADING_DAYS[0].0;
    for (account, jurisdiction, holder, seller, quantity) in TRADERS {
        push(
            format!("service-demo/open/{account}"),
            day0,
            json!({"type": "open_account", "account": account, "kind": "trading",
                   "jurisdiction": jurisdiction, "holder_name": holder}),
        );
        push(
            format!("service-demo/cash/{account}"),
            day0,
            json!({"type": "deposit", "account": account, "amount_minor": STARTING_CASH_FEN}),
        );
        push(
            format!("service-demo/buy-in/{account}"),
            day0,
            json!({"type": "transfer", "from": seller, "to": account,
                   "class": format!("{jurisdiction}/CEA/2020"), "quantity": quantity}),
        );
    }
    auction_submissions(&mut push);
    // Alpha's trusted account list names Beta: proposed and approved on the first day, active
    // four working days later (EU Reg. 2019/1122 Art. 23).
    push(
        "service-demo/trust/ALPHA-BETA/propose".into(),
        day0,
        json!({"type": "propose_trusted_account", "account": "TR-SH-ALPHA", "trusted": "TR-JS-BETA",
               "initiator": "alpha-trader", "at": format!("{day0}T09:00:00")}),
    );
    push(
        "service-demo/trust/ALPHA-BETA/approve".into(),
        day0,
        json!({"type": "approve_trusted_account", "account": "TR-SH-ALPHA", "trusted": "TR-JS-BETA",
               "approver": "alpha-approver", "at": format!("{day0}T09:05:00")}),
    );
    for (day, (date, price)) in TRADING_DAYS.iter().enumerate() {
        for (n, command) in day_orders(day, *price).into_iter().enumerate() {
            push(format!("service-demo/order/{date}/{n}"), date, command);
        }
    }
    let last = TRADING_DAYS[TRADING_DAYS.len() - 1];
    for (n, command) in resting_book(last.1).into_iter().enumerate() {
        push(format!("service-demo/book/{n}"), last.0, command);
    }
    // The registry's calendar never runs backwards: order by date, keeping the order within a day.
    out.sort_by(|a, b| a["date"].as_str().cmp(&b["date"].as_str()));
    out.into_iter()
        .map(|v| serde_json::from_value(v).context("service demo submission"))
        .collect()
}

/// An order of the seeded activity.
struct Order<'a> {
    reference: String,
    account: &'a str,
    class: &'a str,
    side: &'a str,
    price: i64,
    quantity: u64,
    tif: &'a str,
    time: &'a str,
}

impl Order<'_> {
    /// The PlaceOrder command as JSON.
    fn command(&self) -> Value {
        json!({"type": "place_order", "order": self.reference, "account": self.account,
               "class": self.class, "side": self.side, "price_minor": self.price,
               "quantity": self.quantity, "time_in_force": self.tif, "time": self.time})
    }
}

/// One day on the CN-SH and CN-JS books: Alpha offers CN-SH CEA at the day's price and Beta and
/// Gamma take it; Beta offers CN-JS CEA 2 % below and Delta takes it (times in order: the
/// exchange's clock never runs backwards within a day). Day orders: what is left
/// lapses at the close.
fn day_orders(day: usize, price: i64) -> Vec<Value> {
    let sh = "CN-SH/CEA/2020";
    let js = "CN-JS/CEA/2020";
    let js_price = price * 98 / 100;
    let size = 10_000 + 1_500 * day as u64;
    vec![
        Order {
            reference: format!("ALPHA-S-{day}"),
            account: "TR-SH-ALPHA",
            class: sh,
            side: "sell",
            price,
            quantity: size,
            tif: "day",
            time: "09:45:00",
        }
        .command(),
        Order {
            reference: format!("BETA-B-{day}"),
            account: "TR-JS-BETA",
            class: sh,
            side: "buy",
            price,
            quantity: size / 2,
            tif: "day",
            time: "10:05:00",
        }
        .command(),
        Order {
            reference: format!("BETA-S-{day}"),
            account: "TR-JS-BETA",
            class: js,
            side: "sell",
            price: js_price,
            quantity: size / 2,
            tif: "day",
            time: "10:30:00",
        }
        .command(),
        Order {
            reference: format!("GAMMA-B-{day}"),
            account: "TR-ZJ-GAMMA",
            class: sh,
            side: "buy",
            price,
            quantity: size / 4,
            tif: "ioc",
            time: "13:20:00",
        }
        .command(),
        Order {
            reference: format!("DELTA-B-{day}"),
            account: "TR-AH-DELTA",
            class: js,
            side: "buy",
            price: js_price,
            quantity: size / 3,
            tif: "ioc",
            time: "14:10:00",
        }
        .command(),
    ]
}

/// Good-till-cancelled orders left on the CN-SH book after the last day, around its close.
fn resting_book(close: i64) -> Vec<Value> {
    let sh = "CN-SH/CEA/2020";
    let mut orders = Vec::new();
    for (n, (offset, quantity)) in [(10, 3_000), (30, 5_000), (60, 8_000), (100, 12_000)]
        .into_iter()
        .enumerate()
    {
        orders.push(
            Order {
                reference: format!("ALPHA-ASK-{n}"),
                account: "TR-SH-ALPHA",
                class: sh,
                side: "sell",
                price: close + offset,
                quantity,
                tif: "gtc",
                time: "14:40:00",
            }
            .command(),
        );
        let bidder = if n % 2 == 0 {
            "TR-ZJ-GAMMA"
        } else {
            "TR-AH-DELTA"
        };
        orders.push(
            Order {
                reference: format!("BID-{n}"),
                account: bidder,
                class: sh,
                side: "buy",
                price: close - offset - 10,
                quantity,
                tif: "gtc",
                time: "14:40:00",
            }
            .command(),
        );
    }
    orders
}

/// A Zhejiang auction of 1,000,000 t of CN-ZJ CEA 2020 (reserve CNY 60.00, lots of 1,000 t,
/// 30 % purchase limit per bidder group), bid by all four firms, cleared on 17 January 2022.
fn auction_submissions(push: &mut impl FnMut(String, &str, Value)) {
    push(
        format!("service-demo/{AUCTION}/create"),
        "2022-01-10",
        json!({"type": "create_auction", "auction": AUCTION, "class": "CN-ZJ/CEA/2020",
               "closes": "2022-01-14",
               "rules": {"supply": 1_000_000, "lot": 1_000, "reserve_price_minor": 6000,
                         "purchase_limit_pct": 30, "tie": "pro_rata", "seed": 20220117,
                         "under_subscription": "sell_bids", "ccr": null, "ecr": null}}),
    );
    let bids: [(&str, &[(i64, u64)]); 4] = [
        ("TR-SH-ALPHA", &[(7450, 150_000), (7200, 150_000)]),
        ("TR-JS-BETA", &[(7600, 200_000), (7100, 100_000)]),
        ("TR-ZJ-GAMMA", &[(7350, 250_000), (6900, 50_000)]),
        ("TR-AH-DELTA", &[(7250, 200_000), (6500, 100_000)]),
    ];
    for (account, steps) in bids {
        push(
            format!("service-demo/{AUCTION}/qualify/{account}"),
            "2022-01-10",
            json!({"type": "qualify_bidder", "auction": AUCTION, "account": account,
                   "group": account}),
        );
        for (n, (price, quantity)) in steps.iter().enumerate() {
            push(
                format!("service-demo/{AUCTION}/bid/{account}/{n}"),
                "2022-01-11",
                json!({"type": "submit_bid", "auction": AUCTION, "bid": format!("{account}-{n}"),
                       "account": account, "price_minor": price, "quantity": quantity}),
            );
        }
    }
    push(
        format!("service-demo/{AUCTION}/clear"),
        "2022-01-17",
        json!({"type": "clear_auction", "auction": AUCTION}),
    );
}
