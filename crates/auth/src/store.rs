//! The user store: one SQLite file, `<data dir>/users.db`, separate from the registry's journal
//! (it holds secrets the journal must not, and it changes on every sign-in).
//!
//! Set up as `yrd-storage` sets up the journal: schema by [`rusqlite_migration`] (version in
//! `user_version`), stamped with an `application_id` ([`APPLICATION_ID`], `"YRDU"`) so that a
//! foreign file is refused, `journal_mode=WAL`, `synchronous=FULL` (a committed lock-out or audit
//! row survives a crash or power loss), `foreign_keys=ON`, a 5-second busy timeout. The `audit`
//! table is append-only: triggers abort any `UPDATE` or `DELETE` and any `INSERT` that does not
//! extend it; users cannot be deleted (suspend them). On Unix a new file is created with mode
//! 0600, as it holds password hashes and TOTP secrets.
//!
//! [`UserStore::open_in_memory`] gives the same schema in memory, for tests.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};

use crate::audit::{AuditEvent, AuditRecord, FailureKind, NewAuditRecord};
use crate::clock::Timestamp;
use crate::config::LockoutPolicy;
use crate::error::AuthError;
use crate::role::{Role, UserId};

/// Name of the user database inside the data directory.
pub const FILE_NAME: &str = "users.db";

/// SQLite `application_id` of a yrd-ets user store (`"YRDU"` as a big-endian `i32`).
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"YRDU");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema migrations, in order. Never edit one that has shipped: append a new one.
const MIGRATION_STEPS: &[M<'static>] = &[M::up(
    // The application id literal must equal `APPLICATION_ID` (checked by a unit test).
    "PRAGMA application_id = 1498563669;

    CREATE TABLE users (
        id                  INTEGER PRIMARY KEY,
        username            TEXT NOT NULL UNIQUE,
        password_hash       TEXT NOT NULL,
        roles               TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        password_changed_at INTEGER NOT NULL,
        suspended_at        INTEGER,
        suspended_reason    TEXT,
        failed_passwords    INTEGER NOT NULL DEFAULT 0,
        failed_otps         INTEGER NOT NULL DEFAULT 0,
        locked_until        INTEGER,
        totp_secret         BLOB,
        totp_pending        BLOB,
        totp_last_step      INTEGER
    );

    CREATE TRIGGER users_no_delete BEFORE DELETE ON users
    BEGIN
        SELECT RAISE(ABORT, 'users are never deleted; suspend them');
    END;

    CREATE TABLE sources (
        source           TEXT PRIMARY KEY,
        failed_passwords INTEGER NOT NULL DEFAULT 0,
        failed_otps      INTEGER NOT NULL DEFAULT 0,
        locked_until     INTEGER,
        last_failure_at  INTEGER NOT NULL
    );

    CREATE TABLE sessions (
        id               INTEGER PRIMARY KEY,
        token_sha256     BLOB NOT NULL UNIQUE,
        user_id          INTEGER NOT NULL REFERENCES users(id),
        source           TEXT,
        created_at       INTEGER NOT NULL,
        last_seen_at     INTEGER NOT NULL,
        second_factor_at INTEGER,
        revoked_at       INTEGER,
        revoked_reason   TEXT
    );

    CREATE INDEX sessions_by_user ON sessions(user_id);

    CREATE TABLE audit (
        seq      INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        outcome  TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
        user_id  INTEGER,
        username TEXT,
        actor    TEXT,
        source   TEXT,
        detail   TEXT NOT NULL
    );

    CREATE INDEX audit_by_user ON audit(user_id);

    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN
        SELECT RAISE(ABORT, 'audit is append-only');
    END;

    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN
        SELECT RAISE(ABORT, 'audit is append-only');
    END;

    CREATE TRIGGER audit_insert_after_last BEFORE INSERT ON audit
    WHEN NEW.seq <= (SELECT COALESCE(MAX(seq), 0) FROM audit)
    BEGIN
        SELECT RAISE(ABORT, 'audit is append-only: seq must follow the last row');
    END;",
)];

const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_STEPS);

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: usize = MIGRATION_STEPS.len();

/// Users, sessions, failure counters and the audit log in one SQLite database.
///
/// A `UserStore` is one connection; the service ([`crate::Auth`]) owns it behind a mutex. One
/// process should write a store at a time (another would be serialised by SQLite's lock, waiting
/// up to 5 seconds).
#[derive(Debug)]
pub struct UserStore {
    conn: Connection,
    /// `None` in memory.
    path: Option<PathBuf>,
}

