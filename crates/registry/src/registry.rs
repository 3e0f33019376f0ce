//! [`Registry`]: the state plus its durable journal. The only way in for writes.

use crate::command::{Command, Receipt, Submission};
use crate::journal::{JournalEntry, JournalStore, StorageError, genesis_hash};
use crate::rules::Rejection;
use crate::state::{Applied, RegistryState};
use chrono::NaiveDate;
use yrd_config::{ConfigError, MarketConfig};
use yrd_types::TransactionId;

/// Why a registry could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored or given configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store was never initialised with a market configuration.
    #[error("the data directory holds no registry; create one first (yrd-ets init)")]
    NotInitialised,
    /// The store is bound to another configuration.
    #[error(
        "the data directory was created for another market configuration ({stored}); refusing to open it as {given}"
    )]
    ConfigMismatch {
        /// Name of the stored market.
        stored: String,
        /// Name of the market asked for.
        given: String,
    },
    /// A stored entry does not replay: the journal was altered or written by an incompatible
    /// version. Nothing is repaired automatically.
    #[error("journal entry {seq} ({tx_id}) is inconsistent: {reason}")]
    Corrupt {
        /// Sequence number.
        seq: u64,
        /// Transaction id.
        tx_id: String,
        /// What is wrong.
        reason: String,
    },
}

/// Outcome of one submission in a batch: accepted (new or duplicate) or refused.
pub type SubmitResult = Result<Receipt, Rejection>;

/// The registry: state derived from a durable, hash-chained journal.
///
/// Writes go through [`Registry::submit_batch`]: each submission is checked and applied in memory,
/// the accepted ones are appended to the journal in one atomic, durable store transaction (group
/// commit), and only then are the receipts returned. If the store fails, the registry refuses all
/// further work ("fail-stop"): reopening rebuilds state from what is durably stored.
pub struct Registry<S: JournalStore> {
    store: S,
    state: RegistryState,
    head: [u8; 32],
    config_text: String,
    failed: Option<StorageError>,
}

impl<S: JournalStore> Registry<S> {
    /// Initialises an empty store with a market configuration and opens the system accounts of
    /// every jurisdiction (transactions `genesis/{jurisdiction}`, dated `date`).
    pub fn create(
        mut store: S,
        config_text: &str,
        source_name: &str,
        date: NaiveDate,
    ) -> Result<Self, OpenError> {
        let config = MarketConfig::from_toml(source_name, config_text)?;
        store.init_market_config(config_text)?;
        let mut registry = Self::replay(store, config, config_text.to_string())?;
        let genesis: Vec<Submission> = registry
            .state
            .config()
            .jurisdictions
            .iter()
            .map(|j| Submission {
                id: TransactionId::new(format!("genesis/{}", j.code)).expect("valid id"),
                date,
                command: Command::OpenSystemAccounts {
                    jurisdiction: j.code.clone(),
                },
            })
            .collect();
        for result in registry.submit_batch(&genesis)? {
            if let Err(rejection) = result {
                return Err(OpenError::Corrupt {
                    seq: 0,
                    tx_id: rejection.tx_id.clone(),
                    reason: rejection.to_string(),
                });
            }
        }
        Ok(registry)
    }

    /// Opens an initialised store, rebuilding state by replaying the journal and checking its
    /// hash chain.
    pub fn open(store: S) -> Result<Self, OpenError> {
        let text = store.market_config()?.ok_or(OpenError::NotInitialised)?;
        let config = MarketConfig::from_toml("stored market configuration", &text)?;
        Self::replay(store, config, text)
    }

    /// Opens the store if initialised (checking it was created for the same market), else
    /// creates it.
    pub fn open_or_create(
        store: S,
        config_text: &str,
        source_name: &str,
        date: NaiveDate,
    ) -> Result<Self, OpenError> {
        match store.market_config()? {
            None => Self::create(store, config_text, source_name, date),
            Some(stored) if stored == config_text => Self::open(store),
            Some(stored) => {
                let name = |t: &str| {
                    MarketConfig::from_toml("", t)
                        .map(|c| c.market.name)
                        .unwrap_or_else(|_| "?".into())
                };
                Err(OpenError::ConfigMismatch {
                    stored: name(&stored),
                    given: name(config_text),
                })
            }
        }
    }

