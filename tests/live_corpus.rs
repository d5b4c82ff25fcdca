//! The corpus changes while the server runs: edits, additions and
//! deletions reach the answers through the watcher and the admin endpoint,
//! searches keep working during a re-index, and the newer of two documents
//! that disagree is the one quoted.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eulcat::answer::{AnswerPipeline, Settings};
use eulcat::corpus;
use eulcat::engine::Engine;
use eulcat::http::{self, AppState, FrontEnds, Limits};
use eulcat::reindex::Reindexer;
use eulcat::search::SearchIndex;
use serde_json::{json, Value};

use crate::util::FakeBackend;

const SALON: &str = "---\ntitle: Salon de la donnée\ndate: 2026-01-10\n---\n\n## Dates\n\n\
Le Salon de la donnée ouvrira ses portes le 14 mars 2026 au Havre.\n";
const ATELIER: &str = "---\ntitle: Atelier cartographie\ndate: 2026-01-12\n---\n\n## Programme\n\n\
L'atelier de cartographie des données agricoles réunit vingt exploitants à Saint-Lô.\n";

/// A pipeline over an on-disk index of `corpus_dir`, as `serve` builds it.
fn pipeline_over(corpus_dir: &Path, index_dir: &Path) -> AnswerPipeline {
    let (documents, _) = corpus::load_dir(corpus_dir).unwrap();
    let index = SearchIndex::open_or_create(index_dir).unwrap();
    index.sync(&corpus::chunk_documents(&documents)).unwrap();
    let engine = Engine::start(Arc::new(FakeBackend::new("")), 8);
    AnswerPipeline::new(Arc::new(index), engine, Settings::default()).unwrap()
}

struct Server {
    base: String,
    client: reqwest::Client,
    _watcher: Option<eulcat::reindex::CorpusWatcher>,
}

