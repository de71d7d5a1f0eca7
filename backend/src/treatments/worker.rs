//! The outbox worker: claims due treatments (FOR UPDATE SKIP LOCKED, with a lease), executes them,
//! records done / retry with backoff / dead. Woken by LISTEN/NOTIFY, with a slow poll as fallback.
//! Any number of workers and replicas cooperate on one database.
//!
//! Leases are per treatment: right before a claimed treatment runs, its lease is renewed to
//! now + `lease` (fenced by the claim's attempt: a treatment taken over meanwhile is skipped), and a
//! heartbeat renews it every third of the lease while it runs, so a slow channel never outlives its
//! lease while its worker lives. Only a worker that dies (or loses the database for a whole lease)
//! lets another one run the treatment again — at-least-once, see docs/OPERATIONS.md.

use super::executor::{Executor, Job};
use super::{store, sweep};
use crate::channels::Failure;
use crate::db::{self, DbError, Pool, PooledConn};
use crate::notify::{self, Bus, Signal};
use crate::shutdown::Shutdown;
use chrono::Utc;
use diesel::pg::PgConnection;
use diesel::QueryResult;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Worker {
    pub pool: Pool,
    pub executor: Arc<dyn Executor>,
    pub max_attempts: i32,
    pub lease: chrono::Duration,
    pub batch: i64,
    /// Once triggered, the worker finishes the treatment in hand and releases the rest of its claim.
    pub shutdown: Shutdown,
}

impl Worker {
    /// Claims and executes one batch; returns how many treatments it handled. Blocking.
    ///
    /// While the claim is young (less than a third of the lease old, so no lease of the batch can have
    /// expired) the treatments run without a renewal each, and their successes are recorded together:
    /// one UPDATE and one notification for the batch (`flush`), the heartbeat meanwhile renewing the
    /// leases of the treatment in hand and of those waiting to be recorded. Once the claim has aged, each
    /// treatment's lease is renewed right before it runs and its result recorded at once, as before.
    pub fn run_batch(&self) -> Result<usize, DbError> {
        let mut conn = self.pool.get()?;
        if self.shutdown.is_triggered() {
            return Ok(0);
        }
        let claimed_at = Instant::now();
        let claimed = store::claim(&mut conn, self.batch, self.lease, Utc::now())?;
        let young = (self.lease / 3).to_std().unwrap_or(Duration::ZERO);
        let mut done: Vec<(i64, i32, String)> = vec![];
        for (n, t) in claimed.iter().enumerate() {
            if self.shutdown.is_triggered() {
                self.flush(&mut conn, &mut done)?;
                let rest = &claimed[n..];
                for t in rest {
                    store::release(&mut conn, t.id, t.attempts)?;
                }
                log::info!("shutting down: released {} claimed treatment(s)", rest.len());
                return Ok(n);
            }
            let span =
                tracing::info_span!("treatment", treatment_id = t.id, kind = t.kind.as_str(), attempt = t.attempts);
            let _treatment = span.enter();
            let kind = t.kind;
            let job = Job { id: t.id, kind, attempt: t.attempts, payload: t.payload.clone() };
            if claimed_at.elapsed() >= young {
                self.flush(&mut conn, &mut done)?;
                let renewed =
                    self.record(&mut conn, |conn| store::renew(conn, t.id, t.attempts, Utc::now() + self.lease))?;
                if !renewed {
                    log::warn!("treatment {} was taken over by another worker before it ran (lease expired)", t.id);
                    continue;
                }
            }
            let held: Vec<(i64, i32)> =
                done.iter().map(|d| (d.0, d.1)).chain(std::iter::once((t.id, t.attempts))).collect();
            let started = Instant::now();
            let outcome = self.execute_leased(&mut conn, &job, &held);
            let result = match &outcome {
                Ok(_) => "done",
                Err(f) if f.is_permanent() || t.attempts >= self.max_attempts => "dead",
                Err(_) => "retry",
            };
            crate::metrics::treatment(t.kind.as_str(), result, started.elapsed());
            if let Err(failure) = &outcome {
                log::warn!("treatment {} ({}) attempt {} failed: {}", t.id, t.kind, t.attempts, failure.error());
            }
            match outcome {
                Ok(output) if claimed_at.elapsed() < young => done.push((t.id, t.attempts, output)),
                outcome => {
                    self.flush(&mut conn, &mut done)?;
                    // The treatment has run: its result must be recorded even if the database connection
                    // died meanwhile (a restart), or the lease would expire and the treatment run again.
                    let recorded = self.record(&mut conn, |conn| match &outcome {
                        Ok(output) => store::complete(conn, t.id, t.attempts, output),
                        Err(failure) => store::fail(conn, t.id, t.attempts, failure, self.max_attempts),
                    })?;
                    if recorded {
                        let _ = notify::send(&mut conn, Signal::Treatment(t.id));
                    } else {
                        log::warn!("treatment {} was taken over by another worker (lease expired)", t.id);
                    }
                }
            }
        }
        self.flush(&mut conn, &mut done)?;
        Ok(claimed.len())
    }

