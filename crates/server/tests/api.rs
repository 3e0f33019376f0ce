//! The HTTP API against a real registry in a temporary data directory: every endpoint with values
//! checked against the set-up, every error case, idempotent replay and conflict, pagination, the
//! live stream, the auth hook, and a real server on an ephemeral port shut down gracefully.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower::ServiceExt;
use yrd_auth::{Auth, AuthConfig, ManualClock, Password, Role, Timestamp, UserStore};
use yrd_registry::{Registry, Submission};
use yrd_server::{App, ServeArgs, ServerConfig};
use yrd_storage::SqliteStore;

const CLASS: &str = "CN-SH/CEA/2019";
const CLASS_PATH: &str = "CN-SH%2FCEA%2F2019";
const AREAS: [&str; 4] = ["CN-SH-QP", "CN-JS-SZ-WJ", "CN-ZJ-JX-JS", "CN-JS-SZ-KS"];

fn setup_commands() -> Vec<(String, Value)> {
    let mut c: Vec<(String, Value)> = Vec::new();
    let open = |c: &mut Vec<(String, Value)>, account: &str, kind: &str, j: &str| {
        c.push((
            format!("s/open/{account}"),
            json!({"type": "open_account", "account": account, "kind": kind, "jurisdiction": j,
                   "holder_name": format!("Holder of {account}")}),
        ));
    };
    for i in 1..=5 {
        open(
            &mut c,
            &format!("OHA-SH-00{i}"),
            "operator_holding",
            "CN-SH",
        );
    }
    for i in 1..=2 {
        open(
            &mut c,
            &format!("OHA-JS-00{i}"),
            "operator_holding",
            "CN-JS",
        );
    }
    open(&mut c, "TR-SH-001", "trading", "CN-SH");
    open(&mut c, "TR-SH-002", "trading", "CN-SH");
    open(&mut c, "TR-JS-001", "trading", "CN-JS");
    let installations: Vec<(String, String, u64)> = (1..=5)
        .map(|i| {
            (
                format!("INST-SH-00{i}"),
                format!("OHA-SH-00{i}"),
                if i == 1 { 1_000 } else { 100 },
            )
        })
        .chain((1..=2).map(|i| (format!("INST-JS-00{i}"), format!("OHA-JS-00{i}"), 100)))
        .collect();
    for (inst, account, _) in &installations {
        c.push((
            format!("s/register/{inst}"),
            json!({"type": "register_installation", "installation": inst, "account": account,
                   "name": format!("Plant {inst}"), "sector": "POWER", "first_year": 2019}),
        ));
    }
    for (j, q) in [("CN-SH", 10_000), ("CN-JS", 1_000)] {
        c.push((
            format!("s/issue/{j}"),
            json!({"type": "issue", "jurisdiction": j, "unit_type": "CEA", "vintage": 2019, "quantity": q}),
        ));
    }
    for (inst, _, q) in &installations {
        c.push((
            format!("s/allocate/{inst}"),
            json!({"type": "allocate", "installation": inst, "unit_type": "CEA", "vintage": 2019, "quantity": q}),
        ));
    }
    let transfer = |from: &str, to: &str, q: u64| json!({"type": "transfer", "from": from, "to": to, "class": CLASS, "quantity": q});
    c.push(("s/t1".into(), transfer("CN-SH-GOV", "CN-SH-AUCTION", 5_000)));
    c.push(("s/t2".into(), transfer("CN-SH-AUCTION", "TR-SH-001", 2_000)));
    c.push(("s/t3".into(), transfer("TR-SH-001", "TR-JS-001", 50)));
    c.push((
        "s/deposit".into(),
        json!({"type": "deposit", "account": "TR-SH-002", "amount_minor": 10_000_000}),
    ));
    c.push((
        "s/auction".into(),
        json!({"type": "create_auction", "auction": "AUC-1", "class": CLASS,
               "rules": {"supply": 3000, "lot": 1000, "reserve_price_minor": 7000,
                         "purchase_limit_pct": null, "tie": "random", "seed": 42,
                         "under_subscription": "sell_bids", "ccr": null, "ecr": null},
               "closes": "2024-03-10"}),
    ));
    c.push((
        "s/qualify".into(),
        json!({"type": "qualify_bidder", "auction": "AUC-1", "account": "TR-SH-002", "group": "G1"}),
    ));
    c.push((
        "s/call-market".into(),
        json!({"type": "create_call_market", "market": "CM-1", "operator": "CN-SH",
               "pollutant": "COD", "vintage": 2024, "areas": AREAS,
               "receptors": ["DIANSHAN-LAKE-COD", "JISHUIGANG-COD"], "lot": 1000,
               "closes": "2024-03-29"}),
    ));
    c
}

struct Fixture {
    dir: tempfile::TempDir,
    app: App,
    /// The router as the test superuser `root` (every request gets root's bearer token unless it
    /// has an `Authorization` header): administrator of every jurisdiction, representative of
    /// every set-up account, auditor; second factor passed at [`T0`].
    router: Router,
    /// The router without any credentials added.
    raw: Router,
    /// The authentication service's clock.
    clock: Arc<ManualClock>,
    /// Sequence number after the set-up.
    setup_seq: u64,
    /// root's session token.
    root: String,
}

/// Every test user's password.
const PASSWORD: &str = "correct horse battery staple";
/// Every test user's TOTP secret (the RFC 6238 test key).
const SECRET: &[u8] = b"12345678901234567890";
/// The authentication clock's start: 2024-03-01T00:00:00Z.
const T0: i64 = 1_709_251_200;
/// root's user id: the prefix of its transaction ids.
const ROOT: &str = "1:";

/// The one-time password of [`SECRET`] at `clock`'s time.
fn otp(clock: &ManualClock) -> String {
    use yrd_auth::Clock;
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, 30, SECRET.to_vec()).unwrap();
    totp.generate(clock.now().unix_seconds() as u64)
}

fn set_up_accounts() -> Vec<String> {
    setup_commands()
        .iter()
        .filter(|(_, c)| c["type"] == "open_account")
        .map(|(_, c)| c["account"].as_str().unwrap().to_string())
        .collect()
}

fn accounts(ids: &[&str]) -> std::collections::BTreeSet<yrd_types::AccountId> {
    ids.iter()
        .map(|a| yrd_types::AccountId::new(*a).unwrap())
        .collect()
}

/// The user store of `dir` with a manual clock, cheap hashing, and `root` (see [`Fixture`])
/// signed in with the second factor; returns root's token.
fn test_auth(dir: &std::path::Path) -> (Arc<Auth>, Arc<ManualClock>, String) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    let auth = Arc::new(
        Auth::new(
            UserStore::open(dir).unwrap(),
            clock.clone(),
            AuthConfig::insecure_for_tests(),
        )
        .unwrap(),
    );
    let mut roles: Vec<Role> = ["CN-SH", "CN-JS", "CN-ZJ", "CN-AH"]
        .iter()
        .map(|j| Role::RegistryAdministrator {
            jurisdiction: yrd_types::JurisdictionCode::new(*j).unwrap(),
        })
        .collect();
    let all = set_up_accounts();
    roles.push(Role::AccountRepresentative {
        accounts: accounts(&all.iter().map(String::as_str).collect::<Vec<_>>()),
    });
    roles.push(Role::Auditor);
    let id = auth
        .provision_user("root", &Password::new(PASSWORD), roles)
        .unwrap();
    assert_eq!(format!("{}:", id.0), ROOT);
    auth.provision_totp("root", Some(SECRET.to_vec())).unwrap();
    let signed = auth
        .sign_in("root", &Password::new(PASSWORD), "test")
        .unwrap();
    auth.verify_second_factor(&signed.token, &otp(&clock), "test")
        .unwrap();
    (auth, clock, signed.token.as_str().to_string())
}

/// `router` with `Authorization: Bearer <token>` added to requests that have none.
fn as_bearer(router: &Router, token: &str) -> Router {
    let value = format!("Bearer {token}");
    router.clone().layer(axum::middleware::map_request(
        move |mut request: Request<Body>| {
            let value = value.clone();
            async move {
                if !request.headers().contains_key(header::AUTHORIZATION) {
                    request
                        .headers_mut()
                        .insert(header::AUTHORIZATION, value.parse().unwrap());
                }
                request
            }
        },
    ))
}

