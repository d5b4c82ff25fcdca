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

/// `text` with its first letter in capitals (« 12 février » stays, « la
/// région » → « La région »).
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// « TES », « IA », « COVID-19 »: two letters or more, every letter a
/// capital.
pub fn is_acronym(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
}

/// Days of the week, French (folded, singular and plural) and English.
pub const WEEKDAYS: [&str; 28] = [
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "lundis",
    "mardis",
    "mercredis",
    "jeudis",
    "vendredis",
    "samedis",
    "dimanches",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "saturdays",
    "sundays",
];

/// Whether `text` names a day of the week.
pub fn names_a_weekday(text: &str) -> bool {
    words(&fold(text)).any(|w| WEEKDAYS.contains(&w))
}

static TIME_OF_DAY: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(
        r"(?i)\b(?:[01]?\d|2[0-3])\s?(?:h|heures?)(?:\s?[0-5]\d)?\b|\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b(?:midi|minuit|noon|midnight)\b|\b(?:1[0-2]|0?\d)\s?(?:am|pm)\b",
    )
});

/// Whether `text` tells a time of day (« de 10 h à 18 h », « 9h30 »,
/// « midi »): what « à quelle heure ? » asks, which a date does not tell.
pub fn tells_a_time_of_day(text: &str) -> bool {
    TIME_OF_DAY.is_match(text)
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

/// Number words a French answer may spell out, folded, with their value
/// (« une quarantaine » counts about 40).
/// « un » and « une » are left out: as articles they are in nearly every
/// sentence, and would make any sentence look like it holds a count.
const NUMBER_WORDS: [(&str, u32); 30] = [
    ("deux", 2),
    ("trois", 3),
    ("quatre", 4),
    ("cinq", 5),
    ("six", 6),
    ("sept", 7),
    ("huit", 8),
    ("neuf", 9),
    ("dix", 10),
    ("onze", 11),
    ("douze", 12),
    ("treize", 13),
    ("quinze", 15),
    ("vingt", 20),
    ("trente", 30),
    ("quarante", 40),
    ("cinquante", 50),
    ("soixante", 60),
    ("cent", 100),
    ("cents", 100),
    ("mille", 1000),
    ("dizaine", 10),
    ("douzaine", 12),
    ("quinzaine", 15),
    ("vingtaine", 20),
    ("trentaine", 30),
    ("quarantaine", 40),
    ("cinquantaine", 50),
    ("centaine", 100),
    ("millier", 1000),
];

static DIGITS: LazyLock<Regex> = LazyLock::new(|| literal_regex(r"\d+(?:[.,]\d+)?"));
static YEAR: LazyLock<Regex> = LazyLock::new(|| literal_regex(r"\b(?:19|20)\d\d\b"));
/// « le 27 novembre », « 1er mars »: the day of a date.
static DAY_OF_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(
        r"(?i)\b\d{1,2}(?:er)?[\s\u{00a0}]+(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)\b",
    )
});
/// A date with its month and a day or a year (« le 12 février 2026 »,
/// « juin 2015 », « 9 octobre »).
static DATE_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(
        r"(?i)\b(?:\d{1,2}(?:er)?[\s\u{00a0}]+)?(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)(?:[\s\u{00a0}]+\d{4})?\b",
    )
});
/// A length: a number, in digits or words, and a unit of time (« 5 ans »,
/// « un mois », « quinze jours »).
static LENGTH_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(
        r"(?i)\b(?:\d+|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente)[\s\u{00a0}]+(?:ans?|années?|mois|semaines?|jours?|heures?|minutes?)\b",
    )
});
/// « la 2e édition », « 1er », « 3ème », « 3rd »: a rank written in
/// digits, the number captured.
static RANK: LazyLock<Regex> =
    LazyLock::new(|| literal_regex(r"(?i)\b(\d+)(?:e|er|re|ère|ème|eme|ere|st|nd|rd|th)\b"));
/// « 50 % », « 35 à 50 % », « 10 pour cent »: a share of something.
static PERCENTAGE: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(r"(?i)(\d+(?:[.,]\d+)?)[\s\u{00a0}\u{202f}]*(?:%|pour\s*cent\b|percent\b)")
});

