//! The store's tables, created on first open. A later version adds tables
//! or columns here, guarded by `user_version`.

use rusqlite::Connection;

/// The schema version this code writes.
const VERSION: i64 = 1;

pub(super) fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    connection.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS answers (
             answer_id    TEXT PRIMARY KEY,
             session_id   TEXT NOT NULL,
             question     TEXT NOT NULL,
             question_key TEXT NOT NULL,
             answer       TEXT NOT NULL,
             kind         TEXT NOT NULL,
             reply_json   TEXT NOT NULL,
             share_token  TEXT NOT NULL UNIQUE,
             created_at   INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS answers_by_kind ON answers (kind, question_key);
         CREATE TABLE IF NOT EXISTS feedback (
             answer_id  TEXT PRIMARY KEY REFERENCES answers (answer_id) ON DELETE CASCADE,
             helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1)),
             created_at INTEGER NOT NULL
         );
         PRAGMA user_version = 1;
         COMMIT;",
    )
}
