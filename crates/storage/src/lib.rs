//! SQLite storage for the yrd-ets journal.
//!
//! [`SqliteStore`] implements the registry's [`JournalStore`] trait on a single SQLite file,
//! `<data dir>/registry.sqlite`. The journal is the registry's only source of truth (state is
//! rebuilt from it by replay), so this crate is about one thing: an entry that was acknowledged is
//! never lost, and an entry that was not acknowledged is either wholly stored or wholly absent.
//!
//! # Why SQLite
//!
//! SQLite is embedded: the registry is one process and one file, with no database server to
//! install, configure, secure or keep running. It has a long record of surviving crashes and power
//! loss, its file format is stable and documented, and any `sqlite3` shell can read the journal for
//! an audit without yrd-ets code.
//!
//! # Durability: WAL and `synchronous=FULL`
//!
//! The database runs in write-ahead-log mode (`PRAGMA journal_mode=WAL`) with
//! `PRAGMA synchronous=FULL`: every commit appends its pages to the `-wal` file and `fsync`s it
//! before `COMMIT` returns. When [`JournalStore::append`] returns `Ok`, the entries survive a
//! process crash (tested by killing a writer with `SIGKILL` in `tests/crash.rs`), an operating
//! system crash and power loss (provided the disk honours flushes). A commit that was cut short is
//! ignored on the next open, because SQLite only replays WAL frames up to the last complete,
//! checksummed commit record. WAL also lets readers (audits, reports) run while the registry
//! writes.
//!
//! # Append-only at the SQL level
//!
//! The schema carries triggers that abort any `UPDATE` or `DELETE` on `journal` with
//! `journal is append-only`, and any `INSERT` that would not extend the journal (a sequence number
//! not after the last one, or a transaction id already journaled; these would otherwise let
//! `INSERT OR REPLACE` overwrite history). This guards against mistakes, such as a hand-written
//! fix-up query; it is not tamper-proofing (whoever can write the file can drop the triggers). Tampering
//! is caught by the hash chain, which the registry's audit verifies.
//!
//! # One transaction per batch (group commit)
//!
//! [`JournalStore::append`] writes a whole slice of entries in one `BEGIN IMMEDIATE` ... `COMMIT`
//! transaction, so the batch is atomic and costs one `fsync` however many entries it holds. The
//! registry can therefore gather the transactions accepted in a short window and make them durable
//! together, amortising the flush that dominates the cost of a single-entry append.
//!
//! # Schema
//!
//! The schema is created and upgraded by [`rusqlite_migration`], which records the schema version in
//! SQLite's `user_version` header field. The file is also stamped with an `application_id`
//! ([`APPLICATION_ID`]) so that opening a database that belongs to something else is refused rather
//! than silently migrated.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use yrd_registry::journal::{JournalEntry, JournalStore, StorageError};

#[cfg(test)]
mod tests;

/// Name of the database file inside the data directory.
pub const FILE_NAME: &str = "registry.sqlite";

/// SQLite `application_id` that marks a file as a yrd-ets registry database (`"YRDE"` as a
/// big-endian `i32`).
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"YRDE");

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema migrations, in order. Version `n` of the schema is the state after the first `n`.
/// Never edit a migration that has shipped: append a new one.
const MIGRATION_STEPS: &[M<'static>] = &[M::up(
    // The application id literal must equal `APPLICATION_ID` (checked by a unit test).
    "PRAGMA application_id = 1498563653;

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE journal (
        seq         INTEGER PRIMARY KEY,
        tx_id       TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL,
        command     TEXT NOT NULL,
        effects     TEXT NOT NULL,
        prev_hash   BLOB NOT NULL,
        hash        BLOB NOT NULL,
        recorded_at TEXT NOT NULL
    );

    CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
    BEGIN
        SELECT RAISE(ABORT, 'journal is append-only');
    END;

    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
    BEGIN
        SELECT RAISE(ABORT, 'journal is append-only');
    END;

    CREATE TRIGGER journal_insert_after_last BEFORE INSERT ON journal
    WHEN NEW.seq <= (SELECT COALESCE(MAX(seq), 0) FROM journal)
    BEGIN
        SELECT RAISE(ABORT, 'journal is append-only: seq must follow the last entry');
    END;

    CREATE TRIGGER journal_insert_new_tx_id BEFORE INSERT ON journal
    WHEN EXISTS (SELECT 1 FROM journal WHERE tx_id = NEW.tx_id)
    BEGIN
        SELECT RAISE(ABORT, 'journal is append-only: tx_id already journaled');
    END;",
)];

