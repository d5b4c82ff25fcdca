//! Greetings, thanks, « qui es-tu ? » and « aide », in French or English:
//! answered at once, without retrieval, and only when the message holds
//! nothing else. « Bonjour, quand ouvre l'exposition ? » is a question, not
//! small talk.
//!
//! Two readings: the exact phrases below, then, for a short message they
//! miss (« mrc bcp », « how's it going », « thx bye ») and the documents do
//! not answer, its meaning: the nearest of a few [`PROTOTYPES`] of each
//! kind, when it is near enough ([`NEAR_ENOUGH`], chosen on the training
//! questions). Visitors say small talk in more ways than any list holds;
//! the meaning reading is what carries to the ways nobody listed.

use super::language::Language;
use super::text::{fold, words};

/// What kind of small talk a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    /// « Bonjour », « Salut ».
    Greeting,
    /// « Merci ».
    Thanks,
    /// « Au revoir ».
    Farewell,
    /// « Qui es-tu ? », « Tu es un robot ? ».
    Identity,
    /// « Aide », « Que sais-tu faire ? ».
    Help,
    /// « Ça va ? ».
    Wellbeing,
    /// « Vous parlez anglais ? ».
    Languages,
    /// « D'accord », « OK ».
    Acknowledgement,
    /// « J'aurais quelques questions sur les aides » with no question yet:
    /// the visitor announces one.
    QuestionComing,
    /// « T'es nul », « laisse tomber »: the visitor is let down, often by
    /// a refusal. At a kiosk this is said, and deserves an apology and a
    /// way forward, not « je ne trouve pas » once more.
    Frustration,
}

/// A few ways of saying each kind of small talk, in both languages: what a
/// short message's meaning is compared with. Kinds, not visitors' strings:
/// the meaning vectors carry them to typos and other words.
pub const PROTOTYPES: &[(&str, SmallTalk, Language)] = &[
    ("Bonjour", SmallTalk::Greeting, Language::French),
    ("Salut !", SmallTalk::Greeting, Language::French),
    ("Coucou EulCat", SmallTalk::Greeting, Language::French),
    ("Hello", SmallTalk::Greeting, Language::English),
    ("Hi there", SmallTalk::Greeting, Language::English),
    ("Good morning", SmallTalk::Greeting, Language::English),
    ("Merci", SmallTalk::Thanks, Language::French),
    (
        "Merci beaucoup pour votre aide",
        SmallTalk::Thanks,
        Language::French,
    ),
    ("Tu es génial", SmallTalk::Thanks, Language::French),
    ("Thank you", SmallTalk::Thanks, Language::English),
    (
        "Thanks a lot for your help",
        SmallTalk::Thanks,
        Language::English,
    ),
    ("Great job", SmallTalk::Thanks, Language::English),
    ("Au revoir", SmallTalk::Farewell, Language::French),
    (
        "À bientôt, bonne journée",
        SmallTalk::Farewell,
        Language::French,
    ),
    ("Goodbye", SmallTalk::Farewell, Language::English),
    ("See you later, bye", SmallTalk::Farewell, Language::English),
    ("Qui es-tu ?", SmallTalk::Identity, Language::French),
    ("Tu es un robot ?", SmallTalk::Identity, Language::French),
    ("Who are you?", SmallTalk::Identity, Language::English),
    (
        "Are you a robot or a human?",
        SmallTalk::Identity,
        Language::English,
    ),
    (
        "Qu'est-ce que tu sais faire ?",
        SmallTalk::Help,
        Language::French,
    ),
    ("Tu peux m'aider ?", SmallTalk::Help, Language::French),
    ("What can you do?", SmallTalk::Help, Language::English),
    ("Can you help me?", SmallTalk::Help, Language::English),
    ("Comment ça va ?", SmallTalk::Wellbeing, Language::French),
    ("Ça va bien ?", SmallTalk::Wellbeing, Language::French),
    ("How are you?", SmallTalk::Wellbeing, Language::English),
    ("How is it going?", SmallTalk::Wellbeing, Language::English),
    (
        "Tu parles anglais ?",
        SmallTalk::Languages,
        Language::French,
    ),
    (
        "Parlez-vous français ?",
        SmallTalk::Languages,
        Language::French,
    ),
    (
        "Do you speak French?",
        SmallTalk::Languages,
        Language::English,
    ),
    (
        "Can I ask in English?",
        SmallTalk::Languages,
        Language::English,
    ),
    ("D'accord", SmallTalk::Acknowledgement, Language::French),
    (
        "Ok, c'est noté",
        SmallTalk::Acknowledgement,
        Language::French,
    ),
    ("Okay", SmallTalk::Acknowledgement, Language::English),
    (
        "J'ai une question",
        SmallTalk::QuestionComing,
        Language::French,
    ),
    (
        "I have a question",
        SmallTalk::QuestionComing,
        Language::English,
    ),
    (
        "Alright, got it",
        SmallTalk::Acknowledgement,
        Language::English,
    ),
    // Kinds the list above left out, found missing on the small-talk
    // training turns (eval/conversation): asking the assistant's name or
    // whether it is a machine, what may be asked, a one-word approval, a
    // compliment. General phrasings of each kind, not those turns.
    (
        "Comment tu t'appelles ?",
        SmallTalk::Identity,
        Language::French,
    ),
    (
        "Est-ce que vous êtes une intelligence artificielle ?",
        SmallTalk::Identity,
        Language::French,
    ),
    ("What is your name?", SmallTalk::Identity, Language::English),
    (
        "Am I chatting with a machine?",
        SmallTalk::Identity,
        Language::English,
    ),
    (
        "Quelles questions peut-on vous poser ?",
        SmallTalk::Help,
        Language::French,
    ),
    (
        "What can I ask you about?",
        SmallTalk::Help,
        Language::English,
    ),
    ("Parfait", SmallTalk::Acknowledgement, Language::French),
    ("Perfect", SmallTalk::Acknowledgement, Language::English),
    (
        "Bravo, tu es très fort",
        SmallTalk::Thanks,
        Language::French,
    ),
    ("You are really smart", SmallTalk::Thanks, Language::English),
    // Kinds a second batch of training turns, written apart from the code
    // (eval/conversation), found missing: praise with no thanks word, how
    // the assistant works and where to start, human or machine asked at
    // length, who made it, which languages, and a let-down visitor.
    // General phrasings of each kind, not those turns.
    ("C'est génial !", SmallTalk::Thanks, Language::French),
    ("Impressionnant !", SmallTalk::Thanks, Language::French),
    ("This is amazing", SmallTalk::Thanks, Language::English),
    (
        "Comment est-ce que vous fonctionnez ?",
        SmallTalk::Help,
        Language::French,
    ),
    (
        "Je ne sais pas par où commencer",
        SmallTalk::Help,
        Language::French,
    ),
    ("How do you work?", SmallTalk::Help, Language::English),
    (
        "I don't know where to start",
        SmallTalk::Help,
        Language::English,
    ),
    (
        "Est-ce qu'un humain me répond ou une machine ?",
        SmallTalk::Identity,
        Language::French,
    ),
    ("Qui vous a créé ?", SmallTalk::Identity, Language::French),
    (
        "Is a human answering me or a computer?",
        SmallTalk::Identity,
        Language::English,
    ),
    ("Who made you?", SmallTalk::Identity, Language::English),
    (
        "Dans quelles langues répondez-vous ?",
        SmallTalk::Languages,
        Language::French,
    ),
    (
        "Which languages do you speak?",
        SmallTalk::Languages,
        Language::English,
    ),
    (
        "Tu ne comprends rien",
        SmallTalk::Frustration,
        Language::French,
    ),
    (
        "Ce n'est pas ce que j'ai demandé",
        SmallTalk::Frustration,
        Language::French,
    ),
    ("You're useless", SmallTalk::Frustration, Language::English),
    (
        "That's not what I asked",
        SmallTalk::Frustration,
        Language::English,
    ),
];

