use super::*;
use yrd_config::MarketConfig;
use yrd_types::{AccountId, InstallationId, JurisdictionCode, Money};

fn setup(
    market: &str,
    jurisdiction: &str,
    first_year: u16,
) -> (Compliance, InstallationNo, JurisdictionCode) {
    let (config, _) = MarketConfig::builtin(market).unwrap();
    let mut c = Compliance::new(config.compliance);
    let j = JurisdictionCode::new(jurisdiction).unwrap();
    let no = c
        .register(Installation::new(
            InstallationId::new("I-1").unwrap(),
            AccountId::new("OHA-I-1").unwrap(),
            j.clone(),
            "Plant".into(),
            "power".into(),
            first_year,
        ))
        .unwrap();
    (c, no, j)
}

fn key(no: InstallationNo, year: u16) -> YearKey {
    YearKey {
        installation: no,
        obligation: 0,
        year,
    }
}

fn status(c: &Compliance, no: InstallationNo, year: u16) -> StatusRecord {
    c.year(key(no, year)).unwrap().status.clone().unwrap()
}

#[test]
fn eu_cumulative_status_over_the_period() {
    let (mut c, no, at) = setup("eu-ets", "AT", 2013);
    // 2013: 100 verified, 100 surrendered -> cumulative 100 vs 100: A.
    c.enter_emissions(key(no, 2013), 100, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2013), 100).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2013).unwrap();
    assert_eq!(status(&c, no, 2013).code, StatusCode::A);
    // 2014: 120 verified, 100 surrendered -> cumulative 220 vs 200: B, shortfall 20,
    // penalty 20 t x EUR 100 = EUR 2,000 = 200,000 cents.
    c.enter_emissions(key(no, 2014), 120, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2014), 100).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2014).unwrap();
    let s = status(&c, no, 2014);
    assert_eq!(
        (s.code, s.verified_judged, s.surrendered_judged, s.shortfall),
        (StatusCode::B, 220, 200, 20)
    );
    assert_eq!(s.penalty, Money(200_000));
    // 2015: 100 verified, 130 surrendered -> cumulative 320 vs 330: A again (the obligation
    // remained and was made good).
    c.enter_emissions(key(no, 2015), 100, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2015), 130).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2015).unwrap();
    assert_eq!(status(&c, no, 2015).code, StatusCode::A);
}

#[test]
fn cumulative_resets_at_a_new_trading_period() {
    let (mut c, no, at) = setup("eu-ets", "AT", 2012);
    c.enter_emissions(key(no, 2012), 500, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2012), 400).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2012).unwrap();
    assert_eq!(status(&c, no, 2012).shortfall, 100);
    // 2013 starts the 2013-2020 period: only 2013 counts.
    c.enter_emissions(key(no, 2013), 50, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2013), 50).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2013).unwrap();
    let s = status(&c, no, 2013);
    assert_eq!(
        (s.code, s.verified_judged, s.surrendered_judged),
        (StatusCode::A, 50, 50)
    );
}

#[test]
fn missing_emissions_give_c_and_late_corrections_d_or_e() {
    let (mut c, no, at) = setup("eu-ets", "AT", 2013);
    c.record_surrender(key(no, 2013), 80).unwrap();
    c.process_deadline(&at, 0, "CO2E", 2013).unwrap();
    assert_eq!(status(&c, no, 2013).code, StatusCode::C);
    // A verifier's late entry keeps C but marks the change (the EUTL's C*).
    let rejudged = c
        .enter_emissions(key(no, 2013), 100, EmissionsSource::Verifier)
        .unwrap();
    assert!(rejudged.is_none());
    let s = status(&c, no, 2013);
    assert_eq!((s.code, s.changed_after_deadline), (StatusCode::C, true));
    // The authority corrects to 100: surrendered 80 < 100 -> D with shortfall 20.
    let d = c
        .enter_emissions(key(no, 2013), 100, EmissionsSource::Authority)
        .unwrap()
        .unwrap();
    assert_eq!((d.code, d.shortfall), (StatusCode::D, 20));
    // ... and to 75: 80 >= 75 -> E.
    let e = c
        .enter_emissions(key(no, 2013), 75, EmissionsSource::Authority)
        .unwrap()
        .unwrap();
    assert_eq!(e.code, StatusCode::E);
    assert_eq!(c.year(key(no, 2013)).unwrap().history.len(), 3);
}

#[test]
fn china_annual_rule_penalty_and_allocation_deduction() {
    let (mut c, no, sh) = setup("yrd", "CN-SH", 2019);
    c.enter_emissions(key(no, 2019), 1000, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2019), 900).unwrap();
    c.process_deadline(&sh, 0, "CO2E", 2019).unwrap();
    let s = status(&c, no, 2019);
    // Shortfall 100 t x 5 x CNY 80.00 = CNY 40,000.00 = 4,000,000 fen.
    assert_eq!(
        (s.code, s.shortfall, s.penalty),
        (StatusCode::B, 100, Money(4_000_000))
    );
    // The shortfall comes off the 2020 allocation; once deducted, nothing is pending.
    assert_eq!(c.pending_deduction(key(no, 2020)), 100);
    c.record_allocation(key(no, 2020), 900, 100).unwrap();
    assert_eq!(c.pending_deduction(key(no, 2020)), 0);
    // Annual rule: 2020 is judged on 2020 alone.
    c.enter_emissions(key(no, 2020), 950, EmissionsSource::Verifier)
        .unwrap();
    c.record_surrender(key(no, 2020), 950).unwrap();
    c.process_deadline(&sh, 0, "CO2E", 2020).unwrap();
    assert_eq!(status(&c, no, 2020).code, StatusCode::A);
}

#[test]
fn suspension_exclusion_and_inactivity() {
    let (mut c, no, at) = setup("eu-ets", "AT", 2013);
    c.set_suspended(no, 2013, true).unwrap();
    c.set_no_obligation(key(no, 2014), true).unwrap();
    c.set_active(no, 2015, false).unwrap();
    for year in 2013..=2015 {
        c.process_deadline(&at, 0, "CO2E", year).unwrap();
    }
    assert_eq!(status(&c, no, 2013).code, StatusCode::X);
    assert_eq!(status(&c, no, 2014).code, StatusCode::NoObligation);
    // Inactive: no status at all.
    assert!(c.year(key(no, 2015)).is_none_or(|r| r.status.is_none()));
    // Re-activated in 2016.
    c.set_active(no, 2016, true).unwrap();
    assert!(c.installation(no).active_in(2016));
    assert!(!c.installation(no).active_in(2015));
}

#[test]
fn refusals_change_nothing() {
    let (mut c, no, at) = setup("eu-ets", "AT", 2013);
    c.process_deadline(&at, 0, "CO2E", 2013).unwrap();
    let err = c.process_deadline(&at, 0, "CO2E", 2013).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the 2013 deadline for AT obligation CO2E was already processed"
    );
    c.record_surrender(key(no, 2014), 10).unwrap();
    let err = c.record_reversal(key(no, 2014), 11).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot reverse 11 units: 10 surrendered for 2014"
    );
    assert_eq!(c.year(key(no, 2014)).unwrap().surrendered, 10);
    assert_eq!(
        c.enter_emissions(key(no, 2031), 1, EmissionsSource::Verifier)
            .unwrap_err(),
        ComplianceError::YearOutsidePeriods(2031)
    );
    assert!(matches!(
        c.enter_emissions(key(no, 2012), 1, EmissionsSource::Verifier)
            .unwrap_err(),
        ComplianceError::BeforeFirstYear { .. }
    ));
}
