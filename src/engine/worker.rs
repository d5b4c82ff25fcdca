//! The worker thread and the cloneable handle that submits jobs to it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Backend, Error, GenerationJob, GenerationSummary, Result, Score};
use crate::llm::{GenerationParams, Input};

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
    Embed {
        inputs: Vec<Input>,
        reply: oneshot::Sender<Result<Vec<Vec<f32>>>>,
    },
}

impl Job {
    fn caller_gone(&self) -> bool {
        match self {
            Job::Score { reply, .. } => reply.is_closed(),
            Job::Span { reply, .. } => reply.is_closed(),
            Job::Generate { reply, .. } => reply.is_closed(),
            Job::Embed { reply, .. } => reply.is_closed(),
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Its result reached the caller.
    Done,
    /// Its caller had gone before it started: it was not run.
    Skipped,
    /// Its caller went away while it ran: a generation stops at the next
    /// token; a scoring pass, which cannot be cut, has its result dropped.
    Abandoned,
    /// It panicked (a bug); the engine carried on.
    Panicked,
}

/// Counters of what the worker did, shared with every handle.
#[derive(Debug, Default)]
struct Counters {
    done: AtomicU64,
    skipped: AtomicU64,
    abandoned: AtomicU64,
    panicked: AtomicU64,
}

impl Counters {
    fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Done => &self.done,
            Outcome::Skipped => &self.skipped,
            Outcome::Abandoned => &self.abandoned,
            Outcome::Panicked => &self.panicked,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the engine has done since it started, and what waits for it: the
/// figures an operator watches (`GET /metrics`) to see whether the model
/// keeps up and whether work for visitors who left is really dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs whose result reached their caller.
    pub jobs_done: u64,
    /// Jobs not run because their caller had gone before their turn.
    pub jobs_skipped: u64,
    /// Jobs whose caller went away while they ran (generation stopped,
    /// or a result nobody waited for any more).
    pub jobs_abandoned: u64,
    /// Jobs that panicked.
    pub jobs_panicked: u64,
    /// Jobs waiting in the queue now (not counting the one running).
    pub queued: usize,
    /// Jobs the queue holds at most before callers are refused.
    pub queue_capacity: usize,
    /// Scores and spans answered from memory, and computed by the model
    /// (absent when the backend remembers nothing).
    pub memo: Option<super::MemoStats>,
}

/// A cloneable handle to the model's worker thread.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    /// The same backend the worker owns, for the one cheap call that does
    /// not need the model's thread: counting tokens must not wait in the
    /// queue behind forward passes.
    backend: Arc<dyn Backend>,
    counters: Arc<Counters>,
}

impl Engine {
    /// Starts the worker thread that owns `backend`, with room for
    /// `queue_capacity` waiting jobs.
    pub fn start(backend: Arc<dyn Backend>, queue_capacity: usize) -> Self {
        let (jobs, receiver) = mpsc::channel(queue_capacity.max(1));
        let worker_backend = Arc::clone(&backend);
        let counters = Arc::new(Counters::default());
        let worker_counters = Arc::clone(&counters);
        let spawned = std::thread::Builder::new()
            .name("eulcat-engine".into())
            .spawn(move || run(worker_backend, receiver, &worker_counters));
        if let Err(error) = spawned {
            // The receiver was moved into the failed closure and dropped, so
            // every submission will report `Stopped`: the service stays up
            // and says why it cannot answer.
            tracing::error!(%error, "could not start the engine thread");
        }
        Self {
            jobs,
            backend,
            counters,
        }
    }

    /// The engine's counters and its queue as they are now.
    pub fn stats(&self) -> Stats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let queue_capacity = self.jobs.max_capacity();
        Stats {
            jobs_done: load(&self.counters.done),
            jobs_skipped: load(&self.counters.skipped),
            jobs_abandoned: load(&self.counters.abandoned),
            jobs_panicked: load(&self.counters.panicked),
            // A closed queue (the worker is gone) reports its full capacity
            // as free, so this never underflows.
            queued: queue_capacity.saturating_sub(self.jobs.capacity()),
            queue_capacity,
            memo: self.backend.memo_stats(),
        }
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

    /// Length of the meaning vectors [`embed`](Self::embed) gives; `None`
    /// without an embedding model.
    pub fn embedding_dimension(&self) -> Option<usize> {
        self.backend.embedding_dimension()
    }

    /// Unit vectors of the meaning of `inputs`.
    pub async fn embed(&self, inputs: Vec<Input>) -> Result<Vec<Vec<f32>>> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Embed { inputs, reply })?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => Error::Overloaded,
            mpsc::error::TrySendError::Closed(_) => Error::Stopped,
        })
    }
}

