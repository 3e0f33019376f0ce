//! The registry security controls over HTTP, through the real router and the registry's clock:
//! four eyes, reserved units, the delayed-execution timetable (EU Reg. 2019/1122 Art. 35) on the
//! YRD calendar (China Standard Time, State Council holidays and adjusted working days), the
//! scheduler's `execute_due_transfers`, the fields only the server sets, the limit to untrusted
//! accounts, operator holding accounts, suspensions, and who may read what.
//!
//! Every expected time is worked out by hand in the comments from `config/yrd.toml [security]`:
//! window 10:00-16:00 to trusted accounts, 12:00 release to untrusted ones, 2,000,000 units per
//! transfer to an untrusted account, trusted-list additions active 4 working days after approval.
//! The simulated clock (`ServerConfig::clock_start`) runs at the real rate from its start, so
//! every start is chosen minutes away from any boundary.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{NaiveDate, NaiveDateTime};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tower::ServiceExt;
use yrd_auth::{Auth, AuthConfig, ManualClock, Password, Role, Timestamp, UserStore};
use yrd_registry::{Registry, Submission};
use yrd_server::{App, ServerConfig, WriteOutcome};
use yrd_storage::SqliteStore;

const CLASS: &str = "CN-SH/CEA/2019";
/// What TR-SH-001 holds after the set-up.
const HELD: u64 = 3_000_000;
/// Every test user's password.
const PASSWORD: &str = "correct horse battery staple";
/// Every test user's TOTP secret (the RFC 6238 test key).
const SECRET: &[u8] = b"12345678901234567890";
/// The authentication clock (independent of the registry's): 2024-03-01T00:00:00Z. It never
/// moves, so sessions and second factors stay valid across restarts.
const T0: i64 = 1_709_251_200;

// ----- Set-up -----

/// The set-up, applied directly to the registry (registry local time, CST): trading accounts
/// TR-SH-001..003, operator holding account OHA-SH-001 (with an installation and 1,000
/// allowances), 3,000,000 allowances in TR-SH-001, and TR-SH-002 on TR-SH-001's trusted list,
/// approved Monday 2025-03-03 09:00 -> active after 4 working days: Tue 4 (1), Wed 5 (2), Thu 6
/// (3), Fri 7 (4) -> from Friday 2025-03-07 09:00. TR-SH-003 is not trusted by anyone.
fn setup_commands() -> Vec<(&'static str, Value)> {
    let open = |account: &str, kind: &str| {
        json!({"type": "open_account", "account": account, "kind": kind, "jurisdiction": "CN-SH",
               "holder_name": format!("Holder of {account}")})
    };
    let transfer = |from: &str, to: &str, q: u64| json!({"type": "transfer", "from": from, "to": to, "class": CLASS, "quantity": q});
    vec![
        ("s/open/1", open("TR-SH-001", "trading")),
        ("s/open/2", open("TR-SH-002", "trading")),
        ("s/open/3", open("TR-SH-003", "trading")),
        ("s/open/oha", open("OHA-SH-001", "operator_holding")),
        (
            "s/register",
            json!({"type": "register_installation", "installation": "INST-SH-001",
                   "account": "OHA-SH-001", "name": "Plant 1", "sector": "POWER", "first_year": 2019}),
        ),
        (
            "s/issue",
            json!({"type": "issue", "jurisdiction": "CN-SH", "unit_type": "CEA", "vintage": 2019,
                   "quantity": 4_000_000}),
        ),
        (
            "s/allocate",
            json!({"type": "allocate", "installation": "INST-SH-001", "unit_type": "CEA",
                   "vintage": 2019, "quantity": 1_000}),
        ),
        ("s/t1", transfer("CN-SH-GOV", "CN-SH-AUCTION", HELD)),
        ("s/t2", transfer("CN-SH-AUCTION", "TR-SH-001", HELD)),
        (
            "s/trust/propose",
            json!({"type": "propose_trusted_account", "account": "TR-SH-001", "trusted": "TR-SH-002",
                   "initiator": "seed-1", "at": "2025-03-03T09:00:00"}),
        ),
        (
            "s/trust/approve",
            json!({"type": "approve_trusted_account", "account": "TR-SH-001", "trusted": "TR-SH-002",
                   "approver": "seed-2", "at": "2025-03-03T09:00:00"}),
        ),
    ]
}

