//! What kind of answer a question expects, read from its interrogative words.
//!
//! A sentence that shares the question's words but lacks the kind of fact
//! asked for (no amount for « combien coûte », no date for « quand ») does
//! not answer it: measured on this corpus, that check is what separates the
//! near-miss unanswerable questions from the answerable ones.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::search;

use super::synonyms;
use super::text::{self, fold, words};

/// Words that frame a request rather than say what it is about (« parle-moi
/// de », « je voudrais savoir »): they count neither for retrieval coverage
/// nor against it.
const SCAFFOLDING: &[&str] = &[
    "parle",
    "parler",
    "dis",
    "dire",
    "explique",
    "expliquer",
    "raconte",
    "présente",
    "voudrais",
    "aimerais",
    "savoir",
    "connaître",
    "information",
    "informations",
    "infos",
    "renseignement",
    "renseignements",
    "moi",
    "peux",
    "pouvez",
    "quoi",
];

static SCAFFOLDING_STEMS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    SCAFFOLDING
        .iter()
        .flat_map(|w| search::analyze(w))
        .collect()
});

static HOW_LONG: LazyLock<regex::Regex> =
    LazyLock::new(|| text::literal_regex(r"(?i)\bcombien\s+de\s+temps\b"));

/// « eu » after a form of « avoir » (« il y a eu », « ya eu », « ils ont
/// eu »): the auxiliary, not the EU the documents speak of.
static HAD: LazyLock<regex::Regex> = LazyLock::new(|| {
    text::literal_regex(r"(?i)\b(a|ya|ont|avait|avaient|avez|avons|ai|as|aura)\s+eu\b")
});

/// The distinct content terms of a question, as the index analyses them,
/// in order, without the words that only frame the request.
pub fn content_terms(question: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    // « combien de temps » asks a length as « quand » asks a date: « temps »
    // is no word a sentence that answers must hold.
    let question = HOW_LONG.replace_all(question, "combien");
    let question = HAD.replace_all(&question, "$1");
    search::analyze(&question)
        .into_iter()
        .filter(|t| !SCAFFOLDING_STEMS.contains(t) && seen.insert(t.clone()))
        .collect()
}

/// What the visitor says of their own situation before asking: « Je suis
/// boulangère avec 3 salariés, j'ai ouvert il y a 4 mois. » in front of
/// « Est-ce que je peux demander l'aide ? ». The clauses that speak in the
/// first person and ask nothing; the question itself is never among them.
/// The documents state the rules in general terms (« au moins 6 mois
/// d'activité »), so a sentence that answers need not repeat the
/// visitor's bakery or their four months.
pub fn situation_told(message: &str) -> String {
    let mut told: Vec<&str> = Vec::new();
    let sentences: Vec<&str> = message
        .split_inclusive(['.', '!', '?'])
        .filter(|s| !s.trim().is_empty())
        .collect();
    for (index, sentence) in sentences.iter().enumerate() {
        let asks = sentence.trim_end().ends_with('?') || index + 1 == sentences.len();
        if !asks {
            if speaks_of_oneself(sentence) {
                told.push(sentence);
            }
            continue;
        }
        let clauses: Vec<&str> = sentence.split([',', ';', ':']).collect();
        let leading = clauses.len().saturating_sub(1);
        told.extend(
            clauses[..leading]
                .iter()
                .filter(|clause| speaks_of_oneself(clause) && !asks_something(clause)),
        );
    }
    told.join(" ")
}

/// Whether a (folded) question asks if something is allowed: « je peux
/// (quand même) demander », « pouvons-nous solliciter », « cette prestation
/// peut-elle être financée », « est-il encore possible d'y candidater »,
/// « ai-je droit », « ça rentre dans », « pris en charge », « can we apply »,
/// « can that purchase be financed ». « Je peux visiter le lundi ? » asks
/// when it opens, so only the verbs of applying and including count after
/// « je peux ».
fn asks_whether_allowed(folded: &str) -> bool {
    static ALLOWED: LazyLock<regex::Regex> = LazyLock::new(|| {
        const MAY: &str = r"(?:(?:je|j|on|nous|il|elle|ca)\s+(?:peux|peut|pouvons|pourrais|pourrait|pourrions|puis|pourra|pourrai)|(?:peut|pouvons|pourrions|puis|pourrais|pourrait|pouvez|pourriez)[- ](?:on|nous|je|il|elle|vous))";
        const APPLY: &str = r"(?:avoir|demander|beneficier|candidater|postuler|obtenir|pretendre|mettre|inclure|prendre|deposer|cumuler|toucher|solliciter|presenter|utiliser)";
        const BE_FUNDED: &str = r"(?:financee?s?|aidee?s?|retenue?s?|prise?s? en compte|couverte?s?|soutenue?s?|subventionnee?s?|eligibles?)";
        const BE_FUNDED_EN: &str =
            r"(?:financed|funded|covered|included|counted|accepted|allowed|supported|eligible)";
        let pattern = format!(
            r"\b(?:{MAY}\s+(?:\S+\s+){{0,2}}?{APPLY}|peu(?:t|vent)(?:[- ](?:il|elle|ils|elles|on))?\s+(?:\S+\s+){{0,2}}?(?:financer|couvrir|etre\s+{BE_FUNDED})|possible d(?:e\s+|')(?:y\s+|en\s+)?(?:candidater|postuler|demander|beneficier|deposer|presenter)|droit a|eligibles?|rentre(?:nt|r)? dans|entre(?:nt|r)? dans|compte(?:nt|r)? dans|pris(?:e|es)? en charge|(?:me|nous|se) faire (?:rembourser|financer|aider|subventionner)|(?:can|could|may) (?:we|i) (?:\S+\s+)?(?:apply|get|claim|include|benefit|use)|(?:can|could|would|will) (?:\S+\s+){{0,3}}?be {BE_FUNDED_EN}|acceptable for|allowed to apply|am i eligible|are we eligible|qualify|qualifies|covered by)\b"
        );
        text::literal_regex(&pattern)
    });
    ALLOWED.is_match(folded)
}

fn speaks_of_oneself(clause: &str) -> bool {
    const FIRST_PERSON: [&str; 16] = [
        "je", "j", "jai", "moi", "mon", "ma", "mes", "nous", "notre", "nos", "i", "im", "my", "we",
        "our", "us",
    ];
    let folded = fold(clause);
    let speaks = words(&folded).any(|w| FIRST_PERSON.contains(&w));
    speaks
}

fn asks_something(clause: &str) -> bool {
    const ASKING: [&str; 29] = [
        "quel", "quelle", "quels", "quelles", "combien", "cb", "quand", "qd", "qui", "ki",
        "comment", "pourquoi", "peut", "peux", "puis", "pouvez", "possible", "what", "how", "when",
        "where", "who", "which", "why", "can", "could", "does", "will", "may",
    ];
    let folded = fold(clause);
    words(&folded).any(|w| ASKING.contains(&w))
        || folded.contains("est-ce")
        || folded.contains("est ce")
        || clause.contains('?')
}

/// The kind of fact a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerType {
    /// A price, cost, budget or amount of money.
    Amount,
    /// A length of time (« combien de temps », « durée »).
    Duration,
    /// How often (« tous les combien ? », « à quelle fréquence ? », « how
    /// often »): answered by « chaque mois », « deux fois par an ».
    Frequency,
    /// A count or a size (« combien », « nombre de », « effectif »,
    /// « surface »).
    Number,
    /// A share or a rate (« taux », « quel pourcentage », « cb de % »),
    /// answered by a percentage (or, for a rate, « à taux zéro »), not by
    /// an amount of money.
    Rate,
    /// A date (« quand », « quelle date », « en quelle année »).
    Date,
    /// A person or organisation (« qui »).
    Name,
    /// A place (« où »).
    Place,
    /// A way to get in touch: a telephone number, an e-mail or web address
    /// (« quel est le numéro de téléphone », « comment les contacter »).
    Contact,
    /// Whether something is allowed or may be applied for (« est-ce que je
    /// peux demander … ? », « ça rentre dans … ? », « can we apply? »):
    /// answered by a sentence that states a rule (a condition, a limit, an
    /// exclusion), not by the programme's description.
    Condition,
    /// Anything else: a definition, a list, a description.
    Open,
}

impl AnswerType {
    /// Reads the expected answer type from a question.
    pub fn of(question: &str) -> Self {
        let folded = fold(question);
        let tokens: Vec<&str> = words(&folded).collect();
        let has = |w: &str| tokens.contains(&w);
        let has_phrase = |phrase: &str| folded.contains(phrase);
        const CONTACT: [&str; 10] = [
            "telephone",
            "tel",
            "mail",
            "email",
            "courriel",
            "contacter",
            "joindre",
            "appeler",
            "adresse",
            "address",
        ];
        // A web site is asked for (« c'est quoi leur site web ») or only
        // talked about (« le site web et la traduction, ça marche ? »).
        let names_a_site = has_phrase("site web") || has_phrase("site internet") || has("website");
        let asks_which = ["quel", "quelle", "lien", "url", "what", "which", "quoi"]
            .iter()
            .any(|w| has(w));
        if CONTACT.iter().any(|w| has(w)) || names_a_site && asks_which {
            return Self::Contact;
        }
        // Keyword queries name the kind of figure (« Impulsion Conseil taux
        // subvention »); spoken ones put a sign in it (« cb de % »). « Le
        // prêt à taux zéro » and « the zero-rate loan » name the loan and ask
        // no rate.
        let names_a_rate = |word: &str, loan: &[&str]| {
            has(word)
                && folded.matches(word).count()
                    > loan.iter().map(|name| folded.matches(name).count()).sum()
        };
        let asks_share = names_a_rate("taux", &["taux zero"])
            || names_a_rate("rate", &["zero-rate", "zero rate"])
            || [
                "pourcentage",
                "percentage",
                "pourcent",
                "pourcents",
                "percent",
                "share",
            ]
            .iter()
            .any(|w| has(w))
            || has_phrase("quelle part")
            || asks_for_a_percent_sign(question);
        if asks_share {
            return Self::Rate;
        }
        const MONEY: [&str; 11] = [
            "prix",
            "cout",
            "coute",
            "coutent",
            "tarif",
            "tarifs",
            "budget",
            "montant",
            "plafond",
            "plafonnee",
            "combien d'euros",
        ];
        // What one receives (« combien je peux toucher ? »), as whole words:
        // « les aides touchées, sur combien d'années ? » asks a length.
        let asks_what_one_receives = ["toucher", "touche", "percevoir", "percoit"]
            .iter()
            .any(|w| has(w));
        // English visitors ask about the same French documents: their
        // question words set the kind of fact just as well.
        if MONEY.iter().any(|w| has(w) || has_phrase(w))
            || asks_what_one_receives
            || asks_whether_it_is_free(&tokens, &folded)
            || asks_how_much_was_spent(&tokens)
            || has("argent")
            || has_phrase("how much money")
            || has_phrase("how much does")
            || has_phrase("how much is")
            || has("price")
            || has("cost")
            || has("costs")
            || has("budget")
            || has("funding")
            || has("amount")
            || has("euros")
        {
            return Self::Amount;
        }
        if has_phrase("combien de temps")
            || has("duree")
            || has_phrase("pendant combien")
            || has_phrase("how long")
        {
            return Self::Duration;
        }
        if [
            "tous les combien",
            "toutes les combien",
            "chaque combien",
            "quelle frequence",
            "how often",
        ]
        .iter()
        .any(|p| has_phrase(p))
        {
            return Self::Frequency;
        }
        // « nombre d'ateliers » folds to the words « nombre », « d ».
        let names_a_number = tokens
            .windows(2)
            .any(|pair| pair[0] == "nombre" && matches!(pair[1], "de" | "d"));
        if has("combien")
            || names_a_number
            || has_phrase("quel nombre")
            || has_phrase("how many")
            || has("age")
            || has_phrase("how old")
            || has("effectif")
            || has("effectifs")
            || has("surface")
            || has("superficie")
            || (has("grand") || has("grande")) && has("comment")
        {
            return Self::Number;
        }
        let date_phrases = [
            "quelle date",
            "quel jour",
            "quel mois",
            "quelle annee",
            "date limite",
            "a quelle periode",
        ];
        // « quand même » is « all the same », not « when ».
        if has("quand") && !has_phrase("quand meme")
            || has("date")
            || has("annee")
            || date_phrases.iter().any(|p| has_phrase(p))
            || asks_which_weekdays(&tokens)
            || asks_the_hour(&tokens)
            || tokens.first().is_some_and(|w| *w == "when")
            || has_phrase("what date")
            || has_phrase("which year")
            || has_phrase("what year")
        {
            return Self::Date;
        }
        // « C'est pour qui ? », « Who is it for? » ask who may apply: a
        // kind of company or person, seldom a name.
        let asks_for_whom = has_phrase("pour qui")
            || tokens.first().is_some_and(|w| *w == "who") && tokens.last() == Some(&"for");
        if !asks_for_whom && (asks_who(&tokens) || tokens.first().is_some_and(|w| *w == "who")) {
            return Self::Name;
        }
        // « Lesquelles ? », « quels pays ? »: the things themselves, named.
        if ["lesquels", "lesquelles"].iter().any(|w| has(w))
            || has_phrase("which ones")
            || has_phrase("quels pays")
            || has_phrase("quel pays")
            || has_phrase("which countries")
        {
            return Self::Name;
        }
        // Keyword queries name the role instead of asking « qui ? »
        // (« Impulsion Conseil gestionnaire », « datalab présidente 2021 »).
        const ROLES: [&str; 12] = [
            "gestionnaire",
            "organisateur",
            "organisatrice",
            "president",
            "presidente",
            "directeur",
            "directrice",
            "fondateur",
            "fondatrice",
            "laureat",
            "laureate",
            "gagnant",
        ];
        if ROLES.iter().any(|w| has(w)) {
            return Self::Name;
        }
        // Spoken French puts « où » last (« les bureaux, c'est où ? ») or
        // after « c'est » (« c'est où l'expo ? »).
        if has("ou") && tokens.first().is_some_and(|w| *w == "ou" || *w == "et")
            || tokens.len() > 1 && tokens.last() == Some(&"ou")
            || tokens
                .windows(2)
                .any(|pair| matches!(pair, ["cest" | "c'est" | "est" | "etait" | "cetait", "ou"]))
            || has_phrase("dans quelle ville")
            || has_phrase("quel lieu")
            || tokens.first().is_some_and(|w| *w == "where")
            || ["which", "what"].iter().any(|w| {
                ["city", "town", "venue"]
                    .iter()
                    .any(|place| has_phrase(&format!("{w} {place}")))
            })
        {
            return Self::Place;
        }
        if asks_whether_allowed(&folded) {
            return Self::Condition;
        }
        Self::Open
    }