/// A sum of money in digits (« 15 000 euros », « 2 M€ ») or, in the
/// millions, in words (« un million d'euros », « deux milliards
/// d'euros »).
const AMOUNT_PATTERN: &str = r"\d[\d\s.,]*\s*(?:€|euros?\b|k€|m€|millions? d['’]euros|milliards? d['’]euros)|€\s*\d|\b(?:un|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|cent)\s+(?:millions?|milliards?)\s+d['’]euros";

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| literal_regex(&format!("(?i){AMOUNT_PATTERN}")));

/// A sum of money with the word that bounds it, which is part of the fact
/// (« plus d'un million d'euros », « environ 9 millions d'euros »).
static AMOUNT_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    literal_regex(&format!(
        r"(?i)(?:\b(?:plus|moins|près) d(?:e\s+|['’])|\benviron\s+|\bjusqu['’]à\s+|\bau (?:moins|plus)\s+)?(?:{AMOUNT_PATTERN})"
    ))
});

/// `text` folded, its words joined by single spaces and framed by spaces,
/// so that a phrase is found as whole words whatever the punctuation
/// (« jusqu'à quand? » holds « jusqu a quand »).
pub fn spaced_words(text: &str) -> String {
    let folded = fold(text);
    format!(" {} ", words(&folded).collect::<Vec<_>>().join(" "))
}

/// Compiles a pattern written in the source. A typo in one is a bug caught
/// by the unit tests beside it, never a runtime condition.
#[allow(clippy::expect_used)]
pub(super) fn literal_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the patterns written in the source are valid")
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

/// A folded word's first five letters: enough to meet its other forms and
/// spellings (« visite », « visiter », « visiteurs »; « méthanisation »
/// folded and « methanization ») without the index's stemmer.
pub fn rough_stem(word: &str) -> String {
    word.chars().take(5).collect()
}

/// Whether a folded word spells a number out (« trois », « centaine »).
pub fn is_number_word(word: &str) -> bool {
    number_word_value(word).is_some()
}

/// The value of a folded number word (« quarantaine » → 40).
pub fn number_word_value(word: &str) -> Option<u32> {
    NUMBER_WORDS
        .iter()
        .find(|(spelt, _)| *spelt == word)
        .map(|&(_, value)| value)
}

/// The numbers of `text`, in digits (normalised) or in words (folded).
pub fn number_mentions(text: &str) -> Vec<String> {
    let mut found = numbers(text);
    let folded = fold(text);
    found.extend(
        words(&folded)
            .filter(|w| is_number_word(w))
            .map(str::to_string),
    );
    found
}

/// The numbers of `text` that count something: [`number_mentions`] less
/// the years, days of the month and ranks (« en 2015 », « le 27
/// novembre », « la 2e édition » date or order a fact, they count nothing).
pub fn count_mentions(text: &str) -> Vec<String> {
    let text = YEAR.replace_all(text, " ");
    let text = DAY_OF_MONTH.replace_all(&text, " ");
    number_mentions(&RANK.replace_all(&text, " "))
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

/// The shares `text` states, as their numbers (« 50 » of « 50 % »).
pub fn rate_mentions(text: &str) -> Vec<String> {
    PERCENTAGE
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().replace(',', "."))
        .collect()
}

/// Countries as `fold` and `words` leave them (« Pays-Bas » → « pays
/// bas »), in French and English: the members of the European Union, its
/// neighbours, and the world's largest economies.
const COUNTRIES: [&str; 96] = [
    "france",
    "allemagne",
    "germany",
    "belgique",
    "belgium",
    "pays bas",
    "netherlands",
    "luxembourg",
    "italie",
    "italy",
    "espagne",
    "spain",
    "portugal",
    "irlande",
    "ireland",
    "autriche",
    "austria",
    "danemark",
    "denmark",
    "suede",
    "sweden",
    "finlande",
    "finland",
    "pologne",
    "poland",
    "tchequie",
    "czechia",
    "republique tcheque",
    "czech republic",
    "slovaquie",
    "slovakia",
    "hongrie",
    "hungary",
    "slovenie",
    "slovenia",
    "croatie",
    "croatia",
    "roumanie",
    "romania",
    "bulgarie",
    "bulgaria",
    "grece",
    "greece",
    "chypre",
    "cyprus",
    "malte",
    "malta",
    "estonie",
    "estonia",
    "lettonie",
    "latvia",
    "lituanie",
    "lithuania",
    "royaume uni",
    "united kingdom",
    "angleterre",
    "england",
    "ecosse",
    "scotland",
    "pays de galles",
    "wales",
    "suisse",
    "switzerland",
    "norvege",
    "norway",
    "islande",
    "iceland",
    "ukraine",
    "turquie",
    "turkey",
    "etats unis",
    "united states",
    "usa",
    "canada",
    "quebec",
    "mexique",
    "mexico",
    "bresil",
    "brazil",
    "argentine",
    "argentina",
    "chine",
    "china",
    "japon",
    "japan",
    "coree",
    "korea",
    "inde",
    "india",
    "australie",
    "australia",
    "maroc",
    "morocco",
    "tunisie",
    "tunisia",
    "senegal",
];

