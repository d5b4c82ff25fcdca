//! The store on a PostgreSQL server, shared by several replicas behind a
//! load balancer: answers, feedback and conversations written by one are
//! read by all. Connections come from a small pool; a replica answers one
//! question at a time on the model, so a handful is plenty.

use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use super::{Database, NewAnswer, RatedAnswer, Result, StoredAnswer, UnansweredGroup};
use crate::answer::session::Turn;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// Connections per replica.
const POOL_SIZE: u32 = 8;

/// How long a request waits for a connection before failing: long enough
/// for a first connection to a busy server, short enough that a visitor is
/// not left waiting on a dead database (an answer makes up to three
/// calls).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Any fixed number: replicas starting together take this advisory lock so
/// only one creates the tables.
const MIGRATION_LOCK: i64 = 0x6575_6c63_6174;

pub(super) struct PostgresDatabase {
    // Always `Some` until dropped; see `Drop`.
    pool: Option<Pool>,
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // A `postgres::Client` closes its connection by blocking on its own
        // runtime, which tokio forbids on an async thread, where the last
        // handle to the store is often dropped (server shutdown): close them
        // on a plain thread.
        if let Some(pool) = self.pool.take() {
            let closing = std::thread::spawn(move || drop(pool));
            if closing.join().is_err() {
                tracing::warn!("closing the database connections failed");
            }
        }
    }
}

impl PostgresDatabase {
    pub(super) fn connect(url: &str) -> Result<Self> {
        let config: postgres::Config = url.parse()?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            // Connections are opened on demand: a replica that starts while
            // the database restarts still comes up, and retries per request.
            .min_idle(Some(0))
            .connection_timeout(CONNECT_TIMEOUT)
            .build_unchecked(PostgresConnectionManager::new(config, NoTls));
        let database = Self { pool: Some(pool) };
        database.migrate()?;
        Ok(database)
    }

    fn migrate(&self) -> Result<()> {
        let mut client = self.client()?;
        let mut transaction = client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        transaction.batch_execute(
            "CREATE TABLE IF NOT EXISTS answers (
                 answer_id    TEXT PRIMARY KEY,
                 session_id   TEXT NOT NULL,
                 question     TEXT NOT NULL,
                 question_key TEXT NOT NULL,
                 answer       TEXT NOT NULL,
                 kind         TEXT NOT NULL,
                 reply_json   TEXT NOT NULL,
                 share_token  TEXT NOT NULL UNIQUE,
                 created_at   BIGINT NOT NULL,
                 seq          BIGINT GENERATED ALWAYS AS IDENTITY
             );
             CREATE INDEX IF NOT EXISTS answers_by_kind ON answers (kind, question_key);
             CREATE INDEX IF NOT EXISTS answers_by_age ON answers (created_at);
             CREATE TABLE IF NOT EXISTS feedback (
                 answer_id  TEXT PRIMARY KEY REFERENCES answers (answer_id) ON DELETE CASCADE,
                 helpful    BOOLEAN NOT NULL,
                 created_at BIGINT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS turns (
                 turn_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 session_id TEXT NOT NULL,
                 query      TEXT NOT NULL,
                 answered   BOOLEAN NOT NULL,
                 created_at BIGINT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS turns_by_session ON turns (session_id, turn_id);
             ALTER TABLE turns ADD COLUMN IF NOT EXISTS quote TEXT;",
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn client(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>> {
        let pool = self.pool.as_ref().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotConnected, "the store is closed")
        })?;
        Ok(pool.get()?)
    }
}

fn stored_answer(row: &postgres::Row) -> StoredAnswer {
    StoredAnswer {
        session_id: row.get(0),
        question: row.get(1),
        reply_json: row.get(2),
        created_at: row.get(3),
        helpful: row.get(4),
    }
}

impl Database for PostgresDatabase {
    fn insert_answer(&self, answer: &NewAnswer<'_>) -> Result<()> {
        self.client()?.execute(
            "INSERT INTO answers
               (answer_id, session_id, question, question_key, answer, kind, reply_json,
                share_token, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &answer.answer_id,
                &answer.session_id,
                &answer.question,
                &answer.question_key,
                &answer.answer,
                &answer.kind,
                &answer.reply_json,
                &answer.share_token,
                &answer.created_at,
            ],
        )?;
        Ok(())
    }

    fn upsert_feedback(&self, answer_id: &str, helpful: bool, at: i64) -> Result<bool> {
        let written = self.client()?.execute(
            "INSERT INTO feedback (answer_id, helpful, created_at)
             SELECT $1::TEXT, $2::BOOLEAN, $3::BIGINT WHERE EXISTS (SELECT 1 FROM answers WHERE answer_id = $1)
             ON CONFLICT (answer_id) DO UPDATE
                SET helpful = excluded.helpful, created_at = excluded.created_at",
            &[&answer_id, &helpful, &at],
        )?;
        Ok(written > 0)
    }

