//! Visitors' words spelt as the documents spell them: accents put back,
//! acronyms in capitals, elisions split and one-letter slips mended, from
//! the corpus's own vocabulary.
//!
//! At the kiosk people type without accents or apostrophes and with slips
//! (« pole tes », « latrium », « consultan », « la regoin »). BM25 forgives
//! most of that, but the meaning model does not: measured on training
//! questions, « pole tes ca veut dire koi » is 0.20 from the sentence that
//! answers it and « pôle TES ça veut dire quoi » 0.44; « consultan cb par
//! jour max » 0.48 and « consultant … » 0.57. No word list is written by
//! hand here: the documents say how their words are spelt, and a word is
//! only changed when the documents never write it as typed.

use std::collections::HashMap;

use super::text::{capitalize, fold, is_acronym};
use crate::corpus::Passage;

/// Shortest word whose accents are restored (« a », « ou », « la » are
/// words without accents too).
const SHORTEST_RESTORED: usize = 4;

/// Shortest word mended by one swapped or wrong letter (« regoin »):
/// shorter ones have too many neighbours (« peux » and « deux »).
const SHORTEST_MENDED: usize = 6;

/// Shortest word mended by one letter missing or added (« consultan »):
/// below it, real words are a letter from the documents' too often
/// (« revoir » and « prévoir »).
const SHORTEST_MENDED_BY_LENGTH: usize = 8;

/// Letters before an apostrophe in French elisions (« l'Atrium »,
/// « d'innovation », « qu'elle »).
const ELIDED: &[&str] = &["qu", "l", "d", "j", "s", "n", "m", "t", "c"];

/// The corpus's spellings of each word, by folded form.
#[derive(Debug, Default)]
pub struct Spelling {
    /// Folded word → each way the documents write it, with how often.
    forms: HashMap<String, Vec<(String, usize)>>,
    /// Folded word → the capitalised words the documents write right
    /// after it, as they write them (« impulsion » → « Conseil »,
    /// « Développement »…): the names a shortened word may stand for.
    continuations: HashMap<String, Vec<String>>,
}

impl Spelling {
    /// Learns the spellings of every word of the passages (titles,
    /// headings and text).
    pub fn new(passages: &[Passage]) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut continuations: HashMap<String, Vec<String>> = HashMap::new();
        let mut titles_seen = std::collections::HashSet::new();
        for passage in passages {
            if titles_seen.insert(passage.doc_title.as_str()) {
                count_words(&passage.doc_title, &mut counts);
                note_continuations(&passage.doc_title, &mut continuations);
            }
            if let Some(section) = &passage.section {
                count_words(section, &mut counts);
                note_continuations(section, &mut continuations);
            }
            count_words(&passage.text, &mut counts);
            note_continuations(&passage.text, &mut continuations);
        }
        let mut forms: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for (word, count) in counts {
            forms.entry(fold(&word)).or_default().push((word, count));
        }
        for spellings in forms.values_mut() {
            spellings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        Self {
            forms,
            continuations,
        }
    }

