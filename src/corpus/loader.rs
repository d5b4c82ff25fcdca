//! Walks the corpus folder and turns each file into a [`Document`].
//!
//! One bad file must never take the corpus down: a document that cannot be
//! read or parsed is logged with `tracing::warn!`, reported in the
//! [`Skipped`] list and left out, and the others load. Missing metadata is
//! filled from the file name (title, and a `YYYY-MM-DD` date if the name
//! has one). Reads files; knows nothing of tantivy.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::markdown::{self, FrontMatter, FrontMatterError};
use super::parsed::Parsed;
use super::typography::normalize;
use super::{docx, html, pdf, plain, Document, Error, Result, Section};

/// Folders deeper than this are not walked; guards against symlink loops.
const MAX_DEPTH: usize = 16;

static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern; failing to compile it is a programming error.
    Regex::new(r"(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])").expect("valid date regex")
});

/// A file that was left out of the corpus, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file or folder.
    pub path: PathBuf,
    /// A human-readable reason (the error message).
    pub reason: String,
}

/// Loads every `.md`, `.markdown`, `.txt`, `.html`, `.htm`, `.pdf` and
/// `.docx` file under `root`, sub-folders included, in path order. Hidden files and folders (`.name`) and other
/// extensions are ignored.
///
/// Fails only when `root` itself cannot be read; any document or sub-folder
/// that fails is skipped, logged and listed in the second vector.
pub fn load_dir(root: &Path) -> Result<(Vec<Document>, Vec<Skipped>)> {
    let entries = sorted_entries(root).map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut documents = Vec::new();
    let mut skipped = Vec::new();
    walk(root, entries, 0, &mut documents, &mut skipped);
    tracing::info!(root = %root.display(), documents = documents.len(), skipped = skipped.len(), "corpus loaded");
    Ok((documents, skipped))
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

fn skip(skipped: &mut Vec<Skipped>, path: &Path, reason: String) {
    tracing::warn!(path = %path.display(), %reason, "document skipped");
    skipped.push(Skipped {
        path: path.to_path_buf(),
        reason,
    });
}

fn walk(
    root: &Path,
    entries: Vec<PathBuf>,
    depth: usize,
    documents: &mut Vec<Document>,
    skipped: &mut Vec<Skipped>,
) {
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            // Document ids are strings; a name we cannot spell cannot be cited.
            skip(skipped, &path, "file name is not valid UTF-8".to_string());
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) => {
                skip(skipped, &path, err.to_string());
                continue;
            }
        };
        if metadata.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                skip(
                    skipped,
                    &path,
                    format!("folder nested deeper than {MAX_DEPTH} levels"),
                );
                continue;
            }
            match sorted_entries(&path) {
                Ok(children) => walk(root, children, depth + 1, documents, skipped),
                Err(err) => skip(skipped, &path, err.to_string()),
            }
        } else if is_supported(&path) {
            match load_file(root, &path) {
                Ok(document) => documents.push(document),
                Err(err) => skip(skipped, &path, err.to_string()),
            }
        } else {
            tracing::debug!(path = %path.display(), "not a document, ignored");
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn is_supported(path: &Path) -> bool {
    matches!(
        extension(path).as_deref(),
        Some("md" | "markdown" | "txt" | "html" | "htm" | "pdf" | "docx")
    )
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let text = String::from_utf8(bytes).map_err(|err| Error::InvalidUtf8 {
        path: path.to_path_buf(),
        valid_up_to: err.utf8_error().valid_up_to(),
    })?;
    Ok(match text.strip_prefix('\u{FEFF}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Reads the file with the parser its extension names.
fn parse(path: &Path, bytes: Vec<u8>) -> Result<Parsed> {
    let unreadable = |format: &'static str| {
        move |reason: String| Error::Unreadable {
            path: path.to_path_buf(),
            format,
            reason,
        }
    };
    match extension(path).as_deref() {
        Some("md" | "markdown") => {
            let parsed = markdown::parse(&utf8(path, bytes)?).map_err(|err| match err {
                FrontMatterError::Unclosed => Error::UnclosedFrontMatter {
                    path: path.to_path_buf(),
                },
                FrontMatterError::Yaml(source) => Error::FrontMatter {
                    path: path.to_path_buf(),
                    source,
                },
            })?;
            Ok(Parsed {
                front: parsed.front,
                body_title: parsed.h1_title,
                sections: parsed.sections,
            })
        }
        Some("txt") => {
            let parsed = plain::parse(&utf8(path, bytes)?);
            Ok(Parsed {
                front: FrontMatter::default(),
                body_title: parsed.title,
                sections: parsed.sections,
            })
        }
        Some("html" | "htm") => Ok(html::parse(&utf8(path, bytes)?)),
        Some("pdf") => pdf::parse(&bytes).map_err(unreadable("PDF")),
        Some("docx") => docx::parse(&bytes).map_err(unreadable("DOCX")),
        _ => Err(Error::Unsupported {
            path: path.to_path_buf(),
        }),
    }
}

/// Loads one document; `root` is the corpus root its id is relative to.
pub fn load_file(root: &Path, path: &Path) -> Result<Document> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let id = document_id(root, path);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(&id)
        .to_string();
    let Parsed {
        front,
        body_title,
        sections,
    } = parse(path, bytes)?;
    let sections: Vec<Section> = sections.into_iter().map(normalize_section).collect();
    if sections.iter().all(|s| s.paragraphs.is_empty()) && !is_text_format(path) {
        // A PDF of scanned images has no text layer: indexing it would
        // only add an empty document to the list.
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            format: format_name(path),
            reason: "no text found (a scan without a text layer?)".to_string(),
        });
    }

    let title = front
        .title
        .map(|t| normalize(&t))
        .filter(|t| !t.is_empty())
        .or(body_title)
        .unwrap_or_else(|| title_from_stem(&stem));
    let checked_date = |field: &str, value: Option<String>| {
        match value {
        Some(raw) => iso_date(&raw).or_else(|| {
            tracing::warn!(path = %path.display(), field, value = %raw, "date is not YYYY-MM-DD, ignored");
            None
        }),
        None => None,
    }
    };
    let valid_from = checked_date("valid_from", front.valid_from);
    let deadline = checked_date("deadline", front.deadline);
    let date = checked_date("date", front.date)
        .or_else(|| ISO_DATE.find(&stem).map(|m| m.as_str().to_string()));
    let clean = |value: Option<String>| value.map(|v| normalize(&v)).filter(|v| !v.is_empty());

    Ok(Document {
        id,
        title,
        date,
        url: clean(front.url),
        source: clean(front.source),
        tags: front
            .tags
            .iter()
            .map(|t| normalize(t))
            .filter(|t| !t.is_empty())
            .collect(),
        language: clean(front.language).unwrap_or_else(|| "fr".to_string()),
        valid_from,
        deadline,
        sections,
    })
}

