//! Loading the real corpus and broken ones; chunking the newsletter.

use std::fs;
use std::path::{Path, PathBuf};

use eulcat::corpus::{
    chunk_documents, load_dir, load_file, normalize, Document, MAX_PASSAGE_WORDS,
};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

const NEWSLETTER_ID: &str = "newsletter-datalab-normandie-2025-s2.md";

fn newsletter() -> Document {
    let (documents, skipped) = load_dir(&corpus_dir()).expect("corpus/ is readable");
    assert!(
        skipped.is_empty(),
        "nothing in corpus/ should be skipped: {skipped:?}"
    );
    documents
        .into_iter()
        .find(|d| d.id == NEWSLETTER_ID)
        .expect("the newsletter is in corpus/")
}

/// The seed text as distributed (with its `2^e` caret), kept here so the
/// test does not depend on files outside the repository.
const SEED_FORUM: &str = "Le 27 novembre, Caen Normandie Développement a organisé la 2^e édition du forum dédié à l'IA appliquée à la santé.";

#[test]
fn newsletter_loads_with_its_metadata() {
    let doc = newsletter();
    assert_eq!(doc.title, "Newsletter DataLab Normandie – 2e semestre 2025");
    assert_eq!(doc.date.as_deref(), Some("2025-12-31"));
    assert_eq!(doc.url, None, "no URL is known for the newsletter");
    assert!(doc
        .source
        .as_deref()
        .is_some_and(|s| s.contains("DataLab Normandie")));
    assert_eq!(doc.language, "fr");
    assert!(doc.tags.iter().any(|t| t == "newsletter"));
}

#[test]
fn newsletter_has_its_sections_in_order() {
    let doc = newsletter();
    let headings: Vec<&str> = doc
        .sections
        .iter()
        .filter_map(|s| s.heading.as_deref())
        .collect();
    assert!(headings.len() >= 7, "{headings:?}");
    assert_eq!(
        headings,
        [
            "L'IA au cœur des territoires normands",
            "Les Assises Nationales de l'IA – Une première édition réussie",
            "Forum Santé pour Tous : IA & Données de Santé au service de l'innovation",
            "Lancement de la filière Normandie Numérique",
            "Datathon Normandie 2025 : l'innovation par la donnée",
            "Journée des IA Responsables – Normandie.ai",
            "Ambition européenne",
            "À venir début 2026",
        ]
    );
    let upcoming = doc.sections.last().expect("sections");
    assert_eq!(
        upcoming.paragraphs.len(),
        2,
        "two bullets: {:?}",
        upcoming.paragraphs
    );
    assert!(upcoming.paragraphs[1].starts_with("Inauguration de l'exposition Destination IA"));
    assert!(upcoming.paragraphs[1].ends_with("l'agent conversationnel normand, EulCat!"));
}

#[test]
fn superscripts_are_flattened_and_text_is_verbatim() {
    let doc = newsletter();
    let text: Vec<&str> = doc
        .sections
        .iter()
        .flat_map(|s| s.paragraphs.iter().map(String::as_str))
        .collect();
    let text = text.join("\n");
    assert!(!text.contains('^'), "no caret left");
    assert!(
        text.contains(&normalize(SEED_FORUM)),
        "the forum sentence is quoted verbatim, with 2e"
    );
    assert!(text.contains("la 2e édition du forum"));
    assert!(text.contains("pour cette 2nde édition"));
    assert!(text.contains("Le projet « Compétences à la carte » qui propose"));
}