    /// The kind of fact asked by a question read in the documents'
    /// spelling (`read`), or by the visitor's own words (`typed`) when that
    /// spelling hides it: the documents never write « rentre », and their
    /// nearest word makes « ça rentre dans … ? » into « ça rendre dans … ? ».
    pub fn of_either(read: &str, typed: &str) -> Self {
        match Self::of(read) {
            Self::Open => Self::of(typed),
            asked => asked,
        }
    }

    /// Whether `text` brings the kind of fact asked for *beyond what the
    /// question already says*: a sentence that merely repeats the
    /// question's own names (« la Journée des IA… ») or numbers does not
    /// answer « qui ? » or « combien ? ».
    pub fn is_answered_by(self, text: &str, question: &str) -> bool {
        let folded_question = fold(question);
        let asked: Vec<&str> = words(&folded_question).collect();
        let is_new = |mention: &String| !asked.contains(&mention.as_str());
        match self {
            Self::Amount => {
                let asks_a_size = ["chiffre", "bilan", "turnover"]
                    .iter()
                    .any(|w| asked.contains(w));
                let mut not_paid: Vec<&str> = if asks_a_size {
                    Vec::new()
                } else if asks_what_a_visitor_pays(&asked) {
                    text::COMPANY_SIZES
                        .iter()
                        .chain(&text::INVESTING)
                        .chain(&text::FUNDING)
                        .copied()
                        .collect()
                } else {
                    text::COMPANY_SIZES.to_vec()
                };
                // « Quel est le budget de l'exposition ? » is not answered by
                // what was invested in the building that houses it.
                if asked.contains(&"budget") {
                    not_paid.extend(text::INVESTING);
                }
                tells_whether_it_is_free(text) || text::has_amount_other_than(text, &not_paid)
            }
            Self::Duration | Self::Frequency | Self::Condition | Self::Open => {
                self.is_satisfied_by(text)
            }
            Self::Number => {
                text::count_mentions(text).iter().any(is_new)
                    && speaks_of_what_is_counted(question, text)
            }
            Self::Date if asks_which_weekdays(&asked) => text::names_a_weekday(text),
            Self::Date if asks_the_hour(&asked) => text::tells_a_time_of_day(text),
            Self::Date => {
                text::date_mentions(text).iter().any(is_new)
                    && says_the_roles_asked(&asked, &fold(text), &EVENTS_ASKED)
            }
            // « Une seule entreprise peut-elle porter 80 % ? » is answered by
            // another share than the 80 % it names.
            // « Quel taux ? » of a loan is also answered in words: « à taux
            // zéro »; « cb de % » wants a percentage.
            Self::Rate => {
                let asked_rates = text::rate_mentions(question);
                let new_share = text::rate_mentions(text)
                    .iter()
                    .any(|rate| !asked_rates.contains(rate));
                let names_the_rate = ["taux", "rate"].iter().any(|w| asked.contains(w));
                // A zero rate is a loan's interest: it does not say how much
                // of the costs a grant covers (« taux de subvention »).
                let asks_a_grant_share = ["subvention", "grant"].iter().any(|w| asked.contains(w))
                    && !["pret", "loan", "interet", "interest"]
                        .iter()
                        .any(|w| asked.contains(w));
                new_share || names_the_rate && !asks_a_grant_share && text::has_zero_rate(text)
            }
            // « Où ? » is often answered by a common noun (« sur le stand
            // régional »), so no name is required; but the place must say
            // more than the question: « au siège de l'AD Normandie » does
            // not tell where that seat is.
            Self::Place => text::locative_phrases(text).iter().any(|phrase| {
                let folded = fold(phrase);
                const DETERMINERS: [&str; 9] = [
                    "les", "des", "une", "aux", "son", "ses", "leur", "cette", "ces",
                ];
                let new_word = words(&folded).any(|w| {
                    w.chars().count() >= 3
                        && !asked.contains(&w)
                        && !DETERMINERS.contains(&w)
                        && !text::MONTHS.contains(&w)
                        && !w.chars().all(|c| c.is_ascii_digit())
                });
                // « consacrée aux données de l'emploi », « dédié à l'IA »
                // situate nothing: a place is named (a new capitalised
                // word) or is a kind of place (« sur le stand régional »).
                let names_a_place = text::proper_names(&format!("à {phrase}"))
                    .iter()
                    .any(|name| {
                        let name = fold(name);
                        let is_new = words(&name).any(|w| !asked.contains(&w));
                        is_new
                    })
                    || words(&folded).any(|w| PLACES.contains(&w));
                new_word && names_a_place
            }),
            Self::Contact => text::has_contact(text),
            // « Qui dirige… ? » is answered by a sentence that says who leads
            // (« sa présidente était… »), « qui a gagné ? » by one that says
            // who won; not by one that only names a partner or a town.
            Self::Name => {
                let names_someone_new = text::proper_names(text).iter().any(|name| {
                    let folded = fold(name);
                    let is_new = words(&folded).any(|w| !asked.contains(&w));
                    is_new
                });
                let asks_for_countries = asked.windows(2).any(|pair| {
                    ["quel", "quels", "kel", "which", "what"].contains(&pair[0])
                        && ["pays", "country", "countries"].contains(&pair[1])
                });
                let told = fold(text);
                names_someone_new
                    && says_the_roles_asked(&asked, &told, &ROLES_ASKED)
                    && !names_only_a_deputy_of_the_body_asked(&asked, &told)
                    && (!asks_for_countries || text::names_a_country(text))
            }
        }
    }

    /// Whether `text` holds the kind of fact this type asks for.
    pub fn is_satisfied_by(self, text: &str) -> bool {
        match self {
            Self::Amount => text::has_amount(text) || tells_whether_it_is_free(text),
            Self::Duration => text::has_duration(text) || text::has_date(text),
            Self::Frequency => text::has_frequency(text),
            Self::Number => text::has_number(text),
            Self::Rate => !text::rate_mentions(text).is_empty() || text::has_zero_rate(text),
            Self::Date => text::has_date(text),
            Self::Name | Self::Place => text::has_name(text),
            Self::Contact => text::has_contact(text),
            Self::Condition => text::states_a_rule(text),
            Self::Open => true,
        }
    }
}

/// Common nouns that name a kind of place, for « où ? » answered without
/// a name (« sur le stand régional », « dans ses locaux »).
const PLACES: [&str; 20] = [
    "stand",
    "siege",
    "salle",
    "salles",
    "locaux",
    "batiment",
    "batiments",
    "campus",
    "site",
    "ville",
    "villes",
    "centre",
    "antenne",
    "bureau",
    "bureaux",
    "region",
    "departement",
    "ligne",
    "auditorium",
    "amphitheatre",
];

/// Words between « combien de temps » or « how long » and the thing
/// whose length is asked (« combien de temps dure la visite », « how long
/// does the visit take »).
const BEFORE_WHAT_LASTS: [&str; 17] = [
    "dure", "durent", "prend", "prennent", "faut", "il", "c", "est", "ca", "is", "does", "do",
    "will", "last", "take", "it", "you",
];

/// Verbs that say nothing of what takes time (« pour avoir une réponse »).
const LIGHT_VERBS: [&str; 9] = [
    "avoir", "etre", "faire", "obtenir", "recevoir", "get", "have", "be", "receive",
];

/// The thing whose length a question asks when it names it with an
/// article (« combien de temps la visite » → « visite ») or as an action
/// (« combien de temps pour visiter l'expo » → « visiter »); `None` when it
/// names none, or only with a demonstrative (« ce programme » is the topic
/// the sentences are already about).
fn duration_of<'a>(asked: &[&'a str]) -> Option<&'a str> {
    let after = asked
        .windows(3)
        .position(|w| w == ["combien", "de", "temps"])
        .map(|at| at + 3)
        .or_else(|| {
            asked
                .windows(2)
                .position(|w| w == ["how", "long"])
                .map(|at| at + 2)
        })?;
    let mut rest = asked[after..]
        .iter()
        .copied()
        .skip_while(|w| BEFORE_WHAT_LASTS.contains(w));
    let named = match rest.next()? {
        "la" | "le" | "l" | "les" | "une" | "un" | "the" | "a" | "an" => rest.next()?,
        "pour" | "to" => rest.next().filter(|verb| !LIGHT_VERBS.contains(verb))?,
        _ => return None,
    };
    (named.chars().count() >= 4).then_some(named)
}

/// Whether `context` (a passage with its heading) tells the length of
/// something else than what `question` asks the length of: « combien de
/// temps la visite ? » is not answered by how long the exhibition stays
/// open. The heading counts, as « Pendant un mois » is the Datathon's
/// length under the heading « Datathon Normandie 2025 ».
pub fn tells_the_length_of_something_else(question: &str, context: &str) -> bool {
    let folded = fold(question);
    let asked: Vec<&str> = words(&folded).collect();
    duration_of(&asked).is_some_and(|what| !names_a_word_like(&fold(context), what))
}

/// Whether folded `text` holds a word of `word`'s [`text::rough_stem`].
fn names_a_word_like(text: &str, word: &str) -> bool {
    let stem = text::rough_stem(word);
    words(text).any(|w| w.starts_with(&stem))
}

/// Words (folded) that say whether something costs: « c'est gratuit ? »,
/// « l'expo c'est payant », « assises de l'IA c'est gratos ? ». Asked at a
/// kiosk, such a question wants a price or the word that there is none, and
/// the sentence that only says where and when the exhibition is does not
/// answer it.
const FREE_OR_PAID: [&str; 11] = [
    "gratuit",
    "gratuite",
    "gratuits",
    "gratuites",
    "gratuitement",
    "gratos",
    "payant",
    "payante",
    "payants",
    "payantes",
    "tarification",
];

/// Whether a question asks if something is free or how much it costs
/// without a money word (« c'est gratuit ? », « is it free? », « billet »).
/// « free » alone is not enough: « free time », « feel free ».
fn asks_whether_it_is_free(tokens: &[&str], folded: &str) -> bool {
    tokens.iter().any(|w| {
        FREE_OR_PAID.contains(w)
            || matches!(
                *w,
                "billet" | "billets" | "ticket" | "tickets" | "fee" | "fees"
            )
    }) || [
        "is it free",
        "free of charge",
        "for free",
        "free entry",
        "free admission",
    ]
    .iter()
    .any(|phrase| folded.contains(phrase))
}

