//! Conversations: what each session asked before, so a follow-up such as
//! « Et qui l'a gagné ? » can be understood.
//!
//! [`Sessions`] is where they are kept. One server keeps them in memory
//! ([`SessionStore`]: sessions expire after an idle time and the store is
//! bounded, so a public kiosk or website cannot grow it without limit);
//! replicas behind a load balancer keep them in their shared database (see
//! `store`), so a conversation continues on whichever replica answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One earlier exchange, as far as follow-ups need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// What a follow-up to this turn is searched with, besides its own
    /// words: the title and heading of the passage that answered it, or
    /// the question as it was searched when nothing did.
    pub query: String,
    /// Whether the documents answered it: a follow-up to an unanswered
    /// question does not inherit its topic.
    pub answered: bool,
    /// The sentences quoted when they did: « t'es nul » right after an
    /// answer does not offer again the question that answer answers.
    pub quote: Option<String>,
}

#[derive(Debug)]
struct Session {
    turns: Vec<Turn>,
    last_seen: Instant,
}

/// A failure of the place sessions are kept (a database that went away).
pub type SessionsError = Box<dyn std::error::Error + Send + Sync>;

/// Where conversations are kept. Calls may block on a database round trip:
/// the pipeline makes them on a blocking thread.
pub trait Sessions: Send + Sync {
    /// The last turn of session `id`, if it is known and still alive.
    fn last_turn(&self, id: &str) -> Result<Option<Turn>, SessionsError>;
    /// Records a turn in session `id`, creating the session if needed.
    fn record(&self, id: &str, turn: Turn) -> Result<(), SessionsError>;
    /// Replaces session `to` with a copy of session `from`'s turns, or
    /// removes it when `from` is unknown or expired.
    fn fork(&self, from: &str, to: &str) -> Result<(), SessionsError>;
}

/// Turns kept per session; older ones no longer matter to a follow-up.
pub const TURNS_KEPT: usize = 8;

/// Whether `id` is a well-formed session id: 1 to 64 letters, digits, `-`
/// or `_`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The sessions of every visitor, in this process's memory.
#[derive(Debug)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
    idle_timeout: Duration,
    capacity: usize,
}

impl SessionStore {
    /// An empty store whose sessions expire after `idle_timeout`, holding
    /// `capacity` sessions at most (the least recently seen go first).
    pub fn new(idle_timeout: Duration, capacity: usize) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            idle_timeout,
            capacity: capacity.max(1),
        }
    }

    fn last_turn_now(&self, id: &str) -> Option<Turn> {
        let sessions = self.lock();
        let session = sessions.get(id)?;
        if session.last_seen.elapsed() > self.idle_timeout {
            return None;
        }
        session.turns.last().cloned()
    }

    fn record_now(&self, id: &str, turn: Turn) {
        let mut sessions = self.lock();
        let now = Instant::now();
        self.make_room(&mut sessions, id, now);
        let session = sessions.entry(id.to_string()).or_insert_with(|| Session {
            turns: Vec::new(),
            last_seen: now,
        });
        session.last_seen = now;
        session.turns.push(turn);
        if session.turns.len() > TURNS_KEPT {
            session.turns.remove(0);
        }
    }

    fn fork_now(&self, from: &str, to: &str) {
        let mut sessions = self.lock();
        let turns = sessions
            .get(from)
            .filter(|s| s.last_seen.elapsed() <= self.idle_timeout)
            .map(|s| s.turns.clone());
        match turns {
            Some(turns) => {
                self.make_room(&mut sessions, to, Instant::now());
                sessions.insert(
                    to.to_string(),
                    Session {
                        turns,
                        last_seen: Instant::now(),
                    },
                );
            }
            None => {
                sessions.remove(to);
            }
        }
    }

    /// Forgets idle sessions, and the least recently seen one when the
    /// store is full and `id` would be new.
    fn make_room(&self, sessions: &mut HashMap<String, Session>, id: &str, now: Instant) {
        let timeout = self.idle_timeout;
        sessions.retain(|_, s| now.duration_since(s.last_seen) <= timeout);
        if sessions.len() >= self.capacity && !sessions.contains_key(id) {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves plain data behind, still
        // consistent enough to serve: recover it rather than fail forever.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Sessions for SessionStore {
    fn last_turn(&self, id: &str) -> Result<Option<Turn>, SessionsError> {
        Ok(self.last_turn_now(id))
    }

    fn record(&self, id: &str, turn: Turn) -> Result<(), SessionsError> {
        self.record_now(id, turn);
        Ok(())
    }

    fn fork(&self, from: &str, to: &str) -> Result<(), SessionsError> {
        self.fork_now(from, to);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(q: &str) -> Turn {
        Turn {
            query: q.into(),
            answered: true,
            quote: None,
        }
    }

    #[test]
    fn remembers_the_last_turn() {
        let store = SessionStore::new(Duration::from_secs(60), 10);
        assert_eq!(store.last_turn_now("a"), None);
        store.record_now("a", turn("one"));
        store.record_now("a", turn("two"));
        assert_eq!(store.last_turn_now("a"), Some(turn("two")));
    }

    #[test]
    fn evicts_the_oldest_when_full_and_expires_idle_ones() {
        let store = SessionStore::new(Duration::from_secs(60), 2);
        store.record_now("a", turn("1"));
        store.record_now("b", turn("2"));
        store.record_now("c", turn("3"));
        assert_eq!(store.last_turn_now("a"), None);
        assert!(store.last_turn_now("c").is_some());
        let expired = SessionStore::new(Duration::ZERO, 2);
        expired.record_now("a", turn("1"));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(expired.last_turn_now("a"), None);
    }

    #[test]
    fn a_fork_copies_the_turns_and_replaces_the_target() {
        let store = SessionStore::new(Duration::from_secs(60), 10);
        store.record_now("a", turn("one"));
        store.record_now("b", turn("stale"));
        store.fork_now("a", "b");
        assert_eq!(store.last_turn_now("b"), Some(turn("one")));
        store.record_now("b", turn("two"));
        assert_eq!(
            store.last_turn_now("a"),
            Some(turn("one")),
            "the source is untouched"
        );
        store.fork_now("unknown", "b");
        assert_eq!(store.last_turn_now("b"), None);
    }

    #[test]
    fn session_ids_are_checked() {
        assert!(is_valid_id("3f2a-Bc_9"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(&"x".repeat(65)));
    }
}
