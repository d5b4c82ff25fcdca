//! Retrieval by meaning with the real models: questions typed as visitors
//! type them find the sentence that answers although they share few of
//! its words, a question about the present is not answered with the past,
//! and a question the documents touch without answering gets a refusal
//! that shows the closest passage.

use std::sync::Arc;

use eulcat::answer::language::Language;
use eulcat::answer::{AnswerKind, AnswerPipeline, Reply, Settings};
use eulcat::engine::{Memo, WithEmbedder};

use crate::util::{pipeline_with, real_embedder, real_model};

/// One pipeline for the three checks: embedding the corpus takes seconds.
async fn hybrid_pipeline() -> AnswerPipeline {
    let backend = WithEmbedder::new(real_model(), real_embedder());
    let pipeline = pipeline_with(Arc::new(Memo::new(Arc::new(backend))), Settings::default());
    let embedded = pipeline.embed_corpus().await.expect("the corpus embeds");
    assert!(embedded > 50, "{embedded} sentences embedded");
    pipeline
}

#[tokio::test]
async fn visitors_are_answered_in_their_own_words_and_refused_when_the_documents_do_not_say() {
    let pipeline = hybrid_pipeline().await;
    visitors_words_find_the_documents_words(&pipeline).await;
    the_present_is_not_answered_with_the_past(&pipeline).await;
    whether_it_is_free_is_not_answered_with_where_and_when(&pipeline).await;
    a_highlight_is_the_whole_fact_asked_for(&pipeline).await;
    a_length_is_the_length_of_what_the_question_names(&pipeline).await;
    whether_one_may_apply_is_answered_by_the_rule_on_one_s_situation(&pipeline).await;
    where_it_was_is_answered_by_a_place(&pipeline).await;
    the_kind_of_fact_asked_is_no_word_the_answer_must_hold(&pipeline).await;
    who_did_it_and_where_are_highlighted_from_the_quote(&pipeline).await;
    a_count_is_of_what_the_question_counts_in_either_language(&pipeline).await;
    a_count_does_not_say_which(&pipeline).await;
    off_topic_questions_get_a_plain_refusal(&pipeline).await;
    english_questions_get_english_words_around_the_french_quote(&pipeline).await;
    every_suggested_question_is_answered(&pipeline).await;
    small_talk_is_known_by_its_meaning(&pipeline).await;
    the_assistant_asked_about_at_length_and_a_let_down_visitor(&pipeline).await;
    a_refusal_offers_the_suggested_questions_nearest_to_it(&pipeline).await;
    a_follow_up_after_an_acknowledgement_keeps_the_answer_s_topic(&pipeline).await;
    a_greeting_or_thanks_before_a_question_changes_nothing(&pipeline).await;
    a_short_question_on_another_subject_leaves_the_last_one(&pipeline).await;
    a_short_question_that_names_nothing_follows_the_answer(&pipeline).await;
    an_aid_described_is_read_as_the_programme_it_describes(&pipeline).await;
}

/// Visitors describe the aid they mean instead of naming it. Each of these
/// was refused when read alone; each is now read with the programme whose
/// page is nearest it, and answered from it.
async fn an_aid_described_is_read_as_the_programme_it_describes(pipeline: &AnswerPipeline) {
    for (message, programme) in [
        (
            "ya une aide pour exposer sur un salon a l etranger ?",
            "Impulsion Export",
        ),
        (
            "pret de la region pour racheter une entreprise ca marche ?",
            "Impulsion Développement",
        ),
    ] {
        let reply = assert_answered(pipeline, message).await;
        assert_eq!(reply.sources[0].title, programme, "{message}");
    }
    // The programme that fits leaves the visitor's trade out: its
    // exclusion is shown, as what the documents say, not the programme.
    let reply = ask(
        pipeline,
        "I run an insurance agency and want a consultant to rework our strategy, is there a grant?",
    )
    .await;
    assert_shows_only_the_closest_passage(&reply);
    assert!(reply.answer.contains("l'assurance"), "{}", reply.answer);
    // A fact asked of an aid described by words no page says: its aid
    // words alone would choose the page that speaks most of subsidies.
    assert_refused(
        pipeline,
        "la subvention pour les panneaux solaires c combien mini",
    )
    .await;
}

