//! French stop words for the analyzer, kept apart so the analyzer reads
//! as a pipeline.
//!
//! The list is lower-case and accent-folded because the filter runs after
//! folding: `où`, `même` and `à` are written `ou`, `meme`, `a`.

/// Words dropped from documents and queries alike.
#[rustfmt::skip]
pub(crate) const STOP_WORDS: &[&str] = &[
    // Tantivy's French list (Snowball), folded, without `ai` and `eu`.
    "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il",
    "je", "la", "le", "leur", "lui", "ma", "mais", "me", "meme", "mes", "moi", "mon", "ne", "nos",
    "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "sur",
    "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c", "d", "j", "l",
    "a", "m", "n", "s", "t", "y", "etee", "etees", "etant", "suis", "es", "etes", "sont", "serai",
    "seras", "sera", "serons", "serez", "seront", "serais", "serait", "serions", "seriez",
    "seraient", "etais", "etait", "etions", "etiez", "etaient", "fus", "fut", "fumes", "futes",
    "furent", "sois", "soit", "soyons", "soyez", "soient", "fusse", "fusses", "fussions", "fussiez",
    "fussent", "ayant", "eue", "eues", "eus", "avons", "avez", "ont", "aurai", "aurons", "aurez",
    "auront", "aurais", "aurait", "aurions", "auriez", "auraient", "avais", "avait", "aviez",
    "avaient", "eut", "eumes", "eutes", "eurent", "aie", "aies", "ait", "ayons", "ayez", "aient",
    "eusse", "eusses", "eussions", "eussiez", "eussent", "ceci", "cela", "cet", "cette", "ici",
    "ils", "les", "leurs", "quel", "quels", "quelle", "quelles", "sans", "soi",
    // Missing from that list: common auxiliaries and pronouns.
    "est", "as", "ete", "son", "elles", "ca", "celui", "celle", "ceux", "celles", "dont", "donc",
    "ni", "car", "si", "tout", "tous", "toute", "toutes", "jusqu", "lorsqu", "puisqu", "quoiqu",
    // Interrogatives: they shape the question, not its subject.
    "quand", "comment", "combien", "pourquoi", "quoi", "lequel", "laquelle", "lesquels",
    "lesquelles",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_folded_lower_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for word in STOP_WORDS {
            assert!(
                word.chars().all(|c| c.is_ascii_lowercase()),
                "{word} must be folded"
            );
            assert!(seen.insert(word), "{word} listed twice");
        }
        assert!(
            !STOP_WORDS.contains(&"ai") && !STOP_WORDS.contains(&"eu"),
            "AI and EU are content words here"
        );
    }
}
