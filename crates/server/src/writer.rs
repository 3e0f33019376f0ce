//! The single writer: one thread owns the [`Registry`] and is the only code that changes it.
//!
//! ```text
//! handlers --mpsc (bounded)--> writer thread: take what is queued (up to max_batch)
//!                                   -> Registry::submit_batch (one durable append = group commit)
//!                                   -> publish Arc<Snapshot> (watch)      readers: latest snapshot,
//!                                   -> publish market events (broadcast)  never wait for fsync
//!                                   -> answer each request (oneshot)
//! ```
//!
//! Requests that arrive while a batch is being made durable queue up and form the next batch, so
//! under load one fsync covers many transactions (like the CLI's batch path) while a lone request
//! still goes out at once. Nothing is answered before `submit_batch` returned, i.e. before the
//! journal append was fsynced; the snapshot is published before the answers, so a client that got
//! its receipt reads its own write. If the store fails, the writer stops (the registry's
//! fail-stop): every later write gets 503 and `/v1/ready` says why; restarting the service replays
//! the journal.
//!
//! A snapshot is a whole `RegistryState`. Cloning one after every batch would cost time in
//! proportion to the registry, so the writer keeps a spare: the previous snapshot, taken back once
//! no reader holds it and brought up to date by applying the batches it missed (see `Spare`).
//! Publishing then costs about what applying the batch cost.
//!
//! A duplicate (same idempotency key, same content) is answered with the original receipt: the
//! registry reports only its sequence number, so the writer reads the recorded effects back from
//! the journal (a second, read-only SQLite connection).

use crate::clock::{self, RegistryClock, Stamp};
use crate::stream::{self, MarketEvent, QuoteTracker};
use chrono::NaiveDateTime;
use metrics::{counter, gauge, histogram};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use yrd_registry::{Effect, Registry, RegistryState, Rejection, Submission};
use yrd_storage::SqliteStore;
use yrd_types::TransactionId;

/// A consistent, immutable view of the registry after some batch: what every read serves.
#[derive(Debug)]
pub struct Snapshot {
    /// The state after the batch.
    pub state: RegistryState,
}

impl Snapshot {
    /// Sequence number of the last journaled transaction the snapshot includes.
    pub fn last_seq(&self) -> u64 {
        self.state.last_seq()
    }
}

/// What became of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Applied and durably journaled.
    Accepted {
        /// Journal sequence number.
        seq: u64,
        /// What it did.
        effects: Vec<Effect>,
    },
    /// Applied earlier with the same content: nothing new happened; the original receipt.
    Duplicate {
        /// The original sequence number.
        seq: u64,
        /// The original effects, as journaled.
        effects: Vec<Effect>,
    },
    /// Refused by the rules; nothing changed.
    Rejected(Rejection),
    /// The writer is not running (storage failure, shutdown); nothing is known to have changed.
    Unavailable(String),
}

/// Tuning of the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// At most this many submissions per durable batch.
    pub max_batch: usize,
    /// Requests that may wait for the writer before senders are held back.
    pub queue_capacity: usize,
    /// Market events buffered per stream subscriber before it is told it lagged.
    pub event_buffer: usize,
    /// Check every snapshot built by catching up the spare copy against the registry's own
    /// state (`state_hash`, which costs a pass over the state): for tests.
    pub verify_snapshots: bool,
    /// The registry's clock, which stamps the times the server sets ([`crate::clock`]).
    pub clock: RegistryClock,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            max_batch: 512,
            queue_capacity: 4096,
            event_buffer: 4096,
            verify_snapshots: false,
            clock: RegistryClock::system(0),
        }
    }
}

pub(crate) struct WriteRequest {
    submission: Submission,
    /// The fields the writer sets from the clock.
    stamp: Stamp,
    reply: oneshot::Sender<WriteOutcome>,
    queued: Instant,
}

pub(crate) enum Msg {
    Write(Box<WriteRequest>),
    Stop,
}

/// Counters of the writer (also exported as metrics).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Durable batches written.
    pub batches: AtomicU64,
    /// Submissions processed (accepted, duplicate or refused).
    pub submissions: AtomicU64,
    /// Snapshots built by bringing the spare copy up to date.
    pub snapshots_caught_up: AtomicU64,
    /// Snapshots built by cloning the registry's state (the spare was still in use).
    pub snapshots_cloned: AtomicU64,
    /// Caught-up copies that did not match the registry's state (then cloned instead); always 0
    /// unless `apply` were not deterministic.
    pub snapshot_mismatches: AtomicU64,
}

/// The sending side of the writer, shared by the handlers.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    failed: Arc<OnceLock<String>>,
}

