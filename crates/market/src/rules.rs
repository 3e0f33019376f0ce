//! The configuration of the exchange's trading rules and its semantic validation.

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// The most trading sessions (of either kind) a day may have; a day of eight windows is already
/// more fragmented than any exchange's.
pub const MAX_SESSIONS: usize = 8;

/// The most holidays a configuration may list: 4,096 is some forty years of Chinese public
/// holidays, and it bounds [`crate::next_trading_day`]'s search.
pub const MAX_HOLIDAYS: usize = 4_096;

/// One trading window of a day, `open` inclusive and `close` exclusive: an order at 09:30:00 is
/// in the 09:30-11:30 session, one at 11:30:00 is not. Written in TOML as
/// `{ open = "09:30", close = "11:30" }`, local exchange time (China Standard Time for the national
/// market), strictly `HH:MM` with `HH` 00-23 and `MM` 00-59.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// First instant of the session (inclusive).
    #[serde(with = "hhmm")]
    pub open: NaiveTime,
    /// First instant after the session (exclusive).
    #[serde(with = "hhmm")]
    pub close: NaiveTime,
}

impl Session {
    /// A session from `HH:MM` strings, for defaults and tests.
    ///
    /// Panics if either string is not strict `HH:MM`; configuration input goes through serde,
    /// which returns the error instead.
    pub fn hhmm(open: &str, close: &str) -> Session {
        Session {
            open: hhmm::parse(open).expect("open must be HH:MM"),
            close: hhmm::parse(close).expect("close must be HH:MM"),
        }
    }

    /// True when `time` is in `[open, close)`.
    pub fn contains(&self, time: NaiveTime) -> bool {
        self.open <= time && time < self.close
    }
}

/// The trading rules of one market, as configured (TOML, `deny_unknown_fields`). Prices are in
/// the currency's minor unit per base unit (CNY fen per t), quantities in base units (t).
///
/// Deserialising checks only the format; call [`TradingRules::validate`] before use. Functions of
/// this crate given rules that fail validation do not panic on bad data, but their answers are
/// then meaningless (a zero tick is the exception: it is a bug and panics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingRules {
    /// Price tick in minor units per base unit: every order price is a multiple of it (SEEE: CNY
    /// 0.01 = 1 fen per t).
    pub tick_minor: i64,
    /// Trading lot in base units: every order quantity is a multiple of it (SEEE: 1 t).
    pub lot: u64,
    /// Half-width of the listed agreement (book) price band, percent of the previous close
    /// (SEEE: 10).
    pub price_band_pct: u32,
    /// Quantity in base units from which an order is a block trade: book orders must be below it,
    /// block trades at or above it (SEEE: 100,000 t).
    pub block_threshold: u64,
    /// Half-width of the block agreement price band, percent of the previous close (SEEE: 30).
    pub block_band_pct: u32,
    /// Continuous (listed agreement) trading sessions, in order (SEEE: 09:30-11:30, 13:00-15:00).
    pub sessions: Vec<Session>,
    /// Block agreement sessions, in order; empty disables block trading (SEEE: 13:00-15:00).
    pub block_sessions: Vec<Session>,
    /// Exchange fee charged to each side of a trade, in basis points of notional, rounded half-up
    /// to the minor unit; 0 means no fee.
    pub fee_bp: u32,
    /// Previous close to use before the instrument's first trading day, minor units per base unit.
    pub initial_reference_price_minor: i64,
    /// Weekdays the exchange trades on (Monday to Friday when omitted).
    #[serde(default = "monday_to_friday")]
    pub working_days: Vec<Weekday>,
    /// Dates the exchange is closed although they fall on a working day (none when omitted),
    /// written as quoted strings, `holidays = ["2024-10-01"]` (a bare TOML date is refused).
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

fn monday_to_friday() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

impl TradingRules {
    /// The China national carbon market as run by the Shanghai Environment and Energy Exchange
    /// (SEEE announcement on national carbon emission trading, June 2021; MEE trading rules 2021
    /// No. 21): tick 1 fen, lot 1 t, band +/-10 %, block threshold 100,000 t, block band +/-30 %,
    /// sessions 09:30-11:30 and 13:00-15:00, block session 13:00-15:00, Monday-Friday.
    ///
    /// Not from the rules, set for the caller to override: `fee_bp` 0 (the exchange publishes its
    /// fee schedule separately), `initial_reference_price_minor` 4,800 fen (CNY 48/t, the opening
    /// price of the national market's first trading day, 16 July 2021) and no holidays (the State Council
    /// publishes them each year).
    pub fn china_national() -> TradingRules {
        TradingRules {
            tick_minor: 1,
            lot: 1,
            price_band_pct: 10,
            block_threshold: 100_000,
            block_band_pct: 30,
            sessions: vec![
                Session::hhmm("09:30", "11:30"),
                Session::hhmm("13:00", "15:00"),
            ],
            block_sessions: vec![Session::hhmm("13:00", "15:00")],
            fee_bp: 0,
            initial_reference_price_minor: 4_800,
            working_days: monday_to_friday(),
            holidays: Vec::new(),
        }
    }

