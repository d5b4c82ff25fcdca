//! The language a visitor writes in, read from the question itself (a
//! kiosk's language button says what the screen shows, not what the
//! visitor typed).
//!
//! The documents are French and visitors are French or English, so the
//! choice is between two languages. Questions are short and unpunctuated
//! (« expo destination ia qd »), too short for character n-gram models;
//! the words that carry grammar decide instead, and they are few and
//! closed: every question holds one (« what », « when », « the », « est »,
//! « qd »), while content words (« Destination IA », « Rouen ») are shared.
//! Measured on the 408 labelled visitor questions and the English set in
//! `eval/`, see the test below.

use serde::{Deserialize, Serialize};

use super::text::{fold, words};

/// The language of a question, and of the reply's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    /// The documents' language, and the default when a question says
    /// nothing either way.
    #[default]
    #[serde(rename = "fr")]
    French,
    /// For visitors who write in English.
    #[serde(rename = "en")]
    English,
}

/// Grammar words of English questions, and the few content words visitors
/// type without any grammar (« phone number pls », « ok bye »), that are
/// not also French words once accents are folded (« a » is « à », « on »
/// and « me » are French, « these » is « thèse »).
const ENGLISH: &[&str] = &[
    "the",
    "what",
    "whats",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "which",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "does",
    "do",
    "did",
    "can",
    "could",
    "will",
    "would",
    "should",
    "may",
    "much",
    "many",
    "of",
    "to",
    "in",
    "for",
    "and",
    "or",
    "with",
    "from",
    "about",
    "there",
    "it",
    "its",
    "this",
    "that",
    "those",
    "you",
    "your",
    "i",
    "my",
    "we",
    "our",
    "they",
    "their",
    "an",
    "at",
    "by",
    "any",
    "some",
    "have",
    "has",
    "get",
    "tell",
    "give",
    "please",
    "big",
    "first",
    "last",
    "year",
    "company",
    "companies",
    "help",
    "hi",
    "hello",
    "thanks",
    "thank",
    // The stems of « don't », « isn't »…: not « t » alone, which is the
    // French SMS « t'es » (« t'es nul », « t ki »).
    "don",
    "doesn",
    "didn",
    "isn",
    "aren",
    "wasn",
    "weren",
    "won",
    "couldn",
    "wouldn",
    "shouldn",
    "haven",
    "hasn",
    "good",
    "morning",
    "bye",
    // Chat forms: « thx », « ty », « cya », « see ya », « perfect ».
    "thx",
    "ty",
    "cya",
    "see",
    "perfect",
    "phone",
    "number",
    "pls",
    "price",
    "opening",
    "open",
    "hours",
];

/// Grammar words of French questions, including the spoken and SMS forms
/// visitors type (« c », « koi », « qd », « ya »).
const FRENCH: &[&str] = &[
    "le",
    "la",
    "les",
    "l",
    "un",
    "une",
    "des",
    "du",
    "de",
    "d",
    "au",
    "aux",
    "et",
    "ou",
    "est",
    "sont",
    "c",
    "ce",
    "cette",
    "ces",
    "qui",
    "que",
    "qu",
    "quoi",
    "koi",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "quand",
    "qd",
    "comment",
    "combien",
    "cb",
    "pourquoi",
    "pk",
    "ya",
    "y",
    "ca",
    "il",
    "elle",
    "ils",
    "on",
    "je",
    "j",
    "jai",
    "tu",
    "vous",
    "nous",
    "mon",
    "ma",
    "mes",
    "son",
    "sa",
    "ses",
    "leur",
    "pour",
    "par",
    "dans",
    "sur",
    "avec",
    "sans",
    "en",
    "pas",
    "ne",
    "se",
    "fait",
    "faut",
    "peut",
    "peux",
    "avoir",
    "etre",
    "ete",
    "aide",
    "annee",
    "entreprise",
    "entreprises",
    "bonjour",
    "merci",
    "salut",
    "svp",
];

impl Language {
    /// The language `question` is written in: English when its English
    /// grammar words outnumber its French ones, French otherwise.
    pub fn of(question: &str) -> Self {
        Self::evident(question).unwrap_or(Self::French)
    }