/// Whether a sentence says that something is free or paid for, which
/// answers « c'est gratuit ? » as well as a price does.
fn tells_whether_it_is_free(text: &str) -> bool {
    let folded = fold(text);
    words(&folded).any(|w| FREE_OR_PAID.contains(&w))
        || [
            "entree libre",
            "acces libre",
            "sans frais",
            "free of charge",
        ]
        .iter()
        .any(|phrase| folded.contains(phrase))
}

/// Words (folded, French and English) that say who leads a body
/// (« vice-présidente » folds to « vice », « presidente »).
pub const LEADING: [&str; 30] = [
    "dirige",
    "dirigee",
    "dirigent",
    "diriger",
    "directeur",
    "directrice",
    "president",
    "presidente",
    "presidents",
    "preside",
    "presidee",
    "copresident",
    "copresidente",
    "copresidents",
    "responsable",
    "chef",
    "patron",
    "patronne",
    "pdg",
    "director",
    "chair",
    "chairs",
    "chairing",
    "chairman",
    "chairwoman",
    "ceo",
    "leads",
    "runs",
    "anime",
    "animee",
];

/// Words (folded, French and English) that say who won.
const WINNING: [&str; 15] = [
    "gagne",
    "gagnant",
    "gagnante",
    "gagnants",
    "laureat",
    "laureate",
    "laureats",
    "remporte",
    "vainqueur",
    "vainqueurs",
    "prime",
    "primee",
    "won",
    "winner",
    "winners",
];

/// Words (folded, French and English) that say who organised something: « qui
/// organise le datathon ? » is not answered by the sentence that only dates
/// it. An event is also « une initiative portée par » its organiser.
const ORGANISING: [&str; 20] = [
    "organise",
    "organisee",
    "organises",
    "organisees",
    "organisent",
    "organisait",
    "organisaient",
    "organisateur",
    "organisatrice",
    "organisateurs",
    "organised",
    "organized",
    "organiser",
    "organizer",
    "organisers",
    "organizers",
    "organising",
    "organizing",
    "initiative",
    "portee",
];

/// Words (folded, French and English) that say who spoke at an event: the
/// organiser of a conference is not its speaker.
const SPEAKING: [&str; 14] = [
    "intervenant",
    "intervenante",
    "intervenants",
    "intervenantes",
    "conferencier",
    "conferenciere",
    "conferenciers",
    "orateur",
    "oratrice",
    "orateurs",
    "speaker",
    "speakers",
    "keynote",
    "keynotes",
];

/// Roles a « qui ? » asks about, each as the words that say it: a
/// sentence answers such a question only if it says the same role.
const ROLES_ASKED: [&[&str]; 4] = [&LEADING, &WINNING, &ORGANISING, &SPEAKING];

/// Words (folded, French and English) that say something was created or
/// launched.
const CREATING: [&str; 20] = [
    "cree",
    "creee",
    "crees",
    "creees",
    "creer",
    "creation",
    "fonde",
    "fondee",
    "fondes",
    "fondation",
    "naissance",
    "lance",
    "lancee",
    "lancement",
    "founded",
    "founding",
    "created",
    "established",
    "launched",
    "launch",
];

/// Events a « quand ? » asks the date of, each as the words that say it:
/// « l'année de création » is not answered by the date an antenna opened.
const EVENTS_ASKED: [&[&str]; 1] = [&CREATING];

/// Whether `question` asks who leads a body (« qui dirige », « la
/// présidente »).
pub fn asks_who_leads(question: &str) -> bool {
    let folded = fold(question);
    let found = words(&folded).any(|w| LEADING.contains(&w));
    found
}

/// The verb of a « who did it? » question (« qui organisait les
/// assises ? », « c'est qui qui anime l'Atrium ? », « who organised… »),
/// folded: the word after « qui » or « who », past an auxiliary.
pub fn verb_asked_who(question: &str) -> Option<String> {
    const AUXILIARIES: [&str; 10] = [
        "a", "ont", "avait", "est", "sont", "s", "se", "was", "were", "has",
    ];
    // Keyword queries name the doer instead (« Assises IA organisateur »,
    // « Impulsion Conseil gestionnaire »): the noun says the verb.
    const DOERS: [&str; 6] = [
        "organisateur",
        "organisatrice",
        "organizer",
        "gestionnaire",
        "animateur",
        "financeur",
    ];
    let folded = fold(question);
    let tokens: Vec<&str> = words(&folded).collect();
    let Some(at) = tokens
        .iter()
        .rposition(|w| matches!(*w, "qui" | "ki" | "who"))
    else {
        return tokens
            .iter()
            .find(|w| DOERS.contains(w))
            .map(|w| w.to_string());
    };
    tokens[at + 1..]
        .iter()
        .find(|w| !AUXILIARIES.contains(w))
        .filter(|w| w.chars().count() >= 4)
        .map(|w| w.to_string())
}

/// Whether `text` (folded) says every one of `roles` (each as the words
/// that say it) that the question's words `asked` ask about.
fn says_the_roles_asked(asked: &[&str], text: &str, roles: &[&[&str]]) -> bool {
    let told: Vec<&str> = words(text).collect();
    roles.iter().all(|role| {
        !asked.iter().any(|w| role.contains(w))
            || (0..told.len()).any(|at| says_role_at(&told, at, role))
    })
}

/// Words between a role and the body it is held in: « président *de la*
/// Région », « president *of the* Region », « qui dirige *la* French Tech ».
const BETWEEN_ROLE_AND_BODY: [&str; 10] =
    ["de", "du", "des", "d", "la", "le", "l", "les", "of", "the"];

/// The first word of the body whose leader is asked (« region » in
/// « c qui le président de la région »), if the question names one.
fn body_of_the_role_asked<'a>(asked: &[&'a str]) -> Option<&'a str> {
    let at = asked.iter().position(|w| LEADING.contains(w))?;
    asked[at + 1..]
        .iter()
        .find(|w| !BETWEEN_ROLE_AND_BODY.contains(w))
        .copied()
}

/// Whether the body asked about appears in `told` (folded) only as that of
/// a deputy: « Sa présidente était alors Julie Barenton-Guillas,
/// vice-présidente de la Région » names the DataLab's president, and the
/// Region's vice-president, not the Region's president.
fn names_only_a_deputy_of_the_body_asked(asked: &[&str], told: &str) -> bool {
    let Some(body) = body_of_the_role_asked(asked) else {
        return false;
    };
    let told: Vec<&str> = words(told).collect();
    let mentions: Vec<usize> = (0..told.len()).filter(|&at| told[at] == body).collect();
    let deputy_of = |at: usize| {
        let role = told[..at]
            .iter()
            .rposition(|w| !BETWEEN_ROLE_AND_BODY.contains(w));
        role.is_some_and(|r| r > 0 && LEADING.contains(&told[r]) && told[r - 1] == "vice")
    };
    !mentions.is_empty() && mentions.iter().all(|&at| deputy_of(at))
}

/// Whether word `at` of `words` (folded) is one of `role`'s, said of the
/// holder: a « vice-présidente » does not preside, so « qui préside la
/// Région ? » is not answered by the DataLab's vice-president.
pub(crate) fn says_role_at(words: &[&str], at: usize, role: &[&str]) -> bool {
    role.contains(&words[at]) && (at == 0 || words[at - 1] != "vice")
}

/// « cb de % », « quel % »: the sign itself is asked for, where « 35 % »
/// only states a share.
///
/// The word just before the sign decides, as a whole word: « tout le monde
/// % » does not ask because « monde » ends in « de ».
fn asks_for_a_percent_sign(question: &str) -> bool {
    let lower = question.to_lowercase();
    lower.match_indices('%').any(|(at, _)| {
        let before = lower[..at].trim_end();
        let word = before
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or_default();
        let elided = ["d'", "d’"].iter().any(|of| word.ends_with(of));
        elided || ["de", "cb", "combien", "quel", "quelle", "what"].contains(&word)
    })
}

/// What « combien de X » or « nombre de X » counts: `X`, folded (« pays » of « combien de
/// pays participent ? »); none for other questions.
pub fn counted_noun(question: &str) -> Option<String> {
    let folded = fold(question);
    let mut words = words(&folded).skip_while(|w| !matches!(*w, "combien" | "cb" | "nombre"));
    words.next()?;
    match words.next()? {
        "de" | "d" => words.next().map(str::to_string),
        _ => None,
    }
}

/// The things whose names a question asks for, folded: « entreprises » in
/// « quelles entreprises participent ? », « which companies… », « quels
/// sont les partenaires ? », and in « ya des boîtes normandes ?
/// lesquelles ? » the noun « lesquelles » stands for. A sentence that only
/// counts them (« une centaine d'entreprises ») does not say which.
pub fn instances_asked(question: &str) -> Option<String> {
    const WHICH: [&str; 4] = ["quels", "quelles", "which", "what"];
    const LINKS: [&str; 6] = ["sont", "etaient", "are", "were", "les", "the"];
    // Plural words that are no things named: verbs and « ones ».
    const NOT_NAMED: [&str; 4] = ["does", "ones", "sont", "etaient"];
    let folded = fold(question);
    let asked: Vec<&str> = words(&folded).collect();
    let is_plural_noun = |word: &str| {
        word.chars().count() >= 4
            && (word.ends_with('s') || word.ends_with('x'))
            && !NOT_NAMED.contains(&word)
    };
    let after_which = asked
        .iter()
        .position(|w| WHICH.contains(w))
        .and_then(|at| asked[at + 1..].iter().find(|w| !LINKS.contains(w)))
        .filter(|word| is_plural_noun(word));
    let which_ones = || {
        let at = asked
            .iter()
            .position(|w| matches!(*w, "lesquels" | "lesquelles"))?;
        let des = asked[..at].iter().rposition(|w| *w == "des")?;
        asked.get(des + 1).filter(|word| is_plural_noun(word))
    };
    after_which.or_else(which_ones).map(|noun| noun.to_string())
}

/// The nouns an English question counts in what the visitor tells of
/// themselves (« we plan to add 40 permanent jobs » → « jobs »), folded:
/// the documents say « emplois », so they are matched by meaning.
pub fn counts_told_in_english(question: &str) -> Vec<String> {
    let folded = fold(question);
    let asked: Vec<&str> = words(&folded).collect();
    asked
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().all(|c| c.is_ascii_digit()))
        .filter_map(|(at, _)| {
            asked[at + 1..]
                .iter()
                .find(|w| !text::BETWEEN_A_COUNT_AND_ITS_NOUN.contains(w))
                .filter(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
                .map(|w| w.to_string())
        })
        .collect()
}

/// What « how many X » counts: `X`, folded (« jobs » of « how many jobs
/// were created? »); none for other questions, and none when any count
/// answers (« how many people »).
pub fn counted_noun_in_english(question: &str) -> Option<String> {
    let folded = fold(question);
    let asked: Vec<&str> = words(&folded).collect();
    let at = asked.windows(2).position(|pair| pair == ["how", "many"])?;
    let noun = *asked.get(at + 2)?;
    let singular = noun.strip_suffix('s').unwrap_or(noun);
    (!ANY_COUNT_IN_ENGLISH.contains(&singular)).then(|| noun.to_string())
}

/// Words that say what kind of fact is asked, not what it is about: « quel
/// jour », « quelle année », « ya eu cb de monde », « c'est grand
/// comment », « le plafond », « cb de pourcent ». The sentence that answers
/// says the date, the count or the amount, seldom these words. (Not
/// « durée »: its stem is that of « dure », which the sentence that tells a
/// length holds, « pendant un mois », by [`super::synonyms`].)
const KIND_WORDS: [&str; 31] = [
    "jour",
    "date",
    "annee",
    "heure",
    "horaire",
    "horaires",
    "moment",
    "periode",
    "nombre",
    "monde",
    "effectif",
    "effectifs",
    "taille",
    "grand",
    "grande",
    "surface",
    "superficie",
    "age",
    "taux",
    "pourcentage",
    "pourcent",
    "montant",
    "prix",
    "cout",
    "somme",
    "argent",
    "plafond",
    "lieu",
    "endroit",
    "ville",
    "frequence",
];

static KIND_STEMS: LazyLock<HashSet<String>> =
    LazyLock::new(|| KIND_WORDS.iter().flat_map(|w| search::analyze(w)).collect());

