//! The wording of replies: the extractive answer, when a short span is worth
//! highlighting, and the polite « I do not know », in the question's
//! language. Only the frame is translated: the quote, and the short answer
//! inside it, stay the documents' French words, so a reply in English
//! states nothing the sources do not.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::corpus::Passage;

use super::language::Language;

use super::question::AnswerType;
use super::text::{self, fold, words};

/// Words longer than this make a span a paraphrase of the sentence, not a
/// short answer.
const SHORT_SPAN_WORDS: usize = 6;

/// The unit of a share or an amount, right after its number.
static UNIT_AFTER_A_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    text::literal_regex(
        r"(?i)^[\s\u{00a0}\u{202f}]*(?:%|k€|m€|€|euros?\b|pour\s+cent\b|(?:millions?|milliards?)(?:\s+d['’]euros\b)?)",
    )
});

/// Days of the week as a quote writes them: « du mardi au dimanche », « le
/// lundi », « lundi et mercredi ».
static WEEKDAY_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    let day = "(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?";
    text::literal_regex(&format!(
        r"(?i)\b(?:(?:du|le|les)\s+)?{day}(?:\s+(?:au|à|et)\s+{day})?\b"
    ))
});

/// The quote's days of the week, when it names them once: the answer to
/// « c'est ouvert quels jours ? ».
pub(crate) fn the_weekdays(quote: &str) -> Option<String> {
    let mut found = WEEKDAY_PHRASE.find_iter(quote);
    let days = found.next()?;
    found.next().is_none().then(|| days.as_str().to_string())
}

/// The quote's one date (with its month), one length or one named place,
/// when the question asks for that kind and the quote states exactly one:
/// the base model's span is often another part of the sentence (« 6 » of
/// « Pendant un mois, 6 équipes… », « 2015 » of « en juin 2015 », « le 9
/// octobre » for « c'était où ? »), while a sentence that answers and holds
/// a single fact of the kind asked holds it there.
pub(crate) fn the_only_fact_of_its_kind(answer_type: AnswerType, quote: &str) -> Option<String> {
    let mut found: Vec<String> = match answer_type {
        AnswerType::Date => text::date_phrases(quote)
            .into_iter()
            .map(str::to_string)
            .collect(),
        AnswerType::Duration => text::length_phrases(quote)
            .into_iter()
            .map(str::to_string)
            .collect(),
        AnswerType::Amount => text::amount_phrases(quote)
            .into_iter()
            .map(str::to_string)
            .collect(),
        // A place has a name (« Caen », « l'Université de Caen »), and
        // not only an acronym: « à l'IA appliquée à la santé » is a topic.
        AnswerType::Place => text::place_phrases(quote)
            .into_iter()
            .filter(|phrase| {
                text::proper_names(phrase)
                    .iter()
                    .any(|name| !text::is_acronym(name))
            })
            .map(str::to_string)
            .collect(),
        _ => return None,
    };
    found.dedup();
    match found.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// The model's short span made whole: without the punctuation it copied
/// after it, with the unit of its number and the names listed before it.
pub(crate) fn completed_span(span: &str, quote: &str) -> String {
    let tidy = span.trim().trim_end_matches([',', ';', ':']);
    with_its_list(&with_its_bound(&with_its_unit(tidy, quote), quote), quote)
}

/// A bound written right before a number: « moins de », « au plus »…
static BOUND_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    text::literal_regex(
        r"(?i)(?:^|[\s(])((?:moins de|plus de|au moins|au plus|jusqu['’]à|environ|près de)[\s\u{00a0}]+)$",
    )
});

/// Whether the clause that ends `before` is negative (« Aucune entreprise
/// ne peut porter plus de 70 % »): the bound then states what is not
/// allowed, and shown alone (« plus de 70 % ») it says the opposite.
fn negated(before: &str) -> bool {
    let clause = before.rsplit(['.', ';', ':', ',']).next().unwrap_or(before);
    words(&fold(clause)).any(|w| matches!(w, "ne" | "n" | "pas" | "aucun" | "aucune" | "jamais"))
}

/// `span` with the bound the quote writes right before it, when the span
/// starts on a number: « 10 salariés » of « moins de 10 salariés » reads as
/// the limit allowed, when it is one more than allowed.
fn with_its_bound(span: &str, quote: &str) -> String {
    let trimmed = span.trim();
    if !trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        return span.to_string();
    }
    let bound = quote
        .match_indices(trimmed)
        .find_map(|(at, _)| BOUND_BEFORE.captures(&quote[..at]))
        .and_then(|found| found.get(1))
        .filter(|bound| !negated(&quote[..bound.start()]));
    match bound {
        Some(bound) => format!("{}{trimmed}", bound.as_str()),
        None => span.to_string(),
    }
}

/// `span` with the names listed before it when it is the last of an
/// enumeration (« Le Havre » of « de Rouen, Caen et Le Havre »): shown
/// alone, the last name reads as the whole answer.
fn with_its_list(span: &str, quote: &str) -> String {
    let trimmed = span.trim();
    let Some(at) = quote
        .find(trimmed)
        .filter(|_| trimmed.starts_with(char::is_uppercase))
    else {
        return span.to_string();
    };
    let before = &quote[..at];
    // Before the last name comes « et »; before a span that holds it
    // (« Caen et Le Havre »), a comma.
    let holds_the_end = trimmed.contains(" et ") || trimmed.contains(" and ");
    let Some(mut head) = before
        .strip_suffix(" et ")
        .or_else(|| before.strip_suffix(" and "))
        .or_else(|| before.strip_suffix(", ").filter(|_| holds_the_end))
    else {
        return span.to_string();
    };
    let is_a_name = |item: &str| {
        (1..=3).contains(&item.split_whitespace().count()) && item.starts_with(char::is_uppercase)
    };
    while let Some(comma) = head
        .rfind(", ")
        .filter(|&comma| is_a_name(&head[comma + 2..]))
    {
        head = &head[..comma];
    }
    // The list's first name: the capitalised words that end `head`
    // (« Rouen » of « une candidature commune de Rouen »).
    let mut first = head.len();
    let mut taken = 0;
    for word in head.rsplit(' ').take(3) {
        if !word.starts_with(char::is_uppercase) {
            break;
        }
        first -= word.len() + usize::from(taken > 0);
        taken += 1;
    }
    if taken == 0 {
        return span.to_string();
    }
    format!("{}{trimmed}", &quote[first..at])
}

