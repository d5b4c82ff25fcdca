//! `eulcat eval`: runs a question set through the answer pipeline in-process
//! and scores each reply on the API's own fields, as the question set's
//! README defines.
//!
//! - `fact`: the expected strings appear in the answer (lower-cased, accents
//!   removed), `kind` is `grounded` or `extractive`, and a source is cited;
//! - `no_answer`: `kind` is `no_answer`;
//! - `smalltalk`: `kind` is `smalltalk`.
//!
//! Every cited answer is also checked for numbers that appear in none of its
//! sources (text, title, section or date): there should be none.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub mod fit;

use crate::answer::{grounding, text::fold, AnswerKind, AnswerPipeline, Reply};

/// What went wrong reading or running a question set.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a valid question.
    #[error("{path}, line {line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The pipeline failed on a question.
    #[error("question {id}: {source}")]
    Answer {
        /// The question's id.
        id: String,
        /// Why.
        source: crate::answer::Error,
    },
}

/// Result of evaluation calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The expected kind of reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// A fact from the corpus, cited.
    Fact,
    /// Nothing in the corpus answers it.
    NoAnswer,
    /// Small talk.
    Smalltalk,
}

/// One question of the set.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Stable name.
    pub id: String,
    /// What a correct reply is.
    pub kind: Expected,
    /// A single question…
    #[serde(default)]
    pub question: Option<String>,
    /// …or a conversation, all in one session; only the last reply is scored.
    #[serde(default)]
    pub turns: Option<Vec<String>>,
    /// Strings of which one must appear in the answer.
    #[serde(default)]
    pub expect_any: Vec<String>,
    /// Strings that must all appear in the answer.
    #[serde(default)]
    pub expect_all: Vec<String>,
    /// How the question was typed (`kiosk`, `website`, `staff`,
    /// `english`), when the set says so; results are also given per
    /// register.
    #[serde(default)]
    pub register: Option<String>,
}

impl Case {
    fn messages(&self) -> Vec<&str> {
        match (&self.turns, &self.question) {
            (Some(turns), _) if !turns.is_empty() => turns.iter().map(String::as_str).collect(),
            (_, Some(question)) => vec![question.as_str()],
            _ => Vec::new(),
        }
    }
}

/// The verdict on one question.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The question's id.
    pub id: String,
    /// What was expected.
    pub expected: Expected,
    /// What the pipeline answered.
    pub kind: AnswerKind,
    /// Whether it passes.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub why: String,
    /// Numbers of the answer found in none of its sources.
    pub unsupported_numbers: Vec<String>,
    /// Wall time of the scored reply, in milliseconds.
    pub latency_ms: f64,
    /// The answer text.
    pub answer: String,
    /// The short answer highlighted in the first cited passage, if any
    /// (what the kiosk shows large).
    pub highlight: Option<String>,
    /// For a passed fact with a highlighted short answer: whether the
    /// highlight itself holds an expected string (the kiosk shows it
    /// alone, large).
    pub highlight_right: Option<bool>,
    /// For a refusal that shows the closest passage: whether it holds an
    /// expected string (never, for a question the documents do not
    /// answer).
    pub closest_holds: Option<bool>,
    /// The sentences the reader weighed, each labelled by whether it holds
    /// the expected answer (always false for a question the documents do
    /// not answer): what `eulcat fit-decision` learns from.
    #[serde(skip)]
    pub considered: Vec<fit::Labelled>,
}

/// Passed and total for one kind of question.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tally {
    /// Questions passed.
    pub passed: usize,
    /// Questions asked.
    pub total: usize,
}

