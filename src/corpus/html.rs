//! Reads a web page saved as HTML: its main content as sections of
//! paragraphs, its `<title>`, headings and `<meta>` properties.
//!
//! A saved page carries the site around the article: menus, banners,
//! footers, cookie notices. Only the main content is kept: `<main>` (or
//! `role="main"`, or a single `<article>`) when the page marks it, else the
//! `<body>` without its navigation, header, footer and side blocks. Block
//! elements delimit paragraphs, headings start sections, inline markup is
//! reduced to its text. Depends on scraper (html5ever); knows nothing of
//! files.

use scraper::{ElementRef, Html, Node, Selector};

use super::markdown::FrontMatter;
use super::parsed::Parsed;
use super::typography::normalize;
use super::Section;

/// Elements whose content is never document text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "form", "button",
    "select", "textarea", "nav", "aside", "footer", "menu", "dialog", "head",
];

/// ARIA roles of site furniture.
const SKIPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alert",
];

/// Words in an `id` or `class` that mark site furniture on pages that do
/// not use the semantic elements.
const SKIPPED_MARKERS: &[&str] = &[
    "cookie",
    "breadcrumb",
    "navbar",
    "menu",
    "sidebar",
    "footer",
    "share",
    "social",
    "skip-link",
];

/// Elements after which a paragraph ends.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "hr",
    "details",
    "summary",
];

/// Parses an HTML page. Never fails: html5ever repairs any markup, and a
/// page without text is caught by the loader.
pub(crate) fn parse(text: &str) -> Parsed {
    let page = Html::parse_document(text);
    let front = metadata(&page);
    let (root, whole_body) = content_root(&page);
    let mut walker = Walker {
        title: front.title.clone(),
        whole_body,
        sections: Vec::new(),
        current: empty_section(None),
        buffer: String::new(),
        first_h1: None,
    };
    if let Some(root) = root {
        walker.walk(root);
    }
    walker.flush();
    let Walker {
        sections,
        current,
        first_h1,
        ..
    } = walker;
    Parsed {
        front,
        body_title: first_h1,
        sections: Section::close_all(sections, current),
    }
}

fn empty_section(heading: Option<String>) -> Section {
    Section {
        heading,
        paragraphs: Vec::new(),
        page: None,
    }
}

fn selector(css: &str) -> Option<Selector> {
    // Our selectors are literals; a failure would be a typo caught by the
    // tests, so it degrades to "not found" rather than panicking.
    Selector::parse(css).ok()
}

fn select_first<'a>(page: &'a Html, css: &str) -> Option<ElementRef<'a>> {
    page.select(&selector(css)?).next()
}

/// The element holding the main content, and whether it is the whole body
/// (in which case its banner `<header>` is furniture too).
fn content_root(page: &Html) -> (Option<ElementRef<'_>>, bool) {
    for css in ["main", "[role=main]"] {
        if let Some(found) = select_first(page, css) {
            return (Some(found), false);
        }
    }
    if let Some(articles) = selector("article") {
        let found: Vec<ElementRef<'_>> = page.select(&articles).collect();
        if let [only] = found.as_slice() {
            return (Some(*only), false);
        }
    }
    (select_first(page, "body"), true)
}