impl Fixture {
    async fn stop(self) -> tempfile::TempDir {
        let stats = self.app.writer_stats();
        assert_eq!(stats.snapshot_mismatches.load(Ordering::Relaxed), 0);
        self.app.shutdown().await;
        self.dir
    }
}

/// The service configuration of the tests: every snapshot checked against the registry.
fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = ServerConfig::for_data_dir(dir);
    config.writer.verify_snapshots = true;
    // The registry's clock on the tests' trading day, at the opening of their orders.
    // (10:05: the tests' own order times, 10:00-10:02, are within the minutes an exchange
    // command's time may lag the clock.)
    config.clock_start = NaiveDate::from_ymd_opt(2024, 3, 4)
        .unwrap()
        .and_hms_opt(10, 5, 0);
    config
}

/// A registry (built-in `yrd` market, created 2024-03-01) with the set-up above, served.
fn registry_dir() -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().unwrap();
    let (_, yrd) = yrd_config::MarketConfig::builtin("yrd").unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let mut registry =
        Registry::create(SqliteStore::open(dir.path()).unwrap(), yrd, "yrd", date).unwrap();
    let submissions: Vec<Submission> = setup_commands()
        .into_iter()
        .map(|(id, command)| {
            serde_json::from_value(json!({"id": id, "date": "2024-03-01", "command": command}))
                .unwrap()
        })
        .collect();
    for (result, s) in registry
        .submit_batch(&submissions)
        .unwrap()
        .into_iter()
        .zip(&submissions)
    {
        if let Err(e) = result {
            panic!("set-up {}: {e}", s.id);
        }
    }
    (dir, registry.state().last_seq())
}

fn fixture() -> Fixture {
    let (dir, setup_seq) = registry_dir();
    let (auth, clock, root) = test_auth(dir.path());
    let app = App::open_with_auth(&config(dir.path()), auth).unwrap();
    let raw = app.router();
    let router = as_bearer(&raw, &root);
    Fixture {
        dir,
        app,
        router,
        raw,
        clock,
        setup_seq,
        root,
    }
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = if content_type.starts_with("application/json") {
        serde_json::from_slice(&bytes).unwrap()
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    (status, value)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_raw(
    router: &Router,
    key: Option<&str>,
    content_type: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut request = Request::post("/v1/transactions").header(header::CONTENT_TYPE, content_type);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    send(router, request.body(body.into()).unwrap()).await
}

async fn post(router: &Router, key: &str, date: &str, command: Value) -> (StatusCode, Value) {
    let body = json!({"date": date, "command": command}).to_string();
    post_raw(router, Some(key), "application/json", body).await
}

fn order(order: &str, account: &str, side: &str, price: i64, quantity: u64, time: &str) -> Value {
    json!({"type": "place_order", "order": order, "account": account, "class": CLASS,
           "side": side, "price_minor": price, "quantity": quantity,
           "time_in_force": "gtc", "time": time})
}

/// Sell 300 at 81.00 (TR-SH-001), buy 120 at 81.00 (TR-SH-002): one trade of 120.
async fn cross(router: &Router) {
    let (s, body) = post(
        router,
        "o/S1",
        "2024-03-04",
        order("S1", "TR-SH-001", "sell", 8_100, 300, "10:00:00"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = post(
        router,
        "o/B1",
        "2024-03-04",
        order("B1", "TR-SH-002", "buy", 8_100, 120, "10:01:00"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert!(
        body["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["effect"] == "traded"),
        "{body}"
    );
}

fn assert_error(
    status: StatusCode,
    body: &Value,
    want: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(status, want, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    match field {
        Some(f) => assert_eq!(error["field"], f, "{body}"),
        None => assert!(
            error.get("field").is_some(),
            "field is always present: {body}"
        ),
    }
}

#[tokio::test]
async fn health_and_ready() {
    let f = fixture();
    let (s, body) = get(&f.router, "/v1/health").await;
    assert_eq!((s, body), (StatusCode::OK, json!({"status": "ok"})));
    let (s, body) = get(&f.router, "/v1/ready").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["ready"], true);
    assert_eq!(body["market"], "yrd");
    assert_eq!(body["last_seq"], f.setup_seq);
    // 4 genesis transactions (one per jurisdiction) + the set-up.
    assert_eq!(f.setup_seq, 4 + setup_commands().len() as u64);
    assert_eq!(body["business_date"], "2024-03-01");
    f.app.begin_shutdown();
    let (s, body) = get(&f.router, "/v1/ready").await;
    assert_error(
        s,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        None,
    );
    f.app.shutdown().await;
}

#[tokio::test]
async fn holdings_after_issue_and_allocate() {
    let f = fixture();
    let (s, body) = get(&f.router, "/v1/accounts/OHA-SH-001/holdings").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"account": "OHA-SH-001", "holdings": [
            {"class": CLASS, "quantity": 1000, "blocks": [{"first": 1, "last": 1000}]}]})
    );
    // The government account keeps the rest: 10,000 - 1,000 - 4 x 100 - 5,000 to the auction account.
    let (_, gov) = get(&f.router, "/v1/accounts/CN-SH-GOV/holdings").await;
    assert_eq!(gov["holdings"][0]["quantity"], 3_600);
    let (_, tr) = get(&f.router, "/v1/accounts/TR-SH-001/holdings").await;
    assert_eq!(tr["holdings"][0]["quantity"], 1_950);
    let (s, body) = get(&f.router, "/v1/accounts/NOBODY/holdings").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_ACCOUNT",
        Some("id"),
    );
    let (s, body) = get(&f.router, "/v1/accounts/no%20body/holdings").await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_PATH",
        Some("id"),
    );
    f.stop().await;
}

#[tokio::test]
async fn cash_of_a_participant() {
    let f = fixture();
    let (s, body) = get(&f.router, "/v1/accounts/TR-SH-002/cash").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"account": "TR-SH-002", "currency": "CNY", "available": 10_000_000, "reserved": 0,
               "pending": [], "date": "2024-03-01", "available_on": 10_000_000, "total": 10_000_000})
    );
    let (s, body) = get(&f.router, "/v1/accounts/TR-SH-002/cash?date=2024-03-05").await;
    assert_eq!((s, &body["date"]), (StatusCode::OK, &json!("2024-03-05")));
    let (s, body) = get(&f.router, "/v1/accounts/TR-SH-002/cash?date=yesterday").await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        Some("date"),
    );
    let (s, body) = get(&f.router, "/v1/accounts/NOBODY/cash").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_ACCOUNT",
        Some("id"),
    );
    f.stop().await;
}