/// Longest message, in words, that the meaning reading considers: small
/// talk is short, and a longer message near a greeting is a question that
/// starts with one.
pub const MAX_WORDS: usize = 8;

/// Longest message, in words, that the meaning reading considers for the
/// kinds that ask about the assistant or answer it (see
/// [`SmallTalk::may_be_long`]): visitors ask « suis-je en train d'échanger
/// avec une personne réelle ou avec un programme ? » at length, and the
/// documents go first, so a question they answer is not taken for these.
pub const MAX_WORDS_ABOUT_THE_ASSISTANT: usize = 16;

/// Cosine similarity from which a short message is the small talk of its
/// nearest prototype, both embedded with the model's classification
/// prompt. Under it the training questions nearest a prototype come to
/// 0.70 (« et ça coûte combien ? », near « que puis-je vous demander ? »),
/// and none is taken for small talk from here; the training turns of
/// small talk mostly lie above 0.75.
pub const NEAR_ENOUGH: f32 = 0.71;

/// The prototypes' meaning vectors.
#[derive(Debug, Clone)]
pub struct Prototypes {
    vectors: Vec<(Nearest, Vec<f32>)>,
}

/// The prototype nearest to a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// What kind of small talk it is.
    pub kind: SmallTalk,
    /// Its language: the message's too when the message's words do not
    /// tell (« thx a lot! », « ok »).
    pub language: Language,
    /// Cosine similarity of the message's meaning to it.
    pub similarity: f32,
}

impl Prototypes {
    /// Pairs each of [`PROTOTYPES`] with its unit vector, in the same order.
    pub fn new(vectors: Vec<Vec<f32>>) -> Self {
        Self {
            vectors: PROTOTYPES
                .iter()
                .map(|&(_, kind, language)| Nearest {
                    kind,
                    language,
                    similarity: 1.0,
                })
                .zip(vectors)
                .collect(),
        }
    }

    /// The prototype nearest to the unit vector `vector`.
    pub fn nearest(&self, vector: &[f32]) -> Option<Nearest> {
        self.vectors
            .iter()
            .map(|(prototype, unit)| Nearest {
                similarity: crate::llm::embedding::cosine(vector, unit),
                ..*prototype
            })
            .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
    }
}

/// Whether `message` ends by taking leave (« …, au revoir et bonne fin de
/// journée. », « thanks a lot, goodbye! ») and asks nothing: a farewell
/// at any length, since a question that opens with courtesies does not
/// end with one. Visitors thank at length before leaving the kiosk.
pub fn ends_by_taking_leave(message: &str) -> bool {
    const LEAVE: [&str; 14] = [
        "au revoir",
        "bonne journee",
        "bonne fin de journee",
        "bonne soiree",
        "bonne fin de soiree",
        "bon week-end",
        "bon weekend",
        "a bientot",
        "a plus",
        "bye",
        "goodbye",
        "have a nice day",
        "have a good day",
        "see you",
    ];
    let folded = fold(message);
    let ending = folded.trim_end_matches(|c: char| !c.is_alphanumeric());
    !message.contains('?') && LEAVE.iter().any(|leave| ending.ends_with(leave))
}

/// Whether `message` is short enough for the meaning reading of any kind.
pub fn is_short(message: &str) -> bool {
    word_count(message) <= MAX_WORDS
}

/// Whether `message` is short enough for the meaning reading of the kinds
/// that may be said at length.
pub fn is_short_enough_for_any_kind(message: &str) -> bool {
    word_count(message) <= MAX_WORDS_ABOUT_THE_ASSISTANT
}

fn word_count(message: &str) -> usize {
    words(&fold(message)).count()
}

