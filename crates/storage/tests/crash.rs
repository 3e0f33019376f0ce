//! Durability under `SIGKILL`: a writer process appending to the store is killed at pseudo-random
//! moments, over and over, on the same data directory. After every kill the store must open and
//! hold every acknowledged entry, a contiguous hash chain from the genesis hash, and nothing but
//! the acknowledged entries plus at most the one batch that was being committed (whole or not at
//! all).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use yrd_registry::journal::{JournalEntry, JournalStore, StorageError, genesis_hash};
use yrd_storage::SqliteStore;

const WRITER: &str = env!("CARGO_BIN_EXE_yrd-storage-crash-writer");
const RUNS: usize = 30;

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic kill times
/// without a `rand` dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Scans the store, checking contiguity from 1, the writer's tx ids and the hash chain; returns
/// the number of entries.
fn verify(store: &SqliteStore) -> u64 {
    let mut prev = genesis_hash("test");
    let mut expected = 1u64;
    store
        .scan(&mut |e: JournalEntry| {
            let fail = |what: String| Err(StorageError(format!("seq {}: {what}", e.seq)));
            if e.seq != expected {
                return fail(format!("expected seq {expected}"));
            }
            if e.tx_id != format!("t{}", e.seq) {
                return fail(format!("unexpected tx_id {}", e.tx_id));
            }
            if e.prev_hash != prev {
                return fail("prev_hash does not match the previous entry's hash".into());
            }
            let hash = JournalEntry::compute_hash(&prev, e.seq, &e.tx_id, &e.command, &e.effects);
            if e.hash != hash {
                return fail("hash does not verify".into());
            }
            prev = e.hash;
            expected += 1;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("journal does not verify: {e}"));
    expected - 1
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(0x5EED_CAFE);
    let mut stored = 0u64;
    let (mut unacked_commits, mut runs_with_acks) = (0, 0);

    for run in 0..RUNS {
        let batch: u64 = if run % 2 == 0 { 1 } else { 100 };
        let wait = Duration::from_millis(20 + rng.next() % 131);

        let mut child = Command::new(WRITER)
            .arg(dir.path())
            .arg(batch.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning the writer");
        // Drain stdout concurrently so the writer never blocks on a full pipe.
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            stdout.read_to_string(&mut s).map(|_| s)
        });

        std::thread::sleep(wait);
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("run {run}: writer exited by itself ({status}): {err}");
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let printed = reader.join().unwrap().unwrap();

        // Only complete lines count as acknowledgements.
        let acked: Vec<u64> = printed
            .split_inclusive('\n')
            .filter_map(|l| l.strip_suffix('\n'))
            .map(|l| {
                l.parse()
                    .unwrap_or_else(|_| panic!("run {run}: bad line {l:?}"))
            })
            .collect();
        let mut expect_next = stored + batch;
        for &seq in &acked {
            assert_eq!(seq, expect_next, "run {run}: acknowledgements out of order");
            expect_next += batch;
        }
        let last_acked = acked.last().copied().unwrap_or(stored);

        let store = SqliteStore::open(dir.path())
            .unwrap_or_else(|e| panic!("run {run}: reopening after SIGKILL: {e}"));
        let now = verify(&store);
        assert_eq!(store.entry_count().unwrap(), now);
        assert!(
            now >= last_acked,
            "run {run}: acknowledged seq {last_acked} but only {now} entries stored"
        );
        assert!(
            now == last_acked || now == last_acked + batch,
            "run {run}: {now} entries stored; expected {last_acked} (acknowledged) or {} \
             (plus the one batch in flight)",
            last_acked + batch
        );
        if !acked.is_empty() {
            runs_with_acks += 1;
        }
        if now != last_acked {
            unacked_commits += 1;
        }
        stored = now;
    }

    eprintln!(
        "{RUNS} kills: {stored} entries, {runs_with_acks} runs with acknowledgements, \
         {unacked_commits} kills after a commit but before its acknowledgement, {:?}",
        started.elapsed()
    );
    assert!(
        runs_with_acks >= RUNS / 6,
        "the writer was mostly killed before appending anything ({runs_with_acks} runs with \
         acknowledgements); the test proves little"
    );
}