/// The start of a range, right before its end: « 0 à », « 35 – ».
static RANGE_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    text::literal_regex(
        r"(?i)\d[\s\u{00a0}\u{202f}]*%?[\s\u{00a0}\u{202f}]*(?:à|a|-|–|et)[\s\u{00a0}\u{202f}]*$",
    )
});

/// `span` with the unit the quote writes right after it, when the span
/// ends on a number and stops before its unit: the model copies « 10 » of
/// « (10 % pour la méthanisation) » and « 1 » of « 1 million d'euros »,
/// and without the unit the highlight states another quantity.
fn with_its_unit(span: &str, quote: &str) -> String {
    let number = span.trim().trim_end_matches(['.', ',', ';', ':']);
    if !number.ends_with(|c: char| c.is_ascii_digit()) {
        return span.to_string();
    }
    let whole = |at: usize| {
        !quote[..at].ends_with(char::is_alphanumeric)
            && !quote[at + number.len()..].starts_with(char::is_alphanumeric)
    };
    let Some(at) = quote
        .match_indices(number)
        .map(|(at, _)| at)
        .find(|&at| whole(at))
    else {
        return span.to_string();
    };
    match UNIT_AFTER_A_NUMBER.find(&quote[at + number.len()..]) {
        Some(unit) => format!("{number}{}", unit.as_str()),
        None => span.to_string(),
    }
}

/// The extractive answer: the short answer first when there is one, then
/// the quoted sentences and where they come from.
pub(crate) fn extractive_answer(
    language: Language,
    passage: &Passage,
    quote: &str,
    highlight: Option<&str>,
) -> String {
    let mut origin = format!("{} — {}", passage.doc_title, passage.heading());
    if let Some(page) = passage.page {
        origin.push_str(&format!(", p. {page}"));
    }
    if let Some(date) = &passage.date {
        origin.push_str(&format!(" ({})", language.date_in_words(date)));
    }
    let mut answer = match language {
        Language::French => format!(
            "{}\n\nSource\u{a0}: {origin}",
            quotation(language, quote, highlight)
        ),
        Language::English => match highlight {
            Some(span) => format!(
                "{}.\n\nFrom “{origin}”: « {quote} »",
                text::capitalize(span)
            ),
            None => format!("From “{origin}”: « {quote} »"),
        },
    };
    if let Some(note) = passage
        .deadline
        .as_deref()
        .and_then(|deadline| closed_note(language, deadline, &today_iso()))
    {
        answer.push_str("\n\n");
        answer.push_str(&note);
    }
    answer
}

/// The quoted sentences, after the short answer when there is one.
pub(crate) fn quotation(language: Language, quote: &str, highlight: Option<&str>) -> String {
    // French typography puts a (non-breaking) space before the colon.
    let colon = match language {
        Language::French => "\u{a0}:",
        Language::English => ":",
    };
    match highlight {
        Some(span) => format!("{}{colon} « {} »", text::capitalize(span), quote),
        None => format!("« {} »", quote),
    }
}

/// « Closed » when the document's deadline is before `today` (both ISO
/// dates, which compare as strings).
fn closed_note(language: Language, deadline: &str, today: &str) -> Option<String> {
    (deadline < today).then(|| {
        let date = language.date_in_words(deadline);
        match language {
            Language::French => {
                format!(
                    "Attention\u{a0}: cet appel est clos\u{a0}; sa date limite était le {date}."
                )
            }
            Language::English => {
                format!("Please note: this call for projects is closed; its deadline was {date}.")
            }
        }
    })
}

/// Today's date (UTC), ISO `YYYY-MM-DD`, from the system clock.
pub(crate) fn today_iso() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    civil_date(i64::try_from(days).unwrap_or(0))
}

/// This year (UTC), from the system clock.
pub(crate) fn this_year() -> i32 {
    today_iso()
        .get(..4)
        .and_then(|year| year.parse().ok())
        .unwrap_or(2026)
}

/// Days since 1970-01-01 → proleptic Gregorian `YYYY-MM-DD` (Howard
/// Hinnant's civil-from-days algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Whether the model's span is a genuine short answer: short, not merely the
/// start of the quote copied, made of whole words, and holding the kind of
/// fact asked for (measured: on dates the model favours a bare year over
/// « 12 février »; on « combien de pays », the first number of the
/// sentence). `counted` is what a « combien de X » question counts.
pub(crate) fn worth_highlighting(
    span: &str,
    quote: &str,
    answer_type: AnswerType,
    counted: Option<&str>,
) -> bool {
    let span = span.trim().trim_end_matches(['.', ',', ';', ':']);
    let word_count = span.split_whitespace().count();
    if word_count == 0 || word_count > SHORT_SPAN_WORDS {
        return false;
    }
    let folded_span = fold(span);
    let folded_quote = fold(quote);
    if folded_quote.starts_with(&folded_span) || !folded_quote.contains(&folded_span) {
        return false;
    }
    // A span cut inside a number (« 100 » of « plus de 1 100 entreprises »)
    // states a number the quote does not: never show it as the answer.
    if !super::grounding::unsupported_numbers(span, &[quote]).is_empty() {
        return false;
    }
    // A span cut inside a word (« Normandie » of « Normandie.ai ») names
    // something the quote does not.
    if !whole_words(&folded_span, &folded_quote) {
        return false;
    }
    // « Combien de pays » asks for the number before « pays »: when the
    // quote counts them, a span without that number or noun is another
    // count.
    if let Some(noun) = counted {
        let counting = numbers_counting(&folded_quote, noun);
        if !counting.is_empty() && !words(&folded_span).any(|w| w == noun || counting.contains(&w))
        {
            return false;
        }
    }
    match answer_type {
        AnswerType::Date => {
            text::has_month(span) || (!text::has_month(quote) && text::has_date(span))
        }
        // A year or a day of the month counts nothing.
        AnswerType::Number => !text::count_mentions(span).is_empty(),
        // A length, not the day a period starts (« combien de temps dure
        // l'exposition ? » is not « 12 février 2026 »); the quote shows
        // both ends of a period.
        AnswerType::Duration => text::has_duration(span),
        // A place is what the quote situates something at (« à
        // Colombelles »), not any name it holds (« la Région »).
        // The phrase may run on into a date (« à Cherbourg en janvier
        // 2013 »): the span must hold a word that is no date.
        AnswerType::Place => {
            let names_more_than_a_date = words(&folded_span)
                .any(|w| w.chars().any(char::is_alphabetic) && !text::MONTHS.contains(&w));
            names_more_than_a_date
                && text::locative_phrases(quote).iter().any(|phrase| {
                    let phrase = fold(phrase);
                    phrase.contains(&folded_span) || folded_span.contains(&phrase)
                })
        }
        other => other.is_satisfied_by(span),
    }
}

