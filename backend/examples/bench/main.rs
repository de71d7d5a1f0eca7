//! Portaria benchmarks. Prints markdown on standard output (progress goes to standard error):
//!
//! 1. Customer search on `BENCH_CUSTOMERS` seeded customers: latency of `staff::queries::customers::search()`
//!    per term, and the EXPLAIN (ANALYZE, BUFFERS) of the exact SQL it sends (captured through diesel's
//!    instrumentation, bound values inlined as literals).
//! 2. Webhook ingestion end to end over HTTP: the real app (`app::configure`) served in this process on
//!    127.0.0.1, fed by blocking client threads (one keep-alive connection each); then a duplicate storm.
//! 3. The outbox worker draining pending treatments from 1, 2 and 4 threads with a no-op executor.
//! 4. CSV export of 100,000 and 1,000,000 treatments over HTTP, with the server's peak RSS (`csv.rs`).
//!
//! Between 1 and 2, start-to-ready (`startup.rs`): the release `portaria serve` started five times, timed
//! to its first `200` from `/readyz`, with its own RSS at rest.
//!
//! Run it with `make bench` (scripts/bench.sh creates the `portaria_bench` database and writes the output
//! into docs/PERFORMANCE.md). Everything is sent to 127.0.0.1; every loop is bounded in count and in time.
//! Environment: BENCH_DATABASE_URL (required), BENCH_CUSTOMERS (1000000), BENCH_WEBHOOKS (20000),
//! BENCH_CONCURRENCY (16), BENCH_SEARCH_RUNS (200), BENCH_SEARCH_TERM_SECONDS (20), BENCH_TREATMENTS (20000),
//! BENCH_PHASE_SECONDS (300), BENCH_PHASES (search,startup,ingest,worker,csv), BENCH_PORTARIA_BIN
//! (target/release/portaria).
//!
//! The database must be a dedicated one (its name must contain "bench"): customers are seeded into it
//! once and kept; what earlier runs' ingest and worker phases left is truncated at the start of a run.

mod ceiling;
mod client;
mod csv;
mod ingest;
mod machine;
mod search;
mod sql;
mod startup;
mod stats;
mod worker;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use std::fmt::Write as _;

/// The allocator of the `portaria` binary (src/main.rs), so that the app served here allocates as it does there.
#[global_allocator]
static ALLOCATOR: portaria::allocator::Allocator = portaria::allocator::Allocator;

pub(crate) type R<T> = Result<T, String>;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub(crate) struct Options {
    pub(crate) url: String,
    pub(crate) customers: i64,
    pub(crate) webhooks: usize,
    pub(crate) concurrency: usize,
    /// Extra alternated pairs (ceiling, then HTTP) for the ratio's median (`BENCH_RATIO_ROUNDS`).
    pub(crate) ratio_rounds: usize,
    pub(crate) search_runs: usize,
    pub(crate) search_term_seconds: u64,
    pub(crate) treatments: i64,
    pub(crate) phase_seconds: u64,
}

pub(crate) fn num<T: std::str::FromStr>(key: &str, default: T) -> R<T> {
    match std::env::var(key) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| format!("{key} is not a number: {v:?}")),
        _ => Ok(default),
    }
}