fn run(backend: Arc<dyn Backend>, mut jobs: mpsc::Receiver<Job>, counters: &Counters) {
    // Generations that arrived while the batch was full, oldest first.
    let mut held = VecDeque::new();
    loop {
        let job = match held.pop_front() {
            Some(job) => job,
            None => match jobs.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        match job {
            Job::Generate {
                prompt,
                params,
                tokens,
                reply,
            } => {
                if reply.is_closed() {
                    counters.count(Outcome::Skipped);
                    continue;
                }
                let first = generation_job(prompt, params, tokens, reply, counters);
                let together = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    // Between decoding steps: newcomers join, other work runs.
                    let mut more = |room: bool| {
                        next_generation(backend.as_ref(), &mut jobs, &mut held, counters, room)
                    };
                    backend.generate_together(first, &mut more);
                }));
                if together.is_err() {
                    // The replies of the generations in the batch were dropped:
                    // their callers see `Stopped`.
                    tracing::error!("a batch of generations panicked; the engine carries on");
                    counters.count(Outcome::Panicked);
                }
            }
            other => run_one(backend.as_ref(), other, counters),
        }
    }
    tracing::info!("engine stopped");
}

/// Runs a job that is not a generation, to completion.
fn run_one(backend: &dyn Backend, job: Job, counters: &Counters) {
    if job.caller_gone() {
        tracing::debug!("skipping a job whose caller has gone");
        counters.count(Outcome::Skipped);
        return;
    }
    // A bug in one job must not take the engine down for every visitor:
    // the job's reply channel is dropped, so its caller sees `Stopped`.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| execute(backend, job)))
        .unwrap_or_else(|_| {
            tracing::error!("a model job panicked; the engine carries on");
            Outcome::Panicked
        });
    if outcome == Outcome::Abandoned {
        tracing::debug!("the caller left while its job ran");
    }
    counters.count(outcome);
}

/// What the worker hands the backend between two decoding steps: the next
/// generation to join (when there is `room`), after running any other
/// queued work to completion; `None` when the queue is empty.
fn next_generation<'a>(
    backend: &dyn Backend,
    jobs: &mut mpsc::Receiver<Job>,
    held: &mut VecDeque<Job>,
    counters: &'a Counters,
    room: bool,
) -> Option<GenerationJob<'a>> {
    loop {
        let job = match held.pop_front() {
            Some(job) if room => job,
            Some(job) => {
                held.push_front(job);
                jobs.try_recv().ok()?
            }
            None => jobs.try_recv().ok()?,
        };
        match job {
            Job::Generate { reply, .. } if reply.is_closed() => {
                counters.count(Outcome::Skipped);
            }
            Job::Generate {
                prompt,
                params,
                tokens,
                reply,
            } if room => return Some(generation_job(prompt, params, tokens, reply, counters)),
            job @ Job::Generate { .. } => held.push_back(job),
            other => run_one(backend, other, counters),
        }
    }
}

/// A queued generation as the backend takes it: its text goes to `tokens`
/// (and it stops when that receiver or the reply's is dropped), its result
/// to `reply`, and its outcome is counted.
fn generation_job<'a>(
    prompt: String,
    params: GenerationParams,
    tokens: Option<mpsc::UnboundedSender<String>>,
    reply: oneshot::Sender<Result<GenerationSummary>>,
    counters: &'a Counters,
) -> GenerationJob<'a> {
    let reply = Rc::new(RefCell::new(Some(reply)));
    let watched = Rc::clone(&reply);
    GenerationJob {
        prompt,
        params,
        on_text: Box::new(move |text| {
            let gone = watched
                .borrow()
                .as_ref()
                .is_none_or(oneshot::Sender::is_closed);
            match &tokens {
                _ if gone => ControlFlow::Break(()),
                Some(sink) if sink.send(text.to_string()).is_err() => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }),
        on_done: Box::new(move |result| {
            let outcome = match reply.borrow_mut().take() {
                Some(reply) => delivered(reply.send(result.map_err(Error::from))),
                None => Outcome::Abandoned,
            };
            counters.count(outcome);
        }),
    }
}

/// `Done` when the reply reached the caller, `Abandoned` when the caller had
/// dropped its end by then.
fn delivered<T>(sent: Result<(), T>) -> Outcome {
    match sent {
        Ok(()) => Outcome::Done,
        Err(_) => Outcome::Abandoned,
    }
}

