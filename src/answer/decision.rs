//! The decision to answer, learned from labelled questions instead of
//! thresholds tuned by hand.
//!
//! Each sentence the reader considers gets a few signals ([`Features`]):
//! how close its meaning is to the question's and by how much it beats the
//! other candidates, how many of the question's words it covers, whether it
//! holds the kind of fact asked for, how many of the question's words the
//! corpus uses elsewhere but this sentence lacks, and how much of the
//! question the corpus never mentions. A logistic model turns them into
//! the probability that the sentence answers the question. The reply quotes
//! the most probable sentence when that probability reaches the threshold,
//! and says the documents do not answer otherwise.
//!
//! The weights are fitted by `eulcat fit-decision` on the features that
//! `eulcat eval --features` records over the *training* half of the
//! visitor question set (`eval/visitors/train.jsonl`), where each
//! considered sentence is labelled by whether it holds the expected answer.
//! They are committed in `decision.json` beside this file, with the figures
//! of that fit; the test half is never used to fit or tune them.

use serde::{Deserialize, Serialize};

/// The signals of one considered sentence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Features {
    /// Cosine similarity of the sentence's meaning to the question's.
    pub similarity: f32,
    /// `similarity` minus the best similarity of the other candidates.
    pub margin: f32,
    /// Share of the question's content words the sentence, its section or
    /// its document title holds.
    pub coverage: f32,
    /// 1 when the question asks for a kind of fact (a date, a number, a
    /// name…), 0 for an open question.
    pub typed: f32,
    /// 1 when the sentence holds the kind of fact asked for.
    pub type_ok: f32,
    /// The rarity-weighted share of the question's words that the corpus
    /// uses but the sentence does not (see `reader::missing_known`).
    pub missing_known: f32,
    /// Share of the question's content words the corpus never mentions.
    pub foreign_share: f32,
    /// The re-ranking score among this question's candidates (standard
    /// units).
    pub rank_score: f32,
    /// 1 when the sentence speaks of another time than the question: the
    /// question asks how things are now (« le directeur actuel ») and the
    /// sentence tells how they were (« comptait », « en 2019 »), or the
    /// question names a year or an edition (« la première ») and the
    /// sentence only others.
    pub stale: f32,
    /// 1 when the question is in English. The word signals above compare
    /// English words with French documents, so they mean less there; this
    /// and the next signal let the fit weigh meaning differently for it.
    pub english: f32,
    /// `similarity` for an English question, 0 for a French one.
    pub english_similarity: f32,
}

/// How many signals [`Features::values`] gives.
pub const FEATURES: usize = 11;

/// Names of the signals, in the order of [`Features::values`].
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "similarity",
    "margin",
    "coverage",
    "typed",
    "type_ok",
    "missing_known",
    "foreign_share",
    "rank_score",
    "stale",
    "english",
    "english_similarity",
];

impl Features {
    /// The signals as a vector, in the order of [`FEATURE_NAMES`].
    pub fn values(&self) -> [f32; FEATURES] {
        [
            self.similarity,
            self.margin,
            self.coverage,
            self.typed,
            self.type_ok,
            self.missing_known,
            self.foreign_share,
            self.rank_score,
            self.stale,
            self.english,
            self.english_similarity,
        ]
    }
}

/// A fitted logistic model and the probability from which it answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Intercept.
    pub bias: f32,
    /// One weight per signal, in the order of [`FEATURE_NAMES`].
    pub weights: [f32; FEATURES],
    /// Answer from this probability on.
    pub threshold: f32,
    /// How the model was fitted and what it scored, for the reader.
    #[serde(default)]
    pub provenance: String,
}

/// The committed fit.
const FITTED: &str = include_str!("decision.json");

impl Decision {
    /// The decision fitted on the training questions and committed.
    pub fn fitted() -> Option<Self> {
        match serde_json::from_str(FITTED) {
            Ok(decision) => Some(decision),
            Err(error) => {
                tracing::error!(%error, "the committed decision model does not parse; answering by the fixed rules");
                None
            }
        }
    }

