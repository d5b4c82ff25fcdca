//! The browser scenarios of issue 18: the kiosk used with its own keyboard
//! and in English, axe-core's accessibility audit of every page, and the
//! widget used with a keyboard alone.

use eulcat::http::FrontEnds;
use serde_json::{json, Value};

use super::scenarios::{log_in_to_the_staff_console, open_widget_demo, ANSWERS_DONE};
use super::webdriver::{Driver, Session};
use super::{bind, screenshot_path, serve, BROWSER};
use crate::util::fake_pipeline;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

/// axe-core, as `npm ci --prefix tests/browser` installs it (`.ci/run`
/// does).
fn axe_source() -> String {
    let path = crate::util::root().join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; install the accessibility checker with `npm ci --prefix tests/browser`",
            path.display()
        )
    })
}

/// Runs axe-core on the page (shadow roots included) against WCAG 2.2 A
/// and AA, and fails with every violation found.
async fn assert_accessible(session: &Session, axe: &str, page: &str) {
    session.run(axe, json!([])).await;
    let violations = session
        .run(
            "return axe.run(document, { runOnly: { type: 'tag', values:
                 ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
               .then((result) => result.violations.map((v) => ({
                 id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ': ' + n.failureSummary) })));",
            json!([]),
        )
        .await;
    assert_eq!(
        violations.as_array().map(Vec::len),
        Some(0),
        "{page}: {violations:#}"
    );
}

/// Opens the kiosk at `origin` on its 1080×1920 screen and waits for the
/// welcome screen's suggested questions.
async fn open_kiosk_portrait(session: &Session, origin: &str) {
    session.set_size(1080, 1920).await;
    session.goto(&format!("{origin}/")).await;
    session
        .wait_for(
            "the suggested questions",
            "return document.querySelectorAll('#attract-chips [data-testid=suggestion]').length;",
            json!([]),
        )
        .await;
}

