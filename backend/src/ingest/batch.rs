//! Group commit: webhooks screened by their requests (parse, authenticate, dedup key — no database)
//! are handed to a writer, which takes whatever is waiting (up to `INGEST_BATCH_SIZE`, lingering at
//! most `INGEST_BATCH_WAIT_US` for more while there is load), writes the whole batch in ONE
//! transaction (its notifications sent at that commit), and answers each request only after that COMMIT.
//!
//! Guarantees (docs/RELIABILITY.md, "Group commit"):
//! - nothing is answered 2xx before it is durable: the answers are sent after COMMIT returned;
//! - one webhook's failure never fails its neighbours: a batch is first written without savepoints;
//!   when a webhook fails, that transaction is rolled back and the batch written again with each event
//!   inside its own savepoint (`process::apply`); the failing one is rolled back to it, recorded with
//!   the outcome `error` and answered 500, the others commit (a deadlock with another writer is not
//!   such a failure: see `write_isolated`);
//! - events are applied in arrival order (the queue's order), so two events of one order in one batch
//!   apply one after the other, each seeing the state the previous one left;
//! - deduplication is the unique key of `webhook_events`, as one by one: copies of one event in one
//!   batch, in two batches or in two replicas give exactly one `processed`;
//! - the connection dies (a database restart): nothing of the batch was committed, it is written once
//!   more on a fresh connection; while the database stays unreachable every waiting request gets 503
//!   with `Retry-After`;
//! - shutdown: the writers run until the last request that queued a webhook has been answered (the
//!   server finishes its in-flight requests before the process ends).

use super::bulk;
use super::event::Parsed;
use super::process::{self, CourseDefaults, Outcome, WebhookAnswer};
use super::record::{self, Received};
use crate::config::Config;
use crate::db::{self, Pool};
use crate::error::{ApiError, ApiResult};
use crate::notify;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How batches are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// At most this many webhooks per transaction.
    pub max_batch: usize,
    /// How long a batch may wait for more webhooks after its first one (only while there is load:
    /// when the previous batch held a single webhook, nothing waits).
    pub max_wait: Duration,
    /// Writer threads; 0 turns the group commit off (each webhook in its own transaction).
    pub writers: usize,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings { max_batch: c.ingest_batch_size.max(1), max_wait: c.ingest_batch_wait, writers: c.ingest_writers }
    }
}

/// One screened, accepted webhook.
pub struct Request {
    pub received: Received,
    pub parsed: Parsed,
    pub started: Instant,
}

struct Item {
    request: Request,
    span: tracing::Span,
    reply: oneshot::Sender<ApiResult<WebhookAnswer>>,
}

/// The queue in front of the writers. The writer threads start with the first webhook and end when
/// this value is dropped (the app's state is gone) and the queue is empty.
pub struct GroupCommit {
    pool: Pool,
    defaults: CourseDefaults,
    settings: Settings,
    queue: OnceLock<mpsc::Sender<Item>>,
    counters: Arc<Counters>,
}

/// What the writers did so far (for tests and diagnostics).
#[derive(Default)]
struct Counters {
    /// Webhooks queued and not yet taken into a batch.
    queued: AtomicUsize,
    /// Batches taken by a writer.
    batches: AtomicUsize,
    /// Webhooks written set-based (`bulk`).
    set_based: AtomicUsize,
    /// Batches written again one savepoint per webhook after a failure.
    isolated: AtomicUsize,
}

impl GroupCommit {
    pub fn new(pool: Pool, defaults: CourseDefaults, settings: Settings) -> GroupCommit {
        GroupCommit { pool, defaults, settings, queue: OnceLock::new(), counters: Arc::default() }
    }

    /// Webhooks waiting in the queue, not yet taken by a writer.
    pub fn queued(&self) -> usize {
        self.counters.queued.load(Ordering::SeqCst)
    }

    /// Batches the writers have taken so far.
    pub fn batches(&self) -> usize {
        self.counters.batches.load(Ordering::SeqCst)
    }

    /// Webhooks the writers wrote set-based so far (the others went one by one).
    pub fn set_based(&self) -> usize {
        self.counters.set_based.load(Ordering::SeqCst)
    }

    /// Batches written again one savepoint per webhook, after one of their webhooks failed.
    pub fn isolated(&self) -> usize {
        self.counters.isolated.load(Ordering::SeqCst)
    }

    pub fn enabled(&self) -> bool {
        self.settings.writers > 0
    }

    /// Queues the webhook and waits until its batch has committed (or failed).
    pub async fn submit(&self, request: Request) -> ApiResult<WebhookAnswer> {
        let (reply, answer) = oneshot::channel();
        let item = Item { request, span: tracing::Span::current(), reply };
        let queue = self.queue.get_or_init(|| self.spawn());
        self.counters.queued.fetch_add(1, Ordering::SeqCst);
        if queue.send(item).is_err() {
            return Err(ApiError::internal("the ingest writers have stopped"));
        }
        answer.await.unwrap_or_else(|_| Err(ApiError::internal("an ingest writer dropped a webhook")))
    }