impl UserStore {
    /// Opens (creating if needed) `data_dir/users.db`, migrating it to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// [`AuthError::Storage`] naming the path if the directory or file cannot be created or
    /// opened, the file is not a yrd-ets user store, its schema is newer than this build, or a
    /// pragma or migration fails.
    pub fn open(data_dir: &Path) -> Result<UserStore, AuthError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            AuthError::Storage(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(FILE_NAME);
        let fail = |what: &str, e: &dyn Display| {
            AuthError::Storage(format!("cannot open {}: {what}: {e}", path.display()))
        };
        create_private(&path).map_err(|e| fail("creating the file", &e))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| fail("sqlite", &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("setting busy_timeout", &e))?;
        check_identity(&conn).map_err(|e| fail("identity", &e))?;
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
        conn.pragma_update(None, "fullfsync", true)
            .map_err(|e| fail("setting fullfsync", &e))?;
        prepare(&mut conn).map_err(|e| fail("preparing the schema", &e))?;
        Ok(UserStore {
            conn,
            path: Some(path),
        })
    }

    /// A store in memory with the same schema and triggers (for tests; gone when dropped).
    ///
    /// # Errors
    ///
    /// [`AuthError::Storage`] if SQLite cannot create it.
    pub fn open_in_memory() -> Result<UserStore, AuthError> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| AuthError::Storage(format!("in-memory store: {e}")))?;
        prepare(&mut conn).map_err(|e| {
            AuthError::Storage(format!("in-memory store: preparing the schema: {e}"))
        })?;
        Ok(UserStore { conn, path: None })
    }

    /// The database file, `None` for a store in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "in-memory store".into(), |p| p.display().to_string())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed if `f` returns `Ok` (whatever the
    /// inner result) and rolled back otherwise. The inner result lets a refusal (a wrong password)
    /// commit what it recorded (counters, audit row) and still be returned as an error.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let name = self.name();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| AuthError::Storage(format!("{name}: BEGIN IMMEDIATE: {e}")))?;
        let out = f(&Tx(&tx))?;
        tx.commit()
            .map_err(|e| AuthError::Storage(format!("{name}: COMMIT: {e}")))?;
        Ok(out)
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let name = self.name();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| AuthError::Storage(format!("{name}: BEGIN: {e}")))?;
        f(&Tx(&tx))
    }

    /// The raw connection, for tests that try to tamper with the tables.
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Creates `path` with mode 0600 if it does not exist, so that SQLite (which gives its `-wal` and
/// `-shm` files the database file's mode) never makes it readable by others.
#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file.sync_all(),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

fn prepare(conn: &mut Connection) -> Result<(), String> {
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| format!("setting foreign_keys=ON: {e}"))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| format!("setting temp_store=MEMORY: {e}"))?;
    MIGRATIONS
        .to_latest(conn)
        .map_err(|e| format!("migrating the schema: {e}"))
}

/// Accepts a new (empty) file or a yrd-ets user store of a known schema version.
fn check_identity(conn: &Connection) -> Result<(), String> {
    let not_ours = |e: rusqlite::Error| format!("not a yrd-ets user store ({e})");
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(not_ours)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(not_ours)?;
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(not_ours)?;
    if app_id == 0 && version == 0 && objects == 0 {
        return Ok(());
    }
    if app_id != APPLICATION_ID {
        return Err(format!(
            "not a yrd-ets user store (SQLite application_id {app_id:#x}, expected {APPLICATION_ID:#x})"
        ));
    }
    if version > SCHEMA_VERSION as i64 {
        return Err(format!(
            "schema version {version} is newer than this build knows ({SCHEMA_VERSION})"
        ));
    }
    Ok(())
}

/// A user as stored.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
    pub suspended_at: Option<Timestamp>,
    pub suspended_reason: Option<String>,
    pub failed_passwords: u32,
    pub failed_otps: u32,
    pub locked_until: Option<Timestamp>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_pending: Option<Vec<u8>>,
    pub totp_last_step: Option<u64>,
}

