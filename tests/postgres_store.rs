//! The store on a real PostgreSQL server (`EULCAT_TEST_POSTGRES_URL`): the
//! same behaviour as on SQLite, and what replicas need of it: two stores
//! on one database see each other's answers, feedback and conversations.

use std::sync::Arc;
use std::time::Duration;

use eulcat::answer::session::{Sessions, Turn};
use eulcat::answer::{AnswerKind, Reply, Settings, Source, Timings};
use eulcat::store::{Error, Store};

use crate::util::{pipeline_with, test_postgres, FakeBackend, TestDatabase};

fn reply(session: &str, id: &str, kind: AnswerKind, answer: &str) -> Reply {
    Reply {
        session_id: session.into(),
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
            text: "Le passage.".into(),
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

fn turn(query: &str) -> Turn {
    Turn {
        query: query.into(),
        answered: true,
        quote: Some(format!("{query}, quoted")),
    }
}

#[test]
fn answers_feedback_share_links_export_and_purge_work_on_postgres() {
    let Some(server) = test_postgres("the PostgreSQL store") else {
        return;
    };
    let database = TestDatabase::create(&server);
    let store = Store::connect(&database.url).expect("the store connects");

    assert!(matches!(
        store.record_feedback("nope", true),
        Err(Error::UnknownAnswer(id)) if id == "nope"
    ));
    let given = reply("s1", "a1", AnswerKind::Extractive, "« Le passage. »");
    let token = store.record_answer(&given, "Quoi ?").unwrap();
    store
        .record_answer(&reply("s1", "a2", AnswerKind::Extractive, "Non."), "Q2 ?")
        .unwrap();
    store.record_feedback("a1", true).unwrap();
    store.record_feedback("a2", true).unwrap();
    store.record_feedback("a2", false).unwrap();
    let summary = store.feedback_summary(10).unwrap();
    assert_eq!(
        (summary.helpful, summary.unhelpful),
        (1, 1),
        "last vote counts"
    );
    assert_eq!(summary.unhelpful_answers[0].answer_id, "a2");
    assert_eq!(summary.unhelpful_answers[0].question, "Q2 ?");

    for (id, question) in [
        ("n1", "Où se garer ?"),
        ("n2", "ou se garer"),
        ("n3", "Météo ?"),
    ] {
        store
            .record_answer(&reply("s2", id, AnswerKind::NoAnswer, "?"), question)
            .unwrap();
    }
    let groups = store.unanswered_questions_grouped(10).unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0].count, 2);
    assert_eq!(groups[0].question, "ou se garer", "the latest wording");

    assert_eq!(store.share_token("a1").unwrap().as_deref(), Some(&*token));
    let shared = store.answer_by_share_token(&token).unwrap().unwrap();
    assert_eq!(shared.reply, given);
    assert_eq!(shared.question, "Quoi ?");
    assert!(store.answer_by_share_token("unknown").unwrap().is_none());

    let mut out = Vec::new();
    assert_eq!(store.export_jsonl(&mut out).unwrap(), 5);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["question"], "Quoi ?");
    assert_eq!(first["helpful"], true);
    assert_eq!(first["sources"][0]["document"], "lettre.md");

    // Times are whole seconds: after a second, every answer is older than
    // an age of zero.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(store.purge_older_than(Duration::ZERO).unwrap(), 5);
    let summary = store.feedback_summary(10).unwrap();
    assert_eq!(
        (summary.helpful, summary.unhelpful),
        (0, 0),
        "feedback went too"
    );
}

