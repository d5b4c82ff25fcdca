//! Two `eulcat serve` replicas (the real binary and model) behind an
//! imaginary load balancer, sharing one real PostgreSQL database and one
//! index built once by `eulcat index`: a conversation started on one
//! continues on the other, and feedback, share links and the export see
//! every replica's answers.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{root, test_postgres, TestDatabase};

/// A running `eulcat serve`, killed when dropped.
struct Replica {
    process: Child,
    base: String,
}

impl Replica {
    async fn start(store: &str, index_dir: &Path, log: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(env!("CARGO_BIN_EXE_eulcat"))
            .current_dir(root())
            .arg("--index-dir")
            .arg(index_dir)
            .args(["serve", "--offline", "--no-watch", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--store", store])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("eulcat serve starts");
        let replica = Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        };
        replica.wait_ready(log).await;
        replica
    }

    /// Waits for `/health` to say the model is loaded (two replicas load
    /// it at once on a loaded CI machine: up to two minutes).
    async fn wait_ready(&self, log: &Path) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let health = client.get(format!("{}/health", self.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "replica {} not ready: {}",
            self.base,
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    async fn ask(&self, message: &str, session_id: Option<&str>) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/api/chat", self.base))
            .json(&json!({ "message": message, "session_id": session_id }))
            .send()
            .await
            .expect("the replica answers");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a JSON reply")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[tokio::test]
async fn one_conversation_continues_across_two_replicas() {
    let Some(server) = test_postgres("two replicas on one PostgreSQL") else {
        return;
    };
    let database = TestDatabase::create(&server);
    let dir = tempfile::tempdir().unwrap();
    let index_dir = dir.path().join("index");
    let indexed = Command::new(env!("CARGO_BIN_EXE_eulcat"))
        .current_dir(root())
        .arg("--index-dir")
        .arg(&index_dir)
        .arg("index")
        .status()
        .expect("eulcat index runs");
    assert!(indexed.success(), "the index is built once");

    let a = Replica::start(&database.url, &index_dir, &dir.path().join("a.log")).await;
    let b = Replica::start(&database.url, &index_dir, &dir.path().join("b.log")).await;

    let first = a.ask("Parle-moi du Datathon Normandie.", None).await;
    assert_eq!(first["kind"], "extractive", "{first}");
    let session = first["session_id"].as_str().expect("a session id");
    let follow_up = b.ask("Et qui l'a gagné ?", Some(session)).await;
    assert_eq!(follow_up["kind"], "extractive", "{follow_up}");
    assert!(
        follow_up["answer"]
            .as_str()
            .is_some_and(|a| a.contains("Compétences à la carte")),
        "the other replica knew the topic: {follow_up}"
    );
    let alone = b.ask("Et qui l'a gagné ?", None).await;
    assert_eq!(
        alone["kind"], "no_answer",
        "without the conversation: {alone}"
    );

    // Feedback and share links reach the answer whichever replica gave it.
    let client = reqwest::Client::new();
    let feedback = client
        .post(format!("{}/api/feedback", b.base))
        .json(&json!({ "answer_id": first["answer_id"], "helpful": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(feedback.status(), 204);
    let answer_id = follow_up["answer_id"].as_str().unwrap();
    let qr = client
        .get(format!("{}/api/answers/{answer_id}/qr.svg", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200, "a share link for b's answer, from a");

    let exported = Command::new(env!("CARGO_BIN_EXE_eulcat"))
        .args(["export", "--store", &database.url])
        .output()
        .expect("eulcat export runs");
    assert!(exported.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSONL"))
        .collect();
    assert_eq!(lines.len(), 3, "every replica's answers: {lines:?}");
    assert_eq!(lines[0]["helpful"], true);
    assert!(lines.iter().all(|l| l["session_id"].is_string()));
}
