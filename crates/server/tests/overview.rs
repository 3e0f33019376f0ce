//! The web interface's read endpoints (`/v1/auctions`, `/v1/market/{class}/history`,
//! `/v1/compliance/summary`, `/v1/transparency`) and the pages and assets, against a small
//! scenario whose figures are worked out by hand below.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yrd_registry::{Registry, Submission};
use yrd_server::{App, ServerConfig};
use yrd_storage::SqliteStore;

const CLASS: &str = "CN-SH/CEA/2019";

fn order(r: &str, account: &str, side: &str, price: i64, quantity: u64, time: &str) -> Value {
    json!({"type": "place_order", "order": r, "account": account, "class": CLASS, "side": side,
           "price_minor": price, "quantity": quantity, "time_in_force": "gtc", "time": time})
}

/// Shanghai issues 10,000 CEA 2019 and allocates 100 and 200 to two installations; 2,000 go to
/// the auction account, which passes 2,000 on to TR-SH-001.
///
/// 2024-03-04: S1 sells 300 at 81.00; B1 buys 100 at 81.00 (trade 100 @ 81.00); S2 sells 100 at
/// 82.00; B2 (TR-JS-001) buys 300 at 82.00: 200 @ 81.00 from S1, then 100 @ 82.00 from S2.
/// Day: open 8100, high 8200, low 8100, last 8200, volume 400, turnover 100x8100 + 200x8100 +
/// 100x8200 = 3,250,000, VWAP = close = 8125, 3 trades.
/// 2024-03-05: S3 sells 50 at 80.00, B3 buys them: volume 50, turnover 400,000, close 8000; the
/// exchange's current day (not closed).
/// Auction AUC-1 (3,000, lots of 1,000, reserve 70.00): TR-SH-002 bids 2,000 at 75.00, TR-JS-001
/// 2,000 at 72.00; cleared on 2024-03-11 at 72.00 (the lowest accepted bid), 3,000 sold, 2
/// bidders, 2 winners, bid-to-cover 4,000 / 3,000 = 1.33. AUC-2 stays open.
/// Net flows: TR-JS-001 (Jiangsu) holds 300 + 1,000 Shanghai units: CN-JS/CN-SH net -1,300.
fn scenario() -> Vec<(&'static str, Value)> {
    let open = |a: &str, kind: &str, j: &str| json!({"type": "open_account", "account": a, "kind": kind, "jurisdiction": j, "holder_name": a});
    let transfer = |from: &str, to: &str, q: u64| json!({"type": "transfer", "from": from, "to": to, "class": CLASS, "quantity": q});
    let rules = |supply: u64| {
        json!({"supply": supply, "lot": 1000, "reserve_price_minor": 7000, "purchase_limit_pct": null,
        "tie": "random", "seed": 1, "under_subscription": "sell_bids", "ccr": null, "ecr": null})
    };
    vec![
        (
            "2024-03-01",
            open("OHA-SH-001", "operator_holding", "CN-SH"),
        ),
        (
            "2024-03-01",
            open("OHA-SH-002", "operator_holding", "CN-SH"),
        ),
        ("2024-03-01", open("TR-SH-001", "trading", "CN-SH")),
        ("2024-03-01", open("TR-SH-002", "trading", "CN-SH")),
        ("2024-03-01", open("TR-JS-001", "trading", "CN-JS")),
        (
            "2024-03-01",
            json!({"type": "register_installation", "installation": "INST-SH-001", "account": "OHA-SH-001", "name": "Plant 1", "sector": "POWER", "first_year": 2019}),
        ),
        (
            "2024-03-01",
            json!({"type": "register_installation", "installation": "INST-SH-002", "account": "OHA-SH-002", "name": "Plant 2", "sector": "POWER", "first_year": 2019}),
        ),
        (
            "2024-03-01",
            json!({"type": "issue", "jurisdiction": "CN-SH", "unit_type": "CEA", "vintage": 2019, "quantity": 10_000}),
        ),
        (
            "2024-03-01",
            json!({"type": "allocate", "installation": "INST-SH-001", "unit_type": "CEA", "vintage": 2019, "quantity": 100}),
        ),
        (
            "2024-03-01",
            json!({"type": "allocate", "installation": "INST-SH-002", "unit_type": "CEA", "vintage": 2019, "quantity": 200}),
        ),
        ("2024-03-01", transfer("CN-SH-GOV", "CN-SH-AUCTION", 6_000)),
        ("2024-03-01", transfer("CN-SH-AUCTION", "TR-SH-001", 2_000)),
        (
            "2024-03-01",
            json!({"type": "deposit", "account": "TR-SH-002", "amount_minor": 100_000_000}),
        ),
        (
            "2024-03-01",
            json!({"type": "deposit", "account": "TR-JS-001", "amount_minor": 100_000_000}),
        ),
        (
            "2024-03-04",
            order("S1", "TR-SH-001", "sell", 8_100, 300, "10:00:00"),
        ),
        (
            "2024-03-04",
            order("B1", "TR-SH-002", "buy", 8_100, 100, "10:01:00"),
        ),
        (
            "2024-03-04",
            order("S2", "TR-SH-001", "sell", 8_200, 100, "10:02:00"),
        ),
        (
            "2024-03-04",
            order("B2", "TR-JS-001", "buy", 8_200, 300, "10:03:00"),
        ),
        (
            "2024-03-05",
            order("S3", "TR-SH-001", "sell", 8_000, 50, "10:00:00"),
        ),
        (
            "2024-03-05",
            order("B3", "TR-SH-002", "buy", 8_000, 50, "10:01:00"),
        ),
        (
            "2024-03-05",
            json!({"type": "create_auction", "auction": "AUC-1", "class": CLASS, "rules": rules(3_000), "closes": "2024-03-08"}),
        ),
        (
            "2024-03-05",
            json!({"type": "qualify_bidder", "auction": "AUC-1", "account": "TR-SH-002", "group": "G1"}),
        ),
        (
            "2024-03-05",
            json!({"type": "qualify_bidder", "auction": "AUC-1", "account": "TR-JS-001", "group": "G2"}),
        ),
        (
            "2024-03-06",
            json!({"type": "submit_bid", "auction": "AUC-1", "bid": "BID-1", "account": "TR-SH-002", "price_minor": 7_500, "quantity": 2_000}),
        ),
        (
            "2024-03-06",
            json!({"type": "submit_bid", "auction": "AUC-1", "bid": "BID-2", "account": "TR-JS-001", "price_minor": 7_200, "quantity": 2_000}),
        ),
        (
            "2024-03-11",
            json!({"type": "clear_auction", "auction": "AUC-1"}),
        ),
        (
            "2024-03-11",
            json!({"type": "create_auction", "auction": "AUC-2", "class": CLASS, "rules": rules(1_000), "closes": "2024-03-29"}),
        ),
    ]
}

