//! Visitors' French brought back to the written French of the documents,
//! before anything else reads the message.
//!
//! At the kiosk and on the website people type as they speak or text:
//! « c quoi », « qd », « koi », « ya », « combien de sous », « ma boite ».
//! The search engine folds accents and forgives one typo a word, and the
//! embedding model understands much of the rest, but the rules that read
//! the question (which kind of fact it asks for, small talk, follow-ups)
//! and BM25 need the words: « qd » must become « quand » for a date to be
//! expected. Only whole words that are unambiguous in a question are
//! rewritten; everything else is left exactly as typed.

/// Abbreviations and spoken spellings, each a whole word, with what the
/// documents would write.
const WORDS: &[(&str, &str)] = &[
    ("qd", "quand"),
    ("qand", "quand"),
    ("kan", "quand"),
    ("koi", "quoi"),
    ("koa", "quoi"),
    ("kwa", "quoi"),
    ("ki", "qui"),
    ("kel", "quel"),
    ("kelle", "quelle"),
    ("kels", "quels"),
    ("kelles", "quelles"),
    ("ke", "que"),
    ("pk", "pourquoi"),
    ("pq", "pourquoi"),
    ("pkoi", "pourquoi"),
    ("pourkoi", "pourquoi"),
    ("cmb", "combien"),
    ("cb", "combien"),
    ("cbien", "combien"),
    ("komben", "combien"),
    ("comen", "comment"),
    ("cmt", "comment"),
    ("cest", "c'est"),
    ("cetait", "c'était"),
    ("jai", "j'ai"),
    ("jsuis", "je suis"),
    ("chui", "je suis"),
    ("jpeux", "je peux"),
    ("jveux", "je veux"),
    ("jsais", "je sais"),
    ("lexpo", "l'exposition"),
    // « c'est quoi lia ? »: the documents' subject, its apostrophe lost;
    // too short for the spelling's elision rule, which needs a longer
    // word after the « l ».
    ("lia", "l'IA"),
    ("sest", "s'est"),
    ("ya", "il y a"),
    ("yaura", "il y aura"),
    ("yavait", "il y avait"),
    ("ds", "dans"),
    ("pr", "pour"),
    ("pke", "parce que"),
    ("tt", "tout"),
    ("tps", "temps"),
    ("tjrs", "toujours"),
    ("tjs", "toujours"),
    ("bcp", "beaucoup"),
    ("qqn", "quelqu'un"),
    ("qqch", "quelque chose"),
    ("qlq", "quelque"),
    ("auj", "aujourd'hui"),
    ("ajd", "aujourd'hui"),
    ("rdv", "rendez-vous"),
    ("vs", "vous"),
    ("svp", "s'il vous plaît"),
    ("stp", "s'il te plaît"),
    ("slt", "salut"),
    ("bjr", "bonjour"),
    ("bsr", "bonsoir"),
    ("mrc", "merci"),
    ("a+", "à plus"),
    ("@+", "à plus"),
    ("mci", "merci"),
    ("jsp", "je ne sais pas"),
    ("dispo", "disponible"),
    ("dispos", "disponibles"),
    ("expo", "exposition"),
    ("expos", "expositions"),
    ("infos", "informations"),
    ("info", "information"),
    ("asso", "association"),
    ("assos", "associations"),
    ("appli", "application"),
    ("labo", "laboratoire"),
    ("labos", "laboratoires"),
    ("boite", "entreprise"),
    ("boîte", "entreprise"),
    ("boites", "entreprises"),
    ("boîtes", "entreprises"),
    ("taf", "travail"),
    ("boulot", "travail"),
    ("thune", "argent"),
    ("fric", "argent"),
    ("sous", "argent"),
];

/// Words that, written alone as « c », stand for « c'est » when a question
/// word or a noun phrase follows (« c quoi », « c quand », « c ou »).
const AFTER_C: &[&str] = &[
    "quoi", "koi", "quand", "qd", "qui", "ki", "ou", "où", "combien", "comment", "quel", "quelle",
    "la", "le", "les", "un", "une", "pour", "combien", "a", "à", "en", "gratuit", "payant",
    "ouvert", "fini", "fermé", "ferme", "possible", "vrai",
];