/// Two words of its own and no subject's name: « le montant du prix ? »
/// after the datathon asks the datathon's prize, which the documents do
/// not give; read alone it was answered with a consultant's daily rate
/// from Impulsion Conseil. « what is the interest rate? » after Impulsion
/// Développement asks that loan's rate.
async fn a_short_question_that_names_nothing_follows_the_answer(pipeline: &AnswerPipeline) {
    let (_, reply) =
        after_an_answer(pipeline, "qui a gagné le datathon", "le montant du prix ?").await;
    assert_eq!(reply.kind, AnswerKind::NoAnswer, "{}", reply.answer);
    answered_after_an_answer(
        pipeline,
        (
            "What is Impulsion Développement?",
            "what is the interest rate?",
        ),
        "zéro",
    )
    .await;
}

/// After an answer, a short question that names a subject the answer's
/// section never speaks of has moved on: it is answered as it would be
/// alone, not searched with the earlier topic (where it was refused), and
/// its « et » points nowhere back.
async fn a_short_question_on_another_subject_leaves_the_last_one(pipeline: &AnswerPipeline) {
    for (first, then, fact) in [
        (
            "c koi impulsion export",
            "le datathon c'était quand",
            "5 novembre",
        ),
        ("c koi impulsion export", "les assises ia cetait ou", "Caen"),
        (
            "c quoi impulsion conseil",
            "et impulsion export c combien max",
            "75 000",
        ),
        ("c quoi le datalab", "et normandie incubation c ou", "Caen"),
        // A name of words every document says still names one thing.
        (
            "Qui a organisé le Forum Santé pour Tous ?",
            "ad normandie c ou",
            "Colombelles",
        ),
    ] {
        answered_after_an_answer(pipeline, (first, then), fact).await;
    }
    // « et pour l'europe ? » asks about the export aid, whose page never
    // says « Europe »; it points back and asks nothing of its own, so it
    // is not answered with the European project of the newsletter.
    let (_, reply) =
        after_an_answer(pipeline, "c koi impulsion export", "et pour l'europe ?").await;
    assert!(
        reply.sources.iter().all(|s| s.title == "Impulsion Export"),
        "{}",
        reply.answer
    );
}

/// « Bonjour, … » and « merci … » before a question are courtesy, not
/// words to search: the answer is the one the question alone gets.
async fn a_greeting_or_thanks_before_a_question_changes_nothing(pipeline: &AnswerPipeline) {
    let alone = assert_answered(pipeline, "c'est quand l'expo").await;
    for message in [
        "bonjour, c'est quand l'expo",
        "merci ! c'est quand l'expo",
        "ok super, c'est quand l'expo",
    ] {
        let reply = ask(pipeline, message).await;
        assert_eq!(reply.kind, alone.kind, "{message}: {}", reply.answer);
        assert_eq!(reply.answer, alone.answer, "{message}");
    }
}

/// Asks `first`, which the documents answer, then `then` in the same
/// conversation: both replies.
async fn after_an_answer(pipeline: &AnswerPipeline, first: &str, then: &str) -> (Reply, Reply) {
    let answered = assert_answered(pipeline, first).await;
    let reply = pipeline
        .answer(then, Some(&answered.session_id))
        .await
        .expect("answers");
    (answered, reply)
}

/// Asks `first` then `then` in one conversation and checks that `then`
/// is answered from the documents with `fact`: the first reply, whose
/// session the conversation goes on in.
async fn answered_after_an_answer(
    pipeline: &AnswerPipeline,
    (first, then): (&str, &str),
    fact: &str,
) -> Reply {
    let (first, reply) = after_an_answer(pipeline, first, then).await;
    assert_eq!(
        reply.kind,
        AnswerKind::Extractive,
        "{then}: {}",
        reply.answer
    );
    assert!(reply.answer.contains(fact), "{then}: {}", reply.answer);
    first
}