fn serve() -> (tempfile::TempDir, App, Router) {
    let dir = tempfile::tempdir().unwrap();
    let (_, yrd) = yrd_config::MarketConfig::builtin("yrd").unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let mut registry =
        Registry::create(SqliteStore::open(dir.path()).unwrap(), yrd, "yrd", date).unwrap();
    for (i, (date, command)) in scenario().into_iter().enumerate() {
        let s: Submission = serde_json::from_value(
            json!({"id": format!("s/{i}"), "date": date, "command": command}),
        )
        .unwrap();
        if let Err(e) = &registry.submit_batch(std::slice::from_ref(&s)).unwrap()[0] {
            panic!("set-up {i}: {e}");
        }
    }
    drop(registry);
    let app = App::open(&ServerConfig::for_data_dir(dir.path())).unwrap();
    let router = app.router();
    (dir, app, router)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn history_is_derived_from_the_trades_with_the_registrys_close() {
    let (_dir, app, router) = serve();
    let (s, body) = get(&router, "/v1/market/CN-SH%2FCEA%2F2019/history").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"class": CLASS, "source": "recent_trades", "truncated": false, "previous_close": 8125,
               "days": [
                 {"date": "2024-03-04", "open": 8100, "high": 8200, "low": 8100, "last": 8200, "close": 8125,
                  "vwap": 8125, "volume": 400, "turnover": 3_250_000, "trades": 3, "closed": true},
                 {"date": "2024-03-05", "open": 8000, "high": 8000, "low": 8000, "last": 8000, "close": 8000,
                  "vwap": 8000, "volume": 50, "turnover": 400_000, "trades": 1, "closed": false}]})
    );
    let (s, body) = get(
        &router,
        "/v1/market/CN-SH%2FCEA%2F2019/history?from=2024-03-05",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["days"].as_array().unwrap().len(), 1);
    let (s, body) = get(&router, "/v1/market/CN-JS%2FCEA%2F2019/history").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "UNKNOWN_INSTRUMENT");
    let (s, body) = get(&router, "/v1/market/CN-SH%2FCEA%2F2019/history?day=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn auctions_list_public_results_only() {
    let (_dir, app, router) = serve();
    let (s, body) = get(&router, "/v1/auctions").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"auctions": [
            {"auction": "AUC-1", "status": "cleared", "class": CLASS, "closes": "2024-03-08", "supply": 3000,
             "lot": 1000, "reserve_price_minor": 7000, "qualified_bidders": 2, "sealed_bids": 2,
             "clearing_price_minor": 7200, "quantity_offered": 3000, "sold": 3000, "unsold": 0,
             "bidders": 2, "winners": 2, "bid_to_cover": "1.33", "cancelled": false},
            {"auction": "AUC-2", "status": "open", "class": CLASS, "closes": "2024-03-29", "supply": 1000,
             "lot": 1000, "reserve_price_minor": 7000, "qualified_bidders": 0, "sealed_bids": 0,
             "clearing_price_minor": null, "quantity_offered": null, "sold": null, "unsold": null,
             "bidders": null, "winners": null, "bid_to_cover": null, "cancelled": null}]})
    );
    assert!(!body.to_string().contains("TR-"), "no bidder is named");
    app.shutdown().await;
}

