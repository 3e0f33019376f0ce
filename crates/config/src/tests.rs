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