impl WriterHandle {
    /// Queues `submission` and waits until it is durably journaled, refused, or the writer is
    /// gone. If the caller stops waiting, the submission is still processed (its key makes a
    /// retry safe).
    pub async fn submit(&self, submission: Submission) -> WriteOutcome {
        self.submit_stamped(submission, Stamp::default()).await
    }

    /// As [`Self::submit`], with the `stamp`ed fields set from the registry's clock in the
    /// writer (or, for a retry of a journaled key, copied from the original).
    pub async fn submit_stamped(&self, submission: Submission, stamp: Stamp) -> WriteOutcome {
        if let Some(reason) = self.failed.get() {
            return WriteOutcome::Unavailable(reason.clone());
        }
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest {
            submission,
            stamp,
            reply,
            queued: Instant::now(),
        };
        if self.tx.send(Msg::Write(Box::new(request))).await.is_err() {
            return WriteOutcome::Unavailable("the registry writer has stopped".into());
        }
        answer.await.unwrap_or_else(|_| {
            WriteOutcome::Unavailable(
                self.failed
                    .get()
                    .cloned()
                    .unwrap_or_else(|| "the registry writer stopped before answering".into()),
            )
        })
    }

    /// Why the writer stopped, if it failed.
    pub fn failure(&self) -> Option<&str> {
        self.failed.get().map(String::as_str)
    }

    /// The writer no longer takes requests (failed or shut down).
    pub fn is_stopped(&self) -> bool {
        self.failed.get().is_some() || self.tx.is_closed()
    }
}

/// The writer thread and the channels it publishes on.
pub struct Writer {
    handle: WriterHandle,
    thread: Mutex<Option<JoinHandle<()>>>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    events: broadcast::Sender<MarketEvent>,
    stats: Arc<WriterStats>,
    clock: RegistryClock,
}

impl Writer {
    /// Starts the writer thread owning `registry`.
    pub fn start(registry: Registry<SqliteStore>, config: WriterConfig) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        Self::start_with(registry, config, tx, rx)
    }

    pub(crate) fn start_with(
        registry: Registry<SqliteStore>,
        config: WriterConfig,
        tx: mpsc::Sender<Msg>,
        rx: mpsc::Receiver<Msg>,
    ) -> std::io::Result<Self> {
        let lookup = EffectsLookup::open(registry.store().path())?;
        let first = Arc::new(Snapshot {
            state: registry.state().clone(),
        });
        gauge!("yrd_journal_last_seq").set(first.last_seq() as f64);
        let (snapshot_tx, snapshots) = watch::channel(first);
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let failed = Arc::new(OnceLock::new());
        let stats = Arc::new(WriterStats::default());
        let mut worker = Worker {
            quotes: QuoteTracker::new(registry.state()),
            registry,
            lookup,
            snapshot_tx,
            events: events.clone(),
            failed: failed.clone(),
            stats: stats.clone(),
            max_batch: config.max_batch.max(1),
            verify_snapshots: config.verify_snapshots,
            spare: Spare::default(),
            clock: config.clock,
            last_stamp: None,
        };
        let thread = std::thread::Builder::new()
            .name("yrd-writer".into())
            .spawn(move || worker.run(rx))?;
        Ok(Self {
            handle: WriterHandle { tx, failed },
            thread: Mutex::new(Some(thread)),
            snapshots,
            events,
            stats,
            clock: config.clock,
        })
    }

    /// The registry's clock.
    pub fn clock(&self) -> RegistryClock {
        self.clock
    }

    /// The handle handlers submit through.
    pub fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// The latest snapshot and its updates.
    pub fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    /// The market event channel (subscribe for the live stream).
    pub fn events(&self) -> broadcast::Sender<MarketEvent> {
        self.events.clone()
    }

    /// Counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Stops the writer after everything queued before this call: the batch being written and
    /// the requests waiting are made durable and answered, then the store is closed. Later
    /// requests get [`WriteOutcome::Unavailable`]. Idempotent.
    pub async fn shutdown(&self) {
        let _ = self.handle.tx.send(Msg::Stop).await;
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the registry writer thread panicked");
            }
        }
    }
}

struct Worker {
    registry: Registry<SqliteStore>,
    lookup: EffectsLookup,
    snapshot_tx: watch::Sender<Arc<Snapshot>>,
    events: broadcast::Sender<MarketEvent>,
    quotes: QuoteTracker,
    failed: Arc<OnceLock<String>>,
    stats: Arc<WriterStats>,
    max_batch: usize,
    verify_snapshots: bool,
    spare: Spare,
    clock: RegistryClock,
    /// The latest time stamped, so that stamps never run backwards.
    last_stamp: Option<NaiveDateTime>,
}

