//! The registry's security timetables: the working-day calendar, when an approved transfer
//! executes, and when an addition to a trusted account list takes effect.
//!
//! Sources (Commission Delegated Regulation (EU) 2019/1122, the Union Registry Regulation):
//!
//! - Art. 35(2): a transfer to an account on the sender's trusted account list that is proposed
//!   for execution (initiated and approved) between 10:00 and 16:00 CET on a working day executes
//!   immediately. Proposed at any other time, it executes at 10:00 the *same* working day if it
//!   was proposed before 10:00, or at 10:00 of the following working day if proposed after 16:00.
//! - Art. 35(3): a transfer to an account not on the list, proposed before 12:00 on a working
//!   day, executes at 12:00 of the following working day; proposed after 12:00, at 12:00 of the
//!   second working day after the day it was proposed.
//! - Art. 23(4): additions to the trusted account list take effect after a delay of working days
//!   (the regulation: at 12:00 on the fourth working day; yrd-ets, following the project brief,
//!   keeps the time of day of the approval - see [`SecurityConfig::add_working_days`]).
//!
//! Everything here is a pure function of a [`SecurityConfig`] and registry local time
//! ([`NaiveDateTime`], `utc_offset_minutes` from UTC): there is no clock. The caller (the
//! registry's commands) carries the time in; replaying the journal recomputes the same answers.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// The most holidays (and extra working days) a configuration may list: 4,096 is some forty
/// years of public holidays, and it bounds the search of [`SecurityConfig::next_working_day`].
pub const MAX_HOLIDAYS: usize = 4_096;

/// The largest UTC offset accepted, minutes (UTC+14:00, Kiribati; UTC-12:00 on the other side).
pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;

/// The longest trusted-list activation delay accepted, working days.
pub const MAX_ACTIVATION_WORKING_DAYS: u32 = 60;

/// The registry's security timetable and limits (`[security]` in the market configuration).
/// Every field has a default, the EU value, so an absent section means "like the Union Registry".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Registry local time, minutes east of UTC: every `at` in a registry command is in this
    /// time (EU Reg. 2019/1122 Art. 35 states its times in CET: 60; the YRD market: 480).
    #[serde(default = "default_utc_offset_minutes")]
    pub utc_offset_minutes: i32,
    /// Weekdays that are never working days (Saturday and Sunday when omitted).
    #[serde(default = "default_weekend")]
    pub weekend: Vec<Weekday>,
    /// Dates that are not working days although their weekday is (public holidays), written as
    /// quoted strings, `holidays = ["2025-10-01"]`.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Weekend dates that are working days (China's adjusted working days, 调休上班), quoted
    /// strings; none when omitted.
    #[serde(default)]
    pub extra_working_days: Vec<NaiveDate>,
    /// Start of the window in which a transfer to a trusted account executes immediately,
    /// inclusive, `HH:MM` (EU Reg. 2019/1122 Art. 35(2): 10:00).
    #[serde(default = "default_trusted_window_start", with = "hhmm")]
    pub trusted_window_start: NaiveTime,
    /// End of that window, inclusive, `HH:MM` (Art. 35(2): 16:00).
    #[serde(default = "default_trusted_window_end", with = "hhmm")]
    pub trusted_window_end: NaiveTime,
    /// Time of day a transfer to an untrusted account executes, and the cut-off deciding whether
    /// that is on the first or the second following working day, `HH:MM` (Art. 35(3): 12:00).
    #[serde(default = "default_untrusted_release", with = "hhmm")]
    pub untrusted_release: NaiveTime,
    /// Working days after its approval that an addition to a trusted account list takes effect
    /// (Art. 23(4); project brief: 4).
    #[serde(default = "default_trusted_activation_working_days")]
    pub trusted_activation_working_days: u32,
    /// Largest quantity, base units, one transfer may move to an account that is not on the
    /// sender's trusted list (project brief after Art. 23(3a): 2,000,000). Surrender and
    /// deletion are never limited.
    #[serde(default = "default_untrusted_transfer_limit")]
    pub untrusted_transfer_limit: u64,
}