#[tokio::test]
async fn orders_market_summary_book_and_trades_after_a_cross() {
    let f = fixture();
    // Before any order: the class is tradable, its book empty; the summary lists no market.
    let (s, body) = get(&f.router, &format!("/v1/market/{CLASS_PATH}/book")).await;
    assert_eq!(
        (s, body),
        (
            StatusCode::OK,
            json!({"class": CLASS, "bids": [], "asks": []})
        )
    );
    let (_, body) = get(&f.router, "/v1/market/summary").await;
    assert_eq!(body["instruments"], json!([]));
    cross(&f.router).await;
    let (s, body) = post(
        &f.router,
        "o/B2",
        "2024-03-04",
        order("B2", "TR-SH-002", "buy", 8_000, 100, "10:02:00"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    // Snapshots after the first are the spare copy brought up to date (and checked).
    assert!(
        f.app
            .writer_stats()
            .snapshots_caught_up
            .load(Ordering::Relaxed)
            >= 2
    );
    let (s, body) = get(&f.router, "/v1/accounts/TR-SH-001/orders").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"account": "TR-SH-001", "orders": [
            {"order": "S1", "class": CLASS, "side": "sell", "price": 8100, "remaining": 180}]})
    );
    let (_, body) = get(&f.router, "/v1/accounts/TR-SH-002/orders").await;
    assert_eq!(body["orders"][0]["order"], "B2");
    let (s, body) = get(&f.router, "/v1/accounts/NOBODY/orders").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_ACCOUNT",
        Some("id"),
    );

    let (s, body) = get(&f.router, "/v1/market/summary").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["trading_date"], "2024-03-04");
    let m = &body["instruments"][0];
    assert_eq!(m["class"], CLASS);
    assert_eq!(m["previous_close"], 8_000);
    assert_eq!(
        m["best_bid"],
        json!({"price": 8000, "volume": 100, "orders": 1})
    );
    assert_eq!(
        m["best_ask"],
        json!({"price": 8100, "volume": 180, "orders": 1})
    );
    assert_eq!(
        (&m["last"], &m["volume"], &m["turnover"], &m["trades"]),
        (&json!(8100), &json!(120), &json!(972_000), &json!(1))
    );

    let (s, body) = get(&f.router, &format!("/v1/market/{CLASS_PATH}/book?depth=5")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"class": CLASS, "bids": [{"price": 8000, "volume": 100, "orders": 1}],
               "asks": [{"price": 8100, "volume": 180, "orders": 1}]})
    );
    let (s, body) = get(
        &f.router,
        &format!("/v1/market/{CLASS_PATH}/trades?limit=10"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"class": CLASS, "trades": [{"date": "2024-03-04", "time": "10:01:00", "price": 8100,
               "quantity": 120, "aggressor": "buy"}]})
    );
    // The buyer paid 972,000 + fee; its B2 reservation is held.
    let (_, cash) = get(&f.router, "/v1/accounts/TR-SH-002/cash").await;
    assert!(cash["reserved"].as_i64().unwrap() >= 800_000, "{cash}");
    assert_eq!(cash["date"], "2024-03-04");

    // Errors: unknown instrument, malformed class, depth and limit out of range.
    let (s, body) = get(&f.router, "/v1/market/CN-SH%2FCEA%2F2031/book").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_INSTRUMENT",
        Some("class"),
    );
    let (s, body) = get(&f.router, "/v1/market/CN-SH%2FCEA%2F2031/trades").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_INSTRUMENT",
        Some("class"),
    );
    let (s, body) = get(&f.router, "/v1/market/nonsense/book").await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_PATH",
        Some("class"),
    );
    let (s, body) = get(&f.router, &format!("/v1/market/{CLASS_PATH}/book?depth=0")).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        Some("depth"),
    );
    let (s, body) = get(
        &f.router,
        &format!("/v1/market/{CLASS_PATH}/trades?limit=1001"),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        Some("limit"),
    );
    let (s, body) = get(
        &f.router,
        &format!("/v1/market/{CLASS_PATH}/trades?limit=-1"),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        Some("limit"),
    );
    f.stop().await;
}

#[tokio::test]
async fn compliance_is_filtered_and_paginated() {
    let f = fixture();
    let page = |q: &str| format!("/v1/compliance?{q}");
    let (s, body) = get(&f.router, &page("year=2019&per_page=3")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            &body["page"],
            &body["per_page"],
            &body["total"],
            &body["total_pages"],
            &body["next_page"]
        ),
        (&json!(1), &json!(3), &json!(7), &json!(3), &json!(2))
    );
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    // Ordered by jurisdiction, installation: CN-JS first.
    assert_eq!(items[0]["installation"], "INST-JS-001");
    assert_eq!(items[0]["allocated"], 100);
    assert_eq!(items[0]["status"], Value::Null);
    let (_, body) = get(&f.router, &page("year=2019&per_page=3&page=2")).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_eq!(body["next_page"], 3);
    let (_, body) = get(&f.router, &page("year=2019&per_page=3&page=3")).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["installation"], "INST-SH-005");
    assert_eq!(body["next_page"], Value::Null);
    let (_, body) = get(&f.router, &page("year=2019&per_page=3&page=4")).await;
    assert_eq!(
        (body["items"].as_array().unwrap().len(), &body["next_page"]),
        (0, &Value::Null)
    );
    // Defaults: page 1 of 100.
    let (_, body) = get(&f.router, "/v1/compliance").await;
    assert_eq!(
        (&body["total"], &body["per_page"], &body["total_pages"]),
        (&json!(7), &json!(100), &json!(1))
    );
    let (_, body) = get(&f.router, &page("jurisdiction=CN-JS")).await;
    assert_eq!(body["total"], 2);
    let (_, body) = get(&f.router, &page("year=2020")).await;
    assert_eq!(
        (&body["total"], &body["total_pages"], &body["next_page"]),
        (&json!(0), &json!(0), &Value::Null)
    );
    let (_, body) = get(
        &f.router,
        &page("jurisdiction=CN-SH&year=2019&per_page=1&page=5"),
    )
    .await;
    assert_eq!(body["items"][0]["installation"], "INST-SH-005");
    // Invalid parameters.
    for (q, field) in [
        ("per_page=0", "per_page"),
        ("per_page=1001", "per_page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("year=twenty", "year"),
        ("jurisdiction=cn", "jurisdiction"),
        ("perpage=3", "perpage"),
    ] {
        let (s, body) = get(&f.router, &page(q)).await;
        assert_error(
            s,
            &body,
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            Some(field),
        );
    }
    let (s, body) = get(&f.router, &page("jurisdiction=CN-XX")).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "UNKNOWN_JURISDICTION",
        Some("jurisdiction"),
    );
    f.stop().await;
}

#[tokio::test]
async fn supply_and_net_flows() {
    let f = fixture();
    let (s, body) = get(&f.router, "/v1/supply").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"classes": [
            {"jurisdiction": "CN-JS", "unit_type": "CEA", "vintage": 2019, "issued": 1000, "held": 1000,
             "surrendered": 0, "cancelled": 0, "deleted": 0},
            {"jurisdiction": "CN-SH", "unit_type": "CEA", "vintage": 2019, "issued": 10000, "held": 10000,
             "surrendered": 0, "cancelled": 0, "deleted": 0}]})
    );
    let (s, body) = get(&f.router, "/v1/net-flows").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body["flows"],
        json!([{"issuer": "CN-SH", "user": "CN-JS", "unit_type": "CEA", "held": 50, "surrendered": 0, "cancelled": 0}])
    );
    assert_eq!(
        body["pairs"],
        json!([{"first": "CN-JS", "second": "CN-SH", "unit_type": "CEA", "first_to_second": 0,
                "second_to_first": 50, "net": -50}])
    );
    assert_eq!(body["areas"], json!([]));
    f.stop().await;
}

#[tokio::test]
async fn auctions_and_call_markets() {
    let f = fixture();
    let (s, body) = get(&f.router, "/v1/auctions/AUC-1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"auction": "AUC-1", "status": "open", "class": CLASS, "closes": "2024-03-10",
               "supply": 3000, "lot": 1000, "reserve_price_minor": 7000, "purchase_limit_pct": null,
               "qualified_bidders": 1, "sealed_bids": 0, "result": null})
    );
    let (s, body) = get(&f.router, "/v1/auctions/AUC-9").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_AUCTION",
        Some("ref"),
    );
    let (s, body) = get(&f.router, "/v1/auctions/bad%20ref").await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_PATH",
        Some("ref"),
    );

    let (s, body) = get(&f.router, "/v1/call-markets/CM-1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"market": "CM-1", "status": "open", "operator": "CN-SH", "pollutant": "COD",
               "vintage": 2024, "areas": AREAS,
               "receptors": ["DIANSHAN-LAKE-COD", "JISHUIGANG-COD"], "lot": 1000,
               "closes": "2024-03-29", "steps": 0, "result": null})
    );
    let (s, body) = get(&f.router, "/v1/call-markets/CM-9").await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_CALL_MARKET",
        Some("ref"),
    );
    f.stop().await;
}

/// An administrative transfer between the registry's own accounts (government holding to
/// reserve; a direct transfer out of a holder's account is not possible over HTTP).
fn transfer(q: u64) -> Value {
    json!({"type": "transfer", "from": "CN-SH-GOV", "to": "CN-SH-RESERVE", "class": CLASS, "quantity": q})
}