/// Phrases, folded, and what they are. Longer phrases first so « au revoir »
/// is not read as something else.
const PHRASES: &[(&str, SmallTalk)] = &[
    ("what can you help me with", SmallTalk::Help),
    ("what can you do", SmallTalk::Help),
    ("are you a real person or a bot", SmallTalk::Identity),
    ("are you a real person", SmallTalk::Identity),
    ("how does it work", SmallTalk::Help),
    ("how does this work", SmallTalk::Help),
    ("who are you", SmallTalk::Identity),
    ("what are you", SmallTalk::Identity),
    ("what is your name", SmallTalk::Identity),
    ("what's your name", SmallTalk::Identity),
    ("are you a robot", SmallTalk::Identity),
    ("are you a bot", SmallTalk::Identity),
    ("introduce yourself", SmallTalk::Identity),
    ("how are you", SmallTalk::Wellbeing),
    ("good morning", SmallTalk::Greeting),
    ("good afternoon", SmallTalk::Greeting),
    ("good evening", SmallTalk::Greeting),
    ("see you", SmallTalk::Farewell),
    ("see ya", SmallTalk::Farewell),
    ("good bye", SmallTalk::Farewell),
    ("goodbye", SmallTalk::Farewell),
    ("thanks a lot", SmallTalk::Thanks),
    ("thank you very much", SmallTalk::Thanks),
    ("qu'est-ce que tu sais faire", SmallTalk::Help),
    ("que sais-tu faire", SmallTalk::Help),
    ("tu sers a quoi", SmallTalk::Help),
    ("a quoi sers-tu", SmallTalk::Help),
    ("comment ca marche", SmallTalk::Help),
    ("comment ca fonctionne", SmallTalk::Help),
    ("qui es-tu", SmallTalk::Identity),
    ("qui etes-vous", SmallTalk::Identity),
    ("tu es qui", SmallTalk::Identity),
    ("vous etes qui", SmallTalk::Identity),
    ("c'est quoi ton nom", SmallTalk::Identity),
    ("comment tu t'appelles", SmallTalk::Identity),
    ("comment vous appelez-vous", SmallTalk::Identity),
    ("tu es un robot", SmallTalk::Identity),
    ("es-tu un robot", SmallTalk::Identity),
    ("presente-toi", SmallTalk::Identity),
    ("comment ca va", SmallTalk::Wellbeing),
    ("tu vas bien", SmallTalk::Wellbeing),
    ("vous allez bien", SmallTalk::Wellbeing),
    ("comment allez-vous", SmallTalk::Wellbeing),
    ("ca va", SmallTalk::Wellbeing),
    ("au revoir", SmallTalk::Farewell),
    ("a bientot", SmallTalk::Farewell),
    ("a plus tard", SmallTalk::Farewell),
    ("a plus", SmallTalk::Farewell),
    ("bonne journee", SmallTalk::Farewell),
    ("bonne soiree", SmallTalk::Farewell),
    ("merci beaucoup", SmallTalk::Thanks),
    ("merci bien", SmallTalk::Thanks),
    ("thank you", SmallTalk::Thanks),
    ("bonjour", SmallTalk::Greeting),
    ("bonsoir", SmallTalk::Greeting),
    ("salut", SmallTalk::Greeting),
    ("coucou", SmallTalk::Greeting),
    ("hello", SmallTalk::Greeting),
    ("hi", SmallTalk::Greeting),
    ("hey", SmallTalk::Greeting),
    ("merci", SmallTalk::Thanks),
    ("thanks", SmallTalk::Thanks),
    ("bye", SmallTalk::Farewell),
    ("aide", SmallTalk::Help),
    ("aidez-moi", SmallTalk::Help),
    ("help", SmallTalk::Help),
    // Chat and SMS forms: a closed set that meaning vectors read poorly
    // (« ty » is too short to mean anything to the embedding model).
    ("cc", SmallTalk::Greeting),
    ("ty", SmallTalk::Thanks),
    ("thx", SmallTalk::Thanks),
    ("cya", SmallTalk::Farewell),
    ("ok dac", SmallTalk::Acknowledgement),
    ("dac", SmallTalk::Acknowledgement),
    ("d'ac", SmallTalk::Acknowledgement),
    ("tkt", SmallTalk::Acknowledgement),
    ("np", SmallTalk::Acknowledgement),
    ("no problem", SmallTalk::Acknowledgement),
    ("pas de souci", SmallTalk::Acknowledgement),
    ("pas de soucis", SmallTalk::Acknowledgement),
    ("laisse tomber", SmallTalk::Frustration),
    ("laissez tomber", SmallTalk::Frustration),
    ("never mind", SmallTalk::Frustration),
    ("nevermind", SmallTalk::Frustration),
    ("forget it", SmallTalk::Frustration),
    ("t'es nul", SmallTalk::Frustration),
    ("tes nul", SmallTalk::Frustration),
    ("t nul", SmallTalk::Frustration),
    ("tu es nul", SmallTalk::Frustration),
    ("c'est nul", SmallTalk::Frustration),
    ("cest nul", SmallTalk::Frustration),
    // One-word approvals, last: « merci, super » is thanks.
    ("super", SmallTalk::Acknowledgement),
    ("parfait", SmallTalk::Acknowledgement),
    ("cool", SmallTalk::Acknowledgement),
    ("nice", SmallTalk::Acknowledgement),
    ("perfect", SmallTalk::Acknowledgement),
];

/// Question words, folded.
const QUESTION_WORDS: [&str; 18] = [
    "quel", "quelle", "quels", "quelles", "quand", "combien", "comment", "ou", "qui", "pourquoi",
    "quoi", "what", "when", "how", "who", "where", "which", "why",
];

/// Words that may pad small talk without making it a question.
const FILLERS: [&str; 26] = [
    "eulcat", "a", "toi", "vous", "tous", "tout", "le", "monde", "encore", "et", "oui", "ok",
    "d'accord", "super", "tres", "bien", "there", "again", "so", "much", "very", "great", "yes",
    "all", "helpful", "today",
];