/// Title, date, address, language and keywords from the page's head.
fn metadata(page: &Html) -> FrontMatter {
    let text_of = |css: &str| {
        select_first(page, css)
            .map(|e| normalize(&e.text().collect::<String>()))
            .filter(|t| !t.is_empty())
    };
    let attr_of = |css: &str, attr: &str| {
        select_first(page, css)
            .and_then(|e| e.value().attr(attr))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let meta = |names: &[&str]| {
        names.iter().find_map(|name| {
            attr_of(&format!("meta[name=\"{name}\"]"), "content")
                .or_else(|| attr_of(&format!("meta[property=\"{name}\"]"), "content"))
        })
    };
    let date = meta(&[
        "date",
        "dcterms.date",
        "DC.date",
        "dcterms.modified",
        "article:published_time",
    ])
    .map(|d| d.chars().take(10).collect::<String>());
    let tags = meta(&["keywords"])
        .map(|k| {
            k.split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    FrontMatter {
        title: text_of("head > title")
            .or_else(|| text_of("title"))
            .or_else(|| meta(&["og:title"])),
        date,
        url: attr_of("link[rel=canonical]", "href").or_else(|| meta(&["og:url"])),
        source: meta(&["og:site_name", "author"]),
        tags,
        language: attr_of("html", "lang")
            .and_then(|l| l.split(['-', '_']).next().map(str::to_ascii_lowercase)),
        valid_from: meta(&["valid_from"]),
        deadline: meta(&["deadline"]),
    }
}

fn is_furniture(element: &scraper::node::Element, whole_body: bool) -> bool {
    let name = element.name();
    if SKIPPED.contains(&name) || (whole_body && name == "header") {
        return true;
    }
    if element.attr("hidden").is_some() || element.attr("aria-hidden") == Some("true") {
        return true;
    }
    if element
        .attr("role")
        .is_some_and(|role| SKIPPED_ROLES.contains(&role.trim()))
    {
        return true;
    }
    let markers = format!(
        "{} {}",
        element.attr("id").unwrap_or(""),
        element.attr("class").unwrap_or("")
    )
    .to_ascii_lowercase();
    SKIPPED_MARKERS.iter().any(|m| markers.contains(m))
}

/// Accumulates sections while walking the content tree.
struct Walker {
    title: Option<String>,
    whole_body: bool,
    sections: Vec<Section>,
    current: Section,
    buffer: String,
    first_h1: Option<String>,
}

impl Walker {
    fn flush(&mut self) {
        let text = normalize(&self.buffer);
        self.buffer.clear();
        if !text.is_empty() && text != "|" {
            self.current.paragraphs.push(text);
        }
    }

    fn heading(&mut self, level: u8, text: String) {
        if text.is_empty() {
            return;
        }
        if level == 1 {
            let nothing_yet = self.sections.is_empty() && self.current.paragraphs.is_empty();
            // A page's `<h1>` usually repeats (part of) its `<title>`.
            if self
                .title
                .as_deref()
                .is_some_and(|t| t == text || (nothing_yet && t.starts_with(&text)))
            {
                return;
            }
            if self.title.is_none() && self.first_h1.is_none() && nothing_yet {
                self.first_h1 = Some(text);
                return;
            }
        }
        let previous = std::mem::replace(&mut self.current, empty_section(Some(text)));
        if previous.heading.is_some() || !previous.paragraphs.is_empty() {
            self.sections.push(previous);
        }
    }

    fn walk(&mut self, node: ElementRef<'_>) {
        for child in node.children() {
            match child.value() {
                Node::Text(text) => self.buffer.push_str(text),
                Node::Element(element) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    if is_furniture(element, self.whole_body) {
                        continue;
                    }
                    let name = element.name();
                    match name {
                        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                            self.flush();
                            let level = name.as_bytes()[1] - b'0';
                            self.walk(child);
                            let text = normalize(&std::mem::take(&mut self.buffer));
                            self.heading(level, text);
                        }
                        "br" => self.buffer.push(' '),
                        "td" | "th" => {
                            self.walk(child);
                            self.buffer.push_str(" | ");
                        }
                        "img" => {}
                        _ if BLOCKS.contains(&name) => {
                            self.flush();
                            self.walk(child);
                            self.flush();
                        }
                        _ => self.walk(child),
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(heading: Option<&str>, paragraphs: &[&str]) -> Section {
        Section::of(heading, paragraphs)
    }

    const PAGE: &str = r#"<!doctype html>
<html lang="fr-FR"><head>
<title>Impulsion Conseil</title>
<meta name="date" content="2025-06-01T10:00:00+02:00">
<meta name="keywords" content="aide, conseil">
<link rel="canonical" href="https://example.org/impulsion-conseil">
<script>var menu = "ne pas lire";</script>
</head><body>
<header><a href="/">Accueil</a> Le site de la Région</header>
<nav><ul><li>Menu un</li><li>Menu deux</li></ul></nav>
<div class="cookie-banner">Nous utilisons des cookies.</div>
<main>
<h1>Impulsion Conseil</h1>
<p>Une aide pour <em>recourir</em> à un consultant.<br>Sur deux lignes.</p>
<h2>Montant</h2>
<ul><li>50 % des dépenses.</li><li>Plafond de 15 000 €.</li></ul>
<table><tr><th>Taux</th><th>Plafond</th></tr><tr><td>50 %</td><td>15 000 €</td></tr></table>
</main>
<footer>Mentions légales</footer>
</body></html>"#;

    #[test]
    fn main_content_headings_and_metadata() {
        let parsed = parse(PAGE);
        assert_eq!(parsed.front.title.as_deref(), Some("Impulsion Conseil"));
        assert_eq!(parsed.front.date.as_deref(), Some("2025-06-01"));
        assert_eq!(
            parsed.front.url.as_deref(),
            Some("https://example.org/impulsion-conseil")
        );
        assert_eq!(parsed.front.language.as_deref(), Some("fr"));
        assert_eq!(parsed.front.tags, ["aide", "conseil"]);
        assert_eq!(
            parsed.sections,
            [
                section(
                    None,
                    &["Une aide pour recourir à un consultant. Sur deux lignes."]
                ),
                section(
                    Some("Montant"),
                    &[
                        "50 % des dépenses.",
                        "Plafond de 15 000 €.",
                        "Taux | Plafond",
                        "50 % | 15 000 €"
                    ]
                )
            ]
        );
    }

    #[test]
    fn body_without_main_drops_site_furniture() {
        let page = r#"<html><body>
<header><h1>Site</h1><nav>Accueil</nav></header>
<div id="main-menu">Rubriques</div>
<h1>Le vrai titre</h1><p>Le texte.</p>
<aside>À lire aussi</aside>
<div role="contentinfo">Contact</div>
</body></html>"#;
        let parsed = parse(page);
        assert_eq!(parsed.front.title, None);
        assert_eq!(parsed.body_title.as_deref(), Some("Le vrai titre"));
        assert_eq!(parsed.sections, [section(None, &["Le texte."])]);
    }

    #[test]
    fn empty_or_broken_markup_does_not_fail() {
        assert!(parse("").sections.is_empty());
        let parsed = parse("<p>Texte <b>non fermé<p>Suite");
        assert_eq!(
            parsed.sections,
            [section(None, &["Texte non fermé", "Suite"])]
        );
    }
}
