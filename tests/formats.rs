//! PDF, DOCX and HTML documents made by the tests: their passages, pages and
//! titles; a corrupt file skipped, not fatal; incremental re-indexing of an
//! edited, added and deleted document.

use std::fs;
use std::io::Write;
use std::path::Path;

use eulcat::corpus::{chunk_documents, load_dir, Passage};
use eulcat::search::{SearchIndex, SyncReport};

/// A PDF string literal in WinAnsi (Latin-1 for our accents).
fn pdf_string(text: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in text.chars() {
        let byte = u8::try_from(u32::from(c)).expect("test text is Latin-1");
        if matches!(byte, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b')');
    out
}

/// A minimal PDF with one page per entry, each line (`\n`) at its own
/// baseline, a wider gap between paragraphs, and an Info dictionary.
fn write_pdf(path: &Path, title: &str, pages: &[&[&str]]) {
    let mut objects: Vec<Vec<u8>> = vec![Vec::new(), Vec::new()];
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let mut kids = Vec::new();
    for paragraphs in pages {
        let mut stream = b"BT /F1 11 Tf".to_vec();
        let mut y = 800;
        for paragraph in *paragraphs {
            y -= 12;
            for line in paragraph.lines() {
                y -= 14;
                stream.extend(format!("\n1 0 0 1 56 {y} Tm ").as_bytes());
                stream.extend(pdf_string(line));
                stream.extend(b" Tj");
            }
        }
        stream.extend(b"\nET");
        let mut content = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        content.extend(&stream);
        content.extend(b"\nendstream");
        objects.push(content);
        let content_id = objects.len();
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        kids.push(format!("{} 0 R", objects.len()));
    }
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        kids.len()
    )
    .into_bytes();
    let mut info = b"<< /Title ".to_vec();
    info.extend(pdf_string(title));
    info.extend(b" /CreationDate (D:20251201000000Z) /URL (https://example.org/fiche) >>");
    objects.push(info);
    let info_id = objects.len();

    let mut data = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(data.len());
        data.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        data.extend(body);
        data.extend(b"\nendobj\n");
    }
    let xref = data.len();
    data.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        data.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    data.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info {info_id} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    fs::write(path, data).unwrap();
}