/// « D'accord, et … » continues the conversation: the follow-up is read
/// with the topic of the passage the first answer quoted, and the same
/// words alone are not answered.
async fn a_follow_up_after_an_acknowledgement_keeps_the_answer_s_topic(pipeline: &AnswerPipeline) {
    let follow_up = "D'accord, et il faut investir combien au minimum ?";
    let (_, reply) = after_an_answer(
        pipeline,
        "À quoi sert le prêt Impulsion Développement ?",
        follow_up,
    )
    .await;
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.answer.contains("150 000"), "{}", reply.answer);
    let alone = ask(pipeline, follow_up).await;
    assert_eq!(alone.kind, AnswerKind::NoAnswer, "{}", alone.answer);
    // « c'est pour qui ? » after an aid asks whom the aid is for; it is
    // not « qui es-tu ? », which speaks to the assistant.
    let (_, reply) = after_an_answer(pipeline, "c quoi impulsion export", "cest pour qui").await;
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert_eq!(reply.sources[0].title, "Impulsion Export");
    // « where is it? » after an answer asks where the thing is; by its
    // meaning it is near « how is it going? », which asks no place. Its
    // « is » and « it » are no subject: it is read with the topic, as
    // « and when was it? » is.
    let (_, reply) = after_an_answer(pipeline, "what is normandie incubation", "where is it").await;
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.sources[0].quote.contains("Caen"), "{}", reply.answer);
    let (_, reply) = after_an_answer(pipeline, "who won the datathon", "and when was it").await;
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(
        reply.sources[0].quote.contains("5 novembre"),
        "{}",
        reply.answer
    );
    // A ticket's price is an amount, which the documents do not give.
    let (_, reply) = after_an_answer(
        pipeline,
        "tell me about the AI exhibition in Rouen",
        "how much is a ticket",
    )
    .await;
    assert_eq!(reply.kind, AnswerKind::NoAnswer, "{}", reply.answer);
    // The topic handed on (« Exposition Destination IA à L'Atrium, Rouen »)
    // names the place asked next; the visitor did not, so it is the answer.
    let first = answered_after_an_answer(
        pipeline,
        (
            "Parle-moi de l'exposition Destination IA",
            "merci ! et c'est où ?",
        ),
        "Rouen",
    )
    .await;
    // Thanks known only by their meaning are no turn either: the question
    // after them still follows the answer before.
    let thanks = pipeline
        .answer("mille merci pour l'aide", Some(&first.session_id))
        .await
        .expect("answers");
    assert_eq!(thanks.kind, AnswerKind::Smalltalk, "{}", thanks.answer);
    let reply = pipeline
        .answer("et c'est où ?", Some(&first.session_id))
        .await
        .expect("answers");
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.answer.contains("Rouen"), "{}", reply.answer);
    // A question that names its own subject is no follow-up, even with the
    // « c » of « c'est combien »: it is not searched with the exhibition.
    let reply = pipeline
        .answer(
            "impulsion export c combien le plafond",
            Some(&first.session_id),
        )
        .await
        .expect("answers");
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.answer.contains("75 000"), "{}", reply.answer);
}

/// After « I do not know », the questions offered are those nearest to
/// what was asked, so that the visitor can tap the one that comes closest.
async fn a_refusal_offers_the_suggested_questions_nearest_to_it(pipeline: &AnswerPipeline) {
    for (question, nearest) in [(
        "Quel sera le thème du prochain Datathon en 2027 ?",
        "Quel projet a gagné le Datathon Normandie 2025\u{a0}?",
    )] {
        let reply = ask(pipeline, question).await;
        assert_eq!(
            reply.kind,
            AnswerKind::NoAnswer,
            "{question}: {}",
            reply.answer
        );
        assert!(reply.sources.is_empty(), "{question}: {:?}", reply.sources);
        assert_eq!(
            reply.suggestions.first().map(String::as_str),
            Some(nearest),
            "{question}: {:?}",
            reply.suggestions
        );
    }
    // The program asked about is found, the detail is not: its likeliest
    // passage is shown, labelled as not a sure answer, nothing highlighted.
    let reply = ask(
        pipeline,
        "impulsion dev la reponse arrive en combien de temps",
    )
    .await;
    assert_shows_only_the_closest_passage(&reply);
    assert_eq!(reply.sources[0].title, "Impulsion Développement");
    // No sentence of it counts pages (« Selon la page de l'AD Normandie, le
    // prêt est remboursé sur 5 ans » names a page and counts years): the
    // questions to tap start with the programme.
    let reply = ask(pipeline, "impulsion dev le dossier c combien de pages").await;
    assert_eq!(reply.kind, AnswerKind::NoAnswer, "{}", reply.answer);
    let first = reply
        .suggestions
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        first.contains("Impulsion Développement"),
        "{:?}",
        reply.suggestions
    );
}

/// A refusal that shows one passage as what the documents do say, never
/// as the answer: no highlight.
fn assert_shows_only_the_closest_passage(reply: &Reply) {
    assert_eq!(reply.kind, AnswerKind::NoAnswer, "{}", reply.answer);
    let label = match reply.language {
        Language::French => "passage le plus proche",
        Language::English => "The closest passage",
    };
    assert!(reply.answer.contains(label), "{}", reply.answer);
    assert_eq!(reply.sources.len(), 1, "{:?}", reply.sources);
    assert!(reply.sources[0].highlight.is_none());
}