/// A registry of the built-in `yrd` market (config/yrd.toml), created 2025-03-03, with the
/// set-up.
fn registry_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (_, yrd) = yrd_config::MarketConfig::builtin("yrd").unwrap();
    let date = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    let mut registry =
        Registry::create(SqliteStore::open(dir.path()).unwrap(), yrd, "yrd", date).unwrap();
    let submissions: Vec<Submission> = setup_commands()
        .into_iter()
        .map(|(id, command)| {
            serde_json::from_value(json!({"id": id, "date": "2025-03-03", "command": command}))
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
    dir
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
}

/// The service on `dir` with the registry's clock starting at `clock_start` (registry local
/// time), every snapshot checked against the registry, and the user store of `dir` with the
/// fixed authentication clock.
fn start(dir: &Path, clock_start: &str) -> (App, Router) {
    let mut config = ServerConfig::for_data_dir(dir);
    config.writer.verify_snapshots = true;
    config.clock_start = Some(local(clock_start));
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    let auth = Auth::new(
        UserStore::open(dir).unwrap(),
        clock,
        AuthConfig::insecure_for_tests(),
    )
    .unwrap();
    let app = App::open_with_auth(&config, Arc::new(auth)).unwrap();
    let router = app.router();
    (app, router)
}

/// Stops `app` properly: snapshots all matched the registry, the writer finished durably.
async fn stop(app: App) {
    assert_eq!(
        app.writer_stats()
            .snapshot_mismatches
            .load(Ordering::Relaxed),
        0
    );
    app.shutdown().await;
}

/// Creates `name` with `roles` and the test TOTP secret, signs them in and, if `second_factor`,
/// verifies the current one-time password; returns the session token.
fn user(app: &App, name: &str, roles: Vec<Role>, second_factor: bool) -> String {
    let auth = app.auth();
    auth.provision_user(name, &Password::new(PASSWORD), roles)
        .unwrap();
    auth.provision_totp(name, Some(SECRET.to_vec())).unwrap();
    let signed = auth
        .sign_in(name, &Password::new(PASSWORD), "test")
        .unwrap();
    if second_factor {
        let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, 30, SECRET.to_vec()).unwrap();
        let code = totp.generate(T0 as u64);
        auth.verify_second_factor(&signed.token, &code, "test")
            .unwrap();
    }
    signed.token.as_str().to_string()
}

fn ids(ids: &[&str]) -> std::collections::BTreeSet<yrd_types::AccountId> {
    ids.iter()
        .map(|a| yrd_types::AccountId::new(*a).unwrap())
        .collect()
}

/// Initiates movements from `accounts` (account representative).
fn representative(accounts: &[&str]) -> Role {
    Role::AccountRepresentative {
        accounts: ids(accounts),
    }
}

/// Approves movements from `accounts` (additional authorised representative).
fn approver(accounts: &[&str]) -> Role {
    Role::AdditionalAuthorisedRepresentative {
        accounts: ids(accounts),
    }
}

fn administrator(j: &str) -> Role {
    Role::RegistryAdministrator {
        jurisdiction: yrd_types::JurisdictionCode::new(j).unwrap(),
    }
}

/// The users of every test: alice initiates from TR-SH-001 (and is also an approver of it, so
/// that only four eyes stops her approving her own transfer); bob approves for TR-SH-001; carol
/// represents TR-SH-002 in both roles.
struct Users {
    alice: String,
    bob: String,
    carol: String,
}

fn users(app: &App) -> Users {
    Users {
        alice: user(
            app,
            "alice",
            vec![representative(&["TR-SH-001"]), approver(&["TR-SH-001"])],
            true,
        ),
        bob: user(app, "bob", vec![approver(&["TR-SH-001"])], true),
        carol: user(
            app,
            "carol",
            vec![representative(&["TR-SH-002"]), approver(&["TR-SH-002"])],
            true,
        ),
    }
}

// ----- HTTP -----

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn get(router: &Router, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(uri);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(router, request.body(Body::empty()).unwrap()).await
}

/// `POST /v1/transactions` as `token` with `Idempotency-Key: key` and no `date` (the server's
/// clock decides it, as for the web interface).
async fn submit(router: &Router, token: &str, key: &str, command: Value) -> (StatusCode, Value) {
    let request = Request::post("/v1/transactions")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("Idempotency-Key", key)
        .body(Body::from(json!({"command": command}).to_string()))
        .unwrap();
    send(router, request).await
}

fn propose(transfer: &str, from: &str, to: &str, quantity: u64) -> Value {
    json!({"type": "propose_transfer", "transfer": transfer, "from": from, "to": to,
           "class": CLASS, "quantity": quantity})
}

fn approve(transfer: &str) -> Value {
    json!({"type": "approve_transfer", "transfer": transfer})
}