    /// `message` with each word the documents never write as typed
    /// replaced by their spelling of it, when there is one; everything
    /// else exactly as typed. `is_word` tells a word people write (the
    /// language model's vocabulary holds it whole: « tes », « laide »)
    /// from a slip: such a word is neither mended, split (« laide » is not
    /// « l'aide ») nor made an acronym (« tes » is « t'es » before it is
    /// the pôle TES). Words it splits in pieces are guarded by the length
    /// floors instead (« revoir » is two pieces, and not « prévoir »).
    ///
    /// A word cut short after the start of a name (« impulsion dev »,
    /// « impulsion innov ») is completed to the one name the documents
    /// continue that way (« Développement », « Innovation »).
    pub fn restore(&self, message: &str, is_word: &dyn Fn(&str) -> bool) -> String {
        let mut previous = String::new();
        message
            .split(' ')
            .map(|word| {
                let restored = self
                    .completed(&previous, word)
                    .unwrap_or_else(|| self.restore_word(word, is_word));
                previous = fold(word);
                restored
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `word` completed to the one capitalised word the documents write
    /// after `previous` (folded) and that it begins: none when the
    /// documents use `word` as it is, or it begins several such words or
    /// is too short to tell.
    fn completed(&self, previous: &str, word: &str) -> Option<String> {
        const SHORTEST_BEGINNING: usize = 3;
        let folded = fold(word);
        if folded.chars().count() < SHORTEST_BEGINNING
            || !folded.chars().all(char::is_alphabetic)
            || self.forms.contains_key(&folded)
        {
            return None;
        }
        let mut names = self
            .continuations
            .get(previous)?
            .iter()
            .filter(|name| fold(name).starts_with(&folded));
        let only = names.next()?;
        names.next().is_none().then(|| only.clone())
    }

    fn restore_word(&self, word: &str, is_word: &dyn Fn(&str) -> bool) -> String {
        let start = word.find(char::is_alphabetic).unwrap_or(word.len());
        let end = word.rfind(char::is_alphabetic).map_or(start, |i| {
            i + word[i..].chars().next().map_or(1, char::len_utf8)
        });
        if start >= end {
            return word.to_string();
        }
        let (before, core, after) = (&word[..start], &word[start..end], &word[end..]);
        // « l'atrium »: the word after the apostrophe is the one to spell.
        if let Some((apostrophe, mark)) = core.char_indices().rev().find(|(_, c)| is_apostrophe(*c))
        {
            let (elision, rest) = core.split_at(apostrophe + mark.len_utf8());
            return match self.respell(rest, is_word) {
                Some(spelt) => format!("{before}{elision}{spelt}{after}"),
                None => word.to_string(),
            };
        }
        match self.respell(core, is_word) {
            Some(spelt) => format!("{before}{spelt}{after}"),
            None => word.to_string(),
        }
    }

    /// The documents' spelling of `word` when they never write it as
    /// typed: its accents and capitals, else its one-edit neighbour.
    fn respell(&self, word: &str, is_word: &dyn Fn(&str) -> bool) -> Option<String> {
        if word.chars().any(|c| !c.is_alphabetic()) {
            return None;
        }
        let folded = fold(word);
        // The tokenizer is asked only about a word that would change: most
        // words are the documents' as typed.
        match self.forms.get(&folded) {
            Some(spellings) => {
                let spelt = self.accented(word, spellings)?;
                (!is_acronym(&spelt) || !is_word(word)).then_some(spelt)
            }
            None if is_word(word) => None,
            // « latrium » is « l'atrium » before it is one slip from
            // « atrium ».
            None => self
                .split_elision(word, &folded)
                .or_else(|| self.mended(word, &folded)),
        }
    }

    /// Accents and acronyms restored: « pole » → « pôle », « tes » →
    /// « TES »; `None` when the documents write the word as typed (« a »
    /// and « à » are both French) or it is too short to tell.
    fn accented(&self, word: &str, spellings: &[(String, usize)]) -> Option<String> {
        let lower = word.to_lowercase();
        let (best, _) = spellings.first()?;
        if is_acronym(best) && spellings.iter().all(|(s, _)| is_acronym(s)) {
            return (best != word).then(|| best.clone());
        }
        let written_as_typed = spellings
            .iter()
            .any(|(s, _)| !is_acronym(s) && s.to_lowercase() == lower);
        if written_as_typed || word.chars().count() < SHORTEST_RESTORED {
            return None;
        }
        let best_lower = best.to_lowercase();
        Some(if word.chars().next().is_some_and(char::is_uppercase) {
            capitalize(&best_lower)
        } else {
            best_lower
        })
    }

    /// The one word of the documents a single slip away from `word` (the
    /// most frequent when several are), spelt as they spell it.
    fn mended(&self, word: &str, folded: &str) -> Option<String> {
        let length = folded.chars().count();
        if length < SHORTEST_MENDED {
            return None;
        }
        let mut nearest: Option<(&str, usize)> = None;
        let mut tied = false;
        for (candidate, spellings) in &self.forms {
            let candidate_length = candidate.chars().count();
            let shortest = if candidate_length == length {
                SHORTEST_MENDED
            } else {
                SHORTEST_MENDED_BY_LENGTH
            };
            if candidate_length.abs_diff(length) > 1
                || length.min(candidate_length) < shortest
                || strsim::osa_distance(candidate, folded) != 1
                || !is_a_likely_slip(folded, candidate)
            {
                continue;
            }
            let count: usize = spellings.iter().map(|(_, n)| n).sum();
            match nearest {
                Some((_, best)) if count < best => {}
                Some((_, best)) if count == best => tied = true,
                _ => {
                    nearest = Some((candidate, count));
                    tied = false;
                }
            }
        }
        let (candidate, _) = nearest.filter(|_| !tied)?;
        let spellings = self.forms.get(candidate)?;
        let spelt = self
            .accented(candidate, spellings)
            .unwrap_or_else(|| candidate.to_string());
        Some(if word.chars().next().is_some_and(char::is_uppercase) {
            capitalize(&spelt)
        } else {
            spelt
        })
    }

    /// « latrium » → « l'Atrium », « dinnovation » → « d'innovation »:
    /// an elision typed without its apostrophe, when the rest is a word
    /// of the documents starting with a vowel or h.
    fn split_elision(&self, word: &str, folded: &str) -> Option<String> {
        ELIDED.iter().find_map(|prefix| {
            let rest = folded.strip_prefix(prefix)?;
            let typed_prefix = word.get(..prefix.len())?;
            let starts_softly = rest.starts_with(['a', 'e', 'i', 'o', 'u', 'y', 'h']);
            if !starts_softly || rest.chars().count() < SHORTEST_RESTORED {
                return None;
            }
            let spellings = self.forms.get(rest)?;
            let (best, _) = spellings.first()?;
            let spelt = if is_acronym(best) {
                best.clone()
            } else {
                best.to_lowercase()
            };
            Some(format!("{typed_prefix}'{spelt}"))
        })
    }
}

/// Whether `typed` (folded), one edit from the documents' `known`, is more
/// likely a slip of the fingers than another form or another word: a
/// letter swapped (« regoin »), left out (« consultan ») or struck for a
/// key beside it or a letter that sounds the same (« budjet »). Another
/// ending is another form of the word (« prévois », « équiper »,
/// « remboursé »), and another letter inside it often another word
/// (« rentre » and « rendre », « solaires » and « salaires »).
fn is_a_likely_slip(typed: &str, known: &str) -> bool {
    let typed: Vec<char> = typed.chars().collect();
    let known: Vec<char> = known.chars().collect();
    if typed.len() != known.len() {
        // A letter more at the end is an ending (« rembourser »,
        // « subventions »); a letter less is dropped.
        return !(typed.len() > known.len() && typed.starts_with(&known));
    }
    let differ: Vec<usize> = (0..typed.len()).filter(|&i| typed[i] != known[i]).collect();
    match differ[..] {
        [i] => {
            let (a, b) = (typed[i], known[i]);
            i + 2 < typed.len() && (keys_touch(a, b) || sound_alike(a, b))
        }
        // osa_distance 1 with two differences is a swap.
        _ => true,
    }
}

/// Whether two letters are neighbouring keys of the French (AZERTY)
/// keyboard, as phones draw it too.
fn keys_touch(a: char, b: char) -> bool {
    const ROWS: [&str; 3] = ["azertyuiop", "qsdfghjklm", "wxcvbn"];
    let place = |c: char| {
        ROWS.iter()
            .enumerate()
            .find_map(|(row, keys)| keys.find(c).map(|column| (row, column)))
    };
    let (Some((row_a, col_a)), Some((row_b, col_b))) = (place(a), place(b)) else {
        return false;
    };
    // Each row sits half a key to the right of the one above it.
    match row_a.cmp(&row_b) {
        std::cmp::Ordering::Equal => col_a.abs_diff(col_b) == 1,
        std::cmp::Ordering::Less => row_b - row_a == 1 && (col_a == col_b || col_a == col_b + 1),
        std::cmp::Ordering::Greater => row_a - row_b == 1 && (col_b == col_a || col_b == col_a + 1),
    }
}

/// Whether two letters spell the same sound in French often enough to be
/// typed for each other (« budjet », « conseiller » / « conseiler »).
fn sound_alike(a: char, b: char) -> bool {
    const PAIRS: [(char, char); 9] = [
        ('g', 'j'),
        ('c', 'k'),
        ('c', 'q'),
        ('k', 'q'),
        ('c', 's'),
        ('s', 'z'),
        ('m', 'n'),
        ('i', 'y'),
        ('e', 'a'),
    ];
    PAIRS.contains(&(a, b)) || PAIRS.contains(&(b, a))
}

/// Adds each word of `text` (letters only, split at apostrophes and
/// hyphens) to `counts`.
fn count_words(text: &str, counts: &mut HashMap<String, usize>) {
    for word in text.split(|c: char| !c.is_alphabetic()) {
        if !word.is_empty() {
            *counts.entry(word.to_string()).or_default() += 1;
        }
    }
}

/// Adds to `continuations` each capitalised word of `text` that follows
/// another word directly (« Impulsion Développement »).
fn note_continuations(text: &str, continuations: &mut HashMap<String, Vec<String>>) {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()))
        .collect();
    for pair in words.windows(2) {
        let (before, name) = (pair[0], pair[1]);
        let is_name_part = name.chars().next().is_some_and(char::is_uppercase)
            && name.chars().all(char::is_alphabetic);
        if before.is_empty() || !is_name_part {
            continue;
        }
        let known = continuations.entry(fold(before)).or_default();
        if !known.iter().any(|k| k == name) {
            known.push(name.to_string());
        }
    }
}

/// The straight and the typographic apostrophe (phones type the latter).
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelling(text: &str) -> Spelling {
        Spelling::new(&[Passage::of_sentence("doc", text)])
    }