/// Small talk no phrase lists, in either language, is read by its meaning;
/// a short question about the documents is still answered from them.
async fn small_talk_is_known_by_its_meaning(pipeline: &AnswerPipeline) {
    for (message, language) in [
        ("mille merci pour l'aide", Language::French),
        ("vous comprenez l'anglais ?", Language::French),
        ("how's your day going?", Language::English),
        ("thx a lot!", Language::English),
        // Nearer the prototypes than any training question, further than
        // exact phrases: a compliment, and « ça » telling French.
        ("you're awesome", Language::English),
        ("ok ça marche", Language::French),
        // At an AI exhibition the documents' « IA » does not answer it.
        ("vous êtes une IA ?", Language::French),
        // Longer than greetings and thanks are read at, but it takes leave.
        (
            "Merci beaucoup pour toutes ces réponses, au revoir et bonne soirée !",
            Language::French,
        ),
    ] {
        small_talk_reply(pipeline, message, language).await;
    }
    assert_answered(pipeline, "Qu'est-ce que EulCat ?").await;
    // The agency's address is asked, however near « qui êtes-vous ? »;
    // the documents do not give it.
    let reply = ask(pipeline, "Vous êtes situés où ?").await;
    assert_eq!(reply.kind, AnswerKind::NoAnswer, "{}", reply.answer);
}

/// The reply to `message`, checked to be small talk in `language`, with
/// no source.
async fn small_talk_reply(pipeline: &AnswerPipeline, message: &str, language: Language) -> Reply {
    let reply = ask(pipeline, message).await;
    assert_eq!(
        reply.kind,
        AnswerKind::Smalltalk,
        "{message}: {}",
        reply.answer
    );
    assert_eq!(reply.language, language, "{message}");
    assert!(reply.sources.is_empty(), "{message}");
    reply
}

/// Questions about the assistant itself are read by meaning even when
/// long, a visitor let down gets an apology, and a long question the
/// documents answer is still answered.
async fn the_assistant_asked_about_at_length_and_a_let_down_visitor(pipeline: &AnswerPipeline) {
    for (message, language, opening) in [
        (
            "Excusez-moi, est-ce qu'une vraie personne me répond, ou bien un programme informatique ?",
            Language::French,
            "Je suis EulCat",
        ),
        (
            "Could you tell me which languages you are able to answer in?",
            Language::English,
            "Yes",
        ),
        ("tu comprends vraiment rien", Language::French, "Désolé"),
        ("t'es nul", Language::French, "Désolé"),
    ] {
        let reply = small_talk_reply(pipeline, message, language).await;
        assert!(
            reply.answer.starts_with(opening),
            "{message}: {}",
            reply.answer
        );
        // A let-down visitor is offered questions to tap.
        if opening == "Désolé" {
            assert!(!reply.suggestions.is_empty(), "{message}");
        }
    }
    assert_answered(
        pipeline,
        "Bonjour, je voudrais savoir quand ouvre l'exposition Destination IA à Rouen",
    )
    .await;
    a_let_down_visitor_is_offered_questions_near_the_last_one(pipeline).await;
}

/// « t'es nul » is about the question just asked: the questions offered
/// are near it, also after a refusal that showed a passage and offered
/// none.
async fn a_let_down_visitor_is_offered_questions_near_the_last_one(pipeline: &AnswerPipeline) {
    let answered = assert_answered(
        pipeline,
        "Quel est le taux du prêt Impulsion Développement ?",
    )
    .await;
    let let_down = pipeline
        .answer("t'es nul", Some(&answered.session_id))
        .await
        .expect("answers");
    assert_eq!(let_down.kind, AnswerKind::Smalltalk, "{}", let_down.answer);
    assert!(
        let_down.suggestions.iter().any(|q| q.contains("Impulsion")),
        "{:?}",
        let_down.suggestions
    );
    // Not the question just answered: it would give the same answer.
    assert!(
        !let_down
            .suggestions
            .iter()
            .any(|q| q.contains("taux du prêt Impulsion Développement")),
        "{:?}",
        let_down.suggestions
    );

    let shown_a_passage = ask(pipeline, "c'est quand le prochain datathon ?").await;
    assert_eq!(
        shown_a_passage.kind,
        AnswerKind::NoAnswer,
        "{}",
        shown_a_passage.answer
    );
    let let_down = pipeline
        .answer("laisse tomber", Some(&shown_a_passage.session_id))
        .await
        .expect("answers");
    assert_eq!(let_down.kind, AnswerKind::Smalltalk, "{}", let_down.answer);
    assert!(
        let_down.suggestions.iter().any(|q| q.contains("Datathon")),
        "{:?}",
        let_down.suggestions
    );
}