fn execute(backend: &dyn Backend, job: Job) -> Outcome {
    match job {
        // One batched forward pass: it cannot be cut short, but the caller
        // sends no further job once it has gone.
        Job::Score { pairs, reply } => {
            delivered(reply.send(backend.score_batch(&pairs).map_err(Error::from)))
        }
        Job::Span {
            prompt,
            source,
            max_tokens,
            reply,
        } => delivered(
            reply.send(
                backend
                    .extract_span(&prompt, &source, max_tokens)
                    .map_err(Error::from),
            ),
        ),
        Job::Embed { inputs, reply } => {
            delivered(reply.send(backend.embed(&inputs).map_err(Error::from)))
        }
        // Generations run through `generate_together` (see `run`).
        Job::Generate { reply, .. } => delivered(reply.send(Err(Error::Stopped))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};

    use super::*;
    use crate::llm::{self, FinishReason};

    /// Scores nothing until the test opens the gate, so that the test
    /// knows which job runs and which waits.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
        entered: Mutex<usize>,
        arrived: Condvar,
    }

    impl Gate {
        fn pass(&self) {
            *self.entered.lock().unwrap() += 1;
            self.arrived.notify_all();
            let open = self.open.lock().unwrap();
            drop(self.opened.wait_while(open, |open| !*open).unwrap());
        }

        fn wait_for_entries(&self, count: usize) {
            let entered = self.entered.lock().unwrap();
            drop(self.arrived.wait_while(entered, |n| *n < count).unwrap());
        }

        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.opened.notify_all();
        }
    }

    impl Backend for Gate {
        fn score(&self, _prompt: &str, _continuation: &str) -> Result<Score, llm::Error> {
            self.pass();
            Ok(Score {
                logprob_sum: -1.0,
                tokens: 1,
            })
        }

        fn extract_span(&self, _: &str, _: &str, _: usize) -> Result<String, llm::Error> {
            Ok(String::new())
        }

        fn generate(
            &self,
            _prompt: &str,
            _params: &GenerationParams,
            on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
        ) -> Result<GenerationSummary, llm::Error> {
            let mut generated = 0;
            // Stands for an endless model: only the caller can stop it.
            while on_text("mot ").is_continue() {
                generated += 1;
                self.pass();
            }
            Ok(GenerationSummary {
                text: String::new(),
                prompt_tokens: 1,
                generated_tokens: generated,
                finish_reason: FinishReason::Stop,
                prefill_ms: 0.0,
                decode_ms: 0.0,
            })
        }

        fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
            Ok(text.len())
        }
    }

    fn pair() -> Vec<(String, String)> {
        vec![("a".into(), "b".into())]
    }

    /// The engine's figures once `expected` holds, or after 10 s: the
    /// worker counts a job just after its reply reached the caller, so the
    /// caller may look a moment too early.
    async fn stats_once(engine: &Engine, expected: impl Fn(&Stats) -> bool) -> Stats {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let stats = engine.stats();
            if expected(&stats) || std::time::Instant::now() > deadline {
                return stats;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_is_skipped_and_counted() {
        let gate = Arc::new(Gate::default());
        let engine = Engine::start(Arc::clone(&gate) as Arc<dyn Backend>, 4);
        let first = tokio::spawn({
            let engine = engine.clone();
            async move { engine.score(pair()).await }
        });
        let blocking_gate = Arc::clone(&gate);
        tokio::task::spawn_blocking(move || blocking_gate.wait_for_entries(1))
            .await
            .unwrap();
        // The second caller queues behind the running job, then gives up.
        let second = tokio::spawn({
            let engine = engine.clone();
            async move { engine.score(pair()).await }
        });
        while engine.stats().queued == 0 {
            tokio::task::yield_now().await;
        }
        second.abort();
        let _ = second.await;
        gate.open();
        assert!(first.await.unwrap().is_ok());
        // The worker takes the abandoned job right after the first one.
        engine.score(pair()).await.unwrap();
        let stats = stats_once(&engine, |s| s.jobs_done == 2).await;
        assert_eq!(stats.jobs_skipped, 1, "{stats:?}");
        assert_eq!(stats.jobs_done, 2, "{stats:?}");
        assert_eq!(stats.queued, 0);
        assert_eq!(stats.queue_capacity, 4);
    }

    #[tokio::test]
    async fn a_generation_stops_when_its_caller_leaves() {
        let gate = Arc::new(Gate::default());
        let engine = Engine::start(Arc::clone(&gate) as Arc<dyn Backend>, 4);
        let generation = tokio::spawn({
            let engine = engine.clone();
            async move {
                engine
                    .generate("p".into(), GenerationParams::default(), None)
                    .await
            }
        });
        let blocking_gate = Arc::clone(&gate);
        tokio::task::spawn_blocking(move || blocking_gate.wait_for_entries(1))
            .await
            .unwrap();
        generation.abort();
        let _ = generation.await;
        gate.open();
        // The next job runs only once the endless generation has stopped.
        engine.score(pair()).await.unwrap();
        let stats = stats_once(&engine, |s| s.jobs_done == 1).await;
        assert_eq!(stats.jobs_abandoned, 1, "{stats:?}");
        assert_eq!(stats.jobs_done, 1, "{stats:?}");
    }

    /// Decodes in lockstep as a batching backend does: every step, each
    /// active generation emits its prompt once, and ends after `length`
    /// steps. At most `room` run together. Records the widest step.
    struct Lockstep {
        length: usize,
        room: usize,
        gate: Gate,
        widest: Mutex<usize>,
    }

    impl Backend for Lockstep {
        fn score(&self, _prompt: &str, _continuation: &str) -> Result<Score, llm::Error> {
            Ok(Score {
                logprob_sum: -1.0,
                tokens: 1,
            })
        }

        fn extract_span(&self, _: &str, _: &str, _: usize) -> Result<String, llm::Error> {
            Ok(String::new())
        }

        fn generate(
            &self,
            _: &str,
            _: &GenerationParams,
            _: &mut dyn FnMut(&str) -> ControlFlow<()>,
        ) -> Result<GenerationSummary, llm::Error> {
            unreachable!("the worker runs generations together")
        }

        fn generate_together<'a>(
            &self,
            first: GenerationJob<'a>,
            more: &mut dyn FnMut(bool) -> Option<GenerationJob<'a>>,
        ) {
            // The first step waits until the test has queued the others.
            self.gate.pass();
            let mut active = vec![(first, String::new())];
            loop {
                while let Some(job) = more(active.len() < self.room) {
                    active.push((job, String::new()));
                }
                if active.is_empty() {
                    return;
                }
                let mut widest = self.widest.lock().unwrap();
                *widest = (*widest).max(active.len());
                drop(widest);
                for (job, text) in &mut active {
                    text.push_str(&job.prompt);
                    let _ = (job.on_text)(&job.prompt);
                }
                let (done, running): (Vec<_>, Vec<_>) = active
                    .into_iter()
                    .partition(|(job, text)| text.len() == self.length * job.prompt.len());
                active = running;
                for (job, text) in done {
                    (job.on_done)(Ok(GenerationSummary {
                        text,
                        prompt_tokens: 1,
                        generated_tokens: self.length,
                        finish_reason: FinishReason::Length,
                        prefill_ms: 0.0,
                        decode_ms: 0.0,
                    }));
                }
            }
        }

        fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
            Ok(text.len())
        }
    }

    #[tokio::test]
    async fn queued_generations_join_the_running_one_and_other_work_runs_between_steps() {
        let backend = Arc::new(Lockstep {
            length: 3,
            room: 3,
            gate: Gate::default(),
            widest: Mutex::new(0),
        });
        let engine = Engine::start(Arc::clone(&backend) as Arc<dyn Backend>, 8);
        let generate = |prompt: &str| {
            let engine = engine.clone();
            let prompt = prompt.to_string();
            tokio::spawn(async move {
                engine
                    .generate(prompt, GenerationParams::default(), None)
                    .await
            })
        };
        let first = generate("a");
        let gate_backend = Arc::clone(&backend);
        tokio::task::spawn_blocking(move || gate_backend.gate.wait_for_entries(1))
            .await
            .unwrap();
        // Three more generations (one more than there is room for) and a
        // scoring job wait while the first generation's step is held.
        let others: Vec<_> = ["b", "c", "d"].into_iter().map(generate).collect();
        let score = tokio::spawn({
            let engine = engine.clone();
            async move { engine.score(pair()).await }
        });
        while engine.stats().queued < 4 {
            tokio::task::yield_now().await;
        }
        backend.gate.open();
        assert_eq!(first.await.unwrap().unwrap().text, "aaa");
        for (handle, letter) in others.into_iter().zip(["b", "c", "d"]) {
            assert_eq!(handle.await.unwrap().unwrap().text, letter.repeat(3));
        }
        assert!(score.await.unwrap().is_ok());
        assert_eq!(
            *backend.widest.lock().unwrap(),
            3,
            "never more than the room"
        );
        let stats = stats_once(&engine, |s| s.jobs_done == 5).await;
        assert_eq!(stats.jobs_done, 5, "{stats:?}");
        assert_eq!(
            stats.jobs_skipped + stats.jobs_abandoned + stats.jobs_panicked,
            0
        );
    }
}
