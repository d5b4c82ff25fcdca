//! Reads a Word document (`.docx`): its paragraphs, its headings as
//! section titles, and its core properties as metadata.
//!
//! A DOCX file is a zip of XML parts. `word/document.xml` holds the
//! paragraphs (`w:p`) made of runs of text (`w:t`); a paragraph whose style
//! is a heading (`Heading1`, French `Titre1`, or any style `styles.xml`
//! names « heading N ») starts a section, and a `Title` paragraph is the
//! document title. `docProps/core.xml` gives the title, subject (our
//! source), keywords, creation date, identifier (our URL) and language.
//! Deleted revisions and field codes are not text. Depends on zip and
//! quick-xml; knows nothing of files.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::markdown::FrontMatter;
use super::parsed::Parsed;
use super::typography::normalize;
use super::Section;

/// Largest XML part we inflate; guards against zip bombs.
const MAX_PART_BYTES: u64 = 32 * 1024 * 1024;

/// Parses a DOCX file held in memory.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a zip archive: {e}"))?;
    let document = read_part(&mut archive, "word/document.xml")?
        .ok_or("no word/document.xml: not a Word document")?;
    let styles = match read_part(&mut archive, "word/styles.xml")? {
        Some(xml) => style_names(&xml)?,
        None => HashMap::new(),
    };
    let front = match read_part(&mut archive, "docProps/core.xml")? {
        Some(xml) => core_properties(&xml)?,
        None => FrontMatter::default(),
    };
    let (body_title, sections) = body(&document, &styles)?;
    Ok(Parsed {
        front,
        body_title,
        sections,
    })
}

fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, String> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(err) => return Err(format!("{name}: {err}")),
    };
    let mut text = String::new();
    file.take(MAX_PART_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(Some(text))
}

fn xml_error(part: &str) -> impl Fn(quick_xml::Error) -> String + '_ {
    move |e| format!("{part}: malformed XML: {e}")
}

fn attribute(element: &BytesStart<'_>, local: &str) -> Option<String> {
    element
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::default()).ok())
        .map(|v| v.into_owned())
}