/// The left-right scheme that makes publishing a snapshot cost the batch, not the state.
///
/// Cloning the whole `RegistryState` after every batch costs time proportional to the registry
/// (it remembers every transaction id). Instead the snapshot published before the current one is
/// taken back once no reader holds it any more and brought up to date by applying the same
/// submissions, in the same order, that the registry applied since - `apply` is deterministic
/// (the journal's replay relies on it). If a reader still holds it, the state is cloned as before.
#[derive(Default)]
struct Spare {
    /// The snapshot published before the current one.
    retired: Option<Arc<Snapshot>>,
    /// Every submission the registry applied between `retired` and the current snapshot.
    since_retired: Vec<Submission>,
    /// Every submission applied after the current snapshot (batches that changed nothing).
    since_current: Vec<Submission>,
}

impl Worker {
    fn run(&mut self, mut rx: mpsc::Receiver<Msg>) {
        tracing::info!(
            last_seq = self.registry.state().last_seq(),
            "registry writer started"
        );
        let mut stop = false;
        while !stop {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut batch = Vec::new();
            match first {
                Msg::Write(w) => batch.push(*w),
                Msg::Stop => break,
            }
            while batch.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(Msg::Write(w)) => batch.push(*w),
                    Ok(Msg::Stop) => {
                        stop = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            let processed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.process(batch)));
            if processed.is_err() {
                let _ = self.failed.set(
                    "the registry writer failed on an internal error; restart the service".into(),
                );
            }
            if let Some(reason) = self.failed.get() {
                tracing::error!(reason, "registry writer stopped (fail-stop)");
                break;
            }
        }
        rx.close();
        let reason = self
            .failed
            .get()
            .cloned()
            .unwrap_or_else(|| "the service is shutting down".into());
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Write(w) = msg {
                let _ = w.reply.send(WriteOutcome::Unavailable(reason.clone()));
            }
        }
        tracing::info!(
            last_seq = self.registry.state().last_seq(),
            "registry writer stopped"
        );
    }

    fn process(&mut self, mut batch: Vec<WriteRequest>) {
        let started = Instant::now();
        // Stamped submissions of this batch by id: a retry queued in the same batch as its
        // original gets the original's stamps, as one of a journaled key does.
        let mut stamped: HashMap<TransactionId, Submission> = HashMap::new();
        for w in &mut batch {
            histogram!("yrd_writer_queue_wait_seconds")
                .record(started.duration_since(w.queued).as_secs_f64());
            if w.stamp.any() {
                match stamped.get(&w.submission.id) {
                    Some(original) => clock::copy(original, &mut w.submission, w.stamp),
                    None => {
                        self.stamp(&mut w.submission, w.stamp);
                        stamped.insert(w.submission.id.clone(), w.submission.clone());
                    }
                }
            }
        }
        let (submissions, replies): (Vec<Submission>, Vec<oneshot::Sender<WriteOutcome>>) =
            batch.into_iter().map(|w| (w.submission, w.reply)).unzip();
        let results = match self.registry.submit_batch(&submissions) {
            Ok(results) => results,
            Err(e) => {
                let reason =
                    format!("the registry store failed; nothing of the batch was stored: {e}");
                let _ = self.failed.set(reason.clone());
                for reply in replies {
                    let _ = reply.send(WriteOutcome::Unavailable(reason.clone()));
                }
                return;
            }
        };
        let committed = started.elapsed();
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.stats
            .submissions
            .fetch_add(submissions.len() as u64, Ordering::Relaxed);
        counter!("yrd_writer_batches_total").increment(1);
        histogram!("yrd_writer_batch_size").record(submissions.len() as f64);
        histogram!("yrd_writer_commit_seconds").record(committed.as_secs_f64());

        let any_new = results
            .iter()
            .any(|r| matches!(r, Ok(receipt) if !receipt.duplicate));
        if any_new {
            let building = Instant::now();
            let snapshot = Arc::new(self.next_snapshot(&submissions));
            histogram!("yrd_writer_snapshot_seconds").record(building.elapsed().as_secs_f64());
            gauge!("yrd_journal_last_seq").set(snapshot.last_seq() as f64);
            let events =
                stream::batch_events(&submissions, &results, &snapshot.state, &mut self.quotes);
            let previous = self.snapshot_tx.send_replace(snapshot);
            for event in events {
                // No subscriber is fine.
                let _ = self.events.send(event);
            }
            let mut since = std::mem::take(&mut self.spare.since_current);
            since.extend(submissions);
            self.spare.retired = Some(previous);
            self.spare.since_retired = since;
        } else {
            self.spare.since_current.extend(submissions);
        }

        let mut new_effects: HashMap<u64, &Vec<Effect>> = HashMap::new();
        for receipt in results.iter().flatten() {
            if !receipt.duplicate {
                new_effects.insert(receipt.seq, &receipt.effects);
            }
        }
        for (result, reply) in results.iter().zip(replies) {
            let outcome = match result {
                Ok(receipt) if !receipt.duplicate => {
                    counter!("yrd_transactions_total", "outcome" => "accepted").increment(1);
                    WriteOutcome::Accepted {
                        seq: receipt.seq,
                        effects: receipt.effects.clone(),
                    }
                }
                Ok(receipt) => {
                    counter!("yrd_transactions_total", "outcome" => "duplicate").increment(1);
                    let effects = match new_effects.get(&receipt.seq) {
                        Some(effects) => Ok((*effects).clone()),
                        None => self.lookup.effects(receipt.seq),
                    };
                    match effects {
                        Ok(effects) => WriteOutcome::Duplicate {
                            seq: receipt.seq,
                            effects,
                        },
                        Err(e) => WriteOutcome::Unavailable(format!(
                            "transaction already journaled as seq {}, but its receipt could not be read back: {e}",
                            receipt.seq
                        )),
                    }
                }
                Err(rejection) => {
                    counter!("yrd_transactions_total", "outcome" => "refused").increment(1);
                    WriteOutcome::Rejected(rejection.clone())
                }
            };
            // The requester may have gone away; the transaction stands regardless.
            let _ = reply.send(outcome);
        }
    }
}

