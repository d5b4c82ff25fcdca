//! Turns a user's question into a tantivy query, and hits into [`Hit`]s
//! with highlighted snippets.
//!
//! Questions are free French text, not query syntax: characters the query
//! grammar would read as operators (quotes, `:`, `-`, `+`, parentheses) are
//! neutralised first and the text is parsed leniently, with OR semantics
//! over title, section and body (boosted). Typo tolerance adds corrected
//! terms (see [`super::fuzzy`]) at a lower weight for every query term that
//! matches nothing, and for every term of a short query. Depends on tantivy
//! and the analyzer.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, Searcher, TantivyDocument, Term};

use super::analyzer::analyze;
use super::fuzzy::{allowed_distance, expansions};
use super::schema::Fields;
use super::{Hit, Result};

/// Queries with at most this many content words get typo alternatives for
/// every term, not only for terms that match nothing.
const SHORT_QUERY_WORDS: usize = 3;
/// Weight of a correction for a term that matches nothing: it is the only
/// evidence for that word, but less sure than an exact match.
const MISSING_TERM_WEIGHT: f32 = 0.6;
/// Weight of a correction added to a term that does match: a hedge.
const HEDGE_WEIGHT: f32 = 0.3;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;

/// Rewrites free text so the query grammar sees words only: apostrophes
/// become ’ (the grammar quotes with '), operators become spaces, and the
/// text is lower-cased so `AND`/`OR`/`NOT` are ordinary words.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\'' | 'ʼ' | '’' => '’',
            c if c.is_alphanumeric() || c == '.' => c,
            _ => ' ',
        })
        .collect::<String>()
        .to_lowercase()
}

/// Builds the full query: the parsed question plus typo alternatives.
pub(crate) fn build_query(
    index: &Index,
    searcher: &Searcher,
    fields: &Fields,
    question: &str,
) -> Result<Option<Box<dyn Query>>> {
    let text = sanitize(question);
    let mut terms = analyze(&text);
    if terms.is_empty() {
        return Ok(None);
    }
    let content_words = terms.len();
    terms.sort();
    terms.dedup();

    let searched = fields.searched();
    let mut parser =
        QueryParser::for_index(index, searched.iter().map(|&(field, _)| field).collect());
    for (field, boost) in searched {
        parser.set_field_boost(field, boost);
    }
    let (parsed, errors) = parser.parse_query_lenient(&text);
    if !errors.is_empty() {
        tracing::debug!(?errors, question, "query parsed leniently");
    }

    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, parsed)];
    for term in &terms {
        let distance = allowed_distance(term);
        if distance == 0 {
            continue;
        }
        let mut frequency = 0;
        for (field, _) in searched {
            frequency += searcher.doc_freq(&Term::from_field_text(field, term))?;
        }
        let weight = match (frequency, content_words <= SHORT_QUERY_WORDS) {
            (0, _) => MISSING_TERM_WEIGHT,
            (_, true) => HEDGE_WEIGHT,
            (_, false) => continue,
        };
        for (field, boost) in searched {
            for (candidate, edits) in expansions(searcher, field, term, distance)? {
                tracing::debug!(term, candidate, edits, "typo alternative");
                let query = TermQuery::new(
                    Term::from_field_text(field, &candidate),
                    IndexRecordOption::WithFreqs,
                );
                let weight = boost * weight / edits as f32;
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), weight)),
                ));
            }
        }
    }
    Ok(Some(Box::new(BooleanQuery::new(clauses))))
}

/// Runs the query and decodes the hits, best first.
pub(crate) fn run(
    index: &Index,
    searcher: &Searcher,
    fields: &Fields,
    question: &str,
    limit: usize,
) -> Result<Vec<Hit>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let Some(query) = build_query(index, searcher, fields, question)? else {
        return Ok(Vec::new());
    };
    let top = searcher.search(&*query, &TopDocs::with_limit(limit).order_by_score())?;
    let mut snippets = SnippetGenerator::create(searcher, &*query, fields.body)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address)?;
        let passage = fields.decode(&doc)?;
        let mut snippet = snippets.snippet(&passage.text);
        let snippet_html = if snippet.is_empty() {
            escape_html(&leading_text(&passage.text, SNIPPET_CHARS))
        } else {
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            snippet.to_html()
        };
        hits.push(Hit {
            passage,
            score,
            snippet_html,
        });
    }
    Ok(hits)
}

/// The start of `text`, cut at a word boundary, with an ellipsis if cut.
fn leading_text(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// Text made safe inside HTML elements and quoted attributes (snippets here,
/// and the server-rendered pages of the HTTP layer).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_neutralises_query_syntax() {
        assert_eq!(sanitize("Qu'est-ce que l'IA ?"), "qu’est ce que l’ia  ");
        assert_eq!(
            sanitize("title:x AND (y OR \"z\") +w -v ^2 *"),
            "title x and  y or  z    w  v  2  "
        );
        assert_eq!(sanitize("Normandie.ai & Data"), "normandie.ai   data");
    }

    #[test]
    fn sanitized_text_keeps_the_same_terms() {
        let question = "Qu'est-ce que l’exposition « Destination IA » ?";
        assert_eq!(analyze(&sanitize(question)), analyze(question));
    }

    #[test]
    fn leading_text_cuts_at_words() {
        assert_eq!(leading_text("court", 10), "court");
        assert_eq!(leading_text("un deux trois quatre", 10), "un deux…");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("a<b> & \"c\" 'd'"),
            "a&lt;b&gt; &amp; &quot;c&quot; &#x27;d&#x27;"
        );
    }
}
