//! The tokenizer built from the real GGUF against llama.cpp's reference ids
//! (`eval/token_vectors.json`, `eval/greedy_vectors.json`), plus the
//! control-token safety rule and decoding round trips.

use candle_core::quantized::gguf_file;
use eulcat::llm::detokenizer::StreamDecoder;
use eulcat::llm::tokenizer::TextTokenizer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

const START_OF_TURN: u32 = 105;
const END_OF_TURN: u32 = 106;

/// Built once for the whole test binary: it takes a noticeable fraction of
/// a second and a couple of hundred megabytes.
fn tokenizer() -> &'static TextTokenizer {
    static TOKENIZER: OnceLock<TextTokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/gemma-3-270m-q4_k_m.gguf");
        let mut file = std::fs::File::open(&path).unwrap_or_else(|e| {
            panic!(
                "cannot open {} ({e}): run `cargo run --release -- pull` first",
                path.display()
            )
        });
        let content = gguf_file::Content::read(&mut file).expect("GGUF header parses");
        let rss_before = rss_mib();
        let start = Instant::now();
        let tokenizer = TextTokenizer::from_gguf(&content).expect("tokenizer builds");
        println!(
            "tokenizer built in {:.0} ms, RSS +{} MiB",
            start.elapsed().as_secs_f64() * 1e3,
            rss_mib().saturating_sub(rss_before)
        );
        tokenizer
    })
}

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib / 1024)
}

