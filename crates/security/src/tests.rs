//! Timetables worked by hand. 2025-03-07 is a Friday; 2025-04-18 (Good Friday) and 2025-04-21
//! (Easter Monday) are the holidays of the EU test calendar; in the China calendar, 1, 2 and 5 May
//! 2025 are holidays and Sunday 27 April 2025 a working day (State Council notice of 2024-11-12).

use super::*;
use proptest::prelude::*;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// EU defaults with the Easter 2025 holidays.
fn eu() -> SecurityConfig {
    SecurityConfig {
        holidays: vec![day(2025, 4, 18), day(2025, 4, 21)],
        ..SecurityConfig::default()
    }
}

fn china() -> SecurityConfig {
    SecurityConfig {
        utc_offset_minutes: 480,
        holidays: vec![day(2025, 5, 1), day(2025, 5, 2), day(2025, 5, 5)],
        extra_working_days: vec![day(2025, 4, 27)],
        ..SecurityConfig::default()
    }
}

#[test]
fn defaults_are_the_eu_values_and_valid() {
    let c = SecurityConfig::default();
    assert_eq!(c.utc_offset_minutes, 60);
    assert_eq!(c.weekend, vec![Weekday::Sat, Weekday::Sun]);
    assert_eq!(
        c.trusted_window_start,
        NaiveTime::from_hms_opt(10, 0, 0).unwrap()
    );
    assert_eq!(
        c.trusted_window_end,
        NaiveTime::from_hms_opt(16, 0, 0).unwrap()
    );
    assert_eq!(
        c.untrusted_release,
        NaiveTime::from_hms_opt(12, 0, 0).unwrap()
    );
    assert_eq!(c.trusted_activation_working_days, 4);
    assert_eq!(c.untrusted_transfer_limit, 2_000_000);
    assert!(c.validate().is_ok());
    assert!(eu().validate().is_ok());
    assert!(china().validate().is_ok());
}

#[test]
fn toml_section_parses_with_defaults_and_refuses_unknown_fields() {
    let c: SecurityConfig = toml::from_str(
        "utc_offset_minutes = 480\nholidays = [\"2025-05-01\"]\ntrusted_window_end = \"15:30\"\n",
    )
    .unwrap();
    assert_eq!(c.utc_offset_minutes, 480);
    assert_eq!(c.holidays, vec![day(2025, 5, 1)]);
    assert_eq!(
        c.trusted_window_end,
        NaiveTime::from_hms_opt(15, 30, 0).unwrap()
    );
    assert_eq!(c.untrusted_transfer_limit, 2_000_000);
    assert!(toml::from_str::<SecurityConfig>("limit = 5\n").is_err());
    assert!(toml::from_str::<SecurityConfig>("trusted_window_end = \"16:00:00\"\n").is_err());
    assert!(toml::from_str::<SecurityConfig>("trusted_window_end = \"24:00\"\n").is_err());
    let back = toml::to_string(&c).unwrap();
    assert_eq!(toml::from_str::<SecurityConfig>(&back).unwrap(), c);
}

#[test]
fn validation_names_the_field() {
    let fields = |c: SecurityConfig| -> Vec<String> {
        c.validate()
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    };
    let c = SecurityConfig {
        trusted_window_start: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["trusted_window_start"]);
    let c = SecurityConfig {
        untrusted_transfer_limit: 0,
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["untrusted_transfer_limit"]);
    let c = SecurityConfig {
        weekend: all_weekdays().collect(),
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["weekend"]);
    let c = SecurityConfig {
        utc_offset_minutes: 15 * 60,
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["utc_offset_minutes"]);
    let c = SecurityConfig {
        holidays: vec![day(2025, 1, 1), day(2025, 1, 1)],
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["holidays[1]"]);
    // Wednesday 2025-04-30 is no weekend day.
    let c = SecurityConfig {
        extra_working_days: vec![day(2025, 4, 30)],
        ..SecurityConfig::default()
    };
    assert_eq!(fields(c), ["extra_working_days[0]"]);
}

