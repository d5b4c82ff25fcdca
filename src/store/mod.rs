//! What the front ends remember: the answers given (so a visitor can take
//! one home through a short-lived link), the feedback on them, and the
//! questions the documents could not answer, for the staff console.
//!
//! One SQLite file in WAL mode, so the console can read while the kiosk
//! writes. The API is synchronous and narrow; callers on an async runtime
//! run it on a blocking thread. Nothing here knows of HTTP.

mod schema;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::answer::{AnswerKind, Reply};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("store database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored reply could not be encoded or decoded.
    #[error("stored reply: {0}")]
    Json(#[from] serde_json::Error),
    /// The folder of the database file could not be created.
    #[error("store folder: {0}")]
    Io(#[from] std::io::Error),
    /// Feedback names an answer that was never given (or was forgotten).
    #[error("unknown answer id {0}")]
    UnknownAnswer(String),
}

/// Result of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a shared answer's link works by default: a visit to the
/// exhibition, and the evening after it.
pub const DEFAULT_SHARE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Feedback counts and the answers visitors found unhelpful.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackSummary {
    /// Answers marked helpful.
    pub helpful: u64,
    /// Answers marked unhelpful.
    pub unhelpful: u64,
    /// The unhelpful answers, newest first.
    pub unhelpful_answers: Vec<RatedAnswer>,
}

/// An answer with the question it replied to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatedAnswer {
    /// The answer's id.
    pub answer_id: String,
    /// The visitor's question.
    pub question: String,
    /// The text the visitor saw.
    pub answer: String,
    /// When it was given, in seconds since the Unix epoch.
    pub created_at: i64,
}

/// A question the documents could not answer, with how often it (or a
/// variant differing only in case, accents or punctuation) was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnansweredGroup {
    /// The latest wording.
    pub question: String,
    /// Times asked.
    pub count: u64,
    /// Last time asked, in seconds since the Unix epoch.
    pub last_asked: i64,
}

/// An answer reached through its share link.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedAnswer {
    /// The visitor's question.
    pub question: String,
    /// The reply as it was given.
    pub reply: Reply,
    /// When it was given, in seconds since the Unix epoch.
    pub created_at: i64,
}

/// The store; share it behind an `Arc`.
pub struct Store {
    // One connection: writes are a few rows per question, far below what
    // serialising them costs.
    connection: Mutex<Connection>,
    share_ttl: Duration,
}

