//! **The registry's clock.** Registry commands carry their own time (`apply` never reads a
//! clock, so that the journal replays); over HTTP the server, not the caller, says what time it
//! is for everything whose timing is a control:
//!
//! * the security commands (`propose_transfer`, `approve_transfer`, `cancel_transfer`,
//!   `execute_due_transfers`, `propose_trusted_account`, `approve_trusted_account`,
//!   `remove_trusted_account`): their `at` is always the server's - a caller who could choose it
//!   could skip the delayed execution or the trusted-list activation (EU Reg. 2019/1122 Art. 23,
//!   35) - and their user field (`initiator`, `approver`, `by`) is the signed-in user;
//! * an order command's `time` and any request's `date`, when the request leaves them out (the
//!   web interface always does).
//!
//! Stamping happens in the writer thread, in the order the registry applies the submissions, so
//! stamped times never run backwards (the registry refuses a time before the last one). A retry
//! of an already journaled key gets the original stamps, so that it is answered with the
//! original receipt and only a change of the caller's own content is a 409.
//!
//! The clock is registry local time: UTC plus the market's `[security] utc_offset_minutes`. For
//! demonstrations and tests `--clock-start` starts it at a given local time, from which it runs
//! at the real rate.

use crate::error::{ApiError, codes};
use axum::http::StatusCode;
use chrono::{Duration, FixedOffset, NaiveDateTime, Timelike, Utc};
use serde_json::Value;
use std::time::Instant;
use yrd_registry::{Command, Submission};

/// Registry local time: the system clock shifted to the market's UTC offset, or a simulated clock
/// that started at a given local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryClock {
    offset: FixedOffset,
    start: Option<(NaiveDateTime, Instant)>,
}

impl RegistryClock {
    /// The system clock at UTC + `utc_offset_minutes`.
    pub fn system(utc_offset_minutes: i32) -> RegistryClock {
        RegistryClock {
            offset: FixedOffset::east_opt(utc_offset_minutes.saturating_mul(60))
                .unwrap_or(FixedOffset::east_opt(0).expect("zero offset")),
            start: None,
        }
    }

    /// A clock that reads `start` now and runs at the real rate from there.
    pub fn starting_at(self, start: NaiveDateTime) -> RegistryClock {
        RegistryClock {
            start: Some((start, Instant::now())),
            ..self
        }
    }

    /// Registry local time now, to the whole second.
    pub fn now(&self) -> NaiveDateTime {
        let now = match self.start {
            Some((start, since)) => {
                start + Duration::from_std(since.elapsed()).unwrap_or(Duration::zero())
            }
            None => Utc::now().with_timezone(&self.offset).naive_local(),
        };
        now.with_nanosecond(0).unwrap_or(now)
    }
}

/// The command types whose `at` and user field only the server sets, with that user field
/// (`None` for `execute_due_transfers`, which names no user).
const SERVER_TIMED: [(&str, Option<&str>); 7] = [
    ("propose_transfer", Some("initiator")),
    ("approve_transfer", Some("approver")),
    ("cancel_transfer", Some("by")),
    ("execute_due_transfers", None),
    ("propose_trusted_account", Some("initiator")),
    ("approve_trusted_account", Some("approver")),
    ("remove_trusted_account", Some("by")),
];

/// The command types with an exchange `time` of day.
const EXCHANGE_TIMED: [&str; 6] = [
    "place_order",
    "cancel_order",
    "reduce_order",
    "amend_order",
    "propose_block_trade",
    "confirm_block_trade",
];

/// Which fields of a submission the writer sets from the clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamp {
    /// The submission's business date.
    pub date: bool,
    /// The command's `at` (security commands).
    pub at: bool,
    /// The command's `time` of day (exchange commands).
    pub time: bool,
}

impl Stamp {
    /// Whether anything is stamped.
    pub fn any(&self) -> bool {
        self.date || self.at || self.time
    }
}

fn refused(field: &str, message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::SET_BY_SERVER,
        message,
        Some(field),
    )
}

/// How far an exchange command's own `time` may lag the registry's clock, in seconds (never ahead).
pub const TIME_TOLERANCE_SECS: i64 = 300;

