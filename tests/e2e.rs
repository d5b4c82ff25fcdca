//! End to end with the real model: the service reads, re-ranks and answers
//! from the real corpus. Questions here are the project's own.

use std::sync::Arc;

use eulcat::answer::{text::fold, AnswerKind, AnswerPipeline, Settings};
use eulcat::engine::Memo;

use crate::util::{pipeline_with, real_model};

fn pipeline() -> AnswerPipeline {
    pipeline_with(real_model(), Settings::default())
}

async fn assert_fact(pipeline: &AnswerPipeline, question: &str, expected: &str) {
    let reply = pipeline.answer(question, None).await.expect("reply");
    assert_eq!(
        reply.kind,
        AnswerKind::Extractive,
        "{question} → {}",
        reply.answer
    );
    assert!(!reply.sources.is_empty(), "{question}: no source");
    assert!(
        fold(&reply.answer).contains(&fold(expected)),
        "{question} → {}",
        reply.answer
    );
    for source in &reply.sources {
        assert!(
            source.text.contains(&source.quote),
            "the quote comes from the passage"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_questions_answered_from_the_corpus_with_the_real_model() {
    let pipeline = pipeline();
    assert_fact(
        &pipeline,
        "Combien d'équipes ont participé au Datathon Normandie ?",
        "6 équipes",
    )
    .await;
    assert_fact(
        &pipeline,
        "Dans quelle ville aura lieu l'exposition Destination IA ?",
        "Rouen",
    )
    .await;
    assert_fact(
        &pipeline,
        "Quand s'est tenue la Journée des IA Responsables ?",
        "11 décembre",
    )
    .await;
    assert_fact(
        &pipeline,
        "De combien de pays viennent les partenaires de BOOST AI ?",
        "6 pays",
    )
    .await;
    assert_fact(
        &pipeline,
        "Qui a organisé les Assises nationales de l'IA ?",
        "Ouest France",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_model_abstains_and_chats() {
    let pipeline = pipeline();
    for question in [
        "Combien coûte l'entrée de l'exposition Destination IA ?",
        "Qui a gagné la Ligue des champions ?",
    ] {
        let reply = pipeline.answer(question, None).await.expect("reply");
        assert_eq!(
            reply.kind,
            AnswerKind::NoAnswer,
            "{question} → {}",
            reply.answer
        );
    }
    let reply = pipeline.answer("Bonsoir !", None).await.expect("reply");
    assert_eq!(reply.kind, AnswerKind::Smalltalk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_model_in_generative_mode_never_shows_an_unchecked_answer() {
    let settings = Settings {
        writing: eulcat::answer::Writing::Generative {
            chat_template: None,
        },
        ..Settings::default()
    };
    let pipeline = pipeline_with(Arc::clone(&real_model()) as _, settings);
    let reply = pipeline
        .answer("Quand a eu lieu le forum Santé pour Tous ?", None)
        .await
        .expect("reply");
    assert!(
        matches!(reply.kind, AnswerKind::Grounded | AnswerKind::Extractive),
        "{}",
        reply.answer
    );
    let sources: Vec<&str> = reply.sources.iter().map(|s| s.text.as_str()).collect();
    assert!(
        eulcat::answer::grounding::unsupported_claims(&reply.answer, &sources).is_empty()
            || reply.kind == AnswerKind::Extractive,
        "{}",
        reply.answer
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_asked_again_is_answered_from_memory_with_the_same_answer() {
    let memo = Arc::new(Memo::new(real_model()));
    let pipeline = pipeline_with(memo.clone(), Settings::default());
    let question = "Qui organise la Journée des IA Responsables ?";
    let first = pipeline.answer(question, None).await.expect("reply");
    let after_first = memo.stats();
    assert!(after_first.misses > 0, "the first asking runs the model");
    // Another visitor, another conversation, the same words.
    let again = pipeline.answer(question, None).await.expect("reply");
    let after_again = memo.stats();
    assert_ne!(first.session_id, again.session_id);
    assert_eq!(first.kind, again.kind);
    assert_eq!(first.answer, again.answer);
    assert_eq!(first.sources, again.sources);
    assert_eq!(
        after_again.misses, after_first.misses,
        "nothing new reached the model"
    );
    assert_eq!(after_again.hits - after_first.hits, after_first.misses);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_generating_at_once_get_the_texts_they_would_get_alone() {
    use eulcat::engine::{Backend, Engine};
    use eulcat::llm::GenerationParams;

    let model = real_model();
    let params = GenerationParams {
        max_tokens: 10,
        ..Default::default()
    };
    let prompts = [
        "Qu'est-ce que la Normandie ?",
        "Donne un conseil.",
        "Bonjour !",
    ];
    let alone: Vec<String> = prompts
        .iter()
        .map(|p| {
            Backend::generate(&*model, p, &params, &mut |_| {
                std::ops::ControlFlow::Continue(())
            })
            .unwrap()
            .text
        })
        .collect();
    let engine = Engine::start(model as Arc<dyn Backend>, 8);
    let handles: Vec<_> = prompts
        .iter()
        .map(|p| {
            let engine = engine.clone();
            let (prompt, params) = (p.to_string(), params.clone());
            tokio::spawn(async move { engine.generate(prompt, params, None).await })
        })
        .collect();
    for (handle, expected) in handles.into_iter().zip(alone) {
        assert_eq!(handle.await.unwrap().unwrap().text, expected);
    }
    assert_eq!(engine.stats().jobs_panicked, 0);
}