impl Tally {
    /// Share passed; 1 when there were none.
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

/// The figures of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// `fact` questions.
    pub facts: Tally,
    /// `no_answer` questions.
    pub no_answer: Tally,
    /// `smalltalk` questions.
    pub smalltalk: Tally,
    /// Cited answers holding a number absent from their sources.
    pub unsupported_answers: usize,
    /// Highlighted short answers of passed facts that hold the fact asked
    /// for, among those highlighted.
    pub highlights: Tally,
    /// Refused facts shown a closest passage, and those where it holds
    /// the fact.
    pub closest_to_facts: Tally,
    /// Refused unanswerable questions shown a closest passage.
    pub closest_to_unanswerable: usize,
    /// Median latency of the scored replies, in milliseconds.
    pub latency_p50_ms: f64,
    /// 95th percentile latency, in milliseconds.
    pub latency_p95_ms: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |t: Tally| 100.0 * t.rate();
        write!(
            f,
            "eval: facts {}/{} ({:.0}%), no_answer {}/{} ({:.0}%), smalltalk {}/{} ({:.0}%), \
             answers with a number absent from their sources: {}, highlights holding the fact: {}/{}, \
             closest passages after refusals holding the fact: {}/{} (and {} after unanswerable questions), \
             latency p50 {:.0} ms, p95 {:.0} ms",
            self.facts.passed,
            self.facts.total,
            pct(self.facts),
            self.no_answer.passed,
            self.no_answer.total,
            pct(self.no_answer),
            self.smalltalk.passed,
            self.smalltalk.total,
            pct(self.smalltalk),
            self.unsupported_answers,
            self.highlights.passed,
            self.highlights.total,
            self.closest_to_facts.passed,
            self.closest_to_facts.total,
            self.closest_to_unanswerable,
            self.latency_p50_ms,
            self.latency_p95_ms
        )
    }
}