/// Whether `text` names a country (« quels pays ? » is answered by none
/// other).
pub fn names_a_country(text: &str) -> bool {
    let folded = fold(text);
    let spaced = format!(" {} ", words(&folded).collect::<Vec<_>>().join(" "));
    COUNTRIES
        .iter()
        .any(|country| spaced.contains(&format!(" {country} ")))
}

/// The one share `text` states, as written (« 50 % » of « une subvention
/// de 50 % des dépenses, plafonnée à 20 000 € »): none when it states
/// several, or a range (« de 35 à 50 % », where « 50 % » alone would be
/// wrong).
pub fn lone_percentage(text: &str) -> Option<&str> {
    let mut found = PERCENTAGE.find_iter(text);
    let only = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let before: Vec<&str> = text[..only.start()]
        .split_whitespace()
        .rev()
        .take(2)
        .collect();
    let ends_a_range = matches!(
        before.as_slice(),
        [joiner, start] if ["à", "a", "et", "-", "–", "to", "and"].contains(joiner)
            && start.chars().any(|c| c.is_ascii_digit())
    );
    (!ends_a_range).then_some(only.as_str())
}

/// The ranks `text` names (« la 2e édition », « la première édition »,
/// « the first year »), as numbers.
pub fn ranks(text: &str) -> Vec<u32> {
    const RANK_WORDS: [(&str, u32); 12] = [
        ("premier", 1),
        ("premiere", 1),
        ("first", 1),
        ("deuxieme", 2),
        ("second", 2),
        ("seconde", 2),
        ("troisieme", 3),
        ("third", 3),
        ("quatrieme", 4),
        ("fourth", 4),
        ("cinquieme", 5),
        ("fifth", 5),
    ];
    let mut found: Vec<u32> = RANK
        .captures_iter(text)
        .filter_map(|c| c.get(1)?.as_str().parse().ok())
        .collect();
    let folded = fold(text);
    found.extend(words(&folded).filter_map(|w| {
        RANK_WORDS
            .iter()
            .find(|(word, _)| *word == w)
            .map(|&(_, rank)| rank)
    }));
    found
}

/// Whether `text` states a zero rate in words (« prêt à taux zéro »,
/// « interest-free »).
pub fn has_zero_rate(text: &str) -> bool {
    let folded = fold(text);
    [
        "taux zero",
        "interest-free",
        "interest free",
        "zero interest",
        "sans interet",
    ]
    .iter()
    .any(|phrase| folded.contains(phrase))
}

