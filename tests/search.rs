//! The French analyzer through the index, retrieval over the real corpus,
//! typo tolerance, snippets and the rebuild-on-change fingerprint.

use std::path::Path;

use eulcat::corpus::{chunk_documents, load_dir, Passage};
use eulcat::search::{analyze, corpus_fingerprint, Hit, SearchIndex};

fn corpus_passages() -> Vec<Passage> {
    let (documents, skipped) =
        load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    chunk_documents(&documents)
}

fn corpus_index() -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    index.rebuild(&corpus_passages()).unwrap();
    index
}

fn passage(order: usize, section: &str, text: &str) -> Passage {
    Passage {
        id: format!("t.md#s0.p{order}"),
        doc_id: "t.md".into(),
        doc_title: "Test".into(),
        section: Some(section.into()),
        date: None,
        url: None,
        source: None,
        text: text.into(),
        sentences: vec![text.into()],
        page: None,
        deadline: None,
        order,
    }
}

fn small_index(texts: &[&str]) -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    let passages: Vec<Passage> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| passage(i, "Divers", t))
        .collect();
    index.rebuild(&passages).unwrap();
    index
}

fn texts(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.passage.text.as_str()).collect()
}

#[test]
fn accents_and_plurals_do_not_matter() {
    assert_eq!(analyze("« Compétences »"), analyze("competence"));
    let index = small_index(&[
        "Le projet « Compétences à la carte » est lauréat.",
        "Un autre sujet.",
    ]);
    let hits = index.search("competence", 5).unwrap();
    assert_eq!(
        texts(&hits),
        ["Le projet « Compétences à la carte » est lauréat."]
    );
}

#[test]
fn elided_articles_are_removed() {
    assert_eq!(analyze("l'IA"), ["ia"]);
    assert_eq!(analyze("L’IA"), ["ia"]);
    assert_eq!(
        analyze("jusqu'à l'automne d'abord qu’elle"),
        analyze("automne abord")
    );
    let index = small_index(&["Une journée sur IA et santé.", "Rien à voir."]);
    assert_eq!(
        texts(&index.search("l'IA", 5).unwrap()),
        ["Une journée sur IA et santé."]
    );
    let index = small_index(&["L'innovation par la donnée.", "Rien à voir."]);
    assert_eq!(
        texts(&index.search("innovation", 5).unwrap()),
        ["L'innovation par la donnée."]
    );
}

#[test]
fn stop_words_are_removed() {
    assert!(analyze("Qu'est-ce que le la les des du et à où ?").is_empty());
    let index = small_index(&["Le datathon de la Région."]);
    assert!(
        index.search("le la de", 5).unwrap().is_empty(),
        "stop words alone match nothing"
    );
    assert!(index.search("", 5).unwrap().is_empty());
    assert!(index.search("datathon", 0).unwrap().is_empty());
}

#[test]
fn dotted_names_are_searchable() {
    let index = corpus_index();
    for query in ["Normandie.ai", "association normandie.ai", "Normandie ai"] {
        let hits = index.search(query, 3).unwrap();
        assert!(
            hits[0].passage.text.contains("l'association Normandie.ai"),
            "{query}: {:?}",
            texts(&hits)
        );
    }
}

#[test]
fn or_semantics_and_query_syntax_is_harmless() {
    let index = corpus_index();
    let hits = index.search("datathon zzzinconnu", 3).unwrap();
    assert!(
        hits[0].passage.text.contains("Datathon Normandie"),
        "one unknown word does not veto the rest"
    );
    for weird in [
        "title:\"datathon",
        "AND OR NOT (",
        "-datathon +)",
        "datathon^3 ~2 *",
        "\\ ' \" : [ ] { }",
    ] {
        assert!(index.search(weird, 3).is_ok(), "{weird}");
    }
    assert!(
        index.search("-datathon", 3).unwrap()[0]
            .passage
            .text
            .contains("Datathon"),
        "a leading dash does not exclude"
    );
}

/// Questions of different kinds about the newsletter; the passage holding
/// the answer must be among the first three hits.
#[test]
fn real_corpus_questions_find_their_passage() {
    let index = corpus_index();
    let cases = [
        (
            "Combien de décideurs, experts et élus étaient réunis à Caen en octobre ?",
            "plus de 600 décideurs",
        ),
        (
            "Quel projet a été désigné lauréat du datathon ?",
            "« Compétences à la carte »",
        ),
        ("Dans quelle ville se trouve l'ATRIUM ?", "l'ATRIUM à Rouen"),
        (
            "De quel programme européen BOOST AI est-il lauréat ?",
            "Interreg Europe du Nord-Ouest",
        ),
        ("médecine predictive et personnalisee", "Okwin"),
        ("Un live Twitch pour les lycéens ?", "live Twitch"),
        (
            "cybersecurite et souverainete numerique",
            "Les 3 axes stratégiques",
        ),
        (
            "Combien d'équipes ont participé au datathon ?",
            "6 équipes pluridisciplinaires",
        ),
        (
            "Qui organisait les premières Assises nationales de l'Intelligence Artificielle ?",
            "Ouest France",
        ),
        ("agent conversationnel normand", "EulCat"),
        ("perspectives 2026", "quelques perspectives pour 2026"),
        ("Quand se termine le datathon ?", "9 décembre"),
    ];
    let mut misses = Vec::new();
    for (question, answer) in cases {
        let hits = index.search(question, 3).unwrap();
        if !hits.iter().any(|h| h.passage.text.contains(answer)) {
            misses.push(format!("{question} → {:?}", texts(&hits)));
        }
    }
    assert!(misses.is_empty(), "{misses:#?}");
}

