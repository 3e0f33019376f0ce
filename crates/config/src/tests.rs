use super::*;
use yrd_types::{JurisdictionCode, Vintage};

fn yrd_text() -> &'static str {
    BUILTIN[0].1
}

fn replaced(from: &str, to: &str) -> String {
    let text = yrd_text();
    assert!(text.contains(from), "fixture text {from:?} not in yrd.toml");
    text.replacen(from, to, 1)
}

fn invalid_field(text: &str) -> (String, String) {
    match MarketConfig::from_toml("test.toml", text) {
        Err(ConfigError::Invalid { field, reason, .. }) => (field, reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn builtins_parse_and_validate() {
    let (yrd, _) = MarketConfig::builtin("yrd").unwrap();
    assert_eq!(yrd.jurisdictions.len(), 4);
    assert_eq!(yrd.jurisdictions[0].code.as_str(), "CN-SH");
    assert_eq!(yrd.compliance.status_rule, StatusRule::Annual);
    let (eu, _) = MarketConfig::builtin("eu-ets").unwrap();
    assert_eq!(eu.compliance.status_rule, StatusRule::CumulativePeriod);
    assert!(
        eu.jurisdiction(&JurisdictionCode::new("AT").unwrap())
            .is_some()
    );
    assert!(matches!(
        MarketConfig::builtin("rggi"),
        Err(ConfigError::UnknownBuiltin(_))
    ));
}

#[test]
fn eu_deadlines_and_banking_follow_the_directive() {
    let (eu, _) = MarketConfig::builtin("eu-ets").unwrap();
    let c = &eu.compliance;
    assert_eq!(String::from(c.surrender_deadline(2013).unwrap()), "04-30");
    assert_eq!(String::from(c.surrender_deadline(2023).unwrap()), "09-30");
    let v = |y| Vintage::new(y).unwrap();
    // Phase 1 units die at the end of phase 1; phase 2 units bank into phase 3 and 4.
    assert!(c.vintage_eligible(v(2006), 2007));
    assert!(!c.vintage_eligible(v(2007), 2008));
    assert!(c.vintage_eligible(v(2010), 2015));
    assert!(c.vintage_eligible(v(2010), 2022));
    // No borrowing.
    assert!(!c.vintage_eligible(v(2016), 2015));
    // Outside every period.
    assert!(!c.vintage_eligible(v(2004), 2005));
}

#[test]
fn unknown_field_is_rejected_with_line() {
    let text = replaced("borrowing = false", "borrowing = false\nbanking = true");
    let err = MarketConfig::from_toml("test.toml", &text).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("unknown field `banking`"), "{msg}");
    assert!(msg.contains("line"), "{msg}");
}

#[test]
fn wrong_type_is_rejected() {
    let text = replaced(
        "currency_minor_per_major = 100",
        "currency_minor_per_major = \"100\"",
    );
    let msg = MarketConfig::from_toml("test.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("currency_minor_per_major"), "{msg}");
}

#[test]
fn duplicate_jurisdiction_is_rejected() {
    let text = replaced("code = \"CN-JS\"", "code = \"CN-SH\"");
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "jurisdictions[1].code");
    assert!(reason.contains("duplicate"), "{reason}");
}

#[test]
fn bad_month_day_is_rejected() {
    let text = replaced(
        "reporting_deadline = \"03-31\"",
        "reporting_deadline = \"02-30\"",
    );
    let msg = MarketConfig::from_toml("test.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("02-30"), "{msg}");
}

#[test]
fn gap_between_periods_is_rejected() {
    let text = replaced("first_year = 2021", "first_year = 2022");
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "compliance.trading_periods[1].first_year");
    assert!(reason.contains("contiguous"), "{reason}");
}

#[test]
fn surrender_unit_type_must_exist() {
    let text = replaced(
        "surrender_unit_types = [\"CEA\"]",
        "surrender_unit_types = [\"CCER\"]",
    );
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "compliance.obligations[0].surrender_unit_types[0]");
    assert_eq!(reason, "unknown unit type CCER");
}

#[test]
fn pollutant_in_tonnes_is_rejected() {
    let text = replaced(
        "kind = \"pollutant_right\"\nbase_unit = \"kg\"",
        "kind = \"pollutant_right\"\nbase_unit = \"t_co2e\"",
    );
    let (field, _) = invalid_field(&text);
    assert_eq!(field, "unit_types[1].base_unit");
}

#[test]
fn invalid_code_names_the_rule() {
    let text = replaced("code = \"CN-AH\"", "code = \"anhui\"");
    let msg = MarketConfig::from_toml("test.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("jurisdiction code"), "{msg}");
}

#[test]
fn non_positive_penalty_is_rejected() {
    let text = replaced("multiple = 5", "multiple = 0");
    let (field, _) = invalid_field(&text);
    assert_eq!(field, "compliance.penalty.multiple");
}

// ---- geography ----

fn yrd_geography() -> yrd_geography::Geography {
    let (yrd, _) = MarketConfig::builtin("yrd").unwrap();
    yrd.geography.expect("yrd ships a geography")
}

#[test]
fn yrd_geography_covers_the_four_jurisdictions_and_the_demonstration_zone() {
    let g = yrd_geography();
    for code in ["CN-SH", "CN-JS", "CN-ZJ", "CN-AH"] {
        let a = g.area(code).unwrap_or_else(|| panic!("no area {code}"));
        assert_eq!(a.jurisdiction.as_str(), code);
        assert_eq!(a.level, yrd_geography::AreaLevel::Province);
    }
    let mut zone: Vec<&str> = g
        .areas
        .iter()
        .filter(|a| a.demonstration_zone)
        .map(|a| a.code.as_str())
        .collect();
    zone.sort_unstable();
    assert_eq!(zone, ["CN-JS-SZ-WJ", "CN-SH-QP", "CN-ZJ-JX-JS"]);
    assert!(
        g.area("CN-AH-XC-GD").is_some(),
        "Guangde, the fourth VOCs pilot area"
    );
    assert!(
        g.receptors.iter().all(|r| r.illustrative),
        "every shipped receptor is illustrative"
    );
    assert!(g.receptors.iter().all(|r| r.headroom() > 0.0));
    let (eu, _) = MarketConfig::builtin("eu-ets").unwrap();
    assert!(eu.geography.is_none());
}

#[test]
fn yrd_geography_judges_pilot_like_transfers() {
    use yrd_geography::{Party, TransferQuery, TransferRule, judge_transfer};
    let g = yrd_geography();
    let u = |c: &str| yrd_types::UnitTypeCode::new(c).unwrap();
    let j = |c: &str| JurisdictionCode::new(c).unwrap();
    let (sh, js, zj, ah) = (j("CN-SH"), j("CN-JS"), j("CN-ZJ"), j("CN-AH"));
    let party = |area, jurisdiction| Party {
        area: Some(area),
        sector: Some("printing-coating"),
        jurisdiction,
    };
    let query = |pollutant, from, to, quantity, approved| TransferQuery {
        pollutant,
        from,
        to,
        quantity,
        approved,
        to_area_net_inflow: 0,
    };
    let (vocs, cod) = (u("VOCS"), u("COD"));
    // Within the demonstration zone's airshed: one for one, no approval.
    let terms = judge_transfer(
        &g,
        &query(
            &vocs,
            party("CN-SH-QP", &sh),
            party("CN-JS-SZ-WJ", &js),
            13_257,
            false,
        ),
    )
    .unwrap();
    assert_eq!((terms.credited, terms.retired), (13_257, 0));
    assert!(!terms.needs_approval);
    // Guangde to Jiashan crosses airsheds: both administrators must approve.
    let gd_js = |approved| {
        judge_transfer(
            &g,
            &query(
                &vocs,
                party("CN-AH-XC-GD", &ah),
                party("CN-ZJ-JX-JS", &zj),
                5_000,
                approved,
            ),
        )
    };
    assert_eq!(
        gd_js(false).unwrap_err().rule,
        TransferRule::CrossAirshedNeedsApproval
    );
    assert!(gd_js(true).unwrap().needs_approval);
    // Water rights at the Jiaxing ratio within the Taihu basin.
    let terms = judge_transfer(
        &g,
        &query(
            &cod,
            party("CN-ZJ-JX-JS", &zj),
            party("CN-SH-QP", &sh),
            1_000,
            false,
        ),
    )
    .unwrap();
    assert_eq!((terms.credited, terms.retired), (666, 334));
    // The Yangtze-bank chemical park shares no basin with Qingpu.
    let refusal = judge_transfer(
        &g,
        &query(
            &cod,
            party("CN-JS-CZ-BJ", &js),
            party("CN-SH-QP", &sh),
            1_000,
            false,
        ),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, TransferRule::CrossBasinWaterTransfer);
    // Changzhou misses its NOx target: nothing net in.
    let refusal = judge_transfer(
        &g,
        &query(
            &u("NOX"),
            party("CN-JS-SZ", &js),
            party("CN-JS-CZ", &js),
            1_000,
            false,
        ),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, TransferRule::NonAttainmentIncrease);
}

#[test]
fn geography_failure_names_the_field_path() {
    let text = replaced("parent = \"CN-JS-SZ\"", "parent = \"CN-XX\"");
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "geography.areas[6].parent");
    assert_eq!(reason, "unknown area \"CN-XX\"");
}

#[test]
fn geography_pollutants_must_be_pollutant_rights() {
    let text = replaced(
        "non_attainment = [\"VOCS\"]            # illustrative",
        "non_attainment = [\"CEA\"]",
    );
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "geography.areas[3].non_attainment[0]");
    assert_eq!(reason, "CEA is not a pollutant_right unit type");
}

