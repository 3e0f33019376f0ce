//! End-to-end tests of the exchange commands: the shipped example day (`examples/setup.jsonl`,
//! `examples/trading-day.csv`) with every outcome computed by hand, its re-run, single order and
//! cash commands, market data, and bad input.

mod common;

use common::{journal_len, run, text};

use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The output block of one line of the day: from `file:N:` to the next line's header.
fn block(t: &str, line: u32) -> String {
    let start = format!("trading-day.csv:{line}: ");
    let next = format!("trading-day.csv:{}: ", line + 1);
    let from = t.find(&start).unwrap_or_else(|| panic!("line {line}: {t}"));
    let rest = &t[from..];
    let to = rest
        .find(&next)
        .or_else(|| rest.find("trading-day.csv: "))
        .unwrap_or(rest.len());
    rest[..to].to_string()
}

/// True when one line of `t` holds every cell, in order (tables pad cells to their column).
fn row(t: &str, cells: &[&str]) -> bool {
    t.lines().any(|l| {
        let got: Vec<&str> = l
            .split(['│', '┆'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        got.len() >= cells.len() && got[..cells.len()] == *cells
    })
}

/// A registry created on Friday 1 March 2024 with the example's accounts and units.
fn setup(tmp: &Path) -> PathBuf {
    let dir = tmp.join("reg");
    let d = dir.to_str().unwrap();
    let out = run(&[
        "init",
        "--data-dir",
        d,
        "--market",
        "yrd",
        "--date",
        "2024-03-01",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let setup = example("setup.jsonl");
    let out = run(&["submit", "--data-dir", d, setup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    dir
}

fn cash_of(d: &str, account: &str, date: &str) -> String {
    let out = run(&[
        "cash",
        "balance",
        "--data-dir",
        d,
        "--account",
        account,
        "--date",
        date,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

#[test]
fn the_example_trading_day_gives_the_outcomes_computed_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(tmp.path());
    let d = dir.to_str().unwrap();
    let day = example("trading-day.csv");
    let before = journal_len(&dir);
    let out = run(&["trading-day", "--data-dir", d, day.to_str().unwrap()]);
    let t = text(&out);
    // Refused orders do not stop the day: every line parsed, so the exit code is 0.
    assert!(out.status.success(), "{t}");
    // 20 lines: 15 accepted, 5 refused (refusals are not journaled).
    assert!(
        t.contains("20 lines: 15 applied, 0 already applied before, 5 refused"),
        "{t}"
    );
    assert_eq!(journal_len(&dir), before + 15);

    // Monday 4 March 2024; previous close CNY 80.00 (yrd.toml), band 72.00-88.00; fee 5 bp of
    // the notional from each side, rounded half-up to the fen.
    // Line 4: OHA-SH-001 offers 1,000 t at 81.00 (GTC): rests.
    assert!(
        block(&t, 4).contains("status: open, 1,000 to sell at 81.00"),
        "{t}"
    );
    // Line 5: OHA-SH-002 bids 400 t at 81.20: trades 400 t at the resting 81.00 (a partial
    // fill of S1). Notional 8,100 x 400 = 3,240,000 fen; fee 1,620 fen = 16.20 each side.
    let b = block(&t, 5);
    assert!(
        b.contains(
            "trade: 400 at 81.00, B1 bought from OHA-SH-001 (order S1), fee 16.20 each side"
        ),
        "{b}"
    );
    assert!(b.contains("status: filled"), "{b}");
    // Line 6: TR-SH-001 bids 500 t at 79.00: rests (cancelled on line 11).
    assert!(
        block(&t, 6).contains("status: open, 500 to buy at 79.00"),
        "{t}"
    );
    // Line 7: IOC bid 1,000 t at 81.00 takes the 600 t left of S1 at 81.00 (4,860,000 fen, fee
    // 2,430 = 24.30) and its remaining 400 t are cancelled.
    let b = block(&t, 7);
    assert!(
        b.contains(
            "trade: 600 at 81.00, B3 bought from OHA-SH-001 (order S1), fee 24.30 each side"
        ),
        "{b}"
    );
    assert!(b.contains("order B3: 400 cancelled (unfilled)"), "{b}");
    assert!(
        b.contains("status: partially filled (600 traded), remainder cancelled (unfilled)"),
        "{b}"
    );
    // Line 8: a day order offers 500 t at 80.60: rests.
    assert!(
        block(&t, 8).contains("status: open, 500 to sell at 80.60"),
        "{t}"
    );
    // Line 9: 90.00 is above the band's 88.00.
    assert!(block(&t, 9).contains("REFUSED [TRADING_RULE]"), "{t}");
    assert!(block(&t, 9).contains("7200..=8800"), "{t}");
    // Line 10: TR-SH-001 holds no units, so it cannot sell.
    assert!(
        block(&t, 10).contains("REFUSED [INSUFFICIENT_HOLDINGS]"),
        "{t}"
    );
    // Line 11: the cancel of B2 frees its 500 t.
    let b = block(&t, 11);
    assert!(b.contains("order B2: 500 cancelled (requested)"), "{b}");
    assert!(b.contains("status: cancelled (requested)"), "{b}");
    // Line 12: a bid of 300 t at 80.00 rests below the 80.60 offer.
    assert!(
        block(&t, 12).contains("status: open, 300 to buy at 80.00"),
        "{t}"
    );
    // Line 13: 12:00 is the lunch break (11:30-13:00).
    assert!(
        block(&t, 13).contains("REFUSED [OUTSIDE_TRADING_HOURS]"),
        "{t}"
    );
    // Line 14: amending B5 to 80.60 crosses S2: 300 t at 80.60 (2,418,000 fen, fee 1,209).
    let b = block(&t, 14);
    assert!(b.contains("order B5: price changed to 80.60"), "{b}");
    assert!(
        b.contains(
            "trade: 300 at 80.60, B5 bought from OHA-SH-001 (order S2), fee 12.09 each side"
        ),
        "{b}"
    );
    assert!(b.contains("status: filled"), "{b}");
    // Lines 15-17: halted, a bid is refused, resumed.
    assert!(block(&t, 15).contains("trading halted"), "{t}");
    assert!(block(&t, 16).contains("REFUSED [INSTRUMENT_HALTED]"), "{t}");
    assert!(block(&t, 17).contains("trading resumed"), "{t}");
    // Line 18: S2 reduced by 100: 100 t left.
    assert!(
        block(&t, 18).contains("status: open, 100 to sell at 80.60"),
        "{t}"
    );
    // Line 19: a market bid of 50 t trades at 80.60: 403,000 fen, fee 201.5 -> 202 fen.
    let b = block(&t, 19);
    assert!(
        b.contains("trade: 50 at 80.60, B8 bought from OHA-SH-001 (order S2), fee 2.02 each side"),
        "{b}"
    );
    // Line 20 withdraws 50,000.00 of TR-SH-001's cash; line 21 is refused: OHA-SH-001's sale
    // proceeds become available only on the next trading day.
    assert!(block(&t, 20).contains("CNY 50,000.00 withdrawn"), "{t}");
    assert!(block(&t, 21).contains("REFUSED [INSUFFICIENT_CASH]"), "{t}");

    // The day: 400 + 600 + 300 + 50 = 1,350 t; turnover 3,240,000 + 4,860,000 + 2,418,000 +
    // 403,000 = 10,921,000 fen; VWAP 10,921,000 / 1,350 = 8,089.63 -> 80.90; 50 t still
    // offered at 80.60 (S2), no bid.
    assert!(
        row(
            &t,
            &[
                "CN-SH/CEA/2019",
                "80.00",
                "trading",
                "-",
                "80.60 x 50",
                "81.00",
                "81.00",
                "80.60",
                "80.60",
                "1,350",
                "109,210.00",
                "80.90",
                "4"
            ]
        ),
        "{t}"
    );
    // Cash in fen. OHA-SH-002 (buyer): 100,000,000 - (3,240,000 + 1,620) - (4,860,000 + 2,430)
    // - (2,418,000 + 1,209) - (403,000 + 202) = 89,073,539; it holds 1,000 + 1,350 = 2,350 t.
    // TR-SH-001: 20,000,000 - 5,000,000 = 15,000,000, no units.
    // OHA-SH-001 (seller): 10,921,000 - 5,461 fees = 10,915,539 pending until Tuesday 5 March;
    // 5,000 - 1,350 = 3,650 t held, 50 of them on S2.
    assert!(
        row(
            &t,
            &["OHA-SH-002", "890,735.39", "0.00", "0.00", "2,350", "0"]
        ),
        "{t}"
    );
    assert!(
        row(&t, &["TR-SH-001", "150,000.00", "0.00", "0.00", "0", "0"]),
        "{t}"
    );
    assert!(
        row(
            &t,
            &["OHA-SH-001", "0.00", "0.00", "109,155.39", "3,650", "50"]
        ),
        "{t}"
    );
    let c = cash_of(d, "OHA-SH-001", "2024-03-05");
    assert!(
        row(&c, &["proceeds available from 2024-03-05", "109,155.39"]),
        "{c}"
    );
    assert!(row(&c, &["available on 2024-03-05", "109,155.39"]), "{c}");
    let c = cash_of(d, "OHA-SH-001", "2024-03-04");
    assert!(row(&c, &["available on 2024-03-04", "0.00"]), "{c}");
    // Fees: 2 x (1,620 + 2,430 + 1,209 + 202) = 10,922 fen. Deposits 120,000,000 - withdrawn
    // 5,000,000 = balances 89,073,539 + 15,000,000 + 10,915,539 = 114,989,078 + fees 10,922.
    assert_eq!(
        89_073_539i64 + 15_000_000 + 10_915_539 + 10_922,
        100_000_000 + 20_000_000 - 5_000_000
    );

    // Market data.
    let out = run(&["market", "trades", "--data-dir", d, "--limit", "2"]);
    let m = text(&out);
    assert!(out.status.success(), "{m}");
    assert!(m.contains("last 2 trades, newest first"), "{m}");
    assert!(
        row(&m, &["2024-03-04", "14:30:00", "80.60", "50", "buy"]),
        "{m}"
    );
    let out = run(&[
        "market",
        "book",
        "--data-dir",
        d,
        "--class",
        "CN-SH/CEA/2019",
    ]);
    let m = text(&out);
    assert!(out.status.success(), "{m}");
    assert!(row(&m, &["80.60", "50", "1"]), "{m}");
    let out = run(&["order", "list", "--data-dir", d, "--account", "OHA-SH-001"]);
    let m = text(&out);
    assert!(m.contains("open orders of OHA-SH-001: 1"), "{m}");
    assert!(
        row(&m, &["S2", "CN-SH/CEA/2019", "sell", "80.60", "50"]),
        "{m}"
    );

    let out = run(&["audit", "--data-dir", d]);
    assert!(out.status.success(), "{}", text(&out));

    // Running the same day again is harmless: the accepted lines are duplicates of their ids,
    // the refused ones are not judged again (the halt is over now: line 16 would be accepted),
    // and nothing new is journaled.
    let len = journal_len(&dir);
    let out = run(&["trading-day", "--data-dir", d, day.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("20 lines: 0 applied, 15 already applied before, 5 refused"),
        "{t}"
    );
    assert!(
        block(&t, 16).contains("refused when this file first ran"),
        "{t}"
    );
    assert!(!t.contains("trade:"), "{t}");
    assert_eq!(journal_len(&dir), len);
    let out = run(&["audit", "--data-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn single_commands_print_receipts_and_refusals_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(tmp.path());
    let d = dir.to_str().unwrap();
    let dep = |amount: &str| {
        run(&[
            "cash",
            "deposit",
            "--data-dir",
            d,
            "--account",
            "OHA-SH-002",
            "--amount",
            amount,
            "--date",
            "2024-03-04",
        ])
    };
    let out = dep("1234.56");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("CNY 1,234.56 deposited"),
        "{}",
        text(&out)
    );
    // The same command again is the same transaction id: nothing new.
    let len = journal_len(&dir);
    let out = dep("1234.56");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already applied"), "{}", text(&out));
    assert_eq!(journal_len(&dir), len);
    // Bad amounts are refused before anything is submitted.
    for (bad, why) in [
        ("1234.567", "at most 2"),
        ("-5", "negative"),
        ("1e3", "exponent"),
        ("12,00", "not an amount"),
    ] {
        let out = dep(bad);
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", text(&out));
        assert!(text(&out).contains(why), "{bad}: {}", text(&out));
    }
    assert_eq!(journal_len(&dir), len);

    let place = |order: &str, side: &str, price: &str, qty: &str, time: &str| {
        run(&[
            "order",
            "place",
            "--data-dir",
            d,
            "--account",
            if side == "sell" {
                "OHA-SH-001"
            } else {
                "OHA-SH-002"
            },
            "--class",
            "CN-SH/CEA/2019",
            "--side",
            side,
            "--quantity",
            qty,
            "--price",
            price,
            "--date",
            "2024-03-04",
            "--time",
            time,
            "--order",
            order,
        ])
    };
    let out = place("A1", "sell", "80.00", "10", "09:30");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("transaction cli/order/OHA-SH-001/A1/place"),
        "{}",
        text(&out)
    );
    // 10 x 80.00 = 80,000 fen from the 123,456 deposited; fee 40 fen = 0.40.
    let out = place("A2", "buy", "80.00", "10", "09:31:15");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("trade: 10 at 80.00, A2 bought from OHA-SH-001 (order A1), fee 0.40 each side"),
        "{t}"
    );
    assert!(t.contains("status: filled"), "{t}");
    // Not enough cash left for 100 t: refused with the rule, exit 1, nothing journaled.
    let len = journal_len(&dir);
    let out = place("A3", "buy", "80.00", "100", "09:32");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("[INSUFFICIENT_CASH]"), "{}", text(&out));
    // An instrument that was never issued.
    let out = run(&[
        "order",
        "place",
        "--data-dir",
        d,
        "--account",
        "OHA-SH-002",
        "--class",
        "CN-SH/CEA/2030",
        "--side",
        "buy",
        "--quantity",
        "1",
        "--price",
        "80.00",
        "--date",
        "2024-03-04",
        "--time",
        "09:33",
        "--order",
        "A4",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("[UNKNOWN_INSTRUMENT]"),
        "{}",
        text(&out)
    );
    assert_eq!(journal_len(&dir), len);
    let out = run(&["audit", "--data-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_malformed_trading_day_names_the_line_and_submits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(tmp.path());
    let d = dir.to_str().unwrap();
    let header = "date,time,action,order,account,class,side,price,quantity,tif\n";
    let good = "2024-03-04,09:31,place,S1,OHA-SH-001,CN-SH/CEA/2019,sell,81.00,100,gtc\n";
    let len = journal_len(&dir);
    for (name, body, expected) in [
        (
            "decimals.csv",
            "2024-03-04,09:40,deposit,,OHA-SH-002,,,1000.001,,\n",
            "decimals.csv:3: field `price`: `1000.001` has 3 decimals",
        ),
        (
            "side.csv",
            "2024-03-04,09:32,place,B1,OHA-SH-002,CN-SH/CEA/2019,purchase,81.00,100,gtc\n",
            "side.csv:3: field `side`: `purchase` is not buy or sell",
        ),
        (
            "class.csv",
            "2024-03-04,09:32,place,B1,OHA-SH-002,CN-SH-CEA-2019,buy,81.00,100,gtc\n",
            "class.csv:3: field `class`",
        ),
        (
            "fields.csv",
            "2024-03-04,09:32,place,B1\n",
            "fields.csv:3: 4 fields, expected 10",
        ),
        (
            "time.csv",
            "2024-03-04,09:20,cancel,S1,OHA-SH-001,,,,,\n",
            "time.csv:3: field `time`: 09:20:00 is before 09:31:00 on line 2",
        ),
        (
            "unused.csv",
            "2024-03-04,09:40,cancel,S1,OHA-SH-001,,,,100,\n",
            "unused.csv:3: field `quantity`: `100` given, but `cancel` does not use this column",
        ),
    ] {
        let file = tmp.path().join(name);
        std::fs::write(&file, format!("{header}{good}{body}")).unwrap();
        let out = run(&["trading-day", "--data-dir", d, file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out));
        assert!(text(&out).contains(expected), "{name}: {}", text(&out));
        // The good line before the bad one was not submitted either.
        assert_eq!(journal_len(&dir), len, "{name}");
    }
    // A wrong header.
    let file = tmp.path().join("header.csv");
    std::fs::write(&file, format!("date,time,action\n{good}")).unwrap();
    let out = run(&["trading-day", "--data-dir", d, file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("header.csv:1: the header must be"),
        "{}",
        text(&out)
    );
    // An unknown instrument parses (it is a well-formed class) and is refused by the exchange
    // with its rule; the rest of the day goes on and the exit code is 0.
    let file = tmp.path().join("unknown.csv");
    std::fs::write(
        &file,
        format!(
            "{header}2024-03-04,09:31,place,U1,OHA-SH-001,CN-SH/CEA/2030,sell,81.00,100,gtc\n{good}"
        ),
    )
    .unwrap();
    let out = run(&["trading-day", "--data-dir", d, file.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("REFUSED [UNKNOWN_INSTRUMENT]"), "{t}");
    assert!(
        t.contains("2 lines: 1 applied, 0 already applied before, 1 refused"),
        "{t}"
    );
    assert_eq!(journal_len(&dir), len + 1);
}