#[test]
fn working_days_skip_weekends_and_holidays() {
    let c = eu();
    assert!(c.is_working_day(day(2025, 3, 7))); // Friday
    assert!(!c.is_working_day(day(2025, 3, 8))); // Saturday
    assert!(!c.is_working_day(day(2025, 3, 9))); // Sunday
    assert!(!c.is_working_day(day(2025, 4, 18))); // Good Friday
    assert_eq!(c.next_working_day(day(2025, 3, 7)), Some(day(2025, 3, 10)));
    assert_eq!(c.next_working_day(day(2025, 3, 8)), Some(day(2025, 3, 10)));
    assert_eq!(c.next_working_day(day(2025, 3, 10)), Some(day(2025, 3, 11)));
    // Thursday before Easter: Friday holiday, weekend, Monday holiday -> Tuesday.
    assert_eq!(c.next_working_day(day(2025, 4, 17)), Some(day(2025, 4, 22)));
    // China: Sunday 27 April 2025 is worked; Labour Day runs 1-5 May.
    let cn = china();
    assert!(cn.is_working_day(day(2025, 4, 27)));
    assert_eq!(
        cn.next_working_day(day(2025, 4, 26)),
        Some(day(2025, 4, 27))
    );
    assert_eq!(cn.next_working_day(day(2025, 4, 30)), Some(day(2025, 5, 6)));
}

#[test]
fn transfers_to_trusted_accounts() {
    let c = eu();
    let t = |a| c.execution_time(true, a).unwrap();
    // Inside the window on a working day: immediate (both ends inclusive).
    assert_eq!(t(at(2025, 3, 7, 15, 0)), at(2025, 3, 7, 15, 0));
    assert_eq!(t(at(2025, 3, 7, 15, 59)), at(2025, 3, 7, 15, 59));
    assert_eq!(t(at(2025, 3, 7, 10, 0)), at(2025, 3, 7, 10, 0));
    assert_eq!(t(at(2025, 3, 7, 16, 0)), at(2025, 3, 7, 16, 0));
    // Friday 16:01 and 17:00: Monday 10:00.
    assert_eq!(t(at(2025, 3, 7, 16, 1)), at(2025, 3, 10, 10, 0));
    assert_eq!(t(at(2025, 3, 7, 17, 0)), at(2025, 3, 10, 10, 0));
    // Before 10:00 on a working day: 10:00 the same day (Art. 35(2)).
    assert_eq!(t(at(2025, 3, 7, 9, 59)), at(2025, 3, 7, 10, 0));
    assert_eq!(t(at(2025, 3, 10, 0, 0)), at(2025, 3, 10, 10, 0));
    // Saturday, any time: Monday 10:00.
    assert_eq!(t(at(2025, 3, 8, 11, 0)), at(2025, 3, 10, 10, 0));
    assert_eq!(t(at(2025, 3, 8, 8, 0)), at(2025, 3, 10, 10, 0));
    // Easter: Thursday 17:00 and Good Friday 11:00 both run on Tuesday 10:00.
    assert_eq!(t(at(2025, 4, 17, 17, 0)), at(2025, 4, 22, 10, 0));
    assert_eq!(t(at(2025, 4, 18, 11, 0)), at(2025, 4, 22, 10, 0));
    // China: Saturday 26 April 17:00 runs on the worked Sunday at 10:00.
    assert_eq!(
        china().execution_time(true, at(2025, 4, 26, 17, 0)),
        Some(at(2025, 4, 27, 10, 0))
    );
}

#[test]
fn transfers_to_untrusted_accounts() {
    let c = eu();
    let u = |a| c.execution_time(false, a).unwrap();
    // Monday 11:00 -> Tuesday 12:00; Monday 12:00 and 13:00 -> Wednesday 12:00.
    assert_eq!(u(at(2025, 3, 10, 11, 0)), at(2025, 3, 11, 12, 0));
    assert_eq!(u(at(2025, 3, 10, 11, 59)), at(2025, 3, 11, 12, 0));
    assert_eq!(u(at(2025, 3, 10, 12, 0)), at(2025, 3, 12, 12, 0));
    assert_eq!(u(at(2025, 3, 10, 13, 0)), at(2025, 3, 12, 12, 0));
    // Friday: 11:59 -> Monday, 12:00 -> Tuesday.
    assert_eq!(u(at(2025, 3, 7, 11, 59)), at(2025, 3, 10, 12, 0));
    assert_eq!(u(at(2025, 3, 7, 12, 0)), at(2025, 3, 11, 12, 0));
    // Saturday (literal reading from any day): 11:00 -> Monday, 13:00 -> Tuesday.
    assert_eq!(u(at(2025, 3, 8, 11, 0)), at(2025, 3, 10, 12, 0));
    assert_eq!(u(at(2025, 3, 8, 13, 0)), at(2025, 3, 11, 12, 0));
    // Easter week: Wednesday 13:00 -> Thursday, then Tuesday; Thursday 13:00 -> Wednesday.
    assert_eq!(u(at(2025, 4, 16, 13, 0)), at(2025, 4, 22, 12, 0));
    assert_eq!(u(at(2025, 4, 17, 11, 0)), at(2025, 4, 22, 12, 0));
    assert_eq!(u(at(2025, 4, 17, 13, 0)), at(2025, 4, 23, 12, 0));
    // China, Labour Day 2025: Wednesday 30 April 13:00 -> Tuesday 6 May, then Wednesday 7 May.
    assert_eq!(
        china().execution_time(false, at(2025, 4, 30, 13, 0)),
        Some(at(2025, 5, 7, 12, 0))
    );
}

