//! The worker thread and the cloneable handle that submits jobs to it.

use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Backend, Error, GenerationSummary, Result, Score};
use crate::llm::GenerationParams;

/// One unit of work for the model. Each carries its own reply channel, so a
/// caller that gave up (dropped the receiver) is noticed and skipped.
enum Job {
    Score {
        pairs: Vec<(String, String)>,
        reply: oneshot::Sender<Result<Vec<Score>>>,
    },
    Span {
        prompt: String,
        source: String,
        max_tokens: usize,
        reply: oneshot::Sender<Result<String>>,
    },
    Generate {
        prompt: String,
        params: GenerationParams,
        tokens: Option<mpsc::UnboundedSender<String>>,
        reply: oneshot::Sender<Result<GenerationSummary>>,
    },
}

impl Job {
    fn caller_gone(&self) -> bool {
        match self {
            Job::Score { reply, .. } => reply.is_closed(),
            Job::Span { reply, .. } => reply.is_closed(),
            Job::Generate { reply, .. } => reply.is_closed(),
        }
    }
}

/// A cloneable handle to the model's worker thread.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    /// The same backend the worker owns, for the one cheap call that does
    /// not need the model's thread: counting tokens must not wait in the
    /// queue behind forward passes.
    backend: Arc<dyn Backend>,
}

impl Engine {
    /// Starts the worker thread that owns `backend`, with room for
    /// `queue_capacity` waiting jobs.
    pub fn start(backend: Arc<dyn Backend>, queue_capacity: usize) -> Self {
        let (jobs, receiver) = mpsc::channel(queue_capacity.max(1));
        let worker_backend = Arc::clone(&backend);
        let spawned = std::thread::Builder::new()
            .name("eulcat-engine".into())
            .spawn(move || run(worker_backend, receiver));
        if let Err(error) = spawned {
            // The receiver was moved into the failed closure and dropped, so
            // every submission will report `Stopped`: the service stays up
            // and says why it cannot answer.
            tracing::error!(%error, "could not start the engine thread");
        }
        Self { jobs, backend }
    }

    /// How many tokens `text` is for the model; computed on the caller's
    /// thread (tokenizing only).
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self.backend.count_tokens(text)?)
    }

    /// Log-likelihoods of each `(prompt, continuation)` pair, computed as one
    /// job so a question's candidates are not interleaved with other work.
    pub async fn score(&self, pairs: Vec<(String, String)>) -> Result<Vec<Score>> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Score { pairs, reply })?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// The span of `source` the model copies after `prompt`.
    pub async fn extract_span(
        &self,
        prompt: String,
        source: String,
        max_tokens: usize,
    ) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Span {
            prompt,
            source,
            max_tokens,
            reply,
        })?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// Generates a continuation of `prompt`; pieces of text are sent to
    /// `tokens` as they come, and generation stops early when that receiver
    /// is dropped.
    pub async fn generate(
        &self,
        prompt: String,
        params: GenerationParams,
        tokens: Option<mpsc::UnboundedSender<String>>,
    ) -> Result<GenerationSummary> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Generate {
            prompt,
            params,
            tokens,
            reply,
        })?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => Error::Overloaded,
            mpsc::error::TrySendError::Closed(_) => Error::Stopped,
        })
    }
}

fn run(backend: Arc<dyn Backend>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(job) = jobs.blocking_recv() {
        if job.caller_gone() {
            tracing::debug!("skipping a job whose caller has gone");
            continue;
        }
        // A bug in one job must not take the engine down for every visitor:
        // the job's reply channel is dropped, so its caller sees `Stopped`.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| execute(backend.as_ref(), job)));
        if outcome.is_err() {
            tracing::error!("a model job panicked; the engine carries on");
        }
    }
    tracing::info!("engine stopped");
}

fn execute(backend: &dyn Backend, job: Job) {
    match job {
        Job::Score { pairs, reply } => {
            let _ = reply.send(backend.score_batch(&pairs).map_err(Error::from));
        }
        Job::Span {
            prompt,
            source,
            max_tokens,
            reply,
        } => {
            let _ = reply.send(
                backend
                    .extract_span(&prompt, &source, max_tokens)
                    .map_err(Error::from),
            );
        }
        Job::Generate {
            prompt,
            params,
            tokens,
            reply,
        } => {
            let result = backend.generate(&prompt, &params, &mut |text| {
                if reply.is_closed() {
                    return ControlFlow::Break(());
                }
                match &tokens {
                    Some(sink) if sink.send(text.to_string()).is_err() => ControlFlow::Break(()),
                    _ => ControlFlow::Continue(()),
                }
            });
            let _ = reply.send(result.map_err(Error::from));
        }
    }
}