/// Reads a question set (one JSON object a line; blank lines skipped).
pub fn load(path: &Path) -> Result<Vec<Case>> {
    let name = path.display().to_string();
    let content = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    let mut cases = Vec::new();
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parse_error = |message: String| Error::Parse {
            path: name.clone(),
            line: index + 1,
            message,
        };
        let case: Case = serde_json::from_str(line).map_err(|e| parse_error(e.to_string()))?;
        if case.messages().is_empty() {
            return Err(parse_error("neither `question` nor `turns`".into()));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Runs every case through `pipeline`, each in a session of its own.
pub async fn run(pipeline: &AnswerPipeline, cases: &[Case]) -> Result<(Vec<Outcome>, Summary)> {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let mut session: Option<String> = None;
        let mut last = None;
        for message in case.messages() {
            let started = Instant::now();
            let reply = pipeline
                .answer(message, session.as_deref())
                .await
                .map_err(|source| Error::Answer {
                    id: case.id.clone(),
                    source,
                })?;
            session = Some(reply.session_id.clone());
            last = Some((reply, started.elapsed().as_secs_f64() * 1000.0));
        }
        if let Some((reply, latency_ms)) = last {
            outcomes.push(score(case, &reply, latency_ms));
        }
    }
    let summary = summarize(&outcomes);
    Ok((outcomes, summary))
}

/// Scores one reply against its case.
pub fn score(case: &Case, reply: &Reply, latency_ms: f64) -> Outcome {
    let cited = matches!(reply.kind, AnswerKind::Grounded | AnswerKind::Extractive);
    let unsupported_numbers = if cited {
        unsupported_numbers(reply)
    } else {
        Vec::new()
    };
    let why = match case.kind {
        Expected::Fact => {
            let answer = fold(&reply.answer);
            let missing_all: Vec<&String> = case
                .expect_all
                .iter()
                .filter(|e| !answer.contains(&fold(e)))
                .collect();
            let any_ok = case.expect_any.is_empty()
                || case.expect_any.iter().any(|e| answer.contains(&fold(e)));
            if !cited {
                format!("kind is {:?}, expected grounded or extractive", reply.kind)
            } else if reply.sources.is_empty() {
                "no source cited".to_string()
            } else if !any_ok {
                format!("none of {:?} in the answer", case.expect_any)
            } else if !missing_all.is_empty() {
                format!("missing {missing_all:?} in the answer")
            } else {
                String::new()
            }
        }
        Expected::NoAnswer if reply.kind != AnswerKind::NoAnswer => {
            format!("kind is {:?}, expected no_answer", reply.kind)
        }
        Expected::Smalltalk if reply.kind != AnswerKind::Smalltalk => {
            format!("kind is {:?}, expected smalltalk", reply.kind)
        }
        Expected::NoAnswer | Expected::Smalltalk => String::new(),
    };
    let highlight = reply
        .sources
        .first()
        .and_then(|source| source.highlight.clone())
        .filter(|_| cited);
    let highlight_right = highlight
        .as_deref()
        .filter(|_| case.kind == Expected::Fact && why.is_empty())
        .map(|highlight| {
            let highlight = fold(highlight);
            case.expect_any.iter().any(|e| highlight.contains(&fold(e)))
        });
    let closest_holds =
        (reply.kind == AnswerKind::NoAnswer && !reply.sources.is_empty()).then(|| {
            let answer = fold(&reply.answer);
            case.kind == Expected::Fact && case.expect_any.iter().any(|e| answer.contains(&fold(e)))
        });
    Outcome {
        id: case.id.clone(),
        expected: case.kind,
        kind: reply.kind,
        passed: why.is_empty(),
        highlight_right,
        closest_holds,
        why,
        unsupported_numbers,
        latency_ms,
        answer: reply.answer.clone(),
        highlight,
        considered: fit::label(case, &reply.considered),
    }
}

/// Numbers of a cited answer found in none of its sources' text, title,
/// section, date or page (the citation line names them all). A closed
/// call's deadline is in its text, as the documents write it: the note in
/// an English reply writes the same day and year.
fn unsupported_numbers(reply: &Reply) -> Vec<String> {
    let haystacks: Vec<String> = reply
        .sources
        .iter()
        .map(|s| {
            // The citation line writes the date in words.
            let date = s.date.as_deref().unwrap_or("");
            let deadline = s.deadline.as_deref().unwrap_or("");
            format!(
                "{}\n{}\n{}\n{date}\n{}\n{}\n{}",
                s.text,
                s.title,
                s.section,
                reply.language.date_in_words(date),
                reply.language.date_in_words(deadline),
                s.page.map(|p| format!("p. {p}")).unwrap_or_default()
            )
        })
        .collect();
    let refs: Vec<&str> = haystacks.iter().map(String::as_str).collect();
    grounding::unsupported_numbers(&reply.answer, &refs)
}

/// The summary of each register's outcomes (`cases` and `outcomes` in the
/// same order, as [`run`] returns them), by register name; empty when the
/// set names no register.
pub fn by_register(cases: &[Case], outcomes: &[Outcome]) -> Vec<(String, Summary)> {
    let mut groups: std::collections::BTreeMap<String, Vec<Outcome>> = Default::default();
    for (case, outcome) in cases.iter().zip(outcomes) {
        if let Some(register) = &case.register {
            groups
                .entry(register.clone())
                .or_default()
                .push(outcome.clone());
        }
    }
    groups
        .into_iter()
        .map(|(register, outcomes)| (register, summarize(&outcomes)))
        .collect()
}

/// Rates and latency percentiles of a run.
pub fn summarize(outcomes: &[Outcome]) -> Summary {
    let mut summary = Summary::default();
    for outcome in outcomes {
        let tally = match outcome.expected {
            Expected::Fact => &mut summary.facts,
            Expected::NoAnswer => &mut summary.no_answer,
            Expected::Smalltalk => &mut summary.smalltalk,
        };
        tally.total += 1;
        tally.passed += usize::from(outcome.passed);
        summary.unsupported_answers += usize::from(!outcome.unsupported_numbers.is_empty());
        if let Some(right) = outcome.highlight_right {
            summary.highlights.total += 1;
            summary.highlights.passed += usize::from(right);
        }
        match (outcome.expected, outcome.closest_holds) {
            (Expected::Fact, Some(holds)) => {
                summary.closest_to_facts.total += 1;
                summary.closest_to_facts.passed += usize::from(holds);
            }
            (Expected::NoAnswer, Some(_)) => summary.closest_to_unanswerable += 1,
            _ => {}
        }
    }
    let mut latencies: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    summary.latency_p50_ms = percentile(&latencies, 0.50);
    summary.latency_p95_ms = percentile(&latencies, 0.95);
    summary
}

/// Nearest-rank percentile of sorted values; 0 when empty.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{Source, Timings};

    fn reply(kind: AnswerKind, answer: &str, source_text: &str) -> Reply {
        Reply {
            session_id: "s".into(),
            answer_id: "a".into(),
            answer: answer.into(),
            kind,
            sources: vec![Source {
                title: "Lettre".into(),
                section: "Forum".into(),
                date: Some("2025-12-31".into()),
                page: None,
                url: None,
                deadline: None,
                document: "d.md".into(),
                text: source_text.into(),
                quote: source_text.into(),
                highlight: None,
                score: 1.0,
            }],
            suggestions: vec![],
            language: Default::default(),
            timings_ms: Timings::default(),
            considered: Vec::new(),
        }
    }

    pub(super) fn case(kind: Expected, any: &[&str]) -> Case {
        Case {
            id: "c".into(),
            kind,
            question: Some("q".into()),
            turns: None,
            expect_any: any.iter().map(|s| s.to_string()).collect(),
            expect_all: vec![],
            register: None,
        }
    }

    #[test]
    fn facts_compare_without_accents_and_need_a_source() {
        let r = reply(
            AnswerKind::Extractive,
            "Le 12 Février 2026",
            "Le 12 février 2026",
        );
        assert!(score(&case(Expected::Fact, &["12 fevrier"]), &r, 1.0).passed);
        let mut bare = r;
        bare.sources.clear();
        assert!(!score(&case(Expected::Fact, &["12 fevrier"]), &bare, 1.0).passed);
        let refused = reply(AnswerKind::NoAnswer, "Je ne sais pas", "");
        assert!(!score(&case(Expected::Fact, &["12 fevrier"]), &refused, 1.0).passed);
        assert!(score(&case(Expected::NoAnswer, &[]), &refused, 1.0).passed);
    }

    #[test]
    fn the_highlight_is_kept_only_for_cited_answers() {
        let mut cited = reply(
            AnswerKind::Extractive,
            "Le 12 février",
            "Le 12 février 2026",
        );
        cited.sources[0].highlight = Some("12 février".into());
        let kept = score(&case(Expected::Fact, &["2027"]), &cited, 1.0);
        assert_eq!(kept.highlight.as_deref(), Some("12 février"));
        assert_eq!(
            kept.highlight_right, None,
            "a failed fact's highlight is not judged"
        );
        let mut closest = cited;
        closest.kind = AnswerKind::NoAnswer;
        assert_eq!(
            score(&case(Expected::NoAnswer, &[]), &closest, 1.0).highlight,
            None
        );
    }

    #[test]
    fn invented_numbers_are_counted() {
        let r = reply(
            AnswerKind::Grounded,
            "Il réunit 14 partenaires (2025-12-31).",
            "Il réunit 12 partenaires.",
        );
        assert_eq!(
            score(&case(Expected::Fact, &[]), &r, 1.0).unsupported_numbers,
            vec!["14"]
        );
    }

    #[test]
    fn closest_passages_after_refusals_are_counted_apart() {
        let shown = reply(
            AnswerKind::NoAnswer,
            "Pas de réponse sûre. Le passage le plus proche : « Ouverte le 12 février 2026. »",
            "Ouverte le 12 février 2026.",
        );
        let fact = score(&case(Expected::Fact, &["12 fevrier"]), &shown, 1.0);
        let unanswerable = score(&case(Expected::NoAnswer, &[]), &shown, 1.0);
        let mut plain = reply(AnswerKind::NoAnswer, "Je ne sais pas", "");
        plain.sources.clear();
        let refused = score(&case(Expected::Fact, &["12 fevrier"]), &plain, 1.0);
        assert_eq!(fact.closest_holds, Some(true));
        assert!(!fact.passed, "a refusal is no answer, whatever it shows");
        assert_eq!(unanswerable.closest_holds, Some(false));
        assert!(unanswerable.passed);
        assert_eq!(refused.closest_holds, None);
        let summary = summarize(&[fact, unanswerable, refused]);
        assert_eq!(
            (
                summary.closest_to_facts.passed,
                summary.closest_to_facts.total
            ),
            (1, 1)
        );
        assert_eq!(summary.closest_to_unanswerable, 1);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let values = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(percentile(&values, 0.5), 20.0);
        assert_eq!(percentile(&values, 0.95), 40.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