/// Style id → lower-case style name, from `styles.xml`.
fn style_names(xml: &str) -> Result<HashMap<String, String>, String> {
    let mut reader = Reader::from_str(xml);
    let mut names = HashMap::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().map_err(xml_error("styles.xml"))? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "style" => current = attribute(&e, "styleId"),
                "name" => {
                    if let (Some(id), Some(name)) = (&current, attribute(&e, "val")) {
                        names.insert(id.clone(), name.to_lowercase());
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(names)
}

/// What a paragraph style makes of the paragraph.
#[derive(Debug, PartialEq)]
enum Role {
    Title,
    Heading,
    Body,
}

fn role(style: Option<&str>, styles: &HashMap<String, String>) -> Role {
    let Some(id) = style else {
        return Role::Body;
    };
    let name = styles
        .get(id)
        .map_or_else(|| id.to_lowercase(), Clone::clone);
    let folded = id.to_lowercase();
    if name == "title" || folded == "title" || folded == "titre" {
        return Role::Title;
    }
    let numbered = |prefix: &str, text: &str| {
        text.strip_prefix(prefix)
            .is_some_and(|rest| rest.trim().chars().all(|c| c.is_ascii_digit()) && !rest.is_empty())
    };
    if numbered("heading", &name) || numbered("heading", &folded) || numbered("titre", &folded) {
        Role::Heading
    } else {
        Role::Body
    }
}

/// The paragraphs of `document.xml`, grouped under their headings.
fn body(
    xml: &str,
    styles: &HashMap<String, String>,
) -> Result<(Option<String>, Vec<Section>), String> {
    let mut reader = Reader::from_str(xml);
    let mut title = None;
    let mut sections = Vec::new();
    let mut current = Section {
        heading: None,
        paragraphs: Vec::new(),
        page: None,
    };
    let mut text = String::new();
    let mut style: Option<String> = None;
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(xml_error("document.xml"))? {
            Event::Start(e) => match e.local_name().as_ref() {
                "p" => {
                    text.clear();
                    style = None;
                }
                "pStyle" => style = attribute(&e, "val"),
                "t" => in_text = true,
                "tab" | "br" | "cr" => text.push(' '),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "pStyle" => style = attribute(&e, "val"),
                "tab" | "br" | "cr" => text.push(' '),
                _ => {}
            },
            Event::Text(e) if in_text => text.push_str(&e.xml10_content()),
            Event::GeneralRef(e) if in_text => push_reference(&mut text, &e),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let paragraph = normalize(&text);
                    text.clear();
                    if paragraph.is_empty() {
                        continue;
                    }
                    match role(style.as_deref(), styles) {
                        Role::Title if title.is_none() => title = Some(paragraph),
                        Role::Title | Role::Heading => {
                            let previous = std::mem::replace(
                                &mut current,
                                Section {
                                    heading: Some(paragraph),
                                    paragraphs: Vec::new(),
                                    page: None,
                                },
                            );
                            if previous.heading.is_some() || !previous.paragraphs.is_empty() {
                                sections.push(previous);
                            }
                        }
                        Role::Body => current.paragraphs.push(paragraph),
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if current.heading.is_some() || !current.paragraphs.is_empty() {
        sections.push(current);
    }
    Ok((title, sections))
}

/// Metadata from `docProps/core.xml`.
/// Appends what an XML reference stands for: a character reference
/// (`&#233;`) or one of XML's five predefined entities; other entities
/// (undeclared in these parts) are dropped.
fn push_reference(text: &mut String, reference: &quick_xml::events::BytesRef<'_>) {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => text.push(c),
        _ => text.push_str(match &**reference {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => "",
        }),
    }
}

fn core_properties(xml: &str) -> Result<FrontMatter, String> {
    let mut reader = Reader::from_str(xml);
    let mut values: HashMap<String, String> = HashMap::new();
    let mut open: Option<String> = None;
    loop {
        match reader.read_event().map_err(xml_error("core.xml"))? {
            Event::Start(e) => open = Some(e.local_name().as_ref().to_string()),
            Event::Text(e) => {
                if let Some(key) = &open {
                    values
                        .entry(key.clone())
                        .or_default()
                        .push_str(&e.xml10_content());
                }
            }
            Event::GeneralRef(e) => {
                if let Some(key) = &open {
                    push_reference(values.entry(key.clone()).or_default(), &e);
                }
            }
            Event::End(_) => open = None,
            Event::Eof => break,
            _ => {}
        }
    }
    let mut take = |key: &str| {
        values
            .remove(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    Ok(FrontMatter {
        title: take("title"),
        date: take("created").map(|d| d.chars().take(10).collect()),
        url: take("identifier"),
        source: take("subject"),
        tags: take("keywords")
            .map(|k| {
                k.split([',', ';'])
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        language: take("language"),
        valid_from: None,
        deadline: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Impulsion Export</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Une aide </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>à l&apos;export</w:t></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="Titre2"/></w:pPr><w:r><w:t>Montant</w:t></w:r></w:p>
<w:p><w:r><w:t>Jusqu'à</w:t></w:r><w:r><w:tab/><w:t>75 000 €.</w:t></w:r><w:del><w:r><w:delText>supprimé</w:delText></w:r></w:del></w:p>
<w:p><w:pPr><w:pStyle w:val="MonStyle"/></w:pPr><w:r><w:t>Éligibilité</w:t></w:r></w:p>
<w:p/>
</w:body></w:document>"#;

    const STYLES: &str = r#"<w:styles xmlns:w="x"><w:style w:styleId="MonStyle"><w:name w:val="heading 3"/></w:style></w:styles>"#;

    #[test]
    fn paragraphs_headings_and_title() {
        let styles = style_names(STYLES).unwrap();
        let (title, sections) = body(DOCUMENT, &styles).unwrap();
        assert_eq!(title.as_deref(), Some("Impulsion Export"));
        let flat: Vec<(Option<&str>, Vec<&str>)> = sections
            .iter()
            .map(|s| {
                (
                    s.heading.as_deref(),
                    s.paragraphs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            flat,
            [
                (None, vec!["Une aide à l'export"]),
                (Some("Montant"), vec!["Jusqu'à 75 000 €."]),
                (Some("Éligibilité"), vec![]),
            ]
        );
    }

    #[test]
    fn core_properties_are_metadata() {
        let xml = r#"<cp:coreProperties xmlns:cp="a" xmlns:dc="b" xmlns:dcterms="c">
<dc:title>Impulsion Export</dc:title><dc:subject>AD Normandie</dc:subject>
<dc:identifier>https://example.org/export</dc:identifier><cp:keywords>export, aide</cp:keywords>
<dcterms:created>2025-03-01T09:00:00Z</dcterms:created></cp:coreProperties>"#;
        let front = core_properties(xml).unwrap();
        assert_eq!(front.title.as_deref(), Some("Impulsion Export"));
        assert_eq!(front.source.as_deref(), Some("AD Normandie"));
        assert_eq!(front.url.as_deref(), Some("https://example.org/export"));
        assert_eq!(front.tags, ["export", "aide"]);
        assert_eq!(front.date.as_deref(), Some("2025-03-01"));
    }

    #[test]
    fn not_a_zip_is_an_error() {
        assert!(parse(b"PK\x03\x04 broken").is_err());
        assert!(parse(b"").is_err());
    }
}