/// Whether `span` stands in `quote` only inside parentheses that name a
/// case the question does not (« 35 à 50 % selon les cas (10 % pour la
/// méthanisation) »): an aside states an exception, and shown alone it
/// reads as the general answer. Words are compared on their
/// [`text::rough_stem`].
pub(crate) fn in_an_aside_not_asked(span: &str, quote: &str, question: &str) -> bool {
    // « 10 %. » stands only once in the quote with its full stop, at the
    // end of a range: the share itself stands in the aside too.
    let span = span.trim().trim_end_matches(['.', ',', ';', ':']);
    if span.is_empty() {
        return false;
    }
    let folded_question = fold(question);
    let asked: Vec<String> = words(&folded_question).map(text::rough_stem).collect();
    let folded_span = fold(span);
    let spanned: Vec<&str> = words(&folded_span).collect();
    // « 0 à 10 % » holds « 10 % » only as the end of a range: not an
    // occurrence a visitor would read as that share.
    let ends_a_range = |at: usize| RANGE_BEFORE.is_match(&quote[..at]);
    let mut occurrences = quote
        .match_indices(span)
        .map(|(at, _)| at)
        .filter(|&at| !ends_a_range(at))
        .peekable();
    occurrences.peek().is_some()
        && occurrences.all(|at| {
            let (Some(open), Some(close)) = (
                quote[..at].rfind('('),
                quote[at..].find(')').map(|end| at + end),
            ) else {
                return false;
            };
            if quote[open..at].contains(')') || quote[at..close].contains('(') {
                return false;
            }
            let aside = fold(&quote[open + 1..close]);
            let case: Vec<&str> = words(&aside)
                .filter(|w| w.chars().count() >= 4 && !spanned.contains(w))
                .collect();
            !case.is_empty() && !case.iter().any(|w| asked.contains(&text::rough_stem(w)))
        })
}

/// The phrase of `quote` that counts `noun` (folded), when it counts it
/// once: « 6 pays » for « combien de pays ? » when the model's span was
/// another number of the sentence (« 12 », the partners), « plus de 600
/// professionnels », « une centaine d'entreprises ». A qualifier before the
/// number (« plus de », « environ ») is part of the fact.
pub(crate) fn the_count_of(noun: &str, quote: &str) -> Option<String> {
    const QUALIFIERS: [&[&str]; 6] = [
        &["plus", "de"],
        &["moins", "de"],
        &["pres", "de"],
        &["au", "moins"],
        &["jusqu", "a"],
        &["environ"],
    ];
    let folded = fold(quote);
    let tokens: Vec<&str> = words(&folded).collect();
    let originals = text::word_bounds(quote);
    if originals.len() != tokens.len() {
        return None;
    }
    let [(mut first, last)] = text::counts_of(&tokens, noun)[..] else {
        return None;
    };
    if first > 0 && tokens[first - 1] == "une" {
        first -= 1;
    }
    if let Some(qualifier) = QUALIFIERS
        .iter()
        .find(|q| first >= q.len() && &tokens[first - q.len()..first] == **q)
    {
        first -= qualifier.len();
    }
    Some(quote[originals[first].0..originals[last].1].to_string())
}

/// The numbers that count `noun` in `folded`: right before it (« 6
/// pays ») or a number word before « de » (« une centaine d'entreprises »).
fn numbers_counting<'a>(folded: &'a str, noun: &str) -> Vec<&'a str> {
    let tokens: Vec<&str> = words(folded).collect();
    text::counts_of(&tokens, noun)
        .into_iter()
        .map(|(number, _)| tokens[number])
        .collect()
}

/// Who the quote says did `verb` (folded, from [`super::question::verb_asked_who`]):
/// in the passive, « animé par Science Action Normandie » for « qui anime
/// L'Atrium ? », « organisées par Ouest France » for « qui organisait les
/// assises ? »; failing that, in the active voice ([`the_subject`]). The
/// participle must share the verb's first
/// five letters (« organisait », « organisées », « organised ») or its
/// meaning (see [`super::synonyms`]). The agent runs from « par » to the
/// punctuation or the first lowercase word after its name (« Ouest France
/// en partenariat avec… »).
pub(crate) fn the_agent(verb: &str, quote: &str) -> Option<String> {
    const LINKS: [&str; 9] = ["de", "du", "des", "la", "le", "les", "l", "d", "et"];
    // « par le groupe Ouest-France », « par l'association Normandie.ai ».
    const WORDS_BEFORE_THE_NAME: usize = 2;
    let stem = text::rough_stem(verb);
    let asked: HashSet<String> = crate::search::analyze(verb).into_iter().collect();
    let does_the_verb = |word: &str| {
        fold(word).starts_with(&stem)
            || crate::search::analyze(word)
                .iter()
                .any(|t| super::synonyms::contains(&asked, t))
    };
    let tokens: Vec<(usize, &str)> = quote
        .split_inclusive(char::is_whitespace)
        .scan(0, |offset, piece| {
            let at = *offset;
            *offset += piece.len();
            Some((at, piece.trim_end()))
        })
        .collect();
    let Some(after_par) = tokens.windows(2).position(|pair| {
        fold(pair[1].1) == "par" && does_the_verb(pair[0].1.trim_end_matches([',', ';']))
    }) else {
        return the_subject(&tokens, quote, &does_the_verb);
    };
    let after_par = after_par + 2;
    let (start, _) = *tokens.get(after_par)?;
    let mut named_until = None;
    for (i, &(offset, token)) in tokens[after_par..].iter().enumerate() {
        let word = token.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let bare = word.rsplit(['\'', '\u{2019}']).next().unwrap_or(word);
        let capital = bare.chars().next().is_some_and(char::is_uppercase);
        let linking = LINKS.contains(&fold(word).as_str());
        let before_the_name = named_until.is_none() && i < WORDS_BEFORE_THE_NAME;
        if !(capital || before_the_name || named_until.is_some() && linking) {
            break;
        }
        if capital {
            named_until = Some(offset + word.len());
        }
        if word.len() != token.len() {
            break;
        }
    }
    named_until.map(|end| quote[start..end].to_string())
}