impl Options {
    fn from_env() -> R<Options> {
        let url = std::env::var("BENCH_DATABASE_URL")
            .map_err(|_| "BENCH_DATABASE_URL is not set: run `make bench` (scripts/bench.sh) or set it".to_string())?;
        let o = Options {
            url,
            customers: num("BENCH_CUSTOMERS", 1_000_000)?,
            webhooks: num("BENCH_WEBHOOKS", 20_000)?,
            concurrency: num("BENCH_CONCURRENCY", 16)?,
            ratio_rounds: num("BENCH_RATIO_ROUNDS", 4)?,
            search_runs: num("BENCH_SEARCH_RUNS", 200)?,
            search_term_seconds: num("BENCH_SEARCH_TERM_SECONDS", 20)?,
            treatments: num("BENCH_TREATMENTS", 20_000)?,
            phase_seconds: num("BENCH_PHASE_SECONDS", 300)?,
        };
        if !(1..=50_000_000).contains(&o.customers)
            || !(1..=1_000_000).contains(&o.webhooks)
            || !(1..=256).contains(&o.concurrency)
            || o.ratio_rounds > 20
            || !(1..=10_000).contains(&o.search_runs)
            || !(1..=1_000_000).contains(&o.treatments)
        {
            return Err("a BENCH_* value is out of range (customers 1..50M, webhooks 1..1M, concurrency 1..256, \
                        ratio rounds 0..20, search runs 1..10000, treatments 1..1M)"
                .into());
        }
        Ok(o)
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

pub(crate) fn progress(msg: &str) {
    eprintln!("bench: {msg}");
}

/// Lines of `out` are markdown; `summary` collects one row per target.
pub(crate) struct Report {
    pub(crate) out: String,
    pub(crate) summary: Vec<[String; 4]>,
    /// Something was lost or failed (never a time): the run exits non-zero.
    pub(crate) failed: bool,
}

impl Report {
    pub(crate) fn target(&mut self, what: &str, target: &str, measured: String, met: bool) {
        let verdict = if met { "yes" } else { "**no**" };
        self.summary.push([what.into(), target.into(), measured, verdict.into()]);
    }
}

fn run() -> R<()> {
    let o = Options::from_env()?;
    // Log lines are formatted as `make run` does (info), into a sink: their cost counts, not the terminal's.
    env_logger::Builder::new().parse_filters("info").target(env_logger::Target::Pipe(Box::new(std::io::sink()))).init();
    let mut conn = connect(&o.url)?;
    let database = sql::text(&mut conn, "SELECT current_database()::text AS t")?;
    if !database.contains("bench") {
        return Err(format!(
            "refusing to seed and truncate the database {database:?}: point BENCH_DATABASE_URL at a dedicated \
             database whose name contains \"bench\" (make bench uses portaria_bench)"
        ));
    }
    portaria::db::migrate(&mut conn).map_err(|e| e.to_string())?;
    let mut r = Report { out: String::new(), summary: vec![], failed: false };
    let machine = machine::machine(&mut conn, &o)?;
    clean_previous_runs(&mut conn)?;
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "search,startup,ingest,worker,csv".into());
    if phases.contains("search") {
        search::search_bench(&mut conn, &o, &mut r)?;
    }
    if phases.contains("startup") {
        startup::startup_bench(&o, &mut r)?;
    }
    if phases.contains("ingest") {
        ingest::ingest_bench(&mut conn, &o, &mut r)?;
    }
    if phases.contains("worker") {
        worker::worker_bench(&mut conn, &o, &mut r)?;
    }
    if phases.contains("csv") {
        csv::csv_bench(&mut conn, &o, &mut r)?;
    }

    let mut head = machine;
    writeln!(head, "### Against the targets\n").map_err(err)?;
    writeln!(head, "| what | target | measured | met |\n|---|---|---|---|").map_err(err)?;
    for [a, b, c, d] in &r.summary {
        writeln!(head, "| {a} | {b} | {c} | {d} |").map_err(err)?;
    }
    println!("{head}\n{}", r.out.trim_end());
    if r.failed {
        return Err("something was lost or failed (see the figures above)".into());
    }
    Ok(())
}

/// Removes what earlier runs' webhook and worker phases left in the bench database (their customers are
/// named `bench-...@exemplo.com.br`), so that every run searches the same seeded customers.
fn clean_previous_runs(conn: &mut PgConnection) -> R<()> {
    conn.batch_execute("TRUNCATE treatments, enrollments, webhook_events, orders, audit_log").map_err(err)?;
    let gone = sql_query("DELETE FROM customers WHERE email LIKE 'bench-%'").execute(conn).map_err(err)?;
    if gone > 0 {
        progress(&format!("removed {gone} customers left by an earlier run's webhook phase"));
        conn.batch_execute("VACUUM (ANALYZE) customers").map_err(err)?;
    }
    Ok(())
}

pub(crate) fn connect(url: &str) -> R<PgConnection> {
    PgConnection::establish(url).map_err(|e| format!("cannot connect to {}: {e}", portaria::config::redact_url(url)))
}
