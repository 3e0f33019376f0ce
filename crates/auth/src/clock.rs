//! Time as the authentication logic sees it: whole seconds, from a [`Clock`] that is passed in.
//!
//! Nothing in this crate reads the system time except [`SystemClock`]; the service asks its clock
//! once per operation and hands the instant down, so tests drive time with a [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};

/// A point in time: whole seconds since the Unix epoch (1970-01-01T00:00:00Z, UTC, leap seconds
/// not counted, as `time(2)`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `seconds` seconds after the Unix epoch.
    pub const fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// The instant `seconds` seconds later (saturating at the end of `i64`).
    pub fn plus_seconds(self, seconds: u64) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)),
        )
    }

    /// Whole seconds from `self` until `later`, 0 if `later` is not after `self`.
    pub fn seconds_until(self, later: Timestamp) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} s after the Unix epoch", self.0)
    }
}

/// A source of the current time. The service calls [`Clock::now`] once at the start of each
/// operation; no other code in the crate reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, in whole seconds since the Unix epoch.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock (`SystemTime::now`), truncated to whole seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp(i64::try_from(since_epoch).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until told to move: for tests (of this crate and of the server),
/// shared between the service and the test through an `Arc`.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(start.0))
    }

    /// Sets the time to `to` (it may go backwards, to test a clock that was corrected).
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.0, Ordering::SeqCst);
    }

    /// Moves the time forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        let by = i64::try_from(seconds).unwrap_or(i64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}