/// What a ceiling is set at: « plafonné aux fonds propres et à 1 million
/// d'euros », « plafonnée à 15 000 euros hors taxes par dossier ».
static CEILING: LazyLock<Regex> = LazyLock::new(|| {
    text::literal_regex(r"(?i)\bplafonn(?:é|e)(?:e|es|s)?\s+((?:à|aux|au)\s+[^.,;()]+)")
});

/// The ceiling the quote sets, for a question that asks one (« plafonné à
/// combien ? », « le plafond »), when the model's span is refused: the
/// base model picks any figure of a long rule (« 10 % » of the
/// méthanisation aside for « le prêt est plafonné à combien ? »), while
/// the words after « plafonné » are the ceiling, however many they are.
pub(crate) fn the_ceiling(question: &str, quote: &str) -> Option<String> {
    const LONGEST: usize = 10;
    let folded = fold(question);
    if !words(&folded).any(|w| w.starts_with("plafon")) {
        return None;
    }
    let ceiling = CEILING.captures(quote)?.get(1)?.as_str().trim();
    (ceiling.split_whitespace().count() <= LONGEST).then(|| ceiling.to_string())
}

/// A share the quote grants on a condition of size: « jusqu'à 35 % si le
/// projet crée au moins 30 emplois ».
static CONDITIONAL_SHARE: LazyLock<Regex> = LazyLock::new(|| {
    text::literal_regex(
        r"(?i)((?:jusqu['’]à|au plus|au moins)\s+)?(\d+(?:[.,]\d+)?\s?%)[^.;]{0,40}?\bsi\b[^.;]{0,60}?\b(?:au moins|plus de|dès)\s+(\d+)\s+(\p{L}+)",
    )
});

/// The share that applies to the visitor when they told the size the quote
/// sets as its condition: « on va créer une quarantaine d'emplois, le prêt
/// couvre jusqu'à combien ? » is answered by « jusqu'à 35 % » of « jusqu'à
/// 25 % des dépenses, et jusqu'à 35 % si le projet crée au moins 30
/// emplois », not by the first share. `None` when the question tells no
/// such count, or one under the condition.
///
/// `told_as` gives, for an English visitor, the quote's word for each noun
/// they counted (« jobs » → « emplois »).
pub(crate) fn the_share_for_the_situation(
    question: &str,
    quote: &str,
    told_as: &[(String, String)],
) -> Option<String> {
    let condition = CONDITIONAL_SHARE.captures(quote)?;
    let share = format!(
        "{}{}",
        condition.get(1).map_or("", |bound| bound.as_str()),
        &condition[2]
    );
    let threshold: u32 = condition[3].parse().ok()?;
    let counted = text::rough_stem(&fold(&condition[4]));
    let folded = fold(question);
    let tokens: Vec<&str> = words(&folded).collect();
    let told = tokens
        .iter()
        .enumerate()
        .filter(|(_, word)| {
            word.starts_with(&counted)
                || told_as
                    .iter()
                    .any(|(told, quoted)| told == *word && quoted.starts_with(&counted))
        })
        .filter_map(|(at, _)| {
            let between = tokens[..at]
                .iter()
                .rev()
                .take_while(|word| text::BETWEEN_A_COUNT_AND_ITS_NOUN.contains(word))
                .count();
            let word = tokens.get(at.checked_sub(between + 1)?)?;
            word.parse::<u32>()
                .ok()
                .or_else(|| text::number_word_value(word))
        })
        .max()?;
    (told >= threshold).then_some(share)
}

/// The active voice of [`the_agent`]: the name right before « a » or
/// « ont » and the verb's participle (« Caen Normandie Développement a
/// organisé la 2e édition »), read back to the punctuation or the first
/// lowercase word that is no link inside a name (« Université de Caen »).
fn the_subject(
    tokens: &[(usize, &str)],
    quote: &str,
    does_the_verb: &dyn Fn(&str) -> bool,
) -> Option<String> {
    const AUXILIARIES: [&str; 4] = ["a", "ont", "avait", "avaient"];
    const LINKS: [&str; 7] = ["de", "du", "des", "la", "le", "les", "et"];
    let verb = (2..tokens.len()).find(|&at| {
        AUXILIARIES.contains(&fold(tokens[at - 1].1).as_str()) && does_the_verb(tokens[at].1)
    })?;
    let mut start = None;
    for &(offset, token) in tokens[..verb - 1].iter().rev() {
        if token.ends_with([',', '.', ';', ':']) {
            break;
        }
        let bare = token.rsplit(['\'', '\u{2019}']).next().unwrap_or(token);
        let capital = bare.chars().next().is_some_and(char::is_uppercase);
        if capital {
            start = Some(offset);
        } else if start.is_none() || !LINKS.contains(&fold(token).as_str()) {
            break;
        }
    }
    let end = tokens[verb - 2].0 + tokens[verb - 2].1.len();
    start.map(|start| quote[start..end].to_string())
}