async fn visitors_words_find_the_documents_words(pipeline: &AnswerPipeline) {
    for (question, expected) in [
        // Spoken French: « expo », « c'est quand », no accents.
        ("c quand que ca ouvre l'expo destination ia", "février 2026"),
        // English about French documents.
        (
            "When did the Destination IA exhibition open?",
            "12 février 2026",
        ),
        // « ça monte jusqu'à combien » for « plafonnée à ».
        ("impulsion export ca monte jusqua combien", "75 000"),
        // A name cut short (« impulsion dev ») and « racheter une boite »
        // for « reprise d'une entreprise ».
        (
            "impulsion dev pr racheter une boite ca marche",
            "reprise d'une entreprise",
        ),
    ] {
        let reply = assert_answered(pipeline, question).await;
        assert!(
            reply.answer.contains(expected),
            "{question}: {}",
            reply.answer
        );
        assert!(!reply.considered.is_empty());
        assert!(
            reply.considered.iter().all(|c| c.probability.is_some()),
            "the learned decision weighed every sentence"
        );
    }
}

async fn the_present_is_not_answered_with_the_past(pipeline: &AnswerPipeline) {
    let reply = ask(pipeline, "qui est le directeur actuel de l'AD Normandie ?").await;
    // The documents name the first director: that is shown, as what they
    // say, never as the answer.
    assert_shows_only_the_closest_passage(&reply);
    // What to ask next: questions about passages near this one.
    assert!(!reply.suggestions.is_empty(), "{:?}", reply.suggestions);
    for suggestion in &reply.suggestions {
        assert!(
            suggestion.starts_with("Que disent les documents sur ") && suggestion.contains(" — "),
            "{suggestion}"
        );
    }
    // « close » asks for the last day: the opening date of the same
    // sentence is never shown as the short answer.
    for message in [
        "when does the exhibition close",
        "lexpo ia ca dure jusqua qd",
    ] {
        let reply = assert_answered(pipeline, message).await;
        assert!(reply.answer.contains("octobre 2027"), "{}", reply.answer);
        let highlight = reply.sources[0].highlight.as_deref().unwrap_or_default();
        assert!(!highlight.contains("février"), "{message}: {highlight}");
    }
    // The documents date the Datathon but do not say who organises it, and
    // describe Normandie Incubation without saying who runs it.
    // And the DataLab's president, who was the Region's vice-president, is
    // not the Region's president.
    assert_all_refused(
        pipeline,
        &[
            "qui organise le datathon",
            "who runs normandie incubation",
            "c qui le president de la region",
        ],
    )
    .await;
    // Nor is what comes next answered with what is over: the last
    // edition's dates are shown as the closest passage, not as the next.
    for message in [
        "c'est quand le prochain datathon ?",
        "le forum sante pour tous la prochaine fois c qd",
    ] {
        assert_shows_only_the_closest_passage(&ask(pipeline, message).await);
    }
    assert_answered(pipeline, "c'est quand le datathon ?").await;
}

/// The documents give no price for the exhibition: « c'est payant ? » was
/// answered with where and when it is open, which a kiosk visitor would read
/// as « yes, go ».
async fn whether_it_is_free_is_not_answered_with_where_and_when(pipeline: &AnswerPipeline) {
    assert_all_refused(
        pipeline,
        &[
            "lexpo ia cest payant",
            "L'exposition Destination IA est-elle gratuite ?",
        ],
    )
    .await;
}

/// The short answer shown above the quote states the fact asked for: a
/// number with its unit (« 10 » of « 10 % » read as another figure), not
/// an exception in parentheses when the general rate is asked, not another
/// count of the same sentence, a whole list of names, not its last, and
/// the quote's one date or length when the model copied another number.
async fn a_highlight_is_the_whole_fact_asked_for(pipeline: &AnswerPipeline) {
    let highlight = |reply: &Reply| {
        reply
            .sources
            .first()
            .and_then(|source| source.highlight.clone())
    };
    for (message, shown) in [
        ("methanisation cest combien", "10 %"),
        ("impulsion dev plafond", "1 million d'euros"),
        ("combien de temps dure le datathon", "un mois"),
        ("l'expo destination ia c'est dans quelle ville", "Rouen"),
        ("quand le label french tech a ete obtenu", "juin 2015"),
        (
            "qui a candidaté pour le label french tech",
            "Rouen, Caen et Le Havre",
        ),
    ] {
        let reply = ask(pipeline, message).await;
        assert_eq!(
            highlight(&reply).as_deref(),
            Some(shown),
            "{message}: {}",
            reply.answer
        );
    }
    for (message, not_the_answer) in [
        ("Impulsion Environnement taux prêt", "10 %"),
        ("combien d'entreprises beta testeuses pour boost ai", "12"),
        ("les assises de l'ia cetait ou", "L'IA"),
        ("ou est le siege de l'ad normandie", "la Région"),
    ] {
        let reply = assert_answered(pipeline, message).await;
        assert_ne!(
            highlight(&reply).as_deref(),
            Some(not_the_answer),
            "{message}: {}",
            reply.answer
        );
    }
    // « labo » is a laboratory: « Aucune entreprise ne peut porter plus de
    // 70 % » is no answer for one.
    let laboratory = ask(pipeline, "un labo peut porter combien des depenses max").await;
    assert!(
        !laboratory.answer.starts_with("70 %"),
        "{}",
        laboratory.answer
    );
}

