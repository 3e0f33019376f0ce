//! The trading calendar and sessions. Dates and times are the exchange's local time (China
//! Standard Time for the national market); the caller converts, this crate has no clock.

use crate::{Session, TradingRules};
use chrono::{Datelike, NaiveDate, NaiveTime};

/// True when the exchange trades on `date`: its weekday is one of `working_days` and it is not
/// one of `holidays` (SEEE: trading on working days; the State Council's holiday calendar).
pub fn is_trading_day(rules: &TradingRules, date: NaiveDate) -> bool {
    rules.working_days.contains(&date.weekday()) && !rules.holidays.contains(&date)
}

/// True when continuous (listed agreement) trading is open at `time` on `date`: a trading day
/// and `time` in one of `sessions`, open inclusive and close exclusive (SEEE: 09:30-11:30 and
/// 13:00-15:00). 09:30:00 is open; 11:30:00 is closed, so an order stamped at the closing minute
/// is refused: one rule for every boundary, and no session overlaps the next.
pub fn session_open(rules: &TradingRules, date: NaiveDate, time: NaiveTime) -> bool {
    is_trading_day(rules, date) && in_any(&rules.sessions, time)
}

/// True when block agreement trading is open at `time` on `date`: a trading day and `time` in
/// one of `block_sessions`, open inclusive and close exclusive (SEEE: 13:00-15:00).
pub fn block_session_open(rules: &TradingRules, date: NaiveDate, time: NaiveTime) -> bool {
    is_trading_day(rules, date) && in_any(&rules.block_sessions, time)
}

/// The first trading day strictly after `date`, e.g. the day sale proceeds become withdrawable
/// (SEEE: proceeds of a sale may be withdrawn on the next trading day). A Friday's next trading
/// day is the following Monday unless that is a holiday.
///
/// `None` when no trading day comes within the search bound: `7 x (holidays + 1)` days, which
/// always reaches one when the rules are valid (at least one working day, every holiday removing
/// at most one), or past the end of chrono's calendar.
pub fn next_trading_day(rules: &TradingRules, date: NaiveDate) -> Option<NaiveDate> {
    let days_max = 7 * (rules.holidays.len() + 1);
    let mut day = date;
    for _ in 0..days_max {
        day = day.succ_opt()?;
        if is_trading_day(rules, day) {
            return Some(day);
        }
    }
    None
}

fn in_any(sessions: &[Session], time: NaiveTime) -> bool {
    sessions.iter().any(|s| s.contains(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32, s: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, s).unwrap()
    }

    /// China national rules with the 2024 National Day holiday (Tue 1 - Mon 7 October; 1 Oct 2024
    /// is a Tuesday).
    fn rules() -> TradingRules {
        let mut r = TradingRules::china_national();
        r.holidays = (1..=7).map(|day| d(2024, 10, day)).collect();
        r
    }

    #[test]
    fn weekends_and_holidays_are_closed() {
        let r = rules();
        // 2024-09-27 is a Friday, 28/29 the weekend.
        assert_eq!(d(2024, 9, 27).weekday(), Weekday::Fri);
        assert!(is_trading_day(&r, d(2024, 9, 27)));
        assert!(!is_trading_day(&r, d(2024, 9, 28)));
        assert!(!is_trading_day(&r, d(2024, 9, 29)));
        assert!(is_trading_day(&r, d(2024, 9, 30)));
        // Tuesday 1 October is a working weekday but a holiday.
        assert!(!is_trading_day(&r, d(2024, 10, 1)));
        assert!(!session_open(&r, d(2024, 10, 1), t(10, 0, 0)));
        assert!(is_trading_day(&r, d(2024, 10, 8)));
    }

    #[test]
    fn continuous_sessions_open_inclusive_close_exclusive() {
        let r = rules();
        let day = d(2024, 9, 30);
        assert!(!session_open(&r, day, t(9, 29, 59)));
        assert!(session_open(&r, day, t(9, 30, 0)));
        assert!(session_open(&r, day, t(11, 29, 59)));
        assert!(!session_open(&r, day, t(11, 30, 0)));
        assert!(!session_open(&r, day, t(12, 0, 0)));
        assert!(session_open(&r, day, t(13, 0, 0)));
        assert!(session_open(&r, day, t(14, 59, 59)));
        assert!(!session_open(&r, day, t(15, 0, 0)));
        // Saturday at 10:00 is within session hours but not a trading day.
        assert!(!session_open(&r, d(2024, 9, 28), t(10, 0, 0)));
    }

    #[test]
    fn block_session_is_afternoon_only() {
        let r = rules();
        let day = d(2024, 9, 30);
        assert!(!block_session_open(&r, day, t(10, 0, 0)));
        assert!(!block_session_open(&r, day, t(12, 59, 59)));
        assert!(block_session_open(&r, day, t(13, 0, 0)));
        assert!(!block_session_open(&r, day, t(15, 0, 0)));
        assert!(!block_session_open(&r, d(2024, 9, 29), t(14, 0, 0)));
        let mut none = rules();
        none.block_sessions.clear();
        assert!(!block_session_open(&none, day, t(14, 0, 0)));
    }

    #[test]
    fn next_trading_day_skips_weekends_and_holidays() {
        let r = rules();
        // Friday -> Monday.
        assert_eq!(next_trading_day(&r, d(2024, 9, 27)), Some(d(2024, 9, 30)));
        // Saturday -> Monday.
        assert_eq!(next_trading_day(&r, d(2024, 9, 28)), Some(d(2024, 9, 30)));
        // Midweek -> next day.
        assert_eq!(next_trading_day(&r, d(2024, 9, 24)), Some(d(2024, 9, 25)));
        // Monday 30 Sep -> over the National Day week (1-7 Oct) -> Tuesday 8 Oct.
        assert_eq!(next_trading_day(&r, d(2024, 9, 30)), Some(d(2024, 10, 8)));
        // No working days (invalid rules): bounded search gives None instead of looping.
        let mut never = rules();
        never.working_days.clear();
        assert_eq!(next_trading_day(&never, d(2024, 9, 30)), None);
        // The end of the calendar.
        assert_eq!(next_trading_day(&r, NaiveDate::MAX), None);
    }
}