/// The content terms of `question` (see [`content_terms`]) that only say
/// what kind of fact it asks, when it asks a kind (`answer_type`): none
/// for an open question, where « le lieu » or « la taille » may be the
/// topic.
pub fn words_of_the_kind_asked(question: &str, answer_type: AnswerType) -> HashSet<String> {
    if matches!(answer_type, AnswerType::Open | AnswerType::Condition) {
        return HashSet::new();
    }
    content_terms(question)
        .into_iter()
        .filter(|t| KIND_STEMS.contains(t))
        .collect()
}

/// Whether a question asks how much money someone spent: « combien la
/// Région a investi dans l'Atrium ? », « how much did the Region
/// invest? ». The verb says money is counted, not the place's surface;
/// « combien de projets financés » counts projects. The infinitive is left
/// out: « il faut investir combien pour y avoir droit ? » asks a
/// threshold, which a count already answers.
fn asks_how_much_was_spent(asked: &[&str]) -> bool {
    const SPENDING: [&str; 15] = [
        "investi", "investie", "investis", "investit", "depense", "depensee", "verse", "versee",
        "finance", "financee", "invest", "invested", "spend", "spent", "paid",
    ];
    let asks_how_much = asked
        .windows(2)
        .any(|pair| pair[0] == "combien" && !matches!(pair[1], "de" | "d"))
        || asked.last() == Some(&"combien")
        || asked.windows(2).any(|pair| pair == ["how", "much"]);
    asks_how_much && asked.iter().any(|w| SPENDING.contains(w))
}

/// Whether a question asks what a visitor pays (« et ça coûte combien
/// l'entrée ? », « le billet »), not what something cost to build (« ça a
/// coûté combien ? »): what a funder put in is no price.
fn asks_what_a_visitor_pays(asked: &[&str]) -> bool {
    const PRICE: [&str; 8] = [
        "entree",
        "billet",
        "billets",
        "tarif",
        "tarifs",
        "ticket",
        "tickets",
        "admission",
    ];
    let costs_now = asked.iter().enumerate().any(|(at, w)| {
        matches!(*w, "coute" | "coutent")
            && !(at > 0 && matches!(asked[at - 1], "a" | "ont" | "avait" | "aura"))
    });
    costs_now || asked.iter().any(|w| PRICE.contains(w))
}

/// Whether a question (folded words) asks on which days of the week
/// something is open or held: « c'est ouvert quels jours ? », « ouvert le
/// lundi ? », « open on Mondays? ». A calendar date does not answer it.
pub fn asks_which_weekdays(asked: &[&str]) -> bool {
    let names_a_weekday = asked.iter().any(|w| text::WEEKDAYS.contains(w));
    let which_days = asked.windows(2).any(|pair| {
        matches!(pair[0], "quels" | "quel" | "which" | "what")
            && matches!(pair[1], "jours" | "days")
    });
    // « What time does it open on Sundays? » asks an hour.
    let speaks_of_hours = asked.iter().any(|w| {
        matches!(
            *w,
            "heure" | "heures" | "horaire" | "horaires" | "time" | "hours"
        )
    });
    (names_a_weekday || which_days) && !speaks_of_hours
}

/// Whether a question (folded words) asks a time of day: « c ouvert à
/// quelle heure ? », « les horaires ? », « what time does it open? ». A
/// date or the days it is open do not answer it, and the documents may
/// give none: « Normandie Incubation a ouvert une antenne en janvier
/// 2013 » is no opening hour.
pub fn asks_the_hour(asked: &[&str]) -> bool {
    asked.iter().any(|w| matches!(*w, "horaire" | "horaires"))
        || asked.windows(2).any(|pair| {
            matches!(
                (pair[0], pair[1]),
                ("quelle" | "quel", "heure" | "heures")
                    | ("what", "time")
                    | ("opening", "hours" | "times")
            )
        })
}

/// Counted nouns that any count of people, members or times answers: « ya
/// eu cb de monde ? » is answered by « plus de 600 décideurs, experts et
/// élus », « combien de membres ? » by « une centaine d'entreprises »,
/// « combien de salariés ? » by « 56 agents ». (Not « employés »: its
/// first letters are those of « emplois », which a count of people does
/// not answer.)
const ANY_COUNT: [&str; 13] = [
    "personne",
    "persone",
    "gens",
    "monde",
    "fois",
    "people",
    "participant",
    "inscrit",
    "membre",
    "adherent",
    "salarie",
    "agent",
    "collaborateur",
];

/// The English nouns that count people or times, which any such count
/// answers, as [`ANY_COUNT`] says for French, and units of time, which ask
/// a length (« how many years » is answered by « sur 5 ans »); singular,
/// since a noun before another says what kind (« member organisations »).
const ANY_COUNT_IN_ENGLISH: [&str; 18] = [
    "people",
    "person",
    "participant",
    "attendee",
    "member",
    "staff",
    "employee",
    "worker",
    "agent",
    "visitor",
    "time",
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
];

/// Whether `text` speaks of what `question` counts, when it counts a
/// kind of thing (« combien d'ateliers ? »): « plus de 600 professionnels
/// étaient attendus » counts people, not workshops, and does not answer.
/// The word may be inflected, misspelt by one letter or said in another
/// word of the same meaning (see [`super::synonyms`]).
fn speaks_of_what_is_counted(question: &str, text: &str) -> bool {
    let Some(noun) = counted_noun(question) else {
        return true;
    };
    let stem = text::rough_stem(&noun);
    let counts_anything = ANY_COUNT.iter().any(|w| w.starts_with(&stem));
    let asked = search::analyze(&noun);
    if counts_anything || asked.is_empty() || noun.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    // The noun must be what a number of the sentence counts, a few words
    // after it in the same clause (« plus de 600 professionnels, experts et
    // décideurs »): « Il a apporté des financements de Bpifrance » names
    // financing but counts none, and « plus de 200 acteurs » counts actors.
    let stem = text::rough_stem(&noun);
    let is_the_noun = |word: &str| {
        word.starts_with(&stem) || {
            let told: HashSet<String> = search::analyze(word).into_iter().collect();
            synonyms::coverage(&asked, &told) == 1.0
        }
    };
    let folded = fold(text);
    folded.split(['.', ';', ':', '!', '?']).any(|clause| {
        let tokens: Vec<&str> = words(clause).collect();
        tokens.iter().enumerate().any(|(at, token)| {
            (token.chars().all(|c| c.is_ascii_digit()) || text::is_number_word(token))
                && tokens[at + 1..]
                    .iter()
                    .take(COUNTED_WITHIN)
                    .any(|word| is_the_noun(word))
        })
    })
}

/// How many words after a number the noun it counts may come: « 600
/// professionnels, experts et décideurs ».
const COUNTED_WITHIN: usize = 5;

/// The years a question names (« en 2024 »): a passage that mentions none
/// of them speaks of another period, and does not answer.
pub fn years_named(question: &str) -> Vec<String> {
    text::years(question)
}

/// Whether `quote` speaks of another year than those the question names
/// (`years`): it names years, and none of them is asked for. « Le budget
/// en 2024 ? » is not answered by the 2018 budget.
pub fn tells_another_year(years: &[String], quote: &str) -> bool {
    let told = text::years(quote);
    !years.is_empty() && !told.is_empty() && !told.iter().any(|year| years.contains(year))
}

/// Whether `quote` speaks of another rank than those the question names
/// (`asked`, see [`text::ranks`]): « la première édition, c'était quand ? »
/// is not answered by the date of the 2e.
pub fn tells_another_rank(asked: &[u32], quote: &str) -> bool {
    let told = text::ranks(quote);
    !asked.is_empty() && !told.is_empty() && !told.iter().any(|rank| asked.contains(rank))
}

/// Whether `context` (a passage with its headings and date) names every
/// year in `years`.
pub fn names_every_year(years: &[String], context: &str) -> bool {
    let found = text::years(context);
    years.iter().all(|year| found.contains(year))
}

/// « qui » as an interrogative: at the start, after a preposition, or in
/// « c'est qui ». A relative « qui » (« le projet qui a gagné ») is not one.
fn asks_who(tokens: &[&str]) -> bool {
    const PREPOSITIONS: [&str; 7] = ["par", "a", "avec", "de", "pour", "chez", "est"];
    tokens.iter().enumerate().any(|(i, w)| {
        *w == "qui"
            && (i == 0
                || (i == 1 && matches!(tokens[0], "et" | "mais" | "alors"))
                || PREPOSITIONS.contains(&tokens[i - 1]))
    })
}

/// Whether the question asks how things are *now* (« le directeur
/// actuel », « aujourd'hui », « en ce moment », « currently »): a sentence
/// that tells how they were then does not answer it.
pub fn asks_about_now(question: &str) -> bool {
    let folded = fold(question);
    let tokens: Vec<&str> = words(&folded).collect();
    const NOW: [&str; 12] = [
        "actuel",
        "actuelle",
        "actuels",
        "actuelles",
        "actuellement",
        "aujourd'hui",
        "maintenant",
        "desormais",
        "currently",
        "current",
        "now",
        "today",
    ];
    tokens.iter().any(|w| NOW.contains(w))
        || [
            "en ce moment",
            "a ce jour",
            "aujourd",
            "cette annee",
            "this year",
        ]
        .iter()
        .any(|phrase| folded.contains(phrase))
}

/// Whether `text` tells how things were at a past time: a verb in the
/// imperfect or the past (« comptait », « était », « a été ») or a year
/// before `today_year`.
pub fn tells_the_past(text: &str, today_year: i32) -> bool {
    let folded = fold(text);
    const PAST: [&str; 16] = [
        "etait",
        "etaient",
        "comptait",
        "comptaient",
        "avait",
        "avaient",
        "fut",
        "furent",
        "dirigeait",
        "regroupait",
        "employait",
        "ancien",
        "ancienne",
        "anciens",
        "premier",
        "premiere",
    ];
    // « a été », « ont été »: the passé composé of « être ».
    let tokens: Vec<&str> = words(&folded).collect();
    let passe_compose = tokens
        .windows(2)
        .any(|pair| matches!(pair, ["a" | "ont", "ete"]));
    tokens.iter().any(|w| PAST.contains(w))
        || passe_compose
        || text::years(text)
            .iter()
            .filter_map(|y| y.parse::<i32>().ok())
            .any(|year| year < today_year - 1)
}

/// Whether the question asks about what comes next (« la prochaine
/// édition », « le prochain Datathon », « à venir », « next »): a sentence
/// that tells what already happened does not answer it, and its date would
/// send a visitor to an event that is over.
pub fn asks_about_what_comes_next(question: &str) -> bool {
    let folded = fold(question);
    let tokens: Vec<&str> = words(&folded).collect();
    const NEXT: [&str; 8] = [
        "prochain",
        "prochaine",
        "prochains",
        "prochaines",
        "next",
        "upcoming",
        "futur",
        "future",
    ];
    tokens.iter().any(|w| NEXT.contains(w)) || tokens.windows(2).any(|pair| pair == ["a", "venir"])
}

/// Whether `text` tells what already happened: what [`tells_the_past`]
/// reads, or a verb in the passé composé with « avoir » (« a eu lieu »,
/// « a organisé », « ont conçu »), told from « a lieu » (it takes place)
/// and from « à » by its accent.
pub fn tells_what_happened(text: &str, today_year: i32) -> bool {
    const AUXILIARIES: [&str; 5] = ["a", "ont", "ai", "avons", "avez"];
    const IRREGULAR: [&str; 10] = [
        "eu", "fait", "pris", "mis", "dit", "ouvert", "offert", "écrit", "conçu", "permis",
    ];
    const ENDINGS: [&str; 10] = ["é", "ée", "és", "ées", "i", "ie", "is", "u", "ue", "us"];
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let passe_compose = tokens.windows(2).any(|pair| {
        let participle = pair[1];
        AUXILIARIES.contains(&pair[0])
            && participle != "lieu"
            && participle.chars().count() >= 2
            && (IRREGULAR.contains(&participle) || ENDINGS.iter().any(|e| participle.ends_with(e)))
    });
    passe_compose || tells_the_past(text, today_year)
}

/// One end of a period: when it starts, or when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodEnd {
    /// « à partir de quand », « depuis quand », « since when ».
    Start,
    /// « jusqu'à quand », « date limite », « deadline ».
    End,
}