/// « Combien de temps la visite ? » asks how long a visit takes, which the
/// documents do not say: how long the exhibition stays open is no answer.
/// How long the Datathon lasted is, though its sentence names it only in
/// its heading.
async fn a_length_is_the_length_of_what_the_question_names(pipeline: &AnswerPipeline) {
    assert_all_refused(
        pipeline,
        &[
            "faut combien de temps pour visiter l'expo ia",
            "expo ia ca prend combien de tps la visite",
            "how long does it take to visit the AI exhibition",
        ],
    )
    .await;
    for message in [
        "combien de temps dure le datathon",
        "boost ai ca dure combien de temps",
    ] {
        assert_answered(pipeline, message).await;
    }
}

/// « How many X » is answered by the count of X, whichever number the
/// sentence states first, in French or in English (« companies » is
/// « entreprises » by the words' meaning); a count of something else is
/// no answer.
async fn a_count_is_of_what_the_question_counts_in_either_language(pipeline: &AnswerPipeline) {
    for (message, count) in [
        ("BOOST AI ça réunit combien de pays ?", "6 pays"),
        (
            "How many countries does the BOOST AI project bring together?",
            "6 pays",
        ),
        (
            "how many companies will test the BOOST AI tools?",
            "centaine d'entreprises",
        ),
    ] {
        let reply = assert_answered(pipeline, message).await;
        let highlight = reply.sources[0].highlight.as_deref().unwrap_or_default();
        assert!(highlight.contains(count), "{message}: {highlight:?}");
    }
    assert_all_refused(
        pipeline,
        &[
            "How many jobs did the Assises nationales de l'IA create?",
            "how many patents has Normandie Incubation filed?",
        ],
    )
    .await;
}

/// « Lesquelles ? », « which companies? » ask for names: the sentence
/// that only counts them (« une centaine d'entreprises bêta-testeuses »)
/// does not answer, and is the passage shown after the refusal.
async fn a_count_does_not_say_which(pipeline: &AnswerPipeline) {
    for message in [
        "boost ai ya des boites normandes dedans ? lesquelles",
        "Which companies are the beta testers in the BOOST AI project?",
    ] {
        let reply = ask(pipeline, message).await;
        assert_shows_only_the_closest_passage(&reply);
        assert!(
            reply.answer.contains("centaine d'entreprises"),
            "{message}: {}",
            reply.answer
        );
    }
}

/// A business owner tells their situation, then asks whether they may
/// apply: the situation is no word the answer must repeat, and the answer
/// is the programme's rule on it, not its description. A grant's share is
/// no loan's zero rate, and what one may receive is no turnover ceiling.
async fn whether_one_may_apply_is_answered_by_the_rule_on_one_s_situation(
    pipeline: &AnswerPipeline,
) {
    assert_answers_hold(
        pipeline,
        &[
            (
                "je suis en retard sur mes impots, je peux demander impulsion innovation ?",
                "obligations fiscales",
            ),
            (
                "ma boite fait 300 salariés, je peux demander impulsion transition numerique ?",
                "moins de 10 salariés",
            ),
        ],
    )
    .await;
    assert_all_refused(
        pipeline,
        &[
            "quel est le taux de subvention d'impulsion innovation ?",
            "impulsion transition numerique combien je peux toucher au maximum ?",
        ],
    )
    .await;
    // Asked with an inversion, a passive or in English, or in words the
    // documents spell otherwise (« ça rentre »), it is still a « may I? »:
    // the programme's description, which names it, is no answer; only
    // the rule on the visitor's situation is.
    for (question, rule) in [
        (
            "Can our 25-employee shop be funded by Impulsion Transition Numérique?",
            "moins de 10 salariés",
        ),
        (
            "ma boutique ouverte y a 3 mois, ca rentre dans impulsion transition numerique ?",
            "6 mois",
        ),
        (
            "Nous sommes une entreprise lyonnaise sans site en Normandie. Pouvons-nous solliciter Impulsion Conseil ?",
            "établissement en Normandie",
        ),
    ] {
        let reply = ask(pipeline, question).await;
        assert!(
            reply.kind == AnswerKind::NoAnswer || reply.answer.contains(rule),
            "{question}: {}",
            reply.answer
        );
    }
}