    /// What a tokenizer's vocabulary would hold whole, for these tests.
    fn is_word(word: &str) -> bool {
        ["revoir", "devoir", "tes", "laide", "pole"].contains(&word.to_lowercase().as_str())
    }

    impl Spelling {
        fn restored(&self, message: &str) -> String {
            self.restore(message, &is_word)
        }
    }

    #[test]
    fn a_name_cut_short_is_completed_when_one_name_goes_on_that_way() {
        let spelling = spelling(
            "Impulsion Développement finance les usines. Impulsion Conseil paie un \
             consultant. Impulsion Export et Impulsion Exposition aussi.",
        );
        assert_eq!(
            spelling.restored("impulsion dev cb minimum"),
            "impulsion Développement cb minimum"
        );
        // « Export » and « Exposition » both begin with « expo »; « ex »
        // is too short to tell.
        assert_eq!(spelling.restored("impulsion expo"), "impulsion expo");
        assert_eq!(spelling.restored("impulsion con"), "impulsion Conseil");
        assert_eq!(spelling.restored("impulsion co ok"), "impulsion co ok");
        // Not after another word, nor a word the documents use.
        assert_eq!(spelling.restored("le dev"), "le dev");
        assert_eq!(spelling.restored("impulsion paie"), "impulsion paie");
    }

