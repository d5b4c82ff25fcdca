//! The browser scenarios of issue 5.

use std::time::Duration;

use eulcat::answer::Settings;
use eulcat::http::FrontEnds;
use serde_json::{json, Value};

use super::webdriver::{Driver, Session};
use super::{bind, screenshot_path, serve, BROWSER};
use crate::util::{fake_pipeline, pipeline_with, FakeBackend};

/// Script: the number of answers shown and whether the last one is
/// finished, in `document` or in the widget's shadow root.
pub(crate) const ANSWERS_DONE: &str = "
    const root = arguments[0] ? document.querySelector('#eulcat-widget').shadowRoot : document;
    const answers = root.querySelectorAll('[data-testid=chat-answer]');
    const last = answers[answers.length - 1];
    return last && !last.classList.contains('pending') ? answers.length : 0;";

async fn ask_kiosk(session: &Session, question: &str) {
    session
        .type_text("[data-testid=chat-input]", question)
        .await;
    session.click("[data-testid=chat-send]").await;
    session
        .wait_for("the kiosk answer", ANSWERS_DONE, json!([false]))
        .await;
}

/// Opens the widget's demo page at `origin` and waits for the widget.
pub(crate) async fn open_widget_demo(session: &Session, origin: &str) {
    session.goto(&format!("{origin}/widget-demo")).await;
    session
        .wait_for(
            "the widget",
            "return !!document.querySelector('#eulcat-widget')",
            json!([]),
        )
        .await;
}