#[test]
fn trusted_list_activation_counts_working_days() {
    let c = eu();
    // Friday 09:00 + 4: Mon, Tue, Wed, Thu -> Thursday 09:00.
    assert_eq!(
        c.trusted_activation(at(2025, 3, 7, 9, 0)),
        Some(at(2025, 3, 13, 9, 0))
    );
    // Wednesday before Easter 14:30 + 4: Thu 17, Tue 22, Wed 23, Thu 24 (weekend + 2 holidays).
    assert_eq!(
        c.trusted_activation(at(2025, 4, 16, 14, 30)),
        Some(at(2025, 4, 24, 14, 30))
    );
    // Saturday + 4: Mon, Tue, Wed, Thu.
    assert_eq!(
        c.add_working_days(at(2025, 3, 8, 20, 0), 4),
        Some(at(2025, 3, 13, 20, 0))
    );
    assert_eq!(
        c.add_working_days(at(2025, 3, 8, 20, 0), 0),
        Some(at(2025, 3, 8, 20, 0))
    );
}

#[test]
fn local_time_from_utc() {
    let cn = china();
    assert_eq!(
        cn.local_from_utc(at(2025, 3, 7, 20, 30)),
        Some(at(2025, 3, 8, 4, 30))
    );
    assert_eq!(
        SecurityConfig::default().local_from_utc(at(2025, 3, 7, 9, 0)),
        Some(at(2025, 3, 7, 10, 0))
    );
}

proptest! {
    /// The execution time is never before `at`; unless immediate it falls on a working day at
    /// the configured time; immediate only to a trusted account inside the window.
    #[test]
    fn execution_time_is_never_early_and_on_a_working_day(
        minutes in 0i64..(3 * 366 * 24 * 60),
        to_trusted in any::<bool>(),
        holiday_offsets in proptest::collection::vec(0i64..(3 * 366), 0..40),
    ) {
        let base = at(2024, 1, 1, 0, 0);
        let c = SecurityConfig {
            holidays: {
                let mut h: Vec<NaiveDate> = holiday_offsets
                    .iter()
                    .map(|d| base.date() + Duration::days(*d))
                    .collect();
                h.sort();
                h.dedup();
                h
            },
            ..SecurityConfig::default()
        };
        let when = base + Duration::minutes(minutes);
        let exec = c.execution_time(to_trusted, when).unwrap();
        prop_assert!(exec >= when);
        if exec == when {
            prop_assert!(to_trusted);
            prop_assert!(c.is_working_day(when.date()));
            prop_assert!(when.time() >= c.trusted_window_start && when.time() <= c.trusted_window_end);
        } else {
            prop_assert!(c.is_working_day(exec.date()));
            let expected = if to_trusted { c.trusted_window_start } else { c.untrusted_release };
            prop_assert_eq!(exec.time(), expected);
            // No earlier working-day instant at that time of day was skipped for a trusted
            // transfer: it is the first window start after `when`.
            if to_trusted {
                let mut d = when.date();
                while d < exec.date() {
                    prop_assert!(!(c.is_working_day(d) && d.and_time(expected) > when));
                    d = d.succ_opt().unwrap();
                }
            }
        }
        let active = c.trusted_activation(when).unwrap();
        prop_assert!(active > when);
        prop_assert!(c.is_working_day(active.date()));
    }
}