fn default_utc_offset_minutes() -> i32 {
    60
}
fn default_weekend() -> Vec<Weekday> {
    vec![Weekday::Sat, Weekday::Sun]
}
fn default_trusted_window_start() -> NaiveTime {
    NaiveTime::from_hms_opt(10, 0, 0).expect("valid time")
}
fn default_trusted_window_end() -> NaiveTime {
    NaiveTime::from_hms_opt(16, 0, 0).expect("valid time")
}
fn default_untrusted_release() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).expect("valid time")
}
fn default_trusted_activation_working_days() -> u32 {
    4
}
fn default_untrusted_transfer_limit() -> u64 {
    2_000_000
}

impl Default for SecurityConfig {
    /// The EU values (EU Reg. 2019/1122 Art. 23, 35; CET), no holidays.
    fn default() -> Self {
        SecurityConfig {
            utc_offset_minutes: default_utc_offset_minutes(),
            weekend: default_weekend(),
            holidays: Vec::new(),
            extra_working_days: Vec::new(),
            trusted_window_start: default_trusted_window_start(),
            trusted_window_end: default_trusted_window_end(),
            untrusted_release: default_untrusted_release(),
            trusted_activation_working_days: default_trusted_activation_working_days(),
            untrusted_transfer_limit: default_untrusted_transfer_limit(),
        }
    }
}

impl SecurityConfig {
    /// Checks the configuration is coherent. Returns every failure as `(field, reason)`, e.g.
    /// `("trusted_window_start", "must be before trusted_window_end (16:00)")`.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut failures = Vec::new();
        let mut fail = |field: &str, reason: String| failures.push((field.to_string(), reason));
        if self.utc_offset_minutes.abs() > MAX_UTC_OFFSET_MINUTES {
            fail(
                "utc_offset_minutes",
                format!(
                    "must be within -{MAX_UTC_OFFSET_MINUTES}..={MAX_UTC_OFFSET_MINUTES} minutes"
                ),
            );
        }
        if self.weekend.len() >= 7 || all_weekdays().all(|d| self.weekend.contains(&d)) {
            fail(
                "weekend",
                "must leave at least one weekday a working day".into(),
            );
        }
        for (i, day) in self.weekend.iter().enumerate() {
            if self.weekend[..i].contains(day) {
                fail("weekend", format!("duplicate {day}"));
            }
        }
        for (field, dates) in [
            ("holidays", &self.holidays),
            ("extra_working_days", &self.extra_working_days),
        ] {
            if dates.len() > MAX_HOLIDAYS {
                fail(field, format!("at most {MAX_HOLIDAYS} dates may be listed"));
                continue;
            }
            for (i, date) in dates.iter().enumerate() {
                if dates[..i].contains(date) {
                    fail(&format!("{field}[{i}]"), format!("duplicate {date}"));
                }
            }
        }
        for (i, date) in self.extra_working_days.iter().enumerate() {
            if !self.weekend.contains(&date.weekday()) {
                fail(
                    &format!("extra_working_days[{i}]"),
                    format!("{date} is a {}, not a weekend day", date.weekday()),
                );
            }
            if self.holidays.contains(date) {
                fail(
                    &format!("extra_working_days[{i}]"),
                    format!("{date} is also listed as a holiday"),
                );
            }
        }
        if self.trusted_window_start >= self.trusted_window_end {
            fail(
                "trusted_window_start",
                format!(
                    "must be before trusted_window_end ({})",
                    self.trusted_window_end.format("%H:%M")
                ),
            );
        }
        if self.trusted_activation_working_days > MAX_ACTIVATION_WORKING_DAYS {
            fail(
                "trusted_activation_working_days",
                format!("must be at most {MAX_ACTIVATION_WORKING_DAYS}"),
            );
        }
        if self.untrusted_transfer_limit == 0 {
            fail(
                "untrusted_transfer_limit",
                "must be positive (base units)".into(),
            );
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }

    /// Registry local time of a UTC instant (`utc + utc_offset_minutes`); what the server stamps
    /// into a command's `at`. `None` past the end of chrono's calendar.
    pub fn local_from_utc(&self, utc: NaiveDateTime) -> Option<NaiveDateTime> {
        utc.checked_add_signed(Duration::minutes(i64::from(self.utc_offset_minutes)))
    }

    /// True when `date` is a working day: an extra working day, or a weekday outside `weekend`
    /// that is not a holiday (EU Reg. 2019/1122 Art. 3: working days of the registry).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.extra_working_days.contains(&date) {
            return true;
        }
        !self.weekend.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The first working day strictly after `date`. `None` when none comes within
    /// `7 x (holidays + 1)` days - never, for a valid configuration (at least one weekday works
    /// and every holiday removes at most one day) - or past the end of chrono's calendar.
    pub fn next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let days_max = 7 * (self.holidays.len() + 1);
        let mut day = date;
        for _ in 0..days_max {
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                return Some(day);
            }
        }
        None
    }

    /// `n` working days after `at`, same time of day: the working day reached by taking
    /// [`Self::next_working_day`] `n` times from `at`'s date (a Saturday's first working day is
    /// Monday). `at` itself for `n = 0`. Used for the trusted-list activation (project brief:
    /// "additions take effect after 4 working days"; EU Reg. 2019/1122 Art. 23(4) states 12:00 CET
    /// of the fourth working day - see docs/security.md).
    pub fn add_working_days(&self, at: NaiveDateTime, n: u32) -> Option<NaiveDateTime> {
        let mut day = at.date();
        for _ in 0..n {
            day = self.next_working_day(day)?;
        }
        Some(day.and_time(at.time()))
    }

    /// When the trusted-list addition approved at `at` takes effect:
    /// `add_working_days(at, trusted_activation_working_days)`.
    pub fn trusted_activation(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.add_working_days(at, self.trusted_activation_working_days)
    }

    /// When a transfer proposed for execution (approved) at `at` executes (EU Reg. 2019/1122
    /// Art. 35(2)-(3)):
    ///
    /// - to a trusted account: `at` itself when `at` is on a working day within
    ///   `[trusted_window_start, trusted_window_end]` (both inclusive); on a working day before
    ///   the window, its start the same day (Art. 35(2) second subparagraph: "at 10:00 on the
    ///   same working day if proposed before 10:00"); otherwise (after the window, or on a
    ///   non-working day) the window's start on the next working day;
    /// - to an untrusted account: proposed before `untrusted_release`, that time of the next
    ///   working day; at or after it, that time of the second working day. This is applied from
    ///   any day, working or not (the brief's literal reading; the regulation speaks only of
    ///   proposals made on a working day): Saturday 11:00 executes Monday 12:00, Saturday 13:00
    ///   Tuesday 12:00.
    ///
    /// The result is never before `at`. `None` only for an invalid configuration (see
    /// [`Self::next_working_day`]).
    pub fn execution_time(&self, to_trusted: bool, at: NaiveDateTime) -> Option<NaiveDateTime> {
        let (date, time) = (at.date(), at.time());
        if to_trusted {
            let working = self.is_working_day(date);
            if working && time >= self.trusted_window_start && time <= self.trusted_window_end {
                return Some(at);
            }
            if working && time < self.trusted_window_start {
                return Some(date.and_time(self.trusted_window_start));
            }
            let next = self.next_working_day(date)?;
            return Some(next.and_time(self.trusted_window_start));
        }
        let first = self.next_working_day(date)?;
        let day = if time < self.untrusted_release {
            first
        } else {
            self.next_working_day(first)?
        };
        Some(day.and_time(self.untrusted_release))
    }
}

fn all_weekdays() -> impl Iterator<Item = Weekday> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
}

/// Strict `HH:MM` (00-23, 00-59) for the configuration's times of day.
mod hhmm {
    use chrono::{NaiveTime, Timelike};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn parse(s: &str) -> Option<NaiveTime> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
    }

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", t.hour(), t.minute()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| D::Error::custom(format!("{text:?} is not a time HH:MM")))
    }
}

#[cfg(test)]
mod tests;
