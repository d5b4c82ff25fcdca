//! The store in one SQLite file (the default): WAL mode, so the staff
//! console reads while the kiosk writes, and `synchronous = NORMAL`, which
//! in WAL mode loses no committed transaction on a process crash (only,
//! at worst, the last ones on a power cut).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::{Database, NewAnswer, RatedAnswer, Result, StoredAnswer, UnansweredGroup};
use crate::answer::session::Turn;

/// The schema version this code writes.
const VERSION: i64 = 3;

pub(super) struct SqliteDatabase {
    // One connection: writes are a few rows per question, far below what
    // serialising them costs.
    connection: Mutex<Connection>,
}

impl SqliteDatabase {
    pub(super) fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let connection = Connection::open(path)?;
        let mode: String =
            connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "the store's file system does not allow WAL mode");
        }
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Self::with_connection(connection)
    }

    pub(super) fn in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&connection)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent
        // (statements are atomic), so the connection stays usable.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Creates the tables, or adds what a later version needs, guarded by
/// `user_version`.
fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    if version < 2 {
        create_version_2(connection)?;
    }
    // Version 3: the sentences quoted when a turn was answered.
    connection.execute_batch(
        "BEGIN;
         ALTER TABLE turns ADD COLUMN quote TEXT;
         PRAGMA user_version = 3;
         COMMIT;",
    )
}

/// The tables as version 2 left them (versions 0 and 1 lack some).
fn create_version_2(connection: &Connection) -> rusqlite::Result<()> {
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
         CREATE TABLE IF NOT EXISTS turns (
             turn_id    INTEGER PRIMARY KEY AUTOINCREMENT,
             session_id TEXT NOT NULL,
             query      TEXT NOT NULL,
             answered   INTEGER NOT NULL CHECK (answered IN (0, 1)),
             created_at INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS turns_by_session ON turns (session_id, turn_id);
         PRAGMA user_version = 2;
         COMMIT;",
    )
}

impl Database for SqliteDatabase {
    fn insert_answer(&self, answer: &NewAnswer<'_>) -> Result<()> {
        self.connection().execute(
            "INSERT INTO answers
               (answer_id, session_id, question, question_key, answer, kind, reply_json,
                share_token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                answer.answer_id,
                answer.session_id,
                answer.question,
                answer.question_key,
                answer.answer,
                answer.kind,
                answer.reply_json,
                answer.share_token,
                answer.created_at,
            ],
        )?;
        Ok(())
    }

