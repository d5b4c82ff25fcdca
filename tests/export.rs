//! `eulcat export`: the kept answers and their feedback, as JSONL, from the
//! same database `serve` writes.

use std::process::Command;

use eulcat::store::Store;

use crate::util::fake_pipeline;

#[tokio::test]
async fn export_writes_every_kept_answer_with_its_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eulcat.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        let pipeline = fake_pipeline();
        for question in ["Qu'est-ce que le DataLab Normandie ?", "Bonjour"] {
            let reply = pipeline.answer(question, None).await.unwrap();
            store.record_answer(&reply, question).unwrap();
            store.record_feedback(&reply.answer_id, true).unwrap();
        }
    }
    let output = dir.path().join("export.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_eulcat"))
        .args(["export", "--store"])
        .arg(&path)
        .arg("--output")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["question"], "Qu'est-ce que le DataLab Normandie ?");
    assert_eq!(lines[0]["helpful"], true);
    assert!(lines[0]["sources"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(lines[1]["kind"], "smalltalk");
}
