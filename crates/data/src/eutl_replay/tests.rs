use super::*;
use crate::eutl::parse_eutl;
use yrd_registry::{MemoryStore, Registry};

const EU: &str = include_str!("../../../../config/eu-ets.toml");
const HEADER: &str = "id,year,InstallationOrAircraftOperatorID,NationalAdministratorCode,AccountHolderName,AccountStatus,InstallationNameOrAircraftOperatorCode,PermitOrPlanID,MainActivityTypeCode,MainActivityTypeCodeLookup,FirstYearOfEmissions,LastYearOfEmissions,ETSPhase,FreeAllocations,AllowanceInAllocation,VerifiedEmissions,UnitsSurrendered,SurrenderedAllowances,CumulativeVerifiedEmissions,CumulativeSurrenderedUnits,ComplianceCode";

/// One CSV row from the columns that matter: allocation, verified, surrendered, cumulative
/// verified, cumulative surrendered, official code.
fn row(
    id: &str,
    year: u16,
    [alloc, verified, surrendered, cum_v, cum_s, code]: [&str; 6],
) -> String {
    let phase = match year {
        2005..=2007 => "2005-2007",
        2008..=2012 => "2008-2012",
        2013..=2020 => "2013-2020",
        _ => "2021-2030",
    };
    let reg = &id[..2];
    format!(
        "{id},{year},1,{reg},Holder {id},open,Plant {id},P1,20,Combustion of fuels,2013,0,{phase},{alloc},{alloc},{verified},{surrendered},{surrendered},{cum_v},{cum_s},{code}"
    )
}

fn replay(rows: &[String]) -> (ReplayPlan, Registry<MemoryStore>) {
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let parsed = parse_eutl("test.csv", text.as_bytes()).unwrap();
    let (config, _) = MarketConfig::builtin("eu-ets").unwrap();
    let plan = plan("test.csv", &parsed, &config).unwrap();
    let mut registry = Registry::create(MemoryStore::new(), EU, "eu-ets", ymd(2013, 1, 1)).unwrap();
    for (s, result) in plan
        .submissions
        .iter()
        .zip(registry.submit_batch(&plan.submissions).unwrap())
    {
        if let Err(e) = result {
            panic!("{} refused: {e}", s.id);
        }
    }
    (plan, registry)
}

fn computed(rows: &[ComparisonRow], id: &str, year: u16) -> String {
    rows.iter()
        .find(|r| r.id == id && r.year == year)
        .unwrap()
        .computed
        .clone()
}

#[test]
fn statuses_follow_the_cumulative_figures() {
    let rows = vec![
        // AT-1: compliant, then short in 2014 (cumulative 250 verified vs 200 surrendered), made
        // good in 2015 (cumulative 330 vs 350).
        row("AT-1", 2013, ["100", "100", "100", "100", "100", "A"]),
        row("AT-1", 2014, ["100", "150", "100", "250", "200", "B"]),
        row("AT-1", 2015, ["100", "80", "150", "330", "350", "A"]),
        // AT-2: verified emissions not entered by the deadline in 2013 (entered later: C*),
        // excluded with no figures in 2014 (-), outside the cycle in 2015 (no status).
        row("AT-2", 2013, ["50", "40", "", "Not Calculated", "0", "C*"]),
        row(
            "AT-2",
            2014,
            ["", "Excluded", "", "Not Calculated", "0", "-"],
        ),
        row("AT-2", 2015, ["", "", "", "", "", ""]),
        // AT-3: holds nothing, must buy 70 units; the published figure was corrected after the
        // deadline from 70 (counted) to 75 (A*).
        row("AT-3", 2013, ["", "75", "70", "70", "70", "A*"]),
        // AT-4: the cumulative surrendered falls from 60 to 50: a reversal of 10.
        row("AT-4", 2013, ["60", "50", "60", "50", "60", "A"]),
        row("AT-4", 2014, ["60", "50", "", "100", "50", "B"]),
    ];
    let (plan, registry) = replay(&rows);
    let (report, agreement) = compare(&plan, registry.state());
    let got: Vec<(String, u16, String)> = report
        .iter()
        .map(|r| (r.id.clone(), r.year, r.computed.clone()))
        .collect();
    let expected = [
        ("AT-1", 2013, "A"),
        ("AT-1", 2014, "B"),
        ("AT-1", 2015, "A"),
        ("AT-2", 2013, "C*"),
        ("AT-2", 2014, "-"),
        ("AT-2", 2015, ""),
        ("AT-3", 2013, "A*"),
        // The 2014 reversal takes back units surrendered for 2013: 2013's figures changed after
        // its deadline, so its A carries the mark.
        ("AT-4", 2013, "A*"),
        ("AT-4", 2014, "B"),
    ];
    for (id, year, code) in expected {
        assert!(
            got.contains(&(id.to_string(), year, code.to_string())),
            "{id} {year}: expected {code}, got {}",
            computed(&report, id, year)
        );
    }
    assert_eq!(agreement.by_phase[&Phase::Three], (9, 9));
    // AT-4's reversal: 60 surrendered, 10 returned; its 2014 shortfall is 100 - 50 = 50.
    let table = yrd_registry::reports::compliance_table(registry.state(), Some(2014), None);
    let at4 = table.iter().find(|r| r.installation == "AT-4").unwrap();
    assert_eq!((at4.shortfall, at4.penalty.0), (50, 50 * 10_000));
    assert!(
        yrd_registry::audit::audit(registry.store())
            .unwrap()
            .is_clean()
    );
}

#[test]
fn replanning_gives_identical_submissions() {
    let rows = [row("BE-9", 2013, ["10", "10", "10", "10", "10", "A"])];
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let parsed = parse_eutl("t.csv", text.as_bytes()).unwrap();
    let (config, _) = MarketConfig::builtin("eu-ets").unwrap();
    let a = plan("t.csv", &parsed, &config).unwrap();
    let b = plan("t.csv", &parsed, &config).unwrap();
    assert_eq!(a.submissions, b.submissions);
}

#[test]
fn unknown_registry_names_the_line() {
    let rows = [
        row("AT-1", 2013, ["1", "1", "1", "1", "1", "A"]),
        row("XX-1", 2013, ["1", "1", "1", "1", "1", "A"]),
    ];
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let parsed = parse_eutl("t.csv", text.as_bytes()).unwrap();
    let (config, _) = MarketConfig::builtin("eu-ets").unwrap();
    let err = plan("t.csv", &parsed, &config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.csv:3: field `NationalAdministratorCode`: registry XX is not a jurisdiction of the eu-ets configuration"
    );
}