impl SmallTalk {
    /// Recognises a message that is small talk and nothing else.
    pub fn detect(message: &str) -> Option<Self> {
        let folded = fold(message);
        if announces_a_question(&words_with_hyphens(&folded)) {
            return Some(Self::QuestionComing);
        }
        let mut rest = format!(" {} ", words_with_hyphens(&folded).join(" "));
        let mut found = None;
        for (phrase, kind) in PHRASES {
            let needle = format!(" {phrase} ");
            if rest.contains(&needle) {
                found.get_or_insert(*kind);
                rest = rest.replace(&needle, " ");
            }
        }
        let kind = found?;
        let leftover = words(&rest).filter(|w| !FILLERS.contains(w)).count();
        // A let-down visitor says what they will do instead (« laissez
        // tomber, je vais me débrouiller autrement »): in the first person,
        // asking nothing; « je ne trouve pas » once more would answer
        // nothing. « laisse tomber les horaires, l'adresse » asks again.
        const FIRST_PERSON: [&str; 5] = ["je", "j", "me", "moi", "i"];
        let only_says_why = kind == Self::Frustration
            && !message.contains('?')
            && words(&rest).any(|w| FIRST_PERSON.contains(&w))
            && !words_with_hyphens(&folded)
                .iter()
                .any(|w| QUESTION_WORDS.contains(w));
        (leftover == 0 || only_says_why).then_some(kind)
    }

    /// Whether `message` can be this kind of small talk. Greetings,
    /// thanks, farewells and acknowledgements ask nothing, so a message
    /// with a question word is none of them, however near its meaning is
    /// (under the search prompt « eulcat qui t'a créé » was nearest
    /// « Coucou EulCat »); « qui es-tu ? » and « tu parles anglais ? » ask.
    pub fn fits(self, message: &str) -> bool {
        match self {
            // « Vous êtes situés où ? » asks the agency's address, however
            // near « qui êtes-vous ? » its meaning is.
            Self::Identity => {
                addresses_the_assistant(message) && !asks_a_place_a_date_or_a_quantity(message)
            }
            // « where is it? » after an answer is a follow-up, however near
            // « how is it going? » its meaning is: how one is has no place,
            // date or quantity.
            Self::Wellbeing => !asks_a_place_a_date_or_a_quantity(message),
            Self::Help | Self::Languages | Self::QuestionComing => true,
            Self::Greeting
            | Self::Thanks
            | Self::Farewell
            | Self::Acknowledgement
            | Self::Frustration => {
                let folded = fold(message);
                !words_with_hyphens(&folded)
                    .iter()
                    .any(|w| QUESTION_WORDS.contains(w))
            }
        }
    }

    /// Whether this kind is read by meaning in messages longer than
    /// [`MAX_WORDS`]: questions about the assistant itself, and a visitor
    /// telling it it failed. A long message near a greeting or thanks is a
    /// question that opens with one.
    pub fn may_be_long(self) -> bool {
        matches!(
            self,
            Self::Identity | Self::Help | Self::Languages | Self::Frustration
        )
    }

    /// Whether the reply comes with questions to ask: to « que sais-tu
    /// faire ? » examples are the answer, and a let-down visitor needs a
    /// way forward more than a sentence.
    pub fn offers_questions(self) -> bool {
        matches!(self, Self::Help | Self::Frustration)
    }

    /// Whether the questions offered should be near the visitor's last
    /// one: « t'es nul » is about what was just asked, « que sais-tu
    /// faire ? » about everything.
    pub fn is_about_the_last_question(self) -> bool {
        self == Self::Frustration
    }

    /// The reply, in `language`.
    pub fn reply(self, language: Language) -> &'static str {
        if language == Language::English {
            return self.reply_in_english();
        }
        match self {
            Self::Greeting => "Bonjour ! Je suis EulCat, l'assistant du DataLab Normandie. Posez-moi une question sur les événements, les programmes et les projets autour de la donnée et de l'IA en Normandie.",
            Self::Thanks => "Avec plaisir ! N'hésitez pas si vous avez une autre question.",
            Self::Farewell => "Au revoir, et bonne visite !",
            Self::Identity => "Je suis EulCat, l'agent conversationnel du DataLab Normandie. Je réponds à vos questions à partir des documents de l'agence, en citant mes sources, et je vous dis franchement quand ils ne contiennent pas la réponse.",
            Self::Help => "Posez-moi une question en français sur la donnée et l'IA en Normandie : un événement, un programme, un projet, une date… Je cherche la réponse dans les documents de l'agence et je vous montre d'où elle vient.",
            Self::Wellbeing => "Très bien, merci ! Que voulez-vous savoir sur la donnée et l'IA en Normandie ?",
            Self::Languages => "Je comprends le français et l'anglais : posez votre question dans l'une ou l'autre langue. Les documents de l'agence sont en français, et je les cite tels quels.",
            Self::Acknowledgement => "Très bien ! Avez-vous une autre question sur la donnée et l'IA en Normandie ?",
            Self::QuestionComing => "Bien sûr, je vous écoute ! Posez vos questions une à une : je cherche chaque réponse dans les documents de l'agence et je vous montre d'où elle vient.",
            Self::Frustration => "Désolé de ne pas avoir trouvé ce que vous cherchiez. Je ne réponds qu'à partir des documents de l'agence : essayez une question courte sur un événement, un programme, un projet ou une date, ou l'une de celles-ci.",
        }
    }

    fn reply_in_english(self) -> &'static str {
        match self {
            Self::Greeting => "Hello! I am EulCat, the assistant of the DataLab Normandie. Ask me about events, programmes and projects around data and AI in Normandy.",
            Self::Thanks => "You are welcome! Feel free to ask another question.",
            Self::Farewell => "Goodbye, and enjoy your visit!",
            Self::Identity => "I am EulCat, the conversational agent of the DataLab Normandie. I answer your questions from the agency's documents, which are in French, quoting them, and I tell you plainly when they do not hold the answer.",
            Self::Help => "Ask me a question about data and AI in Normandy: an event, a programme, a project, a date… I look for the answer in the agency's documents, which are in French, and show you where it comes from.",
            Self::Wellbeing => "Very well, thank you! What would you like to know about data and AI in Normandy?",
            Self::Languages => "Yes: I understand English and French, so ask in either. The agency's documents are in French; I quote them as they are and tell you the rest in English.",
            Self::Acknowledgement => "Great! Is there anything else you would like to know about data and AI in Normandy?",
            Self::QuestionComing => "Of course, go ahead! Ask your questions one at a time: I look for each answer in the agency's documents, which are in French, and show you where it comes from.",
            Self::Frustration => "Sorry I could not find what you were looking for. I only answer from the agency's documents: try a short question about an event, a programme, a project or a date, or one of these.",
        }
    }
}