#[test]
fn markdown_and_plain_text_versions_agree() {
    // The seed was a .txt; re-creating it from the Markdown body and reading
    // it with the text loader must give the same sections.
    let doc = newsletter();
    let mut txt = format!("{}\n\n", doc.title.replace("2e", "2^e"));
    for section in &doc.sections {
        txt.push_str(section.heading.as_deref().unwrap_or_default());
        txt.push_str("\n\n\n\n");
        let bullets = section.paragraphs.len() > 1;
        for paragraph in &section.paragraphs {
            let line = if bullets {
                format!("- {paragraph}\n")
            } else {
                format!("{paragraph}\n\n")
            };
            txt.push_str(&line);
        }
        txt.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newsletter.txt");
    fs::write(&path, txt).unwrap();
    let plain = load_file(dir.path(), &path).unwrap();
    assert_eq!(plain.title, doc.title);
    assert_eq!(plain.sections, doc.sections);
}

#[test]
fn newsletter_passages() {
    let passages = chunk_documents(&[newsletter()]);
    assert_eq!(passages.len(), 9, "one passage per paragraph and bullet");
    for (i, passage) in passages.iter().enumerate() {
        assert_eq!(passage.order, i);
        assert!(passage.text.split_whitespace().count() <= MAX_PASSAGE_WORDS);
        assert_eq!(passage.text, passage.sentences.join(" "));
        assert_eq!(
            passage.doc_title,
            "Newsletter DataLab Normandie – 2e semestre 2025"
        );
        assert_eq!(passage.date.as_deref(), Some("2025-12-31"));
    }
    let journee = passages
        .iter()
        .find(|p| p.section.as_deref() == Some("Journée des IA Responsables – Normandie.ai"))
        .unwrap();
    assert_eq!(journee.sentences.len(), 5);
    assert!(journee.sentences.contains(
        &"Une initiative portée par l'association Normandie.ai et soutenue par la Région pour promouvoir des usages responsables et inclusifs.".to_string()
    ));
    let datathon = passages
        .iter()
        .find(|p| p.text.starts_with("La 3e édition du Datathon"))
        .unwrap();
    assert_eq!(datathon.sentences.len(), 3);
    assert!(datathon.sentences[2].starts_with("Le projet « Compétences à la carte »"));
    assert!(datathon.sentences[2].ends_with("est le lauréat de cette édition !"));
    let exposition = passages.last().unwrap();
    assert_eq!(
        exposition.sentences[0],
        "Inauguration de l'exposition Destination IA à l'ATRIUM à Rouen le 12 février 2026."
    );
    assert_eq!(exposition.sentences.len(), 3);
}

#[test]
fn broken_documents_are_skipped_and_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("sous/dossier")).unwrap();
    fs::write(
        root.join("bon.md"),
        "---\ntitle: Bon\ndate: 2025-06-30\n---\n## Partie\n\nTexte.\n",
    )
    .unwrap();
    fs::write(
        root.join("sous/dossier/note.txt"),
        "Une note\n\nSon contenu.\n",
    )
    .unwrap();
    fs::write(
        root.join("yaml.md"),
        "---\ntitle: [pas fermé\n---\nTexte.\n",
    )
    .unwrap();
    fs::write(root.join("ouvert.md"), "---\ntitle: Sans fin\nTexte.\n").unwrap();
    fs::write(root.join("latin1.txt"), b"R\xe9gion Normandie\n").unwrap();
    fs::write(root.join(".cache.md"), "caché").unwrap();
    fs::write(root.join("image.png"), [0u8, 1, 2]).unwrap();

    let (documents, skipped) = load_dir(root).unwrap();
    let ids: Vec<&str> = documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["bon.md", "sous/dossier/note.txt"]);
    assert_eq!(documents[0].title, "Bon");
    assert_eq!(documents[1].title, "Une note");
    assert_eq!(documents[1].sections[0].paragraphs, ["Son contenu."]);

    let mut skipped_names: Vec<String> = skipped
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    skipped_names.sort();
    assert_eq!(skipped_names, ["latin1.txt", "ouvert.md", "yaml.md"]);
    for s in &skipped {
        assert!(!s.reason.is_empty());
        assert!(
            s.reason.contains(&s.path.display().to_string()),
            "reason names the file: {}",
            s.reason
        );
    }
    assert!(skipped.iter().any(|s| s.reason.contains("UTF-8")));
}

#[test]
fn missing_root_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_dir(&dir.path().join("absent")).is_err());
}