/// Fills in, in a transaction request's JSON (`{"date", "command"}`), what the server decides:
/// the user field of a security command (refused if the caller named someone else), placeholders
/// for the clock fields the writer will stamp. Returns which fields are to be stamped. Leaves
/// malformed requests to the typed parse.
///
/// A caller may state a `date` only if it is not after the registry's today - and only a
/// registry administrator may state an earlier one (back-office entries); a security
/// command's date and `at` are the clock's; an exchange command's own `time` must be within
/// [`TIME_TOLERANCE_SECS`] of the clock. Otherwise 422 `SET_BY_SERVER`: a caller who chose the
/// business date could move the registry's calendar forward for everyone (it never runs back).
pub fn prepare(
    request: &mut Value,
    username: &str,
    administrator: bool,
    now: NaiveDateTime,
) -> Result<Stamp, ApiError> {
    let mut stamp = Stamp::default();
    let Some(object) = request.as_object_mut() else {
        return Ok(stamp);
    };
    let today = now.date();
    let stated = object
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    if let Some(date) = stated {
        if date > today {
            return Err(refused(
                "date",
                format!("{date} is after the registry's today, {today}: leave `date` out"),
            ));
        }
        if date != today && !administrator {
            return Err(refused(
                "date",
                format!(
                    "the business date is the registry's today, {today}, not {date}: leave \
                     `date` out"
                ),
            ));
        }
    }
    if !object.contains_key("date") {
        object.insert("date".into(), Value::String(now.date().to_string()));
        stamp.date = true;
    }
    let Some(command) = object.get_mut("command").and_then(Value::as_object_mut) else {
        return Ok(stamp);
    };
    let kind = command
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some((_, user_field)) = SERVER_TIMED.iter().find(|(t, _)| *t == kind) {
        if command.contains_key("at") {
            return Err(refused(
                "command.at",
                format!(
                    "`at` of {kind} is set by the registry's clock, not by the caller \
                     (EU Reg. 2019/1122 Art. 35 timings); leave it out"
                ),
            ));
        }
        command.insert(
            "at".into(),
            Value::String(now.format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
        stamp.at = true;
        // The business date of a timed command is the date of its time.
        if stated.is_some_and(|d| d != today) {
            return Err(refused(
                "date",
                format!("{kind} takes the registry's today, {today}: leave `date` out"),
            ));
        }
        stamp.date = true;
        if let Some(field) = user_field {
            match command.get(*field).and_then(Value::as_str) {
                Some(named) if named != username => {
                    return Err(refused(
                        &format!("command.{field}"),
                        format!(
                            "`{field}` is the signed-in user ({username}); {kind} cannot be made \
                             in another person's name"
                        ),
                    ));
                }
                _ => {
                    command.insert((*field).into(), Value::String(username.into()));
                }
            }
        }
    } else if EXCHANGE_TIMED.contains(&kind.as_str()) {
        match command.get("time").and_then(Value::as_str) {
            None => {
                let time = now.format("%H:%M:%S").to_string();
                command.insert("time".into(), Value::String(time));
                stamp.time = true;
            }
            Some(text) => {
                // Parsed as the command's own parse will (FromStr accepts fractions and HH:MM),
                // so nothing escapes this check. Only a little back from the clock: a time ahead
                // of it would hold every later order back until then (times never run back).
                let time = text.parse::<chrono::NaiveTime>().map_err(|_| {
                    refused(
                        "command.time",
                        format!("{text} is not a time of day (HH:MM:SS)"),
                    )
                })?;
                let behind = (now.time() - time).num_seconds();
                if !(0..=TIME_TOLERANCE_SECS).contains(&behind) {
                    return Err(refused(
                        "command.time",
                        format!(
                            "{text} is not the exchange's time, {} (at most {TIME_TOLERANCE_SECS} s \
                             earlier): leave `time` out",
                            now.time()
                        ),
                    ));
                }
            }
        }
    }
    Ok(stamp)
}

/// The clock field of a command: `at` of a security command, `time` of an exchange command.
enum ClockField<'a> {
    At(&'a mut NaiveDateTime),
    Time(&'a mut chrono::NaiveTime),
    None,
}

fn clock_field(command: &mut Command) -> ClockField<'_> {
    match command {
        Command::ProposeTransfer { at, .. }
        | Command::ApproveTransfer { at, .. }
        | Command::CancelTransfer { at, .. }
        | Command::ExecuteDueTransfers { at }
        | Command::ProposeTrustedAccount { at, .. }
        | Command::ApproveTrustedAccount { at, .. }
        | Command::RemoveTrustedAccount { at, .. } => ClockField::At(at),
        Command::PlaceOrder { time, .. }
        | Command::CancelOrder { time, .. }
        | Command::ReduceOrder { time, .. }
        | Command::AmendOrder { time, .. }
        | Command::ProposeBlockTrade { time, .. }
        | Command::ConfirmBlockTrade { time, .. } => ClockField::Time(time),
        _ => ClockField::None,
    }
}

/// Sets the stamped fields of `submission` to `now`.
pub fn apply(submission: &mut Submission, stamp: Stamp, now: NaiveDateTime) {
    if stamp.date {
        submission.date = now.date();
    }
    match clock_field(&mut submission.command) {
        ClockField::At(at) if stamp.at => *at = now,
        ClockField::Time(time) if stamp.time => *time = now.time(),
        _ => {}
    }
}

/// Copies the stamped fields of an already journaled submission into its retry.
pub fn copy(original: &Submission, retry: &mut Submission, stamp: Stamp) {
    if stamp.date {
        retry.date = original.date;
    }
    let mut original_command = original.command.clone();
    match (
        clock_field(&mut original_command),
        clock_field(&mut retry.command),
    ) {
        (ClockField::At(from), ClockField::At(to)) if stamp.at => *to = *from,
        (ClockField::Time(from), ClockField::Time(to)) if stamp.time => *to = *from,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn security_commands_get_the_user_and_the_clock() {
        let mut request = json!({"command": {"type": "approve_transfer", "transfer": "T-1"}});
        let stamp = prepare(&mut request, "bob", false, at("2022-01-24T10:00:05")).unwrap();
        assert_eq!(
            stamp,
            Stamp {
                date: true,
                at: true,
                time: false
            }
        );
        assert_eq!(request["date"], "2022-01-24");
        assert_eq!(request["command"]["approver"], "bob");
        assert_eq!(request["command"]["at"], "2022-01-24T10:00:05");
    }

    #[test]
    fn a_caller_cannot_choose_the_time_or_another_user() {
        let now = at("2022-01-24T10:00:05");
        let mut early = json!({"date": "2022-01-24", "command": {"type": "execute_due_transfers", "at": "2030-01-01T00:00:00"}});
        let e = prepare(&mut early, "admin", false, now).unwrap_err();
        assert_eq!(e.body.error.field.as_deref(), Some("command.at"));
        let mut other = json!({"command": {"type": "propose_transfer", "initiator": "alice"}});
        let e = prepare(&mut other, "mallory", false, now).unwrap_err();
        assert_eq!(e.body.error.field.as_deref(), Some("command.initiator"));
        let mut same = json!({"command": {"type": "propose_transfer", "initiator": "alice"}});
        assert!(prepare(&mut same, "alice", false, now).is_ok());
    }

    #[test]
    fn orders_keep_a_time_near_the_clock_and_get_the_clock_otherwise() {
        let now = at("2022-01-24T10:15:00");
        let mut given =
            json!({"date": "2022-01-24", "command": {"type": "place_order", "time": "10:11:00"}});
        assert!(!prepare(&mut given, "alice", false, now).unwrap().any());
        assert_eq!(given["command"]["time"], "10:11:00");
        // Half an hour back (a closed session, an earlier price band) is refused.
        let mut early = json!({"command": {"type": "place_order", "time": "09:45:00"}});
        let e = prepare(&mut early, "alice", false, now).unwrap_err();
        assert_eq!(e.body.error.code, codes::SET_BY_SERVER);
        assert_eq!(e.body.error.field.as_deref(), Some("command.time"));
        let mut omitted = json!({"command": {"type": "place_order"}});
        let stamp = prepare(&mut omitted, "alice", false, now).unwrap();
        assert!(stamp.date && stamp.time && !stamp.at);
        assert_eq!(omitted["command"]["time"], "10:15:00");
    }

    #[test]
    fn nobody_moves_the_registry_calendar_forward() {
        let now = at("2022-01-24T10:15:00");
        let future = || json!({"date": "2030-06-03", "command": {"type": "deposit"}});
        for administrator in [false, true] {
            let e = prepare(&mut future(), "admin", administrator, now).unwrap_err();
            assert_eq!(e.body.error.field.as_deref(), Some("date"));
        }
        // An earlier business date: administrators only (back-office entries).
        let past = || json!({"date": "2022-01-21", "command": {"type": "deposit"}});
        assert!(prepare(&mut past(), "alice", false, now).is_err());
        assert!(prepare(&mut past(), "admin", true, now).is_ok());
        // A security command's date is the clock's, also for an administrator.
        let mut timed = json!({"date": "2022-01-21", "command": {"type": "propose_transfer"}});
        assert!(prepare(&mut timed, "admin", true, now).is_err());
    }

    #[test]
    fn a_simulated_clock_runs_from_its_start() {
        let clock = RegistryClock::system(480).starting_at(at("2022-01-24T10:00:00"));
        let now = clock.now();
        assert!(now >= at("2022-01-24T10:00:00") && now < at("2022-01-24T10:01:00"));
    }
}
