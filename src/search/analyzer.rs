//! The French text analyzer shared by the index, the query and the answer
//! pipeline's coverage measure.
//!
//! Chain: split on non-alphanumerics with elided articles dropped (`l'IA`,
//! `qu’elle`) → drop tokens over 40 bytes → lower-case → fold accents →
//! drop stop words → fold feminine participles → French Snowball stem.
//!
//! Accents are folded *before* stemming so that a query typed without
//! accents (common on a kiosk keyboard) meets the same stems as the
//! accented text: stemming first gives `organisée → organis` but
//! `organisee → organise`. Folding first loses one thing, the stemmer's
//! `-ée` rules, so a small filter maps a folded `-ee`/`-ees` ending to `-e`
//! and `organisé`, `organisée`, `organisees` all stem to `organis`.
//!
//! Stop words are tantivy's French list, folded, plus auxiliaries and
//! interrogatives; `ai` and `eu` are kept because in this corpus they are
//! `AI` (BOOST AI, Normandie.ai) and `EU` far more often than forms of
//! *avoir*. Depends on tantivy's tokenizer API only.

use std::sync::LazyLock;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter,
    TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

use super::stopwords::STOP_WORDS;

/// Name under which the analyzer is registered in an index.
pub const ANALYZER_NAME: &str = "fr_stem";

/// Bump when the analysis changes: it is part of the corpus fingerprint, so
/// an index built with an older chain is rebuilt.
pub(crate) const ANALYZER_VERSION: u32 = 1;

/// Articles and conjunctions that elide before a vowel, lower-case.
const ELISIONS: &[&str] = &[
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
];

/// Straight, typographic and modifier apostrophes.
const APOSTROPHES: &[char] = &['\'', '’', 'ʼ'];

static STOP_FILTER: LazyLock<StopWordFilter> =
    LazyLock::new(|| StopWordFilter::remove(STOP_WORDS.iter().map(|w| w.to_string())));

/// Builds the analyzer (cheap: the stop-word set is shared).
pub fn french_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(FrenchTokenizer)
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(STOP_FILTER.clone())
        .filter(FeminineFold)
        .filter(Stemmer::new(Language::French))
        .build()
}

/// Runs `text` through the index's analyzer and returns its terms in order
/// (duplicates kept). Use it to compare a question and a passage with
/// exactly the terms the index sees.
pub fn analyze(text: &str) -> Vec<String> {
    let mut analyzer = french_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    stream.process(&mut |token| terms.push(token.text.clone()));
    terms
}

/// Like [`analyze`], each term with the word of `text` it comes from,
/// lower-cased but with its accents (« créées » for `cre`): the word, not
/// the stem, is what a meaning model can read.
pub fn analyze_words(text: &str) -> Vec<(String, String)> {
    let mut analyzer = french_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    stream.process(&mut |token| {
        let word = text
            .get(token.offset_from..token.offset_to)
            .unwrap_or(&token.text)
            .to_lowercase();
        words.push((token.text.clone(), word));
    });
    words
}

/// Splits on anything that is not a letter or digit, like tantivy's
/// `SimpleTokenizer` (so `Normandie.ai` gives `Normandie` and `ai`), but
/// drops an elided article or conjunction (`l'`, `qu’`, `jusqu'`) when an
/// apostrophe and a letter follow it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FrenchTokenizer;

/// Token stream of [`FrenchTokenizer`]; tokens are computed up front.
pub(crate) struct FrenchTokenStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for FrenchTokenizer {
    type TokenStream<'a> = FrenchTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FrenchTokenStream {
        FrenchTokenStream {
            tokens: tokenize(text).into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for FrenchTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

fn is_elision(word: &str) -> bool {
    ELISIONS.iter().any(|e| e.eq_ignore_ascii_case(word))
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = chars.peek() {
            if !d.is_alphanumeric() {
                break;
            }
            end = i + d.len_utf8();
            chars.next();
        }
        let word = &text[start..end];
        if is_elision(word) {
            let mut ahead = chars.clone();
            let apostrophe = ahead.next().is_some_and(|(_, a)| APOSTROPHES.contains(&a));
            if apostrophe && ahead.next().is_some_and(|(_, l)| l.is_alphabetic()) {
                continue;
            }
        }
        tokens.push(Token {
            offset_from: start,
            offset_to: end,
            position: tokens.len(),
            text: word.to_string(),
            position_length: 1,
        });
    }
    tokens
}

/// Maps a folded feminine ending `-ee`/`-ees` to `-e` (see the module
/// documentation); expects lower-case, folded tokens.
#[derive(Clone, Copy, Debug)]
struct FeminineFold;

#[derive(Clone)]
struct FeminineFoldTokenizer<T>(T);

struct FeminineFoldStream<S>(S);

impl TokenFilter for FeminineFold {
    type Tokenizer<T: Tokenizer> = FeminineFoldTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> FeminineFoldTokenizer<T> {
        FeminineFoldTokenizer(tokenizer)
    }
}

impl<T: Tokenizer> Tokenizer for FeminineFoldTokenizer<T> {
    type TokenStream<'a> = FeminineFoldStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        FeminineFoldStream(self.0.token_stream(text))
    }
}

