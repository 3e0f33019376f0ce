//! End-to-end tests of `yrd-ets auction clear`: exact JSON on a small file, the table, and bad
//! input refused with its line and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yrd-ets"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to a bids file in a fresh temporary directory (kept alive by the guard).
fn bids(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bids.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const TIED: &str = "bidder,group,price,quantity\n\
A,G1,300,2000\n\
B,G2,200,2000\n\
C,G3,200,2000\n\
D,G4,200,2000\n";

fn clear(path: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "auction",
        "clear",
        path.to_str().unwrap(),
        "--supply",
        "5000",
        "--lot",
        "1000",
        "--reserve-price",
        "100",
        "--seed",
        "42",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn json_output_is_exact() {
    // Supply 5,000: A (300) takes 2,000; B, C, D tie at 200 for the 3,000 left. Seed 42 draws
    // D, B, C (keys 7886285670807131020 < 12578764544318200737 < 17529487244874322312 for the
    // 3rd, 1st, 2nd tied bid): D 2,000, B 1,000, C 0. Bid-to-cover 8,000 / 5,000 = 1.60.
    let (_dir, path) = bids(TIED);
    let o = clear(&path, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        concat!(
            r#"{"clearing_price":200,"sold":5000,"awards":{"A":2000,"B":1000,"C":0,"D":2000},"#,
            r#""price_set_by":"bid","quantity_offered":5000,"unsold":0,"ccr_released":0,"#,
            r#""ecr_withheld":0,"cancelled":false,"bidders":4,"winners":3,"bid_to_cover":"1.60","#,
            r#""seed":42}"#,
            "\n"
        )
    );
}

#[test]
fn json_output_pro_rata_and_cancel() {
    // Pro rata: 3,000 over 6,000 tied -> 1,000 each, nothing left for the draw.
    let (_dir, path) = bids(TIED);
    let o = clear(&path, &["--json", "--tie", "pro-rata"]);
    assert!(stdout(&o).starts_with(
        r#"{"clearing_price":200,"sold":5000,"awards":{"A":2000,"B":1000,"C":1000,"D":1000},"#
    ));
    // Supply 9,000 > 8,000 bid: the EU rule cancels, no price.
    let o = run(&[
        "auction",
        "clear",
        path.to_str().unwrap(),
        "--supply",
        "9000",
        "--lot",
        "1000",
        "--reserve-price",
        "100",
        "--under-subscription",
        "cancel",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o)
            .starts_with(r#"{"clearing_price":null,"sold":0,"awards":{"A":0,"B":0,"C":0,"D":0},"#)
    );
}

#[test]
fn table_output_shows_price_and_awards() {
    let (_dir, path) = bids(TIED);
    let o = clear(&path, &[]);
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
    assert!(row(&["clearing price (minor units)", "200"]), "{t}");
    assert!(row(&["D", "G4", "2,000"]), "{t}");
    assert!(row(&["C", "G3", "0"]), "{t}");
}

#[test]
fn a_bad_csv_line_is_named() {
    // Line 4 (after a blank line 3) has a price with a decimal point: prices are minor units.
    let (_dir, path) = bids("bidder,group,price,quantity\nA,G1,300,2000\n\nB,G2,2.50,1000\n");
    let o = clear(&path, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let e = stderr(&o);
    assert!(
        e.contains("bids.csv: line 4, price: AUCTION_NOT_AN_INTEGER"),
        "{e}"
    );

    let (_dir, path) = bids("bidder,group,price,quantity\nA,G1,300,2000\nB,G2,250\n");
    let e = stderr(&clear(&path, &[]));
    assert!(e.contains("line 3, record: AUCTION_BAD_RECORD"), "{e}");
}

#[test]
fn a_bid_off_the_lot_is_refused() {
    let (_dir, path) = bids("bidder,group,price,quantity\nA,G1,300,2000\nB,G2,250,1500\n");
    let o = clear(&path, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("line 3, quantity: AUCTION_OFF_LOT: quantity 1500 is not a multiple of the lot size 1000"),
        "{e}"
    );
}

#[test]
fn bad_rules_are_refused_before_the_bids_are_read() {
    let (_dir, path) = bids(TIED);
    let o = run(&[
        "auction",
        "clear",
        path.to_str().unwrap(),
        "--supply",
        "5500",
        "--lot",
        "1000",
        "--reserve-price",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("AUCTION_SUPPLY_INVALID"),
        "{}",
        stderr(&o)
    );
}

/// A registry auction end to end through `submit` and `auction results`: supply 3,000 in lots
/// of 1,000 at a reserve of 70.00; bids 1,000 @ 80.00 (T1) and 1,000 @ 75.00 + 1,000 @ 72.00
/// (T2) reach the supply at 72.00, which every winner pays.
#[test]
fn a_registry_auction_publishes_its_result_without_bidder_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reg");
    let d = data.to_str().unwrap();
    assert!(
        run(&[
            "init",
            "--data-dir",
            d,
            "--market",
            "yrd",
            "--date",
            "2024-03-01"
        ])
        .status
        .success()
    );
    let lines = [
        r#"{"id":"a1","date":"2024-03-01","command":{"type":"open_account","account":"T1","kind":"trading","jurisdiction":"CN-SH","holder_name":"Trader One"}}"#,
        r#"{"id":"a2","date":"2024-03-01","command":{"type":"open_account","account":"T2","kind":"trading","jurisdiction":"CN-SH","holder_name":"Trader Two"}}"#,
        r#"{"id":"i","date":"2024-03-01","command":{"type":"issue","jurisdiction":"CN-SH","unit_type":"CEA","vintage":2024,"quantity":3000}}"#,
        r#"{"id":"t","date":"2024-03-01","command":{"type":"transfer","from":"CN-SH-GOV","to":"CN-SH-AUCTION","class":"CN-SH/CEA/2024","quantity":3000}}"#,
        r#"{"id":"d1","date":"2024-03-01","command":{"type":"deposit","account":"T1","amount_minor":10000000}}"#,
        r#"{"id":"d2","date":"2024-03-01","command":{"type":"deposit","account":"T2","amount_minor":20000000}}"#,
        r#"{"id":"c","date":"2024-03-01","command":{"type":"create_auction","auction":"A1","class":"CN-SH/CEA/2024","closes":"2024-03-05","rules":{"supply":3000,"lot":1000,"reserve_price_minor":7000,"purchase_limit_pct":null,"tie":"random","seed":7,"under_subscription":"sell_bids","ccr":null,"ecr":null}}}"#,
        r#"{"id":"q1","date":"2024-03-01","command":{"type":"qualify_bidder","auction":"A1","account":"T1","group":"G1"}}"#,
        r#"{"id":"q2","date":"2024-03-01","command":{"type":"qualify_bidder","auction":"A1","account":"T2","group":"G2"}}"#,
        r#"{"id":"b1","date":"2024-03-04","command":{"type":"submit_bid","auction":"A1","bid":"B1","account":"T1","price_minor":8000,"quantity":1000}}"#,
        r#"{"id":"b2","date":"2024-03-04","command":{"type":"submit_bid","auction":"A1","bid":"B2","account":"T2","price_minor":7500,"quantity":1000}}"#,
        r#"{"id":"b3","date":"2024-03-04","command":{"type":"submit_bid","auction":"A1","bid":"B3","account":"T2","price_minor":7200,"quantity":1000}}"#,
    ];
    let file = dir.path().join("auction.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = run(&["submit", "--data-dir", d, file.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let open = run(&["auction", "results", "--data-dir", d, "--auction", "A1"]);
    assert!(
        stdout(&open).contains("bidding open until 2024-03-05; 2 qualified bidders, 3 sealed bids"),
        "{}",
        stdout(&open)
    );
    std::fs::write(
        &file,
        r#"{"id":"clear","date":"2024-03-06","command":{"type":"clear_auction","auction":"A1"}}"#,
    )
    .unwrap();
    assert!(
        run(&["submit", "--data-dir", d, file.to_str().unwrap()])
            .status
            .success()
    );
    let result = run(&["auction", "results", "--data-dir", d, "--auction", "A1"]);
    let text = stdout(&result);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["clearing_price_minor"], 7200);
    assert_eq!(json["sold"], 3000);
    assert!(!text.contains("T1") && !text.contains("T2"), "{text}");
    // The administrator's record names the bidders: T1 won 1,000, T2 2,000.
    let full = stdout(&run(&[
        "auction",
        "results",
        "--data-dir",
        d,
        "--auction",
        "A1",
        "--full",
    ]));
    assert!(
        full.contains("administrator's record") && full.contains("T1") && full.contains("T2"),
        "{full}"
    );
    assert!(
        full.contains("│ T1     ┆ 1000") && full.contains("│ T2     ┆ 2000"),
        "{full}"
    );
    assert!(run(&["audit", "--data-dir", d]).status.success());
}