#[test]
fn misspelt_words_still_find_their_passage() {
    let index = corpus_index();
    for (query, expected) in [
        ("datathn", "Datathon Normandie"),
        // The newsletter and the exhibition's own document both qualify.
        ("exposision", "exposition Destination IA"),
        (
            "Quand a lieu l'exposision Destination IA ?",
            "exposition Destination IA",
        ),
        ("webinaries", "Cycle de webinaires"),
        ("cybersecurté", "cybersécurité"),
    ] {
        let hits = index.search(query, 3).unwrap();
        assert!(
            !hits.is_empty() && hits[0].passage.text.contains(expected),
            "{query}: {:?}",
            texts(&hits)
        );
    }
    let hits = index.search("exposision", 1).unwrap();
    assert!(
        hits[0].snippet_html.contains("<mark>exposition</mark>"),
        "fuzzy matches are highlighted: {}",
        hits[0].snippet_html
    );
}

#[test]
fn snippets_are_highlighted_and_escaped() {
    let index = corpus_index();
    let hits = index.search("webinaires Data", 1).unwrap();
    let html = &hits[0].snippet_html;
    assert!(html.contains("<mark>webinaires</mark>"), "{html}");
    assert!(html.contains("IA &amp; <mark>Data</mark>"), "{html}");
    assert!(!html.contains("<b>"));

    // Matched only through the section heading: the snippet falls back to
    // the start of the passage.
    let index = SearchIndex::in_ram().unwrap();
    index
        .rebuild(&[passage(
            0,
            "Ambition européenne",
            "La Région <b> & ses partenaires.",
        )])
        .unwrap();
    let hits = index.search("ambition", 1).unwrap();
    assert_eq!(
        hits[0].snippet_html,
        "La Région &lt;b&gt; &amp; ses partenaires."
    );
}

#[test]
fn hits_carry_the_whole_passage() {
    let passages = corpus_passages();
    let index = SearchIndex::in_ram().unwrap();
    index.rebuild(&passages).unwrap();
    let hit = &index.search("BOOST AI partenaires", 1).unwrap()[0];
    let original = passages.iter().find(|p| p.id == hit.passage.id).unwrap();
    assert_eq!(&hit.passage, original);
    assert!(hit.score > 0.0);
    assert_eq!(index.all_passages().unwrap(), passages);
    let next = index
        .passage_at(&hit.passage.doc_id, hit.passage.order + 1)
        .unwrap()
        .unwrap();
    assert_eq!(next.section.as_deref(), Some("À venir début 2026"));
}

#[test]
fn fingerprint_rebuilds_only_when_the_corpus_changes() {
    let dir = tempfile::tempdir().unwrap();
    let passages = corpus_passages();
    {
        let index = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(
            index.ensure_current(&passages).unwrap(),
            "a new index is built"
        );
        assert_eq!(
            index.fingerprint().unwrap(),
            Some(corpus_fingerprint(&passages))
        );
    }
    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(index.len() as usize, passages.len(), "the index persisted");
    assert!(
        !index.ensure_current(&passages).unwrap(),
        "same corpus: no rebuild"
    );

    let mut changed = passages;
    changed[0].text = "Un texte tout neuf sur les licornes.".into();
    changed[0].sentences = vec![changed[0].text.clone()];
    assert!(
        index.ensure_current(&changed).unwrap(),
        "changed corpus: rebuild"
    );
    assert_eq!(
        index.search("licornes", 1).unwrap()[0].passage.id,
        changed[0].id,
        "visible at once"
    );
    assert!(!index.ensure_current(&changed).unwrap());
}

#[test]
fn an_index_with_another_schema_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("autre", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(dir.path(), builder.build()).unwrap();

    let index = SearchIndex::open_or_create(dir.path()).unwrap();
    assert!(index.is_empty());
    assert!(index.ensure_current(&corpus_passages()).unwrap());
    assert!(!index.search("datathon", 1).unwrap().is_empty());
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn assert_shareable<T: Send + Sync>() {}
    assert_shareable::<SearchIndex>();
    let index = std::sync::Arc::new(corpus_index());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let index = std::sync::Arc::clone(&index);
            std::thread::spawn(move || index.search("datathon", 1).unwrap().len())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 1);
    }
}

#[test]
fn a_damaged_index_is_discarded_and_rebuilt() {
    let passages = corpus_passages();
    type Damage = fn(&std::path::Path);
    let damages: [(&str, Damage); 2] = [
        ("garbage metadata", |dir| {
            std::fs::write(dir.join("meta.json"), b"{ not json").unwrap()
        }),
        ("a segment file lost", |dir| {
            let lost = std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .find(|path| path.extension().is_some_and(|e| e == "idx"))
                .expect("a segment's term index");
            std::fs::remove_file(lost).unwrap();
        }),
    ];
    for (damage, inflict) in damages {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = SearchIndex::open_or_create(dir.path()).unwrap();
            index.ensure_current(&passages).unwrap();
        }
        inflict(dir.path());
        let index = SearchIndex::open_or_create(dir.path())
            .unwrap_or_else(|e| panic!("{damage}: the index does not open: {e}"));
        assert!(
            index.ensure_current(&passages).unwrap(),
            "{damage}: rebuilt"
        );
        assert!(
            !index.search("Datathon", 3).unwrap().is_empty(),
            "{damage}: searchable again"
        );
    }
}