/// Words between a role (« présidente ») and the name of who holds it
/// (« Sa présidente était alors Julie Barenton-Guillas », « Jean Martin en
/// a été le premier directeur »).
const ROLE_REACH: usize = 6;

/// Whether `span` stands in `quote` within [`ROLE_REACH`] words of one of
/// `role` (folded words, see `question::LEADING`): « qui présidait ? » is
/// answered by the name beside « présidente », not by the first partner of
/// a long list. (A winner is often named far from « lauréat », after a
/// long description of the project, so only leading is checked so.)
pub(crate) fn holds_the_role(span: &str, quote: &str, role: &[&str]) -> bool {
    let folded_quote = fold(quote);
    let folded_span = fold(span);
    let quoted: Vec<&str> = words(&folded_quote).collect();
    let spanned: Vec<&str> = words(&folded_span).collect();
    if spanned.is_empty() || spanned.len() > quoted.len() {
        return false;
    }
    (0..=quoted.len() - spanned.len())
        .filter(|&at| quoted[at..at + spanned.len()] == spanned[..])
        .any(|start| {
            let from = start.saturating_sub(ROLE_REACH);
            let to = (start + spanned.len() + ROLE_REACH).min(quoted.len());
            (from..to).any(|at| super::question::says_role_at(&quoted, at, role))
        })
}

/// Whether `span` says nothing the question did not: « L'IA » for « les
/// assises de l'ia c'était où ? » only repeats what was asked about.
/// A single letter (« l ») says nothing; a number does (« 6 équipes » for
/// « combien d'équipes ? »); the bound before a number the question named
/// does not (« jusqu'à 35 % » for « taux 35 % condition »).
pub(crate) fn only_repeats_the_question(span: &str, question: &str) -> bool {
    const BOUNDS: [&str; 7] = ["jusqu", "moins", "plus", "au", "de", "environ", "pres"];
    let folded_question = fold(question);
    let asked: Vec<&str> = words(&folded_question).collect();
    let folded_span = fold(span);
    let mut said = words(&folded_span)
        .filter(|w| w.chars().count() >= 2 || w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !BOUNDS.contains(w))
        .peekable();
    said.peek().is_some() && said.all(|w| asked.contains(&w))
}

/// Whether `span` stands in `quote` at least once between word
/// boundaries (a dot followed by a letter, as in « Normandie.ai », is
/// inside a word). Both are folded.
fn whole_words(span: &str, quote: &str) -> bool {
    let inside = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    quote.match_indices(span).any(|(at, _)| {
        let before = quote[..at].chars().next_back();
        let mut after = quote[at + span.len()..].chars();
        let next = after.next();
        let dotted_word = matches!(next, Some('.' | '-' | '\'')) && inside(after.next());
        !inside(before) && !inside(next) && !dotted_word
    })
}

/// The reply when the documents do not answer, with a few questions they
/// do answer.
pub(crate) fn no_answer_message(language: Language, suggestions: &[String]) -> String {
    let mut message = match language {
        Language::English => {
            "I could not find the answer in the documents I have, so I would rather not guess."
        }
        Language::French => {
            "Je ne trouve pas la réponse dans les documents dont je dispose, et je préfère ne pas inventer."
        }
    }
    .to_string();
    if !suggestions.is_empty() {
        let (intro, separator) = match language {
            Language::English => (" You could ask me, for example: ", "; "),
            Language::French => (" Vous pouvez par exemple me demander\u{a0}: ", "\u{a0}; "),
        };
        message.push_str(intro);
        message.push_str(&suggestions.join(separator));
    }
    message
}

/// The reply when the closest passage is on the question's subject but
/// the reader is not sure it answers: say so plainly, and show that passage
/// so the visitor sees what the documents do say (it may hold the detail
/// in words the reader did not match, or only something near it).
pub(crate) fn no_detail_message(language: Language, passage: &Passage, quote: &str) -> String {
    let origin = if passage.heading().is_empty() || passage.heading() == passage.doc_title {
        passage.doc_title.clone()
    } else {
        format!("{}, {}", passage.doc_title, passage.heading())
    };
    if language == Language::English {
        format!(
            "I could not find a sure answer to this in the documents I have, so I would rather not guess. \
             The closest passage (« {origin} »): « {quote} »"
        )
    } else {
        format!(
            "Je ne trouve pas de réponse sûre à cette question dans les documents dont je dispose, et je préfère ne pas inventer. \
             Le passage le plus proche (« {origin} »)\u{a0}: « {quote} »"
        )
    }
}