/// Greetings, thanks, apologies and acknowledgements, folded: what
/// visitors say before they ask (« Bonjour, c'est quand l'expo ? », « ok
/// merci ! et l'atrium c'est où », « Excusez-moi, … »). Not the
/// assistant's name: « eulcat c'est quoi » is about it.
const COURTESIES: [&str; 41] = [
    "bonjour",
    "bonsoir",
    "salut",
    "coucou",
    "cc",
    "slt",
    "bjr",
    "hello",
    "hi",
    "hey",
    "merci",
    "beaucoup",
    "bcp",
    "mrc",
    "thanks",
    "thank",
    "thx",
    "ty",
    "ok",
    "okay",
    "d'accord",
    "daccord",
    "super",
    "parfait",
    "cool",
    "top",
    "great",
    "perfect",
    "nice",
    "bon",
    "ah",
    "oh",
    "oui",
    "yes",
    "excusez",
    "excuse",
    "pardon",
    "pardonnez",
    "sorry",
    "desole",
    "desolee",
];

/// The word a courtesy takes after it: « thank you », « excusez-moi ».
fn completes_courtesy(previous: &str, word: &str) -> bool {
    match previous {
        "thank" => word == "you",
        "excusez" | "excuse" | "pardonnez" => word == "moi",
        _ => false,
    }
}

/// What follows the courtesies a message opens with, when it opens with
/// some and a question follows (a question word or mark): the question to
/// read. Their words are noise to the search and to the decision (« merci
/// c'est quand l'expo » was refused where « c'est quand l'expo » is
/// answered). « Merci pour votre aide » asks nothing and stays whole, to be
/// read as small talk.
pub fn after_courtesies(message: &str) -> Option<&str> {
    let rest = after_courtesy_words(message)?;
    let folded = fold(rest);
    let words = words_with_hyphens(&folded);
    let asks = rest.contains('?') || words.iter().any(|w| QUESTION_WORDS.contains(w));
    // « D'accord, et il faut investir combien ? » continues the
    // conversation, whose reading of follow-ups already passes over the
    // acknowledgement (`question::is_elliptic`).
    let continues = words
        .first()
        .is_some_and(|w| matches!(*w, "et" | "mais" | "alors"));
    (asks && !continues).then_some(rest)
}