    /// The probability that a sentence with these signals answers.
    pub fn probability(&self, features: &Features) -> f32 {
        let z = self.bias
            + self
                .weights
                .iter()
                .zip(features.values())
                .map(|(w, x)| w * x)
                .sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Whether a sentence with these signals is worth quoting.
    pub fn answers(&self, features: &Features) -> bool {
        self.probability(features) >= self.threshold
    }
}

/// One labelled example: a considered sentence's signals and whether it
/// holds the expected answer.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The signals.
    pub features: Features,
    /// Whether the sentence answers.
    pub answers: bool,
}

/// Fits a logistic model to `examples` by Newton's method with a small
/// ridge penalty `l2` (which keeps it finite when a signal separates the
/// examples perfectly). The threshold is left at 0.5.
pub fn fit(examples: &[Example], l2: f64) -> Decision {
    const P: usize = FEATURES + 1;
    let rows: Vec<([f64; P], f64)> = examples
        .iter()
        .map(|e| {
            let mut x = [1.0; P];
            for (slot, v) in x[1..].iter_mut().zip(e.features.values()) {
                *slot = f64::from(v);
            }
            (x, if e.answers { 1.0 } else { 0.0 })
        })
        .collect();
    let mut beta = [0.0f64; P];
    for _ in 0..50 {
        let mut gradient = [0.0f64; P];
        let mut hessian = [[0.0f64; P]; P];
        for (x, y) in &rows {
            let z: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let w = (p * (1.0 - p)).max(1e-9);
            for i in 0..P {
                gradient[i] += (y - p) * x[i];
                for j in 0..P {
                    hessian[i][j] += w * x[i] * x[j];
                }
            }
        }
        // The intercept is not penalised.
        for i in 1..P {
            gradient[i] -= l2 * beta[i];
            hessian[i][i] += l2;
        }
        let Some(step) = solve(hessian, gradient) else {
            break;
        };
        let mut largest = 0.0f64;
        for i in 0..P {
            beta[i] += step[i];
            largest = largest.max(step[i].abs());
        }
        if largest < 1e-8 {
            break;
        }
    }
    let mut weights = [0.0f32; FEATURES];
    for (w, b) in weights.iter_mut().zip(&beta[1..]) {
        *w = *b as f32;
    }
    Decision {
        bias: beta[0] as f32,
        weights,
        threshold: 0.5,
        provenance: String::new(),
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None`
/// when `a` is singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in below.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (value, above) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * above;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = [0.0f64; N];
    for row in (0..N).rev() {
        let rest: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_decision_parses() {
        assert!(Decision::fitted().is_some());
    }

    #[test]
    fn fitting_recovers_a_signal_that_predicts_the_label() {
        // Answers when the similarity is high, whatever the coverage.
        let examples: Vec<Example> = (0..200)
            .map(|i| {
                let similarity = (i % 20) as f32 / 20.0;
                let noise = ((i * 7919) % 13) as f32 / 13.0;
                Example {
                    features: Features {
                        similarity,
                        coverage: noise,
                        ..Features::default()
                    },
                    answers: similarity + 0.1 * noise > 0.55,
                }
            })
            .collect();
        let decision = fit(&examples, 0.01);
        assert!(decision.weights[0] > 5.0, "{decision:?}");
        let high = Features {
            similarity: 0.9,
            ..Features::default()
        };
        let low = Features {
            similarity: 0.2,
            ..Features::default()
        };
        assert!(decision.answers(&high));
        assert!(!decision.answers(&low));
        let correct = examples
            .iter()
            .filter(|e| decision.answers(&e.features) == e.answers)
            .count();
        assert!(correct >= 190, "{correct} of 200");
    }

    #[test]
    fn solves_a_small_system() {
        let x = solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
        assert!(solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]).is_none());
    }
}