impl UserRow {
    /// The end of the user's lock, if it is locked at `now`.
    pub fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// A session as stored.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub id: i64,
    pub user: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub second_factor_at: Option<Timestamp>,
    /// The reason it was revoked, `None` while open.
    pub revoked: Option<String>,
}

const USER_COLUMNS: &str = "SELECT id, username, password_hash, roles, created_at, suspended_at, \
     suspended_reason, failed_passwords, failed_otps, locked_until, totp_secret, totp_pending, \
     totp_last_step FROM users";

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_unix_seconds)
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<(UserRow, String)> {
    let count = |i: usize| -> rusqlite::Result<u32> {
        let n: i64 = row.get(i)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    };
    let roles_json: String = row.get(3)?;
    Ok((
        UserRow {
            id: UserId(row.get(0)?),
            username: row.get(1)?,
            password_hash: row.get(2)?,
            roles: Vec::new(),
            created_at: Timestamp::from_unix_seconds(row.get(4)?),
            suspended_at: ts(row.get(5)?),
            suspended_reason: row.get(6)?,
            failed_passwords: count(7)?,
            failed_otps: count(8)?,
            locked_until: ts(row.get(9)?),
            totp_secret: row.get(10)?,
            totp_pending: row.get(11)?,
            totp_last_step: row
                .get::<_, Option<i64>>(12)?
                .and_then(|s| u64::try_from(s).ok()),
        },
        roles_json,
    ))
}

/// The statements of the store, run inside one transaction ([`UserStore::write`] or
/// [`UserStore::read`]).
pub(crate) struct Tx<'a>(&'a Connection);