const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_STEPS);

/// The schema version this build creates and understands (the SQLite `user_version`).
pub const SCHEMA_VERSION: usize = MIGRATION_STEPS.len();

const INSERT_SQL: &str = "INSERT INTO journal \
    (seq, tx_id, kind, command, effects, prev_hash, hash, recorded_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const SELECT_COLUMNS: &str =
    "SELECT seq, tx_id, kind, command, effects, prev_hash, hash, recorded_at FROM journal";

const META_MARKET_CONFIG: &str = "market_config";
const META_CREATED_AT: &str = "created_at";

/// A journal kept in a SQLite database file (see the [crate documentation](crate) for the
/// durability design).
///
/// One `SqliteStore` should be the only writer of its file: it keeps the last stored sequence
/// number in memory to check appends (a second writer would be caught by the database constraints,
/// but with a less helpful error). Readers in other processes are fine.
///
/// After an error that leaves the outcome of a commit unknown (a failed `COMMIT` or `ROLLBACK`),
/// the store refuses further appends; reopen it to continue from what is actually stored.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Sequence number of the last stored entry (0 when the journal is empty).
    last_seq: u64,
    /// Set when a commit or rollback failed, so the store's view of the file can't be trusted.
    poisoned: bool,
}

impl SqliteStore {
    /// Opens the store in `data_dir` (creating the directory if missing), creating or upgrading
    /// the database `data_dir/registry.sqlite` to the current [`SCHEMA_VERSION`].
    ///
    /// The connection uses WAL mode with `synchronous=FULL`, foreign keys on, and waits up to
    /// 5 seconds for locks held by other connections.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] naming the path and the reason if the directory can't be created, the
    /// file can't be opened, the file is not a SQLite database, is a SQLite database that does not
    /// belong to yrd-ets, or has a schema newer than this build knows; also if a pragma or a
    /// migration fails. Nothing is written to a file that is refused.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StorageError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StorageError(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(FILE_NAME);
        let fail = |what: &str, e: &dyn Display| {
            StorageError(format!("cannot open {}: {what}: {e}", path.display()))
        };

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| fail("sqlite", &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("setting busy_timeout", &e))?;