    #[test]
    fn accents_and_acronyms_come_back_from_the_documents() {
        let spelling = spelling(
            "Le pôle TES (Transactions électroniques sécurisées) est à Caen. \
             La Région finance la région. Le TES aide l'IA.",
        );
        assert_eq!(
            spelling.restored("pole ia ca veut dire koi"),
            "pôle IA ca veut dire koi"
        );
        assert_eq!(
            spelling.restored("tes ki toi"),
            "tes ki toi",
            "a word, not the acronym"
        );
        assert_eq!(spelling.restored("la region"), "la région");
        assert_eq!(spelling.restored("Electroniques?"), "Électroniques?");
    }

    #[test]
    fn words_the_documents_write_as_typed_are_left_alone() {
        // « a » and « à », « la » and « là »: both French; short words too.
        let spelling = spelling("Il a marché jusqu'à la mer. Ça marche. Là-bas, des idées.");
        assert_eq!(spelling.restored("il a la"), "il a la");
        assert_eq!(spelling.restored("ca marche"), "ca marche");
        assert_eq!(spelling.restored("des idees"), "des idées");
        assert_eq!(spelling.restored("boulangerie bio"), "boulangerie bio");
    }

    #[test]
    fn one_slip_in_a_long_word_is_mended_and_short_words_are_not() {
        let spelling = spelling("Un consultant coûte 1 000 euros. La Région aide. Deux idées.");
        assert_eq!(spelling.restored("consultan cb"), "consultant cb");
        assert_eq!(spelling.restored("la regoin"), "la région");
        assert_eq!(
            spelling.restored("peux"),
            "peux",
            "one letter from « deux »"
        );
        let spelling = super::tests::spelling("Le devoir de prévoir.");
        assert_eq!(
            spelling.restored("au revoir"),
            "au revoir",
            "a word, not a slip"
        );
        assert_eq!(
            spelling.restored("a prevoi"),
            "a prevoi",
            "too short to mend"
        );
    }

