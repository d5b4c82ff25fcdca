//! The wording of replies: the extractive answer, when a short span is worth
//! highlighting, and the polite « I do not know » in the question's language.

use crate::corpus::Passage;

use super::question::AnswerType;
use super::text::{self, fold, words};

/// Words longer than this make a span a paraphrase of the sentence, not a
/// short answer.
const SHORT_SPAN_WORDS: usize = 6;

/// The extractive answer: the short answer first when there is one, then
/// the quoted sentences and where they come from.
pub(crate) fn extractive_answer(passage: &Passage, quote: &str, highlight: Option<&str>) -> String {
    let origin = match &passage.date {
        Some(date) => format!("{} — {} ({})", passage.doc_title, passage.heading(), date),
        None => format!("{} — {}", passage.doc_title, passage.heading()),
    };
    format!("{}\n\nSource : {}", quotation(quote, highlight), origin)
}

/// The quoted sentences, after the short answer when there is one.
pub(crate) fn quotation(quote: &str, highlight: Option<&str>) -> String {
    match highlight {
        Some(span) => format!("{} : « {} »", capitalize(span), quote),
        None => format!("« {} »", quote),
    }
}

/// Whether the model's span is a genuine short answer: short, not merely the
/// start of the quote copied, and holding the kind of fact asked for
/// (measured: on dates the model favours a bare year over « 12 février »).
pub(crate) fn worth_highlighting(span: &str, quote: &str, answer_type: AnswerType) -> bool {
    let span = span.trim().trim_end_matches(['.', ',', ';', ':']);
    let word_count = span.split_whitespace().count();
    if word_count == 0 || word_count > SHORT_SPAN_WORDS {
        return false;
    }
    let folded_span = fold(span);
    let folded_quote = fold(quote);
    if folded_quote.starts_with(&folded_span) || !folded_quote.contains(&folded_span) {
        return false;
    }
    match answer_type {
        AnswerType::Date => {
            text::has_month(span) || (!text::has_month(quote) && text::has_date(span))
        }
        other => other.is_satisfied_by(span),
    }
}

/// The reply when the documents do not answer, in French or, for a question
/// clearly in English, in English, with a few topics to try instead.
pub(crate) fn no_answer_message(question: &str, suggestions: &[String]) -> String {
    let english = looks_english(question);
    let mut message = if english {
        "I could not find the answer in the documents I have, so I would rather not guess."
            .to_string()
    } else {
        "Je ne trouve pas la réponse dans les documents dont je dispose, et je préfère ne pas inventer.".to_string()
    };
    if !suggestions.is_empty() {
        message.push_str(if english {
            " I can tell you about: "
        } else {
            " Je peux vous parler par exemple de : "
        });
        message.push_str(&suggestions.join(" ; "));
        message.push('.');
    }
    message
}

/// A rough language guess: English function words outnumber French ones.
fn looks_english(text: &str) -> bool {
    const ENGLISH: [&str; 16] = [
        "the", "what", "who", "when", "where", "is", "are", "how", "which", "of", "does", "do",
        "you", "a", "an", "to",
    ];
    const FRENCH: [&str; 16] = [
        "le", "la", "les", "quel", "quelle", "qui", "quand", "ou", "est", "sont", "comment", "de",
        "des", "du", "un", "une",
    ];
    let folded = fold(text);
    let (mut english, mut french) = (0, 0);
    for word in words(&folded) {
        english += usize::from(ENGLISH.contains(&word));
        french += usize::from(FRENCH.contains(&word));
    }
    english > french
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_copied_from_the_start_or_too_long_are_not_highlighted() {
        let quote = "Ce projet réunit 12 partenaires de 6 pays.";
        assert!(worth_highlighting(
            "12 partenaires",
            quote,
            AnswerType::Number
        ));
        assert!(!worth_highlighting(
            "Ce projet réunit",
            quote,
            AnswerType::Number
        ));
        assert!(!worth_highlighting(
            "réunit 12 partenaires de 6 pays différents et plus",
            quote,
            AnswerType::Number
        ));
        assert!(
            !worth_highlighting("partenaires", quote, AnswerType::Number),
            "no number in the span"
        );
    }

    #[test]
    fn a_bare_year_is_no_answer_to_when_if_a_month_is_known() {
        let quote = "Inauguration le 12 février 2026.";
        assert!(!worth_highlighting("2026", quote, AnswerType::Date));
        assert!(worth_highlighting(
            "12 février 2026",
            quote,
            AnswerType::Date
        ));
    }

    #[test]
    fn no_answer_speaks_the_question_language() {
        let topics = vec!["Datathon".to_string()];
        assert!(no_answer_message("Quel est le prix du billet ?", &topics)
            .starts_with("Je ne trouve pas"));
        assert!(
            no_answer_message("What is the price of the ticket?", &topics)
                .starts_with("I could not")
        );
    }
}