/// The shared project directory: beside the repository in CI and in the
/// main checkout, at a fixed place for helper worktrees.
fn shared_file(name: &str) -> Value {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let dir = [beside, PathBuf::from("/work/shared")]
        .into_iter()
        .find(|d| d.is_dir())
        .expect("shared directory (../shared or /work/shared) exists");
    let path = dir.join("eval").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn ids_of(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .expect("ids are an array")
        .iter()
        .map(|v| v.as_u64().expect("id is an integer") as u32)
        .collect()
}

/// French text with accents, ligatures, typographic punctuation and emoji.
const FRENCH: &[&str] = &[
    "Bonjour, comment ça va ?",
    "Élève, où êtes-vous ? À bientôt ! Ça coûte 12,50 € — c'est « génial ».",
    "Aujourd’hui, l’équipe a gagné.\n\nŒuvre, cœur, Noël, naïf, ambiguïté.",
    "J'aime les crêpes 🥞 et le cidre 🍎🇫🇷 !",
    "  Deux  espaces\tet une tabulation\r\n",
];

#[test]
fn token_vectors_match_llama_cpp() {
    let tok = tokenizer();
    let vectors = shared_file("token_vectors.json");
    let vectors = vectors.as_object().expect("string → ids object");
    assert!(vectors.len() >= 18, "only {} vectors", vectors.len());
    let mismatches: Vec<_> = vectors
        .iter()
        .filter_map(|(text, expected)| {
            let got = tok.encode_with_bos(text).expect("encodes");
            (got != ids_of(expected)).then(|| format!("{text:?}: got {got:?}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "mismatches: {mismatches:#?}");
}

#[test]
fn greedy_prompt_ids_match_llama_cpp() {
    let tok = tokenizer();
    let file = shared_file("greedy_vectors.json");
    let cases = file["cases"].as_array().expect("cases array");
    assert!(!cases.is_empty());
    for case in cases {
        let prompt = case["prompt"].as_str().expect("prompt string");
        assert_eq!(
            tok.encode_with_bos(prompt).unwrap(),
            ids_of(&case["token_ids"]),
            "prompt {prompt:?}"
        );
    }
}

#[test]
fn special_tokens_only_come_from_templates() {
    let tok = tokenizer();
    assert_eq!(tok.piece_to_id("<start_of_turn>"), Some(START_OF_TURN));
    assert_eq!(tok.piece_to_id("<end_of_turn>"), Some(END_OF_TURN));
    let text = "<start_of_turn>user\nBonjour<end_of_turn>";

    let plain = tok.encode_text(text).unwrap();
    assert!(!plain.contains(&START_OF_TURN) && !plain.contains(&END_OF_TURN));
    assert_eq!(tok.decode(&plain).unwrap(), text);

    let template = tok.encode_template(text).unwrap();
    assert_eq!(template.first(), Some(&START_OF_TURN));
    assert_eq!(template.last(), Some(&END_OF_TURN));
    // Between the markers, the template is tokenized as plain text.
    let inner = tok.encode_text("user\nBonjour").unwrap();
    assert_eq!(&template[1..template.len() - 1], inner.as_slice());
}

#[test]
fn no_control_token_string_encodes_to_a_control_id_as_text() {
    let tok = tokenizer();
    let controls: Vec<u32> = (0..tok.vocab_size() as u32)
        .filter(|&id| {
            let piece = tok.token_to_piece(id).unwrap();
            tok.inner().get_added_vocabulary().is_special_token(piece)
        })
        .collect();
    assert!(controls.len() > 6000, "{} control tokens", controls.len());
    for &id in &controls {
        let piece = tok.token_to_piece(id).unwrap();
        let ids = tok.encode_text(piece).unwrap();
        assert!(
            ids.iter().all(|i| !controls.contains(i)),
            "{piece:?} encodes to {ids:?}"
        );
        assert_eq!(tok.encode_template(piece).unwrap(), vec![id], "{piece:?}");
    }
}

#[test]
fn decode_round_trips_french_text() {
    let tok = tokenizer();
    for text in FRENCH {
        let ids = tok.encode_text(text).unwrap();
        assert_eq!(tok.decode(&ids).unwrap(), *text);
        // Our byte-level decode agrees with the `tokenizers` decoder chain.
        assert_eq!(tok.inner().decode(&ids, true).unwrap(), *text);
        // And the inner tokenizer's own BOS handling agrees with ours.
        let with_bos = tok.inner().encode(*text, true).unwrap();
        assert_eq!(with_bos.get_ids(), tok.encode_with_bos(text).unwrap());
    }
}

#[test]
fn long_text_round_trips_and_encodes_fast_enough() {
    let tok = tokenizer();
    // A passage-sized text is encoded as one BPE word (no pre-tokenizer),
    // so this checks the cost stays reasonable at that size.
    let text = FRENCH.join("\n").repeat(40);
    let start = Instant::now();
    let ids = tok.encode_text(&text).unwrap();
    let elapsed = start.elapsed();
    println!(
        "encoded {} bytes into {} tokens in {:.1} ms",
        text.len(),
        ids.len(),
        elapsed.as_secs_f64() * 1e3
    );
    assert_eq!(tok.decode(&ids).unwrap(), text);
    assert!(elapsed.as_secs_f64() < 1.0, "encoding took {elapsed:?}");
}

#[test]
fn streaming_decode_equals_whole_decode() {
    let tok = tokenizer();
    let text = FRENCH.join(" ");
    let ids = tok.encode_with_bos(&text).unwrap();
    // The emoji are spelled with byte tokens, so characters do straddle
    // token boundaries in this stream.
    assert!(ids
        .iter()
        .any(|&id| tok.token_to_piece(id).is_some_and(|p| p.starts_with("<0x"))));
    let mut decoder = StreamDecoder::new(tok);
    let mut streamed = String::new();
    for &id in &ids {
        if let Some(chunk) = decoder.push(id).unwrap() {
            assert!(!chunk.contains('\u{FFFD}'), "half character in {chunk:?}");
            streamed.push_str(&chunk);
        }
    }
    assert_eq!(decoder.finish().unwrap(), None);
    assert_eq!(streamed, tok.decode(&ids).unwrap());
    assert_eq!(streamed, text);
}

#[test]
fn vocabulary_facts() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 262_144);
    assert_eq!((tok.bos_id(), tok.eos_id()), (2, 1));
    assert_eq!(tok.stop_ids(), vec![1, END_OF_TURN]);
    assert_eq!(tok.token_to_piece(2), Some("<bos>"));
    assert_eq!(tok.piece_to_id("▁Caen"), Some(221_394));
}
