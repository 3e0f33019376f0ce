use super::*;
use yrd_registry::journal::genesis_hash;

/// `n` chained entries with seqs `from..from + n`, continuing from `prev`.
fn entries(from: u64, n: u64, mut prev: [u8; 32]) -> Vec<JournalEntry> {
    (from..from + n)
        .map(|seq| {
            let tx_id = format!("t{seq}");
            let command = format!(r#"{{"kind":"transfer","n":{seq}}}"#);
            let effects = format!(r#"{{"moved":[{seq}]}}"#);
            let hash = JournalEntry::compute_hash(&prev, seq, &tx_id, &command, &effects);
            let e = JournalEntry {
                seq,
                tx_id,
                kind: "transfer".into(),
                command,
                effects,
                prev_hash: prev,
                hash,
                recorded_at: "2025-01-01T00:00:00.000Z".into(),
            };
            prev = hash;
            e
        })
        .collect()
}

fn scan_all(store: &SqliteStore) -> Vec<JournalEntry> {
    let mut out = Vec::new();
    store
        .scan(&mut |e| {
            out.push(e);
            Ok(())
        })
        .unwrap();
    out
}

fn raw(store: &SqliteStore) -> Connection {
    Connection::open(store.path()).unwrap()
}

#[test]
fn application_id_literal_matches_constant() {
    assert!(
        MIGRATION_STEPS[0]
            .to_string()
            .contains(&format!("PRAGMA application_id = {APPLICATION_ID};"))
    );
}

#[test]
fn migrations_are_valid() {
    MIGRATIONS.validate().unwrap();
}

#[test]
fn open_creates_directory_and_sets_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b");
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.path(), data.join(FILE_NAME));
    assert!(store.path().is_file());
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = store
        .conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let fk: i64 = store
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION as i64);
    assert_eq!(store.entry_count().unwrap(), 0);
    assert_eq!(store.last_entry().unwrap(), None);
}

#[test]
fn round_trip_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(1, 3, genesis_hash("cfg"));
    {
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.append(&all[..2]).unwrap();
        store.append(&[]).unwrap();
        store.append(&all[2..]).unwrap();
        assert_eq!(store.entry_count().unwrap(), 3);
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(scan_all(&store), all);
    assert_eq!(store.entry_count().unwrap(), 3);
    assert_eq!(store.last_entry().unwrap().as_ref(), all.last());
}

#[test]
fn reopened_store_continues_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(1, 4, genesis_hash("cfg"));
    SqliteStore::open(dir.path())
        .unwrap()
        .append(&all[..2])
        .unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let err = store.append(&all[..1]).unwrap_err();
    assert!(err.0.contains("next seq is 3"), "{err}");
    store.append(&all[2..]).unwrap();
    assert_eq!(scan_all(&store), all);
}

#[test]
fn wrong_seq_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let all = entries(1, 3, genesis_hash("cfg"));

    // Does not start at 1.
    let err = store.append(&all[1..]).unwrap_err();
    assert!(err.0.contains("first entry has seq 2"), "{err}");
    // A gap inside the batch.
    let err = store.append(&[all[0].clone(), all[2].clone()]).unwrap_err();
    assert!(err.0.contains("seq 3 follows seq 1"), "{err}");
    assert_eq!(store.entry_count().unwrap(), 0);

    // The store is still usable.
    store.append(&all).unwrap();
    assert_eq!(scan_all(&store), all);
}

#[test]
fn duplicate_tx_id_rolls_back_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let all = entries(1, 4, genesis_hash("cfg"));
    store.append(&all[..1]).unwrap();

    let mut batch = all[1..].to_vec();
    batch[1].tx_id = all[0].tx_id.clone(); // 2nd entry of the batch reuses t1
    let err = store.append(&batch).unwrap_err();
    assert!(err.0.contains("tx_id"), "{err}");
    assert!(err.0.contains("seq 3"), "{err}");
    assert!(err.0.contains(&store.path().display().to_string()), "{err}");
    assert_eq!(
        store.entry_count().unwrap(),
        1,
        "none of the batch is stored"
    );
    assert_eq!(scan_all(&store), all[..1]);

    // Duplicate inside the same batch, on the 2nd entry.
    let mut batch = all[1..].to_vec();
    batch[1].tx_id = batch[0].tx_id.clone();
    store.append(&batch).unwrap_err();
    assert_eq!(store.entry_count().unwrap(), 1);

    // Nothing is left half-done: the correct batch goes through.
    store.append(&all[1..]).unwrap();
    assert_eq!(scan_all(&store), all);
    drop(store);
    assert_eq!(scan_all(&SqliteStore::open(dir.path()).unwrap()), all);
}