    fn upsert_feedback(&self, answer_id: &str, helpful: bool, at: i64) -> Result<bool> {
        let written = self.connection().execute(
            "INSERT INTO feedback (answer_id, helpful, created_at)
             SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM answers WHERE answer_id = ?1)
             ON CONFLICT (answer_id) DO UPDATE
                SET helpful = excluded.helpful, created_at = excluded.created_at",
            params![answer_id, helpful, at],
        )?;
        Ok(written > 0)
    }

    fn feedback_counts(&self) -> Result<(u64, u64)> {
        let (helpful, unhelpful): (i64, i64) = self.connection().query_row(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM feedback",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((helpful.unsigned_abs(), unhelpful.unsigned_abs()))
    }

    fn unhelpful_answers(&self, limit: i64) -> Result<Vec<RatedAnswer>> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT a.answer_id, a.question, a.answer, a.created_at
               FROM feedback f JOIN answers a USING (answer_id)
              WHERE f.helpful = 0
              ORDER BY f.created_at DESC, a.created_at DESC
              LIMIT ?1",
        )?;
        let answers = statement
            .query_map([limit], |row| {
                Ok(RatedAnswer {
                    answer_id: row.get(0)?,
                    question: row.get(1)?,
                    answer: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(answers)
    }

    fn unanswered_groups(&self, limit: i64) -> Result<Vec<UnansweredGroup>> {
        let connection = self.connection();
        // SQLite takes the bare `question` from the row holding MAX().
        let mut statement = connection.prepare(
            "SELECT question, COUNT(*), MAX(created_at)
               FROM answers
              WHERE kind = 'no_answer'
              GROUP BY question_key
              ORDER BY COUNT(*) DESC, MAX(created_at) DESC
              LIMIT ?1",
        )?;
        let groups = statement
            .query_map([limit], |row| {
                Ok(UnansweredGroup {
                    question: row.get(0)?,
                    count: row.get::<_, i64>(1)?.unsigned_abs(),
                    last_asked: row.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(groups)
    }

    fn delete_before(&self, answers: i64, turns: i64) -> Result<usize> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        let removed =
            transaction.execute("DELETE FROM answers WHERE created_at < ?1", [answers])?;
        transaction.execute("DELETE FROM turns WHERE created_at < ?1", [turns])?;
        transaction.commit()?;
        Ok(removed)
    }

    fn each_answer(&self, visit: &mut dyn FnMut(StoredAnswer) -> Result<()>) -> Result<()> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT a.session_id, a.question, a.reply_json, a.created_at, f.helpful
               FROM answers a LEFT JOIN feedback f USING (answer_id)
              ORDER BY a.created_at, a.rowid",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            visit(StoredAnswer {
                session_id: row.get(0)?,
                question: row.get(1)?,
                reply_json: row.get(2)?,
                created_at: row.get(3)?,
                helpful: row.get(4)?,
            })?;
        }
        Ok(())
    }

    fn share_token(&self, answer_id: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .query_row(
                "SELECT share_token FROM answers WHERE answer_id = ?1",
                [answer_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn answer_by_share_token(&self, token: &str) -> Result<Option<StoredAnswer>> {
        Ok(self
            .connection()
            .query_row(
                "SELECT session_id, question, reply_json, created_at
                   FROM answers WHERE share_token = ?1",
                [token],
                |row| {
                    Ok(StoredAnswer {
                        session_id: row.get(0)?,
                        question: row.get(1)?,
                        reply_json: row.get(2)?,
                        created_at: row.get(3)?,
                        helpful: None,
                    })
                },
            )
            .optional()?)
    }

    fn last_turn(&self, session_id: &str) -> Result<Option<(Turn, i64)>> {
        Ok(self
            .connection()
            .query_row(
                "SELECT query, answered, quote, created_at FROM turns
                  WHERE session_id = ?1 ORDER BY turn_id DESC LIMIT 1",
                [session_id],
                |row| {
                    let turn = Turn {
                        query: row.get(0)?,
                        answered: row.get(1)?,
                        quote: row.get(2)?,
                    };
                    Ok((turn, row.get(3)?))
                },
            )
            .optional()?)
    }

    fn append_turn(&self, session_id: &str, turn: &Turn, at: i64, keep: usize) -> Result<()> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        transaction.execute(
            "INSERT INTO turns (session_id, query, answered, quote, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![session_id, turn.query, turn.answered, turn.quote, at],
        )?;
        transaction.execute(
            "DELETE FROM turns WHERE session_id = ?1 AND turn_id NOT IN
               (SELECT turn_id FROM turns WHERE session_id = ?1 ORDER BY turn_id DESC LIMIT ?2)",
            params![session_id, super::limit_param(keep)],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn copy_turns(&self, from: &str, to: &str, alive_since: i64, at: i64) -> Result<()> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        transaction.execute("DELETE FROM turns WHERE session_id = ?1", [to])?;
        transaction.execute(
            "INSERT INTO turns (session_id, query, answered, quote, created_at)
             SELECT ?2, query, answered, quote, ?4 FROM turns
              WHERE session_id = ?1
                AND (SELECT MAX(created_at) FROM turns WHERE session_id = ?1) >= ?3
              ORDER BY turn_id",
            params![from, to, alive_since, at],
        )?;
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_database_is_in_wal_mode_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/eulcat.sqlite3");
        {
            let database = SqliteDatabase::open(&path).unwrap();
            let mode: String = database
                .connection()
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            let turn = Turn {
                query: "Q ?".into(),
                answered: true,
                quote: Some("R.".into()),
            };
            database.append_turn("s", &turn, 1, 8).unwrap();
        }
        let database = SqliteDatabase::open(&path).unwrap();
        let (turn, _) = database.last_turn("s").unwrap().unwrap();
        assert_eq!(turn.query, "Q ?");
        assert_eq!(turn.quote.as_deref(), Some("R."));
    }

    #[test]
    fn a_version_2_file_gains_the_quote_of_turns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.sqlite3");
        {
            let connection = Connection::open(&path).unwrap();
            create_version_2(&connection).unwrap();
            connection
                .execute(
                    "INSERT INTO turns (session_id, query, answered, created_at)
                     VALUES ('s', 'Q ?', 1, 5)",
                    [],
                )
                .unwrap();
        }
        let database = SqliteDatabase::open(&path).unwrap();
        let (turn, at) = database.last_turn("s").unwrap().unwrap();
        assert_eq!((turn.query.as_str(), turn.quote, at), ("Q ?", None, 5));
        let quoted = Turn {
            query: "Q2 ?".into(),
            answered: true,
            quote: Some("R2.".into()),
        };
        database.append_turn("s", &quoted, 6, 8).unwrap();
        database.copy_turns("s", "t", 0, 7).unwrap();
        assert_eq!(database.last_turn("t").unwrap().unwrap().0, quoted);
        let version: i64 = database
            .connection()
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
    }

    #[test]
    fn a_version_1_file_gains_the_turns_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let connection = Connection::open(&path).unwrap();
            connection
                .execute_batch(
                    "CREATE TABLE answers (answer_id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
                       question TEXT NOT NULL, question_key TEXT NOT NULL, answer TEXT NOT NULL,
                       kind TEXT NOT NULL, reply_json TEXT NOT NULL,
                       share_token TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
                     INSERT INTO answers VALUES ('a', 's', 'q', 'q', 'r', 'no_answer', '{}', 't', 5);
                     PRAGMA user_version = 1;",
                )
                .unwrap();
        }
        let database = SqliteDatabase::open(&path).unwrap();
        assert_eq!(database.share_token("a").unwrap().as_deref(), Some("t"));
        assert!(database.last_turn("s").unwrap().is_none());
    }
}
