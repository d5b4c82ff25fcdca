//! French sentence splitting for passages.
//!
//! The answer pipeline quotes whole sentences, so a wrong cut shows: a quote
//! that stops after « M. » or splits a guillemet quotation in two. The rules
//! are deliberately conservative: a boundary is a run of `. ! ? …`, optional
//! closing quotes or brackets, whitespace, then something that can start a
//! sentence (a capital, a digit or an opening quote). Words such as
//! `Normandie.ai`, URLs and decimals never match because their dots are not
//! followed by whitespace. Bullets (lines starting with `-`, `*`, `•`, `–`)
//! are sentences of their own. Pure functions; depends on nothing.

/// Words that end with a full stop without ending the sentence. Single
/// letters (initials, `p.`, `n.`) are handled separately.
const ABBREVIATIONS: &[&str] = &[
    "MM", "Mme", "Mmes", "Mlle", "Mlles", "Dr", "Drs", "Pr", "Me", "Mgr", "St", "Ste", "Sts", "Jr",
    "Cie", "Ets", "cf", "Cf", "pp", "art", "Art", "chap", "Chap", "vol", "Vol", "fig", "Fig", "éd",
    "coll", "env", "ex", "tél", "Tél", "av", "apr", "no", "No", "nº",
];

/// How far ahead (in bytes) a closing » may be for a terminator inside an
/// open « to be treated as part of the quotation rather than a boundary.
const QUOTE_LOOKAHEAD: usize = 200;

const TERMINATORS: &[char] = &['.', '!', '?', '…'];
const CLOSERS: &[char] = &['»', '"', '”', '’', ')', ']'];
const OPENERS: &[char] = &['«', '"', '“'];
const BULLETS: &[char] = &['-', '*', '•', '–', '—'];

/// Splits text into sentences, trimmed, in order, none empty.
///
/// Lines that start with a bullet marker start a new block and lose their
/// marker; other lines continue the current block. Each block is then split
/// at sentence boundaries (see the module documentation).
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    for block in bullet_blocks(text) {
        split_block(&block, &mut sentences);
    }
    sentences
}

/// Returns the line without its bullet marker when it is a bullet line.
pub(crate) fn strip_bullet(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let mut chars = trimmed.chars();
    let marker = chars.next()?;
    let rest = chars.as_str();
    if BULLETS.contains(&marker) && rest.starts_with(char::is_whitespace) {
        Some(rest.trim_start())
    } else {
        None
    }
}

/// Groups lines into blocks: a bullet line opens a block, a blank line closes
/// one, any other line continues the current block.
fn bullet_blocks(text: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let (content, starts_block) = match strip_bullet(line) {
            Some(rest) => (rest, true),
            None => (line.trim(), line.trim().is_empty()),
        };
        if starts_block && !current.trim().is_empty() {
            blocks.push(std::mem::take(&mut current));
        }
        if !content.is_empty() {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(content);
        }
    }
    if !current.trim().is_empty() {
        blocks.push(current);
    }
    blocks
}

/// Splits one block (no bullets left) into sentences appended to `out`.
fn split_block(block: &str, out: &mut Vec<String>) {
    let text = collapse_whitespace(block);
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !TERMINATORS.contains(&c) {
            continue;
        }
        // Consume the whole run of terminators ("?!", "...").
        let mut end = i + c.len_utf8();
        let mut run = c.to_string();
        while let Some(&(j, d)) = chars.peek() {
            if !TERMINATORS.contains(&d) {
                break;
            }
            run.push(d);
            end = j + d.len_utf8();
            chars.next();
        }
        let Some(boundary) = boundary_after(&text, i, end, &run) else {
            continue;
        };
        let sentence = text[start..boundary].trim();
        if !sentence.is_empty() {
            out.push(sentence.to_string());
        }
        start = boundary;
        // Skip what we consumed (closers) so the loop resumes after them.
        while chars.peek().is_some_and(|&(j, _)| j < boundary) {
            chars.next();
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail.to_string());
    }
}