/// The strings the kiosk shows, the answers' labels included, with the key
/// of each: texts, and the names of buttons that show an icon.
const SHOWN_STRINGS: &str = "
    const shown = (n) => !n.closest('[hidden]');
    return [...document.querySelectorAll('[data-i18n]')].filter(shown)
        .map((n) => [n.dataset.i18n, n.textContent])
      .concat([...document.querySelectorAll('[data-i18n-label]')].filter(shown)
        .map((n) => [n.dataset.i18nLabel, n.getAttribute('aria-label')]));";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_is_used_with_its_own_keyboard_in_french_and_in_english() {
    let _one = BROWSER.lock().await;
    let bound = bind().await;
    let origin = bound.origin.clone();
    serve(bound, fake_pipeline(), FrontEnds::default());
    let driver = Driver::start().await;
    let session = driver.session().await;
    open_kiosk_portrait(&session, &origin).await;
    session
        .screenshot(&screenshot_path("kiosk-portrait-welcome.png"))
        .await;
    session.click("[data-testid=start]").await;

    // Typed with the screen's keys only.
    let question = "quel projet est le lauréat du datathon normandie ?";
    for key in question.chars() {
        let key = if key == ' ' {
            "space".to_string()
        } else {
            key.to_string()
        };
        session
            .click(&format!("#keyboard [data-key=\"{key}\"]"))
            .await;
    }
    let typed = session
        .run(
            "return document.querySelector('[data-testid=chat-input]').value;",
            json!([]),
        )
        .await;
    assert_eq!(typed, question);
    session
        .screenshot(&screenshot_path("kiosk-portrait-keyboard.png"))
        .await;
    session.click("#keyboard [data-key=enter]").await;
    session
        .wait_for("the answer", ANSWERS_DONE, json!([false]))
        .await;
    let answer = session
        .run(
            "return document.querySelector('[data-testid=chat-answer]').textContent;",
            json!([]),
        )
        .await;
    assert!(
        answer
            .as_str()
            .is_some_and(|a| a.contains("Compétences à la carte")),
        "{answer}"
    );
    // The feedback buttons are drawn icons with names, not emoji.
    let votes = session
        .run(
            "return [...document.querySelectorAll('.vote')].map((b) => ({
               name: b.getAttribute('aria-label'), text: b.textContent.trim(),
               icon: (b.querySelector('svg') || { getBoundingClientRect: () => ({ width: 0 }) })
                 .getBoundingClientRect().width }));",
            json!([]),
        )
        .await;
    let votes = votes.as_array().expect("votes");
    assert_eq!(votes.len(), 2, "{votes:?}");
    for vote in votes {
        assert!(vote["name"].as_str().is_some_and(|n| n.len() > 2), "{vote}");
        assert_eq!(vote["text"], "", "{vote}");
        assert!(vote["icon"].as_f64() > Some(20.0), "{vote}");
    }
    session
        .screenshot(&screenshot_path("kiosk-portrait-answer.png"))
        .await;
    // Read at arm's length: no visible text under 28 px, no button under
    // 64 px either way.
    let sizes = session
        .run(
            "const visible = (e) => { const r = e.getBoundingClientRect();
               return r.width > 0 && r.height > 0 && !e.closest('[hidden], .visually-hidden'); };
             const texts = [...document.querySelectorAll('body *')].filter((e) => visible(e) &&
               [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
             const small = texts.filter((e) => parseFloat(getComputedStyle(e).fontSize) < 28)
               .map((e) => e.tagName + '.' + e.className + ': ' + getComputedStyle(e).fontSize);
             const buttons = [...document.querySelectorAll('button')].filter(visible)
               .filter((b) => { const r = b.getBoundingClientRect(); return r.width < 64 || r.height < 64; })
               .map((b) => (b.dataset.testid || b.className) + ' ' + b.getBoundingClientRect().width + 'x'
                 + b.getBoundingClientRect().height);
             return { small, buttons, texts: texts.length, checked: document.querySelectorAll('button').length };",
            json!([]),
        )
        .await;
    assert!(sizes["texts"].as_u64() > Some(10), "{sizes}");
    assert_eq!(sizes["small"], json!([]), "{sizes}");
    assert_eq!(sizes["buttons"], json!([]), "{sizes}");

    // The language button switches every string.
    let french: Value = session.run(SHOWN_STRINGS, json!([])).await;
    session.click("[data-testid=language]").await;
    // The chips are fetched after the switch: until they come, the French
    // ones are still there.
    let english = session
        .wait_for(
            "the English suggestions",
            "const chips = [...document.querySelectorAll('#chips [data-testid=suggestion]')];
             return document.documentElement.lang === 'en' && chips.length > 0
               && chips.every((c) => c.lang === 'en') && chips.map((c) => c.textContent);",
            json!([]),
        )
        .await;
    let chips: Vec<String> = serde_json::from_value(english).expect("chip labels");
    assert!(!chips.is_empty());
    for chip in &chips {
        assert!(
            crate::frontends::is_suggested_question(chip)
                && chip.ends_with('?')
                && !chip.contains('\u{a0}'),
            "{chip} is not an English suggested question"
        );
    }
    let shown: Vec<(String, String)> =
        serde_json::from_value(session.run(SHOWN_STRINGS, json!([])).await).expect("strings");
    let expected = session
        .run("return STRINGS_BY_LANGUAGE.en;", json!([]))
        .await;
    assert!(shown.len() >= 6, "{shown:?}");
    for (key, text) in &shown {
        assert_eq!(Some(text.as_str()), expected[key].as_str(), "{key}");
    }
    assert_ne!(
        serde_json::to_value(&shown).expect("json"),
        french,
        "nothing changed"
    );
    let placeholder = session
        .run(
            "return document.querySelector('[data-testid=chat-input]').placeholder;",
            json!([]),
        )
        .await;
    assert_eq!(placeholder, expected["inputPlaceholder"]);
    let space = session
        .run(
            "return document.querySelector('#keyboard [data-key=space]').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(space, "space");

    // An English question is answered with an English reply.
    session
        .type_text(
            "[data-testid=chat-input]",
            "When does the Destination IA exhibition open?",
        )
        .await;
    session.click("[data-testid=chat-send]").await;
    session
        .wait_for(
            "the English reply",
            "const a = document.querySelectorAll('[data-testid=chat-answer]');
             return a.length === 2 && !a[1].classList.contains('pending') && a[1].lang;",
            json!([]),
        )
        .await;
    session
        .screenshot(&screenshot_path("kiosk-portrait-english.png"))
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_accessibility_violation_on_the_kiosk_the_widget_and_the_staff_console() {
    let _one = BROWSER.lock().await;
    let axe = axe_source();
    let bound = bind().await;
    let origin = bound.origin.clone();
    serve(
        bound,
        fake_pipeline(),
        FrontEnds {
            staff_token: Some("jeton-de-test".into()),
            widget_origins: vec![origin.clone()],
            ..FrontEnds::default()
        },
    );
    let driver = Driver::start().await;
    let session = driver.session().await;

    // The kiosk: its welcome screen, then an answer with its cards.
    open_kiosk_portrait(&session, &origin).await;
    assert_accessible(&session, &axe, "/ (welcome)").await;
    session.click("[data-testid=start]").await;
    session
        .type_text(
            "[data-testid=chat-input]",
            "Quel projet est le lauréat du Datathon Normandie ?",
        )
        .await;
    session.click("[data-testid=chat-send]").await;
    session
        .wait_for("the answer", ANSWERS_DONE, json!([false]))
        .await;
    assert_accessible(&session, &axe, "/ (answer)").await;

    // The widget, open, with an answer.
    session.set_size(1280, 800).await;
    open_widget_demo(&session, &origin).await;
    session
        .run(
            "const root = document.querySelector('#eulcat-widget').shadowRoot;
             root.querySelector('[data-testid=widget-open]').click();
             root.querySelector('[data-testid=chat-input]').value = arguments[0];
             root.querySelector('[data-testid=chat-send]').click();",
            json!(["Quel projet est le lauréat du Datathon Normandie ?"]),
        )
        .await;
    session
        .wait_for("the widget answer", ANSWERS_DONE, json!([true]))
        .await;
    assert_accessible(&session, &axe, "/widget-demo").await;

    // The staff console, before and after the token.
    session.goto(&format!("{origin}/staff")).await;
    assert_accessible(&session, &axe, "/staff (token)").await;
    log_in_to_the_staff_console(&session, "jeton-de-test").await;
    assert_accessible(&session, &axe, "/staff (console)").await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_is_used_with_the_keyboard_alone() {
    let _one = BROWSER.lock().await;
    let bound = bind().await;
    let origin = bound.origin.clone();
    serve(
        bound,
        fake_pipeline(),
        FrontEnds {
            widget_origins: vec![origin.clone()],
            ..FrontEnds::default()
        },
    );
    let driver = Driver::start().await;
    let session = driver.session().await;
    session.set_size(1280, 800).await;
    open_widget_demo(&session, &origin).await;
    const FOCUSED: &str = "
        const host = document.querySelector('#eulcat-widget');
        const inner = document.activeElement === host && host.shadowRoot.activeElement;
        return inner ? (inner.dataset.testid || inner.tagName) : '';";
    // Tab until the bubble has the focus.
    let mut focused = Value::Null;
    for _ in 0..6 {
        session.press_keys(TAB).await;
        focused = session.run(FOCUSED, json!([])).await;
        if focused == "widget-open" {
            break;
        }
    }
    assert_eq!(focused, "widget-open", "Tab never reaches the widget");
    session.press_keys(ENTER).await;
    session
        .wait_for(
            "the focus in the question field",
            &format!("return (function () {{ {FOCUSED} }})() === 'chat-input';"),
            json!([]),
        )
        .await;
    session
        .press_keys(&format!(
            "Quel projet est le lauréat du Datathon Normandie ?{ENTER}"
        ))
        .await;
    session
        .wait_for("the widget answer", ANSWERS_DONE, json!([true]))
        .await;
    let answer = session
        .run(
            "return document.querySelector('#eulcat-widget').shadowRoot
               .querySelector('[data-testid=chat-answer]').textContent;",
            json!([]),
        )
        .await;
    assert!(
        answer
            .as_str()
            .is_some_and(|a| a.contains("Compétences à la carte")),
        "{answer}"
    );
    // Escape closes the panel and gives the focus back to the bubble.
    session.press_keys(ESCAPE).await;
    let state = session
        .run(
            &format!(
                "const shown = !document.querySelector('#eulcat-widget').shadowRoot
                   .querySelector('.panel').hidden;
                 const focused = (function () {{ {FOCUSED} }})();
                 return {{ shown, focused }};"
            ),
            json!([]),
        )
        .await;
    assert_eq!(state["shown"], false, "{state}");
    assert_eq!(state["focused"], "widget-open", "{state}");
    session.close().await;
}
