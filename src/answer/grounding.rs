//! The check that stands between a generated answer and the visitor: every
//! number, date and proper name the model wrote must appear in the passages
//! it was given. A small model invents exactly these; one unsupported claim
//! and the reply falls back to quoting the documents.

use std::collections::HashSet;

use super::text::{self, fold, words, MONTHS};

/// A claim of a generated answer that no source supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// A number absent from the sources.
    Number(String),
    /// A month (of a date) absent from the sources.
    Month(String),
    /// A name absent from the sources.
    Name(String),
}

/// The claims of `answer` that `sources` do not contain; empty when the
/// answer is grounded.
pub fn unsupported_claims(answer: &str, sources: &[&str]) -> Vec<Unsupported> {
    let joined = sources.join("\n");
    let source_numbers: HashSet<String> = text::numbers(&joined).into_iter().collect();
    let folded_sources = fold(&joined);
    let source_words: HashSet<&str> = words(&folded_sources).collect();
    let mut claims = Vec::new();
    for number in text::numbers(answer) {
        if !source_numbers.contains(&number) {
            claims.push(Unsupported::Number(number));
        }
    }
    let folded_answer = fold(answer);
    for month in words(&folded_answer).filter(|w| MONTHS.contains(w)) {
        if !source_words.contains(month) {
            claims.push(Unsupported::Month(month.to_string()));
        }
    }
    for name in text::proper_names(answer)
        .into_iter()
        .chain(bare_answers(answer))
    {
        let folded_name = fold(&name);
        if !words(&folded_name).all(|w| source_words.contains(w)) {
            claims.push(Unsupported::Name(name));
        }
    }
    claims
}

/// The first word of each very short sentence (« Paris. »), when it is
/// capitalised: a bare answer is most often a name, and the capital of a
/// sentence start hides it from [`text::proper_names`]. A common word
/// taken for a name here only sends the reply back to quoting.
fn bare_answers(answer: &str) -> Vec<String> {
    const SHORT: usize = 3;
    answer
        .split(['.', '!', '?', '\n'])
        .filter_map(|sentence| {
            let sentence_words: Vec<&str> = sentence.split_whitespace().collect();
            let first = sentence_words
                .first()?
                .trim_matches(|c: char| !c.is_alphanumeric());
            let capitalised = first.chars().next().is_some_and(char::is_uppercase);
            (sentence_words.len() <= SHORT && capitalised).then(|| first.to_string())
        })
        .collect()
}

/// Numbers written in `answer` that none of `sources` contains; the
/// evaluation counts answers that have any.
pub fn unsupported_numbers(answer: &str, sources: &[&str]) -> Vec<String> {
    unsupported_claims(answer, sources)
        .into_iter()
        .filter_map(|claim| match claim {
            Unsupported::Number(n) => Some(n),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str =
        "Le 27 novembre, Caen Normandie Développement a organisé la 2e édition du forum.";

    #[test]
    fn a_faithful_answer_passes() {
        assert!(unsupported_claims(
            "Caen Normandie Développement l'a organisé le 27 novembre.",
            &[SOURCE]
        )
        .is_empty());
    }

    #[test]
    fn an_invented_date_is_caught() {
        let claims = unsupported_claims("Le forum a eu lieu le 14 mars.", &[SOURCE]);
        assert!(claims.contains(&Unsupported::Number("14".into())));
        assert!(claims.contains(&Unsupported::Month("mars".into())));
    }

    #[test]
    fn an_invented_name_is_caught() {
        let claims = unsupported_claims("Il a été présenté par Jean Dupont.", &[SOURCE]);
        assert!(claims.contains(&Unsupported::Name("Jean".into())));
    }

    #[test]
    fn a_bare_invented_name_is_caught_despite_its_capital() {
        let claims = unsupported_claims("Paris.", &[SOURCE]);
        assert!(
            claims.contains(&Unsupported::Name("Paris".into())),
            "{claims:?}"
        );
        assert!(unsupported_claims("Caen.", &[SOURCE]).is_empty());
        assert!(unsupported_claims(
            "Le forum a été organisé par Caen Normandie Développement.",
            &[SOURCE]
        )
        .is_empty());
    }

    #[test]
    fn accents_and_case_do_not_matter_for_names() {
        assert!(
            unsupported_claims("Organisé par CAEN Normandie Developpement.", &[SOURCE]).is_empty()
        );
    }
}
