//! Typography clean-up applied to every piece of text the corpus yields.
//!
//! Documents reach us through copy-paste from word processors and PDFs, so
//! the same word can arrive with different invisible characters: ordinal
//! superscripts flattened to `2^e`, non-breaking spaces around French
//! punctuation, decomposed accents. Answers quote passages verbatim and the
//! evaluation compares strings, so every one of these is folded to one
//! spelling here, once, at ingest. French punctuation that carries meaning
//! (« », ’, …) is kept as written. Depends on nothing else in the crate.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Ordinal and abbreviation superscripts written with a caret, as left over
/// by copy-paste from a word processor: `2^e`, `1^er`, `2^nde`, `XIX^e`,
/// `M^me`. The caret must follow a letter or digit and be followed by a short
/// lower-case suffix ending the word, so a caret used as an operator
/// (`x^2`) is left alone.
static CARET_SUPERSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    // The pattern is a literal; failing to compile it is a programming error.
    Regex::new(r"([\p{L}\p{N}])\^(\p{Ll}{1,4})\b").expect("valid superscript regex")
});

/// Maps Unicode modifier letters used as superscripts (`2ᵉ`, `1ᵉʳ`, `Mᵐᵉ`)
/// to their plain letter.
fn superscript_letter(c: char) -> Option<char> {
    Some(match c {
        'ᵃ' => 'a',
        'ᵈ' => 'd',
        'ᵉ' => 'e',
        'ʳ' => 'r',
        'ⁿ' => 'n',
        'ᵐ' => 'm',
        'ˡ' => 'l',
        'ˢ' => 's',
        'ᵒ' => 'o',
        'ᵗ' => 't',
        _ => return None,
    })
}

/// Normalises the typography of one paragraph (or any inline text).
///
/// - Unicode NFC, so decomposed accents compare equal to composed ones;
/// - superscripts written `2^e`, `1^er`, `2^nde` or with Unicode modifier
///   letters (`2ᵉ`) become plain letters: `2e`, `1er`, `2nde`;
/// - no-break, narrow no-break, thin and other Unicode spaces become a plain
///   space; soft hyphens, zero-width characters and BOMs are removed;
/// - runs of whitespace (line breaks included) collapse to one space, and the
///   result is trimmed.
///
/// « », typographic apostrophes and ellipses are kept: they are the text.
pub fn normalize(text: &str) -> String {
    let composed: String = text.nfc().collect();
    let uncareted = CARET_SUPERSCRIPT.replace_all(&composed, "$1$2");

    let mut out = String::with_capacity(uncareted.len());
    let mut prev: Option<char> = None;
    let mut pending_space = false;
    for c in uncareted.chars() {
        let c = match c {
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {
                continue;
            }
            c if c.is_whitespace() => {
                pending_space = true;
                continue;
            }
            c => c,
        };
        let c = match superscript_letter(c) {
            Some(plain) if prev.is_some_and(char::is_alphanumeric) && !pending_space => plain,
            _ => c,
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_superscripts_are_flattened() {
        assert_eq!(normalize("la 2^e édition"), "la 2e édition");
        assert_eq!(normalize("le 1^er janvier"), "le 1er janvier");
        assert_eq!(normalize("la 1^re fois"), "la 1re fois");
        assert_eq!(normalize("la 2^nde édition"), "la 2nde édition");
        assert_eq!(normalize("le XIX^e siècle"), "le XIXe siècle");
        assert_eq!(normalize("M^me Dupont"), "Mme Dupont");
        assert_eq!(
            normalize("2^e semestre – 3^e trimestre"),
            "2e semestre – 3e trimestre"
        );
    }

    #[test]
    fn carets_that_are_not_superscripts_stay() {
        assert_eq!(normalize("x^2 + y^2"), "x^2 + y^2");
        assert_eq!(normalize("un ^ seul"), "un ^ seul");
        assert_eq!(normalize("2^Euros"), "2^Euros");
    }

    #[test]
    fn unicode_superscripts_are_flattened() {
        assert_eq!(normalize("la 2ᵉ édition"), "la 2e édition");
        assert_eq!(normalize("le 1ᵉʳ mai"), "le 1er mai");
        assert_eq!(normalize("Mᵐᵉ Martin"), "Mme Martin");
    }

    #[test]
    fn spaces_are_unified_and_collapsed() {
        assert_eq!(normalize("Caen\u{00A0}: IA"), "Caen : IA");
        assert_eq!(
            normalize("«\u{202F}Compétences\u{202F}»"),
            "« Compétences »"
        );
        assert_eq!(normalize("  a \t\n b\r\n  c  "), "a b c");
        assert_eq!(normalize("1\u{2009}000 €"), "1 000 €");
    }

    #[test]
    fn invisible_characters_are_removed() {
        assert_eq!(normalize("\u{FEFF}Titre"), "Titre");
        assert_eq!(normalize("cyber\u{00AD}sécurité"), "cybersécurité");
        assert_eq!(normalize("data\u{200B}lab"), "datalab");
    }

    #[test]
    fn decomposed_accents_are_composed() {
        let decomposed = "e\u{0301}ve\u{0300}nement";
        assert_eq!(normalize(decomposed), "évènement");
    }

    #[test]
    fn french_punctuation_is_kept() {
        let text = "Le projet « Compétences à la carte » l’emporte… Voilà !";
        assert_eq!(normalize(text), text);
    }
}