/// A minimal DOCX: a title paragraph, a heading and body paragraphs.
fn write_docx(path: &Path, title: &str, paragraphs: &[(&str, &str)]) {
    let body: String = paragraphs
        .iter()
        .map(|(style, text)| {
            let props = if style.is_empty() {
                String::new()
            } else {
                format!("<w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>")
            };
            format!("<w:p>{props}<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
        })
        .collect();
    let document = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let core = format!(
        "<?xml version=\"1.0\"?><cp:coreProperties xmlns:cp=\"a\" xmlns:dc=\"b\" xmlns:dcterms=\"c\"><dc:title>{title}</dc:title><dcterms:created>2025-11-02T08:00:00Z</dcterms:created></cp:coreProperties>"
    );
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in [("word/document.xml", document), ("docProps/core.xml", core)] {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

const HTML: &str = r#"<!doctype html><html lang="fr"><head><title>Exposition en ville</title></head>
<body><nav><a href="/">Accueil</a> Menu du site</nav>
<main><h1>Exposition en ville</h1><h2>Horaires</h2><p>Ouverte du mardi au dimanche.</p></main>
<footer>Mentions légales du site</footer></body></html>"#;

fn make_corpus(dir: &Path) {
    write_pdf(
        &dir.join("fiche.pdf"),
        "Fiche Impulsion Conseil",
        &[
            &[
                "Présentation",
                "Une aide pour recourir à un consultant extérieur.",
            ],
            &[
                "Montant de l'aide",
                "La subvention couvre 50 % des dépenses,\ndans la limite de 15 000 euros.",
            ],
        ],
    );
    write_docx(
        &dir.join("export.docx"),
        "Fiche Impulsion Export",
        &[
            ("Title", "Impulsion Export"),
            ("", "Une aide pour prospecter à l'étranger."),
            ("Heading2", "Plafond"),
            ("", "La subvention atteint au plus 75 000 euros."),
        ],
    );
    fs::write(dir.join("expo.html"), HTML).unwrap();
}

fn passages_of<'a>(passages: &'a [Passage], doc_id: &str) -> Vec<&'a Passage> {
    passages.iter().filter(|p| p.doc_id == doc_id).collect()
}

#[test]
fn pdf_docx_and_html_become_passages_with_title_and_page() {
    let dir = tempfile::tempdir().unwrap();
    make_corpus(dir.path());
    let (documents, skipped) = load_dir(dir.path()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(documents.len(), 3);
    let passages = chunk_documents(&documents);

    let pdf = passages_of(&passages, "fiche.pdf");
    assert_eq!(pdf[0].doc_title, "Fiche Impulsion Conseil");
    assert_eq!(pdf[0].date.as_deref(), Some("2025-12-01"));
    assert_eq!(pdf[0].url.as_deref(), Some("https://example.org/fiche"));
    assert_eq!(pdf[0].page, Some(1));
    assert_eq!(pdf[0].section.as_deref(), Some("Présentation"));
    assert_eq!(
        pdf[0].text,
        "Une aide pour recourir à un consultant extérieur."
    );
    let amount = pdf
        .iter()
        .find(|p| p.text.contains("15 000 euros"))
        .expect("page two is read");
    assert_eq!(amount.page, Some(2));
    assert_eq!(amount.section.as_deref(), Some("Montant de l'aide"));
    assert_eq!(
        amount.text, "La subvention couvre 50 % des dépenses, dans la limite de 15 000 euros.",
        "lines of one paragraph are joined"
    );

    let docx = passages_of(&passages, "export.docx");
    assert_eq!(docx[0].doc_title, "Fiche Impulsion Export");
    assert_eq!(docx[0].date.as_deref(), Some("2025-11-02"));
    assert_eq!(docx[0].page, None);
    assert_eq!(docx[1].section.as_deref(), Some("Plafond"));
    assert_eq!(docx[1].text, "La subvention atteint au plus 75 000 euros.");

    let html = passages_of(&passages, "expo.html");
    assert_eq!(html.len(), 1, "menus and footers are not content: {html:?}");
    assert_eq!(html[0].doc_title, "Exposition en ville");
    assert_eq!(html[0].section.as_deref(), Some("Horaires"));
    assert_eq!(html[0].text, "Ouverte du mardi au dimanche.");
}

#[test]
fn a_corrupt_or_empty_file_is_skipped_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    make_corpus(dir.path());
    fs::write(dir.path().join("casse.pdf"), b"%PDF-1.4\n1 0 obj << /Type").unwrap();
    fs::write(dir.path().join("faux.docx"), b"ceci n'est pas un zip").unwrap();
    write_pdf(&dir.path().join("scan.pdf"), "Scan", &[&[]]);
    let (documents, skipped) = load_dir(dir.path()).unwrap();
    assert_eq!(documents.len(), 3, "the good files still load");
    let reasons: Vec<(String, String)> = skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(reasons[0].0, "casse.pdf");
    assert!(reasons[0].1.contains("as PDF"), "{reasons:?}");
    assert_eq!(reasons[1].0, "faux.docx");
    assert!(reasons[1].1.contains("not a zip"), "{reasons:?}");
    assert_eq!(reasons[2].0, "scan.pdf");
    assert!(reasons[2].1.contains("no text"), "{reasons:?}");
}

fn sync_dir(index: &SearchIndex, dir: &Path) -> SyncReport {
    let (documents, _) = load_dir(dir).unwrap();
    index.sync(&chunk_documents(&documents)).unwrap()
}

#[test]
fn reindexing_touches_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    make_corpus(dir.path());
    fs::write(dir.path().join("note.md"), "# Note\n\nUn texte stable.\n").unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open_or_create(index_dir.path()).unwrap();

    let first = sync_dir(&index, dir.path());
    assert_eq!(
        first.to_string(),
        "added 4, updated 0, removed 0, unchanged 0"
    );
    assert_eq!(
        sync_dir(&index, dir.path()).to_string(),
        "added 0, updated 0, removed 0, unchanged 4"
    );

    fs::write(
        dir.path().join("expo.html"),
        HTML.replace("mardi au dimanche", "lundi au samedi"),
    )
    .unwrap();
    fs::remove_file(dir.path().join("export.docx")).unwrap();
    fs::write(
        dir.path().join("nouveau.txt"),
        "Nouveau\n\nLes licornes arrivent.\n",
    )
    .unwrap();
    let report = sync_dir(&index, dir.path());
    assert_eq!(
        report,
        SyncReport {
            added: 1,
            updated: 1,
            removed: 1,
            unchanged: 2
        }
    );
    assert_eq!(
        report.to_string(),
        "added 1, updated 1, removed 1, unchanged 2"
    );

    // What the index holds now is exactly what a full rebuild would hold.
    let (documents, _) = load_dir(dir.path()).unwrap();
    let mut expected = chunk_documents(&documents);
    expected.sort_by(|a, b| a.doc_id.cmp(&b.doc_id).then(a.order.cmp(&b.order)));
    assert_eq!(index.all_passages().unwrap(), expected);
    assert!(
        index
            .search("Impulsion Export prospecter étranger", 10)
            .unwrap()
            .iter()
            .all(|hit| hit.passage.doc_id != "export.docx"),
        "the deleted document is gone"
    );
    let hits = index.search("lundi samedi", 1).unwrap();
    assert_eq!(hits[0].passage.doc_id, "expo.html");
    assert_eq!(
        index.search("licornes", 1).unwrap()[0].passage.doc_id,
        "nouveau.txt"
    );

    // Reopening from disk keeps the per-document hashes.
    drop(index);
    let index = SearchIndex::open_or_create(index_dir.path()).unwrap();
    assert_eq!(
        sync_dir(&index, dir.path()).to_string(),
        "added 0, updated 0, removed 0, unchanged 4"
    );
}
