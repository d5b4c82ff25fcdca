//! `kill -9` during writes (issue #6): the real `eulcat serve`, with the
//! real model and a store in a temporary folder, answers a burst of
//! greetings and questions (JSON and SSE) and is killed with SIGKILL while
//! answers are still being written. Every answer a client received must be
//! in the database afterwards, and the database must open cleanly: an
//! answer is committed before the client hears of it.

#![cfg(unix)]

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use eulcat::store::Store;

use crate::api::sse_events;
use crate::util::root;

/// Greetings are answered without the model, so they keep the store busy
/// while the questions wait for it.
const GREETINGS: &[&str] = &["Bonjour", "Merci !", "Salut", "Bonsoir !", "Qui es-tu ?"];
const QUESTIONS: &[&str] = &[
    "Combien d'équipes ont participé au Datathon Normandie ?",
    "Dans quelle ville aura lieu l'exposition Destination IA ?",
    "Qui a organisé les Assises nationales de l'IA ?",
    "De combien de pays viennent les partenaires de BOOST AI ?",
    "Combien coûte l'entrée de l'exposition Destination IA ?",
];

/// Answers to receive before killing: many greetings (many commits), and a
/// few questions, while other questions still wait for the model.
const GREETINGS_BEFORE_KILL: usize = 40;
const QUESTIONS_BEFORE_KILL: usize = 3;

/// The server process; killed when dropped, so a failing test leaves no
/// process behind.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    // The port is free once this listener is dropped; another process
    // could take it meanwhile, which `start` would report.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, store: &Path) -> Server {
    let port = free_port();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_eulcat"))
        .arg("--corpus-dir")
        .arg(root().join("corpus"))
        .arg("--models-dir")
        .arg(root().join("models"))
        .arg("--index-dir")
        .arg(dir.join("index"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--store")
        .arg(store)
        .args([
            "--offline",
            "--no-watch",
            "--rate-limit-per-minute",
            "0",
            "--queue-capacity",
            "64",
        ])
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("eulcat serve starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Waits for `/health` to say the model is loaded; the deadline only
/// turns a hang into a failure.
async fn wait_ready(server: &mut Server, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(600);
    let client = reqwest::Client::new();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
            panic!("eulcat serve exited with {status}:\n{log}");
        }
        let health = client.get(format!("{}/health", server.base)).send().await;
        if health.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "the server never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One request; the answer id when a complete answer came back.
async fn ask(client: &reqwest::Client, base: &str, message: &str, stream: bool) -> Option<String> {
    let response = client
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": message, "stream": stream }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = response.text().await.ok()?;
    let reply: Value = if stream {
        // Only `done` carries a complete reply; a stream cut by the kill
        // has none.
        let (_, data) = sse_events(&body)
            .into_iter()
            .find(|(name, _)| name == "done")?;
        serde_json::from_str(&data).ok()?
    } else {
        serde_json::from_str(&body).ok()?
    };
    reply["answer_id"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_6_kill_9_during_writes_loses_no_answer_a_client_received() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("eulcat.sqlite3");
    let mut server = start(dir.path(), &store_path);
    wait_ready(&mut server, dir.path()).await;

    // (answer id, whether it answered a question rather than a greeting)
    let received = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let mut clients = Vec::new();
    // Four visitors loop over greetings, six over questions; half of them
    // read SSE. Each records the answers it received until the kill.
    for visitor in 0..10 {
        let (received, killed, client) = (received.clone(), killed.clone(), client.clone());
        let base = server.base.clone();
        clients.push(tokio::spawn(async move {
            let question = visitor >= 4;
            let messages = if question { QUESTIONS } else { GREETINGS };
            let stream = visitor % 2 == 1;
            for turn in 0.. {
                if killed.load(Ordering::SeqCst) {
                    break;
                }
                let message = messages[(visitor + turn) % messages.len()];
                // A complete answer received, even after the kill, was
                // sent before it.
                if let Some(id) = ask(&client, &base, message, stream).await {
                    received.lock().unwrap().push((id, question));
                }
                if !question {
                    // Leaves the model's thread some of the two cores.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (questions, greetings) = {
            let received = received.lock().unwrap();
            let questions = received.iter().filter(|(_, question)| *question).count();
            (questions, received.len() - questions)
        };
        if questions >= QUESTIONS_BEFORE_KILL && greetings >= GREETINGS_BEFORE_KILL {
            break;
        }
        assert!(Instant::now() < deadline, "the burst was never answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL: no shutdown, no flush, writes in flight.
    server.child.kill().unwrap();
    let status = server.child.wait().unwrap();
    killed.store(true, Ordering::SeqCst);
    assert!(!status.success(), "killed, not exited: {status}");
    for client in clients {
        client.await.unwrap();
    }
    let received: HashSet<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(id, _)| id.clone())
        .collect();

    // The database opens cleanly, without the dead process's help.
    let connection = rusqlite::Connection::open(&store_path).unwrap();
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(connection);
    let store = Store::open(&store_path).expect("the store reopens");
    let missing: Vec<&String> = received
        .iter()
        .filter(|id| store.share_token(id).unwrap().is_none())
        .collect();
    assert_eq!(missing, Vec::<&String>::new(), "answers lost by the kill");

    // `eulcat export`, the operator's way in, sees them too.
    let export = Command::new(env!("CARGO_BIN_EXE_eulcat"))
        .arg("export")
        .arg("--store")
        .arg(&store_path)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(export.status.success());
    let exported: HashSet<String> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["answer_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(received.is_subset(&exported));
}

/// The other side of « a 200 means committed »: when the store cannot
/// commit (here another process holds its write lock past the busy
/// timeout), the visitor gets an error rather than an answer whose id
/// leads nowhere.
#[tokio::test]
async fn issue_6_an_answer_that_cannot_be_kept_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("eulcat.sqlite3");
    let store = Arc::new(Store::open(&store_path).unwrap());
    let state = eulcat::http::AppState::ready(crate::util::fake_pipeline()).with_store(store);
    let base = crate::util::serve_locally(state, &eulcat::http::Limits::default()).await;
    let locker = rusqlite::Connection::open(&store_path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let client = reqwest::Client::new();
    let json = client
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": "Bonjour" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal", "{body}");
    let stream = client
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": "Bonjour", "stream": true }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse_events(&stream);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["error"], "{stream}");

    // Once the lock is gone, answers are kept and sent again.
    locker.execute_batch("ROLLBACK").unwrap();
    let id = ask(&client, &base, "Bonjour", false)
        .await
        .expect("an answer");
    let store = Store::open(&store_path).unwrap();
    assert!(store.share_token(&id).unwrap().is_some());
}
