//! 2. Webhook ingestion end to end over HTTP: the real app served in this process, fed by `client::load`.

use crate::ceiling::{ceiling, Ceiling};
use crate::client::{load, Load};
use crate::machine::{cpu_now, cpu_share, proc_status_kb};
use crate::sql::scalar;
use crate::stats::{ms, ms_f, stats};
use crate::{err, progress, Options, Report, R};
use actix_web::{middleware, App, HttpServer};
use diesel::prelude::*;
use portaria::config::Config;
use portaria::state::AppState;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

/// Issue 13: HTTP ingest at 16 senders at least 4 × the one-transaction ceiling, p99 ≤ 50 ms.
const CEILING_FACTOR_TARGET: f64 = 4.0;
const P99_TARGET_MS: f64 = 50.0;
const RSS_TARGET_MB: f64 = 100.0;
const SENDERS: [usize; 3] = [1, 16, 64];

const WEBHOOK_PATH: &str = "/webhooks/hashtag?token=test-hashtag-token";

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) handle: actix_web::dev::ServerHandle,
    pub(crate) thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// The real app (same middleware as `portaria serve`, no worker, no LISTEN thread) on 127.0.0.1:0 with
/// `config`. The pool is the server's (`db::connect`).
pub(crate) fn start_server_with(config: Config) -> R<Server> {
    let pool_size = config.database_pool_size;
    let pool = portaria::db::connect(&config.database_url, pool_size).map_err(|e| e.to_string())?;
    let state = AppState::new(config, pool);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(
                        middleware::Logger::new(r#"%a "%{method}xi %U" %s %b %Dms"#)
                            .custom_request_replace("method", |req| req.method().to_string())
                            .exclude("/healthz"),
                    )
                    .wrap(portaria::app::cors(&[]))
                    .configure(portaria::app::configure(state.clone()))
            })
            .bind(("127.0.0.1", 0))?;
            let addr = server.addrs()[0];
            let running = server.run();
            let _ = tx.send((addr, running.handle()));
            running.await
        })
    });
    let (addr, handle) = rx.recv_timeout(Duration::from_secs(30)).map_err(|_| "the in-process server did not start")?;
    Ok(Server { addr, handle, thread })
}

pub(crate) fn stop_server(server: Server) {
    actix_web::rt::System::new().block_on(server.handle.stop(true));
    let _ = server.thread.join();
}

/// The simulator's payload; distinct e-mails give distinct customers, orders and dedup keys.
pub(crate) fn simulator_body(run: &str, tag: &str, i: usize) -> String {
    let (method, installments) = match i % 3 {
        0 => ("pix", 1),
        1 => ("cartao_credito", 1 + i % 12),
        _ => ("boleto", 1),
    };
    let names = ["João da Silva", "Maria Conceição", "José Araújo", "Ana Lúcia Gonçalves", "Luís Estêvão"];
    serde_json::json!({
        "nome": format!("{} {i}", names[i % names.len()]),
        "email": format!("bench-{run}-{tag}-{i}@exemplo.com.br"),
        "status": "aprovado",
        "valor": 97.0 + (i % 5) as f64 * 50.0,
        "forma_pagamento": method,
        "parcelas": installments,
    })
    .to_string()
}

/// One alternated measurement of the ratio: a ceiling, then HTTP at the main run's senders.
struct Pair {
    ceiling: Ceiling,
    http: Load,
}

impl Pair {
    fn ratio(&self) -> f64 {
        self.http.rps() / self.ceiling.per_second().max(1e-9)
    }
}

/// The middle value (the mean of the two middle ones for an even count); `None` when empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// One HTTP load: its label, senders and what it measured.
struct Run {
    label: String,
    senders: usize,
    load: Load,
}