    fn spawn(&self) -> mpsc::Sender<Item> {
        let (tx, rx) = mpsc::channel::<Item>();
        let rx = Arc::new(Mutex::new(rx));
        let last_batch = Arc::new(AtomicUsize::new(0));
        for n in 0..self.settings.writers.max(1) {
            let writer = Writer {
                pool: self.pool.clone(),
                defaults: self.defaults.clone(),
                settings: self.settings,
                last_batch: last_batch.clone(),
                counters: self.counters.clone(),
            };
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("portaria-ingest-{n}"))
                .spawn(move || writer.run(&rx))
                .expect("spawn an ingest writer thread");
        }
        tx
    }
}

struct Writer {
    pool: Pool,
    defaults: CourseDefaults,
    settings: Settings,
    /// The size of the last batch any writer took: 1 means no concurrency, so nothing lingers.
    last_batch: Arc<AtomicUsize>,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(&self, rx: &Mutex<mpsc::Receiver<Item>>) {
        loop {
            // One writer collects at a time; the others write meanwhile.
            let batch = match rx.lock() {
                Ok(rx) => self.collect(&rx),
                Err(_) => return,
            };
            let Some(batch) = batch else { return };
            self.counters.queued.fetch_sub(batch.len(), Ordering::SeqCst);
            self.counters.batches.fetch_add(1, Ordering::SeqCst);
            self.last_batch.store(batch.len(), Ordering::Relaxed);
            crate::metrics::ingest_batch(batch.len());
            self.write(batch);
        }
    }