impl Tx<'_> {
    fn err(what: &str, e: impl Display) -> AuthError {
        AuthError::Storage(format!("{what}: {e}"))
    }

    fn finish_user(
        what: &str,
        found: Option<(UserRow, String)>,
    ) -> Result<Option<UserRow>, AuthError> {
        match found {
            None => Ok(None),
            Some((mut user, roles_json)) => {
                user.roles = serde_json::from_str(&roles_json).map_err(|e| {
                    Self::err(what, format!("malformed roles of {}: {e}", user.username))
                })?;
                Ok(Some(user))
            }
        }
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, AuthError> {
        let what = "reading a user";
        let found = self
            .0
            .prepare_cached(&format!("{USER_COLUMNS} WHERE username = ?1"))
            .and_then(|mut s| s.query_row([username], user_from_row).optional())
            .map_err(|e| Self::err(what, e))?;
        Self::finish_user(what, found)
    }

    pub fn user_by_id(&self, id: UserId) -> Result<Option<UserRow>, AuthError> {
        let what = "reading a user";
        let found = self
            .0
            .prepare_cached(&format!("{USER_COLUMNS} WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.0], user_from_row).optional())
            .map_err(|e| Self::err(what, e))?;
        Self::finish_user(what, found)
    }

    pub fn users(&self) -> Result<Vec<UserRow>, AuthError> {
        let what = "listing users";
        let mut stmt = self
            .0
            .prepare_cached(&format!("{USER_COLUMNS} ORDER BY username"))
            .map_err(|e| Self::err(what, e))?;
        let rows = stmt
            .query_map([], user_from_row)
            .map_err(|e| Self::err(what, e))?;
        let mut users = Vec::new();
        for row in rows {
            let row = row.map_err(|e| Self::err(what, e))?;
            if let Some(user) = Self::finish_user(what, Some(row))? {
                users.push(user);
            }
        }
        Ok(users)
    }

    pub fn user_count(&self) -> Result<i64, AuthError> {
        self.0
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .map_err(|e| Self::err("counting users", e))
    }

    pub fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        roles: &[Role],
        now: Timestamp,
    ) -> Result<UserId, AuthError> {
        if self.user_by_name(username)?.is_some() {
            return Err(AuthError::UsernameTaken(username.into()));
        }
        let roles = roles_json(roles)?;
        self.0
            .execute(
                "INSERT INTO users (username, password_hash, roles, created_at, password_changed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![username, password_hash, roles, now.unix_seconds()],
            )
            .map_err(|e| Self::err("creating a user", e))?;
        Ok(UserId(self.0.last_insert_rowid()))
    }

    fn update_user(
        &self,
        what: &str,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<(), AuthError> {
        let n = self.0.execute(sql, p).map_err(|e| Self::err(what, e))?;
        if n == 1 {
            Ok(())
        } else {
            Err(Self::err(what, format!("{n} rows changed, expected 1")))
        }
    }

    pub fn set_roles(&self, id: UserId, roles: &[Role]) -> Result<(), AuthError> {
        self.update_user(
            "changing roles",
            "UPDATE users SET roles = ?2 WHERE id = ?1",
            params![id.0, roles_json(roles)?],
        )
    }

    pub fn set_password_hash(
        &self,
        id: UserId,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        self.update_user(
            "changing a password",
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![id.0, hash, now.unix_seconds()],
        )
    }

    /// Rewrites the hash with new parameters, keeping `password_changed_at`.
    pub fn rehash_password(&self, id: UserId, hash: &str) -> Result<(), AuthError> {
        self.update_user(
            "re-hashing a password",
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![id.0, hash],
        )
    }

    pub fn set_suspended(
        &self,
        id: UserId,
        suspended: Option<(Timestamp, &str)>,
    ) -> Result<(), AuthError> {
        let (at, reason) =
            suspended.map_or((None, None), |(t, r)| (Some(t.unix_seconds()), Some(r)));
        self.update_user(
            "suspending or reinstating",
            "UPDATE users SET suspended_at = ?2, suspended_reason = ?3 WHERE id = ?1",
            params![id.0, at, reason],
        )
    }

    /// Counts one failure of `kind` for the user; returns the end of the lock if this failure
    /// reached the limit (the counts are then reset).
    pub fn record_user_failure(
        &self,
        user: &UserRow,
        kind: FailureKind,
        now: Timestamp,
        policy: &LockoutPolicy,
    ) -> Result<Option<Timestamp>, AuthError> {
        let (mut passwords, mut otps) = (user.failed_passwords, user.failed_otps);
        let count = match kind {
            FailureKind::Password => &mut passwords,
            FailureKind::OneTimePassword => &mut otps,
        };
        *count = count.saturating_add(1);
        let locked =
            (*count >= policy.user_max_failures).then(|| now.plus_seconds(policy.lock_secs));
        if locked.is_some() {
            (passwords, otps) = (0, 0);
        }
        self.update_user(
            "counting a failure",
            "UPDATE users SET failed_passwords = ?2, failed_otps = ?3, \
             locked_until = COALESCE(?4, locked_until) WHERE id = ?1",
            params![
                user.id.0,
                i64::from(passwords),
                i64::from(otps),
                locked.map(Timestamp::unix_seconds)
            ],
        )?;
        Ok(locked)
    }

    /// Clears the user's failure counts (`None`: both) and, with `unlock`, the lock.
    pub fn reset_user_failures(
        &self,
        id: UserId,
        kind: Option<FailureKind>,
        unlock: bool,
    ) -> Result<(), AuthError> {
        let sql = match kind {
            Some(FailureKind::Password) => "UPDATE users SET failed_passwords = 0 WHERE id = ?1",
            Some(FailureKind::OneTimePassword) => "UPDATE users SET failed_otps = 0 WHERE id = ?1",
            None => "UPDATE users SET failed_passwords = 0, failed_otps = 0 WHERE id = ?1",
        };
        self.update_user("clearing failure counts", sql, [id.0])?;
        if unlock {
            self.update_user(
                "unlocking",
                "UPDATE users SET locked_until = NULL WHERE id = ?1",
                [id.0],
            )?;
        }
        Ok(())
    }

    pub fn set_totp_pending(&self, id: UserId, secret: Option<&[u8]>) -> Result<(), AuthError> {
        self.update_user(
            "storing a pending second factor",
            "UPDATE users SET totp_pending = ?2 WHERE id = ?1",
            params![id.0, secret],
        )
    }

    /// Makes the pending secret the active one, with `step` as its last used time step.
    pub fn activate_totp(&self, id: UserId, secret: &[u8], step: u64) -> Result<(), AuthError> {
        self.update_user(
            "activating a second factor",
            "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_last_step = ?3 \
             WHERE id = ?1",
            params![id.0, secret, step_i64(step)],
        )
    }

    pub fn clear_totp(&self, id: UserId) -> Result<(), AuthError> {
        self.update_user(
            "removing a second factor",
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
             WHERE id = ?1",
            [id.0],
        )
    }

    pub fn set_totp_last_step(&self, id: UserId, step: u64) -> Result<(), AuthError> {
        self.update_user(
            "recording a used one-time password",
            "UPDATE users SET totp_last_step = ?2 WHERE id = ?1",
            params![id.0, step_i64(step)],
        )
    }

    /// The end of the source's lock, if it is locked at `now`.
    pub fn source_locked_until(
        &self,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, AuthError> {
        let until: Option<Option<i64>> = self
            .0
            .query_row(
                "SELECT locked_until FROM sources WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Self::err("reading a source", e))?;
        Ok(ts(until.flatten()).filter(|t| *t > now))
    }

    /// Counts one failure of `kind` from `source`; returns the end of the lock if this failure
    /// reached the limit (the counts are then reset).
    pub fn record_source_failure(
        &self,
        source: &str,
        kind: FailureKind,
        now: Timestamp,
        policy: &LockoutPolicy,
    ) -> Result<Option<Timestamp>, AuthError> {
        let what = "counting a failure of a source";
        let current: Option<(i64, i64)> = self
            .0
            .query_row(
                "SELECT failed_passwords, failed_otps FROM sources WHERE source = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| Self::err(what, e))?;
        let (mut passwords, mut otps) = current.unwrap_or((0, 0));
        let count = match kind {
            FailureKind::Password => &mut passwords,
            FailureKind::OneTimePassword => &mut otps,
        };
        *count = count.saturating_add(1);
        let locked = (*count >= i64::from(policy.source_max_failures))
            .then(|| now.plus_seconds(policy.lock_secs));
        if locked.is_some() {
            (passwords, otps) = (0, 0);
        }
        self.0
            .execute(
                "INSERT INTO sources (source, failed_passwords, failed_otps, locked_until, last_failure_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (source) DO UPDATE SET failed_passwords = excluded.failed_passwords, \
                 failed_otps = excluded.failed_otps, \
                 locked_until = COALESCE(excluded.locked_until, locked_until), \
                 last_failure_at = excluded.last_failure_at",
                params![
                    source,
                    passwords,
                    otps,
                    locked.map(Timestamp::unix_seconds),
                    now.unix_seconds()
                ],
            )
            .map_err(|e| Self::err(what, e))?;
        Ok(locked)
    }

    /// Clears the source's count of `kind` after a success from it.
    pub fn reset_source_failures(&self, source: &str, kind: FailureKind) -> Result<(), AuthError> {
        let sql = match kind {
            FailureKind::Password => "UPDATE sources SET failed_passwords = 0 WHERE source = ?1",
            FailureKind::OneTimePassword => "UPDATE sources SET failed_otps = 0 WHERE source = ?1",
        };
        self.0
            .execute(sql, [source])
            .map_err(|e| Self::err("clearing a source's failures", e))?;
        Ok(())
    }

    pub fn insert_session(
        &self,
        token_sha256: &[u8; 32],
        user: UserId,
        source: &str,
        now: Timestamp,
    ) -> Result<i64, AuthError> {
        self.0
            .execute(
                "INSERT INTO sessions (token_sha256, user_id, source, created_at, last_seen_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![&token_sha256[..], user.0, source, now.unix_seconds()],
            )
            .map_err(|e| Self::err("opening a session", e))?;
        Ok(self.0.last_insert_rowid())
    }

    pub fn session_by_digest(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<SessionRow>, AuthError> {
        self.0
            .prepare_cached(
                "SELECT id, user_id, created_at, last_seen_at, second_factor_at, revoked_reason \
                 FROM sessions WHERE token_sha256 = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&token_sha256[..]], |r| {
                    Ok(SessionRow {
                        id: r.get(0)?,
                        user: UserId(r.get(1)?),
                        created_at: Timestamp::from_unix_seconds(r.get(2)?),
                        last_seen_at: Timestamp::from_unix_seconds(r.get(3)?),
                        second_factor_at: ts(r.get(4)?),
                        revoked: r.get(5)?,
                    })
                })
                .optional()
            })
            .map_err(|e| Self::err("reading a session", e))
    }

    pub fn touch_session(&self, id: i64, now: Timestamp) -> Result<(), AuthError> {
        self.0
            .execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2",
                params![id, now.unix_seconds()],
            )
            .map_err(|e| Self::err("touching a session", e))?;
        Ok(())
    }

    pub fn set_session_second_factor(&self, id: i64, now: Timestamp) -> Result<(), AuthError> {
        self.0
            .execute(
                "UPDATE sessions SET second_factor_at = ?2 WHERE id = ?1",
                params![id, now.unix_seconds()],
            )
            .map_err(|e| Self::err("marking a session's second factor", e))?;
        Ok(())
    }

    pub fn revoke_session(&self, id: i64, now: Timestamp, reason: &str) -> Result<(), AuthError> {
        self.0
            .execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 \
                 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now.unix_seconds(), reason],
            )
            .map_err(|e| Self::err("revoking a session", e))?;
        Ok(())
    }

    /// Revokes every open session of `user` except `keep`; returns how many.
    pub fn revoke_user_sessions(
        &self,
        user: UserId,
        now: Timestamp,
        reason: &str,
        keep: Option<i64>,
    ) -> Result<usize, AuthError> {
        self.0
            .execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 \
                 WHERE user_id = ?1 AND revoked_at IS NULL AND id IS NOT ?4",
                params![user.0, now.unix_seconds(), reason, keep],
            )
            .map_err(|e| Self::err("revoking sessions", e))
    }

    /// Open (not revoked) sessions of `user` whose last use is after `idle_since` and start after
    /// `created_since`.
    pub fn live_session_count(
        &self,
        user: UserId,
        idle_since: Timestamp,
        created_since: Timestamp,
    ) -> Result<u32, AuthError> {
        let n: i64 = self
            .0
            .query_row(
                "SELECT COUNT(*) FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL \
                 AND last_seen_at > ?2 AND created_at > ?3",
                params![
                    user.0,
                    idle_since.unix_seconds(),
                    created_since.unix_seconds()
                ],
                |r| r.get(0),
            )
            .map_err(|e| Self::err("counting sessions", e))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Deletes sessions that ended before `ended_before` (revoked, or created before it: past any
    /// absolute lifetime) and source rows with no lock and no failure since `ended_before`.
    pub fn purge(&self, ended_before: Timestamp) -> Result<(usize, usize), AuthError> {
        let t = ended_before.unix_seconds();
        let sessions = self
            .0
            .execute(
                "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < ?1) \
                 OR created_at < ?1",
                [t],
            )
            .map_err(|e| Self::err("purging sessions", e))?;
        let sources = self
            .0
            .execute(
                "DELETE FROM sources WHERE last_failure_at < ?1 \
                 AND (locked_until IS NULL OR locked_until < ?1)",
                [t],
            )
            .map_err(|e| Self::err("purging sources", e))?;
        Ok((sessions, sources))
    }

    pub fn append_audit(&self, record: &NewAuditRecord<'_>) -> Result<i64, AuthError> {
        let what = "writing the audit log";
        let detail = serde_json::to_string(&record.event).map_err(|e| Self::err(what, e))?;
        let seq: i64 = self
            .0
            .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit", [], |r| {
                r.get(0)
            })
            .map_err(|e| Self::err(what, e))?;
        self.0
            .prepare_cached(
                "INSERT INTO audit (seq, at, kind, outcome, user_id, username, actor, source, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    seq,
                    record.at.unix_seconds(),
                    record.event.kind(),
                    if record.event.is_success() {
                        "success"
                    } else {
                        "failure"
                    },
                    record.user.map(|u| u.0),
                    record.username,
                    record.actor,
                    record.source,
                    detail,
                ])
            })
            .map_err(|e| Self::err(what, e))?;
        Ok(seq)
    }

    /// Up to `limit` rows with `seq > after`, in order.
    pub fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, AuthError> {
        let what = "reading the audit log";
        let mut stmt = self
            .0
            .prepare_cached(
                "SELECT seq, at, user_id, username, actor, source, detail FROM audit \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| Self::err(what, e))?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| Self::err(what, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, user, username, actor, source, detail) =
                row.map_err(|e| Self::err(what, e))?;
            let event: AuditEvent = serde_json::from_str(&detail)
                .map_err(|e| Self::err(what, format!("seq {seq}: malformed detail: {e}")))?;
            out.push(AuditRecord {
                seq,
                at: Timestamp::from_unix_seconds(at),
                user: user.map(UserId),
                username,
                actor,
                source,
                event,
            });
        }
        Ok(out)
    }
}

fn roles_json(roles: &[Role]) -> Result<String, AuthError> {
    serde_json::to_string(roles).map_err(|e| AuthError::Storage(format!("encoding roles: {e}")))
}

fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}