impl<S: TokenStream> TokenStream for FeminineFoldStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let text = &mut self.0.token_mut().text;
        let ending = if text.ends_with("ees") {
            2
        } else if text.ends_with("ee") {
            1
        } else {
            0
        };
        // Keep at least two letters before the ending (`nee` stays).
        if ending > 0 && text.len() >= ending + 3 {
            text.truncate(text.len() - ending);
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn each_term_comes_with_the_word_it_was_read_from() {
        let text = "Les Entreprises créées à Caen, l'IA";
        let words = analyze_words(text);
        let terms: Vec<String> = words.iter().map(|(term, _)| term.clone()).collect();
        assert_eq!(terms, analyze(text));
        let read: Vec<&str> = words.iter().map(|(_, word)| word.as_str()).collect();
        assert_eq!(read, ["entreprises", "créées", "caen", "ia"]);
    }

    #[test]
    fn tokenizer_drops_elided_articles() {
        assert_eq!(
            words("l'IA d’abord qu'elle jusqu'à lorsqu’on"),
            ["IA", "abord", "elle", "à", "on"]
        );
        assert_eq!(words("L'Université D'Caen"), ["Université", "Caen"]);
    }

    #[test]
    fn tokenizer_keeps_letters_not_followed_by_an_apostrophe_and_letter() {
        assert_eq!(
            words("plan d ' x vitamine C"),
            ["plan", "d", "x", "vitamine", "C"]
        );
        assert_eq!(words("aujourd'hui"), ["aujourd", "hui"]);
    }

    #[test]
    fn tokenizer_splits_dotted_names_and_keeps_offsets() {
        let tokens = tokenize("Normandie.ai – 2e");
        let spans: Vec<(&str, usize, usize, usize)> = tokens
            .iter()
            .map(|t| (t.text.as_str(), t.offset_from, t.offset_to, t.position))
            .collect();
        assert_eq!(
            spans,
            [("Normandie", 0, 9, 0), ("ai", 10, 12, 1), ("2e", 17, 19, 2)]
        );
    }

    #[test]
    fn positions_do_not_count_elided_words() {
        let positions: Vec<usize> = tokenize("l'IA et l'emploi")
            .iter()
            .map(|t| t.position)
            .collect();
        assert_eq!(positions, [0, 1, 2]);
    }

    #[test]
    fn feminine_participles_meet_the_masculine() {
        for form in [
            "organisé",
            "organisée",
            "organisées",
            "organisés",
            "organisee",
            "ORGANISÉES",
        ] {
            assert_eq!(analyze(form), ["organis"], "{form}");
        }
        assert_eq!(analyze("journée"), analyze("journees"));
    }

    #[test]
    fn accents_do_not_matter() {
        for (accented, plain) in [
            ("cybersécurité", "cybersecurite"),
            ("filière", "filiere"),
            ("Université", "universite"),
            ("données", "donnees"),
            ("présentée", "presentee"),
        ] {
            assert_eq!(analyze(accented), analyze(plain), "{accented}");
        }
    }

    #[test]
    fn stop_words_are_removed_and_ai_is_kept() {
        assert!(analyze("le la les de des du et à où même été est").is_empty());
        assert_eq!(analyze("Normandie.ai"), ["normand", "ai"]);
        assert_eq!(analyze("BOOST AI"), ["boost", "ai"]);
    }

    #[test]
    fn long_tokens_are_dropped() {
        let long = "a".repeat(41);
        assert_eq!(analyze(&format!("court {long}")), ["court"]);
    }
}