/// « C'était où ? » is answered by a place, not by what an event was
/// about (« consacrée aux données de l'emploi », « dédié à l'IA »); the
/// documents do not say where the Datathon or the health forum took place.
async fn where_it_was_is_answered_by_a_place(pipeline: &AnswerPipeline) {
    // « Les compétences normandes en IA » situate nothing either; the
    // documents do not say where the DataLab is.
    assert_all_refused(
        pipeline,
        &[
            "le datathon c'etait ou",
            "c'etait ou le forum ia sante",
            "où se trouve le DataLab Normandie ?",
            // Nor « à l'IA » after « dédié », when the question does not name
            // the field.
            "where exactly was the Forum Santé pour Tous held?",
        ],
    )
    .await;
    assert_answers_hold(
        pipeline,
        &[("les assises c'etait ou", "l'Université de Caen")],
    )
    .await;
}

/// « Quel jour », « cb de monde », « effectif » say what kind of fact is asked:
/// the sentence that gives the date or the count answers without them. A
/// count of something else (« 600 professionnels » for workshops, « plus de
/// 200 acteurs » for financing the same sentence only names) and what
/// the Region invested (for the price of entry) do not answer.
async fn the_kind_of_fact_asked_is_no_word_the_answer_must_hold(pipeline: &AnswerPipeline) {
    assert_answers_start(
        pipeline,
        &[
            ("assises ia cetait kel jour", "9 octobre"),
            ("ya eu cb de monde aux assises ia", "Plus de 600"),
            (
                "Impulsion Transition Numérique effectif maximum",
                "Moins de 10 salariés",
            ),
            ("latrium cest ouvert kel jours", "Du mardi au dimanche"),
        ],
    )
    .await;
    assert_all_refused(
        pipeline,
        &[
            "Assises IA 2025 nombre d'ateliers",
            "l'atrium ça coûte combien l'entrée ?",
            // The label « a apporté des financements de Bpifrance »: named,
            // not counted; its count is of « acteurs ».
            "la french tech normandie a eu combien de financement de bpifrance",
            // An hour, which no document gives: « a ouvert une antenne en
            // janvier 2013 » is a date, not an opening time.
            "normandie incubation c ouvert a quelle heure",
        ],
    )
    .await;
}

/// « Qui organisait… ? » is answered by who the quote says organised
/// (« organisées par Ouest France », « Caen Normandie Développement a
/// organisé »), not by the university that hosted;
/// « c'était où ? » by the quote's one named place, whatever short answer
/// the model proposed, « elle fini qd ? » by the end of the period, the
/// loan's share by the one the visitor's forty jobs qualify for, a
/// ceiling by what follows « plafonné », « tous les combien ? » by how
/// often; « c t ou » and « lia » are the visitors' spellings of « c'était
/// où » and « l'IA ».
async fn who_did_it_and_where_are_highlighted_from_the_quote(pipeline: &AnswerPipeline) {
    assert_answers_start(
        pipeline,
        &[
            ("qui organisait les assises de l'IA", "Ouest France"),
            ("ki c ki anime latrium", "Science Action Normandie"),
            ("Qui soutient la Journée des IA Responsables ?", "La Région"),
            (
                "forum sante pr tous cest ki ki organise",
                "Caen Normandie Développement",
            ),
            (
                "les assises de lia c t ou",
                "À l'Université de Caen Normandie",
            ),
            ("Impulsion Conseil gestionnaire", "L'AD Normandie"),
            (
                "Le comité qui sélectionne les projets chez Normandie Incubation se réunit tous les combien ?",
                "Chaque mois",
            ),
            ("lexpo ia elle fini qd", "Octobre 2027"),
            (
                "Le prêt Impulsion Environnement est plafonné à combien ?",
                "Aux fonds propres et à 1 million d'euros",
            ),
            (
                "On va créer une quarantaine d'emplois avec notre nouvelle usine. Le prêt Impulsion Développement peut monter jusqu'à quel pourcentage ?",
                "Jusqu'à 35 %",
            ),
            // « jobs » is « emplois » by the words' meaning.
            (
                "We plan to add 40 permanent jobs with our new plant. What share of the costs could the Impulsion Développement loan cover?",
                "Jusqu'à 35 %",
            ),
        ],
    )
    .await;
}