pub(crate) fn ingest_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let run = format!(
        "{}{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        std::process::id() % 1000
    );
    let limit = Duration::from_secs(o.phase_seconds);
    // The group commit as `portaria serve` reads it: INGEST_WRITERS, INGEST_BATCH_SIZE and
    // INGEST_BATCH_WAIT_US from the environment, else their defaults.
    let defaults = Config::for_tests(&o.url);
    let config = Config {
        ingest_writers: crate::num("INGEST_WRITERS", defaults.ingest_writers)?,
        ingest_batch_size: crate::num("INGEST_BATCH_SIZE", defaults.ingest_batch_size)?,
        ingest_batch_wait: Duration::from_micros(crate::num(
            "INGEST_BATCH_WAIT_US",
            defaults.ingest_batch_wait.as_micros() as u64,
        )?),
        ..defaults
    };
    let pool_size = config.database_pool_size;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let events_before = scalar(conn, "SELECT count(*) AS n FROM webhook_events")?;

    progress(&format!("one-transaction ceiling: {} webhooks from {} connections ...", o.webhooks, o.concurrency));
    let ceil = ceiling(&o.url, &run, "ceil", o.webhooks, o.concurrency, limit)?;

    // Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_start = proc_status_kb("VmRSS:").unwrap_or(0.0);
    let server = start_server_with(config.clone())?;
    progress(&format!("server on {}; warm-up ...", server.addr));
    let warm = load(server.addr, WEBHOOK_PATH, 200.min(o.webhooks), o.concurrency, limit, &|i| {
        simulator_body(&run, "warm", i)
    });
    let rss_rest = proc_status_kb("VmRSS:").unwrap_or(0.0);
    let mut runs: Vec<Run> = vec![];
    let mut cpu_main = String::new();
    for senders in SENDERS {
        let total = if senders == 1 { (o.webhooks / 5).max(200) } else { o.webhooks };
        progress(&format!("group commit: {total} webhooks from {senders} sender(s) ..."));
        let tag = format!("s{senders}");
        let cpu_before = cpu_now();
        let l = load(server.addr, WEBHOOK_PATH, total, senders, limit, &|i| simulator_body(&run, &tag, i));
        if senders == o.concurrency {
            cpu_main = cpu_share(cpu_before, cpu_now(), l.client_cpu);
        }
        runs.push(Run { label: format!("group commit, {senders} sender(s)"), senders, load: l });
    }

    // The ratio again, in alternated pairs: a shorter ceiling, then the same HTTP load as the main run.
    // On a shared machine one run of either moves by a fifth from one minute to the next (the ceiling,
    // bound by its commits' flushes, more than the group commit); the target reads the median ratio
    // of the main pair and these.
    let mut pairs: Vec<Pair> = vec![];
    for round in 1..=o.ratio_rounds {
        let (n_ceiling, n_http) = ((o.webhooks / 4).max(100), (o.webhooks / 2).max(200));
        progress(&format!("ratio pair {round} of {}: ceiling {n_ceiling}, HTTP {n_http} ...", o.ratio_rounds));
        let c = ceiling(&o.url, &run, &format!("ceil{round}"), n_ceiling, o.concurrency, limit)?;
        let tag = format!("r{round}");
        let l = load(server.addr, WEBHOOK_PATH, n_http, o.concurrency, limit, &|i| simulator_body(&run, &tag, i));
        pairs.push(Pair { ceiling: c, http: l });
    }
    let hwm_load = proc_status_kb("VmHWM:").unwrap_or(0.0);

    progress("duplicate storm ...");
    let dup_body = simulator_body(&run, "dup", 0);
    let storm = load(server.addr, WEBHOOK_PATH, 1000, o.concurrency, limit, &|_| dup_body.clone());
    let batches = portaria::metrics::Metrics::get().render();
    stop_server(server);

    // The same HTTP path without the group commit (INGEST_WRITERS=0: one transaction per webhook).
    let single_n = (o.webhooks / 4).max(200);
    progress(&format!("one transaction per webhook over HTTP: {single_n} webhooks from {} senders ...", o.concurrency));
    let server = start_server_with(Config { ingest_writers: 0, ..config.clone() })?;
    let single =
        load(server.addr, WEBHOOK_PATH, single_n, o.concurrency, limit, &|i| simulator_body(&run, "single", i));
    stop_server(server);

    // Lost: a 200 answer whose event is not in the database.
    let mut answered: Vec<i64> = runs.iter().flat_map(|r| r.load.event_ids.iter().copied()).collect();
    answered.extend(warm.event_ids.iter().copied());
    answered.extend(storm.event_ids.iter().copied());
    answered.extend(single.event_ids.iter().copied());
    answered.extend(pairs.iter().flat_map(|p| p.http.event_ids.iter().copied()));
    let found = diesel::sql_query("SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1)")
        .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&answered)
        .get_result::<crate::sql::Num>(conn)
        .map_err(err)?
        .n;
    let ok_answers: usize = runs.iter().map(|r| r.load.ok()).sum::<usize>()
        + warm.ok()
        + storm.ok()
        + single.ok()
        + pairs.iter().map(|p| p.http.ok()).sum::<usize>();
    let lost = ok_answers as i64 - found;

    let dedup_key = hex::encode(Sha256::digest(dup_body.as_bytes()));
    let mut stored = |outcome: &str| {
        scalar(
            conn,
            &format!(
                "SELECT count(*) AS n FROM webhook_events WHERE source = 'hashtag' AND dedup_key = '{dedup_key}' \
                 AND outcome = '{outcome}'"
            ),
        )
    };
    let (db_processed, db_duplicates) = (stored("processed")?, stored("duplicate")?);
    let events_after = scalar(conn, "SELECT count(*) AS n FROM webhook_events")?;

    let out = &mut r.out;
    writeln!(out, "### 2. Webhook ingestion\n").map_err(err)?;
    writeln!(
        out,
        "**The one-transaction ceiling** first: {} threads, each on its own connection, call \
         `ingest::process::ingest` — exactly the statements of the one-by-one path, one transaction per \
         webhook, prepared (diesel's statement cache) — without HTTP and without a pool. Then **over HTTP**: the \
         real app (`app::configure`, log lines formatted at info into a sink) served in this process on \
         127.0.0.1 by actix-web with {workers} workers and a pool of {pool_size} connections, with the group \
         commit as configured (`INGEST_WRITERS`={}, `INGEST_BATCH_SIZE`={}, `INGEST_BATCH_WAIT_US`={}); \
         clients are threads of this process, each with one HTTP/1.1 keep-alive connection, sending `POST \
         {WEBHOOK_PATH}` with a simulator body (`status: aprovado`), a distinct e-mail per request: each one is \
         a new customer, order, enrollment and 2 treatments. Last, the same HTTP load with `INGEST_WRITERS=0` \
         (one transaction per webhook). {} warm-up requests are not counted ({} non-200). Everything shares the \
         {workers} CPUs with PostgreSQL.\n",
        o.concurrency,
        config.ingest_writers,
        config.ingest_batch_size,
        config.ingest_batch_wait.as_micros(),
        warm.sent(),
        warm.non_200()
    )
    .map_err(err)?;
    writeln!(
        out,
        "| run | requests | time | req/s | × ceiling | p50 ms | p95 ms | p99 ms | max ms | non-200 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    .map_err(err)?;
    let c = stats(ceil.latencies.clone());
    let ceiling_rps = ceil.per_second();
    writeln!(
        out,
        "| one-transaction ceiling, {} connections (no HTTP) | {} | {:.1} s | **{:.0}** | 1.00 | {} | {} | {} | {} | {} errors |",
        o.concurrency,
        ceil.done + ceil.errors,
        ceil.elapsed.as_secs_f64(),
        ceiling_rps,
        ms(c.p50),
        ms(c.p95),
        ms(c.p99),
        ms(c.max),
        ceil.errors
    )
    .map_err(err)?;
    let row = |out: &mut String, label: &str, l: &Load| -> R<()> {
        let s = stats(l.latencies.clone());
        writeln!(
            out,
            "| {label} | {} | {:.1} s | **{:.0}** | {:.2} | {} | {} | {} | {} | {} |",
            l.sent(),
            l.elapsed.as_secs_f64(),
            l.rps(),
            l.rps() / ceiling_rps.max(1e-9),
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max),
            l.describe_errors()
        )
        .map_err(err)
    };
    for run in &runs {
        row(out, &run.label, &run.load)?;
    }
    row(out, &format!("one transaction per webhook (`INGEST_WRITERS=0`), {} senders", o.concurrency), &single)?;
    row(out, &format!("duplicate storm: one body 1000 times, {} senders", o.concurrency), &storm)?;
    writeln!(out).map_err(err)?;
    let main = runs.iter().find(|r| r.senders == o.concurrency).or(runs.get(1)).ok_or("no HTTP run")?;
    let main_ratio = main.load.rps() / ceiling_rps.max(1e-9);
    let ratios: Vec<f64> = std::iter::once(main_ratio).chain(pairs.iter().map(Pair::ratio)).collect();
    let factor = median(ratios.clone()).unwrap_or(main_ratio);
    if !pairs.is_empty() {
        writeln!(
            out,
            "**The ratio in alternated pairs**: after the runs above, {} more pairs of a ceiling ({} webhooks) \
             then the same HTTP load as the main run ({} webhooks, {} senders), one after the other; the \
             target reads the median ratio of the main pair and these ({:.2} ×).\n\n\
             | pair | ceiling req/s | HTTP req/s | × ceiling | HTTP p99 ms | non-200 |\n|---|---:|---:|---:|---:|---|",
            pairs.len(),
            (o.webhooks / 4).max(100),
            (o.webhooks / 2).max(200),
            o.concurrency,
            factor
        )
        .map_err(err)?;
        writeln!(
            out,
            "| main runs above | {ceiling_rps:.0} | {:.0} | {main_ratio:.2} | {} | {} |",
            main.load.rps(),
            ms(stats(main.load.latencies.clone()).p99),
            main.load.describe_errors()
        )
        .map_err(err)?;
        for (i, p) in pairs.iter().enumerate() {
            writeln!(
                out,
                "| {} | {:.0} | {:.0} | {:.2} | {} | {} |",
                i + 1,
                p.ceiling.per_second(),
                p.http.rps(),
                p.ratio(),
                ms(stats(p.http.latencies.clone()).p99),
                p.http.describe_errors()
            )
            .map_err(err)?;
        }
        writeln!(out).map_err(err)?;
    }
    let batch_line = batch_sizes(&batches);
    writeln!(out, "Webhooks per group-commit transaction (`portaria_ingest_batch_webhooks`): {batch_line}.\n")
        .map_err(err)?;
    writeln!(
        out,
        "**Lost: {lost}** — {ok_answers} answers were 200 and {found} of their events are in the database. \
         {} `webhook_events` rows were added by this phase (every request leaves exactly one; the ceiling's \
         webhooks included).\n",
        events_after - events_before
    )
    .map_err(err)?;
    let outcomes = |l: &Load| l.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
    let storm_ok = storm.outcomes.get("processed") == Some(&1) && db_processed == 1 && storm.non_200() == 0;
    writeln!(
        out,
        "Duplicate storm: answers {}; in the database {db_processed} processed and {db_duplicates} duplicate \
         event(s) for that dedup key — {}.\n",
        outcomes(&storm),
        if storm_ok { "exactly one was processed" } else { "**NOT exactly one processed**" }
    )
    .map_err(err)?;
    writeln!(out, "CPU during the {}-sender run (from /proc): {cpu_main}.\n", o.concurrency).map_err(err)?;
    let hwm_note = if reset { "peak since the reset before the server started" } else { "peak of the process" };
    writeln!(
        out,
        "Memory (`/proc/self/status` of this process, which holds the server **and** the client threads): VmRSS \
         {:.1} MB before the server started, {:.1} MB at rest after the warm-up, VmHWM {:.1} MB after the loads \
         ({hwm_note}).\n",
        rss_start / 1024.0,
        rss_rest / 1024.0,
        hwm_load / 1024.0
    )
    .map_err(err)?;

    let p99 = ms_f(stats(main.load.latencies.clone()).p99);
    let spread = if ratios.len() > 1 {
        let (lo, hi) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("; median of {} alternated pairs, {lo:.2}–{hi:.2} ×", ratios.len())
    } else {
        String::new()
    };
    r.target(
        "webhook ingest throughput",
        &format!("≥ {CEILING_FACTOR_TARGET:.0} × the one-transaction ceiling at {} senders", main.senders),
        format!("{factor:.2} × (main run {:.0} req/s = {main_ratio:.2} × {ceiling_rps:.0}{spread})", main.load.rps()),
        factor >= CEILING_FACTOR_TARGET,
    );
    r.target(
        "webhook ingest latency",
        &format!("p99 ≤ {P99_TARGET_MS:.0} ms at {} senders", main.senders),
        format!("p99 {p99:.1} ms"),
        p99 <= P99_TARGET_MS,
    );
    let non_200: usize =
        runs.iter().map(|r| r.load.non_200()).sum::<usize>() + pairs.iter().map(|p| p.http.non_200()).sum::<usize>();
    let sent: usize =
        runs.iter().map(|r| r.load.sent()).sum::<usize>() + pairs.iter().map(|p| p.http.sent()).sum::<usize>();
    let ceiling_errors = ceil.errors + pairs.iter().map(|p| p.ceiling.errors).sum::<usize>();
    r.target("webhook errors", "0 non-200", format!("{non_200} of {sent}"), non_200 == 0);
    r.target("webhooks lost", "0 (every 200 is in the database)", format!("{lost}"), lost == 0);
    r.target(
        "server memory under load",
        &format!("< {RSS_TARGET_MB:.0} MB RSS"),
        format!("VmHWM {:.1} MB (server + client)", hwm_load / 1024.0),
        hwm_load / 1024.0 < RSS_TARGET_MB,
    );
    r.target("duplicate storm", "exactly 1 processed of 1000", format!("{db_processed} processed"), storm_ok);
    r.failed |= lost != 0 || !storm_ok || non_200 > 0 || ceiling_errors > 0;
    Ok(())
}

/// "n batches, mean m webhooks" from the rendered metrics (the histogram's sum and count).
fn batch_sizes(rendered: &str) -> String {
    let value = |name: &str| {
        rendered
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (value("portaria_ingest_batch_webhooks_sum"), value("portaria_ingest_batch_webhooks_count")) {
        (Some(sum), Some(count)) if count > 0.0 => {
            format!("{count:.0} transactions for {sum:.0} webhooks, {:.1} per transaction on average", sum / count)
        }
        _ => "not available".into(),
    }
}