/// Which end of a period the question asks for, if it asks for one.
pub fn period_end_asked(question: &str) -> Option<PeriodEnd> {
    let folded = text::spaced_words(question);
    // « Quand ferme l'expo », « when does the exhibition close » ask for
    // its last day as « jusqu'à quand » does; « quand ouvre » for its first.
    const END: [&str; 24] = [
        " jusqu a quand ",
        " jusqua quand ",
        " date limite ",
        " deadline ",
        " until when ",
        " se termine ",
        " se terminent ",
        " prend fin ",
        " closing date ",
        " last day ",
        " when does it end ",
        " finit ",
        // « elle fini qd », as it is often typed.
        " fini ",
        " finira ",
        " termine ",
        " terminera ",
        " ferme ",
        " fermera ",
        " close ",
        " closes ",
        " end ",
        " ends ",
        " finish ",
        " finishes ",
    ];
    const START: [&str; 18] = [
        " a partir de quand ",
        " a partir de quelle ",
        " depuis quand ",
        " since when ",
        " from when ",
        " quand commence ",
        " quand commencent ",
        " date de debut ",
        " start date ",
        " when does it start ",
        " commence ",
        " commencera ",
        " ouvre ",
        " ouvrira ",
        " start ",
        " starts ",
        " begin ",
        " begins ",
    ];
    if END.iter().any(|m| folded.contains(m)) {
        Some(PeriodEnd::End)
    } else if START.iter().any(|m| folded.contains(m)) {
        Some(PeriodEnd::Start)
    } else {
        None
    }
}

/// Whether `quote` dates only the other end of a period than the one
/// asked: « date limite de dépôt ? » is not answered by « à partir du
/// 1er janvier 2026 », nor « à partir de quelle date ? » by « ouvert
/// jusqu'au 29 mars ». A date with no such word (« le 9 octobre ») or with
/// both ends (« du 5 novembre au 9 décembre ») may answer either.
pub fn tells_the_other_end(asked: Option<PeriodEnd>, quote: &str) -> bool {
    let Some(asked) = asked else {
        return false;
    };
    let folded = text::spaced_words(quote);
    const END: [&str; 6] = [
        " jusqu au ",
        " jusqu a ",
        " jusqu en ",
        " jusqu aux ",
        " au plus tard ",
        " until ",
    ];
    const START: [&str; 6] = [
        " a partir du ",
        " a partir de ",
        " depuis ",
        " des le ",
        " since ",
        " starting ",
    ];
    let from_to = PERIOD.is_match(&folded);
    let tells_end = from_to || END.iter().any(|m| folded.contains(m));
    let tells_start = from_to || START.iter().any(|m| folded.contains(m));
    match asked {
        PeriodEnd::End => tells_start && !tells_end,
        PeriodEnd::Start => tells_end && !tells_start,
    }
}

/// Whether the date `span` stands in `quote` as the other end of the
/// period than the one asked: « when does the exhibition close? » is not
/// answered by « le 12 février 2026 » of « ouverte depuis le 12 février
/// 2026, et elle dure jusqu'en octobre 2027 ». Read from the words just
/// before the span.
pub fn dates_the_other_end(asked: Option<PeriodEnd>, span: &str, quote: &str) -> bool {
    let Some(asked) = asked else {
        return false;
    };
    let quoted = text::spaced_words(quote);
    let spanned = text::spaced_words(span);
    let spanned = spanned.trim();
    if spanned.is_empty() {
        return false;
    }
    let Some(at) = quoted.find(&format!(" {spanned} ")) else {
        return false;
    };
    let before = &quoted[..at];
    const STARTING: [&str; 8] = [
        " depuis",
        " depuis le",
        " a partir du",
        " a partir de",
        " des le",
        " since",
        " starting",
        " du",
    ];
    const ENDING: [&str; 7] = [
        " jusqu au",
        " jusqu a",
        " jusqu en",
        " jusqu aux",
        " au plus tard le",
        " until",
        " au",
    ];
    let markers: &[&str] = match asked {
        PeriodEnd::End => &STARTING,
        PeriodEnd::Start => &ENDING,
    };
    markers.iter().any(|marker| before.ends_with(marker))
}

/// The quote's one date that does not date the other end of the period
/// than the one asked: « octobre 2027 » of « ouverte depuis le 12 février
/// 2026, et elle dure jusqu'en octobre 2027 » for « elle finit quand ? ».
pub fn the_end_asked(asked: PeriodEnd, quote: &str) -> Option<String> {
    let mut dates = text::date_phrases(quote)
        .into_iter()
        .filter(|date| !dates_the_other_end(Some(asked), date, quote));
    let date = dates.next()?;
    dates.next().is_none().then(|| date.to_string())
}

/// « du 5 novembre au 9 décembre », « du 1er au 3 mars »: both ends.
static PERIOD: LazyLock<regex::Regex> =
    LazyLock::new(|| text::literal_regex(r"\bdu \d{1,2}(?:er)?(?: [a-z]+)?(?: \d{4})? au \d"));

/// Whether a question names what it asks about only by pointing back at
/// what was said before (« Et qui l'a gagné ? », « Et cette édition ? »):
/// a narrower test than [`is_elliptic`], which also takes the short
/// questions visitors type (« c quand l'expo »), and which mean something
/// alone.
pub fn refers_back(question: &str) -> bool {
    let folded = fold(question);
    let first = words(&folded).next();
    let padded = format!(" {folded} ");
    matches!(first, Some("et" | "mais" | "alors"))
        || [
            " l'a ",
            " l'ont ",
            " lui ",
            "cette edition",
            "cet evenement",
        ]
        .iter()
        .any(|pointer| padded.contains(pointer))
}

/// English words that carry grammar, not a subject (« a » is left out:
/// folded, it is the French « à », which the analyzer already drops).
pub const ENGLISH_GRAMMAR: [&str; 44] = [
    "the", "an", "is", "are", "was", "were", "be", "does", "do", "did", "can", "could", "will",
    "would", "what", "when", "where", "who", "which", "why", "how", "much", "many", "of", "to",
    "in", "for", "and", "or", "at", "by", "i", "you", "we", "it", "its", "they", "them", "their",
    "there", "this", "that", "he", "she",
];

/// English words that point back to what was just answered.
const ENGLISH_ANAPHORS: [&str; 9] = [
    "it", "its", "they", "them", "their", "there", "he", "she", "him",
];