impl Worker {
    /// Sets the stamped fields of `submission`: from the original if its id is journaled (a
    /// retry), else from the clock, never earlier than the last stamp.
    fn stamp(&mut self, submission: &mut Submission, stamp: Stamp) {
        if let Some((seq, _)) = self.registry.state().applied(&submission.id) {
            if let Ok(original) = self.lookup.submission(seq) {
                clock::copy(&original, submission, stamp);
            }
            return;
        }
        let now = self.clock.now().max(self.last_stamp.unwrap_or_default());
        self.last_stamp = Some(now);
        clock::apply(submission, stamp, now);
    }

    /// The snapshot of the registry's current state: the spare copy brought up to date with
    /// `batch` and what came before it, or a clone.
    fn next_snapshot(&mut self, batch: &[Submission]) -> Snapshot {
        let current = self.registry.state();
        let reclaimed = self
            .spare
            .retired
            .take()
            .and_then(|a| Arc::try_unwrap(a).ok());
        if let Some(Snapshot { mut state }) = reclaimed {
            let log = self.spare.since_retired.iter();
            for s in log.chain(&self.spare.since_current).chain(batch) {
                let (_, content_hash) = RegistryState::canonical(s);
                // The outcome is the registry's own (same state, same submission).
                let _ = state.apply(s, content_hash);
            }
            let same = state.last_seq() == current.last_seq()
                && (!self.verify_snapshots || state.state_hash() == current.state_hash());
            if same {
                self.stats
                    .snapshots_caught_up
                    .fetch_add(1, Ordering::Relaxed);
                counter!("yrd_writer_snapshots_total", "built" => "caught_up").increment(1);
                return Snapshot { state };
            }
            self.stats
                .snapshot_mismatches
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                seq = current.last_seq(),
                "the spare state diverged from the registry's; cloning instead"
            );
        }
        self.stats.snapshots_cloned.fetch_add(1, Ordering::Relaxed);
        counter!("yrd_writer_snapshots_total", "built" => "cloned").increment(1);
        Snapshot {
            state: current.clone(),
        }
    }
}

/// Reads journaled effects back by sequence number over a read-only connection of its own.
struct EffectsLookup {
    conn: rusqlite::Connection,
}