#[tokio::test]
async fn transaction_receipt_replay_and_conflict() {
    let f = fixture();
    let (s, first) = post(&f.router, "t/1", "2024-03-04", transfer(400)).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["tx_id"], format!("{ROOT}t/1"));
    assert_eq!(first["seq"], f.setup_seq + 1);
    assert_eq!(first["duplicate"], false);
    assert_eq!(
        first["effects"],
        json!([{"effect": "moved", "from": "CN-SH-GOV", "to": "CN-SH-RESERVE", "class": CLASS,
                "ranges": [[6401, 6800]]}])
    );
    // Read your write.
    let (_, h) = get(&f.router, "/v1/accounts/CN-SH-RESERVE/holdings").await;
    assert_eq!(h["holdings"][0]["quantity"], 400);

    // Same key, same body: the original receipt, 200, nothing new.
    let (s, again) = post(&f.router, "t/1", "2024-03-04", transfer(400)).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["seq"], first["seq"]);
    assert_eq!(again["effects"], first["effects"]);
    assert_eq!(again["duplicate"], true);
    let (_, h) = get(&f.router, "/v1/accounts/CN-SH-RESERVE/holdings").await;
    assert_eq!(h["holdings"][0]["quantity"], 400);

    // Same key, another body: 409 TRANSACTION_ID_REUSED.
    let (s, body) = post(&f.router, "t/1", "2024-03-04", transfer(401)).await;
    assert_error(
        s,
        &body,
        StatusCode::CONFLICT,
        "TRANSACTION_ID_REUSED",
        Some("Idempotency-Key"),
    );
    assert_eq!(
        body["error"]["violations"][0]["code"],
        "TRANSACTION_ID_REUSED"
    );
    let (_, ready) = get(&f.router, "/v1/ready").await;
    assert_eq!(ready["last_seq"], f.setup_seq + 1);

    // A replay after a restart still finds the original receipt (read back from the journal).
    let root = f.root.clone();
    let dir = f.stop().await;
    // The same user store and the same time: root's session is still open.
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    let auth = Auth::new(
        UserStore::open(dir.path()).unwrap(),
        clock,
        AuthConfig::insecure_for_tests(),
    )
    .unwrap();
    let app = App::open_with_auth(&config(dir.path()), Arc::new(auth)).unwrap();
    let router = as_bearer(&app.router(), &root);
    let (s, after) = post(&router, "t/1", "2024-03-04", transfer(400)).await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert_eq!(
        (&after["seq"], &after["effects"]),
        (&first["seq"], &first["effects"])
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_transaction_is_422_with_every_violation() {
    let f = fixture();
    let (s, body) = post(
        &f.router,
        "t/bad",
        "2024-03-04",
        json!({"type": "transfer", "from": "CN-SH-GOV", "to": "NOBODY", "class": CLASS, "quantity": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let violations = body["error"]["violations"].as_array().unwrap();
    assert!(violations.len() >= 2, "{body}");
    let codes: Vec<&str> = violations
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"UNKNOWN_ACCOUNT") && codes.contains(&"ZERO_QUANTITY"),
        "{codes:?}"
    );
    assert_eq!(body["error"]["code"], codes[0]);
    assert!(
        body["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("command.")
    );
    // Too much: the rule's message names the numbers.
    let (s, body) = post(&f.router, "t/much", "2024-03-04", transfer(999_999_999_999)).await;
    assert_error(
        s,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_HOLDINGS",
        Some("command.quantity"),
    );
    assert!(
        body["error"]["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("999999999999")
    );
    // Nothing was journaled.
    let (_, ready) = get(&f.router, "/v1/ready").await;
    assert_eq!(ready["last_seq"], f.setup_seq);
    f.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_precise_errors() {
    let f = fixture();
    let r = &f.router;
    let good = json!({"date": "2024-03-04", "command": transfer(1)}).to_string();

    // Missing and invalid Idempotency-Key.
    let (s, body) = post_raw(r, None, "application/json", good.clone()).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "MISSING_IDEMPOTENCY_KEY",
        Some("Idempotency-Key"),
    );
    let (s, body) = post_raw(r, Some("has space"), "application/json", good.clone()).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_IDEMPOTENCY_KEY",
        Some("Idempotency-Key"),
    );

    // Malformed JSON, with line and column.
    let (s, body) = post_raw(
        r,
        Some("k1"),
        "application/json",
        "{\"date\": \"2024-03-04\",\n \"command\": {\"type\": }",
    )
    .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST, "MALFORMED_JSON", None);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2 column"),
        "{body}"
    );
    let (s, body) = post_raw(
        r,
        Some("k1"),
        "application/json",
        "{\"date\": \"2024-03-04\"",
    )
    .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST, "MALFORMED_JSON", None);
    let (s, body) = post_raw(r, Some("k1"), "application/json", format!("{good} x")).await;
    assert_error(s, &body, StatusCode::BAD_REQUEST, "MALFORMED_JSON", None);

    // Unknown fields, at the top and inside the command.
    let extra = json!({"date": "2024-03-04", "command": transfer(1), "id": "x"}).to_string();
    let (s, body) = post_raw(r, Some("k1"), "application/json", extra).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "UNKNOWN_FIELD",
        Some("id"),
    );
    let mut command = transfer(1);
    command["colour"] = json!("red");
    let (s, body) = post(r, "k1", "2024-03-04", command).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "UNKNOWN_FIELD",
        Some("command.colour"),
    );

    // Missing fields.
    let (s, body) = post_raw(
        r,
        Some("k1"),
        "application/json",
        json!({"date": "2024-03-04"}).to_string(),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "MISSING_FIELD",
        Some("command"),
    );
    let (s, body) = post(
        r,
        "k1",
        "2024-03-04",
        json!({"type": "transfer", "from": "A", "to": "B", "class": CLASS}),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "MISSING_FIELD",
        Some("command.quantity"),
    );
    let (s, body) = post(r, "k1", "2024-03-04", json!({"from": "A"})).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "MISSING_FIELD",
        Some("command.type"),
    );

    // Wrong types and values.
    let mut command = transfer(1);
    command["quantity"] = json!("lots");
    let (s, body) = post(r, "k1", "2024-03-04", command).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "WRONG_TYPE",
        Some("command.quantity"),
    );
    let (s, body) = post_raw(
        r,
        Some("k1"),
        "application/json",
        json!({"date": 20240304, "command": transfer(1)}).to_string(),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "WRONG_TYPE",
        Some("date"),
    );
    let (s, body) = post(r, "k1", "2024-02-30", transfer(1)).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_VALUE",
        Some("date"),
    );
    let mut command = transfer(1);
    command["quantity"] = json!(-5);
    let (s, body) = post(r, "k1", "2024-03-04", command).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_VALUE",
        Some("command.quantity"),
    );
    let mut command = transfer(1);
    command["to"] = json!("no such/account");
    let (s, body) = post(r, "k1", "2024-03-04", command).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_VALUE",
        Some("command.to"),
    );
    let (s, body) = post(r, "k1", "2024-03-04", json!({"type": "steal", "from": "A"})).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_VALUE",
        Some("command.type"),
    );
    let (s, body) = post_raw(r, Some("k1"), "application/json", "[1, 2]").await;
    assert_error(s, &body, StatusCode::BAD_REQUEST, "WRONG_TYPE", None);

    // Not JSON at all; oversized.
    let (s, body) = post_raw(r, Some("k1"), "text/plain", good.clone()).await;
    assert_error(
        s,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        Some("Content-Type"),
    );
    let big = format!(
        "{{\"date\": \"2024-03-04\", \"command\": {}, \"pad\": \"{}\"}}",
        transfer(1),
        "x".repeat(70 * 1024)
    );
    let (s, body) = post_raw(r, Some("k1"), "application/json", big.clone()).await;
    assert_error(
        s,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        None,
    );
    // Also when streamed without a Content-Length.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8 * 1024)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let streamed = Body::from_stream(futures_util::stream::iter(chunks));
    let (s, body) = post_raw(r, Some("k1"), "application/json", streamed).await;
    assert_error(
        s,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        None,
    );

    // Unknown route and wrong method.
    let (s, body) = get(r, "/v1/nothing-here").await;
    assert_error(s, &body, StatusCode::NOT_FOUND, "NOT_FOUND", None);
    let (s, body) = send(
        r,
        Request::delete("/v1/supply").body(Body::empty()).unwrap(),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        None,
    );
    let (s, body) = get(r, "/v1/transactions").await;
    assert_error(
        s,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        None,
    );

    // None of it reached the journal.
    let (_, ready) = get(r, "/v1/ready").await;
    assert_eq!(ready["last_seq"], f.setup_seq);
    f.stop().await;
}