fn assert_error(
    (status, body): &(StatusCode, Value),
    want: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(*status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    if let Some(f) = field {
        assert_eq!(body["error"]["field"], f, "{body}");
    }
}

/// `account`'s transfers as `token` sees them.
async fn transfers(router: &Router, token: &str, account: &str) -> Vec<Value> {
    let (s, body) = get(
        router,
        &format!("/v1/accounts/{account}/transfers"),
        Some(token),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// One transfer of `account`'s list.
async fn transfer(router: &Router, token: &str, account: &str, id: &str) -> Value {
    transfers(router, token, account)
        .await
        .into_iter()
        .find(|t| t["transfer"] == id)
        .unwrap_or_else(|| panic!("{id} is not in {account}'s transfers"))
}

/// `account`'s units of [`CLASS`] (0 when it holds none).
async fn held(router: &Router, token: &str, account: &str) -> u64 {
    let (s, body) = get(
        router,
        &format!("/v1/accounts/{account}/holdings"),
        Some(token),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["class"] == CLASS)
        .map_or(0, |h| h["quantity"].as_u64().unwrap())
}

/// A time the clock stamped: `start` or at most a few minutes after it (the clock runs at the
/// real rate from its start).
fn assert_stamped(value: &Value, start: &str) {
    let t = local(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    );
    let s = local(start);
    assert!(
        t >= s && t < s + chrono::Duration::minutes(5),
        "{t} is not just after {start}"
    );
}

/// The effects of a write outcome, as JSON.
fn executed(outcome: Option<WriteOutcome>) -> Vec<String> {
    match outcome {
        Some(WriteOutcome::Accepted { effects, .. }) => serde_json::to_value(&effects)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["effect"] == "transfer_executed")
            .map(|e| e["transfer"].as_str().unwrap().to_string())
            .collect(),
        other => panic!("expected an accepted execute_due_transfers, got {other:?}"),
    }
}

// ----- 1. Four eyes -----

/// Wednesday 2025-03-12 11:00 CST: a working day, inside the 10:00-16:00 window, and inside the
/// morning trading session (09:30-11:30).
const WED_11: &str = "2025-03-12T11:00:00";

#[tokio::test]
async fn four_eyes_over_http_reserve_then_move_the_exact_quantity() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let dave = user(&app, "dave", vec![approver(&["TR-SH-001"])], false);

    // alice proposes 2,500,000 to the trusted TR-SH-002 (more than the untrusted limit: trusted
    // accounts are not limited).
    let (s, receipt) = submit(
        &router,
        &u.alice,
        "p-1",
        propose("T-1", "TR-SH-001", "TR-SH-002", 2_950_000),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    assert_eq!(
        receipt["effects"],
        json!([{"effect": "transfer_proposed", "transfer": "T-1", "from": "TR-SH-001",
                "to": "TR-SH-002", "class": CLASS, "quantity": 2_950_000}])
    );
    let t = transfer(&router, &u.alice, "TR-SH-001", "T-1").await;
    assert_eq!(t["status"], "awaiting_approval", "{t}");
    assert_eq!(t["initiator"], "alice");
    assert_eq!(t["quantity"], 2_950_000);
    assert_stamped(&t["proposed_at"], WED_11);
    assert_eq!(
        (&t["approver"], &t["approved_at"], &t["execute_at"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    // Nothing moved yet.
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, HELD);
    assert_eq!(held(&router, &u.carol, "TR-SH-002").await, 0);

    // The 2,500,000 are reserved: 500,000 are free. A second proposal of 500,001 and a sell
    // order of 500,001 are refused; nothing is journaled for them.
    let refused = submit(
        &router,
        &u.alice,
        "p-2",
        propose("T-2", "TR-SH-001", "TR-SH-002", 50_001),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_HOLDINGS",
        Some("command.quantity"),
    );
    let sell = json!({"type": "place_order", "order": "S-1", "account": "TR-SH-001",
                      "class": CLASS, "side": "sell", "price_minor": 8_100,
                      "quantity": 50_001, "time_in_force": "gtc"});
    let refused = submit(&router, &u.alice, "o-1", sell).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
    assert_eq!(
        refused.1["error"]["code"], "INSUFFICIENT_HOLDINGS",
        "{}",
        refused.1
    );
    assert_eq!(transfers(&router, &u.alice, "TR-SH-001").await.len(), 1);

    // alice holds the approver role too, but approving her own transfer is four eyes: 403.
    let same = submit(&router, &u.alice, "a-1", approve("T-1")).await;
    assert_error(&same, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    // carol approves for TR-SH-002, not for the sending account: 403.
    let other = submit(&router, &u.carol, "a-1", approve("T-1")).await;
    assert_error(&other, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    assert!(
        other.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TR-SH-001"),
        "{}",
        other.1
    );
    // dave may approve for TR-SH-001 but has not passed the second factor: 403.
    let weak = submit(&router, &dave, "a-1", approve("T-1")).await;
    assert_error(&weak, StatusCode::FORBIDDEN, "SECOND_FACTOR_REQUIRED", None);
    let t = transfer(&router, &u.alice, "TR-SH-001", "T-1").await;
    assert_eq!(t["status"], "awaiting_approval", "{t}");
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, HELD);

    // bob approves: trusted, Wednesday inside 10:00-16:00 -> executed at once, in the same
    // transaction, exactly 2,500,000 moved.
    let (s, receipt) = submit(&router, &u.bob, "a-1", approve("T-1")).await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    let kinds: Vec<&str> = receipt["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["effect"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["transfer_approved", "transfer_executed", "moved"],
        "{receipt}"
    );
    // Serials 1-1,000 went to the installation, so TR-SH-001 holds 1,001-3,001,000 and sends the
    // first 2,950,000 of them: 1,001-2,951,000.
    assert_eq!(
        receipt["effects"][2]["ranges"],
        json!([[1_001, 2_951_000]]),
        "{receipt}"
    );
    let t = transfer(&router, &u.carol, "TR-SH-002", "T-1").await;
    assert_eq!(t["status"], "executed", "{t}");
    assert_eq!(t["approver"], "bob");
    assert_stamped(&t["approved_at"], WED_11);
    assert_eq!(t["execute_at"], t["approved_at"], "immediate: {t}");
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, 50_000);
    assert_eq!(held(&router, &u.carol, "TR-SH-002").await, 2_950_000);

    // Approved once; a second approval finds nothing pending.
    let again = submit(&router, &u.bob, "a-2", approve("T-1")).await;
    assert_error(
        &again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSFER_NOT_PENDING",
        Some("command.transfer"),
    );

    // The approval is in the authentication audit log beside the journal, with bob as the user
    // and the registry transaction that holds it; the refused second approval is there too.
    let audrey = user(&app, "audrey", vec![Role::Auditor], false);
    let (s, log) = get(&router, "/v1/audit?limit=1000", Some(&audrey)).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let rows = log["records"].as_array().cloned().unwrap_or_default();
    let approved: Vec<&Value> = rows
        .iter()
        .filter(|r| r["event"]["event"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1, "{log}");
    assert_eq!(approved[0]["username"], "bob");
    assert_eq!(approved[0]["event"]["action"], "approve_transfer T-1");
    assert!(
        approved[0]["event"]["transaction"]
            .as_str()
            .is_some_and(|t| t.ends_with(":a-1")),
        "{log}"
    );
    drop(router);
    stop(app).await;
}

// ----- 2. The timetable, through the server's clock -----

/// Proposes (alice) and approves (bob) `id`; returns the transfer as listed afterwards.
async fn propose_and_approve(router: &Router, u: &Users, id: &str, to: &str, q: u64) -> Value {
    let (s, body) = submit(
        router,
        &u.alice,
        &format!("p-{id}"),
        propose(id, "TR-SH-001", to, q),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = submit(router, &u.bob, &format!("a-{id}"), approve(id)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    transfer(router, &u.alice, "TR-SH-001", id).await
}

fn assert_scheduled(t: &Value, execute_at: &str) {
    assert_eq!(t["status"], "scheduled", "{t}");
    assert_eq!(t["execute_at"], execute_at, "{t}");
}

#[tokio::test]
async fn the_timetable_runs_on_the_registry_clock_and_the_yrd_calendar() {
    let dir = registry_dir();

    // Tuesday 2025-03-11 10:30: to the untrusted TR-SH-003, approved before 12:00 -> 12:00 of
    // the next working day, Wednesday 12 March.
    let (app, router) = start(dir.path(), "2025-03-11T10:30:00");
    let u = users(&app);
    let audrey = user(&app, "audrey", vec![Role::Auditor], false);
    let t = propose_and_approve(&router, &u, "U-1", "TR-SH-003", 100).await;
    assert_stamped(&t["approved_at"], "2025-03-11T10:30:00");
    assert_scheduled(&t, "2025-03-12T12:00:00");
    // Not due: the scheduler journals nothing and the transfer stays scheduled.
    assert!(app.execute_due_transfers().await.is_none());
    assert_scheduled(
        &transfer(&router, &u.alice, "TR-SH-001", "U-1").await,
        "2025-03-12T12:00:00",
    );
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, HELD);
    drop(router);
    stop(app).await;

    // Tuesday 13:00: after 12:00 -> 12:00 of the second working day, Thursday 13 March.
    let (app, router) = start(dir.path(), "2025-03-11T13:00:00");
    let t = propose_and_approve(&router, &u, "U-2", "TR-SH-003", 200).await;
    assert_scheduled(&t, "2025-03-13T12:00:00");
    assert!(app.execute_due_transfers().await.is_none());
    drop(router);
    stop(app).await;

    // Friday 2025-03-14 17:00: to the trusted TR-SH-002 after the window -> 10:00 of the next
    // working day, Monday 17 March.
    let (app, router) = start(dir.path(), "2025-03-14T17:00:00");
    let t = propose_and_approve(&router, &u, "T-1", "TR-SH-002", 300).await;
    assert_scheduled(&t, "2025-03-17T10:00:00");
    // U-1 and U-2 fell due meanwhile: one pass executes both (in execute_at order), not T-1.
    assert_eq!(executed(app.execute_due_transfers().await), ["U-1", "U-2"]);
    assert!(app.execute_due_transfers().await.is_none());
    for id in ["U-1", "U-2"] {
        let t = transfer(&router, &u.alice, "TR-SH-001", id).await;
        assert_eq!(t["status"], "executed", "{t}");
    }
    assert_scheduled(
        &transfer(&router, &u.alice, "TR-SH-001", "T-1").await,
        "2025-03-17T10:00:00",
    );
    assert_eq!(held(&router, &audrey, "TR-SH-003").await, 100 + 200);
    drop(router);
    stop(app).await;

    // Monday 10:05: T-1 is due.
    let (app, router) = start(dir.path(), "2025-03-17T10:05:00");
    assert_eq!(executed(app.execute_due_transfers().await), ["T-1"]);
    assert_eq!(
        transfer(&router, &u.alice, "TR-SH-001", "T-1").await["status"],
        "executed"
    );
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, HELD - 600);
    assert_eq!(held(&router, &u.carol, "TR-SH-002").await, 300);
    drop(router);
    stop(app).await;

    // Thursday 2025-04-03 17:00, before Qingming: Friday 4 April is a holiday in config/yrd.toml
    // and 5-6 April the weekend. Trusted, after the window -> Monday 7 April 10:00 (not Friday
    // 4 April); untrusted, after 12:00 -> first working day Monday 7, second Tuesday 8 April
    // 12:00 (not Monday 7).
    let (app, router) = start(dir.path(), "2025-04-03T17:00:00");
    let t = propose_and_approve(&router, &u, "T-2", "TR-SH-002", 400).await;
    assert_scheduled(&t, "2025-04-07T10:00:00");
    let t = propose_and_approve(&router, &u, "U-3", "TR-SH-003", 500).await;
    assert_scheduled(&t, "2025-04-08T12:00:00");
    assert!(app.execute_due_transfers().await.is_none());
    drop(router);
    stop(app).await;

    // Sunday 2025-04-27 11:00 is an adjusted working day (extra_working_days): to a trusted
    // account inside the window it executes at once. T-2 and U-3 are due by now.
    let (app, router) = start(dir.path(), "2025-04-27T11:00:00");
    let t = propose_and_approve(&router, &u, "T-3", "TR-SH-002", 600).await;
    assert_eq!(t["status"], "executed", "{t}");
    assert_eq!(t["execute_at"], t["approved_at"], "{t}");
    assert_stamped(&t["execute_at"], "2025-04-27T11:00:00");
    assert_eq!(executed(app.execute_due_transfers().await), ["T-2", "U-3"]);
    // 100 + 200 + 300 + 400 + 500 + 600 = 2,100 left TR-SH-001.
    assert_eq!(held(&router, &u.alice, "TR-SH-001").await, HELD - 2_100);
    assert_eq!(held(&router, &u.carol, "TR-SH-002").await, 300 + 400 + 600);
    assert_eq!(held(&router, &audrey, "TR-SH-003").await, 100 + 200 + 500);
    let statuses: Vec<(String, String)> = transfers(&router, &u.alice, "TR-SH-001")
        .await
        .iter()
        .map(|t| {
            (
                t["transfer"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Newest proposal first; everything executed.
    let want: Vec<(String, String)> = ["T-3", "U-3", "T-2", "T-1", "U-2", "U-1"]
        .iter()
        .map(|id| (id.to_string(), "executed".to_string()))
        .collect();
    assert_eq!(statuses, want);
    drop(router);
    stop(app).await;
}

// ----- 3. What only the server sets -----

#[tokio::test]
async fn the_server_sets_the_time_and_the_user_and_retries_keep_them() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let admin = user(&app, "admin", vec![administrator("CN-SH")], true);

    // A client-chosen `at` is refused before anything else (even one two hours in the past, which
    // would gain the caller nothing), as is a security command in another user's name.
    let mut early = propose("T-1", "TR-SH-001", "TR-SH-002", 100);
    early["at"] = json!("2025-03-12T09:00:00");
    let r = submit(&router, &u.alice, "p-1", early).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("command.at"),
    );
    let mut as_bob = propose("T-1", "TR-SH-001", "TR-SH-002", 100);
    as_bob["initiator"] = json!("bob");
    let r = submit(&router, &u.alice, "p-1", as_bob).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("command.initiator"),
    );
    let mut due = json!({"type": "execute_due_transfers"});
    due["at"] = json!("2030-01-01T00:00:00");
    let r = submit(&router, &admin, "due-1", due).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("command.at"),
    );
    // execute_due_transfers needs an administrator of every jurisdiction; CN-SH's alone: 403.
    let r = submit(
        &router,
        &admin,
        "due-2",
        json!({"type": "execute_due_transfers"}),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    assert!(transfers(&router, &u.alice, "TR-SH-001").await.is_empty());

    // Naming herself is fine: the server would have.
    let mut own = propose("T-1", "TR-SH-001", "TR-SH-002", 100);
    own["initiator"] = json!("alice");
    let (s, first) = submit(&router, &u.alice, "p-1", own.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["duplicate"], false);
    let t = transfer(&router, &u.alice, "TR-SH-001", "T-1").await;
    assert_eq!(t["initiator"], "alice");
    let proposed_at = t["proposed_at"].clone();
    assert_stamped(&proposed_at, WED_11);
    let mut as_alice = approve("T-1");
    as_alice["approver"] = json!("alice");
    let r = submit(&router, &u.bob, "a-1", as_alice).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("command.approver"),
    );
    drop(router);
    stop(app).await;

    // A day and four hours later, the same key and body (with or without the initiator the
    // server filled in): the original receipt, 200, although the clock now says otherwise.
    let (app, router) = start(dir.path(), "2025-03-13T15:00:00");
    for body in [own, propose("T-1", "TR-SH-001", "TR-SH-002", 100)] {
        let (s, again) = submit(&router, &u.alice, "p-1", body).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["duplicate"], true);
        assert_eq!(
            (&again["tx_id"], &again["seq"], &again["effects"]),
            (&first["tx_id"], &first["seq"], &first["effects"])
        );
    }
    let t = transfer(&router, &u.alice, "TR-SH-001", "T-1").await;
    assert_eq!(t["proposed_at"], proposed_at);
    assert_eq!(transfers(&router, &u.alice, "TR-SH-001").await.len(), 1);
    // The same key with another quantity: 409.
    let r = submit(
        &router,
        &u.alice,
        "p-1",
        propose("T-1", "TR-SH-001", "TR-SH-002", 101),
    )
    .await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "TRANSACTION_ID_REUSED",
        Some("Idempotency-Key"),
    );
    drop(router);
    stop(app).await;
}

// ----- 4. The limit and the trusted list -----

#[tokio::test]
async fn untrusted_transfers_are_limited_and_operator_accounts_send_only_to_trusted_ones() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let otto = user(&app, "otto", vec![representative(&["OHA-SH-001"])], true);

    // TR-SH-003 is on nobody's list: at most 2,000,000 units per transfer.
    let r = submit(
        &router,
        &u.alice,
        "p-1",
        propose("T-1", "TR-SH-001", "TR-SH-003", 2_000_001),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSFER_LIMIT_EXCEEDED",
        Some("command.quantity"),
    );
    assert_eq!(r.1["error"]["violations"].as_array().unwrap().len(), 1);
    let (s, body) = submit(
        &router,
        &u.alice,
        "p-2",
        propose("T-1", "TR-SH-001", "TR-SH-003", 2_000_000),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    // Approved at 11:0x, before 12:00, untrusted -> Thursday 13 March 12:00.
    let (s, body) = submit(&router, &u.bob, "a-1", approve("T-1")).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_scheduled(
        &transfer(&router, &u.alice, "TR-SH-001", "T-1").await,
        "2025-03-13T12:00:00",
    );

    // The operator holding account may send only to its trusted list (empty): even 10 units.
    let r = submit(
        &router,
        &otto,
        "p-1",
        propose("O-1", "OHA-SH-001", "TR-SH-001", 10),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "NOT_TRUSTED",
        Some("command.to"),
    );
    let (s, body) = get(&router, "/v1/accounts/OHA-SH-001/trusted", Some(&otto)).await;
    assert_eq!((s, body), (StatusCode::OK, json!({"items": []})));
    assert!(transfers(&router, &otto, "OHA-SH-001").await.is_empty());
    drop(router);
    stop(app).await;
}

// ----- 5. Suspension -----

#[tokio::test]
async fn a_suspended_account_cannot_propose_and_suspensions_are_for_auditors() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let admin = user(&app, "admin", vec![administrator("CN-SH")], true);
    let lazy = user(&app, "lazy-admin", vec![administrator("CN-SH")], false);
    let audrey = user(&app, "audrey", vec![Role::Auditor], false);
    let suspend = json!({"type": "set_account_suspended", "account": "TR-SH-001",
                         "suspended": true, "reason": "suspected phishing"});

    let r = submit(&router, &lazy, "s-1", suspend.clone()).await;
    assert_error(&r, StatusCode::FORBIDDEN, "SECOND_FACTOR_REQUIRED", None);
    let (s, body) = submit(&router, &admin, "s-1", suspend).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    let r = submit(
        &router,
        &u.alice,
        "p-1",
        propose("T-1", "TR-SH-001", "TR-SH-002", 1),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ACCOUNT_SUSPENDED",
        Some("command.from"),
    );
    assert!(transfers(&router, &u.alice, "TR-SH-001").await.is_empty());

    let want = json!({"accounts": [{"account": "TR-SH-001", "reason": "suspected phishing"}],
                      "processes": []});
    let (s, body) = get(&router, "/v1/suspensions", Some(&audrey)).await;
    assert_eq!((s, body), (StatusCode::OK, want.clone()));
    let (s, body) = get(&router, "/v1/suspensions", Some(&admin)).await;
    assert_eq!((s, body), (StatusCode::OK, want));
    let r = get(&router, "/v1/suspensions", Some(&u.alice)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    let r = get(&router, "/v1/suspensions", None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    drop(router);
    stop(app).await;
}

// ----- 6. Reads -----

#[tokio::test]
async fn transfers_and_trusted_lists_are_read_by_the_parties_only() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let audrey = user(&app, "audrey", vec![Role::Auditor], false);
    let (s, body) = submit(
        &router,
        &u.alice,
        "p-1",
        propose("T-1", "TR-SH-001", "TR-SH-002", 10),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    // The receiver's representative sees the incoming transfer in her own account's list...
    let seen = transfers(&router, &u.carol, "TR-SH-002").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (&seen[0]["transfer"], &seen[0]["from"]),
        (&json!("T-1"), &json!("TR-SH-001"))
    );
    // ...but the sender's account is, to her, the same 404 as an account that does not exist.
    let other = get(&router, "/v1/accounts/TR-SH-001/transfers", Some(&u.carol)).await;
    assert_error(&other, StatusCode::NOT_FOUND, "UNKNOWN_ACCOUNT", Some("id"));
    let unknown = get(&router, "/v1/accounts/TR-SH-999/transfers", Some(&u.carol)).await;
    assert_error(
        &unknown,
        StatusCode::NOT_FOUND,
        "UNKNOWN_ACCOUNT",
        Some("id"),
    );
    assert_eq!(
        other.1["error"]["message"]
            .as_str()
            .unwrap()
            .replace("TR-SH-001", "X"),
        unknown.1["error"]["message"]
            .as_str()
            .unwrap()
            .replace("TR-SH-999", "X")
    );
    let r = get(&router, "/v1/accounts/TR-SH-001/trusted", Some(&u.carol)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "UNKNOWN_ACCOUNT", Some("id"));
    // Anonymous: 401, for an existing account and an unknown one alike.
    for uri in [
        "/v1/accounts/TR-SH-001/transfers",
        "/v1/accounts/TR-SH-999/transfers",
        "/v1/accounts/TR-SH-001/trusted",
    ] {
        let r = get(&router, uri, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    }
    // The auditor reads every account; the approver reads the account he approves for.
    assert_eq!(transfers(&router, &audrey, "TR-SH-001").await.len(), 1);
    assert_eq!(transfers(&router, &u.bob, "TR-SH-001").await.len(), 1);
    // The trusted list as set up: active from Friday 2025-03-07 09:00 (4 working days after
    // Monday 3 March 09:00).
    let (s, body) = get(&router, "/v1/accounts/TR-SH-001/trusted", Some(&u.alice)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"items": [{"trusted": "TR-SH-002", "status": "active", "initiator": "seed-1",
                          "approver": "seed-2", "active_from": "2025-03-07T09:00:00"}]})
    );
    drop(router);
    stop(app).await;
}

// ----- 7. What a hostile trial found (fixed) -----

/// Journal position, to show that a refusal changed nothing.
async fn last_seq(router: &Router) -> u64 {
    let (_, ready) = get(router, "/v1/ready", None).await;
    ready["last_seq"].as_u64().unwrap()
}

#[tokio::test]
async fn commands_naming_unknown_entities_are_refused_before_the_writer() {
    // An approval racing the proposal it approves was authorised against a snapshot that did not
    // yet know the transfer - with no action to check - and then applied. Now a command is
    // authorised against every entity it acts on, or refused.
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let audrey = user(&app, "audrey", vec![Role::Auditor], true);
    let before = last_seq(&router).await;
    for (who, command) in [
        (&audrey, approve("T-NOT-YET")),
        (&u.bob, approve("T-NOT-YET")),
        (
            &u.alice,
            json!({"type": "cancel_transfer", "transfer": "T-NOT-YET"}),
        ),
    ] {
        let refused = submit(&router, who, "race", command).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNKNOWN_REFERENCE",
            Some("command"),
        );
    }
    assert_eq!(last_seq(&router).await, before);
    // Once the proposal is answered, the same approval by someone who may not give it is 403.
    let (s, _) = submit(
        &router,
        &u.alice,
        "p",
        propose("T-NOT-YET", "TR-SH-001", "TR-SH-002", 5),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let refused = submit(&router, &audrey, "race-2", approve("T-NOT-YET")).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    drop(router);
    stop(app).await;
}

#[tokio::test]
async fn an_administrator_alone_cannot_move_a_holders_units() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let admin = user(&app, "ada", vec![administrator("CN-SH")], true);
    let before = last_seq(&router).await;
    let direct = json!({"type": "transfer", "from": "TR-SH-001", "to": "TR-SH-003",
                        "class": CLASS, "quantity": 250_000});
    let refused = submit(&router, &admin, "drain", direct).await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        Some("command.from"),
    );
    assert_eq!(last_seq(&router).await, before);
    // Between the jurisdiction's own accounts the direct transfer remains the administrator's.
    let own = json!({"type": "transfer", "from": "CN-SH-GOV", "to": "CN-SH-RESERVE",
                     "class": CLASS, "quantity": 10});
    let (s, body) = submit(&router, &admin, "own", own).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    drop(router);
    stop(app).await;
}

