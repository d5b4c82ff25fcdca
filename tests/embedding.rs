//! EmbeddingGemma against sentence-transformers: the same token ids and
//! vectors within the rounding of our Q8_0 weights.
//!
//! `tests/data/embeddinggemma_reference.json` was computed with
//! sentence-transformers (float32, CPU) on the very zip `eulcat pull`
//! installs, and cross-checked with an independent NumPy implementation;
//! its long text (474 tokens) exercises the sliding window, whose width in
//! a bidirectional Gemma 3 is half the configured one.

use serde::Deserialize;

use crate::util::{real_embedder, root};
use eulcat::answer::{word_input, SAME_MEANING};
use eulcat::llm::embedding::{cosine, Input};

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    token_ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn reference() -> Reference {
    let path = root().join("tests/data/embeddinggemma_reference.json");
    let text = std::fs::read_to_string(&path).expect("reference vectors");
    serde_json::from_str(&text).expect("reference vectors parse")
}

#[test]
fn embeddings_match_sentence_transformers() {
    let embedder = real_embedder();
    let reference = reference();
    assert!(reference.cases.len() >= 10);
    let tokens: Vec<Vec<u32>> = reference
        .cases
        .iter()
        .map(|case| embedder.encode(&case.text).expect("tokenizes"))
        .collect();
    for (case, ids) in reference.cases.iter().zip(&tokens) {
        assert_eq!(ids, &case.token_ids, "token ids of {:?}", case.text);
    }
    // All at once, as the index embeds sentences, and one by one, as a
    // question is embedded: each text is read on its own either way.
    let together = embedder.embed_tokens(&tokens).expect("embeds");
    for ((case, ids), vector) in reference.cases.iter().zip(&tokens).zip(&together) {
        let alone = embedder
            .embed_tokens(std::slice::from_ref(ids))
            .expect("embeds");
        let similarity = cosine(vector, &case.embedding);
        eprintln!(
            "cosine {similarity:.6} ({} tokens) {:?}",
            ids.len(),
            &case.text[..case.text.len().min(50)]
        );
        assert!(
            similarity >= 0.999,
            "cosine {similarity} to the reference for {:?}",
            case.text
        );
        assert!((cosine(vector, vector) - 1.0).abs() < 1e-4, "unit length");
        assert!(
            cosine(vector, &alone[0]) > 0.99999,
            "a text's vector does not depend on its batch"
        );
    }
}

#[test]
fn questions_messages_and_documents_get_the_model_prompts() {
    let embedder = real_embedder();
    assert_eq!(
        embedder.prompted(&Input::Query("Quand ?".into())),
        "task: search result | query: Quand ?"
    );
    assert_eq!(
        embedder.prompted(&Input::Classified("merci".into())),
        "task: classification | query: merci"
    );
    assert_eq!(
        embedder.prompted(&Input::Document {
            title: None,
            text: "Texte.".into()
        }),
        "title: none | text: Texte."
    );
    assert_eq!(
        embedder.prompted(&Input::Document {
            title: Some("Impulsion Conseil".into()),
            text: "Texte.".into()
        }),
        "title: Impulsion Conseil | text: Texte."
    );
}

#[test]
fn a_question_is_closer_to_its_answer_than_to_another_sentence_in_either_language() {
    let embedder = real_embedder();
    let doc = |text: &str| Input::Document {
        title: None,
        text: text.into(),
    };
    let vectors = embedder
        .embed(&[
            Input::Query("c quand l'expo destination ia ?".into()),
            Input::Query("When does the Destination IA exhibition open?".into()),
            doc("L'exposition Destination IA ouvre ses portes à l'Atrium de Rouen le 13 décembre 2025."),
            doc("Le DataLab Normandie accompagne les collectivités dans leurs projets de données."),
        ])
        .expect("embeds");
    for question in &vectors[..2] {
        assert!(cosine(question, &vectors[2]) > cosine(question, &vectors[3]) + 0.1);
    }
}

/// Lone words, lower-cased and read as the answer pipeline reads the corpus
/// vocabulary:
/// a translation or another form of the word reaches the threshold from
/// which two words are taken to mean the same, and words of neighbouring
/// meaning that do not answer for each other stay under it.
#[test]
fn words_of_one_meaning_are_near_and_neighbouring_words_are_not() {
    let embedder = real_embedder();
    let same = [
        ("jobs", "emplois"),
        ("free", "gratuit"),
        ("loan", "prêt"),
        ("companies", "entreprises"),
        ("expo", "exposition"),
        ("labo", "laboratoire"),
    ];
    let different = [
        ("rouen", "caen"),
        ("directeur", "président"),
        ("startup", "entreprise"),
        ("jobs", "entreprises"),
        ("jobs", "business"),
    ];
    let pairs: Vec<(&str, &str)> = same.iter().chain(&different).copied().collect();
    let inputs: Vec<Input> = pairs
        .iter()
        .flat_map(|(a, b)| [word_input(a), word_input(b)])
        .collect();
    let vectors = embedder.embed(&inputs).expect("embeds");
    for (i, (a, b)) in pairs.iter().enumerate() {
        let similarity = cosine(&vectors[2 * i], &vectors[2 * i + 1]);
        let near = similarity >= SAME_MEANING;
        assert_eq!(near, i < same.len(), "{a} / {b}: {similarity:.3}");
    }
}