#[test]
fn two_stores_on_one_database_share_conversations() {
    let Some(server) = test_postgres("conversations shared through PostgreSQL") else {
        return;
    };
    let database = TestDatabase::create(&server);
    // Replicas start together: both create the tables at once.
    let connecting: Vec<_> = (0..2)
        .map(|_| {
            let url = database.url.clone();
            std::thread::spawn(move || Store::connect(&url))
        })
        .collect();
    let mut stores: Vec<Store> = connecting
        .into_iter()
        .map(|t| t.join().unwrap().expect("both replicas connect"))
        .collect();
    let second = stores.pop().unwrap();
    let first = stores.pop().unwrap();

    assert_eq!(first.last_turn("s").unwrap(), None);
    first.record("s", turn("Parle-moi du Datathon")).unwrap();
    assert_eq!(
        second.last_turn("s").unwrap(),
        Some(turn("Parle-moi du Datathon"))
    );
    for i in 0..20 {
        second.record("s", turn(&format!("q{i}"))).unwrap();
    }
    assert_eq!(first.last_turn("s").unwrap(), Some(turn("q19")));

    second.fork("s", "t").unwrap();
    assert_eq!(first.last_turn("t").unwrap(), Some(turn("q19")));
    first.fork("unknown", "t").unwrap();
    assert_eq!(second.last_turn("t").unwrap(), None);

    let idle = Store::connect(&database.url)
        .unwrap()
        .with_session_idle(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(idle.last_turn("s").unwrap(), None, "idle sessions expire");
    idle.purge_older_than(Duration::from_secs(3600)).unwrap();
    assert_eq!(first.last_turn("s").unwrap(), None, "and are purged");

    first
        .record_answer(&reply("s", "a1", AnswerKind::Extractive, "Oui."), "Q ?")
        .unwrap();
    second.record_feedback("a1", true).unwrap();
    assert_eq!(first.feedback_summary(5).unwrap().helpful, 1);
}

#[tokio::test]
async fn a_follow_up_reaching_another_pipeline_keeps_its_topic() {
    let Some(server) = test_postgres("a follow-up across two pipelines") else {
        return;
    };
    let database = TestDatabase::create(&server);
    let connect = |url: String| async move {
        let store = tokio::task::spawn_blocking(move || Store::connect(&url))
            .await
            .unwrap()
            .expect("the store connects");
        Arc::new(store) as Arc<dyn Sessions>
    };
    let replica = |sessions: Arc<dyn Sessions>| {
        pipeline_with(Arc::new(FakeBackend::new("")), Settings::default()).with_sessions(sessions)
    };
    let a = replica(connect(database.url.clone()).await);
    let b = replica(connect(database.url.clone()).await);

    let first = a
        .answer("Parle-moi du Datathon Normandie.", None)
        .await
        .unwrap();
    assert_eq!(first.kind, AnswerKind::Extractive, "{}", first.answer);
    let follow_up = b
        .answer("Et qui l'a gagné ?", Some(&first.session_id))
        .await
        .unwrap();
    assert_eq!(
        follow_up.kind,
        AnswerKind::Extractive,
        "{}",
        follow_up.answer
    );
    assert!(
        follow_up.answer.contains("Compétences à la carte"),
        "{}",
        follow_up.answer
    );
    let alone = b.answer("Et qui l'a gagné ?", None).await.unwrap();
    assert_eq!(alone.kind, AnswerKind::NoAnswer, "{}", alone.answer);
}

/// A database whose turns predate their quotes (before 2026-12-06) gains
/// the column when a replica connects, and keeps its turns.
#[test]
fn turns_from_before_quotes_were_kept_gain_them() {
    let Some(server) = test_postgres("the turns table of an earlier version") else {
        return;
    };
    let database = TestDatabase::create(&server);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut client = postgres::Client::connect(&database.url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "CREATE TABLE turns (
                 turn_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 session_id TEXT NOT NULL,
                 query      TEXT NOT NULL,
                 answered   BOOLEAN NOT NULL,
                 created_at BIGINT NOT NULL
             );",
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO turns (session_id, query, answered, created_at) VALUES ('s', 'Q ?', true, $1)",
            &[&now],
        )
        .unwrap();
    let store = Store::connect(&database.url).expect("the table is brought up to date");
    let earlier = Turn {
        query: "Q ?".into(),
        answered: true,
        quote: None,
    };
    assert_eq!(store.last_turn("s").unwrap(), Some(earlier));
    store.record("s", turn("Q2 ?")).unwrap();
    assert_eq!(store.last_turn("s").unwrap(), Some(turn("Q2 ?")));
}