#[tokio::test]
async fn nobody_moves_the_business_date_or_the_exchange_time() {
    // A future business date would have frozen the registry for everyone (its calendar never
    // runs back); an order's own time could reopen a closed session.
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let admin = user(&app, "ada", vec![administrator("CN-SH")], true);
    let before = last_seq(&router).await;
    let post = |token: String, key: &'static str, body: Value| {
        let router = router.clone();
        async move {
            let request = Request::post("/v1/transactions")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("Idempotency-Key", key)
                .body(Body::from(body.to_string()))
                .unwrap();
            send(&router, request).await
        }
    };
    let order = |time: Option<&str>| {
        let mut o = json!({"type": "place_order", "order": "O-1", "account": "TR-SH-001",
                           "class": CLASS, "side": "sell", "price_minor": 8000, "quantity": 10,
                           "time_in_force": "gtc"});
        if let Some(t) = time {
            o["time"] = json!(t);
        }
        o
    };
    let deposit = json!({"type": "deposit", "account": "TR-SH-001", "amount_minor": 100});
    // The future: refused for everyone.
    for (token, key) in [(u.alice.clone(), "f1"), (admin.clone(), "f2")] {
        let refused = post(
            token,
            key,
            json!({"date": "2030-06-03", "command": deposit}),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "SET_BY_SERVER",
            Some("date"),
        );
    }
    // An earlier date: a representative may not; an administrator may (a back-office entry).
    let refused = post(
        u.alice.clone(),
        "p1",
        json!({"date": "2025-03-11", "command": order(None)}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("date"),
    );
    // An order's own time: at most 5 minutes behind the exchange's clock, or refused.
    let refused = post(
        u.alice.clone(),
        "t1",
        json!({"command": order(Some("09:45:00"))}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SET_BY_SERVER",
        Some("command.time"),
    );
    assert_eq!(last_seq(&router).await, before);
    let (s, body) = post(
        admin.clone(),
        "b1",
        json!({"date": "2025-03-12", "command": deposit}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = post(
        u.alice.clone(),
        "t2",
        json!({"command": order(Some("10:58:00"))}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    drop(router);
    stop(app).await;
}

#[tokio::test]
async fn account_data_is_not_cached_and_trust_is_judged_at_the_servers_clock() {
    let dir = registry_dir();
    let (app, router) = start(dir.path(), WED_11);
    let u = users(&app);
    let request = Request::get("/v1/accounts/TR-SH-001/holdings")
        .header(header::AUTHORIZATION, format!("Bearer {}", u.alice))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        response.headers()[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    // TR-SH-002 was trusted from Friday 7 March 09:00 (approved Monday 3 March); nothing has been
    // applied since the set-up, but on Wednesday 12 March it is active.
    let (s, list) = get(&router, "/v1/accounts/TR-SH-001/trusted", Some(&u.alice)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["status"], "active", "{list}");
    drop(router);
    stop(app).await;
}
