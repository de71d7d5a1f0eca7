//! 2. Webhook ingestion end to end over HTTP: the real app served in this process, fed by `client::load`.

use crate::client::{load, Load};
use crate::machine::{cpu_now, cpu_share, proc_status_kb};
use crate::sql::scalar;
use crate::stats::{ms, stats};
use crate::{err, progress, Options, Report, R};
use actix_web::{middleware, App, HttpServer};
use diesel::prelude::*;
use portaria::config::Config;
use portaria::state::AppState;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

const INGEST_TARGET_RPS: f64 = 1000.0;
const RSS_TARGET_MB: f64 = 100.0;

const WEBHOOK_PATH: &str = "/webhooks/hashtag?token=test-hashtag-token";

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) handle: actix_web::dev::ServerHandle,
    pub(crate) thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// The real app (same middleware as `portaria serve`, no worker, no LISTEN thread) on 127.0.0.1:0.
/// The pool is the server's (`db::connect`).
pub(crate) fn start_server(url: &str, pool_size: u32) -> R<Server> {
    let mut config = Config::for_tests(url);
    config.database_pool_size = pool_size;
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

pub(crate) fn latency_row(out: &mut String, label: &str, l: &Load) -> R<()> {
    let s = stats(l.latencies.clone());
    writeln!(
        out,
        "| {label} | {} | {:.1} s | **{:.0}** | {} | {} | {} | {} | {} |",
        l.sent(),
        l.elapsed.as_secs_f64(),
        l.rps(),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
        l.describe_errors()
    )
    .map_err(err)
}

pub(crate) fn ingest_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let run = format!(
        "{}{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        std::process::id() % 1000
    );
    let limit = Duration::from_secs(o.phase_seconds);
    let pool_size = Config::for_tests(&o.url).database_pool_size;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let events_before = scalar(conn, "SELECT count(*) AS n FROM webhook_events")?;

    // Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_start = proc_status_kb("VmRSS:").unwrap_or(0.0);
    let server = start_server(&o.url, pool_size)?;
    progress(&format!("server on {}; warm-up ...", server.addr));
    let warm = load(server.addr, WEBHOOK_PATH, 200.min(o.webhooks), o.concurrency, limit, &|i| {
        simulator_body(&run, "warm", i)
    });
    progress(&format!("{} webhooks from {} client threads ...", o.webhooks, o.concurrency));
    let cpu_before = cpu_now();
    let main = load(server.addr, WEBHOOK_PATH, o.webhooks, o.concurrency, limit, &|i| simulator_body(&run, "main", i));
    let cpu_main = cpu_share(cpu_before, cpu_now());
    let hwm_main = proc_status_kb("VmHWM:").unwrap_or(0.0);
    let rss_main = proc_status_kb("VmRSS:").unwrap_or(0.0);

    progress("duplicate storm ...");
    let dup_body = simulator_body(&run, "dup", 0);
    let storm = load(server.addr, WEBHOOK_PATH, 1000, o.concurrency, limit, &|_| dup_body.clone());
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
    let dup_treatments = scalar(
        conn,
        &format!(
            "SELECT count(*) AS n FROM treatments t JOIN customers c ON c.id = t.customer_id \
             WHERE c.email = 'bench-{run}-dup-0@exemplo.com.br'"
        ),
    )?;

    let sweep_n = (o.webhooks / 10).clamp(200, 2000);
    let mut sweep = vec![];
    for threads in [1, 2, 4, 8, 16, 32] {
        progress(&format!("concurrency sweep: {threads} client threads ..."));
        let tag = format!("c{threads}");
        sweep.push((
            threads,
            load(server.addr, WEBHOOK_PATH, sweep_n, threads, limit, &|i| simulator_body(&run, &tag, i)),
        ));
    }
    stop_server(server);
    let mut pools = vec![];
    let setups = [(2u32, "2"), (4, "4"), (16, "16"), (pool_size, "10, as the app (`db::connect`)")];
    for (n, (size, label)) in setups.into_iter().enumerate() {
        progress(&format!("pool: {label} ..."));
        let server = start_server(&o.url, size)?;
        let tag = format!("p{n}");
        pools.push((
            label,
            load(server.addr, WEBHOOK_PATH, sweep_n, o.concurrency, limit, &|i| simulator_body(&run, &tag, i)),
        ));
        stop_server(server);
    }
    let events_after = scalar(conn, "SELECT count(*) AS n FROM webhook_events")?;

    let out = &mut r.out;
    writeln!(out, "### 2. Webhook ingestion over HTTP\n").map_err(err)?;
    writeln!(
        out,
        "The real app (`app::configure`, the same middleware as `portaria serve`, log lines formatted at info into \
         a sink) served in this process on 127.0.0.1 by actix-web with {workers} workers (the default: one per \
         CPU) and a pool of {pool_size} database connections (the default `DATABASE_POOL_SIZE`). Clients: \
         threads of this process, each running an awc client on one HTTP/1.1 keep-alive connection, sending \
         `POST {WEBHOOK_PATH}` with a simulator body (`nome`, `email`, `status: aprovado`, `valor`, \
         `forma_pagamento`, `parcelas`), a distinct e-mail per request: each one is a new customer, order, \
         enrollment, 2 treatments, in one transaction and one commit. {} warm-up requests are not counted \
         ({} non-200). Client and server share the 2 CPUs with PostgreSQL.\n",
        warm.sent(),
        warm.non_200()
    )
    .map_err(err)?;
    writeln!(
        out,
        "| run | requests | time | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    .map_err(err)?;
    latency_row(out, &format!("**{} distinct webhooks, {} client threads**", o.webhooks, o.concurrency), &main)?;
    latency_row(out, &format!("duplicate storm: one body 1000 times, {} threads", o.concurrency), &storm)?;
    writeln!(out).map_err(err)?;
    let outcomes = |l: &Load| l.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
    writeln!(out, "Outcomes of the main run: {}.", outcomes(&main)).map_err(err)?;
    let storm_ok = storm.outcomes.get("processed") == Some(&1) && db_processed == 1 && storm.non_200() == 0;
    writeln!(
        out,
        "Duplicate storm: answers {}; in the database {db_processed} processed and {db_duplicates} duplicate \
         event(s) for that dedup key, {dup_treatments} treatment(s) for that customer — {}.",
        outcomes(&storm),
        if storm_ok { "exactly one was processed" } else { "**NOT exactly one processed**" }
    )
    .map_err(err)?;
    writeln!(
        out,
        "{} `webhook_events` rows were added by this phase (every request leaves exactly one).\n",
        events_after - events_before
    )
    .map_err(err)?;
    writeln!(out, "CPU during the main run (from /proc): {cpu_main}.\n").map_err(err)?;
    let hwm_note = if reset { "peak since the reset at the start of this phase" } else { "peak of the process" };
    writeln!(
        out,
        "Memory (`/proc/self/status` of this process, which holds the server **and** the client threads; the \
         client's share is a few MB of stacks and latency vectors): VmRSS {:.1} MB before the server started, \
         VmHWM {:.1} MB after the main run ({hwm_note}), VmRSS {:.1} MB then.\n",
        rss_start / 1024.0,
        hwm_main / 1024.0,
        rss_main / 1024.0
    )
    .map_err(err)?;
    writeln!(out, "Throughput by number of client threads ({sweep_n} distinct webhooks each, pool {pool_size}):\n")
        .map_err(err)?;
    writeln!(
        out,
        "| client threads | requests | time | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    .map_err(err)?;
    for (threads, l) in &sweep {
        latency_row(out, &threads.to_string(), l)?;
    }
    writeln!(out, "\nThroughput by pool size ({sweep_n} distinct webhooks each, {} client threads):\n", o.concurrency)
        .map_err(err)?;
    writeln!(
        out,
        "| pool size | requests | time | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    .map_err(err)?;
    for (label, l) in &pools {
        latency_row(out, label, l)?;
    }
    writeln!(out).map_err(err)?;

    r.target(
        "webhook ingest throughput",
        &format!("≥ {INGEST_TARGET_RPS:.0} req/s on 2 cores"),
        format!("{:.0} req/s ({} threads)", main.rps(), o.concurrency),
        main.rps() >= INGEST_TARGET_RPS,
    );
    r.target(
        "webhook errors",
        "0 non-200",
        format!("{} of {}", main.non_200(), main.sent()),
        main.non_200() == 0 && main.ok() == o.webhooks,
    );
    r.target(
        "server memory at that load",
        &format!("< {RSS_TARGET_MB:.0} MB RSS"),
        format!("VmHWM {:.1} MB (server + client)", hwm_main / 1024.0),
        hwm_main / 1024.0 < RSS_TARGET_MB,
    );
    r.target("duplicate storm", "exactly 1 processed of 1000", format!("{db_processed} processed"), storm_ok);
    Ok(())
}