/// Decides whether the terminator run `text[term_start..term_end]` ends a
/// sentence; returns the byte offset where the next sentence may start.
fn boundary_after(text: &str, term_start: usize, term_end: usize, run: &str) -> Option<usize> {
    // Closing quotes or brackets belong to the sentence that ends, including
    // the French spaced form `fini. »`.
    let mut end = term_end;
    loop {
        let rest = &text[end..];
        let mut it = rest.chars();
        match it.next() {
            Some(c) if CLOSERS.contains(&c) => end += c.len_utf8(),
            Some(' ') if it.next() == Some('»') => end += ' '.len_utf8() + '»'.len_utf8(),
            _ => break,
        }
    }
    let rest = &text[end..];
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let next = rest.trim_start().chars().next()?;
    if !(next.is_uppercase() || next.is_ascii_digit() || OPENERS.contains(&next)) {
        return None;
    }
    if run == "." && is_abbreviation(word_before(text, term_start)) {
        return None;
    }
    if inside_short_quotation(text, term_start, end) {
        return None;
    }
    Some(end)
}

/// The run of letters (and `º`) right before `pos`.
fn word_before(text: &str, pos: usize) -> &str {
    let head = &text[..pos];
    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphabetic() || c == 'º')
        .last()
        .map_or(pos, |(i, _)| i);
    &head[start..]
}

fn is_abbreviation(word: &str) -> bool {
    // Initials and one-letter abbreviations (M., p., n.) never end a sentence
    // in our documents; a sentence ending in a one-letter word is rarer.
    word.chars().count() == 1 || ABBREVIATIONS.contains(&word)
}

