//! Greetings, thanks, « qui es-tu ? » and « aide », in French or English:
//! answered at once, without retrieval, and only when the message holds
//! nothing else. « Bonjour, quand ouvre l'exposition ? » is a question, not
//! small talk.

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
    ("comment allez-vous", SmallTalk::Wellbeing),
    ("ca va", SmallTalk::Wellbeing),
    ("au revoir", SmallTalk::Farewell),
    ("a bientot", SmallTalk::Farewell),
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
];

/// Words that may pad small talk without making it a question.
const FILLERS: [&str; 25] = [
    "eulcat", "a", "toi", "vous", "tous", "tout", "le", "monde", "encore", "et", "oui", "ok",
    "d'accord", "super", "tres", "bien", "there", "again", "so", "much", "very", "great", "yes",
    "all", "helpful",
];

impl SmallTalk {
    /// Recognises a message that is small talk and nothing else.
    pub fn detect(message: &str) -> Option<Self> {
        let folded = fold(message);
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
        (leftover == 0).then_some(kind)
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
        }
    }
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
    fn the_reply_speaks_the_visitors_language() {
        assert!(SmallTalk::Greeting
            .reply(Language::English)
            .starts_with("Hello"));
        assert!(SmallTalk::Greeting
            .reply(Language::French)
            .starts_with("Bonjour"));
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