    fn feedback_counts(&self) -> Result<(u64, u64)> {
        let row = self.client()?.query_one(
            "SELECT COUNT(*) FILTER (WHERE helpful), COUNT(*) FILTER (WHERE NOT helpful)
               FROM feedback",
            &[],
        )?;
        let (helpful, unhelpful): (i64, i64) = (row.get(0), row.get(1));
        Ok((helpful.unsigned_abs(), unhelpful.unsigned_abs()))
    }

    fn unhelpful_answers(&self, limit: i64) -> Result<Vec<RatedAnswer>> {
        let rows = self.client()?.query(
            "SELECT a.answer_id, a.question, a.answer, a.created_at
               FROM feedback f JOIN answers a USING (answer_id)
              WHERE NOT f.helpful
              ORDER BY f.created_at DESC, a.created_at DESC
              LIMIT $1",
            &[&limit],
        )?;
        Ok(rows
            .iter()
            .map(|row| RatedAnswer {
                answer_id: row.get(0),
                question: row.get(1),
                answer: row.get(2),
                created_at: row.get(3),
            })
            .collect())
    }

    fn unanswered_groups(&self, limit: i64) -> Result<Vec<UnansweredGroup>> {
        let rows = self.client()?.query(
            "SELECT (array_agg(question ORDER BY created_at DESC, seq DESC))[1],
                    COUNT(*), MAX(created_at)
               FROM answers
              WHERE kind = 'no_answer'
              GROUP BY question_key
              ORDER BY COUNT(*) DESC, MAX(created_at) DESC
              LIMIT $1",
            &[&limit],
        )?;
        Ok(rows
            .iter()
            .map(|row| UnansweredGroup {
                question: row.get(0),
                count: row.get::<_, i64>(1).unsigned_abs(),
                last_asked: row.get(2),
            })
            .collect())
    }

    fn delete_before(&self, answers: i64, turns: i64) -> Result<usize> {
        let mut client = self.client()?;
        let mut transaction = client.transaction()?;
        let removed =
            transaction.execute("DELETE FROM answers WHERE created_at < $1", &[&answers])?;
        transaction.execute("DELETE FROM turns WHERE created_at < $1", &[&turns])?;
        transaction.commit()?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    fn each_answer(&self, visit: &mut dyn FnMut(StoredAnswer) -> Result<()>) -> Result<()> {
        let mut client = self.client()?;
        // Streamed row by row: an export of a month of a busy site need not
        // fit in memory.
        let mut rows = client.query_raw(
            "SELECT a.session_id, a.question, a.reply_json, a.created_at, f.helpful
               FROM answers a LEFT JOIN feedback f USING (answer_id)
              ORDER BY a.created_at, a.seq",
            std::iter::empty::<i64>(),
        )?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
            visit(stored_answer(&row))?;
        }
        Ok(())
    }

    fn share_token(&self, answer_id: &str) -> Result<Option<String>> {
        let row = self.client()?.query_opt(
            "SELECT share_token FROM answers WHERE answer_id = $1",
            &[&answer_id],
        )?;
        Ok(row.map(|row| row.get(0)))
    }

    fn answer_by_share_token(&self, token: &str) -> Result<Option<StoredAnswer>> {
        let row = self.client()?.query_opt(
            "SELECT session_id, question, reply_json, created_at, NULL::BOOLEAN
               FROM answers WHERE share_token = $1",
            &[&token],
        )?;
        Ok(row.as_ref().map(stored_answer))
    }

    fn last_turn(&self, session_id: &str) -> Result<Option<(Turn, i64)>> {
        let row = self.client()?.query_opt(
            "SELECT query, answered, quote, created_at FROM turns
              WHERE session_id = $1 ORDER BY turn_id DESC LIMIT 1",
            &[&session_id],
        )?;
        Ok(row.map(|row| {
            let turn = Turn {
                query: row.get(0),
                answered: row.get(1),
                quote: row.get(2),
            };
            (turn, row.get(3))
        }))
    }

    fn append_turn(&self, session_id: &str, turn: &Turn, at: i64, keep: usize) -> Result<()> {
        let mut client = self.client()?;
        let mut transaction = client.transaction()?;
        transaction.execute(
            "INSERT INTO turns (session_id, query, answered, quote, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&session_id, &turn.query, &turn.answered, &turn.quote, &at],
        )?;
        transaction.execute(
            "DELETE FROM turns WHERE session_id = $1 AND turn_id NOT IN
               (SELECT turn_id FROM turns WHERE session_id = $1 ORDER BY turn_id DESC LIMIT $2)",
            &[&session_id, &super::limit_param(keep)],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn copy_turns(&self, from: &str, to: &str, alive_since: i64, at: i64) -> Result<()> {
        let mut client = self.client()?;
        let mut transaction = client.transaction()?;
        transaction.execute("DELETE FROM turns WHERE session_id = $1", &[&to])?;
        transaction.execute(
            "INSERT INTO turns (session_id, query, answered, quote, created_at)
             SELECT $2::TEXT, query, answered, quote, $4::BIGINT FROM turns
              WHERE session_id = $1
                AND (SELECT MAX(created_at) FROM turns WHERE session_id = $1) >= $3::BIGINT
              ORDER BY turn_id",
            &[&from, &to, &alive_since, &at],
        )?;
        transaction.commit()?;
        Ok(())
    }
}
