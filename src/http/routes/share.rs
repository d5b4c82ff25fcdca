//! Taking an answer home: `GET /api/answers/{answer_id}/qr.svg` draws a QR
//! code of a short-lived link, and `GET /a/{token}` is the page it opens, a
//! plain HTML page (no script) with the question, the answer and its
//! sources.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use qrcode::render::svg;
use qrcode::QrCode;

use crate::answer::language::Language;
use crate::answer::Reply;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::SharedAnswer;

use super::web::{escape_html, public_base};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/answers/{answer_id}/qr.svg", get(qr_code))
        .route("/a/{token}", get(shared_page))
}

async fn qr_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(answer_id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.required_store()?;
    let token = tokio::task::spawn_blocking(move || store.share_token(&answer_id))
        .await??
        .ok_or(ApiError::UnknownAnswer)?;
    let link = format!("{}/a/{token}", public_base(&state, &headers));
    let code =
        QrCode::new(link.as_bytes()).map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        image,
    )
        .into_response())
}

async fn shared_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.required_store()?;
    let shared = tokio::task::spawn_blocking(move || store.answer_by_share_token(&token)).await??;
    Ok(match shared {
        Some(shared) => Html(render(&shared)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(page(
                Language::French,
                "Lien expiré",
                "<p>Ce lien a expiré ou n'existe pas. Posez à nouveau votre question à EulCat.</p>",
            )),
        )
            .into_response(),
    })
}

fn render(shared: &SharedAnswer) -> String {
    let reply: &Reply = &shared.reply;
    let mut body = format!(
        "<p class=\"question\">{}</p><div class=\"answer\" data-testid=\"chat-answer\">{}</div>",
        escape_html(&shared.question),
        escape_html(&reply.answer)
    );
    if !reply.sources.is_empty() {
        body.push_str("<h2>Sources</h2>");
    }
    for source in &reply.sources {
        body.push_str("<section class=\"source\" data-testid=\"chat-source\"><h3>");
        body.push_str(&escape_html(&source.title));
        body.push_str("</h3><p class=\"meta\">");
        body.push_str(&escape_html(&source.section));
        if let Some(date) = &source.date {
            body.push_str(" · ");
            body.push_str(&escape_html(&reply.language.date_in_words(date)));
        }
        // The quoted passage is the document's French, whatever the reply's
        // language.
        body.push_str("</p><blockquote lang=\"fr\">");
        body.push_str(&escape_html(&source.text));
        body.push_str("</blockquote>");
        // Only web links: a document's `javascript:` URL is never a link.
        if let Some(url) = source.url.as_deref().filter(|u| is_web_link(u)) {
            body.push_str(&format!(
                "<p><a href=\"{0}\" rel=\"noopener noreferrer\">{0}</a></p>",
                escape_html(url)
            ));
        }
        body.push_str("</section>");
    }
    let title = match reply.language {
        Language::French => "Votre réponse EulCat",
        Language::English => "Your EulCat answer",
    };
    page(reply.language, title, &body)
}

/// Whether a document URL may become a link.
pub(crate) fn is_web_link(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn page(language: Language, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/app.css\"></head>\
         <body class=\"shared\"><main><h1>{}</h1>{}</main></body></html>",
        language.code(),
        escape_html(title),
        escape_html(title),
        body
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_become_links() {
        assert!(is_web_link("https://example.fr"));
        assert!(is_web_link("HTTP://example.fr"));
        assert!(!is_web_link("javascript:alert(1)"));
        assert!(!is_web_link(" data:text/html,x"));
    }
}