impl Store {
    /// Opens (or creates) the database file, creating its folder.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let connection = Connection::open(path)?;
        // Readers (the console) never wait for the writer (the kiosk).
        let mode: String =
            connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "the store's file system does not allow WAL mode");
        }
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Self::with_connection(connection)
    }

    /// A store that lives in memory only (tests, or a kiosk that must not
    /// keep anything).
    pub fn in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&connection)?;
        Ok(Self {
            connection: Mutex::new(connection),
            share_ttl: DEFAULT_SHARE_TTL,
        })
    }

    /// Sets how long share links work.
    pub fn with_share_ttl(mut self, ttl: Duration) -> Self {
        self.share_ttl = ttl;
        self
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent
        // (statements are atomic), so the connection stays usable.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers a reply and the question it answers; returns the token of
    /// its share link.
    pub fn record_answer(&self, reply: &Reply, question: &str) -> Result<String> {
        self.record_answer_at(reply, question, now())
    }

    fn record_answer_at(&self, reply: &Reply, question: &str, at: i64) -> Result<String> {
        let token = new_token();
        let json = serde_json::to_string(reply)?;
        self.connection().execute(
            "INSERT INTO answers
               (answer_id, session_id, question, question_key, answer, kind, reply_json,
                share_token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                reply.answer_id,
                reply.session_id,
                question,
                question_key(question),
                reply.answer,
                kind_name(reply.kind),
                json,
                token,
                at,
            ],
        )?;
        Ok(token)
    }

    /// Records whether an answer helped; a second vote on the same answer
    /// replaces the first.
    pub fn record_feedback(&self, answer_id: &str, helpful: bool) -> Result<()> {
        let connection = self.connection();
        let known: Option<i64> = connection
            .query_row(
                "SELECT 1 FROM answers WHERE answer_id = ?1",
                [answer_id],
                |row| row.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Err(Error::UnknownAnswer(answer_id.to_string()));
        }
        connection.execute(
            "INSERT OR REPLACE INTO feedback (answer_id, helpful, created_at)
             VALUES (?1, ?2, ?3)",
            params![answer_id, helpful, now()],
        )?;
        Ok(())
    }

    /// Feedback counts, and the `limit` latest answers marked unhelpful.
    pub fn feedback_summary(&self, limit: usize) -> Result<FeedbackSummary> {
        let connection = self.connection();
        let (helpful, unhelpful): (i64, i64) = connection.query_row(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM feedback",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let mut statement = connection.prepare(
            "SELECT a.answer_id, a.question, a.answer, a.created_at
               FROM feedback f JOIN answers a USING (answer_id)
              WHERE f.helpful = 0
              ORDER BY f.created_at DESC, a.created_at DESC
              LIMIT ?1",
        )?;
        let unhelpful_answers = statement
            .query_map([limit_param(limit)], |row| {
                Ok(RatedAnswer {
                    answer_id: row.get(0)?,
                    question: row.get(1)?,
                    answer: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(FeedbackSummary {
            helpful: helpful.unsigned_abs(),
            unhelpful: unhelpful.unsigned_abs(),
            unhelpful_answers,
        })
    }

    /// The questions answered `no_answer`, grouped by wording (case, accents
    /// and punctuation aside), most asked first; at most `limit` groups.
    pub fn unanswered_questions_grouped(&self, limit: usize) -> Result<Vec<UnansweredGroup>> {
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
            .query_map([limit_param(limit)], |row| {
                Ok(UnansweredGroup {
                    question: row.get(0)?,
                    count: row.get::<_, i64>(1)?.unsigned_abs(),
                    last_asked: row.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(groups)
    }

    /// Forgets the answers (and their feedback) given more than `age` ago;
    /// returns how many answers were removed. The public's questions are
    /// personal data: they are kept only as long as staff need them.
    pub fn purge_older_than(&self, age: Duration) -> Result<usize> {
        let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        let removed = self.connection().execute(
            "DELETE FROM answers WHERE created_at < ?1",
            [now().saturating_sub(age)],
        )?;
        Ok(removed)
    }

    /// Writes every kept answer as one JSON object a line, oldest first:
    /// the question, the reply (text, kind, sources) and its feedback.
    /// Returns the number of lines written.
    pub fn export_jsonl(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT a.session_id, a.question, a.reply_json, a.created_at, f.helpful
               FROM answers a LEFT JOIN feedback f USING (answer_id)
              ORDER BY a.created_at, a.rowid",
        )?;
        let mut rows = statement.query([])?;
        let mut lines = 0;
        while let Some(row) = rows.next()? {
            let reply: Reply = serde_json::from_str(&row.get::<_, String>(2)?)?;
            let helpful: Option<bool> = row.get(4)?;
            let line = ExportedAnswer {
                session_id: row.get(0)?,
                answer_id: &reply.answer_id,
                question: row.get(1)?,
                answer: &reply.answer,
                kind: reply.kind,
                sources: reply
                    .sources
                    .iter()
                    .map(|s| ExportedSource {
                        document: &s.document,
                        title: &s.title,
                        section: &s.section,
                        quote: &s.quote,
                    })
                    .collect(),
                created_at: row.get(3)?,
                helpful,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
            lines += 1;
        }
        Ok(lines)
    }

    /// The share token of an answer, if it is known.
    pub fn share_token(&self, answer_id: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .query_row(
                "SELECT share_token FROM answers WHERE answer_id = ?1",
                [answer_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The answer behind a share link, unless unknown or expired.
    pub fn answer_by_share_token(&self, token: &str) -> Result<Option<SharedAnswer>> {
        self.answer_by_share_token_at(token, now())
    }

    fn answer_by_share_token_at(&self, token: &str, now: i64) -> Result<Option<SharedAnswer>> {
        let row: Option<(String, String, i64)> = self
            .connection()
            .query_row(
                "SELECT question, reply_json, created_at FROM answers WHERE share_token = ?1",
                [token],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((question, json, created_at)) = row else {
            return Ok(None);
        };
        let ttl = i64::try_from(self.share_ttl.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(created_at) > ttl {
            return Ok(None);
        }
        Ok(Some(SharedAnswer {
            question,
            reply: serde_json::from_str(&json)?,
            created_at,
        }))
    }
}

/// One line of [`Store::export_jsonl`].
#[derive(Serialize)]
struct ExportedAnswer<'a> {
    session_id: String,
    answer_id: &'a str,
    question: String,
    answer: &'a str,
    kind: AnswerKind,
    sources: Vec<ExportedSource<'a>>,
    created_at: i64,
    /// `null` when the visitor gave no feedback.
    helpful: Option<bool>,
}

#[derive(Serialize)]
struct ExportedSource<'a> {
    document: &'a str,
    title: &'a str,
    section: &'a str,
    quote: &'a str,
}

fn kind_name(kind: AnswerKind) -> &'static str {
    match kind {
        AnswerKind::Grounded => "grounded",
        AnswerKind::Extractive => "extractive",
        AnswerKind::NoAnswer => "no_answer",
        AnswerKind::Smalltalk => "smalltalk",
    }
}

/// The grouping key of a question: folded (case, accents), punctuation
/// dropped, white space collapsed.
fn question_key(question: &str) -> String {
    crate::answer::text::fold(question)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An unguessable link token (122 random bits, no dashes).
fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{Source, Timings};

    fn reply(id: &str, kind: AnswerKind, answer: &str) -> Reply {
        Reply {
            session_id: "s1".into(),
            answer_id: id.into(),
            answer: answer.into(),
            kind,
            sources: vec![Source {
                title: "Lettre".into(),
                section: "Datathon".into(),
                date: Some("2025-12-31".into()),
                page: None,
                url: None,
                document: "lettre.md".into(),
                text: "Le passage <img src=x>.".into(),
                quote: "Le passage.".into(),
                highlight: None,
                score: 1.5,
            }],
            suggestions: vec![],
            timings_ms: Timings::default(),
        }
    }

    #[test]
    fn feedback_needs_a_known_answer_and_the_last_vote_counts() {
        let store = Store::in_memory().unwrap();
        assert!(matches!(
            store.record_feedback("nope", true),
            Err(Error::UnknownAnswer(id)) if id == "nope"
        ));
        store
            .record_answer(&reply("a1", AnswerKind::Extractive, "Oui."), "Q1 ?")
            .unwrap();
        store
            .record_answer(&reply("a2", AnswerKind::Extractive, "Non."), "Q2 ?")
            .unwrap();
        store.record_feedback("a1", true).unwrap();
        store.record_feedback("a2", true).unwrap();
        store.record_feedback("a2", false).unwrap();
        let summary = store.feedback_summary(10).unwrap();
        assert_eq!((summary.helpful, summary.unhelpful), (1, 1));
        assert_eq!(summary.unhelpful_answers.len(), 1);
        assert_eq!(summary.unhelpful_answers[0].answer_id, "a2");
        assert_eq!(summary.unhelpful_answers[0].question, "Q2 ?");
        assert_eq!(summary.unhelpful_answers[0].answer, "Non.");
    }

    #[test]
    fn unanswered_questions_group_variants_and_count_them() {
        let store = Store::in_memory().unwrap();
        let asked = [
            ("n1", "Où se garer ?"),
            ("n2", "ou se garer"),
            ("n3", "OÙ SE GARER ?!"),
            ("n4", "Quel temps fait-il ?"),
        ];
        for (id, question) in asked {
            store
                .record_answer(
                    &reply(id, AnswerKind::NoAnswer, "Je ne sais pas."),
                    question,
                )
                .unwrap();
        }
        store
            .record_answer(&reply("x", AnswerKind::Extractive, "Oui."), "Où se garer ?")
            .unwrap();
        let groups = store.unanswered_questions_grouped(10).unwrap();
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].count, 3);
        assert_eq!(question_key(&groups[0].question), "ou se garer");
        assert_eq!(groups[1].count, 1);
        assert_eq!(store.unanswered_questions_grouped(1).unwrap().len(), 1);
    }

    #[test]
    fn share_links_return_the_reply_until_they_expire() {
        let store = Store::in_memory()
            .unwrap()
            .with_share_ttl(Duration::from_secs(60));
        let given = reply("a1", AnswerKind::Extractive, "« Le passage. »");
        let token = store.record_answer(&given, "Quoi ?").unwrap();
        assert_eq!(store.share_token("a1").unwrap().as_deref(), Some(&*token));
        assert_eq!(store.share_token("a9").unwrap(), None);
        let shared = store.answer_by_share_token(&token).unwrap().unwrap();
        assert_eq!(shared.reply, given);
        assert_eq!(shared.question, "Quoi ?");
        let later = shared.created_at + 61;
        assert_eq!(store.answer_by_share_token_at(&token, later).unwrap(), None);
        assert_eq!(store.answer_by_share_token("unknown").unwrap(), None);
        assert_ne!(
            token,
            store
                .record_answer(&reply("a2", AnswerKind::Extractive, "x"), "y")
                .unwrap()
        );
    }

    #[test]
    fn a_file_store_survives_reopening_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/eulcat.sqlite3");
        {
            let store = Store::open(&path).unwrap();
            store
                .record_answer(&reply("a1", AnswerKind::NoAnswer, "?"), "Q ?")
                .unwrap();
            let mode: String = store
                .connection()
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.unanswered_questions_grouped(5).unwrap()[0].question,
            "Q ?"
        );
    }

    #[test]
    fn the_purge_forgets_old_answers_and_their_feedback_only() {
        let store = Store::in_memory().unwrap();
        let day = 24 * 60 * 60;
        let old = reply("old", AnswerKind::Extractive, "Ancien.");
        store
            .record_answer_at(&old, "Vieille question ?", now() - 40 * day)
            .unwrap();
        store.record_feedback("old", false).unwrap();
        store
            .record_answer(&reply("new", AnswerKind::Extractive, "Récent."), "Q ?")
            .unwrap();
        let removed = store
            .purge_older_than(Duration::from_secs(30 * day as u64))
            .unwrap();
        assert_eq!(removed, 1);
        let summary = store.feedback_summary(10).unwrap();
        assert_eq!(
            (summary.helpful, summary.unhelpful),
            (0, 0),
            "feedback went too"
        );
        assert!(store.share_token("old").unwrap().is_none());
        assert!(store.share_token("new").unwrap().is_some());
    }

    #[test]
    fn the_export_is_one_json_object_a_line_with_feedback() {
        let store = Store::in_memory().unwrap();
        store
            .record_answer(&reply("a1", AnswerKind::Extractive, "Oui."), "Q1 ?")
            .unwrap();
        store
            .record_answer(&reply("a2", AnswerKind::NoAnswer, "?"), "Q2 ?")
            .unwrap();
        store.record_feedback("a1", true).unwrap();
        let mut out = Vec::new();
        assert_eq!(store.export_jsonl(&mut out).unwrap(), 2);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["question"], "Q1 ?");
        assert_eq!(lines[0]["kind"], "extractive");
        assert_eq!(lines[0]["helpful"], true);
        assert_eq!(lines[0]["sources"][0]["document"], "lettre.md");
        assert_eq!(lines[1]["helpful"], serde_json::Value::Null);
        assert_eq!(lines[1]["session_id"], "s1");
    }
}
