//! What the front ends remember: the answers given (so a visitor can take
//! one home through a short-lived link), the feedback on them, and the
//! questions the documents could not answer, for the staff console.
//!
//! Replicas behind a load balancer also keep their conversations here, so
//! a follow-up can reach any of them.
//!
//! Two databases: one SQLite file in WAL mode by default (the console reads
//! while the kiosk writes), or a PostgreSQL server shared by several
//! replicas. Each is a [`Database`]: the rows, in its own SQL dialect; what
//! a row means (tokens, expiry, JSON) is decided here, once. The API is
//! synchronous and narrow; callers on an async runtime run it on a blocking
//! thread. Nothing here knows of HTTP.

mod postgres;
mod sqlite;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::answer::session::{Sessions, SessionsError, Turn, TURNS_KEPT};
use crate::answer::{AnswerKind, Reply};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQLite database failed.
    #[error("store database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL server failed or could not be reached.
    #[error("store database (PostgreSQL): {0}")]
    Postgres(#[from] ::postgres::Error),
    /// No PostgreSQL connection could be had from the pool in time.
    #[error("store database (PostgreSQL): {0}")]
    Pool(#[from] r2d2::Error),
    /// A stored reply could not be encoded or decoded.
    #[error("stored reply: {0}")]
    Json(#[from] serde_json::Error),
    /// The folder of the database file could not be created.
    #[error("store folder: {0}")]
    Io(#[from] std::io::Error),
    /// Feedback names an answer that was never given (or was forgotten).
    #[error("unknown answer id {0}")]
    UnknownAnswer(String),
    /// A URL of another kind than PostgreSQL's. Taken as a file path, a
    /// `sqlite:///data/x.db` would silently create a folder named
    /// `sqlite:` beside the service.
    #[error(
        "store {0:?}: give a SQLite file path (data/eulcat.sqlite3) or a postgres:// URL; \
         other URLs, sqlite:// included, are not understood"
    )]
    UnsupportedUrl(String),
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

/// The rows of the store, in one database's dialect. Times are seconds
/// since the Unix epoch.
trait Database: Send + Sync {
    fn insert_answer(&self, answer: &NewAnswer<'_>) -> Result<()>;
    /// Records or replaces the vote on an answer; `false` when the answer
    /// is unknown.
    fn upsert_feedback(&self, answer_id: &str, helpful: bool, at: i64) -> Result<bool>;
    /// (helpful, unhelpful) vote counts.
    fn feedback_counts(&self) -> Result<(u64, u64)>;
    /// The `limit` latest answers voted unhelpful.
    fn unhelpful_answers(&self, limit: i64) -> Result<Vec<RatedAnswer>>;
    /// `no_answer` questions grouped by `question_key`, each with its
    /// latest wording; most asked first.
    fn unanswered_groups(&self, limit: i64) -> Result<Vec<UnansweredGroup>>;
    /// Deletes the answers (with their feedback) given before `answers`
    /// and the conversation turns taken before `turns`; returns the
    /// number of answers deleted.
    fn delete_before(&self, answers: i64, turns: i64) -> Result<usize>;
    /// Every answer, oldest first.
    fn each_answer(&self, visit: &mut dyn FnMut(StoredAnswer) -> Result<()>) -> Result<()>;
    fn share_token(&self, answer_id: &str) -> Result<Option<String>>;
    fn answer_by_share_token(&self, token: &str) -> Result<Option<StoredAnswer>>;
    /// The last turn of a session and when it was taken.
    fn last_turn(&self, session_id: &str) -> Result<Option<(Turn, i64)>>;
    /// Appends a turn, keeping the session's last `keep` turns only.
    fn append_turn(&self, session_id: &str, turn: &Turn, at: i64, keep: usize) -> Result<()>;
    /// Replaces session `to`'s turns with copies of `from`'s taken at `at`
    /// when `from`'s last turn is not older than `alive_since`; otherwise
    /// removes `to`'s turns.
    fn copy_turns(&self, from: &str, to: &str, alive_since: i64, at: i64) -> Result<()>;
}

/// An answer as it is written.
struct NewAnswer<'a> {
    answer_id: &'a str,
    session_id: &'a str,
    question: &'a str,
    question_key: String,
    answer: &'a str,
    kind: &'static str,
    reply_json: String,
    share_token: &'a str,
    created_at: i64,
}

/// An answer as it is read back.
struct StoredAnswer {
    session_id: String,
    question: String,
    reply_json: String,
    created_at: i64,
    /// `None` when nobody voted.
    helpful: Option<bool>,
}

/// The store; share it behind an `Arc`.
pub struct Store {
    database: Box<dyn Database>,
    share_ttl: Duration,
    session_idle: Duration,
}

/// How long a conversation is remembered by default without a new turn,
/// the same as in memory.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

impl Store {
    /// Opens (or creates) the SQLite database file, creating its folder.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::over(sqlite::SqliteDatabase::open(path)?))
    }

    /// A store that lives in memory only (tests, or a kiosk that must not
    /// keep anything).
    pub fn in_memory() -> Result<Self> {
        Ok(Self::over(sqlite::SqliteDatabase::in_memory()?))
    }

    /// Connects to a PostgreSQL server shared by several replicas, from a
    /// `postgres://user:password@host:port/database` URL, and creates the
    /// tables when they do not exist.
    pub fn connect(url: &str) -> Result<Self> {
        Ok(Self::over(postgres::PostgresDatabase::connect(url)?))
    }

    /// Opens the store `location` names: a PostgreSQL URL
    /// (`postgres://…` or `postgresql://…`) or a SQLite file path.
    pub fn open_location(location: &str) -> Result<Self> {
        if is_postgres_url(location) {
            Self::connect(location)
        } else if location.contains("://") {
            Err(Error::UnsupportedUrl(redacted(location)))
        } else {
            Self::open(Path::new(location))
        }
    }

    fn over(database: impl Database + 'static) -> Self {
        Self {
            database: Box::new(database),
            share_ttl: DEFAULT_SHARE_TTL,
            session_idle: DEFAULT_SESSION_IDLE,
        }
    }

    /// Sets how long share links work.
    pub fn with_share_ttl(mut self, ttl: Duration) -> Self {
        self.share_ttl = ttl;
        self
    }

    /// Sets how long a conversation kept here is remembered without a new
    /// turn.
    pub fn with_session_idle(mut self, idle: Duration) -> Self {
        self.session_idle = idle;
        self
    }

    /// Remembers a reply and the question it answers; returns the token of
    /// its share link.
    pub fn record_answer(&self, reply: &Reply, question: &str) -> Result<String> {
        self.record_answer_at(reply, question, now())
    }

    fn record_answer_at(&self, reply: &Reply, question: &str, at: i64) -> Result<String> {
        let token = new_token();
        self.database.insert_answer(&NewAnswer {
            answer_id: &reply.answer_id,
            session_id: &reply.session_id,
            question,
            question_key: question_key(question),
            answer: &reply.answer,
            kind: kind_name(reply.kind),
            reply_json: serde_json::to_string(reply)?,
            share_token: &token,
            created_at: at,
        })?;
        Ok(token)
    }

    /// Records whether an answer helped; a second vote on the same answer
    /// replaces the first.
    pub fn record_feedback(&self, answer_id: &str, helpful: bool) -> Result<()> {
        if self.database.upsert_feedback(answer_id, helpful, now())? {
            Ok(())
        } else {
            Err(Error::UnknownAnswer(answer_id.to_string()))
        }
    }

    /// Feedback counts, and the `limit` latest answers marked unhelpful.
    pub fn feedback_summary(&self, limit: usize) -> Result<FeedbackSummary> {
        let (helpful, unhelpful) = self.database.feedback_counts()?;
        Ok(FeedbackSummary {
            helpful,
            unhelpful,
            unhelpful_answers: self.database.unhelpful_answers(limit_param(limit))?,
        })
    }

    /// The questions answered `no_answer`, grouped by wording (case, accents
    /// and punctuation aside), most asked first; at most `limit` groups.
    pub fn unanswered_questions_grouped(&self, limit: usize) -> Result<Vec<UnansweredGroup>> {
        self.database.unanswered_groups(limit_param(limit))
    }

    /// Forgets the answers (and their feedback) given more than `age` ago,
    /// and conversations idle past their time; returns how many answers
    /// were removed. The public's questions are personal data: they are
    /// kept only as long as staff need them.
    pub fn purge_older_than(&self, age: Duration) -> Result<usize> {
        let now = now();
        self.database.delete_before(
            now.saturating_sub(seconds(age)),
            now.saturating_sub(seconds(self.session_idle)),
        )
    }

    /// Writes every kept answer as one JSON object a line, oldest first:
    /// the question, the reply (text, kind, sources) and its feedback.
    /// Returns the number of lines written.
    pub fn export_jsonl(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        let mut lines = 0;
        self.database.each_answer(&mut |stored| {
            let reply: Reply = serde_json::from_str(&stored.reply_json)?;
            let line = ExportedAnswer {
                session_id: stored.session_id,
                answer_id: &reply.answer_id,
                question: stored.question,
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
                created_at: stored.created_at,
                helpful: stored.helpful,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
            lines += 1;
            Ok(())
        })?;
        Ok(lines)
    }

    /// The share token of an answer, if it is known.
    pub fn share_token(&self, answer_id: &str) -> Result<Option<String>> {
        self.database.share_token(answer_id)
    }

    /// The answer behind a share link, unless unknown or expired.
    pub fn answer_by_share_token(&self, token: &str) -> Result<Option<SharedAnswer>> {
        self.answer_by_share_token_at(token, now())
    }

    fn answer_by_share_token_at(&self, token: &str, now: i64) -> Result<Option<SharedAnswer>> {
        let Some(stored) = self.database.answer_by_share_token(token)? else {
            return Ok(None);
        };
        if now.saturating_sub(stored.created_at) > seconds(self.share_ttl) {
            return Ok(None);
        }
        Ok(Some(SharedAnswer {
            question: stored.question,
            reply: serde_json::from_str(&stored.reply_json)?,
            created_at: stored.created_at,
        }))
    }
}

/// Conversations kept in the database, for replicas behind a load
/// balancer: whichever replica takes the next question sees the turns.
impl Sessions for Store {
    fn last_turn(&self, id: &str) -> Result<Option<Turn>, SessionsError> {
        let alive_since = now().saturating_sub(seconds(self.session_idle));
        Ok(self
            .database
            .last_turn(id)?
            .filter(|(_, at)| *at >= alive_since)
            .map(|(turn, _)| turn))
    }

    fn record(&self, id: &str, turn: Turn) -> Result<(), SessionsError> {
        Ok(self.database.append_turn(id, &turn, now(), TURNS_KEPT)?)
    }

    fn fork(&self, from: &str, to: &str) -> Result<(), SessionsError> {
        let now = now();
        let alive_since = now.saturating_sub(seconds(self.session_idle));
        Ok(self.database.copy_turns(from, to, alive_since, now)?)
    }
}

/// Whether `location` names a PostgreSQL server rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `location` fit for a log or an error message: a PostgreSQL URL's
/// password is masked.
pub fn redacted(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    let Some((user_info, host)) = rest.rsplit_once('@') else {
        return location.to_string();
    };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => location.to_string(),
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

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
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
                deadline: None,
                document: "lettre.md".into(),
                text: "Le passage <img src=x>.".into(),
                quote: "Le passage.".into(),
                highlight: None,
                score: 1.5,
            }],
            suggestions: vec![],
            language: Default::default(),
            timings_ms: Timings::default(),
            considered: Vec::new(),
        }
    }

    #[test]
    fn a_url_that_is_not_postgres_is_refused_not_taken_for_a_path() {
        let folder = tempfile::tempdir().unwrap();
        let location = format!("sqlite://{}/x.db", folder.path().display());
        let error = Store::open_location(&location).err().unwrap();
        assert!(matches!(error, Error::UnsupportedUrl(_)), "{error}");
        assert!(error.to_string().contains("SQLite file path"));
        // Taken as a path, it would have made `sqlite:/<tempdir>/` here.
        let would_be_folder = std::path::Path::new(&location).parent().unwrap();
        assert!(!would_be_folder.exists());
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
    fn passwords_are_masked_in_shown_locations() {
        assert_eq!(
            redacted("postgres://eulcat:s3cr@t@db:5432/eulcat"),
            "postgres://eulcat:***@db:5432/eulcat"
        );
        assert_eq!(redacted("postgres://eulcat@db/x"), "postgres://eulcat@db/x");
        assert_eq!(redacted("data/eulcat.sqlite3"), "data/eulcat.sqlite3");
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
