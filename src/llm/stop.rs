//! Stop sequences during streaming generation.
//!
//! Tokens are handed to the caller only once their text can no longer turn
//! out to be the start of a stop sequence: a reply cut at "\nQuestion"
//! must never have streamed "\nQuest" first. The text of a token list is
//! whatever the given decoder returns, so this logic is tested without a
//! tokenizer.

use super::Result;

/// Outcome of looking at the tokens generated so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StopCheck {
    /// How many leading tokens are safe to hand out (never decreases).
    pub(crate) safe_tokens: usize,
    /// Byte length of the final text when a stop sequence was found.
    pub(crate) stop_at: Option<usize>,
}

/// Watches generated text for any of a list of stop sequences.
#[derive(Debug, Clone)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
}

impl StopMatcher {
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
        }
    }

    /// Examines `tokens`, of which the first `emitted` were already handed
    /// out.
    pub(crate) fn check(
        &self,
        tokens: &[u32],
        emitted: usize,
        decode: &dyn Fn(&[u32]) -> Result<String>,
    ) -> Result<StopCheck> {
        if self.stops.is_empty() {
            return Ok(StopCheck {
                safe_tokens: tokens.len(),
                stop_at: None,
            });
        }
        let text = decode(tokens)?;
        let stop_at = self
            .stops
            .iter()
            .filter_map(|s| text.find(s.as_str()))
            .min();
        let safe_len = match stop_at {
            Some(at) => at,
            None => text.len() - self.held_back(&text),
        };
        let mut safe_tokens = emitted;
        while safe_tokens < tokens.len() && decode(&tokens[..safe_tokens + 1])?.len() <= safe_len {
            safe_tokens += 1;
        }
        Ok(StopCheck {
            safe_tokens,
            stop_at,
        })
    }

    /// Length of the longest end of `text` that is a proper start of some
    /// stop sequence.
    fn held_back(&self, text: &str) -> usize {
        self.stops
            .iter()
            .map(|stop| {
                (1..stop.len())
                    .rev()
                    .filter(|&n| stop.is_char_boundary(n))
                    .find(|&n| text.ends_with(&stop[..n]))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }
}

/// Cuts `text` at the stop position if there is one.
pub(crate) fn cut(mut text: String, stop_at: Option<usize>) -> String {
    if let Some(at) = stop_at {
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIECES: [&str; 6] = ["Le", " projet", "\n", "Quest", "ion", " a"];

    fn decode(ids: &[u32]) -> Result<String> {
        Ok(ids.iter().map(|&i| PIECES[i as usize]).collect())
    }

    #[test]
    fn without_stops_everything_is_safe() {
        let matcher = StopMatcher::new(&[]);
        let check = matcher.check(&[0, 1, 2], 0, &decode).unwrap();
        assert_eq!(
            check,
            StopCheck {
                safe_tokens: 3,
                stop_at: None
            }
        );
    }

    #[test]
    fn holds_back_a_possible_stop_then_releases_it() {
        let matcher = StopMatcher::new(&["\nQuestion".to_string()]);
        let check = matcher.check(&[0, 1, 2], 0, &decode).unwrap();
        assert_eq!(check.safe_tokens, 2);
        let check = matcher.check(&[0, 1, 2, 3], 2, &decode).unwrap();
        assert_eq!(check.safe_tokens, 2);
        // "\n a" cannot become the stop: release.
        let check = matcher.check(&[0, 1, 2, 5], 2, &decode).unwrap();
        assert_eq!(
            check,
            StopCheck {
                safe_tokens: 4,
                stop_at: None
            }
        );
    }

    #[test]
    fn stops_and_cuts_before_the_sequence() {
        let matcher = StopMatcher::new(&["\nQuestion".to_string(), "zzz".to_string()]);
        let tokens = [0, 1, 2, 3, 4, 5];
        let check = matcher.check(&tokens, 2, &decode).unwrap();
        assert_eq!(
            check,
            StopCheck {
                safe_tokens: 2,
                stop_at: Some(9)
            }
        );
        assert_eq!(cut(decode(&tokens).unwrap(), check.stop_at), "Le projet");
    }
}