#[test]
fn geography_area_in_unknown_jurisdiction_is_rejected() {
    let text = replaced(
        "jurisdiction = \"CN-AH\"\nlevel = \"province\"",
        "jurisdiction = \"CN-HB\"\nlevel = \"province\"",
    );
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "geography.areas[15].jurisdiction");
    assert_eq!(reason, "unknown jurisdiction CN-HB");
}

#[test]
fn geography_unknown_field_is_rejected() {
    let text = replaced("demonstration_zone = true", "demo_zone = true");
    let msg = MarketConfig::from_toml("test.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("unknown field `demo_zone`"), "{msg}");
}

#[test]
fn governed_pollutants_cannot_be_listed_on_the_continuous_exchange() {
    let text = replaced(
        "[exchange]\nunit_types = [\"CEA\"]",
        "[exchange]\nunit_types = [\"CEA\", \"COD\"]",
    );
    let (field, reason) = invalid_field(&text);
    assert_eq!(field, "exchange.unit_types[1]");
    assert!(reason.contains("call market"), "{reason}");
}

// ---- security ----

#[test]
fn security_sections_of_the_builtins() {
    use chrono::{Datelike, NaiveDate, Weekday};
    let (yrd, _) = MarketConfig::builtin("yrd").unwrap();
    let s = yrd.security_or_default();
    assert_eq!(s.utc_offset_minutes, 480);
    assert_eq!(s.untrusted_transfer_limit, 2_000_000);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    // Every listed holiday is a Monday-Friday; every extra working day a weekend day.
    assert!(
        s.holidays
            .iter()
            .all(|h| !matches!(h.weekday(), Weekday::Sat | Weekday::Sun))
    );
    assert!(!s.is_working_day(d(2026, 2, 16)));
    assert!(s.is_working_day(d(2026, 2, 14))); // Saturday worked before Spring Festival 2026
    assert_eq!(s.next_working_day(d(2025, 9, 30)), Some(d(2025, 10, 9)));
    let (eu, _) = MarketConfig::builtin("eu-ets").unwrap();
    assert_eq!(eu.security_or_default().utc_offset_minutes, 60);
}

#[test]
fn security_failure_names_the_field_path() {
    let text = format!(
        "{}\n[security]\nuntrusted_transfer_limit = 0\n",
        include_str!("../../../config/eu-ets.toml")
            .replace("[security]\nutc_offset_minutes = 60\n", "")
    );
    let (field, _) = invalid_field(&text);
    assert_eq!(field, "security.untrusted_transfer_limit");
}