    #[test]
    fn another_ending_or_another_word_is_no_slip() {
        let spelling = spelling(
            "Le budget couvre les salaires. Les équipes doivent rendre le dossier. \
             Il faut prévoir un devis, remboursé plus tard.",
        );
        assert_eq!(spelling.restored("le budjet"), "le budget", "sounds alike");
        assert_eq!(spelling.restored("les salaieres"), "les salaires");
        for typed in [
            "panneaux solaires",
            "ca rentre dans",
            "je prevois",
            "pour equiper",
            "se faire rembourser",
        ] {
            assert_eq!(spelling.restored(typed), typed);
        }
    }

    #[test]
    fn a_slip_goes_to_the_more_frequent_word_and_a_tie_is_left_as_typed() {
        // « consultant » is one letter from « consultants » and from
        // « consultante ».
        let tied = spelling("Des consultants et une consultante.");
        assert_eq!(tied.restored("consultant"), "consultant");
        let unequal = spelling("Des consultants et une consultante. Les consultants.");
        assert_eq!(unequal.restored("consultant"), "consultants");
    }

    #[test]
    fn elisions_typed_without_apostrophe_are_split() {
        let spelling = spelling("L'Atrium ouvre ses portes. Le pôle d'innovation.");
        assert_eq!(spelling.restored("latrium"), "l'atrium");
        assert_eq!(spelling.restored("dinnovation?"), "d'innovation?");
        assert_eq!(spelling.restored("l'atrium ouvre"), "l'atrium ouvre");
        assert_eq!(spelling.restored("l\u{2019}atrium"), "l\u{2019}atrium");
        assert_eq!(
            spelling.restored("d\u{2019}innovaton"),
            "d\u{2019}innovation"
        );
        assert_eq!(spelling.restored("lundi"), "lundi", "not « l'undi »");
        let spelling = super::tests::spelling("Une aide de la Région.");
        assert_eq!(spelling.restored("laide"), "laide", "a word: left as typed");
        assert_eq!(spelling.restored("laide?"), "laide?");
    }

    #[test]
    fn numbers_punctuation_and_unknown_words_pass_through() {
        let spelling = spelling("La subvention atteint 50 %.");
        assert_eq!(spelling.restored("50 % ?"), "50 % ?");
        assert_eq!(spelling.restored("  deux  espaces "), "  deux  espaces ");
        assert_eq!(spelling.restored("e-mail"), "e-mail");
        // Whatever is typed, nothing is cut inside a character.
        for odd in [
            "\u{2019}",
            "l\u{2019}",
            "\u{2019}\u{2019}a",
            "é\u{2019}é",
            "😀l\u{2019}😀",
            "ǆ\u{301}x",
            "qu\u{2019}",
        ] {
            spelling.restored(odd);
        }
    }
}
