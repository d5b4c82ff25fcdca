//! What the server answers at its edge, over a real socket on 127.0.0.1:
//! which sites may frame which page (issue #6).

use reqwest::header::CONTENT_SECURITY_POLICY;

use eulcat::http::{AppState, FrontEnds, Limits};

use crate::util::{fake_pipeline, serve_locally};

const PARTNER: &str = "https://partenaire.example.fr";

/// The sources of the `frame-ancestors` directive of `response`'s one
/// Content-Security-Policy.
fn frame_ancestors(response: &reqwest::Response) -> String {
    let policies: Vec<&str> = response
        .headers()
        .get_all(CONTENT_SECURITY_POLICY)
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(policies.len(), 1, "one policy: {policies:?}");
    policies[0]
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {}", policies[0]))
        .to_string()
}

async fn frame_ancestors_of(base: &str, path: &str) -> String {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    frame_ancestors(&response)
}

#[tokio::test]
async fn issue_6_the_kiosk_and_the_demo_may_be_framed_by_widget_origins_only() {
    let front_ends = FrontEnds {
        widget_origins: vec![PARTNER.to_string()],
        staff_token: Some("staff-secret".into()),
        ..FrontEnds::default()
    };
    let state = AppState::ready(fake_pipeline()).with_front_ends(front_ends);
    let base = serve_locally(state, &Limits::default()).await;
    for page in ["/", "/widget-demo"] {
        assert_eq!(
            frame_ancestors_of(&base, page).await,
            format!("'self' {PARTNER}"),
            "{page}"
        );
    }
    // The staff console and everything that is not an embeddable page.
    for path in ["/staff", "/health", "/api/suggestions", "/widget.js"] {
        assert_eq!(frame_ancestors_of(&base, path).await, "'none'", "{path}");
    }

    // A server that names no partner is framed by no one, itself included.
    let state = AppState::ready(fake_pipeline());
    let base = serve_locally(state, &Limits::default()).await;
    for page in ["/", "/widget-demo"] {
        assert_eq!(frame_ancestors_of(&base, page).await, "'none'", "{page}");
    }
}