/// Enters `token` on the staff console's form and waits for the console.
pub(crate) async fn log_in_to_the_staff_console(session: &Session, token: &str) {
    session.type_text("[data-testid=staff-token]", token).await;
    session.click("[data-testid=staff-login]").await;
    session
        .wait_for(
            "the console",
            "return !document.getElementById('console').hidden;",
            json!([]),
        )
        .await;
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_streams_an_answer_with_sources_and_forgets_it_when_idle() {
    let _one = BROWSER.lock().await;
    let bound = bind().await;
    let origin = bound.origin.clone();
    let store = serve(
        bound,
        fake_pipeline(),
        FrontEnds {
            kiosk_idle_seconds: 3,
            ..FrontEnds::default()
        },
    );
    let driver = Driver::start().await;
    let session = driver.session().await;
    session.set_size(390, 844).await;
    session.goto(&format!("{origin}/")).await;
    // Suggested questions are the staff's, from the corpus folder.
    let chips = session
        .wait_for(
            "suggestion chips",
            "return [...document.querySelectorAll('#chips [data-testid=suggestion]')].map(c => c.textContent);",
            json!([]),
        )
        .await;
    let chips: Vec<String> = serde_json::from_value(chips).expect("chip labels");
    assert!(!chips.is_empty());
    assert!(
        chips
            .iter()
            .all(|c| crate::frontends::is_suggested_question(c)),
        "{chips:?}"
    );
    session
        .screenshot(&screenshot_path("kiosk-attract-phone.png"))
        .await;
    session.click("[data-testid=attract] h1").await;
    ask_kiosk(
        &session,
        "Quel projet est le lauréat du Datathon Normandie ?",
    )
    .await;
    let answer = session
        .run(
            "return document.querySelector('[data-testid=chat-answer]').textContent;",
            json!([]),
        )
        .await;
    assert!(
        text_of(&answer).contains("Compétences à la carte"),
        "{answer}"
    );
    // Short style on the kiosk: no quotation marks or « Source : » line.
    assert!(!text_of(&answer).contains("Source\u{a0}:"), "{answer}");
    let cards = session
        .run(
            "return document.querySelectorAll('[data-testid=chat-source]').length;",
            json!([]),
        )
        .await;
    assert!(cards.as_u64() >= Some(1), "{cards}");
    // Feedback reaches the store.
    session.click("[data-testid=feedback-up]").await;
    session
        .wait_for(
            "feedback thanks",
            "return document.querySelector('.feedback-thanks')",
            json!([]),
        )
        .await;
    assert_eq!(store.feedback_summary(5).expect("summary").helpful, 1);
    // The QR code loaded.
    session
        .wait_for(
            "the QR code",
            "const i = document.querySelector('.qr img'); return i && i.complete && i.naturalWidth > 0;",
            json!([]),
        )
        .await;
    session
        .click("details[data-testid=chat-source] summary")
        .await;
    session
        .screenshot(&screenshot_path("kiosk-phone.png"))
        .await;
    session.set_size(1080, 1920).await;
    session
        .screenshot(&screenshot_path("kiosk-portrait.png"))
        .await;
    // Idle: the conversation empties itself and the welcome screen returns.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    session
        .wait_for(
            "the idle reset",
            "return document.querySelectorAll('[data-testid=chat-answer]').length === 0 \
             && !document.getElementById('attract').hidden;",
            json!([]),
        )
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_a_document_is_shown_as_text_and_never_runs() {
    let _one = BROWSER.lock().await;
    let corpus = tempfile::tempdir().expect("corpus dir");
    std::fs::write(
        corpus.path().join("festival.txt"),
        "Festival Pixel\n\nLe festival Pixel <img src=x onerror=\"window.__pwned=1\"> ouvre ses \
         portes le 3 mars 2026 à Caen <script>window.__pwned=2</script>.\n",
    )
    .expect("document");
    let index = crate::util::index_of(corpus.path());
    let pipeline = eulcat::answer::AnswerPipeline::new(
        std::sync::Arc::new(index),
        eulcat::engine::Engine::start(std::sync::Arc::new(FakeBackend::new("")), 4),
        Settings::default(),
    )
    .expect("pipeline");
    let bound = bind().await;
    let origin = bound.origin.clone();
    serve(bound, pipeline, FrontEnds::default());
    let driver = Driver::start().await;
    let session = driver.session().await;
    session.goto(&format!("{origin}/")).await;
    session.click("[data-testid=attract] h1").await;
    ask_kiosk(&session, "Quand ouvre le festival Pixel ?").await;
    let seen = session
        .run(
            "return { answer: document.querySelector('[data-testid=chat-answer]').textContent,
                      source: document.querySelector('[data-testid=chat-source]').textContent,
                      images: document.querySelectorAll('#log img:not(.qr img), #log script').length,
                      pwned: window.__pwned === undefined ? null : window.__pwned };",
            json!([]),
        )
        .await;
    assert!(text_of(&seen["answer"]).contains("3 mars 2026"), "{seen}");
    assert!(text_of(&seen["source"]).contains("onerror"), "{seen}");
    assert!(text_of(&seen["source"]).contains("<script>"), "{seen}");
    assert_eq!(seen["images"], 0, "{seen}");
    assert_eq!(seen["pwned"], Value::Null, "{seen}");
    session.close().await;
}

const WIDGET_ASK: &str = "
    const root = document.querySelector('#eulcat-widget').shadowRoot;
    root.querySelector('[data-testid=widget-open]').click();
    root.querySelector('[data-testid=chat-input]').value = arguments[0];
    root.querySelector('[data-testid=chat-send]').click();
    return true;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_answers_on_an_allowed_site_only_and_survives_navigation() {
    let _one = BROWSER.lock().await;
    let (api, site, other) = (bind().await, bind().await, bind().await);
    let (api_origin, site_origin, other_origin) = (
        api.origin.clone(),
        site.origin.clone(),
        other.origin.clone(),
    );
    let pipeline = fake_pipeline();
    serve(
        api,
        pipeline.clone(),
        FrontEnds {
            widget_origins: vec![site_origin.clone()],
            ..FrontEnds::default()
        },
    );
    let host_page = |_: ()| FrontEnds {
        public_url: Some(api_origin.clone()),
        ..FrontEnds::default()
    };
    serve(site, pipeline.clone(), host_page(()));
    serve(other, pipeline, host_page(()));

    let driver = Driver::start().await;
    let session = driver.session().await;
    session.set_size(1280, 800).await;
    open_widget_demo(&session, &site_origin).await;
    session
        .run(
            WIDGET_ASK,
            json!(["Quel projet est le lauréat du Datathon Normandie ?"]),
        )
        .await;
    session
        .wait_for("the widget answer", ANSWERS_DONE, json!([true]))
        .await;
    let shown = session
        .run(
            "const root = document.querySelector('#eulcat-widget').shadowRoot;
             return { answer: root.querySelector('[data-testid=chat-answer]').textContent,
                      failed: !!root.querySelector('.answer.failed'),
                      sources: root.querySelectorAll('[data-testid=chat-source]').length,
                      leaked: typeof window.streamChat };",
            json!([]),
        )
        .await;
    assert!(
        text_of(&shown["answer"]).contains("Compétences à la carte"),
        "{shown}"
    );
    assert_eq!(shown["failed"], false, "{shown}");
    assert!(shown["sources"].as_u64() >= Some(1), "{shown}");
    // The widget's code stays in its own scope.
    assert_eq!(shown["leaked"], "undefined", "{shown}");
    session
        .screenshot(&screenshot_path("widget-demo.png"))
        .await;
    // A navigation within the site keeps the conversation.
    session.goto(&format!("{site_origin}/widget-demo")).await;
    session
        .wait_for("the restored conversation", ANSWERS_DONE, json!([true]))
        .await;

    // A site that is not on the list gets no answer.
    open_widget_demo(&session, &other_origin).await;
    session
        .run(WIDGET_ASK, json!(["Quand ouvre l'exposition ?"]))
        .await;
    session
        .wait_for(
            "the refusal",
            "return !!document.querySelector('#eulcat-widget').shadowRoot.querySelector('.answer.failed');",
            json!([]),
        )
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_console_needs_the_token_and_finds_passages() {
    let _one = BROWSER.lock().await;
    let bound = bind().await;
    let origin = bound.origin.clone();
    let store = serve(
        bound,
        pipeline_with(
            std::sync::Arc::new(FakeBackend::new("")),
            Settings::default(),
        ),
        FrontEnds {
            staff_token: Some("jeton-de-test".into()),
            ..FrontEnds::default()
        },
    );
    let driver = Driver::start().await;
    let session = driver.session().await;
    session.set_size(1280, 1000).await;
    // A question nobody could answer, twice, for the console to list.
    let client = reqwest::Client::new();
    for message in [
        "Où acheter des croissants près de l'agence ?",
        "ou acheter des croissants pres de l’agence",
    ] {
        let status = client
            .post(format!("{origin}/api/chat"))
            .json(&json!({ "message": message }))
            .send()
            .await
            .expect("chat")
            .status();
        assert!(status.is_success());
    }
    assert_eq!(
        store.unanswered_questions_grouped(5).expect("groups")[0].count,
        2
    );

    session.goto(&format!("{origin}/staff")).await;
    session.click("[data-testid=staff-login]").await;
    let refused = session
        .wait_for(
            "the refusal",
            "return document.querySelector('[data-testid=staff-error]').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(text_of(&refused), "Jeton refusé.");
    let console_hidden = session
        .run(
            "return document.getElementById('console').hidden;",
            json!([]),
        )
        .await;
    assert_eq!(console_hidden, true);

    log_in_to_the_staff_console(&session, "jeton-de-test").await;
    let unanswered = session
        .run(
            "return document.querySelector('[data-testid=unanswered-question]').textContent;",
            json!([]),
        )
        .await;
    assert!(text_of(&unanswered).starts_with("2\u{a0}×"), "{unanswered}");
    session
        .type_text("[data-testid=search-input]", "Datathon")
        .await;
    session.click("[data-testid=search-send]").await;
    let marks = session
        .wait_for(
            "search results",
            "return document.querySelectorAll('[data-testid=search-result] mark').length;",
            json!([]),
        )
        .await;
    assert!(marks.as_u64() >= Some(1), "{marks}");
    ask_kiosk(
        &session,
        "Quel projet est le lauréat du Datathon Normandie ?",
    )
    .await;
    let detail = session
        .run(
            "const card = document.querySelector('#log [data-testid=chat-source]');
             return { open: card.open, text: card.textContent };",
            json!([]),
        )
        .await;
    assert_eq!(detail["open"], true, "{detail}");
    assert!(text_of(&detail["text"]).contains("score"), "{detail}");
    session
        .screenshot(&screenshot_path("staff-console.png"))
        .await;
    session.close().await;
}