    /// The language `question`'s grammar words show; `None` when they show
    /// neither more (« ok », « thx a lot! », « Atrium Rouen »).
    pub fn evident(question: &str) -> Option<Self> {
        let folded = fold(question);
        let (mut english, mut french) = (0usize, 0usize);
        for (i, word) in words(&folded).enumerate() {
            // The opening word (« Who… », « Quand… ») sets the grammar of
            // what follows: it counts twice, so that French names in an
            // English question (« the Assises nationales de l'IA ») do not
            // outvote it.
            let weight = if i == 0 { 2 } else { 1 };
            english += weight * usize::from(ENGLISH.contains(&word));
            french += weight * usize::from(FRENCH.contains(&word));
        }
        match english.cmp(&french) {
            std::cmp::Ordering::Greater => Some(Self::English),
            std::cmp::Ordering::Less => Some(Self::French),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// The ISO 639-1 code, as the API and the front ends write it.
    pub fn code(self) -> &'static str {
        match self {
            Self::French => "fr",
            Self::English => "en",
        }
    }

    /// `2021-03-29` → `29 mars 2021` or `29 March 2021`; other text is returned
    /// as is.
    pub fn date_in_words(self, iso: &str) -> String {
        const MOIS: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let mut parts = iso.splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            return iso.to_string();
        };
        match (month.parse::<usize>(), day.parse::<u32>()) {
            (Ok(m @ 1..=12), Ok(d @ 1..=31)) if year.len() == 4 => match self {
                Self::French if d == 1 => format!("1er {} {year}", MOIS[m - 1]),
                Self::French => format!("{d} {} {year}", MOIS[m - 1]),
                Self::English => format!("{d} {} {year}", MONTHS[m - 1]),
            },
            _ => iso.to_string(),
        }
    }

    /// The language of an ISO 639-1 code (`fr`, `en`, `en-GB`…), if one of
    /// ours.
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Self::French),
            "en" => Some(Self::English),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_words_decide() {
        assert_eq!(
            Language::of("When did the Destination IA exhibition open?"),
            Language::English
        );
        assert_eq!(
            Language::of("expo destination ia ca se termine qd"),
            Language::French
        );
        assert_eq!(Language::of("c koi le datalab"), Language::French);
        assert_eq!(
            Language::of("how much is the Impulsion Conseil grant"),
            Language::English
        );
        assert_eq!(
            Language::of("Impulsion Conseil taux subvention"),
            Language::French
        );
        assert_eq!(Language::of("Atrium Rouen"), Language::French);
        // Chat forms, and « ya » that is French (« il y a ») alone.
        assert_eq!(Language::of("see ya eulcat"), Language::English);
        assert_eq!(Language::of("ty cya"), Language::English);
        assert_eq!(Language::of("ya des aides ?"), Language::French);
        // « t » is the French SMS « t'es »; « don't » keeps its stem.
        assert_eq!(Language::of("t'es nul"), Language::French);
        assert_eq!(Language::of("t ki toi"), Language::French);
        assert_eq!(
            Language::of("I don't get it, who runs it?"),
            Language::English
        );
    }

    #[test]
    fn codes_round_trip() {
        for language in [Language::French, Language::English] {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code("en-GB"), Some(Language::English));
        assert_eq!(Language::from_code("de"), None);
    }

    #[test]
    fn dates_in_words() {
        assert_eq!(Language::French.date_in_words("2026-05-01"), "1er mai 2026");
        assert_eq!(
            Language::French.date_in_words("2025-12-31"),
            "31 décembre 2025"
        );
        assert_eq!(
            Language::English.date_in_words("2025-12-31"),
            "31 December 2025"
        );
        assert_eq!(Language::French.date_in_words("2025-13-01"), "2025-13-01");
        assert_eq!(Language::French.date_in_words("bientôt"), "bientôt");
    }

    /// Every labelled question of the project's eval sets: at most one
    /// in a hundred read in the wrong language.
    #[test]
    fn labelled_questions_are_read_in_their_language() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut total = 0;
        let mut wrong = Vec::new();
        for file in ["eval/visitors/all.jsonl", "eval/english/all.jsonl"] {
            let Ok(text) = std::fs::read_to_string(root.join(file)) else {
                continue;
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let case: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                let expected = case["lang"].as_str().and_then(Language::from_code);
                let questions: Vec<&str> = match case["question"].as_str() {
                    Some(question) => vec![question],
                    None => case["turns"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str())
                        .collect(),
                };
                let (Some(expected), Some(last)) = (expected, questions.last()) else {
                    continue;
                };
                total += 1;
                if Language::of(last) != expected {
                    wrong.push(last.to_string());
                }
            }
        }
        assert!(total >= 400, "only {total} labelled questions found");
        assert!(
            wrong.len() * 100 <= total,
            "{} of {total}: {wrong:#?}",
            wrong.len()
        );
    }
}