#[tokio::test]
async fn compliance_summary_and_status_filter() {
    let (_dir, app, router) = serve();
    let (s, body) = get(&router, "/v1/compliance/summary?year=2019").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"years": [2019], "items": [
            {"jurisdiction": "CN-SH", "obligation": "CO2E", "year": 2019, "installations": 2,
             "compliant": 0, "not_compliant": 0, "pending": 2, "other": 0, "by_status": {"none": 2},
             "allocated": 300, "verified": 0, "surrendered": 0, "shortfall": 0, "penalties": 0}]})
    );
    let (_, body) = get(&router, "/v1/compliance/summary?year=2020").await;
    assert_eq!(body["items"], json!([]));
    let (_, body) = get(&router, "/v1/compliance?status=none").await;
    assert_eq!(body["total"], 2);
    let (_, body) = get(&router, "/v1/compliance?status=A").await;
    assert_eq!(body["total"], 0);
    let (s, body) = get(&router, "/v1/compliance?status=Q").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "status");
    app.shutdown().await;
}

#[tokio::test]
async fn the_transparency_report_aggregates_public_figures() {
    let (_dir, app, router) = serve();
    let (s, body) = get(&router, "/v1/transparency").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["market"], "yrd");
    assert_eq!(body["currency"], "CNY");
    assert_eq!(body["currency_minor_per_major"], 100);
    assert_eq!(body["as_of"], "2024-03-11");
    assert_eq!(body["jurisdictions"].as_array().unwrap().len(), 4);
    assert_eq!(
        body["jurisdictions"][0],
        json!({"code": "CN-SH", "name": "Shanghai", "name_local": "上海"})
    );
    assert_eq!(
        body["supply"],
        json!([{"jurisdiction": "CN-SH", "unit_type": "CEA", "vintage": 2019, "issued": 10000,
                "held": 10000, "surrendered": 0, "cancelled": 0, "deleted": 0}])
    );
    assert_eq!(body["compliance"][0]["pending"], 2);
    assert_eq!(
        body["net_flows"],
        json!([{"first": "CN-JS", "second": "CN-SH", "unit_type": "CEA", "first_to_second": 0,
                "second_to_first": 1300, "net": -1300}])
    );
    // 4 trades: 450 units, turnover 3,650,000, VWAP 8111.1 -> 8111.
    assert_eq!(
        body["market_statistics"],
        json!([{"class": CLASS, "from": "2024-03-04", "to": "2024-03-05", "days": 2, "trades": 4,
                "volume": 450, "turnover": 3_650_000, "vwap": 8111, "last": 8000, "truncated": false}])
    );
    assert_eq!(body["auctions"], 2);
    assert!(!body.to_string().contains("TR-"), "no account is named");
    app.shutdown().await;
}

#[tokio::test]
async fn pages_and_assets_are_served_with_security_headers() {
    let (_dir, app, router) = serve();
    for (uri, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/market/CN-SH/CEA/2019", "text/html; charset=utf-8"),
        ("/accounts/TR-SH-001", "text/html; charset=utf-8"),
        ("/approvals", "text/html; charset=utf-8"),
        ("/compliance", "text/html; charset=utf-8"),
        ("/auctions", "text/html; charset=utf-8"),
        ("/auctions/AUC-1", "text/html; charset=utf-8"),
        ("/transparency", "text/html; charset=utf-8"),
        ("/sign-in", "text/html; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/i18n.js", "text/javascript; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], content_type, "{uri}");
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'")
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        let etag = h[header::ETAG].clone();
        let again = router
            .clone()
            .oneshot(
                Request::get(uri)
                    .header(header::IF_NONE_MATCH, etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{uri}");
    }
    let (s, body) = get(&router, "/assets/missing.js").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    app.shutdown().await;
}