    /// Checks the rules are coherent. Returns every failure as `(field path, reason)`, e.g.
    /// `("sessions[1].open", "must be before close (15:00)")`.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut failures = Vec::new();
        let mut fail = |field: String, reason: String| failures.push((field, reason));

        if self.tick_minor <= 0 {
            fail("tick_minor".into(), "must be positive".into());
        }
        if self.lot == 0 {
            fail("lot".into(), "must be positive".into());
        }
        // A band of 0 % freezes the price; above 100 % the lower bound would be negative.
        if !(1..=100).contains(&self.price_band_pct) {
            fail("price_band_pct".into(), "must be in 1..=100".into());
        }
        if !(1..=100).contains(&self.block_band_pct) {
            fail("block_band_pct".into(), "must be in 1..=100".into());
        }
        if self.block_threshold == 0 {
            fail("block_threshold".into(), "must be positive".into());
        } else if self.lot > 0 && !self.block_threshold.is_multiple_of(self.lot) {
            // Otherwise the smallest block trade is not the threshold but the next lot above it.
            fail(
                "block_threshold".into(),
                format!("must be a multiple of lot ({})", self.lot),
            );
        }
        if self.sessions.is_empty() {
            fail("sessions".into(), "at least one session is required".into());
        }
        check_sessions("sessions", &self.sessions, &mut fail);
        check_sessions("block_sessions", &self.block_sessions, &mut fail);
        // 10,000 bp is the whole notional; more would charge beyond the trade's value.
        if self.fee_bp > 10_000 {
            fail("fee_bp".into(), "must be at most 10000 (100 %)".into());
        }
        if self.initial_reference_price_minor <= 0 {
            fail(
                "initial_reference_price_minor".into(),
                "must be positive".into(),
            );
        } else if self.tick_minor > 0 && self.initial_reference_price_minor % self.tick_minor != 0 {
            // A previous close is always on the tick; the band's lower <= close <= upper needs it.
            fail(
                "initial_reference_price_minor".into(),
                format!("must be a multiple of tick_minor ({})", self.tick_minor),
            );
        }
        if self.working_days.is_empty() {
            fail(
                "working_days".into(),
                "at least one working day is required".into(),
            );
        }
        for (i, day) in self.working_days.iter().enumerate() {
            if self.working_days[..i].contains(day) {
                fail(format!("working_days[{i}]"), format!("duplicate {day}"));
            }
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            fail(
                "holidays".into(),
                format!("at most {MAX_HOLIDAYS} holidays may be listed"),
            );
        } else {
            for (i, date) in self.holidays.iter().enumerate() {
                if self.holidays[..i].contains(date) {
                    fail(format!("holidays[{i}]"), format!("duplicate {date}"));
                }
            }
        }

        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }
}

/// Sessions must each be non-empty and in order without overlap, so "is the market open" is a
/// simple scan and a session's close never falls inside the next one.
fn check_sessions(field: &str, sessions: &[Session], fail: &mut impl FnMut(String, String)) {
    if sessions.len() > MAX_SESSIONS {
        fail(
            field.into(),
            format!("at most {MAX_SESSIONS} sessions are allowed"),
        );
        return;
    }
    for (i, s) in sessions.iter().enumerate() {
        if s.open >= s.close {
            fail(
                format!("{field}[{i}].open"),
                format!("must be before close ({})", s.close.format("%H:%M")),
            );
        }
        if let Some(prev) = i.checked_sub(1).map(|p| &sessions[p])
            && s.open < prev.close
        {
            fail(
                format!("{field}[{i}].open"),
                format!(
                    "must not be before {field}[{}].close ({})",
                    i - 1,
                    prev.close.format("%H:%M")
                ),
            );
        }
    }
}