/// Whether a question leans on the conversation so far: « Et qui l'a
/// gagné ? », « C'était quelle édition ? ». Such a question carries too few
/// words of its own to be searched alone.
pub fn is_elliptic(question: &str, content_terms: usize) -> bool {
    let folded = fold(question);
    let tokens: Vec<&str> = words(&folded).collect();
    const ANAPHORS: [&str; 10] = [
        "il", "elle", "ils", "elles", "celui", "celle", "lui", "leur", "y", "en",
    ];
    // « c », « ça » are as often the empty subject of « c'est combien » as
    // a pointer back: « impulsion export c combien le plafond » names its
    // subject, and read as a follow-up it was searched with the previous
    // answer's topic and refused.
    const DEMONSTRATIVES: [&str; 4] = ["ce", "c", "ca", "cela"];
    // « D'accord, et … », « OK merci, et … »: the follow-up starts after
    // the visitor has acknowledged the previous answer.
    const ACKNOWLEDGEMENTS: [&str; 15] = [
        "d", "accord", "ok", "okay", "oui", "merci", "super", "parfait", "bien", "tres", "bon",
        "ah", "oh", "top", "cool",
    ];
    // The analyzer is French: « where », « is », « it » count as content.
    let english_grammar = tokens
        .iter()
        .filter(|w| ENGLISH_GRAMMAR.contains(w))
        .count();
    let content_terms = content_terms.saturating_sub(english_grammar);
    let starts_with_and = tokens
        .iter()
        .find(|w| !ACKNOWLEDGEMENTS.contains(w))
        .is_some_and(|w| matches!(*w, "et" | "mais" | "alors" | "and" | "but"));
    let has_anaphor = tokens
        .iter()
        .any(|w| ANAPHORS.contains(w) || ENGLISH_ANAPHORS.contains(w))
        || folded.contains("l'a ")
        || folded.contains("l'ont")
        || folded.contains("cette edition")
        || folded.contains("cet evenement");
    let has_demonstrative = tokens.iter().any(|w| DEMONSTRATIVES.contains(w));
    content_terms <= 1
        || starts_with_and
        || (has_anaphor && content_terms <= 3)
        || (has_demonstrative && content_terms <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_about_now_and_sentences_about_then() {
        assert!(asks_about_now(
            "qui est le directeur actuel de l'ad normandie ?"
        ));
        assert!(asks_about_now("Et aujourd'hui, qui la dirige ?"));
        assert!(asks_about_now("ya cb de startup en ce moment"));
        assert!(!asks_about_now("Qui a été le premier directeur ?"));
        assert!(tells_the_past(
            "Elle comptait 56 agents en mars 2019.",
            2026
        ));
        assert!(tells_the_past(
            "Son premier directeur était Alexandre Wahl.",
            2026
        ));
        assert!(tells_the_past(
            "Son premier directeur a été Alexandre Wahl.",
            2026
        ));
        assert!(!tells_the_past(
            "L'exposition ouvre le 13 décembre 2025.",
            2026
        ));
    }

    #[test]
    fn a_question_about_one_end_of_a_period_and_a_date_of_the_other() {
        let end = period_end_asked("Impulsion Transition Numérique date limite dépôt");
        assert_eq!(end, Some(PeriodEnd::End));
        assert!(tells_the_other_end(
            end,
            "Le dispositif s'appellerait Impulsion Transition à partir du 1er janvier 2026."
        ));
        let start = period_end_asked("À partir de quelle date pouvait-on déposer un dossier ?");
        assert_eq!(start, Some(PeriodEnd::Start));
        assert!(tells_the_other_end(
            start,
            "L'appel à projets était ouvert jusqu'au 29 mars 2021."
        ));
        assert_eq!(period_end_asked("jusqu'à quand?"), Some(PeriodEnd::End));
        let until = period_end_asked("Jusqu'à quand dure l'exposition ?");
        assert_eq!(until, Some(PeriodEnd::End));
        for answers in [
            "Elle est ouverte depuis le 12 février 2026, et elle dure jusqu'en octobre 2027.",
            "Le Datathon a eu lieu du 5 novembre au 9 décembre.",
            "La clôture est fixée au 9 octobre.",
        ] {
            assert!(!tells_the_other_end(until, answers), "{answers}");
        }
        assert_eq!(period_end_asked("c'est quand l'expo"), None);
        assert!(!tells_the_other_end(None, "à partir du 1er janvier"));
    }

    #[test]
    fn a_date_of_the_other_end_is_not_the_short_answer() {
        let quote = "L'exposition est ouverte depuis le 12 février 2026, et elle dure jusqu'en \
                     octobre 2027.";
        for question in [
            "when does the exhibition close",
            "lexpo ia elle finit quand",
            "l'expo ferme quand ?",
        ] {
            let end = period_end_asked(question);
            assert_eq!(end, Some(PeriodEnd::End), "{question}");
            assert!(dates_the_other_end(end, "le 12 février 2026", quote));
            assert!(dates_the_other_end(end, "12 février 2026", quote));
            assert!(!dates_the_other_end(end, "octobre 2027", quote));
        }
        let start = period_end_asked("Quand ouvre l'exposition ?");
        assert_eq!(start, Some(PeriodEnd::Start));
        assert!(!dates_the_other_end(start, "12 février 2026", quote));
        assert!(dates_the_other_end(start, "octobre 2027", quote));
        let both = "Le Datathon a eu lieu du 5 novembre au 9 décembre.";
        assert!(dates_the_other_end(start, "9 décembre", both));
        assert!(!dates_the_other_end(None, "12 février 2026", quote));
    }

    #[test]
    fn questions_about_what_comes_next_and_sentences_about_what_happened() {
        assert!(asks_about_what_comes_next(
            "le forum sante pour tous la prochaine fois c qd"
        ));
        assert!(asks_about_what_comes_next("When is the next Datathon?"));
        assert!(asks_about_what_comes_next("les événements à venir"));
        assert!(!asks_about_what_comes_next("qui va venir aux Assises ?"));
        assert!(!asks_about_what_comes_next("c'est quand le Datathon ?"));
        for happened in [
            "La 3e édition du Datathon Normandie a eu lieu du 5 novembre au 9 décembre.",
            "Le 27 novembre, Caen Normandie Développement a organisé la 2e édition du forum.",
            "Six équipes ont conçu des prototypes.",
            "Son premier directeur était Alexandre Wahl.",
        ] {
            assert!(tells_what_happened(happened, 2026), "{happened}");
        }
        for ahead in [
            "L'exposition a lieu à Rouen jusqu'en octobre 2027.",
            "Les nouvelles sessions démarreront en janvier 2026.",
            "Le candidat envoie un dossier à l'AD Normandie.",
            "L'aide a pour but de soutenir les TPE.",
        ] {
            assert!(!tells_what_happened(ahead, 2026), "{ahead}");
        }
    }

    #[test]
    fn questions_that_point_back_at_the_conversation() {
        assert!(refers_back("Et qui l'a gagné ?"));
        assert!(refers_back("C'était quelle édition, cette édition ?"));
        assert!(refers_back("qui l'a créé ?"));
        assert!(!refers_back("c quand l'expo destination ia"));
        assert!(!refers_back("Qui a gagné le Datathon Normandie ?"));
        assert!(!refers_back("c koi le datalab"));
    }

    #[test]
    fn what_combien_counts() {
        assert_eq!(
            counted_noun("Combien de pays participent au projet ?").as_deref(),
            Some("pays")
        );
        assert_eq!(
            counted_noun("combien d'entreprises ont été aidées").as_deref(),
            Some("entreprises")
        );
        assert_eq!(
            counted_noun("forum nombre d'exposants").as_deref(),
            Some("exposants")
        );
        assert_eq!(counted_noun("Combien coûte le billet ?"), None);
        assert_eq!(counted_noun("How many jobs were created?"), None);
        assert_eq!(
            counted_noun_in_english("How many jobs were created?").as_deref(),
            Some("jobs")
        );
        assert_eq!(counted_noun_in_english("how many people came"), None);
        assert_eq!(counted_noun_in_english("how many attendees"), None);
        assert_eq!(
            counted_noun_in_english("over how many years is the loan repaid"),
            None
        );
        assert_eq!(
            counted_noun_in_english("how many member organisations"),
            None
        );
        assert_eq!(counted_noun_in_english("how much is it"), None);
        assert_eq!(counted_noun_in_english("combien d'emplois"), None);
        assert_eq!(counted_noun("Quand ouvre l'exposition ?"), None);
        assert_eq!(
            counted_noun("la french tech ya cb de membres").as_deref(),
            Some("membres")
        );
    }

    #[test]
    fn a_price_is_not_what_a_funder_put_in() {
        let investment = "Il a ouvert en 2019 ; la Région y a investi 1,2 million d'euros.";
        for asked in [
            "et ca coute cb",
            "et ça coûte combien l'entrée ?",
            "l'expo, le billet c'est combien ?",
        ] {
            assert_eq!(AnswerType::of(asked), AnswerType::Amount, "{asked}");
            assert!(
                !AnswerType::Amount.is_answered_by(investment, asked),
                "{asked}"
            );
        }
        for asked in [
            "l'atrium a coûté combien ?",
            "la région a mis combien d'argent dans l'atrium",
        ] {
            assert!(
                AnswerType::Amount.is_answered_by(investment, asked),
                "{asked}"
            );
        }
        let price = "L'entrée coûte 5 euros.";
        assert!(AnswerType::Amount.is_answered_by(price, "et ça coûte combien l'entrée ?"));
    }

    #[test]
    fn a_count_of_something_else_does_not_answer() {
        let attendance = "Elle était organisée par le groupe Ouest-France, et plus de 600 \
                          professionnels, experts et décideurs étaient attendus.";
        let workshops = AnswerType::of("Assises IA 2025 nombre d'ateliers");
        assert_eq!(workshops, AnswerType::Number);
        assert!(!workshops.is_answered_by(attendance, "Assises IA 2025 nombre d'ateliers"));
        // People are counted by whatever word the sentence uses.
        let crowd = "ya eu cb de monde aux assises";
        assert!(AnswerType::of(crowd).is_answered_by(attendance, crowd));
        // The counted word inflected, misspelt or said otherwise.
        let partners = "Le DataLab était un consortium d'une vingtaine de partenaires.";
        for asked in [
            "il y avai combien de partenair dans le datalab",
            "combien d'adhérents dans le datalab",
        ] {
            assert!(
                AnswerType::of(asked).is_answered_by(partners, asked),
                "{asked}"
            );
        }
        let companies = "Le réseau rassemble plus de 2 000 entreprises.";
        let asked = "cb de societes dans le reseau";
        assert!(AnswerType::of(asked).is_answered_by(companies, asked));
        let startups = "L'incubateur a accompagné 40 start-up depuis 2013.";
        let asked = "cb de startup a normandie incubation";
        assert!(AnswerType::of(asked).is_answered_by(startups, asked));
        // Naming the counted thing is not counting it.
        let label = "Le label a été soutenu par plus de 200 acteurs du numérique. Il a \
                     apporté des financements de Bpifrance.";
        let asked = "la french tech a eu combien de financements de bpifrance";
        assert!(!AnswerType::of(asked).is_answered_by(label, asked));
        let asked = "combien d'acteurs soutenaient le label";
        assert!(AnswerType::of(asked).is_answered_by(label, asked));
    }

    #[test]
    fn a_length_is_the_length_of_what_the_question_names() {
        let exhibition = "L'exposition Destination IA est ouverte depuis le 12 février 2026, \
                          et elle dure jusqu'en octobre 2027.";
        for visit in [
            "lexpo destination ia c'est combien de temps la visite",
            "il faut combien de temps pour visiter lexpo ia",
            "how long does the visit take",
            "how long does it take to visit the exhibition",
        ] {
            assert!(tells_the_length_of_something_else(visit, exhibition));
            assert!(!tells_the_length_of_something_else(
                visit,
                "La visite guidée dure 45 minutes."
            ));
        }
        for about_the_topic in [
            "l'expo ça dure combien de temps ?",
            "ça dure combien de temps cette exposition ?",
            "combien de temps dure l'exposition destination ia",
            "il faut combien de temps pour avoir une réponse ?",
        ] {
            assert!(!tells_the_length_of_something_else(
                about_the_topic,
                exhibition
            ));
        }
        assert!(!tells_the_length_of_something_else(
            "combien de temps dure le datathon",
            "Datathon Normandie 2025 Pendant un mois, 6 équipes ont conçu des prototypes."
        ));
    }

    #[test]
    fn the_counts_an_english_visitor_tells_are_found() {
        assert_eq!(
            counts_told_in_english(
                "We plan to add 40 permanent jobs. What share could the loan cover?"
            ),
            ["jobs"]
        );
        assert!(counts_told_in_english("What share does the loan cover?").is_empty());
        assert!(counts_told_in_english("Is it open in 2026?").is_empty());
    }

    #[test]
    fn the_things_whose_names_are_asked_are_found() {
        let asked = |q: &str| instances_asked(q);
        assert_eq!(
            asked("Quelles entreprises testent BOOST AI ?").as_deref(),
            Some("entreprises")
        );
        assert_eq!(
            asked("Which companies are the beta testers?").as_deref(),
            Some("companies")
        );
        assert_eq!(
            asked("quels sont les partenaires du projet ?").as_deref(),
            Some("partenaires")
        );
        assert_eq!(
            asked("ya des entreprises normandes dedans ? lesquelles").as_deref(),
            Some("entreprises")
        );
        assert_eq!(asked("What does the DataLab do?"), None);
        assert_eq!(asked("Quel est le taux ?"), None);
        assert_eq!(asked("combien d'entreprises ?"), None);
    }

    #[test]
    fn english_question_words_set_the_kind_of_fact() {
        assert_eq!(
            AnswerType::of("When did the exhibition open?"),
            AnswerType::Date
        );
        assert_eq!(
            AnswerType::of("How much money did the region give?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("How many teams took part?"),
            AnswerType::Number
        );
        assert_eq!(
            AnswerType::of("Who organised the conference?"),
            AnswerType::Name
        );
        assert_eq!(AnswerType::of("Where is the Atrium?"), AnswerType::Place);
        assert_eq!(AnswerType::of("What is the DataLab?"), AnswerType::Open);
        assert_eq!(AnswerType::of("Who is the aid for?"), AnswerType::Open);
        assert_eq!(AnswerType::of("How old is he?"), AnswerType::Number);
        assert_eq!(
            AnswerType::of("What is the maximum amount of the aid?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("Jusqu'à combien en euros ?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("combien la région a investi dans l'atrium ?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("How much did the Region invest in the Atrium?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("combien de projets la région a financé ?"),
            AnswerType::Number
        );
        assert_eq!(
            AnswerType::of("What is the agency's address?"),
            AnswerType::Contact
        );
    }

    #[test]
    fn spoken_and_english_places_and_lists() {
        assert_eq!(AnswerType::of("les bureaux c'est où"), AnswerType::Place);
        assert_eq!(AnswerType::of("cest ou lexpo sur lia"), AnswerType::Place);
        assert_eq!(
            AnswerType::of("C'est où, l'exposition ?"),
            AnswerType::Place
        );
        assert_eq!(
            AnswerType::of("In which town was the day held?"),
            AnswerType::Place
        );
        assert_eq!(AnswerType::of("c'est quels pays ?"), AnswerType::Name);
        assert_eq!(
            AnswerType::of("Il y a des entreprises normandes ? Lesquelles ?"),
            AnswerType::Name
        );
    }

    #[test]
    fn words_that_only_look_like_question_words() {
        // « quand même » is no « quand »: the question asks whether one may.
        assert_eq!(
            AnswerType::of("Je peux quand même demander l'aide ?"),
            AnswerType::Condition
        );
        assert_eq!(
            AnswerType::of("Le site web et la traduction, ça marche ?"),
            AnswerType::Open
        );
        assert_eq!(
            AnswerType::of("C'est quoi le site web de l'agence ?"),
            AnswerType::Contact
        );
        assert_eq!(AnswerType::of("L'aide, c'est pour qui ?"), AnswerType::Open);
        assert_eq!(AnswerType::of("Il a quel âge ?"), AnswerType::Number);
        assert_eq!(
            AnswerType::of("Quelle est l'adresse du siège ?"),
            AnswerType::Contact
        );
    }

    #[test]
    fn a_share_is_asked_for_by_a_rate_and_answered_by_a_percentage() {
        assert_eq!(
            AnswerType::of("Programme Export taux d'aide"),
            AnswerType::Rate
        );
        assert_eq!(
            AnswerType::of("le pret cest cb de % des depenses"),
            AnswerType::Rate
        );
        assert_eq!(
            AnswerType::of("What share of the investment is covered?"),
            AnswerType::Rate
        );
        assert_eq!(
            AnswerType::of("the largest share of the costs a partner may carry?"),
            AnswerType::Rate
        );
        assert!(asks_for_a_percent_sign("c quel % des depenses"));
        assert!(asks_for_a_percent_sign("quelle part d’% ?"));
        assert!(!asks_for_a_percent_sign("une aide pour tout le monde % ?"));
        assert!(!asks_for_a_percent_sign("j'ai 35 % de fonds propres"));
        assert_eq!(
            AnswerType::of("Combien d'emplois pour avoir 35 % ?"),
            AnswerType::Number
        );
        let asked = "Une entreprise peut-elle porter 80 % des dépenses ?";
        assert!(AnswerType::Rate.is_answered_by("Chacune porte au plus 70 % des dépenses.", asked));
        assert!(!AnswerType::Rate.is_answered_by("Elle porte 80 % des dépenses.", asked));
        assert!(!AnswerType::Rate.is_answered_by("L'aide atteint 20 000 euros.", asked));
        assert!(AnswerType::Rate.is_satisfied_by("de 35 à 50 pour cent"));
        let loan = "C'est un prêt à taux zéro sur cinq ans.";
        assert!(AnswerType::Rate.is_answered_by(loan, "le prêt, c'est quel taux ?"));
        assert!(AnswerType::Rate.is_answered_by(loan, "what interest rate is the loan?"));
        assert!(!AnswerType::Rate.is_answered_by(loan, "le prêt couvre cb de % ?"));
    }

    #[test]
    fn who_leads_is_answered_by_a_sentence_that_says_who_leads() {
        let asked = "qui dirige le salon";
        assert_eq!(AnswerType::of(asked), AnswerType::Name);
        assert!(!AnswerType::Name.is_answered_by(
            "Le salon a été créé par des acteurs de Rouen et de Caen.",
            asked
        ));
        assert!(
            AnswerType::Name.is_answered_by("Sa présidente est Marie Durand, élue en 2020.", asked)
        );
        assert!(!AnswerType::Name
            .is_answered_by("Sa vice-présidente est Marie Durand, élue en 2020.", asked));
        assert!(!AnswerType::Name.is_answered_by(
            "Le jury réunissait Orange et la Région.",
            "qui a gagné le concours"
        ));
        assert!(AnswerType::Name.is_answered_by(
            "Le projet Alpha, porté par Orange, est le lauréat.",
            "qui a gagné le concours"
        ));
        assert!(!AnswerType::Name.is_answered_by(
            "La Région, au travers du DataLab Normandie, est partenaire du projet.",
            "c'est quels pays ?"
        ));
        assert!(AnswerType::Name.is_answered_by(
            "Les partenaires viennent de Belgique et d'Irlande.",
            "c'est quels pays ?"
        ));
        // Other « qui » questions are answered by any new name.
        assert!(AnswerType::Name.is_answered_by(
            "Le salon a été créé par des acteurs de Rouen et de Caen.",
            "qui a créé le salon"
        ));
    }

    #[test]
    fn a_creation_date_is_answered_by_a_creation_not_by_another_event() {
        let asked = "Normandie Incubation année de création";
        assert!(!AnswerType::Date.is_answered_by(
            "Il a ouvert une antenne à Cherbourg en janvier 2013.",
            asked
        ));
        assert!(AnswerType::Date.is_answered_by(
            "Le conseil régional a voté la création de l'agence en décembre 2016.",
            "ad normandie elle a ete creer qd"
        ));
        assert!(AnswerType::Date.is_answered_by(
            "Le réseau a été lancé le 24 novembre 2025.",
            "When was the network founded?"
        ));
        // Without a creation asked, any date still answers « quand ? ».
        assert!(AnswerType::Date.is_answered_by(
            "Il a ouvert une antenne à Cherbourg en janvier 2013.",
            "antenne de Cherbourg c'était quand ?"
        ));
    }

    #[test]
    fn another_edition_is_another_time() {
        let asked = &text::ranks("salon première édition date");
        assert!(tells_another_rank(
            asked,
            "La 2e édition a eu lieu le 27 novembre."
        ));
        assert!(!tells_another_rank(
            asked,
            "La 1re édition a eu lieu en mars."
        ));
        assert!(!tells_another_rank(
            asked,
            "La première édition a eu lieu en mars."
        ));
        assert!(!tells_another_rank(asked, "Le salon a eu lieu en mars."));
        assert!(!tells_another_rank(
            &text::ranks("c quand le salon"),
            "La 2e édition a eu lieu en mars."
        ));
        assert!(tells_another_rank(
            &text::ranks("when was the third forum"),
            "La 2e édition a eu lieu le 27 novembre."
        ));
    }

    #[test]
    fn keyword_queries_name_the_kind_of_fact() {
        assert_eq!(
            AnswerType::of("salon 2024 nombre d'exposants"),
            AnswerType::Number
        );
        assert_eq!(
            AnswerType::of("incubateur année d'ouverture"),
            AnswerType::Date
        );
        assert_eq!(
            AnswerType::of("Programme Export effectif maximum"),
            AnswerType::Number
        );
        assert_eq!(
            AnswerType::of("incubateur surface bureaux"),
            AnswerType::Number
        );
        assert_eq!(AnswerType::of("salon gestionnaire"), AnswerType::Name);
        assert_eq!(AnswerType::of("forum 2024 lauréat"), AnswerType::Name);
        assert_eq!(
            AnswerType::of("le directeur a été nommé quand ?"),
            AnswerType::Date
        );
    }

    #[test]
    fn interrogatives_map_to_answer_types() {
        assert_eq!(
            AnswerType::of("Combien coûte l'entrée ?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("Quel est le budget du programme ?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of("Combien de temps dure la formation ?"),
            AnswerType::Duration
        );
        assert_eq!(
            AnswerType::of("Combien d'équipes ont participé ?"),
            AnswerType::Number
        );
        assert_eq!(AnswerType::of("Quand a lieu le salon ?"), AnswerType::Date);
        assert_eq!(
            AnswerType::of("En quelle année a-t-il été créé ?"),
            AnswerType::Date
        );
        assert_eq!(AnswerType::of("Qui anime l'atelier ?"), AnswerType::Name);
        assert_eq!(AnswerType::of("Par qui est-il financé ?"), AnswerType::Name);
        assert_eq!(AnswerType::of("Où se trouve le siège ?"), AnswerType::Place);
        assert_eq!(
            AnswerType::of("Quel est le projet qui a gagné ?"),
            AnswerType::Open
        );
        assert_eq!(
            AnswerType::of("Qu'est-ce que le DataLab ?"),
            AnswerType::Open
        );
    }

    #[test]
    fn contact_and_ceiling_questions_have_their_types() {
        assert_eq!(
            AnswerType::of("Quel est le numéro de téléphone de l'agence ?"),
            AnswerType::Contact
        );
        assert_eq!(
            AnswerType::of("Comment contacter l'incubateur ?"),
            AnswerType::Contact
        );
        assert_eq!(
            AnswerType::of("Quel est le plafond de l'aide ?"),
            AnswerType::Amount
        );
        assert_eq!(
            AnswerType::of(
                "Quel jour les Assises de l'Intelligence Artificielle ont-elles eu lieu ?"
            ),
            AnswerType::Date
        );
        assert!(!AnswerType::Contact.is_answered_by("Elle compte 56 agents.", "téléphone ?"));
        assert!(AnswerType::Contact.is_answered_by("Appelez le 02 31 00 00 00.", "téléphone ?"));
        let address = "Quelle est l'adresse du siège ?";
        assert!(!AnswerType::Contact.is_answered_by("Son siège est à Colombelles.", address));
        assert!(AnswerType::Contact.is_answered_by("Au 12 rue Alfred Kastler, Caen.", address));
    }

    #[test]
    fn a_place_must_say_more_than_the_question() {
        let question = "Où se trouve le siège de l'AD Normandie ?";
        assert!(!AnswerType::Place.is_answered_by(
            "Le réseau a été lancé au siège de l'AD Normandie.",
            question
        ));
        assert!(!AnswerType::Place.is_answered_by("Elle compte 56 agents.", question));
        assert!(AnswerType::Place
            .is_answered_by("Elle a son siège à Colombelles, près de Caen.", question));
        let question = "Où le DataLab a-t-il tenu un stand ?";
        assert!(AnswerType::Place.is_answered_by("Il était sur le stand régional.", question));
        assert!(!AnswerType::Place.is_answered_by("Il a eu lieu en janvier 2013.", question));
        // « à » and « aux » also bring what an event was about.
        let question = "le datathon c'etait ou";
        assert_eq!(AnswerType::of(question), AnswerType::Place);
        assert!(!AnswerType::Place.is_answered_by(
            "La 3e édition, consacrée aux données de l'emploi, a eu lieu du 5 novembre au 9 décembre.",
            question
        ));
        let question = "c'etait ou le forum ia sante";
        assert_eq!(AnswerType::of(question), AnswerType::Place);
        assert!(!AnswerType::Place.is_answered_by(
            "Le 27 novembre a eu lieu le forum dédié à l'IA appliquée à la santé.",
            question
        ));
        assert!(AnswerType::Place
            .is_answered_by("Le forum s'est tenu à l'Université de Caen.", question));
    }

    #[test]
    fn years_in_the_question_must_be_in_the_passage() {
        let years = years_named("Combien d'entreprises aidées en 2024 ?");
        assert_eq!(years, vec!["2024"]);
        assert!(!names_every_year(
            &years,
            "Le dispositif existe depuis 2016."
        ));
        assert!(names_every_year(&years, "En 2024, 120 entreprises."));
        assert!(names_every_year(&[], "Sans année."));
        assert!(tells_another_year(&years, "Un budget de 9 M€ en 2018."));
        assert!(!tells_another_year(
            &years,
            "En 2018 et en 2024, 120 entreprises."
        ));
        assert!(!tells_another_year(&years, "Elle aide 120 entreprises."));
        assert!(!tells_another_year(&[], "Un budget de 9 M€ en 2018."));
    }

    #[test]
    fn whether_it_is_free_is_asked_for_a_price_or_its_absence() {
        for question in [
            "lexpo ia cest payant",
            "L'exposition Destination IA est-elle gratuite ?",
            "assises de lia cest gratos ?",
            "combien le billet pour l'expo",
            "Is it free to visit the exhibition?",
            "Are there entry fees?",
            "and how much was a ticket?",
        ] {
            assert_eq!(AnswerType::of(question), AnswerType::Amount, "{question}");
        }
        assert_ne!(
            AnswerType::of("Feel free to tell me: what is the DataLab?"),
            AnswerType::Amount
        );
        let where_and_when =
            "L'exposition est ouverte à L'Atrium, à Rouen, depuis le 12 février 2026.";
        assert!(!AnswerType::Amount.is_satisfied_by(where_and_when));
        assert!(AnswerType::Amount.is_satisfied_by("L'entrée est gratuite."));
        assert!(AnswerType::Amount.is_satisfied_by("Entrée libre, du mardi au dimanche."));
    }

    #[test]
    fn who_runs_a_place_is_answered_by_who_runs_it() {
        let described = "Normandie Incubation est un incubateur installé à Caen pour les start-up.";
        assert!(!AnswerType::Name.is_answered_by(described, "who runs normandie incubation"));
        let run = "Il est ouvert du mardi au dimanche et animé par Science Action Normandie.";
        assert!(AnswerType::Name.is_answered_by(run, "who runs the atrium"));
        assert!(AnswerType::Name.is_answered_by(run, "ki c ki anime ce batiment latrium"));
    }

    #[test]
    fn who_organised_is_answered_by_who_organised() {
        let dated = "La 3e édition du Datathon Normandie a eu lieu du 5 novembre au 9 décembre.";
        assert!(!AnswerType::Name.is_answered_by(dated, "qui organise le datathon"));
        for told in [
            "Elle était organisée par le groupe Ouest-France.",
            "Une initiative portée par l'association Normandie.ai.",
        ] {
            for question in [
                "ki organisait les assises ia",
                "Who organised the day in December?",
                "Assises nationales IA organisateur",
            ] {
                assert!(
                    AnswerType::Name.is_answered_by(told, question),
                    "{question}: {told}"
                );
            }
        }
    }

    #[test]
    fn a_budget_is_not_what_was_invested() {
        let invested = "L'Atrium offre 1 000 m² ; la Région y a investi plus d'un million d'euros.";
        let budget = "Son budget était d'environ 9 millions d'euros en 2018.";
        let question = "Quel est le budget de l'exposition ?";
        assert!(!AnswerType::Amount.is_answered_by(invested, question));
        assert!(AnswerType::Amount.is_answered_by(budget, question));
        assert!(AnswerType::Amount.is_answered_by(invested, "combien la région a investi ?"));
    }

    #[test]
    fn who_spoke_is_not_answered_by_who_organised() {
        let organised = "Elle était organisée par le groupe Ouest-France.";
        let spoke = "Parmi les intervenants, Marie Durand a présenté le projet.";
        for question in [
            "Who were the keynote speakers at the Assises?",
            "Assises IA liste intervenants",
        ] {
            assert!(!AnswerType::Name.is_answered_by(organised, question));
            assert!(AnswerType::Name.is_answered_by(spoke, question));
        }
    }

    #[test]
    fn a_body_s_deputy_does_not_tell_who_leads_it() {
        let told = "En 2021, le DataLab était un consortium. Sa présidente était alors Julie \
                    Barenton-Guillas, vice-présidente de la Région.";
        assert!(!AnswerType::Name.is_answered_by(told, "c qui le president de la region"));
        assert!(!AnswerType::Name.is_answered_by(told, "Who is the president of the Region?"));
        assert!(AnswerType::Name.is_answered_by(told, "la presidente du datalab cetait ki"));
        assert!(AnswerType::Name.is_answered_by(told, "Qui présidait le DataLab en 2021 ?"));
        assert!(AnswerType::Name.is_answered_by(told, "DataLab présidente 2021"));
    }

    #[test]
    fn type_check_needs_the_right_kind_of_fact() {
        assert!(!AnswerType::Amount.is_satisfied_by("Le projet réunit 12 partenaires."));
        assert!(AnswerType::Amount.is_satisfied_by("L'aide atteint 50 000 €."));
        assert!(AnswerType::Date.is_satisfied_by("Il ouvre le 3 mars."));
        assert!(!AnswerType::Date.is_satisfied_by("Il ouvre bientôt."));
    }

    #[test]
    fn the_fact_must_be_new_to_the_question() {
        let question = "Qui organise la Journée des IA Responsables ?";
        assert!(
            !AnswerType::Name.is_answered_by("La Journée des IA Responsables a eu lieu.", question)
        );
        assert!(
            AnswerType::Name.is_answered_by("Une initiative portée par Normandie.ai.", question)
        );
        let question = "Combien de partenaires en 2025 ?";
        assert!(!AnswerType::Number.is_answered_by("En 2025, une nouvelle édition.", question));
        assert!(AnswerType::Number.is_answered_by("Il réunit douze partenaires.", question));
        // A year dates a count; it is not one.
        let question = "Combien de membres compte le réseau ?";
        assert!(!AnswerType::Number.is_answered_by("Le label a été obtenu en juin 2015.", question));
        assert!(AnswerType::Number.is_answered_by("Une vingtaine de partenaires.", question));
        assert!(AnswerType::Number.is_answered_by("Plus de 2 000 entreprises.", question));
    }

    #[test]
    fn which_days_are_answered_by_days_of_the_week() {
        let opening = "Le lieu a ouvert le 7 mars 2019. Il est ouvert du mardi au dimanche.";
        let opened = "Le lieu a ouvert le 7 mars 2019.";
        for asked in [
            "l'atrium c'est ouvert quels jours",
            "c'est ouvert le lundi ?",
            "is the atrium open on mondays?",
        ] {
            assert_eq!(AnswerType::of(asked), AnswerType::Date, "{asked}");
            assert!(AnswerType::Date.is_answered_by(opening, asked), "{asked}");
            assert!(!AnswerType::Date.is_answered_by(opened, asked), "{asked}");
        }
        let asked = "l'atrium a ouvert quel jour ?";
        assert!(AnswerType::Date.is_answered_by(opened, asked));
        // An hour is asked, which the days do not tell.
        let hour = ["what", "time", "does", "it", "open", "on", "sundays"];
        assert!(!asks_which_weekdays(&hour));
    }

    #[test]
    fn an_hour_is_answered_by_a_time_of_day_only() {
        let opening = "Il est ouvert du mardi au dimanche.";
        let opened = "Il a ouvert une antenne à Cherbourg en janvier 2013.";
        let hours = "Il est ouvert de 10 h à 18 h, et jusqu'à 20h30 le jeudi.";
        for asked in [
            "normandie incubation c ouvert a quelle heure",
            "les horaires de l'atrium ?",
            "what time does the exhibition open",
            "what are the opening hours",
        ] {
            assert_eq!(AnswerType::of(asked), AnswerType::Date, "{asked}");
            assert!(AnswerType::Date.is_answered_by(hours, asked), "{asked}");
            assert!(!AnswerType::Date.is_answered_by(opened, asked), "{asked}");
            assert!(!AnswerType::Date.is_answered_by(opening, asked), "{asked}");
        }
        // A date is still answered by a date.
        assert!(AnswerType::Date.is_answered_by(opened, "ça a ouvert quand ?"));
        assert!(!asks_the_hour(&[
            "combien",
            "d",
            "heures",
            "de",
            "formation"
        ]));
    }

    #[test]
    fn had_is_no_eu() {
        assert_eq!(
            content_terms("il y a eu combien de monde aux assises"),
            search::analyze("monde assises")
        );
        assert_eq!(
            content_terms("les financements de l'EU"),
            search::analyze("financements eu")
        );
    }

    #[test]
    fn spoken_kinds_of_figure() {
        assert_eq!(
            AnswerType::of("ca paye combien de pourcent"),
            AnswerType::Rate
        );
        assert_eq!(
            AnswerType::of("l'atrium c'est grand comment"),
            AnswerType::Number
        );
        assert_eq!(AnswerType::of("c'est comment l'atrium"), AnswerType::Open);
    }

    #[test]
    fn how_long_is_a_question_word() {
        assert_eq!(
            content_terms("combien de temps dure le datathon"),
            content_terms("combien dure le datathon")
        );
        assert_eq!(
            content_terms("le temps de traitement"),
            search::analyze("temps traitement"),
            "« temps » alone is a word of the subject"
        );
    }

    #[test]
    fn request_framing_is_not_content() {
        assert_eq!(
            content_terms("Parle-moi du Datathon"),
            search::analyze("Datathon")
        );
        assert_eq!(
            content_terms("Je voudrais savoir où est le forum"),
            search::analyze("forum")
        );
    }

    #[test]
    fn follow_ups_are_recognised() {
        assert!(is_elliptic("Et qui l'a gagné ?", 1));
        assert!(is_elliptic("C'était quelle édition ?", 1));
        // After an acknowledgement, « et » still opens a follow-up, however
        // many words of its own it has.
        assert!(is_elliptic(
            "D'accord, et il faut investir au minimum combien pour y avoir droit ?",
            4
        ));
        assert!(is_elliptic("ok merci et la date limite c quand", 3));
        assert!(!is_elliptic(
            "D'accord. Quel est le plafond d'Impulsion Export ?",
            4
        ));
        assert!(!is_elliptic(
            "Quand ouvre l'exposition sur l'IA à Rouen ?",
            4
        ));
        assert!(is_elliptic("where is it", 3));
        assert!(is_elliptic("and how much does it cost?", 4));
        assert!(is_elliptic("when did they open it", 4));
        assert!(!is_elliptic(
            "when does the destination ia exhibition open",
            6
        ));
        assert!(is_elliptic("c'est combien le plafond ?", 1));
        assert!(is_elliptic("ça dure combien de temps ce programme ?", 2));
        let own = content_terms("impulsion export c combien le plafond").len();
        assert!(!is_elliptic("impulsion export c combien le plafond", own));
    }

    #[test]
    fn the_visitor_s_situation_is_told_before_the_question_never_as_it() {
        let told = situation_told(
            "Je suis boulangère avec 3 salariés, j'ai ouvert il y a 4 mois. Est-ce que je peux demander l'aide de la Région pour passer au numérique ?",
        );
        assert!(
            told.contains("boulangère") && told.contains("4 mois"),
            "{told}"
        );
        assert!(!told.contains("numérique"), "{told}");
        assert_eq!(
            situation_told(
                "je veux payer un consultant pour bosser ma strategie, la region peut m'aider jusqu'a combien ?"
            )
            .trim(),
            "je veux payer un consultant pour bosser ma strategie"
        );
        assert_eq!(
            situation_told("My company is an insurance broker in Caen. Can we apply?").trim(),
            "My company is an insurance broker in Caen."
        );
        // Nothing told: a question alone, in the first person or not, and a
        // leading clause that already asks.
        assert_eq!(
            situation_told("Quel est le plafond d'Impulsion Export ?"),
            ""
        );
        assert_eq!(situation_told("je peux avoir impulsion conseil ?"), "");
    }

    #[test]
    fn how_often_asks_a_frequency() {
        for question in [
            "le comité se réunit tous les combien ?",
            "à quelle fréquence se réunit le comité ?",
            "how often does the committee meet?",
        ] {
            assert_eq!(
                AnswerType::of(question),
                AnswerType::Frequency,
                "{question}"
            );
        }
        let question = "le comité se réunit tous les combien ?";
        assert!(AnswerType::Frequency.is_answered_by("Un comité se réunit chaque mois.", question));
        assert!(!AnswerType::Frequency.is_answered_by("Le comité compte 12 experts.", question));
    }

    #[test]
    fn the_end_asked_is_the_date_not_dating_the_other_end() {
        let quote = "Ouverte depuis le 12 février 2026, elle dure jusqu'en octobre 2027.";
        assert_eq!(
            the_end_asked(PeriodEnd::End, quote).as_deref(),
            Some("octobre 2027")
        );
        assert_eq!(
            the_end_asked(PeriodEnd::Start, quote).as_deref(),
            Some("12 février 2026")
        );
    }

    #[test]
    fn the_verb_of_who_did_it_is_read() {
        let verb = |q: &str| verb_asked_who(q);
        assert_eq!(
            verb("qui organisait les assises ?").as_deref(),
            Some("organisait")
        );
        assert_eq!(
            verb("c'est qui qui anime l'Atrium").as_deref(),
            Some("anime")
        );
        assert_eq!(
            verb("Qui a organisé le forum ?").as_deref(),
            Some("organise")
        );
        assert_eq!(verb("Who organised the day?").as_deref(), Some("organised"));
        assert_eq!(verb("c'est qui ?"), None);
        assert_eq!(
            verb("Assises IA organisateur").as_deref(),
            Some("organisateur")
        );
        assert_eq!(verb("quand ouvre l'expo ?"), None);
        assert_eq!(situation_told("Je peux venir quand, je suis à Caen ?"), "");
    }

    #[test]
    fn whether_one_may_apply_asks_for_a_rule() {
        for question in [
            "Je peux quand même demander Impulsion Innovation ?",
            "je suis une TPE, est-ce que j'ai droit à Impulsion Conseil ?",
            "est-ce que ça rentre dans Impulsion Export ?",
            "est ce que les imprimantes sont prises en charge par impulsion transition",
            "My company is an insurance broker. Can we apply for Impulsion Conseil?",
            "peut-on cumuler plusieurs études ?",
            "je veux acheter un terrain, le pret impulsion developpement peut le financer ?",
            "Pouvons-nous solliciter Impulsion Conseil pour financer un consultant ?",
            "Cette prestation peut-elle être financée par Impulsion Conseil ?",
            "Ce poste peut-il être financé par Impulsion Export ?",
            "est-il encore possible d'y candidater ?",
            "Can that purchase be financed with the zero-rate loan?",
            "Is a consultant from outside Normandy acceptable for Impulsion Conseil?",
            "Can we use Impulsion Conseil for that?",
            "Can we already apply for Impulsion Innovation?",
            "les frais d inpi, ca peut rentrer dans impulsion innovation ?",
            "est ce que je peux me faire rembourser une imprimante ?",
        ] {
            assert_eq!(
                AnswerType::of(question),
                AnswerType::Condition,
                "{question}"
            );
        }
        assert_eq!(
            AnswerType::of_either(
                "ca rendre dans impulsion export ?",
                "ca rentre dans impulsion export ?"
            ),
            AnswerType::Condition
        );
        assert_eq!(
            AnswerType::of_either("combien d'emplois ?", "cb d emplois ?"),
            AnswerType::Number
        );
        // Visiting on a Monday asks on which days it opens; « vouloir » is
        // no permission; « toucher » asks for money.
        assert_eq!(
            AnswerType::of("je peux visiter l'expo le lundi ?"),
            AnswerType::Date
        );
        assert_eq!(
            AnswerType::of("je voudrais avoir des infos sur l'expo"),
            AnswerType::Open
        );
        assert_eq!(
            AnswerType::of("et combien je peux toucher au maximum ?"),
            AnswerType::Amount
        );
        assert_ne!(
            AnswerType::of("faut déclarer les aides déjà touchées ? Sur combien d'années ?"),
            AnswerType::Amount
        );
        let question = "est-ce que je peux demander Impulsion Conseil ?";
        for rule in [
            "La finance, l'assurance et la gestion immobilière sont exclues.",
            "L'entreprise doit avoir au moins un établissement en Normandie.",
            "Le logiciel ne compte que s'il accompagne un investissement en équipement.",
            "Les investissements numériques, mais pas les imprimantes.",
        ] {
            assert!(
                AnswerType::Condition.is_answered_by(rule, question),
                "{rule}"
            );
        }
        for description in [
            "Impulsion Transition Numérique aide les très petites entreprises du commerce et de l'artisanat à passer au numérique.",
            "Le 11 décembre s'est tenue la Journée Normande des Intelligences Artificielles Responsables.",
        ] {
            assert!(
                !AnswerType::Condition.is_answered_by(description, question),
                "{description}"
            );
        }
    }

    #[test]
    fn a_grant_s_share_is_no_loan_s_zero_rate() {
        let zero = "L'aide prend la forme d'une avance remboursable ou d'un prêt à taux zéro.";
        assert!(!AnswerType::Rate.is_answered_by(
            zero,
            "quel est le taux de subvention d'impulsion innovation ?"
        ));
        assert!(AnswerType::Rate.is_answered_by(zero, "quel est le taux du prêt ?"));
        assert!(AnswerType::Rate.is_answered_by(
            "L'aide est une subvention de 50 % des dépenses.",
            "quel est le taux de subvention ?"
        ));
    }

    #[test]
    fn what_one_receives_is_not_the_size_of_the_companies_that_may_apply() {
        let sizes = "Le dispositif vise les TPE : moins de 10 salariés, un chiffre d'affaires ou un bilan d'au plus 2 millions d'euros.";
        assert!(!AnswerType::Amount.is_answered_by(sizes, "combien je peux toucher au maximum ?"));
        assert!(AnswerType::Amount.is_answered_by(sizes, "quel chiffre d'affaires maximum ?"));
        assert!(AnswerType::Amount.is_answered_by(
            "La subvention est plafonnée à 75 000 euros sur deux ans.",
            "combien je peux toucher au maximum ?"
        ));
    }
}