    /// The next batch: the first webhook to come, and whatever follows it — up to the batch size, and
    /// while there is load for at most `max_wait` after the first. `None` once the queue is closed.
    ///
    /// The writer sleeps through the linger and then takes what came meanwhile, rather than waiting
    /// on the queue: a waiting receiver is woken by every webhook sent to it (a context switch each,
    /// about 5 % of the machine's CPU at 2,000 webhooks/s in a profile), a sleeping one once.
    fn collect(&self, rx: &mpsc::Receiver<Item>) -> Option<Vec<Item>> {
        let first = rx.recv().ok()?;
        let linger = if self.last_batch.load(Ordering::Relaxed) > 1 { self.settings.max_wait } else { Duration::ZERO };
        let deadline = Instant::now() + linger;
        let mut batch = vec![first];
        loop {
            while batch.len() < self.settings.max_batch {
                match rx.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Some(batch),
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if batch.len() >= self.settings.max_batch || left.is_zero() {
                return Some(batch);
            }
            std::thread::sleep(left);
        }
    }

    /// Writes the batch and answers every request in it.
    fn write(&self, batch: Vec<Item>) {
        let mut outcome = self.attempt(&batch);
        if let Err(e) = &outcome {
            if e.is_database_unavailable() {
                let cause = e.cause.as_deref().unwrap_or("unavailable");
                log::warn!(
                    "database connection lost ({cause}) while writing {} webhook(s); writing them again on a fresh connection",
                    batch.len()
                );
                outcome = self.attempt(&batch);
            }
        }
        match outcome {
            Ok(results) => {
                for (item, result) in batch.into_iter().zip(results) {
                    let _ = item.reply.send(result);
                }
            }
            Err(e) => {
                for item in batch {
                    let _ = item.reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// One try on one connection; a connection found dead is thrown away (see `db::Manager`).
    fn attempt(&self, batch: &[Item]) -> ApiResult<Vec<ApiResult<WebhookAnswer>>> {
        let mut conn = self.pool.get()?;
        let result = write_batch(&mut conn, &self.defaults, batch, &self.counters);
        if result.as_ref().is_err_and(ApiError::is_database_unavailable) {
            conn.mark_broken();
        }
        result
    }
}

/// Writes the batch in one transaction: first optimistically, without savepoints — set-based
/// (`bulk`: one statement per table) for the webhooks that share nothing with another one of the
/// batch, the others one by one in arrival order; when one of them fails, that transaction is rolled
/// back whole and the batch written again with a savepoint per webhook (`write_isolated`).
fn write_batch(
    conn: &mut PgConnection,
    defaults: &CourseDefaults,
    batch: &[Item],
    counters: &Counters,
) -> ApiResult<Vec<ApiResult<WebhookAnswer>>> {
    let mut set_based = 0;
    let optimistic = bulk::transaction(conn, |conn| {
        let webhooks: Vec<bulk::Webhook<'_>> = batch
            .iter()
            .map(|i| bulk::Webhook {
                received: &i.request.received,
                parsed: &i.request.parsed,
                started: i.request.started,
            })
            .collect();
        // Set-based for the independent webhooks; the others one by one, in arrival order.
        let written = bulk::write(conn, defaults, &webhooks)?;
        set_based = written.iter().filter(|w| w.is_some()).count();
        let mut answers = Vec::with_capacity(batch.len());
        // The set-based writes sent their own signals; the others' go in one statement.
        let mut signals = vec![];
        for (item, answer) in batch.iter().zip(written) {
            let answer = match answer {
                Some(answer) => answer,
                None => {
                    let _ingest = item.span.enter();
                    let r = &item.request;
                    let answer = process::apply(conn, &r.received, &r.parsed, defaults, None, r.started)?;
                    signals.extend(process::signals(&answer));
                    answer
                }
            };
            answers.push(answer);
        }
        notify::send_all(conn, &signals)?;
        Ok(answers)
    });
    match optimistic {
        Ok(answers) => {
            counters.set_based.fetch_add(set_based, Ordering::SeqCst);
            Ok(answers.into_iter().map(Ok).collect())
        }
        Err(e) if db::is_connection_failure(&e) => Err(e.into()),
        Err(e) => {
            log::debug!("a webhook of a batch of {} failed ({e}); writing them again one savepoint each", batch.len());
            counters.isolated.fetch_add(1, Ordering::SeqCst);
            write_isolated(conn, defaults, batch)
        }
    }
}

/// How many times a batch is written one savepoint per webhook when a deadlock keeps failing one of
/// its webhooks.
const DEADLOCK_ATTEMPTS: usize = 3;

/// Writes `requests` in one transaction, each inside its own savepoint, in order, with one
/// notification for all of them. `Err` when nothing was committed (the connection failed); otherwise
/// one result per request, in order: the answer, or the internal failure of that webhook alone (rolled
/// back to its savepoint and kept on record with the outcome `error`).
///
/// A deadlock is not a failure of the webhook: PostgreSQL broke a cycle of waits between this
/// transaction and another writer's (of this replica or another one). The webhook is tried once more
/// in its savepoint, which is enough when the other transaction waited for a lock taken in that
/// savepoint; when it waited for one taken earlier in this batch, the cycle forms again, so the whole
/// transaction is rolled back (every lock released: the other goes on) and the batch written again,
/// up to `DEADLOCK_ATTEMPTS` times.
fn write_isolated(
    conn: &mut PgConnection,
    defaults: &CourseDefaults,
    batch: &[Item],
) -> ApiResult<Vec<ApiResult<WebhookAnswer>>> {
    let mut attempt = 1;
    loop {
        match write_isolated_once(conn, defaults, batch, attempt < DEADLOCK_ATTEMPTS) {
            Err(Isolated::Deadlock) => {
                log::info!(
                    "a deadlock with another writer rolled back a batch of {} webhook(s); writing it again",
                    batch.len()
                );
                attempt += 1;
            }
            Err(Isolated::Failed(e)) => return Err(e),
            Ok(results) => return Ok(results),
        }
    }
}

/// Why `write_isolated_once` committed nothing.
enum Isolated {
    /// A webhook deadlocked twice: write the batch again.
    Deadlock,
    /// The connection failed.
    Failed(ApiError),
}

impl From<DieselError> for Isolated {
    fn from(e: DieselError) -> Isolated {
        Isolated::Failed(e.into())
    }
}

/// One try of `write_isolated`; with `roll_back_on_deadlock`, a webhook that deadlocks twice rolls
/// the whole transaction back (`Isolated::Deadlock`), otherwise it is recorded as failed.
fn write_isolated_once(
    conn: &mut PgConnection,
    defaults: &CourseDefaults,
    batch: &[Item],
    roll_back_on_deadlock: bool,
) -> Result<Vec<ApiResult<WebhookAnswer>>, Isolated> {
    conn.transaction::<_, Isolated, _>(|conn| {
        let mut results = Vec::with_capacity(batch.len());
        let mut signals = vec![];
        for item in batch {
            let _ingest = item.span.enter();
            let r = &item.request;
            let apply = |conn: &mut PgConnection| {
                conn.transaction(|conn| process::apply(conn, &r.received, &r.parsed, defaults, None, r.started))
            };
            let applied = match apply(conn) {
                Err(e) if is_deadlock(&e) => apply(conn),
                other => other,
            };
            match applied {
                Ok(answer) => {
                    signals.extend(process::signals(&answer));
                    results.push(Ok(answer));
                }
                Err(e) if db::is_connection_failure(&e) => return Err(e.into()),
                Err(e) if roll_back_on_deadlock && is_deadlock(&e) => return Err(Isolated::Deadlock),
                Err(e) => {
                    let error = format!("internal error: {e}");
                    record::record_rejection(
                        conn,
                        &r.received,
                        Outcome::Error,
                        &error,
                        None,
                        process::elapsed_ms(r.started),
                    )?;
                    results.push(Err(ApiError::internal(format!("ingest of a {} webhook: {e}", r.received.source))));
                }
            }
        }
        notify::send_all(conn, &signals)?;
        Ok(results)
    })
}

fn is_deadlock(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}