/// [`after_courtesies`] without the question check.
fn after_courtesy_words(message: &str) -> Option<&str> {
    let mut rest = message;
    let mut skipped = false;
    let mut previous = String::new();
    loop {
        let trimmed = rest.trim_start_matches(|c: char| !c.is_alphanumeric());
        let end = trimmed
            .find(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .unwrap_or(trimmed.len());
        let word = fold(&trimmed[..end]).replace('’', "'");
        let courtesy = COURTESIES.contains(&word.as_str()) || completes_courtesy(&previous, &word);
        if word.is_empty() || !courtesy {
            return (skipped && !word.is_empty()).then_some(trimmed);
        }
        previous = word;
        skipped = true;
        rest = &trimmed[end..];
    }
}

/// Whether `words` (folded, see [`words_with_hyphens`]) only announce a
/// question (« Bonjour, j'aurais quelques questions sur les aides aux
/// entreprises », « I have a question about the exhibition »): an opening,
/// « question(s) », at most a topic, and no question asked yet. « J'ai une
/// question : c'est quand l'expo ? » asks one, and is read as a question.
fn announces_a_question(words: &[&str]) -> bool {
    const GREETINGS: [&str; 9] = [
        "bonjour", "bonsoir", "salut", "coucou", "hello", "hi", "hey", "madame", "monsieur",
    ];
    const OPENINGS: [&[&str]; 16] = [
        &["j'ai"],
        &["jai"],
        &["j'aurais"],
        &["jaurais"],
        &["je", "voudrais", "poser"],
        &["je", "voudrais", "vous", "poser"],
        &["je", "peux", "poser"],
        &["je", "peux", "vous", "poser"],
        &["puis-je", "poser"],
        &["puis-je", "vous", "poser"],
        &["i", "have"],
        &["i've", "got"],
        &["i", "would", "like", "to", "ask"],
        &["i'd", "like", "to", "ask"],
        &["can", "i", "ask"],
        &["may", "i", "ask"],
    ];
    const HOW_MANY: [&str; 16] = [
        "juste",
        "une",
        "un",
        "quelques",
        "des",
        "plusieurs",
        "deux",
        "trois",
        "petite",
        "petites",
        "a",
        "some",
        "few",
        "two",
        "quick",
        "couple",
    ];
    const ASKING: [&str; 4] = ["question", "questions", "renseignement", "renseignements"];
    const TOPIC: [&str; 9] = [
        "sur",
        "concernant",
        "a",
        "au",
        "aux",
        "about",
        "on",
        "regarding",
        "svp",
    ];
    const ASKS: [&str; 3] = ["est-ce", "c'est", "cest"];
    const LONGEST_TOPIC: usize = 10;
    let mut rest = words;
    while rest.first().is_some_and(|w| GREETINGS.contains(w)) {
        rest = &rest[1..];
    }
    let Some(opening) = OPENINGS.iter().find(|o| rest.starts_with(o)) else {
        return false;
    };
    rest = &rest[opening.len()..];
    while rest.first().is_some_and(|w| HOW_MANY.contains(w)) {
        rest = &rest[1..];
    }
    let Some((asking, topic)) = rest.split_first() else {
        return false;
    };
    ASKING.contains(asking)
        && topic.len() <= LONGEST_TOPIC
        && topic.first().is_none_or(|w| TOPIC.contains(w))
        && !topic
            .iter()
            .any(|w| QUESTION_WORDS.contains(w) || ASKS.contains(w))
}

/// Words (folded) by which a message speaks to or of the assistant itself.
/// « Qui es-tu ? », « t ki », « are you a bot », « un humain me répond ? »,
/// « est-ce que je parle à une IA ? » have one; « c'est pour qui ? »,
/// asked after an answer about an aid, has none, and is a question about
/// the aid, not about the assistant.
const ADDRESSING_THE_ASSISTANT: [&str; 37] = [
    "tu",
    "t",
    "toi",
    "te",
    "ton",
    "ta",
    "tes",
    "vous",
    "vs",
    "votre",
    "vos",
    "etes",
    "eulcat",
    "you",
    "your",
    "u",
    "ur",
    "yourself",
    "robot",
    "bot",
    "chatbot",
    "assistant",
    "machine",
    "humain",
    "humaine",
    "human",
    "programme",
    "program",
    "computer",
    "ordinateur",
    "parle",
    "talking",
    "speaking",
    "chatting",
    "personne",
    "person",
    "someone",
];

/// Whether `message` asks where, when or how much (« où » is left out:
/// folded, it is also « ou », as in « tu vas bien ou quoi ? »).
fn asks_a_place_a_date_or_a_quantity(message: &str) -> bool {
    let folded = fold(message);
    let tokens: Vec<&str> = words(&folded).collect();
    // Folded, « où » is « ou »: it asks a place when typed with its accent,
    // or unaccented after « être » (« vous êtes ou ? », « t'es ou »).
    let asks_where = message.to_lowercase().contains("où")
        || tokens
            .windows(2)
            .any(|pair| matches!(pair, ["es" | "est" | "etes" | "situes" | "situe", "ou"]));
    asks_where
        || tokens
            .iter()
            .any(|w| ["where", "when", "quand", "combien"].contains(w))
        || tokens
            .windows(2)
            .any(|pair| pair[0] == "how" && matches!(pair[1], "much" | "many"))
}

fn addresses_the_assistant(message: &str) -> bool {
    words(&fold(message)).any(|w| ADDRESSING_THE_ASSISTANT.contains(&w))
}

/// Whether `message` may ask the assistant what it is, so that its
/// meaning is read before the documents: it speaks to the assistant, not
/// only of it by name (the documents say what EulCat is), and asks no
/// place, date or quantity (« vous êtes situés où ? » asks for the
/// agency's address).
pub fn may_ask_what_the_assistant_is(message: &str) -> bool {
    let folded = fold(message);
    words(&folded).any(|w| w != "eulcat" && ADDRESSING_THE_ASSISTANT.contains(&w))
        && !asks_a_place_a_date_or_a_quantity(message)
}

/// Splits a folded message into words, keeping hyphens and apostrophes
/// inside words so « qui es-tu » stays one phrase.
fn words_with_hyphens(folded: &str) -> Vec<&str> {
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .map(|w| w.trim_matches(|c| c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_thanks_and_identity_are_small_talk() {
        assert_eq!(SmallTalk::detect("Salut !"), Some(SmallTalk::Greeting));
        assert_eq!(
            SmallTalk::detect("Bonsoir EulCat"),
            Some(SmallTalk::Greeting)
        );
        assert_eq!(
            SmallTalk::detect("merci beaucoup :)"),
            Some(SmallTalk::Thanks)
        );
        assert_eq!(SmallTalk::detect("Qui es-tu ?"), Some(SmallTalk::Identity));
        assert_eq!(SmallTalk::detect("aide"), Some(SmallTalk::Help));
        assert_eq!(SmallTalk::detect("Au revoir"), Some(SmallTalk::Farewell));
        assert_eq!(SmallTalk::detect("Who are you?"), Some(SmallTalk::Identity));
        assert_eq!(
            SmallTalk::detect("thank you so much!"),
            Some(SmallTalk::Thanks)
        );
        assert_eq!(
            SmallTalk::detect("Good morning there"),
            Some(SmallTalk::Greeting)
        );
    }

    #[test]
    fn a_question_about_the_assistant_speaks_to_it_or_of_it() {
        for message in [
            "Qui es-tu ?",
            "t ki",
            "vs etes qui",
            "are you a bot",
            "Est-ce qu'un humain me répond ou une machine ?",
            "eulcat ki ta creer",
            "Est-ce que je parle à une IA ?",
            "Am I talking to a real person or an AI?",
        ] {
            assert!(SmallTalk::Identity.fits(message), "{message}");
        }
        for message in [
            "c'est pour qui ?",
            "cest qui le gagnant",
            "who is it for?",
            "Vous êtes situés où ?",
            "vous etes ou exactement",
            "where are you based?",
        ] {
            assert!(!SmallTalk::Identity.fits(message), "{message}");
        }
    }

    #[test]
    fn chat_forms_and_one_word_approvals_are_small_talk_alone() {
        assert_eq!(SmallTalk::detect("ty cya"), Some(SmallTalk::Thanks));
        assert_eq!(
            SmallTalk::detect("see ya eulcat"),
            Some(SmallTalk::Farewell)
        );
        assert_eq!(SmallTalk::detect("cc ça va"), Some(SmallTalk::Wellbeing));
        assert_eq!(
            SmallTalk::detect("vous allez bien"),
            Some(SmallTalk::Wellbeing)
        );
        assert_eq!(SmallTalk::detect("cool"), Some(SmallTalk::Acknowledgement));
        assert_eq!(
            SmallTalk::detect("Parfait !"),
            Some(SmallTalk::Acknowledgement)
        );
        assert_eq!(SmallTalk::detect("merci, super"), Some(SmallTalk::Thanks));
        assert_eq!(
            SmallTalk::detect("Hi, how are you today?"),
            Some(SmallTalk::Wellbeing)
        );
        assert_eq!(SmallTalk::detect("à plus"), Some(SmallTalk::Farewell));
        assert_eq!(
            SmallTalk::detect("A plus tard !"),
            Some(SmallTalk::Farewell)
        );
        assert_eq!(SmallTalk::detect("à plus de 50 salariés"), None);
        assert_eq!(SmallTalk::detect("super, c'est quand l'expo ?"), None);
        assert_eq!(SmallTalk::detect("cool, how much is the grant?"), None);
    }

    #[test]
    fn the_nearest_prototype_gives_the_kind() {
        let unit = |i: usize| {
            let mut v = vec![0.0; PROTOTYPES.len()];
            v[i] = 1.0;
            v
        };
        let prototypes = Prototypes::new((0..PROTOTYPES.len()).map(unit).collect());
        let thanks = PROTOTYPES
            .iter()
            .position(|(_, kind, _)| *kind == SmallTalk::Thanks)
            .expect("a thanks prototype");
        // Unit length, as the embedder gives them.
        let mut near_thanks = unit(thanks);
        near_thanks[0] = 0.3;
        let norm = near_thanks.iter().map(|x| x * x).sum::<f32>().sqrt();
        near_thanks.iter_mut().for_each(|x| *x /= norm);
        let nearest = prototypes.nearest(&near_thanks).expect("a prototype");
        assert_eq!(nearest.kind, SmallTalk::Thanks);
        assert_eq!(nearest.language, PROTOTYPES[thanks].2);
        assert!(
            nearest.similarity > NEAR_ENOUGH && nearest.similarity < 1.0,
            "{nearest:?}"
        );
        assert!(Prototypes::new(Vec::new()).nearest(&near_thanks).is_none());
    }

    #[test]
    fn what_asks_nothing_holds_no_question_word() {
        assert!(SmallTalk::Greeting.fits("coucou eulcat"));
        assert!(!SmallTalk::Greeting.fits("eulcat qui t'a créé"));
        assert!(SmallTalk::Acknowledgement.fits("Très bien, c'est noté."));
        assert!(!SmallTalk::Thanks.fits("merci, et c'est quand ?"));
        assert!(!SmallTalk::Farewell.fits("bye, where is it?"));
        assert!(!SmallTalk::Wellbeing.fits("where is it"));
        assert!(!SmallTalk::Wellbeing.fits("ça va coûter combien ?"));
        assert!(SmallTalk::Wellbeing.fits("how is it going?"));
        assert!(SmallTalk::Wellbeing.fits("tu vas bien ou quoi ?"));
        assert!(SmallTalk::Identity.fits("tu es qui"));
        assert!(SmallTalk::Languages.fits("what languages do you speak?"));
    }

    #[test]
    fn the_question_after_a_greeting_or_thanks_is_read_alone() {
        assert_eq!(
            after_courtesies("merci c'est quand l'expo"),
            Some("c'est quand l'expo")
        );
        assert_eq!(
            after_courtesies("Ok merci ! L'Atrium, c'est où ?"),
            Some("L'Atrium, c'est où ?")
        );
        assert_eq!(after_courtesies("Ok merci ! Et c'est où ?"), None);
        assert_eq!(
            after_courtesies("Bonjour, d'accord : quand ouvre l'expo ?"),
            Some("quand ouvre l'expo ?")
        );
        assert_eq!(
            after_courtesies("Bonjour EulCat, qui t'a créé ?"),
            Some("EulCat, qui t'a créé ?")
        );
        assert_eq!(after_courtesies("Merci beaucoup pour votre aide."), None);
        assert_eq!(
            after_courtesies("Thank you! Where is it?"),
            Some("Where is it?")
        );
        assert_eq!(
            after_courtesies("Excusez-moi, c'est quand l'expo ?"),
            Some("c'est quand l'expo ?")
        );
        assert_eq!(
            after_courtesies("Pardon, moi je voudrais savoir quand ouvre l'expo ?"),
            Some("moi je voudrais savoir quand ouvre l'expo ?")
        );
        assert_eq!(after_courtesies("c'est quand l'expo"), None);
        assert_eq!(after_courtesies("merci beaucoup !"), None);
        assert_eq!(after_courtesies("you are welcome"), None);
    }

    #[test]
    fn only_short_messages_are_read_by_meaning() {
        assert!(is_short("mrc bcp eulcat"));
        assert!(!is_short(
            "Bonjour, je voudrais savoir quand ouvre l'exposition Destination IA à Rouen"
        ));
    }

    #[test]
    fn sms_acknowledgements_and_a_let_down_visitor_are_small_talk_alone() {
        assert_eq!(
            SmallTalk::detect("ok dac"),
            Some(SmallTalk::Acknowledgement)
        );
        assert_eq!(SmallTalk::detect("tkt"), Some(SmallTalk::Acknowledgement));
        assert_eq!(
            SmallTalk::detect("pas de souci !"),
            Some(SmallTalk::Acknowledgement)
        );
        assert_eq!(
            SmallTalk::detect("laisse tomber..."),
            Some(SmallTalk::Frustration)
        );
        assert_eq!(SmallTalk::detect("t'es nul"), Some(SmallTalk::Frustration));
        assert_eq!(
            SmallTalk::detect("never mind, forget it"),
            Some(SmallTalk::Frustration)
        );
        assert_eq!(
            SmallTalk::detect("laisse tomber, c'est quand l'expo ?"),
            None
        );
        assert_eq!(
            SmallTalk::detect("Laissez tomber, je vais me débrouiller autrement."),
            Some(SmallTalk::Frustration)
        );
        assert_eq!(
            SmallTalk::detect("never mind, I'll call them instead"),
            Some(SmallTalk::Frustration)
        );
        assert_eq!(
            SmallTalk::detect("laisse tomber les horaires, l'adresse de l'atrium"),
            None,
            "asked again, without a question word"
        );
        assert_eq!(
            SmallTalk::detect("t'es nul, ou est l'atrium"),
            None,
            "a question after it"
        );
        assert!(SmallTalk::Frustration
            .reply(Language::French)
            .starts_with("Désolé"));
        assert!(SmallTalk::Frustration
            .reply(Language::English)
            .starts_with("Sorry"));
        assert!(SmallTalk::Frustration.offers_questions());
        assert!(SmallTalk::Help.offers_questions());
        assert!(!SmallTalk::Greeting.offers_questions());
    }

    #[test]
    fn only_questions_about_the_assistant_are_read_by_meaning_at_length() {
        let long = "Pardon, est-ce qu'une vraie personne lit mes messages ou bien un programme ?";
        assert!(!is_short(long));
        assert!(is_short_enough_for_any_kind(long));
        assert!(!is_short_enough_for_any_kind(
            "Bonjour, je voudrais savoir quand ouvre l'exposition Destination IA à Rouen et \
             combien coûte l'entrée pour une classe de vingt élèves"
        ));
        for kind in [
            SmallTalk::Identity,
            SmallTalk::Help,
            SmallTalk::Languages,
            SmallTalk::Frustration,
        ] {
            assert!(kind.may_be_long(), "{kind:?}");
        }
        for kind in [
            SmallTalk::Greeting,
            SmallTalk::Thanks,
            SmallTalk::Farewell,
            SmallTalk::Acknowledgement,
            SmallTalk::Wellbeing,
            SmallTalk::QuestionComing,
        ] {
            assert!(!kind.may_be_long(), "{kind:?}");
        }
    }

    #[test]
    fn what_the_assistant_is_may_be_asked_before_the_documents_are_read() {
        for message in [
            "vous etes une ia ?",
            "t'es un robot",
            "Are you an AI?",
            "je parle à un humain ?",
        ] {
            assert!(may_ask_what_the_assistant_is(message), "{message}");
        }
        for message in [
            // Nothing speaks to the assistant: the documents say what
            // EulCat is.
            "Qu'est-ce que EulCat ?",
            // The agency's address, opening days and staff are asked.
            "Vous êtes situés où ?",
            "vous etes ouverts quand ?",
            "vous etes combien a l'agence ?",
        ] {
            assert!(!may_ask_what_the_assistant_is(message), "{message}");
        }
    }

    #[test]
    fn a_long_farewell_ends_by_taking_leave() {
        assert!(ends_by_taking_leave(
            "Merci beaucoup pour votre aide, au revoir et bonne fin de journée."
        ));
        assert!(ends_by_taking_leave(
            "Thanks a lot for all the answers, goodbye!"
        ));
        assert!(!ends_by_taking_leave(
            "Bonjour, je voudrais savoir quand ouvre l'exposition, merci"
        ));
        assert!(!ends_by_taking_leave(
            "c'est ouvert jusqu'à quand ? au revoir"
        ));
    }

    #[test]
    fn every_kind_has_prototypes_in_both_languages() {
        for kind in PROTOTYPES.iter().map(|(_, kind, _)| *kind) {
            let languages: Vec<Language> = PROTOTYPES
                .iter()
                .filter(|(_, k, _)| *k == kind)
                .map(|(_, _, language)| *language)
                .collect();
            assert!(
                languages.contains(&Language::English) && languages.contains(&Language::French),
                "{kind:?}"
            );
        }
        // The annotation agrees with the language's own reading wherever
        // that reading has words to go on.
        for (text, _, language) in PROTOTYPES {
            if let Some(read) = Language::evident(text) {
                assert_eq!(read, *language, "{text}");
            }
        }
    }

    #[test]
    fn the_reply_speaks_the_visitors_language() {
        assert!(SmallTalk::Greeting
            .reply(Language::English)
            .starts_with("Hello"));
        assert!(SmallTalk::Greeting
            .reply(Language::French)
            .starts_with("Bonjour"));
    }

    #[test]
    fn a_question_announced_is_not_yet_asked() {
        for announced in [
            "Bonjour, j'ai quelques questions sur les programmes de la Région.",
            "jai une question",
            "Je peux vous poser une question ?",
            "Hi, I have a few questions about the agency",
        ] {
            assert_eq!(
                SmallTalk::detect(announced),
                Some(SmallTalk::QuestionComing),
                "{announced}"
            );
        }
        for asked in [
            "J'ai une question : c'est quand l'expo ?",
            "J'ai une question sur le forum, qui l'organise ?",
            "I have a question about the exhibition: when does it close?",
            "J'ai une entreprise de 12 salariés, suis-je éligible ?",
        ] {
            assert_eq!(SmallTalk::detect(asked), None, "{asked}");
        }
    }

    #[test]
    fn a_question_with_a_greeting_is_not_small_talk() {
        assert_eq!(
            SmallTalk::detect("Bonjour, quand ouvre l'exposition ?"),
            None
        );
        assert_eq!(SmallTalk::detect("Merci, et qui organise le forum ?"), None);
        assert_eq!(SmallTalk::detect("Quel est le thème du datathon ?"), None);
        assert_eq!(
            SmallTalk::detect("Hello, when does the exhibition open?"),
            None
        );
    }
}