/// Strict `HH:MM` (two digits each, 00-23 and 00-59) for [`Session`] times. chrono's own parser
/// accepts `9:30` and seconds, which would let two spellings of one configuration differ.
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn parse(text: &str) -> Result<NaiveTime, String> {
        let bad = || format!("invalid time {text:?}: must be HH:MM, 00:00-23:59");
        let bytes = text.as_bytes();
        let [h1, h2, b':', m1, m2] = bytes else {
            return Err(bad());
        };
        if ![h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let hours = u32::from((h1 - b'0') * 10 + (h2 - b'0'));
        let minutes = u32::from((m1 - b'0') * 10 + (m2 - b'0'));
        // from_hms_opt refuses hours above 23 and minutes above 59.
        NaiveTime::from_hms_opt(hours, minutes, 0).ok_or_else(bad)
    }

    pub(super) fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&time.format("%H:%M"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHINA_TOML: &str = r#"
        tick_minor = 1
        lot = 1
        price_band_pct = 10
        block_threshold = 100000
        block_band_pct = 30
        sessions = [{ open = "09:30", close = "11:30" }, { open = "13:00", close = "15:00" }]
        block_sessions = [{ open = "13:00", close = "15:00" }]
        fee_bp = 0
        initial_reference_price_minor = 4800
    "#;

    fn fields(r: &TradingRules) -> Vec<String> {
        r.validate()
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn china_national_is_valid_and_matches_its_toml() {
        let rules = TradingRules::china_national();
        assert_eq!(rules.validate(), Ok(()));
        let parsed: TradingRules = toml::from_str(CHINA_TOML).unwrap();
        assert_eq!(parsed, rules);
        // Round trip: what we write we read back.
        let written = toml::to_string(&rules).unwrap();
        assert_eq!(toml::from_str::<TradingRules>(&written).unwrap(), rules);
    }

    #[test]
    fn toml_with_calendar_parses() {
        let text = format!(
            "{CHINA_TOML}\nworking_days = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\"]\n\
             holidays = [\"2024-10-01\", \"2024-10-02\"]\n"
        );
        let rules: TradingRules = toml::from_str(&text).unwrap();
        assert_eq!(rules.working_days.len(), 6);
        assert_eq!(
            rules.holidays,
            vec![
                NaiveDate::from_ymd_opt(2024, 10, 1).unwrap(),
                NaiveDate::from_ymd_opt(2024, 10, 2).unwrap()
            ]
        );
        assert_eq!(rules.validate(), Ok(()));
        // A bare TOML date is a TOML datetime, not a string: refused, naming the field.
        let bare = format!("{CHINA_TOML}\nholidays = [2024-10-01]\n");
        let err = toml::from_str::<TradingRules>(&bare).unwrap_err();
        assert!(err.to_string().contains("holidays"), "{err}");
    }

    #[test]
    fn unknown_fields_and_loose_times_are_refused() {
        let extra = format!("{CHINA_TOML}\nfee_percent = 3\n");
        let err = toml::from_str::<TradingRules>(&extra).unwrap_err();
        assert!(err.to_string().contains("fee_percent"), "{err}");

        for bad in [
            "9:30", "09:30:00", "24:00", "09:60", "0930", "09-30", "+9:30", "09:3a",
        ] {
            let text = CHINA_TOML.replace("\"09:30\"", &format!("{bad:?}"));
            let err = toml::from_str::<TradingRules>(&text).unwrap_err();
            assert!(err.to_string().contains("must be HH:MM"), "{bad}: {err}");
        }
        let session_extra = CHINA_TOML.replace(
            "{ open = \"13:00\", close = \"15:00\" }]\n        block",
            "{ open = \"13:00\", close = \"15:00\", tz = \"CST\" }]\n        block",
        );
        assert!(toml::from_str::<TradingRules>(&session_extra).is_err());
    }

    #[test]
    fn validation_names_field_and_reason() {
        let mut r = TradingRules::china_national();
        r.sessions[1] = Session::hhmm("15:00", "13:00");
        assert_eq!(
            r.validate(),
            Err(vec![(
                "sessions[1].open".to_string(),
                "must be before close (13:00)".to_string()
            )])
        );

        // Overlap: 11:00 is before the first session's close at 11:30.
        let mut r = TradingRules::china_national();
        r.sessions[1] = Session::hhmm("11:00", "15:00");
        assert_eq!(
            r.validate(),
            Err(vec![(
                "sessions[1].open".to_string(),
                "must not be before sessions[0].close (11:30)".to_string()
            )])
        );

        // Every failure is reported, in field order.
        let mut r = TradingRules::china_national();
        r.tick_minor = 0;
        r.lot = 0;
        r.price_band_pct = 0;
        r.block_band_pct = 101;
        r.block_threshold = 0;
        r.sessions.clear();
        r.block_sessions = vec![Session::hhmm("13:00", "13:00")];
        r.fee_bp = 10_001;
        r.initial_reference_price_minor = 0;
        r.working_days.clear();
        assert_eq!(
            fields(&r),
            [
                "tick_minor",
                "lot",
                "price_band_pct",
                "block_band_pct",
                "block_threshold",
                "sessions",
                "block_sessions[0].open",
                "fee_bp",
                "initial_reference_price_minor",
                "working_days",
            ]
        );

        let mut r = TradingRules::china_national();
        r.tick_minor = 5;
        r.lot = 3;
        r.initial_reference_price_minor = 4_801;
        r.working_days.push(Weekday::Mon);
        let day = NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
        r.holidays = vec![day, day];
        r.block_sessions = vec![Session::hhmm("13:00", "15:00"); MAX_SESSIONS + 1];
        assert_eq!(
            fields(&r),
            [
                "block_threshold",
                "block_sessions",
                "initial_reference_price_minor",
                "working_days[5]",
                "holidays[1]",
            ]
        );
    }

    #[test]
    fn session_bounds_are_open_inclusive_close_exclusive() {
        let s = Session::hhmm("09:30", "11:30");
        let t = |h, m, sec| NaiveTime::from_hms_opt(h, m, sec).unwrap();
        assert!(!s.contains(t(9, 29, 59)));
        assert!(s.contains(t(9, 30, 0)));
        assert!(s.contains(t(11, 29, 59)));
        assert!(!s.contains(t(11, 30, 0)));
    }
}
