//! Fitting the decision to answer (`eulcat fit-decision`) from what
//! `eulcat eval --features` recorded: every sentence the reader weighed,
//! labelled by whether it holds the expected answer.
//!
//! The fit is the logistic model of [`crate::answer::decision`]; the
//! threshold is then chosen on the same (training) questions, at the level
//! the visitor sees: the most probable sentence is quoted when its
//! probability reaches the threshold, and that is right when it holds the
//! answer of a `fact` question; refusing is right for a `no_answer` one.
//! The threshold maximises the mean of the two rates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Case, Expected};
use crate::answer::decision::{self, Decision, Example, Features, FEATURE_NAMES};
use crate::answer::text::fold;
use crate::answer::Considered;

/// One weighed sentence and its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    /// The quoted sentences.
    pub quote: String,
    /// Its signals.
    pub features: Features,
    /// Whether it holds the expected answer.
    pub answers: bool,
}

/// One line of the features file: a question and what the reader weighed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The question's id.
    pub id: String,
    /// What was expected.
    pub expected: Expected,
    /// How it was typed, when the set says.
    #[serde(default)]
    pub register: Option<String>,
    /// The weighed sentences.
    pub considered: Vec<Labelled>,
}

/// Labels each of `considered` for `case`: a sentence answers a `fact`
/// question when it holds one of its expected strings (and all of
/// `expect_all`); nothing answers the other kinds.
pub fn label(case: &Case, considered: &[Considered]) -> Vec<Labelled> {
    considered
        .iter()
        .map(|c| {
            let quote = fold(&c.quote);
            let answers = case.kind == Expected::Fact
                && (case.expect_any.is_empty()
                    || case.expect_any.iter().any(|e| quote.contains(&fold(e))))
                && case.expect_all.iter().all(|e| quote.contains(&fold(e)));
            Labelled {
                quote: c.quote.clone(),
                features: c.features,
                answers,
            }
        })
        .collect()
}

/// How a decision does on the records, at the visitor's level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    /// `fact` questions whose most probable sentence holds the answer and
    /// reaches the threshold.
    pub facts: f64,
    /// `no_answer` questions where no sentence reaches the threshold.
    pub refusals: f64,
}

/// The rates of `decision` with `threshold` on `records`.
pub fn rates(records: &[Record], decision: &Decision, threshold: f32) -> Rates {
    let (mut facts, mut fact_total, mut refusals, mut refusal_total) = (0, 0, 0, 0);
    for record in records {
        let best = record
            .considered
            .iter()
            .map(|c| (decision.probability(&c.features), c.answers))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let answered = best.is_some_and(|(p, _)| p >= threshold);
        match record.expected {
            Expected::Fact => {
                fact_total += 1;
                facts += usize::from(answered && best.is_some_and(|(_, right)| right));
            }
            Expected::NoAnswer => {
                refusal_total += 1;
                refusals += usize::from(!answered);
            }
            Expected::Smalltalk => {}
        }
    }
    let share = |n: usize, total: usize| {
        if total == 0 {
            1.0
        } else {
            n as f64 / total as f64
        }
    };
    Rates {
        facts: share(facts, fact_total),
        refusals: share(refusals, refusal_total),
    }
}

/// Fits the decision on `records` and chooses its threshold; returns it
/// with a report of the fit (weights, rates, calibration).
pub fn fit_decision(records: &[Record]) -> (Decision, String) {
    let examples: Vec<Example> = records
        .iter()
        .flat_map(|r| &r.considered)
        .map(|c| Example {
            features: c.features,
            answers: c.answers,
        })
        .collect();
    let mut fitted = decision::fit(&examples, 0.1);
    let mut best = (f64::NEG_INFINITY, 0.5f32);
    for step in 5..=95 {
        let threshold = step as f32 / 100.0;
        let r = rates(records, &fitted, threshold);
        let balanced = (r.facts + r.refusals) / 2.0;
        if balanced > best.0 + 1e-9 {
            best = (balanced, threshold);
        }
    }
    fitted.threshold = best.1;
    let r = rates(records, &fitted, fitted.threshold);
    let mut report = format!(
        "fitted on {} questions ({} weighed sentences, {} holding the answer)\n",
        records.len(),
        examples.len(),
        examples.iter().filter(|e| e.answers).count()
    );
    report.push_str(&format!("bias {:+.3}\n", fitted.bias));
    for (name, weight) in FEATURE_NAMES.iter().zip(fitted.weights) {
        report.push_str(&format!("{name:>14} {weight:+.3}\n"));
    }
    report.push_str(&format!(
        "threshold {:.2}: facts {:.1}%, refusals {:.1}% (training questions)\n",
        fitted.threshold,
        100.0 * r.facts,
        100.0 * r.refusals
    ));
    report.push_str(&calibration(&examples, &fitted));
    (fitted, report)
}

/// Predicted against observed share of answering sentences, by tenths of
/// probability.
pub fn calibration(examples: &[Example], decision: &Decision) -> String {
    let mut bins: BTreeMap<usize, (usize, usize, f64)> = BTreeMap::new();
    for e in examples {
        let p = decision.probability(&e.features);
        let bin = ((p * 10.0) as usize).min(9);
        let entry = bins.entry(bin).or_default();
        entry.0 += 1;
        entry.1 += usize::from(e.answers);
        entry.2 += f64::from(p);
    }
    let mut out = String::from("calibration (predicted → observed, count):\n");
    for (bin, (count, positive, predicted)) in bins {
        out.push_str(&format!(
            "  {:.1}–{:.1}: {:.2} → {:.2} ({count})\n",
            bin as f64 / 10.0,
            (bin + 1) as f64 / 10.0,
            predicted / count as f64,
            positive as f64 / count as f64
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::case;
    use super::*;

    fn considered(quote: &str, similarity: f32) -> Considered {
        Considered {
            quote: quote.into(),
            document: "d".into(),
            features: Features {
                similarity,
                ..Features::default()
            },
            probability: None,
        }
    }

    #[test]
    fn a_sentence_answers_when_it_holds_the_expected_string() {
        let weighed = [
            considered("Ouvert le 13 décembre.", 0.7),
            considered("Autre.", 0.3),
        ];
        let labels = label(&case(Expected::Fact, &["13 decembre"]), &weighed);
        assert!(labels[0].answers && !labels[1].answers);
        let labels = label(&case(Expected::NoAnswer, &[]), &weighed);
        assert!(labels.iter().all(|l| !l.answers));
    }

    #[test]
    fn the_threshold_balances_facts_and_refusals() {
        let record = |expected, similarity: f32, answers| Record {
            id: "r".into(),
            expected,
            register: None,
            considered: vec![Labelled {
                quote: String::new(),
                features: Features {
                    similarity,
                    ..Features::default()
                },
                answers,
            }],
        };
        let mut records = Vec::new();
        for i in 0..20 {
            let s = 0.55 + i as f32 / 100.0;
            records.push(record(Expected::Fact, s, true));
            records.push(record(Expected::NoAnswer, s - 0.3, false));
        }
        let (decision, report) = fit_decision(&records);
        let r = rates(&records, &decision, decision.threshold);
        assert_eq!(
            r,
            Rates {
                facts: 1.0,
                refusals: 1.0
            },
            "{report}"
        );
        assert!(report.contains("similarity"));
    }
}