/// Reads SSE frames until one of `event` arrives; returns its data.
async fn next_event(body: &mut Body, buffer: &mut String, event: &str) -> Value {
    let wanted = format!("event: {event}\n");
    loop {
        if let Some(start) = buffer.find(&wanted)
            && let Some(end) = buffer[start..].find("\n\n")
        {
            let block = buffer[start..start + end].to_string();
            buffer.replace_range(..start + end + 2, "");
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            return serde_json::from_str(data).unwrap();
        }
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("the stream is open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test]
async fn live_streams_are_bounded() {
    // Each stream holds a connection; beyond `max_streams` the service answers 503 and serves
    // the others; a stream that ends frees its place.
    let (dir, _) = registry_dir();
    let (auth, _, _) = test_auth(dir.path());
    let mut config = config(dir.path());
    config.max_streams = 2;
    let app = App::open_with_auth(&config, auth).unwrap();
    let router = app.router();
    let open = || {
        router.clone().oneshot(
            Request::get("/v1/market/stream")
                .body(Body::empty())
                .unwrap(),
        )
    };
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open().await.unwrap();
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = third.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "UNAVAILABLE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 live market streams")
    );
    drop(first);
    assert_eq!(open().await.unwrap().status(), StatusCode::OK);
    drop(second);
    app.shutdown().await;
}

#[tokio::test]
async fn the_stream_publishes_trades_and_quotes() {
    let f = fixture();
    let response = f
        .router
        .clone()
        .oneshot(
            Request::get("/v1/market/stream")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body();
    let mut buffer = String::new();
    cross(&f.router).await;
    let trade = next_event(&mut body, &mut buffer, "trade").await;
    assert_eq!(
        trade,
        json!({"seq": f.setup_seq + 2, "class": CLASS, "date": "2024-03-04", "time": "10:01:00",
               "price": 8100, "quantity": 120, "aggressor": "buy"})
    );
    let quote = next_event(&mut body, &mut buffer, "quote").await;
    assert_eq!(
        quote["best_ask"],
        json!({"price": 8100, "volume": 180, "orders": 1})
    );
    assert_eq!(
        (&quote["best_bid"], &quote["last"], &quote["volume"]),
        (&Value::Null, &json!(8100), &json!(120))
    );

    // A late subscriber filtered to the class starts with the current quote.
    let late = f
        .router
        .clone()
        .oneshot(
            Request::get(format!("/v1/market/stream?class={CLASS_PATH}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut late_body = late.into_body();
    let mut late_buffer = String::new();
    let first = next_event(&mut late_body, &mut late_buffer, "quote").await;
    assert_eq!(first["best_ask"]["volume"], 180);
    let (s, error) = get(&f.router, "/v1/market/stream?class=nonsense").await;
    assert_error(
        s,
        &error,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        Some("class"),
    );

    // Shutting down ends the streams.
    f.app.begin_shutdown();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends at shutdown");
    f.stop().await;
}

#[tokio::test]
async fn concurrent_submissions_are_all_durable_and_answered() {
    let f = fixture();
    let requests = (0..64).map(|i| {
        let router = f.router.clone();
        async move {
            post(
                &router,
                &format!("dep/{i}"),
                "2024-03-04",
                json!({"type": "deposit", "account": "TR-SH-001", "amount_minor": 100}),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut seqs: Vec<u64> = answers
        .iter()
        .map(|(s, body)| {
            assert_eq!(*s, StatusCode::CREATED, "{body}");
            body["seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        ((f.setup_seq + 1)..=(f.setup_seq + 64)).collect::<Vec<_>>()
    );
    let stats = f.app.writer_stats();
    assert_eq!(stats.submissions.load(Ordering::Relaxed), 64);
    let batches = stats.batches.load(Ordering::Relaxed);
    assert!((1..=64).contains(&batches), "{batches}");
    let (_, cash) = get(&f.router, "/v1/accounts/TR-SH-001/cash").await;
    assert_eq!(cash["available"], 6_400);
    f.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let f = fixture();
    let (s, doc) = get(&f.router, "/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/health", "get"),
        ("/v1/ready", "get"),
        ("/v1/openapi.json", "get"),
        ("/metrics", "get"),
        ("/v1/accounts/{id}/holdings", "get"),
        ("/v1/accounts/{id}/cash", "get"),
        ("/v1/accounts/{id}/orders", "get"),
        ("/v1/compliance", "get"),
        ("/v1/supply", "get"),
        ("/v1/market/summary", "get"),
        ("/v1/market/{class}/book", "get"),
        ("/v1/market/{class}/trades", "get"),
        ("/v1/market/stream", "get"),
        ("/v1/auctions/{ref}", "get"),
        ("/v1/call-markets/{ref}", "get"),
        ("/v1/net-flows", "get"),
        ("/v1/transactions", "post"),
        ("/v1/session", "post"),
        ("/v1/session", "get"),
        ("/v1/session", "delete"),
        ("/v1/session/second-factor", "post"),
        ("/v1/session/totp", "post"),
        ("/v1/session/totp/confirm", "post"),
        ("/v1/session/password", "post"),
        ("/v1/users", "get"),
        ("/v1/users", "post"),
        ("/v1/users/{username}/roles", "put"),
        ("/v1/users/{username}/suspend", "post"),
        ("/v1/users/{username}/reinstate", "post"),
        ("/v1/users/{username}/unlock", "post"),
        ("/v1/users/{username}/reset-second-factor", "post"),
        ("/v1/audit", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{path} {method} missing"
        );
    }
    assert_eq!(paths.len(), 36, "{:?}", paths.keys().collect::<Vec<_>>());
    let post = &paths["/v1/transactions"]["post"];
    let params = post["parameters"].as_array().unwrap();
    assert!(
        params.iter().any(|p| p["name"] == "Idempotency-Key"
            && p["in"] == "header"
            && p["required"] == true)
    );
    for status in ["200", "201", "400", "409", "413", "422"] {
        assert!(post["responses"].get(status).is_some(), "{status}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Holdings",
        "CompliancePage",
        "Receipt",
        "ErrorBody",
        "TransactionRequest",
        "Command",
        "Effect",
        "TradeEvent",
        "QuoteEvent",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    // The command types come from the registry's Command itself.
    let types: Vec<&str> = schemas["Command"]["properties"]["type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for t in [
        "open_account",
        "issue",
        "allocate",
        "transfer",
        "surrender",
        "place_order",
        "create_auction",
        "clear_call_market",
        "set_trading_halt",
    ] {
        assert!(types.contains(&t), "{t} not in {types:?}");
    }
    assert_eq!(types.len(), yrd_server::openapi::command_types().len());
    assert!(
        yrd_server::openapi::effect_types()
            .iter()
            .any(|e| e == "traded")
    );
    f.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_and_batches() {
    let f = fixture();
    get(&f.router, "/v1/supply").await;
    post(&f.router, "m/1", "2024-03-04", transfer(1)).await;
    let (s, text) = get(&f.router, "/metrics").await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap();
    for metric in [
        "yrd_http_requests_total",
        "route=\"/v1/supply\"",
        "yrd_http_request_duration_seconds_bucket",
        "yrd_writer_batches_total",
        "yrd_writer_commit_seconds_bucket",
        "yrd_transactions_total",
        "yrd_journal_last_seq",
    ] {
        assert!(text.contains(metric), "{metric} missing from\n{text}");
    }
    f.stop().await;
}

#[test]
fn configuration_flags_over_environment_over_file() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:9000\"\ndata_dir = \"reg\"\nlog_format = \"json\"\nmax_batch = 64\nshutdown_grace_secs = 5\n",
    )
    .unwrap();
    let args = Cli::parse_from(["t", "--config", file.to_str().unwrap()]).serve;
    let config = ServerConfig::resolve(&args).unwrap();
    assert_eq!(config.bind.to_string(), "127.0.0.1:9000");
    assert_eq!(config.data_dir, dir.path().join("reg"));
    assert_eq!(config.log_format, yrd_server::LogFormat::Json);
    assert_eq!(config.writer.max_batch, 64);
    assert_eq!(config.shutdown_grace, Duration::from_secs(5));
    // A flag (or its environment variable, which clap folds into the same field) wins.
    let args = Cli::parse_from([
        "t",
        "--config",
        file.to_str().unwrap(),
        "--bind",
        "0.0.0.0:1",
        "--data-dir",
        "/x",
        "--log-format",
        "text",
    ])
    .serve;
    let config = ServerConfig::resolve(&args).unwrap();
    assert_eq!(
        (
            config.bind.to_string().as_str(),
            config.data_dir.to_str().unwrap(),
            config.log_format
        ),
        ("0.0.0.0:1", "/x", yrd_server::LogFormat::Text)
    );
    // No data directory anywhere, an unknown key in the file, a bad address: errors.
    assert!(ServerConfig::resolve(&Cli::parse_from(["t"]).serve).is_err());
    std::fs::write(&file, "bnd = \"x\"\n").unwrap();
    assert!(
        ServerConfig::resolve(&Cli::parse_from(["t", "--config", file.to_str().unwrap()]).serve)
            .is_err()
    );
    assert!(Cli::try_parse_from(["t", "--bind", "localhost"]).is_err());
    let defaults = ServerConfig::resolve(&Cli::parse_from(["t", "--data-dir", "d"]).serve).unwrap();
    assert_eq!(defaults.bind.to_string(), "127.0.0.1:8080");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_server_shuts_down_gracefully_and_the_audit_is_clean() {
    let (dir, setup_seq) = registry_dir();
    let (auth, _clock, root) = test_auth(dir.path());
    let app = App::open_with_auth(&config(dir.path()), auth).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(yrd_server::serve(listener, app, async {
        let _ = stopped.await;
    }));
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {root}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let health: Value = client
        .get(format!("{base}/v1/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    // A live stream must not hold the shutdown up.
    let mut stream = client
        .get(format!("{base}/v1/market/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let deposit = |i: usize| {
        let client = client.clone();
        let url = format!("{base}/v1/transactions");
        async move {
            let response = client
                .post(url)
                .header("Idempotency-Key", format!("dep/{i}"))
                .json(&json!({"date": "2024-03-04", "command": {"type": "deposit", "account": "TR-SH-001", "amount_minor": 100}}))
                .send()
                .await;
            (i, response.map(|r| r.status().as_u16()))
        }
    };
    let first: Vec<_> = futures_util::future::join_all((0..40).map(deposit)).await;
    assert!(first.iter().all(|(_, r)| matches!(r, Ok(201))), "{first:?}");
    let (s, body) = {
        let r = client
            .post(format!("{base}/v1/transactions"))
            .header("Idempotency-Key", "dep/0")
            .json(&json!({"date": "2024-03-04", "command": {"type": "deposit", "account": "TR-SH-001", "amount_minor": 100}}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!((s, &body["duplicate"]), (200, &json!(true)));

    // More requests race the shutdown: each is either acknowledged (and then durable) or not
    // served at all.
    let racing = tokio::spawn(futures_util::future::join_all((40..120).map(deposit)));
    tokio::time::sleep(Duration::from_millis(5)).await;
    stop.send(()).unwrap();
    let raced = racing.await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("shutdown within the grace period")
        .unwrap()
        .unwrap();
    let stream_end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(stream_end.is_ok(), "the stream ended");

    let acknowledged: Vec<usize> = first
        .iter()
        .chain(&raced)
        .filter(|(_, r)| matches!(r, Ok(201)))
        .map(|(i, _)| *i)
        .collect();
    assert!(
        raced
            .iter()
            .all(|(_, r)| matches!(r, Ok(201) | Ok(503) | Err(_))),
        "{raced:?}"
    );

    // The audit of what is on disk is clean, and everything acknowledged is in it.
    let store = SqliteStore::open_read_only(dir.path()).unwrap();
    let report = yrd_registry::audit::audit(&store).unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let registry = Registry::open(SqliteStore::open(dir.path()).unwrap()).unwrap();
    for i in &acknowledged {
        let id = yrd_types::TransactionId::new(format!("{ROOT}dep/{i}")).unwrap();
        assert!(
            registry.state().applied(&id).is_some(),
            "acknowledged dep/{i} is journaled"
        );
    }
    assert!(registry.state().last_seq() >= setup_seq + acknowledged.len() as u64);
}

// ----- Authentication and authorisation -----

impl Fixture {
    /// Creates `name` with `roles`, the test password and the test TOTP secret.
    fn user(&self, name: &str, roles: Vec<Role>) -> i64 {
        let auth = self.app.auth();
        let id = auth
            .provision_user(name, &Password::new(PASSWORD), roles)
            .unwrap();
        auth.provision_totp(name, Some(SECRET.to_vec())).unwrap();
        id.0
    }

    /// Signs `name` in over HTTP; returns the answer and the token.
    async fn sign_in(&self, name: &str) -> (Value, String) {
        let (s, body) = send_json(
            &self.raw,
            "POST",
            "/v1/session",
            None,
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let token = body["token"].as_str().unwrap().to_string();
        (body, token)
    }

    /// Verifies the current one-time password for `token`.
    async fn step_up(&self, token: &str) -> (StatusCode, Value) {
        send_json(
            &self.raw,
            "POST",
            "/v1/session/second-factor",
            Some(token),
            json!({"code": otp(&self.clock)}),
        )
        .await
    }
}

async fn send_json(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(router, request.body(Body::from(body.to_string())).unwrap()).await
}

async fn get_as(router: &Router, uri: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}

async fn submit_as(
    router: &Router,
    token: Option<&str>,
    key: &str,
    command: Value,
) -> (StatusCode, Value) {
    let mut request = Request::post("/v1/transactions")
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = json!({"date": "2024-03-04", "command": command}).to_string();
    send(router, request.body(Body::from(body)).unwrap()).await
}

fn representative(ids: &[&str]) -> Vec<Role> {
    vec![Role::AccountRepresentative {
        accounts: accounts(ids),
    }]
}

fn administrator(j: &str) -> Vec<Role> {
    vec![Role::RegistryAdministrator {
        jurisdiction: yrd_types::JurisdictionCode::new(j).unwrap(),
    }]
}

async fn audit_events(f: &Fixture) -> Vec<Value> {
    let (s, body) = get(&f.router, "/v1/audit?limit=1000").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["records"].as_array().unwrap().clone()
}

#[tokio::test]
async fn anonymous_callers_read_public_reports_only() {
    let f = fixture();
    for uri in [
        "/v1/supply",
        "/v1/net-flows",
        "/v1/compliance",
        "/v1/market/summary",
        "/v1/auctions/AUC-1",
        "/v1/call-markets/CM-1",
        "/v1/health",
    ] {
        let (s, body) = get(&f.raw, uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {body}");
    }
    for uri in [
        "/v1/accounts/TR-SH-001/holdings",
        "/v1/accounts/TR-SH-001/cash",
        "/v1/accounts/TR-SH-001/orders",
        "/v1/accounts/NOBODY/holdings",
        "/v1/session",
        "/v1/users",
        "/v1/audit",
    ] {
        let (s, body) = get(&f.raw, uri).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    }
    // Anonymous callers cannot submit at all, even without a key.
    let (s, body) = submit_as(&f.raw, None, "a/1", transfer(1)).await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    let (s, body) = send(
        &f.raw,
        Request::post("/v1/transactions")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    // A token nobody issued.
    let (s, body) = get_as(&f.raw, "/v1/supply", "not-a-token").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    let (_, ready) = get(&f.raw, "/v1/ready").await;
    assert_eq!(ready["last_seq"], f.setup_seq);
    f.stop().await;
}

#[tokio::test]
async fn representatives_read_and_move_only_their_accounts_with_a_second_factor() {
    let f = fixture();
    let alice = f.user("alice", representative(&["TR-SH-001"]));
    let (session, token) = f.sign_in("alice").await;
    assert_eq!(session["username"], "alice");
    assert_eq!(session["accounts"], json!(["TR-SH-001"]));
    assert_eq!(session["second_factor"], false);
    assert_eq!(session["second_factor_enrolled"], true);
    assert_eq!(
        session["roles"],
        json!([{"role": "account_representative", "accounts": ["TR-SH-001"]}])
    );
    assert_eq!(session["expires_at"], "2024-03-01T08:00:00Z");

    // Own account: readable. Another's, and an unknown one: the same 404, nothing leaks.
    let (s, own) = get_as(&f.raw, "/v1/accounts/TR-SH-001/holdings", &token).await;
    assert_eq!(
        (s, &own["holdings"][0]["quantity"]),
        (StatusCode::OK, &json!(1_950))
    );
    let (s, other) = get_as(&f.raw, "/v1/accounts/TR-SH-002/cash", &token).await;
    let (s2, unknown) = get_as(&f.raw, "/v1/accounts/TR-SH-999/cash", &token).await;
    assert_error(
        s,
        &other,
        StatusCode::NOT_FOUND,
        "UNKNOWN_ACCOUNT",
        Some("id"),
    );
    assert_eq!(s2, StatusCode::NOT_FOUND);
    assert_eq!(
        other["error"]["message"]
            .as_str()
            .unwrap()
            .replace("TR-SH-002", "X"),
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("TR-SH-999", "X")
    );
    for uri in [
        "/v1/accounts/TR-SH-002/holdings",
        "/v1/accounts/TR-SH-002/orders",
    ] {
        let (s, body) = get_as(&f.raw, uri, &token).await;
        assert_error(
            s,
            &body,
            StatusCode::NOT_FOUND,
            "UNKNOWN_ACCOUNT",
            Some("id"),
        );
    }

    // An order without the second factor: 403, nothing journaled, audited.
    let sell = order("A1", "TR-SH-001", "sell", 8_100, 100, "10:00:00");
    let (s, body) = submit_as(&f.raw, Some(&token), "o-1", sell.clone()).await;
    assert_error(
        s,
        &body,
        StatusCode::FORBIDDEN,
        "SECOND_FACTOR_REQUIRED",
        None,
    );
    let (_, ready) = get(&f.raw, "/v1/ready").await;
    assert_eq!(ready["last_seq"], f.setup_seq);

    // With it: 201, the transaction id is scoped to alice.
    let (s, session) = f.step_up(&token).await;
    assert_eq!(
        (s, &session["second_factor"]),
        (StatusCode::OK, &json!(true))
    );
    assert_eq!(session["token"], Value::Null);
    let (s, body) = submit_as(&f.raw, Some(&token), "o-1", sell).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["tx_id"], format!("{alice}:o-1"));
    // Another account's order: 403 FORBIDDEN naming the action.
    let (s, body) = submit_as(
        &f.raw,
        Some(&token),
        "o-2",
        order("A2", "TR-SH-002", "buy", 8_100, 100, "10:01:00"),
    )
    .await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TR-SH-002")
    );
    // Administration: 403.
    let (s, body) = submit_as(&f.raw, Some(&token), "t-1", transfer(1)).await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    // A registry refusal of her own command: 422, audited.
    let (s, body) = submit_as(
        &f.raw,
        Some(&token),
        "o-3",
        order("A3", "TR-SH-001", "sell", 8_100, 1_000_000, "10:02:00"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let refused: Vec<Value> = audit_events(&f)
        .await
        .into_iter()
        .filter(|r| r["event"]["event"] == "refused" && r["username"] == "alice")
        .collect();
    let codes: Vec<&str> = refused
        .iter()
        .map(|r| r["event"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes[..3],
        ["SECOND_FACTOR_REQUIRED", "FORBIDDEN", "FORBIDDEN"]
    );
    assert_eq!(codes.len(), 4, "{refused:?}");
    assert!(
        refused[0]["event"]["action"]
            .as_str()
            .unwrap()
            .starts_with(&format!("place_order {alice}:o-1"))
    );
    f.stop().await;
}

#[tokio::test]
async fn administrators_manage_only_the_users_of_their_jurisdiction() {
    // A hostile trial: an administrator of CN-SH created an administrator of CN-JS and a
    // representative of a CN-JS account, and took the roles of CN-JS's administrator away.
    let f = fixture();
    f.user("sh-admin", administrator("CN-SH"));
    f.user("js-admin", administrator("CN-JS"));
    let (_, token) = f.sign_in("sh-admin").await;
    assert_eq!(f.step_up(&token).await.0, StatusCode::OK);
    let create =
        |name: &str, role: Value| json!({"username": name, "password": PASSWORD, "roles": [role]});
    for role in [
        json!({"role": "registry_administrator", "jurisdiction": "CN-JS"}),
        json!({"role": "account_representative", "accounts": ["TR-JS-001"]}),
        json!({"role": "auditor"}),
    ] {
        let (s, body) = send_json(
            &f.router,
            "POST",
            "/v1/users",
            Some(&token),
            create("mallory", role),
        )
        .await;
        assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", Some("roles"));
    }
    let (s, body) = send_json(
        &f.router,
        "POST",
        "/v1/users",
        Some(&token),
        create(
            "ghost",
            json!({"role": "verifier", "installations": ["INST-NOWHERE"]}),
        ),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNKNOWN_REFERENCE",
        Some("roles"),
    );
    for (method, uri, body) in [
        (
            "PUT",
            "/v1/users/js-admin/roles",
            json!({"roles": [{"role": "public"}]}),
        ),
        (
            "POST",
            "/v1/users/js-admin/suspend",
            json!({"reason": "takeover"}),
        ),
        ("POST", "/v1/users/js-admin/reset-second-factor", json!({})),
    ] {
        let (s, answer) = send_json(&f.router, method, uri, Some(&token), body).await;
        assert_error(
            s,
            &answer,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            Some("roles"),
        );
    }
    // Nor a representative of a holder's account, even in CN-SH: one administrator could
    // create both persons of a four-eyes pair (the operator appoints them, `yrd-ets user add`).
    for role in [
        json!({"role": "account_representative", "accounts": ["TR-SH-002"]}),
        json!({"role": "additional_authorised_representative", "accounts": ["TR-SH-002"]}),
    ] {
        let (s, body) = send_json(
            &f.router,
            "POST",
            "/v1/users",
            Some(&token),
            create("mule", role),
        )
        .await;
        assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", Some("roles"));
    }
    // Within CN-SH it works.
    let (s, body) = send_json(
        &f.router,
        "POST",
        "/v1/users",
        Some(&token),
        create(
            "dora",
            json!({"role": "verifier", "installations": ["INST-SH-002"]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    f.stop().await;
}

#[tokio::test]
async fn administrators_administer_their_jurisdiction_only_and_auditors_only_read() {
    let f = fixture();
    f.user("sh-admin", administrator("CN-SH"));
    let (_, token) = f.sign_in("sh-admin").await;
    assert_eq!(f.step_up(&token).await.0, StatusCode::OK);
    let issue = |j: &str| json!({"type": "issue", "jurisdiction": j, "unit_type": "CEA", "vintage": 2019, "quantity": 10});
    let (s, body) = submit_as(&f.raw, Some(&token), "i-1", issue("CN-SH")).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = submit_as(&f.raw, Some(&token), "i-2", issue("CN-JS")).await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("administer jurisdiction CN-JS")
    );
    // Reads of CN-SH accounts yes, CN-JS no.
    let (s, _) = get_as(&f.raw, "/v1/accounts/TR-SH-002/cash", &token).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get_as(&f.raw, "/v1/accounts/TR-JS-001/cash", &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    f.user("auditor", vec![Role::Auditor]);
    let (_, token) = f.sign_in("auditor").await;
    assert_eq!(f.step_up(&token).await.0, StatusCode::OK);
    for uri in ["/v1/accounts/TR-JS-001/holdings", "/v1/users", "/v1/audit"] {
        let (s, body) = get_as(&f.raw, uri, &token).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {body}");
    }
    let (s, body) = submit_as(
        &f.raw,
        Some(&token),
        "x",
        order("X", "TR-SH-001", "sell", 8_100, 1, "10:00:00"),
    )
    .await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    let (s, body) = send_json(
        &f.raw,
        "POST",
        "/v1/users",
        Some(&token),
        json!({"username": "eve", "password": PASSWORD, "roles": [{"role": "auditor"}]}),
    )
    .await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    f.stop().await;
}

#[tokio::test]
async fn idempotency_keys_are_per_user() {
    let f = fixture();
    let a = f.user("rep-a", representative(&["TR-SH-001"]));
    let b = f.user("rep-b", representative(&["TR-SH-001"]));
    let (_, ta) = f.sign_in("rep-a").await;
    let (_, tb) = f.sign_in("rep-b").await;
    assert_eq!(f.step_up(&ta).await.0, StatusCode::OK);
    assert_eq!(f.step_up(&tb).await.0, StatusCode::OK);
    let one = order("P1", "TR-SH-001", "sell", 8_100, 10, "10:00:00");
    let two = order("P2", "TR-SH-001", "sell", 8_100, 10, "10:00:01");
    let (s, ra) = submit_as(&f.raw, Some(&ta), "same", one.clone()).await;
    assert_eq!(
        (s, &ra["tx_id"]),
        (StatusCode::CREATED, &json!(format!("{a}:same")))
    );
    let (s, rb) = submit_as(&f.raw, Some(&tb), "same", two).await;
    assert_eq!(
        (s, &rb["tx_id"]),
        (StatusCode::CREATED, &json!(format!("{b}:same")))
    );
    let (s, again) = submit_as(&f.raw, Some(&ta), "same", one).await;
    assert_eq!(
        (s, &again["seq"], &again["duplicate"]),
        (StatusCode::OK, &ra["seq"], &json!(true))
    );
    let other = order("P3", "TR-SH-001", "sell", 8_100, 10, "10:00:02");
    let (s, body) = submit_as(&f.raw, Some(&ta), "same", other).await;
    assert_error(
        s,
        &body,
        StatusCode::CONFLICT,
        "TRANSACTION_ID_REUSED",
        Some("Idempotency-Key"),
    );
    // A key that does not fit behind the user's prefix.
    let (s, body) = submit_as(&f.raw, Some(&ta), &"k".repeat(127), transfer(1)).await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "INVALID_IDEMPOTENCY_KEY",
        Some("Idempotency-Key"),
    );
    f.stop().await;
}

#[tokio::test]
async fn sessions_expire_end_at_sign_out_and_wrong_codes_lock_out() {
    let f = fixture();
    f.user("bob", representative(&["TR-SH-002"]));
    let (_, token) = f.sign_in("bob").await;
    let (s, body) = get_as(&f.raw, "/v1/session", &token).await;
    assert_eq!((s, &body["username"]), (StatusCode::OK, &json!("bob")));
    // Idle for 15 minutes: expired.
    f.clock.advance(15 * 60);
    let (s, body) = get_as(&f.raw, "/v1/accounts/TR-SH-002/cash", &token).await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // Sign-out revokes; the cookie works like the bearer token and is cleared.
    let response = f
        .raw
        .clone()
        .oneshot(
            Request::post("/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": "bob", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("yrd_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, pair.clone())
            .body(Body::empty())
            .unwrap()
    };
    let (s, _) = send(&f.raw, with_cookie("GET", "/v1/accounts/TR-SH-002/cash")).await;
    assert_eq!(s, StatusCode::OK);
    // A cookie-authenticated POST that is not JSON (a cross-site form) is refused.
    let (s, body) = send(&f.raw, with_cookie("POST", "/v1/session/totp")).await;
    assert_error(
        s,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        Some("Content-Type"),
    );
    let response = f
        .raw
        .clone()
        .oneshot(with_cookie("DELETE", "/v1/session"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (s, body) = send(&f.raw, with_cookie("GET", "/v1/accounts/TR-SH-002/cash")).await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);

    // Wrong credentials: one answer for an unknown user and a wrong password.
    let (s1, b1) = send_json(
        &f.raw,
        "POST",
        "/v1/session",
        None,
        json!({"username": "bob", "password": "wrong password!"}),
    )
    .await;
    let (s2, b2) = send_json(
        &f.raw,
        "POST",
        "/v1/session",
        None,
        json!({"username": "nobody", "password": "wrong password!"}),
    )
    .await;
    assert_error(
        s1,
        &b1,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
        None,
    );
    assert_eq!((s1, &b1), (s2, &b2));

    // root's session goes idle with the clock: read the log later as a fresh auditor, signed in
    // before this address is locked out.
    f.user("auditor", vec![Role::Auditor]);
    let (_, auditor) = f.sign_in("auditor").await;
    // Wrong one-time passwords: 401, then 429 with Retry-After; a replay is named.
    f.clock.advance(60);
    let (_, token) = f.sign_in("bob").await;
    assert_eq!(f.step_up(&token).await.0, StatusCode::OK);
    let (s, body) = f.step_up(&token).await;
    assert_error(
        s,
        &body,
        StatusCode::UNAUTHORIZED,
        "ONE_TIME_PASSWORD_REPLAYED",
        Some("code"),
    );
    for _ in 0..4 {
        let (s, body) = send_json(
            &f.raw,
            "POST",
            "/v1/session/second-factor",
            Some(&token),
            json!({"code": "000000"}),
        )
        .await;
        assert_error(
            s,
            &body,
            StatusCode::UNAUTHORIZED,
            "WRONG_ONE_TIME_PASSWORD",
            Some("code"),
        );
    }
    let response = f
        .raw
        .clone()
        .oneshot(
            Request::post("/v1/session/second-factor")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(json!({"code": "000000"}).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "900");
    let (_, log) = get_as(&f.raw, "/v1/audit?limit=1000", &auditor).await;
    let events = log["records"].as_array().unwrap().clone();
    let otp_failures = events
        .iter()
        .filter(|r| {
            r["username"] == "bob"
                && r["event"]["event"] == "second_factor"
                && r["event"]["outcome"] != "success"
        })
        .count();
    assert!(otp_failures >= 5, "{events:?}");
    assert!(
        events
            .iter()
            .any(|r| r["username"] == "bob" && r["event"]["event"] == "user_locked_out")
    );
    f.stop().await;
}

#[tokio::test]
async fn administrators_manage_users_over_http() {
    let f = fixture();
    let (s, body) = send_json(
        &f.router,
        "POST",
        "/v1/users",
        None,
        json!({"username": "Carol", "password": PASSWORD, "roles": [{"role": "verifier", "installations": ["INST-SH-001"]}]}),
    )
    .await;
    assert_eq!(
        (s, &body["username"]),
        (StatusCode::CREATED, &json!("carol")),
        "{body}"
    );
    let (s, body) = send_json(
        &f.router,
        "PUT",
        "/v1/users/carol/roles",
        None,
        json!({"roles": [{"role": "verifier", "installations": ["INST-SH-002"]}]}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, body) = send_json(
        &f.router,
        "POST",
        "/v1/users/carol/suspend",
        None,
        json!({"reason": "test"}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, body) = send_json(
        &f.raw,
        "POST",
        "/v1/session",
        None,
        json!({"username": "carol", "password": PASSWORD}),
    )
    .await;
    assert_error(s, &body, StatusCode::FORBIDDEN, "USER_SUSPENDED", None);
    for action in ["reinstate", "unlock", "reset-second-factor"] {
        let (s, body) = send_json(
            &f.router,
            "POST",
            &format!("/v1/users/carol/{action}"),
            None,
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{action}: {body}");
    }
    let (s, body) = get(&f.router, "/v1/users").await;
    assert_eq!(s, StatusCode::OK);
    let carol = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "carol")
        .unwrap()
        .clone();
    assert_eq!(
        carol["roles"],
        json!([{"role": "verifier", "installations": ["INST-SH-002"]}])
    );
    assert_eq!(carol["suspended"], Value::Null);
    let (s, body) = send_json(
        &f.router,
        "POST",
        "/v1/users/nobody/unlock",
        None,
        json!({}),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::NOT_FOUND,
        "UNKNOWN_USER",
        Some("username"),
    );
    // Carol enrols her own authenticator app and confirms it.
    let (_, token) = f.sign_in("carol").await;
    let (s, enrolment) =
        send_json(&f.raw, "POST", "/v1/session/totp", Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{enrolment}");
    assert!(
        enrolment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let secret = totp_rs::Secret::Encoded(enrolment["secret_base32"].as_str().unwrap().to_string())
        .to_bytes()
        .unwrap();
    let code = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, 30, secret)
        .unwrap()
        .generate(T0 as u64);
    let (s, session) = send_json(
        &f.raw,
        "POST",
        "/v1/session/totp/confirm",
        Some(&token),
        json!({"code": code}),
    )
    .await;
    assert_eq!(
        (s, &session["second_factor"]),
        (StatusCode::OK, &json!(true)),
        "{session}"
    );
    let (s, body) = send_json(
        &f.raw,
        "POST",
        "/v1/session/password",
        Some(&token),
        json!({"current": PASSWORD, "new": "short"}),
    )
    .await;
    assert_error(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "WEAK_PASSWORD",
        Some("new"),
    );
    let (s, _) = send_json(
        &f.raw,
        "POST",
        "/v1/session/password",
        Some(&token),
        json!({"current": PASSWORD, "new": "another long passphrase"}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    f.stop().await;
}