/// The reply to `message` asked alone, as the first of a conversation.
async fn ask(pipeline: &AnswerPipeline, message: &str) -> Reply {
    pipeline.answer(message, None).await.expect("answers")
}

/// A question the documents answer gets a quote; the reply, to look into.
async fn assert_answered(pipeline: &AnswerPipeline, message: &str) -> Reply {
    let reply = ask(pipeline, message).await;
    assert_eq!(
        reply.kind,
        AnswerKind::Extractive,
        "{message}: {}",
        reply.answer
    );
    reply
}

/// Each message is answered, and its answer starts with what is paired
/// with it: the short answer highlighted, then the quote.
async fn assert_answers_start(pipeline: &AnswerPipeline, cases: &[(&str, &str)]) {
    for (message, starts) in cases {
        let reply = assert_answered(pipeline, message).await;
        assert!(
            reply.answer.starts_with(starts),
            "{message}: {}",
            reply.answer
        );
    }
}

/// Each message is answered, and its answer holds what is paired with it.
async fn assert_answers_hold(pipeline: &AnswerPipeline, cases: &[(&str, &str)]) {
    for (message, held) in cases {
        let reply = assert_answered(pipeline, message).await;
        assert!(reply.answer.contains(held), "{message}: {}", reply.answer);
    }
}

/// Each message is refused (see [`assert_refused`]).
async fn assert_all_refused(pipeline: &AnswerPipeline, messages: &[&str]) {
    for message in messages {
        assert_refused(pipeline, message).await;
    }
}

/// A question the documents do not answer is refused, and no sentence
/// shown with it is highlighted as the answer.
async fn assert_refused(pipeline: &AnswerPipeline, message: &str) {
    let reply = ask(pipeline, message).await;
    assert_eq!(
        reply.kind,
        AnswerKind::NoAnswer,
        "{message}: {}",
        reply.answer
    );
    assert!(
        reply.sources.iter().all(|s| s.highlight.is_none()),
        "{message}: {:?}",
        reply.sources
    );
}

async fn off_topic_questions_get_a_plain_refusal(pipeline: &AnswerPipeline) {
    for question in [
        "quel temps fera-t-il demain à Caen ?",
        "Who won the football world cup?",
    ] {
        let reply = ask(pipeline, question).await;
        assert_eq!(
            reply.kind,
            AnswerKind::NoAnswer,
            "{question}: {}",
            reply.answer
        );
        assert!(reply.sources.is_empty(), "{question}: {:?}", reply.sources);
    }
}

async fn english_questions_get_english_words_around_the_french_quote(pipeline: &AnswerPipeline) {
    let reply = assert_answered(pipeline, "When did the Destination IA exhibition open?").await;
    assert_eq!(reply.language, Language::English);
    // The frame is English; the quote and its date stay as written.
    assert!(reply.answer.contains("From “"), "{}", reply.answer);
    assert!(reply.answer.contains("12 février 2026"), "{}", reply.answer);
    assert!(!reply.answer.contains("Source\u{a0}:"), "{}", reply.answer);

    let refusal = ask(pipeline, "How much is a ticket for the exhibition?").await;
    assert_eq!(refusal.kind, AnswerKind::NoAnswer, "{}", refusal.answer);
    assert!(
        refusal.answer.starts_with("I could not"),
        "{}",
        refusal.answer
    );
    assert!(!refusal.suggestions.is_empty());
    for suggestion in &refusal.suggestions {
        assert!(
            suggestion.ends_with('?') && !suggestion.ends_with("\u{a0}?"),
            "{suggestion}"
        );
    }

    let hello = ask(pipeline, "Hello!").await;
    assert_eq!(hello.kind, AnswerKind::Smalltalk);
    assert!(hello.answer.starts_with("Hello"), "{}", hello.answer);
}

/// A question offered to visitors must be one the reader answers, with
/// the fact the staff wrote beside it, in both languages.
async fn every_suggested_question_is_answered(pipeline: &AnswerPipeline) {
    let questions = eulcat::corpus::suggestions::load(&crate::util::root().join("corpus"))
        .expect("suggestions.toml");
    assert!(!questions.is_empty());
    let mut wrong = Vec::new();
    for question in &questions {
        for asked in [&question.fr, &question.en] {
            let reply = ask(pipeline, asked).await;
            let fact = &reply
                .sources
                .first()
                .map(|s| s.quote.as_str())
                .unwrap_or("");
            let answered = reply.kind == AnswerKind::Extractive
                && fact
                    .to_lowercase()
                    .contains(&question.answer.to_lowercase());
            if !answered {
                wrong.push(format!("{asked} → {:?}: {}", reply.kind, reply.answer));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