impl EffectsLookup {
    fn open(path: &Path) -> std::io::Result<Self> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            std::io::Error::other(format!("opening {} for reading: {e}", path.display()))
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(std::io::Error::other)?;
        Ok(Self { conn })
    }

    /// The journaled submission of `seq`.
    fn submission(&self, seq: u64) -> Result<Submission, String> {
        let seq = i64::try_from(seq).map_err(|e| e.to_string())?;
        let text: String = self
            .conn
            .prepare_cached("SELECT command FROM journal WHERE seq = ?1")
            .and_then(|mut stmt| stmt.query_row([seq], |row| row.get(0)))
            .map_err(|e| format!("reading journal entry {seq}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("journal entry {seq} submission: {e}"))
    }

    fn effects(&self, seq: u64) -> Result<Vec<Effect>, String> {
        let seq = i64::try_from(seq).map_err(|e| e.to_string())?;
        let text: String = self
            .conn
            .prepare_cached("SELECT effects FROM journal WHERE seq = ?1")
            .and_then(|mut stmt| stmt.query_row([seq], |row| row.get(0)))
            .map_err(|e| format!("reading journal entry {seq}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("journal entry {seq} effects: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use yrd_registry::Command;
    use yrd_types::{AccountId, AccountKind, JurisdictionCode, TransactionId};

    fn deposit(i: usize) -> Submission {
        Submission {
            id: TransactionId::new(format!("dep-{i}")).unwrap(),
            date: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            command: Command::Deposit {
                account: AccountId::new("TR-1").unwrap(),
                amount_minor: 100,
            },
        }
    }

    #[tokio::test]
    async fn requests_queued_together_are_one_durable_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (_, yrd) = yrd_config::MarketConfig::builtin("yrd").unwrap();
        let date = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let mut registry =
            Registry::create(SqliteStore::open(dir.path()).unwrap(), yrd, "yrd", date).unwrap();
        registry
            .submit(Submission {
                id: TransactionId::new("open").unwrap(),
                date,
                command: Command::OpenAccount {
                    account: AccountId::new("TR-1").unwrap(),
                    kind: AccountKind::Trading,
                    jurisdiction: JurisdictionCode::new("CN-SH").unwrap(),
                    holder_name: "Trader".into(),
                },
            })
            .unwrap()
            .unwrap();
        let before = registry.state().last_seq();
        let (tx, rx) = mpsc::channel(64);
        let mut answers = Vec::new();
        // 20 new deposits and a repeat of the first, all queued before the writer runs.
        for i in (0..20).chain([0]) {
            let (reply, answer) = oneshot::channel();
            tx.try_send(Msg::Write(Box::new(WriteRequest {
                submission: deposit(i),
                stamp: Stamp::default(),
                reply,
                queued: Instant::now(),
            })))
            .ok()
            .unwrap();
            answers.push(answer);
        }
        let config = WriterConfig {
            verify_snapshots: true,
            ..WriterConfig::default()
        };
        let writer = Writer::start_with(registry, config, tx, rx).unwrap();
        let mut seqs = Vec::new();
        for answer in answers {
            match answer.await.unwrap() {
                WriteOutcome::Accepted { seq, .. } => seqs.push(seq),
                WriteOutcome::Duplicate { seq, effects } => {
                    assert_eq!(seq, before + 1);
                    assert_eq!(effects.len(), 1, "the original receipt: {effects:?}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seqs, ((before + 1)..=(before + 20)).collect::<Vec<_>>());
        assert_eq!(writer.stats().batches.load(Ordering::Relaxed), 1);
        assert_eq!(writer.snapshots().borrow().last_seq(), before + 20);

        // Later batches, one at a time: snapshots are the spare brought up to date, including
        // across a batch that changed nothing (a refusal).
        let handle = writer.handle();
        let withdraw = |id: &str, amount_minor| Submission {
            command: Command::Withdraw {
                account: AccountId::new("TR-1").unwrap(),
                amount_minor,
            },
            id: TransactionId::new(id).unwrap(),
            ..deposit(0)
        };
        assert!(matches!(
            handle.submit(withdraw("w-1", 1_000_000)).await,
            WriteOutcome::Rejected(_)
        ));
        for i in 20..24 {
            assert!(matches!(
                handle.submit(deposit(i)).await,
                WriteOutcome::Accepted { .. }
            ));
        }
        assert!(matches!(
            handle.submit(withdraw("w-2", 300)).await,
            WriteOutcome::Accepted { .. }
        ));
        let stats = writer.stats();
        assert_eq!(stats.snapshot_mismatches.load(Ordering::Relaxed), 0);
        assert!(stats.snapshots_caught_up.load(Ordering::Relaxed) >= 4);
        let published = writer.snapshots().borrow().clone();
        assert_eq!(published.last_seq(), before + 25);
        writer.shutdown().await;
        // After shutdown the store is closed and durable: reopening replays everything, to the
        // very state the last snapshot shows.
        let reopened = Registry::open(SqliteStore::open(dir.path()).unwrap()).unwrap();
        assert_eq!(reopened.state().last_seq(), before + 25);
        assert_eq!(reopened.state().state_hash(), published.state.state_hash());
        assert!(matches!(
            writer.handle().submit(deposit(99)).await,
            WriteOutcome::Unavailable(_)
        ));
    }
}