impl Server {
    async fn start(corpus_dir: &Path, index_dir: &Path, watch: bool) -> Self {
        let pipeline = pipeline_over(corpus_dir, index_dir);
        let reindexer = Reindexer::new(corpus_dir, pipeline.clone());
        let front_ends = FrontEnds {
            admin_token: Some("s3cret-admin".into()),
            ..FrontEnds::default()
        };
        let state = AppState::ready(pipeline).with_front_ends(front_ends);
        state.set_reindexer(Arc::clone(&reindexer));
        let watcher = watch.then(|| reindexer.watch(Duration::from_millis(200)).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(http::serve(
            listener,
            http::router(state, &Limits::default()),
        ));
        Self {
            base,
            client: reqwest::Client::new(),
            _watcher: watcher,
        }
    }

    async fn ask(&self, message: &str) -> Value {
        self.client
            .post(format!("{}/api/chat", self.base))
            .json(&json!({ "message": message }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Asks until the answer satisfies `accept`, for at most 15 s (the
    /// watcher re-indexes within about a second; a loaded CI machine may
    /// take longer).
    async fn ask_until(&self, message: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let reply = self.ask(message).await;
            if accept(&reply) || Instant::now() > deadline {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

fn answer(reply: &Value) -> String {
    reply["answer"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_additions_and_deletions_reach_the_answers_while_serving() {
    let corpus_dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fs::write(corpus_dir.path().join("salon.md"), SALON).unwrap();
    fs::write(corpus_dir.path().join("atelier.md"), ATELIER).unwrap();
    let server = Server::start(corpus_dir.path(), index_dir.path(), true).await;

    let question = "Quand ouvrira le Salon de la donnée ?";
    let before = server.ask(question).await;
    assert!(answer(&before).contains("14 mars"), "{before}");

    // An edit: the date moves.
    fs::write(
        corpus_dir.path().join("salon.md"),
        SALON.replace("14 mars", "21 mars"),
    )
    .unwrap();
    let edited = server
        .ask_until(question, |r| answer(r).contains("21 mars"))
        .await;
    assert!(
        answer(&edited).contains("21 mars"),
        "edit not seen: {edited}"
    );

    // An addition, in a sub-folder.
    fs::create_dir(corpus_dir.path().join("programmes")).unwrap();
    fs::write(
        corpus_dir.path().join("programmes").join("bourse.md"),
        "---\ntitle: Bourse numérique\n---\n\n## Montant\n\n\
         La Bourse numérique finance les projets étudiants à hauteur de 3 000 euros.\n",
    )
    .unwrap();
    let added = server
        .ask_until("Quel est le montant de la Bourse numérique ?", |r| {
            answer(r).contains("3 000")
        })
        .await;
    assert!(
        answer(&added).contains("3 000"),
        "addition not seen: {added}"
    );
    assert_eq!(added["sources"][0]["document"], "programmes/bourse.md");

    // A deletion: the documents no longer answer.
    fs::remove_file(corpus_dir.path().join("atelier.md")).unwrap();
    let atelier = "Combien d'exploitants réunit l'atelier de cartographie ?";
    let deleted = server
        .ask_until(atelier, |r| r["kind"] == "no_answer")
        .await;
    assert_eq!(deleted["kind"], "no_answer", "deletion not seen: {deleted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_reindex_needs_its_token_and_reports_what_changed() {
    let corpus_dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fs::write(corpus_dir.path().join("salon.md"), SALON).unwrap();
    let server = Server::start(corpus_dir.path(), index_dir.path(), false).await;
    let url = format!("{}/api/admin/reindex", server.base);

    let anonymous = server.client.post(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = server
        .client
        .post(&url)
        .bearer_auth("s3cret-admiN")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");

    fs::write(corpus_dir.path().join("atelier.md"), ATELIER).unwrap();
    fs::write(corpus_dir.path().join("broken.pdf"), b"%PDF-1.4 not really").unwrap();
    let done = server
        .client
        .post(&url)
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let outcome: Value = done.json().await.unwrap();
    assert_eq!(
        outcome["summary"], "added 1, updated 0, removed 0, unchanged 1",
        "{outcome}"
    );
    assert_eq!(outcome["added"], 1);
    let skipped = outcome["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{outcome}");
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("broken.pdf"));
    // Without the watcher, the new document is answerable at once.
    let reply = server
        .ask("Combien d'exploitants réunit l'atelier de cartographie ?")
        .await;
    assert!(answer(&reply).contains("vingt"), "{reply}");
}

#[tokio::test]
async fn the_admin_reindex_does_not_exist_without_a_token() {
    let corpus_dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fs::write(corpus_dir.path().join("salon.md"), SALON).unwrap();
    let pipeline = pipeline_over(corpus_dir.path(), index_dir.path());
    let state = AppState::ready(pipeline.clone());
    state.set_reindexer(Reindexer::new(corpus_dir.path(), pipeline));
    let app = http::router(state, &Limits::default());
    let response =
        tower::ServiceExt::oneshot(app, axum_request("/api/admin/reindex", Some("anything")))
            .await
            .unwrap();
    assert_eq!(response.status(), 404);
}

fn axum_request(path: &str, bearer: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let mut builder = axum::http::Request::post(path);
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(axum::body::Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_during_reindexes_all_succeed_and_see_a_whole_index() {
    let corpus_dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fs::write(corpus_dir.path().join("salon.md"), SALON).unwrap();
    fs::write(corpus_dir.path().join("atelier.md"), ATELIER).unwrap();
    let pipeline = pipeline_over(corpus_dir.path(), index_dir.path());
    let reindexer = Reindexer::new(corpus_dir.path(), pipeline.clone());
    let index = Arc::clone(pipeline.search_index());

    let searches = tokio::task::spawn_blocking(move || {
        let mut done = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let hits = index.search("Salon de la donnée Havre", 5).unwrap();
            // The salon document is re-written on every round but never
            // missing: an update replaces it in one commit.
            assert!(
                hits.iter().any(|h| h.passage.doc_id == "salon.md"),
                "a search saw the index without the salon"
            );
            done += 1;
        }
        done
    });
    for round in 0..20 {
        fs::write(
            corpus_dir.path().join("salon.md"),
            SALON.replace("14 mars", &format!("{} mars", 1 + round % 28)),
        )
        .unwrap();
        let outcome = reindexer.run().await.unwrap();
        assert_eq!(outcome.changes.updated, 1, "round {round}");
    }
    let done = searches.await.unwrap();
    assert!(done > 0);
}

/// The answer to the ceiling question when one document says 5 000 € and
/// the other 8 000 €, dated as given.
async fn ceiling_quoted(date_of_5000: &str, date_of_8000: &str) -> String {
    let corpus_dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    for (file, date, amount) in [
        ("aide-a.md", date_of_5000, "5 000"),
        ("aide-b.md", date_of_8000, "8 000"),
    ] {
        fs::write(
            corpus_dir.path().join(file),
            format!(
                "---\ntitle: Chèque numérique\ndate: {date}\n---\n\n## Montant\n\n\
                 Le Chèque numérique est plafonné à {amount} euros par entreprise.\n"
            ),
        )
        .unwrap();
    }
    let pipeline = pipeline_over(corpus_dir.path(), index_dir.path());
    let reply = pipeline
        .answer("Quel est le plafond du Chèque numérique ?", None)
        .await
        .unwrap();
    reply.answer
}

#[tokio::test]
async fn when_two_documents_disagree_the_newer_is_quoted() {
    let answer = ceiling_quoted("2024-02-01", "2026-03-01").await;
    assert!(
        answer.contains("8 000") && answer.contains("1er mars 2026"),
        "{answer}"
    );
    // The same texts with the dates swapped: the date decides, not the order.
    let answer = ceiling_quoted("2026-03-01", "2024-02-01").await;
    assert!(
        answer.contains("5 000") && answer.contains("1er mars 2026"),
        "{answer}"
    );
}