        // Identify the file before changing anything in it (switching to WAL writes the header).
        check_identity(&conn)
            .map_err(|e| StorageError(format!("cannot open {}: {e}", path.display())))?;

        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| fail("setting journal_mode=WAL", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(
                "setting journal_mode=WAL",
                &format!("journal mode is {mode}"),
            ));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail("setting synchronous=FULL", &e))?;
        // On macOS, fsync does not flush the drive's cache; F_FULLFSYNC does. No-op elsewhere.
        conn.pragma_update(None, "fullfsync", true)
            .map_err(|e| fail("setting fullfsync", &e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| fail("setting foreign_keys=ON", &e))?;
        // A 64 MiB page cache keeps a large batch from spilling pages mid-transaction, and the
        // statement journal that the append-only triggers need stays in memory (it only protects
        // one statement, so it needs no durability).
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(|e| fail("setting cache_size", &e))?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(|e| fail("setting temp_store=MEMORY", &e))?;

        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|e| fail("migrating the schema", &e))?;

        // Make the file's directory entry durable too (it may just have been created).
        sync_dir(data_dir).map_err(|e| fail("syncing the data directory", &e))?;

        let last_seq: i64 = conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |row| {
                row.get(0)
            })
            .map_err(|e| fail("reading the last sequence number", &e))?;
        let last_seq = u64::try_from(last_seq).map_err(|_| {
            fail(
                "reading the last sequence number",
                &format!("negative seq {last_seq}"),
            )
        })?;

        Ok(SqliteStore {
            conn,
            path,
            last_seq,
            poisoned: false,
        })
    }

    /// Opens an existing store for reading only: nothing is created, migrated or written, so an
    /// auditor's or a report's view cannot change the registry. Appends are refused.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] naming the path if there is no database file, it is not a yrd-ets
    /// database, or its schema is not exactly this build's (a store from an older build must be
    /// opened for writing once, which migrates it).
    pub fn open_read_only(data_dir: &Path) -> Result<SqliteStore, StorageError> {
        let path = data_dir.join(FILE_NAME);
        let fail = |what: &str, e: &dyn Display| {
            StorageError(format!(
                "cannot open {} for reading: {what}: {e}",
                path.display()
            ))
        };
        if !path.is_file() {
            return Err(fail("no registry database", &"the file does not exist"));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| fail("sqlite", &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("setting busy_timeout", &e))?;
        check_identity(&conn).map_err(|e| fail("identity", &e))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| fail("schema version", &e))?;
        if version != SCHEMA_VERSION as i64 {
            return Err(fail(
                "schema version",
                &format!(
                    "{version}, this build reads {SCHEMA_VERSION} (an empty file holds no registry yet)"
                ),
            ));
        }
        let last_seq: i64 = conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |row| {
                row.get(0)
            })
            .map_err(|e| fail("reading the last sequence number", &e))?;
        Ok(SqliteStore {
            conn,
            path,
            last_seq: u64::try_from(last_seq).unwrap_or(0),
            poisoned: true,
        })
    }

    /// The path of the database file (`<data dir>/registry.sqlite`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of entries in the journal (counted in the database, not from memory).
    ///
    /// # Errors
    ///
    /// A [`StorageError`] if the query fails.
    pub fn entry_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM journal", [], |row| row.get(0))
            .map_err(|e| self.error("counting entries", e))?;
        u64::try_from(n).map_err(|_| self.error("counting entries", format!("negative count {n}")))
    }

    /// The entry with the highest sequence number, if any: what a writer resuming the hash chain
    /// needs, without scanning the whole journal.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] if the query fails or the stored row is malformed (see
    /// [`JournalStore::scan`]).
    pub fn last_entry(&self) -> Result<Option<JournalEntry>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SELECT_COLUMNS} ORDER BY seq DESC LIMIT 1"))
            .map_err(|e| self.error("reading the last entry", e))?;
        let mut rows = stmt
            .query([])
            .map_err(|e| self.error("reading the last entry", e))?;
        match rows
            .next()
            .map_err(|e| self.error("reading the last entry", e))?
        {
            Some(row) => entry_from_row(row)
                .map(Some)
                .map_err(|e| self.error("reading the last entry", e)),
            None => Ok(None),
        }
    }

    fn error(&self, what: &str, e: impl Display) -> StorageError {
        StorageError(format!("{}: {what}: {e}", self.path.display()))
    }

    /// Inserts `entries` in one IMMEDIATE transaction. On error the transaction is rolled back;
    /// if the rollback (or the commit) itself fails the store is poisoned.
    fn insert_batch(&mut self, entries: &[JournalEntry]) -> Result<(), String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| format!("BEGIN IMMEDIATE: {e}"))?;
        let inserted = (|| {
            let mut stmt = tx
                .prepare_cached(INSERT_SQL)
                .map_err(|e| format!("preparing INSERT: {e}"))?;
            for e in entries {
                // `append` checked that every seq fits in an i64.
                stmt.execute(params![
                    e.seq as i64,
                    e.tx_id,
                    e.kind,
                    e.command,
                    e.effects,
                    &e.prev_hash[..],
                    &e.hash[..],
                    e.recorded_at,
                ])
                .map_err(|err| format!("seq {} (tx_id {:?}): {err}", e.seq, e.tx_id))?;
            }
            Ok::<(), String>(())
        })();
        match inserted {
            Ok(()) => tx.commit().map_err(|e| {
                self.poisoned = true;
                format!("COMMIT: {e}")
            }),
            Err(msg) => match tx.rollback() {
                Ok(()) => Err(msg),
                Err(e) => {
                    self.poisoned = true;
                    Err(format!("{msg}; ROLLBACK also failed: {e}"))
                }
            },
        }
    }
}