#[test]
fn journal_is_append_only_in_sql() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let all = entries(1, 2, genesis_hash("cfg"));
    store.append(&all).unwrap();

    let conn = raw(&store);
    for sql in [
        "UPDATE journal SET effects = '{}' WHERE seq = 1",
        "DELETE FROM journal WHERE seq = 2",
        "DELETE FROM journal",
        // An upsert that would rewrite an entry goes through the UPDATE trigger.
        "INSERT INTO journal VALUES (1, 'x', 'k', 'c', 'e', x'00', x'00', 'now') \
         ON CONFLICT (seq) DO UPDATE SET effects = 'forged'",
        // REPLACE deletes the conflicting row without firing DELETE triggers; the INSERT
        // triggers stop it.
        "INSERT OR REPLACE INTO journal VALUES (1, 'x', 'k', 'c', 'e', x'00', x'00', 'now')",
        "REPLACE INTO journal VALUES (3, 't1', 'k', 'c', 'e', x'00', x'00', 'now')",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("journal is append-only"),
            "{sql}: {err}"
        );
    }
    drop(conn);
    assert_eq!(scan_all(&store), all);
}

#[test]
fn market_config_is_set_once_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.market_config().unwrap(), None);
        store
            .init_market_config("[market]\nname = \"x\"\n")
            .unwrap();
        let err = store.init_market_config("other").unwrap_err();
        assert!(err.0.contains("already bound"), "{err}");
    }
    let mut store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.market_config().unwrap().as_deref(),
        Some("[market]\nname = \"x\"\n")
    );
    store.init_market_config("other").unwrap_err();
    assert_eq!(
        store.market_config().unwrap().as_deref(),
        Some("[market]\nname = \"x\"\n")
    );
    let created_at: String = raw(&store)
        .query_row("SELECT value FROM meta WHERE key = 'created_at'", [], |r| {
            r.get(0)
        })
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(&created_at).unwrap();
    assert!(created_at.ends_with('Z'), "{created_at}");
}

#[test]
fn garbage_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(err.0.contains(&path.display().to_string()), "{err}");
    assert!(err.0.contains("not a yrd-ets database"), "{err}");
    assert!(err.0.contains("file is not a database"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file is left alone"
    );
}

#[test]
fn foreign_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE animals (name TEXT);")
        .unwrap();
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(err.0.contains(&path.display().to_string()), "{err}");
    assert!(err.0.contains("not a yrd-ets database"), "{err}");
    let mode: String = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the foreign file was not switched to WAL");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    raw(&store)
        .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
        .unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(err.0.contains(&path.display().to_string()), "{err}");
    assert!(err.0.contains("newer than this build knows"), "{err}");
}

#[test]
fn empty_file_is_initialised() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE_NAME), b"").unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.entry_count().unwrap(), 0);
}

#[test]
fn scan_reports_a_malformed_hash_by_seq() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.append(&entries(1, 1, genesis_hash("cfg"))).unwrap();
    // Inserts are allowed; a hand-written one with a short hash is what scan must catch.
    raw(&store)
        .execute(
            "INSERT INTO journal VALUES (2, 'bad', 'k', 'c', 'e', zeroblob(32), x'0102', 'now')",
            [],
        )
        .unwrap();
    let mut seen = 0;
    let err = store
        .scan(&mut |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(seen, 1);
    assert!(err.0.contains("seq 2"), "{err}");
    assert!(err.0.contains("hash is 2 bytes long"), "{err}");
}

#[test]
fn scan_stops_at_the_visitors_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.append(&entries(1, 5, genesis_hash("cfg"))).unwrap();
    let mut seen = Vec::new();
    let err = store
        .scan(&mut |e| {
            seen.push(e.seq);
            if e.seq == 2 {
                Err(StorageError("stop".into()))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(err, StorageError("stop".into()));
    assert_eq!(seen, [1, 2]);
}

#[test]
fn append_while_another_connection_writes_waits_then_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.conn.busy_timeout(Duration::from_millis(50)).unwrap();
    let other = raw(&store);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let all = entries(1, 2, genesis_hash("cfg"));
    let err = store.append(&all).unwrap_err();
    assert!(err.0.contains("locked"), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    store.append(&all).unwrap();
    assert_eq!(scan_all(&store), all);
}

#[test]
fn read_only_store_reads_but_never_writes_or_creates() {
    let dir = tempfile::tempdir().unwrap();
    // No database yet: refused, and nothing is created.
    let err = SqliteStore::open_read_only(dir.path()).err().unwrap();
    assert!(err.0.contains("no registry database"), "{err}");
    assert!(!dir.path().join(FILE_NAME).exists());
    // A store written by a writer can be read, but not appended to.
    let mut writer = SqliteStore::open(dir.path()).unwrap();
    writer.init_market_config("cfg").unwrap();
    drop(writer);
    let mut reader = SqliteStore::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.market_config().unwrap().as_deref(), Some("cfg"));
    let entry = JournalEntry {
        seq: 1,
        tx_id: "t1".into(),
        kind: "k".into(),
        command: "{}".into(),
        effects: "[]".into(),
        prev_hash: [0; 32],
        hash: [0; 32],
        recorded_at: "2024-01-01T00:00:00Z".into(),
    };
    let err = reader.append(&[entry]).unwrap_err();
    assert!(err.0.contains("read-only"), "{err}");
    assert_eq!(reader.entry_count().unwrap(), 0);
}