/// The dates `text` writes with their month and a day or a year, as
/// written.
pub fn date_phrases(text: &str) -> Vec<&str> {
    DATE_PHRASE
        .find_iter(text)
        .map(|m| m.as_str())
        .filter(|phrase| phrase.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The sums of money `text` states, as written, with the word that bounds
/// them (« plus d'un million d'euros »).
pub fn amount_phrases(text: &str) -> Vec<&str> {
    AMOUNT_PHRASE
        .find_iter(text)
        .map(|m| m.as_str().trim_end())
        .collect()
}

/// The lengths of time `text` states, as written (« 5 ans », « un mois »).
pub fn length_phrases(text: &str) -> Vec<&str> {
    LENGTH_PHRASE.find_iter(text).map(|m| m.as_str()).collect()
}

/// Whether `text` holds an amount of money.
pub fn has_amount(text: &str) -> bool {
    AMOUNT.is_match(text)
}

/// Whether `text` states a rule of who or what a programme takes: a
/// condition (« doit », « au moins », « ne … que »), a limit (« au plus »,
/// « plafonné »), a scope (« vise », « s'adresse à », « sont retenues ») or
/// an exclusion (« exclus », « mais pas », « sauf »). A description
/// (« Impulsion Conseil aide les TPE… ») states none.
pub fn states_a_rule(text: &str) -> bool {
    static RULE: LazyLock<Regex> = LazyLock::new(|| {
        literal_regex(
            r"\b(?:doit|doivent|au moins|au plus|moins de|exclu(?:e|s|es)?|eligibles?|ne\s+(?:\S+\s+){0,3}?(?:pas|que|ni)\b|mais pas|sauf|seul(?:e|s|es)?|visent|vise(?:e|s|es)?|concerne(?:e|s|es)?|s'adresse|retenu(?:e|s|es)?|pris(?:e|es)? en charge|sont aide(?:e|s|es)?|ouverte? aux|reserve(?:e|s|es)?|releve|plafonne(?:e|s|es)?|cumule(?:e|s|es)?|y compris|a partir d|jusqu'a|peu(?:t|vent))\b",
        )
    });
    RULE.is_match(&fold(text))
}

/// What sizes a company: in « un chiffre d'affaires ou un bilan d'au plus 2
/// millions d'euros » the amount says which companies may apply, not what
/// they get.
pub const COMPANY_SIZES: [&str; 3] = ["chiffre d affaires", "bilan", "turnover"];

/// Words (folded, French and English) between a count and the noun it
/// counts: « une quarantaine *d'*emplois », « 40 *nouveaux* emplois »,
/// « 40 *permanent* jobs ». The number counts the noun then, as « 35 » does
/// not in « taux 35 % condition emplois ».
pub const BETWEEN_A_COUNT_AND_ITS_NOUN: [&str; 14] = [
    "de",
    "d",
    "nouveau",
    "nouveaux",
    "nouvelle",
    "nouvelles",
    "net",
    "nets",
    "permanent",
    "permanents",
    "new",
    "additional",
    "extra",
    "full",
];

/// What was invested, a sum that is no running budget.
pub const INVESTING: [&str; 4] = ["investi", "investit", "investissement", "investissements"];

/// What funds something, besides [`INVESTING`], rather than prices it:
/// « la Région y a investi 1,2 million d'euros » is not what a visitor
/// pays.
pub const FUNDING: [&str; 7] = [
    "budget",
    "financement",
    "subvention",
    "pret",
    "accorde",
    "apporte",
    "leve",
];

/// Whether `text` holds an amount of money that none of `kinds` (folded
/// words or phrases) announces within the six words before it.
pub fn has_amount_other_than(text: &str, kinds: &[&str]) -> bool {
    AMOUNT.find_iter(text).any(|amount| {
        let before = spaced_words(&text[..amount.start()]);
        let near: Vec<&str> = before.split_whitespace().rev().take(6).collect();
        let near = format!(" {} ", near.into_iter().rev().collect::<Vec<_>>().join(" "));
        !kinds.iter().any(|kind| near.contains(&format!(" {kind} ")))
    })
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

/// Whether a text says how often something happens: « chaque mois », « tous
/// les ans », « deux fois par an », « mensuel », « every month ».
pub fn has_frequency(text: &str) -> bool {
    const UNITS: [&str; 12] = [
        "an",
        "ans",
        "annee",
        "mois",
        "semaine",
        "semaines",
        "jour",
        "jours",
        "trimestre",
        "semestre",
        "month",
        "year",
    ];
    const ADJECTIVES: [&str; 12] = [
        "mensuel",
        "mensuelle",
        "annuel",
        "annuelle",
        "hebdomadaire",
        "quotidien",
        "quotidienne",
        "trimestriel",
        "trimestrielle",
        "monthly",
        "weekly",
        "yearly",
    ];
    let folded = fold(text);
    let tokens: Vec<&str> = words(&folded).collect();
    let every = tokens
        .windows(2)
        .any(|pair| matches!(pair[0], "chaque" | "par" | "every") && UNITS.contains(&pair[1]));
    let all_the = tokens.windows(3).any(|triple| {
        matches!(triple[0], "tous" | "toutes") && triple[1] == "les" && UNITS.contains(&triple[2])
    });
    every || all_the || tokens.iter().any(|w| ADJECTIVES.contains(w))
}

/// Whether `text` holds a duration (« 3 ans », « trois mois »).
pub fn has_duration(text: &str) -> bool {
    const UNITS: [&str; 13] = [
        "an", "ans", "annee", "annees", "mois", "semaine", "semaines", "jour", "jours", "heure",
        "heures", "minute", "minutes",
    ];
    let folded = fold(text);
    let tokens: Vec<&str> = words(&folded).collect();
    // Before a unit of time « un » and « une » count (« pendant un mois »).
    tokens.windows(2).any(|pair| {
        (pair[0].chars().all(|c| c.is_ascii_digit())
            || is_number_word(pair[0])
            || matches!(pair[0], "un" | "une"))
            && UNITS.contains(&pair[1])
    })
}

/// The four-digit years (1900–2099) a text mentions.
pub fn years(text: &str) -> Vec<String> {
    YEAR.find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Whether a text gives a way to get in touch: a French telephone number,
/// an e-mail address, a web address or a street address (« 12 rue … »).
pub fn has_contact(text: &str) -> bool {
    static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
        literal_regex(
            r"(?i)(?:\+33\s?|\b0)[1-9](?:[\s.\-]?\d{2}){4}\b|[\w.+\-]+@[\w\-]+\.[\w.\-]+|\bhttps?://\S+|\bwww\.\S+|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|all[ée]e|quai|chemin|route|impasse|cours|esplanade)\b",
        )
    });
    CONTACT.is_match(text)
}

/// What the locative phrases of a text name (« Colombelles » in « à
/// Colombelles », « le stand régional » in « sur le stand régional »): the
/// words after a locative preposition, up to punctuation or four words.
/// « en » counts only before a name (« en Normandie », not « en janvier »
/// or « en lien avec »).
pub fn locative_phrases(text: &str) -> Vec<String> {
    situated(text)
        .into_iter()
        .map(|(_, object)| object.to_string())
        .collect()
}

/// The locative phrases of a text whole, preposition included (« au Havre
/// et à Caen », « en Haute-Normandie »): what a short answer to « où ? »
/// shows.
pub fn place_phrases(text: &str) -> Vec<&str> {
    situated(text)
        .into_iter()
        .map(|(phrase, _)| phrase)
        .collect()
}

/// Each locative phrase of `text` (see [`locative_phrases`]) and its object.
fn situated(text: &str) -> Vec<(&str, &str)> {
    static LOCATIVE: LazyLock<Regex> = LazyLock::new(|| {
        literal_regex(
            r"(?i:\b(?:à|au|aux|dans|sur|chez|près de|pres de)\s+)([^\s,.;:!?()]+(?:\s+[^\s,.;:!?()]+){0,3})|\ben\s+(\p{Lu}[^\s,.;:!?()]*(?:\s+[^\s,.;:!?()]+){0,3})",
        )
    });
    // Prepositional idioms that situate nothing (« au service de », « à
    // partir de », « au moins »), and « à » before an infinitive (« à
    // faire appel »).
    const NOT_PLACES: [&str; 9] = [
        "service", "cours", "moins", "plus", "partir", "travers", "titre", "hauteur", "total",
    ];
    let situates = |object: &str| {
        let head = object.split_whitespace().next().unwrap_or_default();
        let folded = fold(head);
        let infinitive = head.chars().next().is_some_and(char::is_lowercase)
            && (folded.ends_with("er") || folded.ends_with("ir") || folded.ends_with("re"));
        !infinitive && !NOT_PLACES.contains(&folded.as_str())
    };
    // After « en », an acronym is a field (« compétences en IA », « en
    // RSE »), not a region.
    let names_a_field = |object: &str| object.split_whitespace().next().is_some_and(is_acronym);
    LOCATIVE
        .captures_iter(text)
        .filter_map(|c| match (c.get(0), c.get(1), c.get(2)) {
            (Some(phrase), Some(_), _) if governs_its_a(&text[..phrase.start()]) => None,
            (Some(phrase), Some(object), _) => Some((phrase.as_str(), object.as_str())),
            (Some(phrase), None, Some(object)) if !names_a_field(object.as_str()) => {
                Some((phrase.as_str(), object.as_str()))
            }
            _ => None,
        })
        .filter(|(_, object)| situates(object))
        .map(|(phrase, object)| (phrase.trim_end(), object))
        .collect()
}

/// Whether the last word of `before` takes its complement with « à » and
/// so makes no place of it: « dédié à l'IA », « consacrée aux données »,
/// « appliquée à la santé », « grâce à », « face à ». « Ouverte à
/// L'Atrium » situates; « ouverte à tous » is told apart by the words
/// after it, as any locative is.
fn governs_its_a(before: &str) -> bool {
    const STEMS: [&str; 6] = ["dedi", "consacr", "appliqu", "destin", "reserv", "adapt"];
    let folded = fold(before);
    let Some(last) = words(&folded).last() else {
        return false;
    };
    let participle = ["e", "ee", "es", "ees"]
        .iter()
        .any(|ending| last.ends_with(ending));
    matches!(last, "grace" | "face" | "lie" | "liee" | "lies" | "liees")
        || (participle && STEMS.iter().any(|stem| last.starts_with(stem)))
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
        if !word.is_empty() && (is_acronym(word) || (is_capitalised && !sentence_start)) {
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

/// The byte bounds of the words of `text`, as [`words`] splits its folded
/// form.
pub fn word_bounds(text: &str) -> Vec<(usize, usize)> {
    let mut bounds = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                bounds.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        bounds.push((from, text.len()));
    }
    bounds
}

/// Where `tokens` count `noun`: the number's index and the noun's, for
/// « 6 pays » and « une centaine d'entreprises » (a number word before
/// « de »), in order.
pub fn counts_of(tokens: &[&str], noun: &str) -> Vec<(usize, usize)> {
    (0..tokens.len())
        .filter_map(|i| {
            let digits = tokens[i].chars().all(|c| c.is_ascii_digit());
            if digits && tokens.get(i + 1) == Some(&noun) {
                Some((i, i + 1))
            } else if is_number_word(tokens[i])
                && matches!(tokens.get(i + 1), Some(&"de" | &"d"))
                && tokens.get(i + 2) == Some(&noun)
            {
                Some((i, i + 2))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn times_of_day_are_clock_times_not_counts_of_hours() {
        for told in [
            "de 10 h à 18 h",
            "dès 9h30",
            "à 14:00",
            "jusqu'à midi",
            "at 6 pm",
        ] {
            assert!(tells_a_time_of_day(told), "{told}");
        }
        for not_told in ["le 7 mars 2019", "du mardi au dimanche", "en 2 ans", "25 %"] {
            assert!(!tells_a_time_of_day(not_told), "{not_told}");
        }
    }
    use super::*;

    #[test]
    fn countries_are_named_in_either_language_and_in_several_words() {
        assert!(names_a_country(
            "Les partenaires viennent de Belgique et des Pays-Bas."
        ));
        assert!(names_a_country("partners from the United Kingdom"));
        assert!(!names_a_country(
            "La Région, au travers du DataLab Normandie, est partenaire."
        ));
        assert!(!names_a_country("six pays européens"));
    }

    #[test]
    fn a_lone_share_is_found_but_not_one_of_several_or_the_end_of_a_range() {
        assert_eq!(
            lone_percentage("Une subvention de 50 % des dépenses, plafonnée à 20 000 €."),
            Some("50 %")
        );
        assert_eq!(
            lone_percentage("soit 35 pour cent du coût"),
            Some("35 pour cent")
        );
        assert_eq!(lone_percentage("de 35 à 50 % des dépenses"), None);
        assert_eq!(lone_percentage("between 20 and 40% of costs"), None);
        assert_eq!(lone_percentage("30 % puis 20 %"), None);
        assert_eq!(lone_percentage("aucun pourcentage ici"), None);
    }

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(fold("Février À l’Université"), "fevrier a l'universite");
        assert_eq!(fold("Cœur"), "coeur");
    }

    #[test]
    fn dates_and_ranks_count_nothing() {
        assert!(count_mentions("Le 27 novembre, la 2e édition du forum, en 2025.").is_empty());
        assert!(count_mentions("Ouvert le 1er mars et le 12\u{a0}février.").is_empty());
        assert_eq!(
            count_mentions("Le 27 novembre, 600 personnes, 12 partenaires de 6 pays."),
            vec!["600", "12", "6"]
        );
        assert_eq!(count_mentions("plus de 200 acteurs"), vec!["200"]);
    }

    #[test]
    fn numbers_ignore_thousands_separators() {
        assert_eq!(
            numbers("100 000 habitants et 12,50 €"),
            vec!["100000", "12.50"]
        );
    }

    #[test]
    fn a_frequency_says_how_often() {
        assert!(has_frequency("Un comité d'experts se réunit chaque mois."));
        assert!(has_frequency("Deux fois par an, tous les ans."));
        assert!(has_frequency("Une réunion mensuelle."));
        assert!(!has_frequency("Pendant un mois, 6 équipes ont travaillé."));
        assert!(!has_frequency("Le 9 octobre 2025."));
    }

    #[test]
    fn locative_phrases_situate_something() {
        assert_eq!(
            locative_phrases("Un siège à Colombelles, près de Caen."),
            vec!["Colombelles", "Caen"]
        );
        assert_eq!(
            locative_phrases("Il était sur le stand régional."),
            vec!["le stand régional"]
        );
        assert!(locative_phrases(
            "Au service de l'économie, à partir de mars, à faire appel, en janvier."
        )
        .is_empty());
        assert!(
            locative_phrases("Valoriser les compétences normandes en IA et en RSE.").is_empty()
        );
        assert_eq!(
            locative_phrases("Il travaille en Normandie."),
            vec!["Normandie"]
        );
        // A participle that takes « à » makes no place of its complement.
        assert!(locative_phrases(
            "Le forum dédié à l'IA appliquée à la santé, consacré aux données, grâce à Okwin."
        )
        .is_empty());
        assert_eq!(
            locative_phrases("L'exposition est ouverte à L'Atrium."),
            vec!["L'Atrium"]
        );
        assert_eq!(
            place_phrases("Un siège à Colombelles, près de Caen."),
            vec!["à Colombelles", "près de Caen"]
        );
    }

    #[test]
    fn contacts_are_recognised() {
        assert!(has_contact("Appelez le 02 31 53 34 40."));
        assert!(has_contact("Écrivez à contact@adnormandie.fr"));
        assert!(has_contact("Voir www.adnormandie.fr"));
        assert!(!has_contact("Elle comptait 56 agents en 2019."));
    }

    #[test]
    fn answer_types_are_recognised() {
        assert!(has_amount("un budget de 2 millions d'euros"));
        assert!(has_amount("12,50 €"));
        assert!(!has_amount("12 partenaires"));
        assert!(has_amount(
            "la Région y a investi plus d'un million d'euros"
        ));
        assert!(has_amount("Deux milliards d’euros."));
        assert!(!has_amount("un million de visiteurs"));
        assert_eq!(
            amount_phrases("Il offre 1 000 m² ; la Région y a investi plus d'un million d'euros."),
            ["plus d'un million d'euros"]
        );
        assert_eq!(
            amount_phrases("Son budget était d'environ 9 millions d'euros en 2018."),
            ["environ 9 millions d'euros"]
        );
        assert_eq!(
            amount_phrases("un bilan d'au plus 2 millions d'euros"),
            ["au plus 2 millions d'euros"]
        );
        assert!(has_number("réunit douze partenaires"));
        assert!(has_date("le 12 février"));
        assert!(has_date("en 2026"));
        assert!(!has_date("le forum dédié à la santé"));
        assert!(has_duration("pour 3 ans"));
        assert!(!has_duration("3 axes"));
        assert!(has_duration("Pendant un mois, 6 équipes"));
        assert_eq!(length_phrases("Pendant un mois, 6 équipes"), ["un mois"]);
        assert_eq!(
            length_phrases("remboursé sur 5 ans après un différé de 2 ans"),
            ["5 ans", "2 ans"]
        );
        assert_eq!(
            date_phrases("Obtenu en juin 2015, confirmé le 3 avril 2019, en mai."),
            ["juin 2015", "3 avril 2019"]
        );
        assert!(!has_duration("un projet"));
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