fn normalize_section(section: Section) -> Section {
    // The parsers already normalise; this keeps the guarantee in one place
    // should a parser forget.
    Section {
        heading: section
            .heading
            .map(|h| normalize(&h))
            .filter(|h| !h.is_empty()),
        paragraphs: section
            .paragraphs
            .iter()
            .map(|p| normalize(p))
            .filter(|p| !p.is_empty())
            .collect(),
        page: section.page,
    }
}

fn is_text_format(path: &Path) -> bool {
    matches!(extension(path).as_deref(), Some("md" | "markdown" | "txt"))
}

fn format_name(path: &Path) -> &'static str {
    match extension(path).as_deref() {
        Some("pdf") => "PDF",
        Some("docx") => "DOCX",
        _ => "HTML",
    }
}

/// The path relative to the root, `/`-separated whatever the platform.
fn document_id(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// `newsletter-datalab_2025` → `newsletter datalab 2025`.
fn title_from_stem(stem: &str) -> String {
    normalize(&stem.replace(['-', '_'], " "))
}

/// Accepts exactly an ISO calendar date (surrounding spaces allowed).
fn iso_date(raw: &str) -> Option<String> {
    let raw = raw.trim();
    ISO_DATE
        .find(raw)
        .filter(|m| m.start() == 0 && m.end() == raw.len())
        .map(|m| m.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_relative_and_slash_separated() {
        assert_eq!(
            document_id(Path::new("/c"), Path::new("/c/a/b/doc.md")),
            "a/b/doc.md"
        );
        assert_eq!(
            document_id(Path::new("/c"), Path::new("/c/doc.txt")),
            "doc.txt"
        );
    }

    #[test]
    fn dates_must_be_iso() {
        assert_eq!(iso_date("2025-12-31").as_deref(), Some("2025-12-31"));
        assert_eq!(iso_date(" 2025-01-09 ").as_deref(), Some("2025-01-09"));
        assert_eq!(iso_date("31/12/2025"), None);
        assert_eq!(iso_date("2025-13-01"), None);
        assert_eq!(iso_date("2025-12-31T10:00"), None);
    }

    #[test]
    fn titles_from_file_names() {
        assert_eq!(
            title_from_stem("newsletter-datalab_2025--s2"),
            "newsletter datalab 2025 s2"
        );
    }

    #[test]
    fn metadata_falls_back_to_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lettre-2024-06-30.md");
        fs::write(&path, "Juste du texte.\n").unwrap();
        let doc = load_file(dir.path(), &path).unwrap();
        assert_eq!(doc.title, "lettre 2024 06 30");
        assert_eq!(doc.date.as_deref(), Some("2024-06-30"));
        assert_eq!(doc.language, "fr");
        assert_eq!(doc.sections[0].paragraphs, ["Juste du texte."]);
    }

    #[test]
    fn bad_front_matter_date_is_dropped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        fs::write(&path, "---\ntitle: A\ndate: fin 2025\n---\nTexte.").unwrap();
        let doc = load_file(dir.path(), &path).unwrap();
        assert_eq!(doc.date, None);
        assert_eq!(doc.title, "A");
    }
}
