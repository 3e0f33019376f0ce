//! The journal: the append-only, hash-chained record of every accepted transaction, and the
//! storage trait behind which it is kept. State is derived from the journal by replay; the journal
//! is the registry's only source of truth.

use sha2::{Digest, Sha256};

/// One accepted transaction as stored. `command` and `effects` are canonical JSON; `hash` chains
/// the entry to its predecessor: `hash = SHA-256(prev_hash || seq (8 bytes, big-endian) || tx_id
/// || 0x00 || command || 0x00 || effects)`. The first entry's `prev_hash` is [`genesis_hash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Sequence number, 1-based, contiguous.
    pub seq: u64,
    /// The caller's transaction id (unique in the journal).
    pub tx_id: String,
    /// Command type, e.g. `transfer` (for queries by humans; also inside `command`).
    pub kind: String,
    /// The command with its business date, canonical JSON.
    pub command: String,
    /// What the command did (serials moved, statuses decided), canonical JSON.
    pub effects: String,
    /// Hash of the previous entry.
    pub prev_hash: [u8; 32],
    /// Hash of this entry.
    pub hash: [u8; 32],
    /// Wall-clock time the entry was written (RFC 3339, UTC); not part of the hash chain, so that
    /// a replay on another machine reproduces every hash.
    pub recorded_at: String,
}

impl JournalEntry {
    /// The chained hash of an entry with these contents.
    pub fn compute_hash(
        prev_hash: &[u8; 32],
        seq: u64,
        tx_id: &str,
        command: &str,
        effects: &str,
    ) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prev_hash);
        h.update(seq.to_be_bytes());
        h.update(tx_id.as_bytes());
        h.update([0u8]);
        h.update(command.as_bytes());
        h.update([0u8]);
        h.update(effects.as_bytes());
        h.finalize().into()
    }
}

/// The `prev_hash` of the first entry: binds the journal to the market configuration it was
/// written under (`SHA-256("yrd-ets journal v1" || configuration text)`).
pub fn genesis_hash(config_text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"yrd-ets journal v1");
    h.update(config_text.as_bytes());
    h.finalize().into()
}

/// A storage failure. Storage errors are not user errors: the registry stops accepting work
/// (fail-stop) and must be reopened, which rebuilds state from what is durably stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage: {0}")]
pub struct StorageError(pub String);

/// Where the journal lives. The registry owns this trait; `yrd-storage` implements it on SQLite.
pub trait JournalStore {
    /// Appends `entries` (consecutive sequence numbers following the last stored one) atomically
    /// and durably: when this returns `Ok`, all of them survive a crash or power loss; when it
    /// returns `Err`, none of them is stored.
    fn append(&mut self, entries: &[JournalEntry]) -> Result<(), StorageError>;

    /// Calls `visit` with every stored entry in sequence order; stops at the first error.
    fn scan(
        &self,
        visit: &mut dyn FnMut(JournalEntry) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>;

    /// The market configuration text the store was initialised with, if any.
    fn market_config(&self) -> Result<Option<String>, StorageError>;

    /// Binds the store to a market configuration. Fails if it is already bound.
    fn init_market_config(&mut self, text: &str) -> Result<(), StorageError>;
}

/// A journal kept in memory: for tests and for dry runs.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    entries: Vec<JournalEntry>,
    config: Option<String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mutable access to the stored entries, so tests can tamper with history and watch the
    /// audit catch it.
    pub fn entries_mut(&mut self) -> &mut Vec<JournalEntry> {
        &mut self.entries
    }
}

impl JournalStore for MemoryStore {
    fn append(&mut self, entries: &[JournalEntry]) -> Result<(), StorageError> {
        let expected = self.entries.len() as u64 + 1;
        if let Some(first) = entries.first()
            && first.seq != expected
        {
            return Err(StorageError(format!(
                "append at seq {} but next is {expected}",
                first.seq
            )));
        }
        self.entries.extend_from_slice(entries);
        Ok(())
    }

    fn scan(
        &self,
        visit: &mut dyn FnMut(JournalEntry) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.entries.iter().try_for_each(|e| visit(e.clone()))
    }

    fn market_config(&self) -> Result<Option<String>, StorageError> {
        Ok(self.config.clone())
    }

    fn init_market_config(&mut self, text: &str) -> Result<(), StorageError> {
        if self.config.is_some() {
            return Err(StorageError(
                "store already bound to a market configuration".into(),
            ));
        }
        self.config = Some(text.to_string());
        Ok(())
    }
}