/// `message` with visitors' spellings rewritten (see the module doc).
pub fn normalize(message: &str) -> String {
    let words: Vec<&str> = message.split_whitespace().collect();
    let lowered = |i: usize| words.get(i).map(|w| split_punctuation(w).0.to_lowercase());
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut skip_next = false;
    for (i, word) in words.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let (core, tail) = split_punctuation(word);
        let lower = core.to_lowercase();
        let next = lowered(i + 1);
        let asks_after = |at: usize| lowered(at).is_some_and(|n| AFTER_C.contains(&n.as_str()));
        let spelt_was = lower == "c" && next.as_deref() == Some("t");
        let replacement = if spelt_was && (i + 2 == words.len() || asks_after(i + 2)) {
            // « c t ou », « c t quand ? »: « c'était » spelt letter by letter.
            skip_next = true;
            let (_, tail) = split_punctuation(words[i + 1]);
            out.push(format!("c'était{tail}"));
            continue;
        } else if lower == "ct" && asks_after(i + 1) {
            Some("c'était")
        } else if lower == "c" && asks_after(i + 1) {
            Some("c'est")
        } else if lower == "sous" && !money_context(&out) {
            // « sous » is money only after « combien de », « des », « les »…
            None
        } else {
            WORDS
                .iter()
                .find(|(short, _)| *short == lower)
                .map(|(_, long)| *long)
        };
        match replacement {
            Some(long) => {
                // « combien de argent » → « combien d'argent ».
                let elides =
                    long.starts_with(['a', 'e', 'i', 'o', 'u', 'é']) && !long.contains(' ');
                match out.last_mut() {
                    Some(last) if elides && last.eq_ignore_ascii_case("de") => {
                        last.truncate(1);
                        last.push('\'');
                        last.push_str(&format!("{long}{tail}"));
                    }
                    _ => out.push(format!("{long}{tail}")),
                }
            }
            None => out.push((*word).to_string()),
        }
    }
    out.join(" ")
}

/// Whether the words so far make « sous » money (« combien de sous », « des
/// sous », « les sous », « elle a mis comme sous ») rather than the
/// preposition (« sous le pont »).
fn money_context(before: &[String]) -> bool {
    let last: Vec<String> = before
        .iter()
        .rev()
        .take(2)
        .map(|w| w.to_lowercase())
        .collect();
    match last.as_slice() {
        [one, ..]
            if matches!(
                one.as_str(),
                "des" | "les" | "mes" | "nos" | "vos" | "ses" | "leurs" | "comme"
            ) =>
        {
            true
        }
        [de, how] if (de == "de" || de == "d'") && how == "combien" => true,
        _ => false,
    }
}

/// A word and the punctuation that ends it (« qd? » → « qd », « ? »).
fn split_punctuation(word: &str) -> (&str, &str) {
    let end = word
        .char_indices()
        .rev()
        .take_while(|(_, c)| matches!(c, '?' | '!' | '.' | ',' | ';' | ':' | '…'))
        .last()
        .map_or(word.len(), |(i, _)| i);
    word.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_question_words_become_written_ones() {
        assert_eq!(normalize("c quoi le datalab"), "c'est quoi le datalab");
        assert_eq!(
            normalize("expo destination ia ca se termine qd ?"),
            "exposition destination ia ca se termine quand ?"
        );
        assert_eq!(normalize("C koi eulcat"), "c'est quoi eulcat");
        assert_eq!(
            normalize("pk la region aide les boites"),
            "pourquoi la region aide les entreprises"
        );
        assert_eq!(
            normalize("ya combien de startups?"),
            "il y a combien de startups?"
        );
        assert_eq!(normalize("kel montant max"), "quel montant max");
        assert_eq!(
            normalize("differé impulsion dev cb de tps"),
            "differé impulsion dev combien de temps"
        );
        assert_eq!(
            normalize("un labo peut porter combien"),
            "un laboratoire peut porter combien"
        );
        assert_eq!(normalize("mrc a+"), "merci à plus");
        assert_eq!(normalize("@+ !"), "à plus !");
        assert_eq!(
            normalize("jsuis dans lassurance jai droit a quoi"),
            "je suis dans lassurance j'ai droit a quoi"
        );
        assert_eq!(
            normalize("lexpo elle fini qd"),
            "l'exposition elle fini quand"
        );
        assert_eq!(
            normalize("les assises de lia c t ou"),
            "les assises de l'IA c'était ou"
        );
        assert_eq!(normalize("c t quand ?"), "c'était quand ?");
        assert_eq!(
            normalize("ct qui l'organisateur"),
            "c'était qui l'organisateur"
        );
    }

    #[test]
    fn money_is_money_only_where_it_is() {
        assert_eq!(
            normalize("la regoin a mis combien de sous dans l'atrium"),
            "la regoin a mis combien d'argent dans l'atrium"
        );
        assert_eq!(
            normalize("ils donnent des sous ?"),
            "ils donnent des argent ?"
        );
        assert_eq!(
            normalize("cb la region a mis comme sous dans latrium"),
            "combien la region a mis comme argent dans latrium"
        );
        assert_eq!(
            normalize("une aide sous conditions"),
            "une aide sous conditions"
        );
    }

    #[test]
    fn other_words_and_letters_are_left_as_typed() {
        let typed = "Quand ouvre l'exposition Destination IA ? Le C de CNRS";
        assert_eq!(normalize(typed), typed);
        assert_eq!(normalize("vitamine c"), "vitamine c");
        assert_eq!(
            normalize("c t rouge"),
            "c t rouge",
            "letters, not « c'était »"
        );
        assert_eq!(normalize("le ct du moteur"), "le ct du moteur");
        assert_eq!(normalize("  espaces   multiples "), "espaces multiples");
    }
}
