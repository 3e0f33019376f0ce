//! End-to-end tests of the `yrd-ets` binary: the demo, the EUTL import on the real file, bad
//! input, tampering, and SIGKILL at random points.

mod common;

use common::{bin, journal_len, run, text};

use std::path::{Path, PathBuf};
use std::process::Stdio;

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(path)
}

#[test]
fn demo_runs_the_yrd_market_and_audits_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = run(&["demo", "--data-dir", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // The real 2019 covered-sector total of the four jurisdictions, summed independently from
    // data/ceads/yrd_2019_covered_sectors.csv (Mt x 1e6, rounded half-even per row).
    assert!(t.contains("1,446,811,097 t CO2"), "{t}");
    for j in [
        "CN-SH Shanghai",
        "CN-JS Jiangsu",
        "CN-ZJ Zhejiang",
        "CN-AH Anhui",
    ] {
        assert!(t.contains(j), "{j} missing: {t}");
    }
    assert!(t.contains("audit: clean"), "{t}");
    // A second run recreates its own directory.
    assert!(
        run(&["demo", "--data-dir", dir.to_str().unwrap()])
            .status
            .success()
    );
    // ... but never a directory that is not the demo's.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "x").unwrap();
    let out = run(&["demo", "--data-dir", other.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a demo directory"),
        "{}",
        text(&out)
    );
    assert!(other.join("keep.txt").exists());
}

#[test]
fn eutl_import_agrees_with_the_official_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eutl");
    let report = tmp.path().join("report.csv");
    let file = shared("data/eutl/eutl_installation_years.csv.gz");
    let out = run(&[
        "import",
        "eutl",
        file.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // Agreement counted independently from the written report.
    let mut reader = csv::Reader::from_path(&report).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["id", "year", "official", "computed"]
    );
    let (mut rows, mut agree) = (0u64, 0u64);
    let mut total = 0u64;
    for record in reader.records() {
        let r = record.unwrap();
        total += 1;
        let year: u16 = r[1].parse().unwrap();
        if (2013..=2020).contains(&year) {
            rows += 1;
            agree += u64::from(r[2].trim_end_matches('*') == r[3].trim_end_matches('*'));
        }
    }
    assert_eq!(total, 109_495);
    assert_eq!(rows, 51_650);
    assert!(
        agree * 100 >= rows * 98,
        "2013-2020 agreement {agree}/{rows} below 98 %"
    );
    // The registry the import left behind audits clean.
    let audit = run(&["audit", "--data-dir", dir.to_str().unwrap()]);
    assert!(audit.status.success(), "{}", text(&audit));
    // Running the import again changes nothing: every transaction is a duplicate.
    let before = journal_len(&dir);
    let again = run(&[
        "import",
        "eutl",
        file.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("were already applied"),
        "{}",
        text(&again)
    );
    assert_eq!(journal_len(&dir), before);
}

#[test]
fn malformed_eutl_row_names_file_line_field_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let good = shared("data/eutl/eutl_installation_years.csv.gz");
    // First 50 lines of the real file, with line 40's verified emissions garbled.
    let text_in = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(good).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        let mut lines: Vec<String> = s.lines().take(50).map(str::to_string).collect();
        let mut cols: Vec<String> = lines[39].split(',').map(str::to_string).collect();
        let n = cols.len();
        cols[n - 6] = "12x4".into();
        lines[39] = cols.join(",");
        lines.join("\n")
    };
    let file = tmp.path().join("bad.csv");
    std::fs::write(&file, text_in).unwrap();
    let dir = tmp.path().join("dd");
    let out = run(&[
        "import",
        "eutl",
        file.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
        "--report",
        tmp.path().join("r.csv").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("bad.csv:40: field `VerifiedEmissions`"), "{t}");
    assert!(
        !dir.join("registry.sqlite").exists(),
        "nothing may be written for a malformed file"
    );
}

#[test]
fn bad_submissions_are_refused_with_their_rule_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    assert!(
        run(&[
            "init",
            "--data-dir",
            d,
            "--market",
            "yrd",
            "--date",
            "2024-01-01"
        ])
        .status
        .success()
    );
    let file = tmp.path().join("tx.jsonl");
    let good = r#"{"id":"o1","date":"2024-01-02","command":{"type":"open_account","account":"TR-1","kind":"trading","jurisdiction":"CN-SH","holder_name":"Trader"}}"#;
    std::fs::write(&file, format!("{good}\n")).unwrap();
    assert!(
        run(&["submit", "--data-dir", d, file.to_str().unwrap()])
            .status
            .success()
    );
    let before = journal_len(&dir);
    let cases = [
        (
            r#"{"id":"t1","date":"2024-01-02","command":{"type":"transfer","from":"TR-1","to":"CN-SH-GOV","class":"CN-SH/CEA/2024","quantity":5}}"#,
            "TRANSFER_NOT_PERMITTED",
        ),
        (
            r#"{"id":"t2","date":"2024-01-02","command":{"type":"transfer","from":"TR-9","to":"TR-1","class":"CN-SH/CEA/2024","quantity":5}}"#,
            "UNKNOWN_ACCOUNT",
        ),
        (
            r#"{"id":"t3","date":"2024-01-02","command":{"type":"issue","jurisdiction":"CN-SH","unit_type":"CEA","vintage":2024,"quantity":0}}"#,
            "ZERO_QUANTITY",
        ),
        (
            r#"{"id":"o1","date":"2024-01-02","command":{"type":"open_account","account":"TR-2","kind":"trading","jurisdiction":"CN-SH","holder_name":"Trader"}}"#,
            "TRANSACTION_ID_REUSED",
        ),
    ];
    for (line, code) in cases {
        // A refused line stops the whole file: the good first line is not stored either.
        std::fs::write(
            &file,
            format!(
                "{}\n{line}\n",
                good.replace("o1", "o2").replace("TR-1", "TR-3")
            ),
        )
        .unwrap();
        let out = run(&["submit", "--data-dir", d, file.to_str().unwrap()]);
        assert!(!out.status.success());
        let t = text(&out);
        assert!(t.contains(code) && t.contains("tx.jsonl:2"), "{code}: {t}");
        assert_eq!(journal_len(&dir), before, "{code}: nothing may be stored");
    }
    // Malformed JSON names line and column.
    std::fs::write(
        &file,
        "{\"id\": \"x\", \"date\": \"2024-01-02\", \"command\": {\"type\": \"teleport\"}}\n",
    )
    .unwrap();
    let out = run(&["submit", "--data-dir", d, file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("tx.jsonl:1:"), "{}", text(&out));
    // Negative quantity: not a u64.
    std::fs::write(&file, r#"{"id":"n","date":"2024-01-02","command":{"type":"issue","jurisdiction":"CN-SH","unit_type":"CEA","vintage":2024,"quantity":-5}}"#).unwrap();
    assert!(
        !run(&["submit", "--data-dir", d, file.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(journal_len(&dir), before);
}

#[test]
fn bad_configuration_is_rejected_with_field_and_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("m.toml");
    let text_in = include_str!("../../../config/yrd.toml").replace(
        "reporting_deadline = \"03-31\"",
        "reporting_deadline = \"13-01\"",
    );
    std::fs::write(&cfg, text_in).unwrap();
    let out = run(&["check-config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("13-01"), "{}", text(&out));
    let out = run(&[
        "init",
        "--data-dir",
        tmp.path().join("d").to_str().unwrap(),
        "--market-file",
        cfg.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!tmp.path().join("d").join("registry.sqlite").exists());
}

#[test]
fn audit_names_an_entry_altered_behind_the_registry_s_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    assert!(
        run(&["demo", "--data-dir", dir.to_str().unwrap()])
            .status
            .success()
    );
    {
        // An attacker with file access drops the append-only trigger and edits history.
        let db = rusqlite::Connection::open(dir.join("registry.sqlite")).unwrap();
        let trigger: String = db
            .query_row("SELECT name FROM sqlite_master WHERE type='trigger' AND sql LIKE '%UPDATE ON journal%'", [], |r| r.get(0))
            .unwrap();
        db.execute_batch(&format!("DROP TRIGGER {trigger}"))
            .unwrap();
        let changed = db
            .execute(
                "UPDATE journal SET command = replace(command, '2019', '2018') WHERE seq = 700",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let out = run(&["audit", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("journal entry 700"), "{}", text(&out));
    // Opening for reports refuses the altered journal too.
    let out = run(&["report", "supply", "--data-dir", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("journal entry 700"), "{}", text(&out));
}

/// Kills a writing registry process (transfers, and orders that trade and settle) with SIGKILL at
/// pseudo-random points many times; after each kill the registry must reopen, hold every
/// transaction whose batch was acknowledged, and audit clean - units, cash and reservations.
#[test]
fn sigkill_at_random_points_loses_no_acknowledged_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stress");
    let d = dir.to_str().unwrap();
    let mut seed: u64 = 0x5eed_2019;
    for round in 0..25 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait_ms = 30 + (seed >> 33) % 250;
        let batch = if round % 3 == 0 { "1" } else { "64" };
        let mut child = bin()
            .args(["stress-writer", "--data-dir", d, "--batch", batch])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        let acked = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("acked ").and_then(|n| n.parse::<i64>().ok()))
            .max();
        if !dir.join("registry.sqlite").exists() {
            continue; // killed before the store existed
        }
        let stored = journal_len(&dir);
        if let Some(acked) = acked {
            assert!(
                stored >= acked,
                "round {round}: {acked} acknowledged but only {stored} stored"
            );
        }
        let audit = run(&["audit", "--data-dir", d]);
        assert!(audit.status.success(), "round {round}: {}", text(&audit));
    }
    assert!(
        journal_len(&dir) > 100,
        "the writer should have made progress"
    );
}

#[test]
fn output_to_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut child = bin()
        .args(["demo", "--data-dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close our end like `| head -1` does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with("yrd-ets demo"), "{first}");
    assert_ne!(
        out.status.code(),
        Some(101),
        "panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn importing_another_file_over_a_replay_is_refused_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "id,year,InstallationOrAircraftOperatorID,NationalAdministratorCode,AccountHolderName,AccountStatus,InstallationNameOrAircraftOperatorCode,PermitOrPlanID,MainActivityTypeCode,MainActivityTypeCodeLookup,FirstYearOfEmissions,LastYearOfEmissions,ETSPhase,FreeAllocations,AllowanceInAllocation,VerifiedEmissions,UnitsSurrendered,SurrenderedAllowances,CumulativeVerifiedEmissions,CumulativeSurrenderedUnits,ComplianceCode";
    let row = |alloc: u32| {
        format!(
            "AT-1,2013,1,AT,H,open,P,X,20,Combustion,2013,0,2013-2020,{alloc},{alloc},100,100,100,100,100,A"
        )
    };
    let (a, b) = (tmp.path().join("a.csv"), tmp.path().join("b.csv"));
    std::fs::write(&a, format!("{header}\n{}\n", row(100))).unwrap();
    std::fs::write(&b, format!("{header}\n{}\n", row(90))).unwrap();
    let dir = tmp.path().join("dd");
    let report = tmp.path().join("r.csv");
    let import = |f: &Path| {
        run(&[
            "import",
            "eutl",
            f.to_str().unwrap(),
            "--data-dir",
            dir.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ])
    };
    assert!(import(&a).status.success());
    let before = journal_len(&dir);
    let out = import(&b);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("holds a different replay"),
        "{}",
        text(&out)
    );
    assert_eq!(journal_len(&dir), before);
}
