//! Small text helpers shared by the answer pipeline and the evaluation:
//! accent folding and the recognisers of numbers, dates and names.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips accents, folds typographic apostrophes and spaces:
/// « Février » and "fevrier" compare equal after this.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        match c {
            '\u{2019}' | '\u{2018}' | '\u{02bc}' => folded.push('\''),
            '\u{00a0}' | '\u{202f}' | '\u{2009}' => folded.push(' '),
            'œ' | 'Œ' => folded.push_str("oe"),
            'æ' | 'Æ' => folded.push_str("ae"),
            _ => folded.extend(c.to_lowercase()),
        }
    }
    folded
}

/// French month names, folded.
pub const MONTHS: [&str; 12] = [
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
];

/// Number words a French answer may spell out, folded.
/// « un » and « une » are left out: as articles they are in nearly every
/// sentence, and would make any sentence look like it holds a count.
const NUMBER_WORDS: [&str; 22] = [
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quinze",
    "vingt",
    "trente",
    "cinquante",
    "cent",
    "cents",
    "mille",
    "dizaine",
    "centaine",
    "millier",
];

static DIGITS: LazyLock<Regex> = LazyLock::new(|| literal_regex(r"\d+(?:[.,]\d+)?"));
static YEAR: LazyLock<Regex> = LazyLock::new(|| literal_regex(r"\b(?:19|20)\d\d\b"));
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(
        r"(?i)\d[\d\s.,]*\s*(?:€|euros?\b|k€|m€|millions? d'euros|milliards? d'euros)|€\s*\d",
    )
});

/// Compiles a pattern written in this file. A typo in one is a bug caught by
/// the unit tests at the bottom, never a runtime condition.
#[allow(clippy::expect_used)]
fn literal_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the patterns of this file are valid")
}

/// The numbers written with digits in `text` (« 12,50 » and « 2026 »), with
/// thousands separators removed so « 100 000 » and « 100000 » agree.
pub fn numbers(text: &str) -> Vec<String> {
    let squeezed = squeeze_thousands(text);
    DIGITS
        .find_iter(&squeezed)
        .map(|m| m.as_str().replace(',', "."))
        .collect()
}

/// Joins digit groups separated by a (narrow) space: « 100 000 » → « 100000 ».
fn squeeze_thousands(text: &str) -> String {
    static GROUPS: LazyLock<Regex> =
        LazyLock::new(|| literal_regex(r"(\d)[ \u{00a0}\u{202f}](\d{3})\b"));
    let mut current = text.to_string();
    loop {
        let next = GROUPS.replace_all(&current, "$1$2").into_owned();
        if next == current {
            return current;
        }
        current = next;
    }
}

/// Whether `text` holds a number, in digits or in words.
pub fn has_number(text: &str) -> bool {
    !number_mentions(text).is_empty()
}

/// The numbers of `text`, in digits (normalised) or in words (folded).
pub fn number_mentions(text: &str) -> Vec<String> {
    let mut found = numbers(text);
    let folded = fold(text);
    found.extend(
        words(&folded)
            .filter(|w| NUMBER_WORDS.contains(w))
            .map(str::to_string),
    );
    found
}

/// The months and years `text` names, folded.
pub fn date_mentions(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut found: Vec<String> = words(&folded)
        .filter(|w| MONTHS.contains(w))
        .map(str::to_string)
        .collect();
    found.extend(YEAR.find_iter(text).map(|m| m.as_str().to_string()));
    found
}

/// Whether `text` holds an amount of money.
pub fn has_amount(text: &str) -> bool {
    AMOUNT.is_match(text)
}

/// Whether `text` names a month or a year.
pub fn has_date(text: &str) -> bool {
    has_month(text) || YEAR.is_match(text)
}

/// Whether `text` names a month.
pub fn has_month(text: &str) -> bool {
    let folded = fold(text);
    let found = words(&folded).any(|w| MONTHS.contains(&w));
    found
}

/// Whether `text` holds a duration (« 3 ans », « trois mois »).
pub fn has_duration(text: &str) -> bool {
    const UNITS: [&str; 10] = [
        "an", "ans", "annee", "annees", "mois", "semaine", "semaines", "jour", "jours", "heures",
    ];
    let folded = fold(text);
    let tokens: Vec<&str> = words(&folded).collect();
    tokens.windows(2).any(|pair| {
        (pair[0].chars().all(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&pair[0]))
            && UNITS.contains(&pair[1])
    })
}

/// Whether `text` names someone or something: a capitalised word that does
/// not start a sentence, or an acronym.
pub fn has_name(text: &str) -> bool {
    !proper_names(text).is_empty()
}

/// Capitalised words that do not start a sentence, and acronyms: what a
/// reader takes for names of people, places, organisations or events.
pub fn proper_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut sentence_start = true;
    for raw in text.split(|c: char| c.is_whitespace()) {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        // An elided article or preposition is not the name: « l'Université ».
        let word = word.rsplit(['\'', '\u{2019}']).next().unwrap_or(word);
        let is_capitalised = word.chars().next().is_some_and(char::is_uppercase);
        let is_acronym = word.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && word.chars().all(|c| !c.is_alphabetic() || c.is_uppercase());
        if !word.is_empty() && (is_acronym || (is_capitalised && !sentence_start)) {
            names.push(word.to_string());
        }
        if !raw.is_empty() {
            // An opening « is not a sentence start: « Compétences à la
            // carte » names a project.
            sentence_start = raw.ends_with(['.', '!', '?', ':', '\u{2026}']) || raw == "-";
        }
    }
    names
}

/// The words of a folded text.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(fold("Février À l’Université"), "fevrier a l'universite");
        assert_eq!(fold("Cœur"), "coeur");
    }

    #[test]
    fn numbers_ignore_thousands_separators() {
        assert_eq!(
            numbers("100 000 habitants et 12,50 €"),
            vec!["100000", "12.50"]
        );
    }

    #[test]
    fn answer_types_are_recognised() {
        assert!(has_amount("un budget de 2 millions d'euros"));
        assert!(has_amount("12,50 €"));
        assert!(!has_amount("12 partenaires"));
        assert!(has_number("réunit douze partenaires"));
        assert!(has_date("le 12 février"));
        assert!(has_date("en 2026"));
        assert!(!has_date("le forum dédié à la santé"));
        assert!(has_duration("pour 3 ans"));
        assert!(!has_duration("3 axes"));
    }

    #[test]
    fn names_skip_sentence_starts_and_elisions() {
        assert_eq!(
            proper_names("Le forum a lieu à Caen. Puis Rouen."),
            vec!["Caen", "Rouen"],
            "« Puis » starts a sentence, « Rouen » does not"
        );
        assert_eq!(
            proper_names("accueilli à l'Université de Caen"),
            vec!["Université", "Caen"]
        );
        assert_eq!(proper_names("le projet BOOST AI"), vec!["BOOST", "AI"]);
        assert!(proper_names("Bonjour tout le monde").is_empty());
    }
}