    fn replay(store: S, config: MarketConfig, config_text: String) -> Result<Self, OpenError> {
        let mut state = RegistryState::new(config);
        let mut head = genesis_hash(&config_text);
        let mut corrupt: Option<OpenError> = None;
        store
            .scan(&mut |entry| {
                match replay_entry(&mut state, &head, &entry) {
                    Ok(()) => head = entry.hash,
                    Err(reason) => {
                        corrupt = Some(OpenError::Corrupt {
                            seq: entry.seq,
                            tx_id: entry.tx_id.clone(),
                            reason,
                        });
                        return Err(StorageError("stopped at a corrupt entry".into()));
                    }
                }
                Ok(())
            })
            .or_else(|e| if corrupt.is_some() { Ok(()) } else { Err(e) })?;
        if let Some(e) = corrupt {
            return Err(e);
        }
        Ok(Self {
            store,
            state,
            head,
            config_text,
            failed: None,
        })
    }

    /// The current state (read-only).
    pub fn state(&self) -> &RegistryState {
        &self.state
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The market configuration text the journal is bound to.
    pub fn config_text(&self) -> &str {
        &self.config_text
    }

    /// Submits one transaction; see [`Registry::submit_batch`].
    pub fn submit(&mut self, submission: Submission) -> Result<SubmitResult, StorageError> {
        Ok(self
            .submit_batch(std::slice::from_ref(&submission))?
            .pop()
            .expect("one result per submission"))
    }

    /// Checks and applies each submission in order (later ones see the effects of earlier ones),
    /// then stores all accepted ones in one durable append. Returns one result per submission.
    /// Refused submissions change nothing. `Err` means the store failed: nothing of the batch is
    /// acknowledged, and the registry must be reopened.
    pub fn submit_batch(
        &mut self,
        submissions: &[Submission],
    ) -> Result<Vec<SubmitResult>, StorageError> {
        if let Some(e) = &self.failed {
            return Err(StorageError(format!(
                "registry stopped after a storage failure ({e}); reopen it"
            )));
        }
        let mut results = Vec::with_capacity(submissions.len());
        let mut entries = Vec::new();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for submission in submissions {
            let (command_json, content_hash) = RegistryState::canonical(submission);
            match self.state.apply(submission, content_hash) {
                Ok(Applied::New { seq, effects }) => {
                    let effects_json =
                        serde_json::to_string(&effects).expect("effects always serialise");
                    let tx_id = submission.id.to_string();
                    let hash = JournalEntry::compute_hash(
                        &self.head,
                        seq,
                        &tx_id,
                        &command_json,
                        &effects_json,
                    );
                    entries.push(JournalEntry {
                        seq,
                        tx_id,
                        kind: submission.command.kind().to_string(),
                        command: command_json,
                        effects: effects_json,
                        prev_hash: self.head,
                        hash,
                        recorded_at: now.clone(),
                    });
                    self.head = hash;
                    results.push(Ok(Receipt {
                        seq,
                        duplicate: false,
                        effects,
                    }));
                }
                Ok(Applied::Duplicate { seq }) => results.push(Ok(Receipt {
                    seq,
                    duplicate: true,
                    effects: vec![],
                })),
                Err(violations) => results.push(Err(Rejection {
                    tx_id: submission.id.to_string(),
                    violations,
                })),
            }
        }
        if let Err(e) = self.store.append(&entries) {
            // Nothing of the batch is stored, but memory is ahead of the disk: stop (fail-stop).
            // The usual cause is another process writing to the same data directory.
            let e = StorageError(format!(
                "{e}; nothing of this batch was stored. If another yrd-ets process writes to the same \
                 data directory, only one may write at a time: reopen and retry"
            ));
            self.failed = Some(e.clone());
            return Err(e);
        }
        Ok(results)
    }
}

/// Checks one stored entry against the chain head and replays it into `state`.
pub(crate) fn replay_entry(
    state: &mut RegistryState,
    head: &[u8; 32],
    entry: &JournalEntry,
) -> Result<(), String> {
    if entry.prev_hash != *head {
        return Err("previous-hash link broken".into());
    }
    let expected = JournalEntry::compute_hash(
        head,
        entry.seq,
        &entry.tx_id,
        &entry.command,
        &entry.effects,
    );
    if entry.hash != expected {
        return Err("hash does not match the entry's contents".into());
    }
    if entry.seq != state.last_seq() + 1 {
        return Err(format!("sequence gap: expected {}", state.last_seq() + 1));
    }
    let submission: Submission = serde_json::from_str(&entry.command)
        .map_err(|e| format!("stored command does not parse: {e}"))?;
    if submission.id.as_str() != entry.tx_id {
        return Err(format!(
            "command id {} differs from the entry's tx_id",
            submission.id
        ));
    }
    let (_, content_hash) = RegistryState::canonical(&submission);
    match state.apply(&submission, content_hash) {
        Ok(Applied::New { .. }) => Ok(()),
        Ok(Applied::Duplicate { seq }) => Err(format!("transaction id already applied as {seq}")),
        Err(v) => Err(format!(
            "no longer applies: {}",
            Rejection {
                tx_id: entry.tx_id.clone(),
                violations: v
            }
        )),
    }
}
