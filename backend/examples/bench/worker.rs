//! 3. The outbox worker draining pending treatments from 1, 2 and 4 threads with a no-op executor.

use crate::sql::scalar;
use crate::{err, progress, Options, Report, R};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::BigInt;
use portaria::db::Pool;
use portaria::treatments::executor::{describe, Executor, Job};
use portaria::treatments::worker::Worker;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORKER_TARGET_TPS: f64 = 5000.0;
/// `WORKER_BATCH`'s default.
const BATCH: i64 = 20;

/// Succeeds with the line the default executor would print, without printing it.
pub(crate) struct Quiet;

impl Executor for Quiet {
    fn execute(&self, job: &Job) -> Result<String, portaria::channels::Failure> {
        Ok(describe(job))
    }
}

pub(crate) fn drain(pool: &Pool, threads: usize, batch: i64) -> R<(usize, Duration)> {
    let worker = Worker {
        pool: pool.clone(),
        executor: Arc::new(Quiet),
        max_attempts: 8,
        lease: chrono::Duration::seconds(60),
        batch,
        shutdown: Default::default(),
    };
    let t0 = Instant::now();
    let results: Vec<R<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(|| worker.drain().map_err(|e| e.to_string()))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a worker thread panicked".into()))).collect()
    });
    let elapsed = t0.elapsed();
    let mut total = 0;
    for r in results {
        total += r?;
    }
    Ok((total, elapsed))
}

pub(crate) fn pending(conn: &mut PgConnection) -> R<i64> {
    scalar(conn, "SELECT count(*) AS n FROM treatments WHERE status = 'pending' AND run_at <= now()")
}

pub(crate) fn worker_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let pool = portaria::db::connect(&o.url, 8).map_err(|e| e.to_string())?;
    let mut rows = vec![];
    let left = pending(conn)?;
    if left > 0 {
        progress(&format!("draining the {left} treatments left by the webhook phase (4 threads) ..."));
        let (n, d) = drain(&pool, 4, BATCH)?;
        rows.push((format!("the {left} treatments created by the webhook phase"), 4, BATCH, n, d));
    }
    for (threads, batch) in [(1usize, BATCH), (2, BATCH), (4, BATCH), (1, 100), (4, 100)] {
        progress(&format!("{} treatments, {threads} worker thread(s), claims of {batch} ...", o.treatments));
        sql_query(
            "WITH c AS (SELECT id, email, name, row_number() OVER (ORDER BY id) - 1 AS k \
                        FROM (SELECT id, email, name FROM customers ORDER BY id LIMIT 1000) s), \
                  m AS (SELECT count(*) AS n FROM c) \
             INSERT INTO treatments (kind, reason, payload, customer_id) \
             SELECT CASE WHEN g % 2 = 0 THEN 'grant_access' ELSE 'welcome_message' END, 'payment_approved', \
                    jsonb_build_object('email', c.email, 'name', c.name, 'course', 'Curso principal'), c.id \
             FROM generate_series(1, $1) AS g, m, c WHERE c.k = g % m.n",
        )
        .bind::<BigInt, _>(o.treatments)
        .execute(conn)
        .map_err(err)?;
        // The steady state: the treatments already done are vacuumed away, as autovacuum keeps the
        // table (migration 000100 lowers its thresholds for `treatments`).
        conn.batch_execute("VACUUM (ANALYZE) treatments").map_err(err)?;
        let (n, d) = drain(&pool, threads, batch)?;
        rows.push((format!("{} inserted pending treatments", o.treatments), threads, batch, n, d));
    }
    let still = pending(conn)?;
    let out = &mut r.out;
    writeln!(out, "### 3. Outbox worker\n").map_err(err)?;
    writeln!(
        out,
        "`treatments::worker::Worker::drain()` (claims of `WORKER_BATCH` treatments — 20 by default, also 100 below — with `FOR UPDATE SKIP LOCKED`; the \
         successes of a batch recorded with one `UPDATE ... FROM unnest(...)` and one `NOTIFY`) from N threads \
         sharing a pool of 8, with a no-op executor that returns the console executor's line (`describe(job)`) \
         without printing it. Treatments are inserted as `pending` with one `INSERT ... SELECT` before each \
         run, and `treatments` is vacuumed first (`VACUUM (ANALYZE)`): the steady state, which autovacuum keeps \
         with the thresholds migration 000100 sets for `treatments` (after 1 % of the table instead of 20 %).\n"
    )
    .map_err(err)?;
    writeln!(out, "| treatments | threads | claim | done | time | treatments/s |\n|---|---:|---:|---:|---:|---:|")
        .map_err(err)?;
    let mut best: f64 = 0.0;
    let mut one_thread: f64 = 0.0;
    for (label, threads, batch, n, d) in &rows {
        let tps = *n as f64 / d.as_secs_f64().max(1e-9);
        writeln!(out, "| {label} | {threads} | {batch} | {n} | {:.1} s | **{tps:.0}** |", d.as_secs_f64())
            .map_err(err)?;
        if label.contains("inserted") {
            best = best.max(tps);
            if *threads == 1 && *batch == BATCH {
                one_thread = tps;
            }
        }
    }
    writeln!(out, "\n{still} due treatment(s) left pending afterwards.\n").map_err(err)?;
    r.target(
        "outbox worker",
        &format!("≥ {WORKER_TARGET_TPS:.0} treatments/s"),
        format!("{one_thread:.0}/s with 1 thread, {best:.0}/s best"),
        best >= WORKER_TARGET_TPS,
    );
    Ok(())
}