/// A question about the passage titled `title`, in `language`, for a
/// visitor to tap after a refusal.
pub(crate) fn question_about(language: Language, title: &str) -> String {
    match language {
        Language::English => format!("What do the documents say about {title}?"),
        Language::French => format!("Que disent les documents sur {title}\u{a0}?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_of_what_is_asked_is_the_number_and_its_noun() {
        let boost = "Ce projet réunit 12 partenaires de 6 pays différents et vise une centaine d'entreprises européennes.";
        assert_eq!(the_count_of("pays", boost).as_deref(), Some("6 pays"));
        assert_eq!(
            the_count_of("entreprises", boost).as_deref(),
            Some("une centaine d'entreprises")
        );
        assert_eq!(the_count_of("emplois", boost), None);
        assert_eq!(
            the_count_of(
                "professionnels",
                "Plus de 600 professionnels étaient attendus."
            )
            .as_deref(),
            Some("Plus de 600 professionnels")
        );
        assert_eq!(
            the_count_of("pays", "6 pays en 2024, 8 pays en 2025."),
            None,
            "two counts: the model's span or nothing"
        );
    }

    #[test]
    fn a_role_is_answered_by_the_name_beside_it() {
        let quote = "Le consortium réunit Orange, Saagie, le CNRS, l'ENSI et plusieurs autres. Sa présidente était alors Julie Martin, élue de la Région.";
        let leading = &["presidente", "president"];
        assert!(holds_the_role("Julie Martin", quote, leading));
        assert!(!holds_the_role("Orange, Saagie", quote, leading));
        let deputy = "Le bureau compte Paul Durand, vice-président, et Julie Martin.";
        assert!(!holds_the_role("Paul Durand", deputy, leading));
    }

    #[test]
    fn a_span_that_repeats_the_question_answers_nothing() {
        let question = "les assises de l'ia cetait ou";
        assert!(only_repeats_the_question("L'IA", question));
        assert!(only_repeats_the_question("les Assises", question));
        assert!(!only_repeats_the_question(
            "l'Université de Caen Normandie",
            question
        ));
        assert!(!only_repeats_the_question("", question));
        assert!(only_repeats_the_question(
            "jusqu'à 35 %",
            "Impulsion Développement taux 35 % condition emplois"
        ));
        assert!(!only_repeats_the_question(
            "6 équipes",
            "Combien d'équipes ont participé ?"
        ));
    }

    #[test]
    fn a_place_is_where_the_quote_situates_something() {
        let quote =
            "Elle a son siège à Colombelles, près de Caen ; son budget vient surtout de la Région.";
        assert!(worth_highlighting(
            "Colombelles",
            quote,
            AnswerType::Place,
            None
        ));
        assert!(worth_highlighting("Caen", quote, AnswerType::Place, None));
        assert!(!worth_highlighting(
            "la Région",
            quote,
            AnswerType::Place,
            None
        ));
        let dated = "Il a ouvert une antenne à Cherbourg en janvier 2013.";
        assert!(worth_highlighting(
            "Cherbourg",
            dated,
            AnswerType::Place,
            None
        ));
        assert!(!worth_highlighting("2013", dated, AnswerType::Place, None));
        assert!(!worth_highlighting(
            "janvier 2013",
            dated,
            AnswerType::Place,
            None
        ));
    }

    #[test]
    fn a_year_is_not_highlighted_as_a_count() {
        let quote = "En 2021, le DataLab réunissait une vingtaine de partenaires.";
        assert!(!worth_highlighting("2021", quote, AnswerType::Number, None));
        assert!(worth_highlighting(
            "une vingtaine de partenaires",
            quote,
            AnswerType::Number,
            None
        ));
    }

    #[test]
    fn a_span_cut_inside_a_number_is_not_highlighted() {
        let quote = "L'agence a rendu visite à plus de 1 100 entreprises.";
        assert!(!worth_highlighting("100", quote, AnswerType::Number, None));
        assert!(worth_highlighting(
            "1 100 entreprises",
            quote,
            AnswerType::Number,
            None
        ));
    }

    #[test]
    fn calendar_dates_from_day_counts() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
        assert_eq!(civil_date(20_785), "2026-11-28");
        assert_eq!(today_iso().len(), 10);
    }

    #[test]
    fn a_passed_deadline_says_the_call_is_closed_and_since_when() {
        assert_eq!(
            closed_note(Language::French, "2021-03-29", "2026-11-28").as_deref(),
            Some(
                "Attention\u{a0}: cet appel est clos\u{a0}; sa date limite était le 29 mars 2021."
            )
        );
        assert_eq!(
            closed_note(Language::English, "2021-03-29", "2026-11-28").as_deref(),
            Some("Please note: this call for projects is closed; its deadline was 29 March 2021.")
        );
        assert_eq!(
            closed_note(Language::French, "2027-01-01", "2026-11-28"),
            None
        );
        assert_eq!(
            closed_note(Language::French, "2026-11-28", "2026-11-28"),
            None,
            "open on its last day"
        );
    }

    #[test]
    fn spans_copied_from_the_start_or_too_long_are_not_highlighted() {
        let quote = "Ce projet réunit 12 partenaires de 6 pays.";
        assert!(worth_highlighting(
            "12 partenaires",
            quote,
            AnswerType::Number,
            None
        ));
        assert!(!worth_highlighting(
            "Ce projet réunit",
            quote,
            AnswerType::Number,
            None
        ));
        assert!(!worth_highlighting(
            "réunit 12 partenaires de 6 pays différents et plus",
            quote,
            AnswerType::Number,
            None
        ));
        assert!(
            !worth_highlighting("partenaires", quote, AnswerType::Number, None),
            "no number in the span"
        );
    }

    #[test]
    fn a_span_cut_inside_a_word_or_counting_something_else_is_not_highlighted() {
        let quote = "Une initiative portée par l'association Normandie.ai et la Région.";
        assert!(!worth_highlighting(
            "l'association Normandie",
            quote,
            AnswerType::Name,
            None
        ));
        assert!(worth_highlighting(
            "l'association Normandie.ai",
            quote,
            AnswerType::Name,
            None
        ));
        let quote = "Ce projet réunit 12 partenaires de 6 pays différents.";
        assert!(!worth_highlighting(
            "12",
            quote,
            AnswerType::Number,
            Some("pays")
        ));
        assert!(worth_highlighting(
            "6 pays",
            quote,
            AnswerType::Number,
            Some("pays")
        ));
        assert!(worth_highlighting(
            "6",
            quote,
            AnswerType::Number,
            Some("pays")
        ));
        assert!(worth_highlighting(
            "12 partenaires",
            quote,
            AnswerType::Number,
            Some("partenaires")
        ));
    }

    #[test]
    fn a_number_cut_before_its_unit_gets_it_back() {
        let quote = "Un prêt de 35 à 50 % selon les cas (10 % pour la méthanisation), plafonné à 1 million d'euros.";
        assert_eq!(with_its_unit("10", quote), "10 %");
        assert_eq!(with_its_unit("1", quote), "1 million d'euros");
        assert_eq!(with_its_unit("50 %", quote), "50 %");
        assert_eq!(with_its_unit("la méthanisation", quote), "la méthanisation");
        let quote = "Une journée est retenue pour 1 000 euros ; 5 ans de remboursement.";
        assert_eq!(with_its_unit("1 000", quote), "1 000 euros");
        assert_eq!(with_its_unit("5", quote), "5", "a duration is not a share");
        assert_eq!(
            with_its_unit("1", quote),
            "1",
            "cut inside « 1 000 »: left for worth_highlighting to refuse"
        );
        assert_eq!(
            with_its_unit("000", "le 2000 %"),
            "000",
            "not the start of a number"
        );
    }

    #[test]
    fn an_exception_in_parentheses_answers_only_when_asked() {
        let quote = "Un prêt de 35 à 50 % selon les cas (10 % pour la méthanisation), \
                     une subvention de 0 à 10 %, et jusqu'à 10 ans.";
        assert!(in_an_aside_not_asked(
            "10 %",
            quote,
            "Impulsion Environnement taux prêt"
        ));
        assert!(!in_an_aside_not_asked(
            "10 %",
            quote,
            "methanisation cest combien"
        ));
        assert!(!in_an_aside_not_asked("35 à 50 %", quote, "taux du prêt"));
        assert!(
            !in_an_aside_not_asked("10", quote, "taux"),
            "also stands outside the parentheses"
        );
        assert!(
            !in_an_aside_not_asked("20 %", quote, "taux"),
            "not in the quote"
        );
        let quote = "Les dépenses d'IA (et la formation adaptée) sont retenues.";
        assert!(!in_an_aside_not_asked(
            "dépenses d'IA",
            quote,
            "quelles dépenses"
        ));
    }

    #[test]
    fn a_length_is_highlighted_and_not_a_day() {
        let quote = "Ouverte depuis le 12 février 2026, elle dure jusqu'en octobre 2027.";
        assert!(!worth_highlighting(
            "12 février 2026",
            quote,
            AnswerType::Duration,
            None
        ));
        let quote = "Le prêt est remboursé sur 5 ans après un différé de 2 ans.";
        assert!(worth_highlighting(
            "2 ans",
            quote,
            AnswerType::Duration,
            None
        ));
    }

    #[test]
    fn the_days_of_the_week_of_a_quote() {
        assert_eq!(
            the_weekdays("Il a ouvert le 7 mars 2019. Il est ouvert du mardi au dimanche.")
                .as_deref(),
            Some("du mardi au dimanche")
        );
        assert_eq!(the_weekdays("Il a ouvert le 7 mars 2019."), None);
        assert_eq!(the_weekdays("Fermé le lundi, nocturne le jeudi."), None);
    }

    #[test]
    fn a_number_keeps_the_bound_written_before_it() {
        let quote = "Le dispositif vise les entreprises de moins de 10 salariés, et au moins 6 mois d'activité.";
        assert_eq!(completed_span("10 salariés", quote), "moins de 10 salariés");
        assert_eq!(completed_span("6 mois", quote), "au moins 6 mois");
        let quote = "L'évènement a réuni plus de 600 décideurs.";
        assert_eq!(completed_span("600", quote), "plus de 600");
        let quote = "Aucune entreprise ne peut porter plus de 70 % des dépenses.";
        assert_eq!(completed_span("70 %", quote), "70 %");
        let quote = "Il a accueilli 600 décideurs.";
        assert_eq!(completed_span("600 décideurs", quote), "600 décideurs");
    }

    #[test]
    fn the_last_name_of_a_list_brings_the_list() {
        let quote = "Le label a été obtenu par une candidature commune de Rouen, Caen et Le Havre, soutenue par 200 acteurs.";
        assert_eq!(
            completed_span("Le Havre,", quote),
            "Rouen, Caen et Le Havre"
        );
        assert_eq!(
            with_its_list("Caen et Le Havre", quote),
            "Rouen, Caen et Le Havre"
        );
        assert_eq!(with_its_list("Rouen", quote), "Rouen");
        assert_eq!(with_its_list("200 acteurs", quote), "200 acteurs");
        let quote = "Organisées par Ouest-France et la Région.";
        assert_eq!(
            with_its_list("la Région", quote),
            "la Région",
            "not a name list"
        );
        let quote = "Il a reçu des fonds de Bpifrance et Business France.";
        assert_eq!(
            with_its_list("Business France", quote),
            "Bpifrance et Business France"
        );
    }

    #[test]
    fn the_share_for_the_visitor_s_size_is_the_conditional_one() {
        let quote = "Le prêt couvre jusqu'à 25 % des dépenses éligibles, et jusqu'à 35 % si le projet crée au moins 30 emplois nets permanents.";
        let share = |question: &str| the_share_for_the_situation(question, quote, &[]);
        assert_eq!(
            share("On va créer une quarantaine d'emplois, le prêt peut monter à combien ?")
                .as_deref(),
            Some("jusqu'à 35 %")
        );
        assert_eq!(
            share("Notre projet crée 45 emplois nets permanents, quel taux ?").as_deref(),
            Some("jusqu'à 35 %")
        );
        assert_eq!(
            share("Nous créons 12 emplois, quel taux ?"),
            None,
            "under the condition"
        );
        assert_eq!(share("Le prêt couvre combien ?"), None, "no size told");
        assert_eq!(
            share("Impulsion Développement taux 35 % condition emplois"),
            None,
            "35 counts no jobs"
        );
        assert_eq!(
            the_share_for_the_situation("40 emplois, quel taux ?", "Le taux est de 50 %.", &[]),
            None
        );
        let english = "We plan to add 40 permanent jobs. What share could the loan cover?";
        assert_eq!(share(english), None, "« jobs » is not French");
        let told_as = [("jobs".to_string(), "emplois".to_string())];
        assert_eq!(
            the_share_for_the_situation(english, quote, &told_as).as_deref(),
            Some("jusqu'à 35 %")
        );
        // « additional » stands between the count and its noun as
        // « permanent » does.
        let additional = "We will add 40 additional jobs. What share could the loan cover?";
        assert_eq!(
            the_share_for_the_situation(additional, quote, &told_as).as_deref(),
            Some("jusqu'à 35 %")
        );
    }

    #[test]
    fn the_ceiling_is_what_follows_plafonne() {
        let quote = "L'aide est un prêt de 35 à 50 % selon les cas (10 % pour la méthanisation), plafonné aux fonds propres et à 1 million d'euros, avec une subvention possible de 0 à 10 %.";
        assert_eq!(
            the_ceiling("Le prêt est plafonné à combien ?", quote).as_deref(),
            Some("aux fonds propres et à 1 million d'euros")
        );
        assert_eq!(the_ceiling("Le prêt couvre combien ?", quote), None);
        assert!(in_an_aside_not_asked(
            "10 %.",
            quote,
            "plafonné à combien ?"
        ));
    }

    #[test]
    fn who_did_it_is_the_agent_of_the_verb_asked() {
        let quote = "Il est ouvert du mardi au dimanche et animé par Science Action Normandie, une association active depuis 1996.";
        assert_eq!(
            the_agent("anime", quote).as_deref(),
            Some("Science Action Normandie")
        );
        let quote = "Le 9 octobre, l'Université de Caen a accueilli les Assises, organisées par Ouest France en partenariat avec la Région.";
        assert_eq!(
            the_agent("organisait", quote).as_deref(),
            Some("Ouest France")
        );
        assert_eq!(
            the_agent("organised", quote).as_deref(),
            Some("Ouest France")
        );
        let quote =
            "Une initiative portée par l'association Normandie.ai et soutenue par la Région.";
        assert_eq!(
            the_agent("porte", quote).as_deref(),
            Some("l'association Normandie.ai")
        );
        let quote =
            "Elle était organisée par le groupe Ouest-France, et 600 décideurs étaient attendus.";
        assert_eq!(
            the_agent("organise", quote).as_deref(),
            Some("le groupe Ouest-France")
        );
        assert_eq!(the_agent("finance", quote), None, "another verb");
        let quote =
            "Le 27 novembre, Caen Normandie Développement a organisé la 2e édition du forum.";
        assert_eq!(
            the_agent("organise", quote).as_deref(),
            Some("Caen Normandie Développement")
        );
        let quote = "Le 9 octobre, l'Université de Caen a accueilli les Assises.";
        assert_eq!(
            the_agent("accueille", quote).as_deref(),
            Some("l'Université de Caen")
        );
        assert_eq!(the_agent("organise", quote), None);
        let quote = "Le stand était animé par des bénévoles passionnés.";
        assert_eq!(the_agent("anime", quote), None, "no one named");
    }

    #[test]
    fn the_only_date_length_place_or_amount_of_a_quote_is_found() {
        let quote = "Pendant un mois, 6 équipes ont conçu des prototypes.";
        assert_eq!(
            the_only_fact_of_its_kind(AnswerType::Duration, quote).as_deref(),
            Some("un mois")
        );
        let quote = "Le label a été obtenu en juin 2015 par Rouen, Caen et Le Havre.";
        assert_eq!(
            the_only_fact_of_its_kind(AnswerType::Date, quote).as_deref(),
            Some("juin 2015")
        );
        let quote = "Remboursé sur 5 ans après un différé de 2 ans.";
        assert_eq!(the_only_fact_of_its_kind(AnswerType::Duration, quote), None);
        assert_eq!(the_only_fact_of_its_kind(AnswerType::Number, quote), None);
        let quote = "Les Assises se sont tenues le 9 octobre 2025 à l'Université de Caen.";
        assert_eq!(
            the_only_fact_of_its_kind(AnswerType::Place, quote).as_deref(),
            Some("à l'Université de Caen")
        );
        let quote = "Deux bâtiments totems au Havre et à Caen.";
        assert_eq!(
            the_only_fact_of_its_kind(AnswerType::Place, quote).as_deref(),
            Some("au Havre et à Caen")
        );
        let topic = "Le forum était dédié à l'IA appliquée à la santé.";
        assert_eq!(the_only_fact_of_its_kind(AnswerType::Place, topic), None);
        let two = "Un siège à Caen et une antenne à Cherbourg.";
        assert_eq!(the_only_fact_of_its_kind(AnswerType::Place, two), None);
        let quote = "Il offre 1 000 m² ; la Région y a investi plus d'un million d'euros.";
        assert_eq!(
            the_only_fact_of_its_kind(AnswerType::Amount, quote).as_deref(),
            Some("plus d'un million d'euros")
        );
        let two = "Au moins 50 000 euros, et un prêt plafonné à 1 million d'euros.";
        assert_eq!(the_only_fact_of_its_kind(AnswerType::Amount, two), None);
    }

    #[test]
    fn a_count_in_words_is_the_count_asked_for() {
        let quote = "BOOST AI réunit 12 partenaires et une centaine d'entreprises bêta-testeuses.";
        assert!(!worth_highlighting(
            "12",
            quote,
            AnswerType::Number,
            Some("entreprises")
        ));
        assert!(worth_highlighting(
            "une centaine d'entreprises",
            quote,
            AnswerType::Number,
            Some("entreprises")
        ));
        assert!(worth_highlighting(
            "une centaine",
            quote,
            AnswerType::Number,
            Some("entreprises")
        ));
    }

    #[test]
    fn a_bare_year_is_no_answer_to_when_if_a_month_is_known() {
        let quote = "Inauguration le 12 février 2026.";
        assert!(!worth_highlighting("2026", quote, AnswerType::Date, None));
        assert!(worth_highlighting(
            "12 février 2026",
            quote,
            AnswerType::Date,
            None
        ));
    }

    #[test]
    fn replies_speak_the_question_language_and_quote_the_french() {
        let questions = vec!["Qui a gagné le Datathon ?".to_string()];
        assert!(no_answer_message(Language::French, &questions).starts_with("Je ne trouve pas"));
        assert!(no_answer_message(Language::English, &questions).starts_with("I could not"));
        let passage = Passage {
            doc_title: "Exposition Destination IA".into(),
            section: Some("Dates".into()),
            date: Some("2025-12-31".into()),
            ..Passage::of_sentence("expo.md", "L'exposition ouvre le 12 février 2026.")
        };
        let quote = passage.text.as_str();
        assert_eq!(
            extractive_answer(Language::English, &passage, quote, Some("12 février 2026")),
            "12 février 2026.\n\nFrom “Exposition Destination IA — Dates (31 December 2025)”: \
             « L'exposition ouvre le 12 février 2026. »"
        );
        assert_eq!(
            extractive_answer(Language::French, &passage, quote, None),
            "« L'exposition ouvre le 12 février 2026. »\n\n\
             Source\u{a0}: Exposition Destination IA — Dates (31 décembre 2025)"
        );
    }
}