impl JournalStore for SqliteStore {
    /// Appends `entries` in one SQLite transaction (`BEGIN IMMEDIATE` ... `COMMIT`).
    ///
    /// The first entry's `seq` must be one more than the last stored one and the entries' `seq`s
    /// must be consecutive; `tx_id`s must be new. An empty slice is a no-op.
    ///
    /// # Durability
    ///
    /// When this returns `Ok`, the whole batch has been `fsync`ed to the write-ahead log and
    /// survives a crash or power loss. When it returns `Err`, the transaction was rolled back and
    /// none of the batch is stored, with one exception inherent to any storage: if the `COMMIT`
    /// itself fails with an I/O error, whether the batch reached the disk is unknown. The store
    /// then refuses further appends; reopening it (and replaying) reveals what was stored.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] with SQLite's message for a sequence gap, a duplicate `seq` or `tx_id`,
    /// a full disk, an I/O error, a lock held beyond the busy timeout, or a poisoned store.
    fn append(&mut self, entries: &[JournalEntry]) -> Result<(), StorageError> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(());
        };
        if self.poisoned {
            return Err(self.error(
                "append refused",
                "the store is read-only, or an earlier commit failed; reopen it for writing",
            ));
        }
        let expected = self.last_seq + 1;
        if first.seq != expected {
            return Err(self.error(
                "append refused",
                format!(
                    "first entry has seq {} but the next seq is {expected}",
                    first.seq
                ),
            ));
        }
        if let Some(pair) = entries.windows(2).find(|w| w[1].seq != w[0].seq + 1) {
            return Err(self.error(
                "append refused",
                format!(
                    "seq {} follows seq {} in the batch",
                    pair[1].seq, pair[0].seq
                ),
            ));
        }
        if i64::try_from(last.seq).is_err() {
            return Err(self.error(
                "append refused",
                format!("seq {} exceeds the storable range", last.seq),
            ));
        }
        self.insert_batch(entries).map_err(|msg| {
            self.error(
                &format!("append of seq {}..={} rolled back", first.seq, last.seq),
                msg,
            )
        })?;
        self.last_seq = last.seq;
        Ok(())
    }

    /// Streams every entry to `visit` in sequence order, one row at a time (the journal is never
    /// loaded into memory as a whole). The scan reads one consistent snapshot of the database.
    ///
    /// # Errors
    ///
    /// The first error returned by `visit`, or a [`StorageError`] if the query fails or a row is
    /// malformed (for instance a hash blob that is not 32 bytes long; the error names the seq).
    fn scan(
        &self,
        visit: &mut dyn FnMut(JournalEntry) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SELECT_COLUMNS} ORDER BY seq"))
            .map_err(|e| self.error("scanning the journal", e))?;
        let mut rows = stmt
            .query([])
            .map_err(|e| self.error("scanning the journal", e))?;
        while let Some(row) = rows
            .next()
            .map_err(|e| self.error("scanning the journal", e))?
        {
            let entry = entry_from_row(row).map_err(|e| self.error("scanning the journal", e))?;
            visit(entry)?;
        }
        Ok(())
    }

    /// The `market_config` row of the `meta` table, if the store has been bound.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] if the query fails.
    fn market_config(&self) -> Result<Option<String>, StorageError> {
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [META_MARKET_CONFIG],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error("reading the market configuration", e))
    }

    /// Binds the store to the market configuration `text`: writes the `meta` rows
    /// `market_config` and `created_at` (now, RFC 3339 UTC) in one durable transaction.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] if the store is already bound (nothing is changed) or the write fails.
    fn init_market_config(&mut self, text: &str) -> Result<(), StorageError> {
        let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let path = self.path.display().to_string();
        let fail = |e: &dyn Display| {
            StorageError(format!("{path}: binding the market configuration: {e}"))
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| fail(&e))?;
        let bound: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM meta WHERE key = ?1)",
                [META_MARKET_CONFIG],
                |row| row.get(0),
            )
            .map_err(|e| fail(&e))?;
        if bound {
            return Err(fail(&"store already bound to a market configuration"));
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2), (?3, ?4)",
            params![META_MARKET_CONFIG, text, META_CREATED_AT, created_at],
        )
        .map_err(|e| fail(&e))?;
        tx.commit().map_err(|e| fail(&e))
    }
}