/// True when the terminator sits inside a « … » quotation whose closing
/// guillemet comes soon after, so the quotation stays in one sentence.
fn inside_short_quotation(text: &str, term_start: usize, end: usize) -> bool {
    let before = &text[..term_start];
    let open = before.matches('«').count();
    let closed = before.matches('»').count();
    if open <= closed {
        return false;
    }
    let ahead = &text[end..];
    let window_end = floor_char_boundary(ahead, QUOTE_LOOKAHEAD);
    let window = &ahead[..window_end];
    match (window.find('»'), window.find('«')) {
        (Some(close), Some(reopen)) => close < reopen,
        (Some(_), None) => true,
        _ => false,
    }
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        split_sentences(text)
    }

    #[test]
    fn splits_on_full_stop_before_capital() {
        assert_eq!(
            split("Le 9 octobre. Le DataLab était là."),
            ["Le 9 octobre.", "Le DataLab était là."]
        );
    }

    #[test]
    fn splits_on_exclamation_question_and_ellipsis() {
        assert_eq!(
            split("C'est le lauréat ! Qui l'eût cru ? Personne… Voilà."),
            [
                "C'est le lauréat !",
                "Qui l'eût cru ?",
                "Personne…",
                "Voilà."
            ]
        );
        assert_eq!(
            split("Vraiment ?! Oui... Bien."),
            ["Vraiment ?!", "Oui...", "Bien."]
        );
    }

    #[test]
    fn no_split_before_lower_case() {
        assert_eq!(
            split("Il a dit bonjour… et puis rien."),
            ["Il a dit bonjour… et puis rien."]
        );
        assert_eq!(split("Quoi ? rien du tout."), ["Quoi ? rien du tout."]);
    }

    #[test]
    fn splits_before_digit_and_opening_quote() {
        assert_eq!(
            split("Bilan 2025. 600 personnes sont venues."),
            ["Bilan 2025.", "600 personnes sont venues."]
        );
        assert_eq!(
            split("Le lauréat est connu. « Bravo » a dit le jury."),
            ["Le lauréat est connu.", "« Bravo » a dit le jury."]
        );
    }

    #[test]
    fn keeps_abbreviations() {
        assert_eq!(
            split("M. Dupont et Mme. Martin sont venus. Ils ont parlé."),
            ["M. Dupont et Mme. Martin sont venus.", "Ils ont parlé."]
        );
        assert_eq!(
            split("Voir le Dr. Petit et p. 12 du rapport."),
            ["Voir le Dr. Petit et p. 12 du rapport."]
        );
        assert_eq!(
            split("Le no. 5 et cf. Annexe B sont joints."),
            ["Le no. 5 et cf. Annexe B sont joints."]
        );
        assert_eq!(
            split("Texte de J. R. Martin publié."),
            ["Texte de J. R. Martin publié."]
        );
    }

    #[test]
    fn keeps_numbers_urls_and_dotted_names() {
        assert_eq!(
            split("Pi vaut 3,14 et la note 12.5 sur 20. Suite."),
            ["Pi vaut 3,14 et la note 12.5 sur 20.", "Suite."]
        );
        assert_eq!(
            split("Une initiative de l'association Normandie.ai et de la Région. Fin."),
            [
                "Une initiative de l'association Normandie.ai et de la Région.",
                "Fin."
            ]
        );
        assert_eq!(
            split("Voir https://www.normandie.fr/ia?x=1. Merci."),
            ["Voir https://www.normandie.fr/ia?x=1.", "Merci."]
        );
        assert_eq!(
            split("Écrire à datalab@normandie.fr pour tout savoir."),
            ["Écrire à datalab@normandie.fr pour tout savoir."]
        );
    }

    #[test]
    fn keeps_short_quotations_whole() {
        assert_eq!(
            split("Il a déclaré : « C'est fini. Nous partons. » Puis il est sorti."),
            [
                "Il a déclaré : « C'est fini. Nous partons. »",
                "Puis il est sorti."
            ]
        );
        assert_eq!(
            split("Le projet « Compétences à la carte » est lauréat ! Bravo."),
            [
                "Le projet « Compétences à la carte » est lauréat !",
                "Bravo."
            ]
        );
    }

    #[test]
    fn splits_inside_an_unclosed_quotation() {
        // No closing guillemet in sight: fall back to ordinary splitting.
        assert_eq!(
            split("« Début sans fin. Une autre phrase."),
            ["« Début sans fin.", "Une autre phrase."]
        );
    }

    #[test]
    fn closing_brackets_stay_with_their_sentence() {
        assert_eq!(
            split("Un outil (et la formation adaptée.) Ensuite rien."),
            ["Un outil (et la formation adaptée.)", "Ensuite rien."]
        );
        assert_eq!(
            split("Il dit « oui. » Elle dit non."),
            ["Il dit « oui. »", "Elle dit non."]
        );
    }

    #[test]
    fn accented_capitals_start_sentences() {
        assert_eq!(
            split("Fin du semestre. À venir début 2026. Évidemment."),
            ["Fin du semestre.", "À venir début 2026.", "Évidemment."]
        );
    }

    #[test]
    fn bullets_are_sentences() {
        let text = "À venir :\n- Webinaires en janvier 2026\n- Exposition le 12 février 2026.\nUne exposition immersive. Bienvenue\n* Dernier point";
        assert_eq!(
            split(text),
            [
                "À venir :",
                "Webinaires en janvier 2026",
                "Exposition le 12 février 2026.",
                "Une exposition immersive.",
                "Bienvenue",
                "Dernier point"
            ]
        );
    }

    #[test]
    fn hyphen_inside_a_line_is_not_a_bullet() {
        assert_eq!(
            split("Nord-Ouest - suite du texte."),
            ["Nord-Ouest - suite du texte."]
        );
        assert_eq!(strip_bullet("-5 degrés"), None);
        assert_eq!(strip_bullet("  • point"), Some("point"));
    }

    #[test]
    fn whitespace_and_empty_input() {
        assert!(split("").is_empty());
        assert!(split("  \n\n ").is_empty());
        assert_eq!(
            split("  Un   texte\n sur deux lignes.  "),
            ["Un texte sur deux lignes."]
        );
    }

    #[test]
    fn text_without_terminator_is_one_sentence() {
        assert_eq!(split("Ambition européenne"), ["Ambition européenne"]);
    }

    #[test]
    fn newsletter_paragraph() {
        let text = "La Région, au travers du DataLab Normandie, est partenaire du projet européen BOOST AI pour 3 ans. Ce projet, lauréat du programme Interreg Europe du Nord-Ouest, réunit 12 partenaires de 6 pays différents et a pour objectif de promouvoir l'utilisation d'outils d'IA (et la formation adaptée) au sein d'une centaine d'entreprises européennes bêta-testeuses.";
        let sentences = split(text);
        assert_eq!(sentences.len(), 2);
        assert!(sentences[0].ends_with("pour 3 ans."));
        assert!(sentences[1].starts_with("Ce projet, lauréat"));
        assert_eq!(sentences.join(" "), text);
    }

    #[test]
    fn multibyte_text_near_lookahead_limit_does_not_panic() {
        let long = format!("« Début. {} fin »", "É".repeat(300));
        assert_eq!(split(&long).len(), 2);
    }
}