    /// Records the successes waiting in `done` with one statement and one notification.
    fn flush(&self, conn: &mut PooledConn, done: &mut Vec<(i64, i32, String)>) -> Result<(), DbError> {
        if done.is_empty() {
            return Ok(());
        }
        let recorded = self.record(conn, |conn| store::complete_many(conn, done))?;
        if recorded.len() < done.len() {
            log::warn!(
                "{} treatment(s) were taken over by another worker (lease expired) before their result was recorded",
                done.len() - recorded.len()
            );
        }
        let signals: Vec<Signal> = recorded.into_iter().map(Signal::Treatment).collect();
        let _ = notify::send_all(conn, &signals);
        done.clear();
        Ok(())
    }

    /// Executes `job` while a heartbeat on the worker's (otherwise idle) connection renews, every third
    /// of the lease, the leases of `held` (the job and the treatments run but not recorded yet); the
    /// heartbeat stops as soon as the execution returns.
    fn execute_leased(&self, conn: &mut PooledConn, job: &Job, held: &[(i64, i32)]) -> Result<String, Failure> {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = (self.lease / 3).to_std().unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(20));
        std::thread::scope(|scope| {
            let heartbeat = scope.spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => match store::renew_many(conn, held, Utc::now() + self.lease) {
                        Ok(n) if n == held.len() => {}
                        Ok(_) => {
                            log::warn!("treatment {}: lease lost while running (taken over)", job.id);
                            return;
                        }
                        Err(e) => log::warn!("treatment {}: renewing its lease failed: {e}", job.id),
                    },
                    _ => return,
                }
            });
            let outcome = self.executor.execute(job);
            drop(stop);
            let _ = heartbeat.join();
            outcome
        })
    }

    /// Runs a (fenced, idempotent) write; after a connection failure, runs it again on a good connection
    /// — the pool waits for the database to come back — up to a few times.
    fn record<T>(
        &self,
        conn: &mut PooledConn,
        write: impl Fn(&mut PgConnection) -> QueryResult<T>,
    ) -> Result<T, DbError> {
        let mut tries = 0;
        loop {
            match write(conn) {
                Ok(recorded) => return Ok(recorded),
                Err(e) if db::is_connection_failure(&e) && tries < 3 => {
                    tries += 1;
                    conn.mark_broken();
                    log::warn!("recording a treatment's result: connection lost ({e}); retrying");
                    *conn = self.pool.get()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs batches until nothing is due. Blocking.
    pub fn drain(&self) -> Result<usize, DbError> {
        let mut total = 0;
        loop {
            match self.run_batch()? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }
}

/// Starts `concurrency` worker loops and the expiry sweep on the current actix runtime. The returned
/// handles finish once the worker's shutdown is triggered and the loops have handed back their claims.
pub fn spawn(
    worker: Worker,
    bus: Bus,
    concurrency: usize,
    poll: Duration,
    sweep_every: Duration,
    sweeps: sweep::Settings,
) -> Vec<actix_web::rt::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    for n in 0..concurrency {
        let worker = worker.clone();
        let wake = bus.worker_wake();
        handles.push(actix_web::rt::spawn(async move {
            while !worker.shutdown.is_triggered() {
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let w = worker.clone();
                match actix_web::rt::task::spawn_blocking(move || w.drain()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => log::error!("worker {n}: {e}"),
                    Err(e) => log::error!("worker {n} panicked: {e}"),
                }
                tokio::select! {
                    _ = &mut notified => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = worker.shutdown.wait() => {}
                }
            }
        }));
    }
    if concurrency > 0 {
        let pool = worker.pool.clone();
        let shutdown = worker.shutdown.clone();
        actix_web::rt::spawn(async move {
            while !shutdown.is_triggered() {
                let p = pool.clone();
                let swept = actix_web::rt::task::spawn_blocking(move || -> Result<_, DbError> {
                    let mut conn = p.get()?;
                    Ok(sweep::run(&mut conn, Utc::now(), &sweeps)?)
                })
                .await;
                match swept {
                    Ok(Ok((expired, reminded, timed_out))) if expired + reminded + timed_out > 0 => log::info!(
                        "sweep: expired {expired} enrollment(s), queued {reminded} reminder(s) and {timed_out} payment timeout(s)"
                    ),
                    Ok(Err(e)) => log::error!("expiry sweep: {e}"),
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(sweep_every) => {}
                    _ = shutdown.wait() => {}
                }
            }
        });
    }
    handles
}