/// Checks that the open file is a fresh database or a yrd-ets database of a schema version this
/// build knows. Reading the header is also what detects a file that is not SQLite at all.
fn check_identity(conn: &Connection) -> Result<(), String> {
    let not_sqlite = |e: rusqlite::Error| format!("not a yrd-ets database ({e})");
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(not_sqlite)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(not_sqlite)?;
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(not_sqlite)?;
    if app_id == 0 && version == 0 && objects == 0 {
        return Ok(()); // empty or new file: the migrations will create the schema
    }
    if app_id != APPLICATION_ID {
        return Err(format!(
            "not a yrd-ets database (SQLite application_id {app_id:#x}, expected {APPLICATION_ID:#x})"
        ));
    }
    if version < 1 {
        return Err(format!(
            "not a yrd-ets database (schema version {version} with {objects} schema objects)"
        ));
    }
    if version > SCHEMA_VERSION as i64 {
        return Err(format!(
            "schema version {version} is newer than this build knows ({SCHEMA_VERSION}); \
             use a newer yrd-ets"
        ));
    }
    Ok(())
}

/// Converts a `journal` row to an entry; a malformed row yields a message naming its seq.
fn entry_from_row(row: &Row<'_>) -> Result<JournalEntry, String> {
    let raw_seq: i64 = row.get(0).map_err(|e| format!("malformed row: {e}"))?;
    let seq =
        u64::try_from(raw_seq).map_err(|_| format!("seq {raw_seq}: negative sequence number"))?;
    let text = |i: usize, name: &str| -> Result<String, String> {
        row.get(i)
            .map_err(|e| format!("seq {seq}: column {name}: {e}"))
    };
    let hash = |i: usize, name: &str| -> Result<[u8; 32], String> {
        let blob = row
            .get_ref(i)
            .and_then(|v| v.as_blob().map_err(Into::into))
            .map_err(|e| format!("seq {seq}: column {name}: {e}"))?;
        <[u8; 32]>::try_from(blob).map_err(|_| {
            format!(
                "seq {seq}: column {name} is {} bytes long, expected 32",
                blob.len()
            )
        })
    };
    Ok(JournalEntry {
        seq,
        tx_id: text(1, "tx_id")?,
        kind: text(2, "kind")?,
        command: text(3, "command")?,
        effects: text(4, "effects")?,
        prev_hash: hash(5, "prev_hash")?,
        hash: hash(6, "hash")?,
        recorded_at: text(7, "recorded_at")?,
    })
}

/// `fsync`s a directory so that a file created in it survives a power loss.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Directories can't be opened for syncing on this platform; NTFS journals metadata itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
