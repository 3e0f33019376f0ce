//! End-to-end tests of `yrd-ets spatial`: the shared river case cleared through the binary (JSON
//! against its `expected` block, and the tables), the hot-spot report with and without a trades
//! file, and bad input refused with exit code 1 and a message naming the file and the place.

mod common;

use common::run;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(path)
}

fn river() -> PathBuf {
    shared("cases/spatial/river3_two_sections.json")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `name` in a fresh temporary directory (kept alive by the guard).
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Every number of `expected` (recursively, strings skipped) within 1e-6 of `got`'s.
fn assert_matches(expected: &Value, got: &Value, path: &str) {
    match expected {
        Value::Number(n) => {
            let (e, g) = (n.as_f64().unwrap(), got.as_f64().unwrap());
            assert!(
                (e - g).abs() <= 1e-6 * e.abs().max(1.0),
                "{path}: {e} vs {g}"
            );
        }
        Value::Object(map) => {
            for (k, v) in map.iter().filter(|(_, v)| !v.is_string()) {
                assert_matches(v, &got[k], &format!("{path}.{k}"));
            }
        }
        other => panic!("{path}: {other}"),
    }
}

#[test]
fn clear_json_matches_the_shared_expected_block() {
    // Hand check in crates/spatial/tests/golden.rs: fills s1a 10, b1 10, s2 4, b2a 10, b2b 5;
    // mu = (50, 40); pi = (42, 70, 40); surplus 1620; revenue 600 = 40 x 15.
    let o = run(&["spatial", "clear", river().to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let case: Value = serde_json::from_str(&std::fs::read_to_string(river()).unwrap()).unwrap();
    let expected = &case["expected"];
    assert_matches(expected, &got, "expected");
    // Rounded fills exactly; the continuous ones within 1e-6.
    assert_eq!(got["fills"], expected["fills"]);
    assert_matches(
        &expected["fills"],
        &got["details"]["continuous_fills"],
        "continuous",
    );
    let mut keys: Vec<&String> = got.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "details",
            "fills",
            "locational_prices",
            "net_change",
            "operator_revenue",
            "receptor_prices",
            "total_surplus"
        ]
    );
}

#[test]
fn clear_tables_show_fills_prices_and_money() {
    let o = run(&["spatial", "clear", river().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    let row = |cells: &[&str]| {
        t.lines().any(|l| {
            let got: Vec<&str> = l
                .split(['│', '┆'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            got == cells
        })
    };
    assert!(row(&["s2", "P2", "sell", "5", "70", "4", "70"]), "{t}");
    assert!(row(&["R1", "0", "0", "50", "yes"]), "{t}");
    assert!(row(&["P1", "-10", "42", "42"]), "{t}");
    assert!(row(&["total surplus (CNY)", "1620.00"]), "{t}");
    assert!(row(&["operator revenue (CNY)", "600.00"]), "{t}");
}

#[test]
fn hotspots_of_the_uniform_pool_name_the_trade_over_r1() {
    // Pool: buys 100 (b1), 90 (b2a), 40 (b2b); sells 20 (s1a), 50 (s1b), 60 (s3), 70 (s2).
    // b1 <- s1a 10 t, b2a <- s1b 10 t; b2b (40) < s3 (60) stops it. Price: [max(50, 40),
    // min(90, 60)] = [50, 60], midpoint 55. s1a (P1) -> b1 (P2) moves R1 by 10 x (1.0 - 0.6) = +4
    // > 0 = headroom: a hot spot on its own. s1b (P1) -> b2a (P3): R1 -6, R2 10 x (1.0 - 0.3) =
    // +7 <= 15. Together: R1 -2, R2 9, within both headrooms.
    let o = run(&["spatial", "hotspots", river().to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["pool_price"], 55.0);
    assert_eq!(v["hot_spot_trades"], 1);
    let trades = v["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 2);
    assert_eq!(trades[0]["seller_bid"], "s1a");
    assert_eq!(trades[0]["buyer_bid"], "b1");
    assert_eq!(trades[0]["seller_location"], "P1");
    assert_eq!(trades[0]["buyer_location"], "P2");
    assert_eq!(trades[0]["quantity"], 10.0);
    assert_eq!(trades[0]["hot_spot_at"], serde_json::json!(["R1"]));
    assert!((trades[0]["load_change"]["R1"].as_f64().unwrap() - 4.0).abs() < 1e-9);
    assert_eq!(trades[1]["hot_spot_at"], serde_json::json!([]));
    let r1 = &v["receptors"]["R1"];
    assert!((r1["trades_load_change"].as_f64().unwrap() + 2.0).abs() < 1e-9);
    assert!(r1["smart_market_load_change"].as_f64().unwrap().abs() < 1e-9);
    assert_eq!(r1["hot_spot"], false);

    let o = run(&["spatial", "hotspots", river().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.contains("price 55 CNY per unit, 2 trades, 20 units"),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.contains("P1 (s1a)") && l.contains("P2 (b1)") && l.contains("R1 (+4 > 0)")),
        "{t}"
    );
}

#[test]
fn hotspots_of_a_trades_file_flag_the_receptor() {
    // 20 t P1 -> P2: R1 +20 x 0.4 = +8 > 0 (HOT SPOT), R2 20 x 0.2 = +4 <= 15; 5 t P3 -> P1:
    // R1 +3, R2 5 x (0.3 - 1.0) = -3.5. Set: R1 +11 > 0, R2 +0.5.
    let (_dir, trades) = file(
        "trades.csv",
        "seller_location,buyer_location,quantity\nP1,P2,20\nP3,P1,5\n",
    );
    let o = run(&[
        "spatial",
        "hotspots",
        river().to_str().unwrap(),
        "--trades",
        trades.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.lines()
            .any(|l| l.contains("R1") && l.contains("11") && l.contains("HOT SPOT")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.contains("R2") && !l.contains("HOT SPOT") && l.contains("0.5")),
        "{t}"
    );
    assert!(t.lines().any(|l| l.contains("R1 (+8 > 0)")), "{t}");
    assert!(t.lines().any(|l| l.contains("R1 (+3 > 0)")), "{t}");

    // An unknown location in the trades file is named with its line.
    let (_dir2, bad) = file(
        "bad.csv",
        "seller_location,buyer_location,quantity\nP1,P9,20\n",
    );
    let o = run(&[
        "spatial",
        "hotspots",
        river().to_str().unwrap(),
        "--trades",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("trades line 2") && e.contains("\"P9\""), "{e}");
}

#[test]
fn bad_case_files_exit_1_naming_file_and_place() {
    let (_dir, path) = file("broken.json", "{\n  \"locations\": [\"P1\",\n}\n");
    let o = run(&["spatial", "clear", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: ") && e.contains("broken.json") && e.contains("line 3, column 1"),
        "{e}"
    );

    let text = std::fs::read_to_string(river()).unwrap().replace(
        r#""location": "P3", "side": "sell""#,
        r#""location": "P4", "side": "sell""#,
    );
    let (_dir, path) = file("unknown.json", &text);
    let o = run(&["spatial", "clear", path.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("SPATIAL_CASE_UNKNOWN_LOCATION") && e.contains("\"s3\"") && e.contains("\"P4\""),
        "{e}"
    );
    assert!(stdout(&o).is_empty());

    let o = run(&["spatial", "clear", "/nonexistent/case.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/case.json"));

    // A solver name clap does not know is a usage error (exit 2).
    let o = run(&[
        "spatial",
        "clear",
        river().to_str().unwrap(),
        "--solver",
        "cplex",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[cfg(not(feature = "highs"))]
#[test]
fn highs_without_the_feature_is_refused() {
    let o = run(&[
        "spatial",
        "clear",
        river().to_str().unwrap(),
        "--solver",
        "highs",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--features highs"), "{}", stderr(&o));
}

#[cfg(feature = "highs")]
#[test]
fn highs_gives_the_same_json() {
    let a = run(&["spatial", "clear", river().to_str().unwrap(), "--json"]);
    let b = run(&[
        "spatial",
        "clear",
        river().to_str().unwrap(),
        "--json",
        "--solver",
        "highs",
    ]);
    assert!(b.status.success(), "{}", stderr(&b));
    let (a, b): (Value, Value) = (
        serde_json::from_str(&stdout(&a)).unwrap(),
        serde_json::from_str(&stdout(&b)).unwrap(),
    );
    assert_eq!(a["fills"], b["fills"]);
    assert_matches(&a["locational_prices"], &b["locational_prices"], "prices");
}
