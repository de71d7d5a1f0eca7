//! Load with faults, on loopback, bounded: the real `portaria serve` binary against a private
//! PostgreSQL cluster, driven by 64 concurrent clients that retry like a payment platform (any
//! non-2xx or connection error is retried). Scenarios: plain load, SIGKILL of the server mid-run,
//! PostgreSQL restarted mid-run, two replicas on one database. Afterwards the database is checked:
//! every 2xx answer is on record with its outcome, every distinct webhook was recorded once, every
//! treatment ran exactly once (counted on the server's standard output), no 500, and 503 only while
//! PostgreSQL was down.
//!
//! `make test` runs the short version (~2,000 webhooks per scenario); `make soak` sets
//! PORTARIA_SOAK=1 (20,000 webhooks, three faults per scenario) and rewrites the figures in
//! docs/RELIABILITY.md. PORTARIA_SOAK_WEBHOOKS=N overrides the size.

mod common;

use common::cluster::PrivateCluster;
use common::payloads::{order_event, Step};
use common::server::{Server, Stdout};
use common::{generic_headers, kiwify_signature, HASHTAG_TOKEN, HOTTOK};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 64;
/// A platform gives up on a delivery after a while; this bounds a run that cannot recover.
const GIVE_UP_AFTER: Duration = Duration::from_secs(180);
const SOURCES: [&str; 4] = ["hashtag", "hotmart", "kiwify", "generic"];
/// Lines the console executor prints (backend/src/treatments/executor.rs `describe`).
const EXECUTOR_PREFIXES: [&str; 4] = ["Liberar acesso", "Enviar mensagem", "Tirar acesso", "Estender acesso"];

/// The scenarios, in the order of the figures table.
const SCENARIOS: [&str; 4] = ["load", "sigkill", "pg-restart", "replicas"];

/// The scenarios share the machine: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Scale {
    soak: bool,
    webhooks: usize,
    faults: usize,
}

fn scale() -> Scale {
    let soak = std::env::var("PORTARIA_SOAK").is_ok_and(|v| !v.is_empty() && v != "0");
    let webhooks = std::env::var("PORTARIA_SOAK_WEBHOOKS").ok().and_then(|v| v.parse().ok()).unwrap_or(if soak {
        20_000
    } else {
        2_000
    });
    Scale { soak, webhooks, faults: if soak { 3 } else { 1 } }
}

// ---- the plan: orders, their events, duplicates, random order ------------------------------------

struct Delivery {
    /// Index of the distinct webhook this delivery carries (copies share it).
    webhook: usize,
    source: &'static str,
    body: String,
}

/// About `total` deliveries: orders of every source, each approved (most), refunded or charged back
/// (some), a fifth of the events delivered two or three times, the whole shuffled so that refunds
/// often arrive before their approvals. Returns the deliveries and the number of distinct webhooks.
fn plan(total: usize, rng: &mut StdRng) -> (Vec<Delivery>, usize) {
    let run: u32 = rng.random();
    let mut deliveries = vec![];
    let mut webhook = 0;
    let mut order = 0;
    while deliveries.len() < total {
        let source = SOURCES[rng.random_range(0..SOURCES.len())];
        let email = format!("carga{run:08x}.{order}@example.com");
        let order_id = format!("LOAD{run:08X}N{order}");
        order += 1;
        let mut steps = vec![];
        if rng.random_bool(0.9) {
            steps.push(Step::Approved);
        }
        if rng.random_bool(0.3) {
            steps.push(Step::Refunded);
        }
        if rng.random_bool(0.12) {
            steps.push(Step::Chargeback);
        }
        for step in steps {
            let Some(body) = order_event(source, step, &order_id, &email) else { continue };
            let copies = match rng.random_range(0..100) {
                0..80 => 1,
                80..95 => 2,
                _ => 3,
            };
            for _ in 0..copies {
                deliveries.push(Delivery { webhook, source, body: body.clone() });
            }
            webhook += 1;
        }
    }
    deliveries.shuffle(rng);
    (deliveries, webhook)
}

// ---- the clients -------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// Seconds since the start of the run.
    sent: f64,
    done: f64,
    /// `None`: connection error or timeout.
    status: Option<u16>,
    retry_after: bool,
    /// Which server (index into the bases) it went to.
    replica: usize,
}

#[derive(Debug, Clone)]
struct Answer {
    event_id: i64,
    outcome: String,
}

fn request(client: &awc::Client, base: &str, d: &Delivery) -> awc::ClientRequest {
    let req = match d.source {
        "hashtag" => client.post(format!("{base}/webhooks/hashtag?token={HASHTAG_TOKEN}")),
        "hotmart" => client.post(format!("{base}/webhooks/hotmart")).insert_header(("X-HOTMART-HOTTOK", HOTTOK)),
        "kiwify" => client.post(format!("{base}/webhooks/kiwify?signature={}", kiwify_signature(&d.body))),
        "generic" => {
            // The message id is the same on every retry and copy; the timestamp is signed anew.
            let id = format!("msg_{}", hex::encode(Sha256::digest(d.body.as_bytes())));
            generic_headers(&id, &d.body, chrono::Utc::now().timestamp())
                .into_iter()
                .fold(client.post(format!("{base}/webhooks/generic")), |r, h| r.insert_header(h))
        }
        other => panic!("unknown source {other}"),
    };
    req.insert_header(("Content-Type", "application/json"))
}

/// Sends one delivery until it is answered 2xx (or the platform gives up); every attempt is kept.
async fn deliver(
    client: &awc::Client,
    bases: &[String],
    d: &Delivery,
    start: Instant,
    attempts: &RefCell<Vec<Attempt>>,
) -> Option<Answer> {
    let first = Instant::now();
    for n in 0u32.. {
        let replica = (d.webhook + n as usize) % bases.len();
        let base = &bases[replica];
        let sent = start.elapsed().as_secs_f64();
        let result = request(client, base, d).send_body(d.body.clone()).await;
        let (status, retry_after, answer) = match result {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                match res.body().limit(1 << 20).await {
                    Ok(bytes) => {
                        let answer = (200..300).contains(&status).then(|| {
                            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("a 2xx answer is JSON");
                            Answer {
                                event_id: v["event_id"].as_i64().expect("event_id"),
                                outcome: v["outcome"].as_str().expect("outcome").to_string(),
                            }
                        });
                        (Some(status), retry_after, answer)
                    }
                    // The answer was cut off: the platform saw no 2xx and retries.
                    Err(_) => (None, None, None),
                }
            }
            Err(_) => (None, None, None),
        };
        attempts.borrow_mut().push(Attempt {
            sent,
            done: start.elapsed().as_secs_f64(),
            status,
            retry_after: retry_after.is_some(),
            replica,
        });
        if answer.is_some() {
            return answer;
        }
        if first.elapsed() > GIVE_UP_AFTER {
            return None;
        }
        let backoff = Duration::from_millis(20 << n.min(5)).min(Duration::from_millis(500));
        let wait = retry_after.map(|s| Duration::from_secs(s).min(Duration::from_secs(1))).unwrap_or(backoff);
        actix_web::rt::time::sleep(wait).await;
    }
    unreachable!()
}

// ---- faults ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// SIGKILL the (first) server and start a new one on the same port at once.
    KillServer,
    /// `pg_ctl restart -m fast` on the private cluster.
    RestartPostgres,
}

#[derive(Debug, Clone, Copy)]
struct FaultWindow {
    /// Seconds since the start of the run: the fault began, and the system was whole again (the new
    /// process ready, PostgreSQL accepting connections).
    start: f64,
    end: f64,
}

/// Fields drop in order: the servers go before the cluster they use.
struct Env {
    servers: Mutex<Vec<Server>>,
    /// Killed servers, kept for their logs.
    retired: Mutex<Vec<Server>>,
    stdout: Stdout,
    ports: Vec<u16>,
    database_url: String,
    cluster: PrivateCluster,
}

const SERVER_ENV: [(&str, &str); 5] = [
    // the load comes from one address: the rate limit would turn most of it away
    ("WEBHOOK_RATE_LIMIT", "0"),
    ("WORKER_CONCURRENCY", "4"),
    ("WORKER_POLL_MS", "200"),
    ("WORKER_LEASE_SECONDS", "5"),
    ("DATABASE_POOL_SIZE", "10"),
];

impl Env {
    fn new(replicas: usize) -> Env {
        let cluster = PrivateCluster::start();
        let database_url = cluster.migrated_database("portaria");
        let stdout = Stdout::default();
        let ports: Vec<u16> = (0..replicas).map(|_| common::cluster::free_port()).collect();
        let mut servers = vec![];
        for &port in &ports {
            let mut server = Server::spawn(&database_url, port, &stdout, &SERVER_ENV);
            assert!(server.wait_ready(Duration::from_secs(60)), "server not ready:\n{}", server.log_tail(30));
            servers.push(server);
        }
        Env { servers: Mutex::new(servers), retired: Mutex::default(), stdout, ports, database_url, cluster }
    }

    fn bases(&self) -> Vec<String> {
        self.ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect()
    }

    /// Injects `fault`; returns when the system is whole again.
    fn inject(&self, fault: Fault) {
        match fault {
            Fault::None => {}
            Fault::KillServer => {
                let mut servers = self.servers.lock().unwrap();
                servers[0].kill();
                let mut fresh = Server::spawn(&self.database_url, self.ports[0], &self.stdout, &SERVER_ENV);
                assert!(
                    fresh.wait_ready(Duration::from_secs(60)),
                    "restarted server not ready:\n{}",
                    fresh.log_tail(30)
                );
                let old = std::mem::replace(&mut servers[0], fresh);
                self.retired.lock().unwrap().push(old);
            }
            Fault::RestartPostgres => self.cluster.restart(),
        }
    }

    /// Stops every server (SIGKILL: the work is done) and returns what they printed.
    fn stop(&self) -> Vec<String> {
        for s in self.servers.lock().unwrap().iter_mut() {
            s.kill();
        }
        self.stdout.lines()
    }

    fn log_tails(&self) -> String {
        let servers = self.servers.lock().unwrap();
        let retired = self.retired.lock().unwrap();
        retired
            .iter()
            .chain(servers.iter())
            .map(|s| format!("--- {}:\n{}\n", s.log.display(), s.log_tail(15)))
            .collect()
    }

    /// Lines of the servers' logs that contain `needle`.
    fn log_count(&self, needle: &str) -> usize {
        let servers = self.servers.lock().unwrap();
        let retired = self.retired.lock().unwrap();
        retired.iter().chain(servers.iter()).map(|s| s.log_count(needle)).sum()
    }
}

// ---- the run -----------------------------------------------------------------------------------

struct Run {
    deliveries: usize,
    distinct: usize,
    answers: Vec<Option<Answer>>,
    attempts: Vec<Attempt>,
    faults: Vec<FaultWindow>,
    duration: f64,
}

fn drive(env: &Arc<Env>, deliveries: Vec<Delivery>, distinct: usize, fault: Fault, faults: usize) -> Run {
    let total = deliveries.len();
    let bases = env.bases();
    // Faults at evenly spaced points of the run: 1/2 for one, 1/4, 2/4, 3/4 for three.
    let thresholds: Vec<usize> =
        if fault == Fault::None { vec![] } else { (1..=faults).map(|i| total * i / (faults + 1)).collect() };
    let env = env.clone();
    actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
        let deliveries = Rc::new(deliveries);
        let queue: Rc<RefCell<VecDeque<usize>>> = Rc::new(RefCell::new((0..total).collect()));
        let answers: Rc<RefCell<Vec<Option<Answer>>>> = Rc::new(RefCell::new(vec![None; total]));
        let attempts: Rc<RefCell<Vec<Attempt>>> = Rc::default();
        let answered = Rc::new(Cell::new(0usize));
        let start = Instant::now();

        let injector = {
            let answered = answered.clone();
            actix_web::rt::spawn(async move {
                let mut windows = vec![];
                for at in thresholds {
                    while answered.get() < at {
                        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                    }
                    let begin = start.elapsed().as_secs_f64();
                    let env = env.clone();
                    actix_web::web::block(move || env.inject(fault)).await.expect("fault injection");
                    windows.push(FaultWindow { start: begin, end: start.elapsed().as_secs_f64() });
                }
                windows
            })
        };

        let mut clients = vec![];
        for _ in 0..CONCURRENCY {
            let (client, bases, deliveries, queue, answers, attempts, answered) = (
                client.clone(),
                bases.clone(),
                deliveries.clone(),
                queue.clone(),
                answers.clone(),
                attempts.clone(),
                answered.clone(),
            );
            clients.push(actix_web::rt::spawn(async move {
                loop {
                    let Some(i) = queue.borrow_mut().pop_front() else { break };
                    let answer = deliver(&client, &bases, &deliveries[i], start, &attempts).await;
                    answers.borrow_mut()[i] = answer;
                    answered.set(answered.get() + 1);
                }
            }));
        }
        for c in clients {
            c.await.expect("client task");
        }
        let duration = start.elapsed().as_secs_f64();
        let faults = injector.await.expect("injector");
        Run { deliveries: total, distinct, answers: answers.take(), attempts: attempts.take(), faults, duration }
    })
}

// ---- what the database says afterwards -----------------------------------------------------------

#[derive(QueryableByName)]
struct IdOutcome {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    outcome: String,
}

#[derive(QueryableByName)]
struct OutputCount {
    #[diesel(sql_type = Text)]
    output: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// Waits until the outbox has no pending or running treatment (the lease of a killed worker's
/// claims has to expire first); whether it got there.
fn wait_drained(conn: &mut PgConnection, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if count(conn, "SELECT count(*) AS n FROM treatments WHERE status IN ('pending', 'running')") == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[derive(Debug, Default)]
struct Figures {
    scenario: &'static str,
    replicas: usize,
    distinct: usize,
    deliveries: usize,
    attempts: usize,
    answered_2xx: usize,
    gave_up: usize,
    /// 2xx answers whose event is not on record with the outcome the answer gave.
    lost: usize,
    /// Distinct webhooks minus the originals on record (either way, it must be 0).
    originals_gap: i64,
    error_rows: i64,
    treatments: i64,
    executed: usize,
    executed_twice: usize,
    done_unprinted: usize,
    reclaimed: i64,
    dead: i64,
    drained: bool,
    s500: usize,
    s503_in_outage: usize,
    s503_outside: usize,
    s503_without_retry_after: usize,
    other_5xx: usize,
    s429: usize,
    other_4xx: usize,
    conn_errors: usize,
    /// 2xx answers per server.
    ok_per_replica: Vec<usize>,
    /// Per fault: seconds from the fault to the first 2xx answer to a request sent after it.
    recovery: Vec<f64>,
    /// Per fault: failed attempts answered after it (before the next one), and the last one's end.
    failures_after: Vec<(usize, f64)>,
    faults: Vec<FaultWindow>,
    internal_errors_logged: usize,
    duration: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn measure(
    scenario: &'static str,
    replicas: usize,
    fault: Fault,
    run: &Run,
    conn: &mut PgConnection,
    printed: &[String],
) -> Figures {
    let mut f = Figures {
        scenario,
        replicas,
        distinct: run.distinct,
        deliveries: run.deliveries,
        attempts: run.attempts.len(),
        duration: run.duration,
        faults: run.faults.clone(),
        ..Figures::default()
    };

    // Answers against the record.
    let recorded: HashMap<i64, String> = diesel::sql_query("SELECT id, outcome FROM webhook_events")
        .load::<IdOutcome>(conn)
        .expect("events")
        .into_iter()
        .map(|r| (r.id, r.outcome))
        .collect();
    for answer in &run.answers {
        match answer {
            None => f.gave_up += 1,
            Some(a) => {
                f.answered_2xx += 1;
                if recorded.get(&a.event_id) != Some(&a.outcome) {
                    f.lost += 1;
                }
            }
        }
    }
    let originals = count(
        conn,
        "SELECT count(*) AS n FROM webhook_events WHERE duplicate_of IS NULL AND outcome IN ('processed', 'ignored')",
    );
    f.originals_gap = run.distinct as i64 - originals;
    f.error_rows = count(conn, "SELECT count(*) AS n FROM webhook_events WHERE outcome = 'error'");

    // Executions: each line the console executor printed against the treatments recorded done.
    f.treatments = count(conn, "SELECT count(*) AS n FROM treatments");
    f.reclaimed = count(conn, "SELECT count(*) AS n FROM treatments WHERE attempts > 1");
    f.dead = count(conn, "SELECT count(*) AS n FROM treatments WHERE status = 'dead'");
    let done: HashMap<String, i64> = diesel::sql_query(
        "SELECT output, count(*) AS n FROM treatments WHERE status = 'done' AND output IS NOT NULL GROUP BY output",
    )
    .load::<OutputCount>(conn)
    .expect("outputs")
    .into_iter()
    .map(|r| (r.output, r.n))
    .collect();
    let mut printed_count: HashMap<&str, i64> = HashMap::new();
    for line in printed.iter().filter(|l| EXECUTOR_PREFIXES.iter().any(|p| l.starts_with(p))) {
        *printed_count.entry(line.as_str()).or_default() += 1;
        f.executed += 1;
    }
    for (line, n) in &printed_count {
        f.executed_twice += (n - done.get(*line).copied().unwrap_or(0)).max(0) as usize;
    }
    for (line, n) in &done {
        f.done_unprinted += (n - printed_count.get(line.as_str()).copied().unwrap_or(0)).max(0) as usize;
    }

    // Statuses.
    let in_outage = |a: &Attempt| {
        fault == Fault::RestartPostgres && run.faults.iter().any(|w| a.sent <= w.end && a.done >= w.start)
    };
    let mut latencies = vec![];
    for a in &run.attempts {
        match a.status {
            None => f.conn_errors += 1,
            Some(200..=299) => {
                latencies.push((a.done - a.sent) * 1000.0);
                if f.ok_per_replica.len() <= a.replica {
                    f.ok_per_replica.resize(a.replica + 1, 0);
                }
                f.ok_per_replica[a.replica] += 1;
            }
            Some(500) => f.s500 += 1,
            Some(503) => {
                if in_outage(a) {
                    f.s503_in_outage += 1;
                } else {
                    f.s503_outside += 1;
                }
                if !a.retry_after {
                    f.s503_without_retry_after += 1;
                }
            }
            Some(500..=599) => f.other_5xx += 1,
            Some(429) => f.s429 += 1,
            Some(_) => f.other_4xx += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    f.p50_ms = percentile(&latencies, 0.5);
    f.p99_ms = percentile(&latencies, 0.99);

    // Recovery after each fault.
    for (k, w) in run.faults.iter().enumerate() {
        let next = run.faults.get(k + 1).map_or(f64::INFINITY, |n| n.start);
        let after = || run.attempts.iter().filter(move |a| a.sent >= w.start && a.sent < next);
        let first_ok = after()
            .filter(|a| a.status.is_some_and(|s| (200..300).contains(&s)))
            .map(|a| a.done)
            .fold(f64::INFINITY, f64::min);
        f.recovery.push(first_ok - w.start);
        // Failures answered from the fault on (their request may have been sent just before it).
        let failed: Vec<&Attempt> = run
            .attempts
            .iter()
            .filter(|a| a.done >= w.start && a.done < next && !a.status.is_some_and(|s| (200..300).contains(&s)))
            .collect();
        let last = failed.iter().map(|a| a.done).fold(w.start, f64::max);
        f.failures_after.push((failed.len(), last - w.start));
    }
    f
}

impl Figures {
    /// What the issue promises, each broken promise in words.
    fn violations(&self) -> Vec<String> {
        let mut v = vec![];
        let mut check = |ok: bool, what: String| {
            if !ok {
                v.push(what);
            }
        };
        check(self.gave_up == 0, format!("{} deliveries never got a 2xx", self.gave_up));
        check(self.lost == 0, format!("{} answered 2xx but not on record with that outcome (lost)", self.lost));
        check(self.originals_gap == 0, format!("distinct webhooks minus originals on record = {}", self.originals_gap));
        check(self.drained, "the outbox never drained".into());
        // At least once, honestly: a process killed between a treatment's execution and its commit
        // runs it again after the lease expires (then its attempts are > 1). Nothing else may repeat.
        check(
            self.executed_twice as i64 <= self.reclaimed,
            format!(
                "{} executions beyond one per treatment (executed twice), more than the {} treatments re-claimed after a crash",
                self.executed_twice, self.reclaimed
            ),
        );
        check(self.done_unprinted == 0, format!("{} treatments done without an execution", self.done_unprinted));
        check(self.dead == 0, format!("{} treatments dead", self.dead));
        check(self.s500 == 0, format!("{} answers 500", self.s500));
        check(self.s503_outside == 0, format!("{} answers 503 outside a PostgreSQL outage", self.s503_outside));
        check(
            self.s503_without_retry_after == 0,
            format!("{} answers 503 without Retry-After", self.s503_without_retry_after),
        );
        check(self.other_5xx == 0, format!("{} other 5xx answers", self.other_5xx));
        check(self.other_4xx == 0, format!("{} 4xx answers to valid webhooks", self.other_4xx));
        check(
            self.ok_per_replica.len() == self.replicas && self.ok_per_replica.iter().all(|n| *n > 0),
            format!(
                "2xx answers per server {:?}: every one of the {} servers must take a share",
                self.ok_per_replica, self.replicas
            ),
        );
        v
    }

    fn report(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .zip(&self.recovery)
            .zip(&self.failures_after)
            .map(|((w, r), (n, last))| {
                format!(
                    "at +{:.1} s, whole again after {:.2} s, first 2xx after {:.2} s, {n} failed attempts until +{:.2} s",
                    w.start,
                    w.end - w.start,
                    r,
                    last
                )
            })
            .collect();
        format!(
            "scenario {}: {} distinct webhooks in {} deliveries, {} HTTP attempts in {:.1} s ({:.0} deliveries/s, 2xx latency p50 {:.0} ms p99 {:.0} ms)\n\
             answered 2xx {} | gave up {} | lost {} | originals gap {} | rows recorded as error {}\n\
             treatments {} | executions printed {} | executed twice {} | done without execution {} | re-claimed (attempts > 1) {} | dead {}\n\
             500: {} | 503 in outage: {} | 503 outside: {} | 503 without Retry-After: {} | other 5xx: {} | 429: {} | other 4xx: {} | connection errors: {} | internal errors logged: {}\n\
             2xx per server: {:?}\n\
             faults: {}",
            self.scenario,
            self.distinct,
            self.deliveries,
            self.attempts,
            self.duration,
            self.deliveries as f64 / self.duration,
            self.p50_ms,
            self.p99_ms,
            self.answered_2xx,
            self.gave_up,
            self.lost,
            self.originals_gap,
            self.error_rows,
            self.treatments,
            self.executed,
            self.executed_twice,
            self.done_unprinted,
            self.reclaimed,
            self.dead,
            self.s500,
            self.s503_in_outage,
            self.s503_outside,
            self.s503_without_retry_after,
            self.other_5xx,
            self.s429,
            self.other_4xx,
            self.conn_errors,
            self.internal_errors_logged,
            self.ok_per_replica,
            if faults.is_empty() { "none".into() } else { faults.join("; ") },
        )
    }

    /// One row of the figures table in docs/RELIABILITY.md.
    fn row(&self) -> String {
        let recovery = if self.recovery.is_empty() {
            "–".to_string()
        } else {
            self.recovery.iter().map(|r| format!("{r:.2} s")).collect::<Vec<_>>().join(", ")
        };
        format!(
            "| {} | {} / {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}/s | {} |",
            self.scenario,
            self.distinct,
            self.deliveries,
            self.attempts,
            self.answered_2xx,
            self.lost,
            self.executed_twice,
            self.s500,
            self.s503_in_outage + self.s503_outside,
            self.conn_errors,
            recovery,
            self.deliveries as f64 / self.duration,
            chrono::Utc::now().format("%Y-%m-%d"),
        )
    }
}

/// Replaces this scenario's row of the figures table (between the markers) in docs/RELIABILITY.md.
fn write_doc_row(figures: &Figures) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/RELIABILITY.md");
    let text = std::fs::read_to_string(&path).expect("docs/RELIABILITY.md");
    let (begin, end) = ("<!-- figures:begin -->", "<!-- figures:end -->");
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        panic!("docs/RELIABILITY.md has no {begin} ... {end} section");
    };
    let inside = &text[b + begin.len()..e];
    let key = format!("| {} |", figures.scenario);
    let mut lines: Vec<String> = inside.trim_matches('\n').lines().map(str::to_string).collect();
    match lines.iter().position(|l| l.starts_with(&key)) {
        Some(i) => lines[i] = figures.row(),
        None => lines.push(figures.row()),
    }
    // The header stays first; the scenarios in a fixed order.
    let rank = |l: &String| SCENARIOS.iter().position(|s| l.starts_with(&format!("| {s} |"))).unwrap_or(usize::MAX);
    let header = lines.iter().take_while(|l| rank(l) == usize::MAX).count();
    lines[header..].sort_by_key(rank);
    let updated = format!("{}{begin}\n{}\n{}", &text[..b], lines.join("\n"), &text[e..]);
    std::fs::write(&path, updated).expect("write docs/RELIABILITY.md");
}

// ---- the scenarios ---------------------------------------------------------------------------------

fn scenario(name: &'static str, replicas: usize, fault: Fault) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let scale = scale();
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let (deliveries, distinct) = plan(scale.webhooks, &mut rng);
    let env = Arc::new(Env::new(replicas));
    let run = drive(&env, deliveries, distinct, fault, scale.faults);
    let mut conn = PgConnection::establish(&env.database_url).expect("connect to the private cluster");
    let drained = wait_drained(&mut conn, Duration::from_secs(120));
    let printed = env.stop();
    let mut figures = measure(name, replicas, fault, &run, &mut conn, &printed);
    figures.drained = drained;
    figures.internal_errors_logged = env.log_count("internal error");
    println!("{}", figures.report());
    if scale.soak {
        write_doc_row(&figures);
    }
    let violations = figures.violations();
    assert!(
        violations.is_empty(),
        "scenario {name} (plan seed {seed}) broke its promises:\n  - {}\n{}\nserver logs:\n{}",
        violations.join("\n  - "),
        figures.report(),
        env.log_tails()
    );
}

/// Thousands of webhooks of every source at concurrency 64, with duplicates and in random order.
#[test]
fn load_with_duplicates_in_random_order() {
    scenario("load", 1, Fault::None);
}

/// The server is SIGKILLed mid-run and started again; clients retry.
#[test]
fn server_killed_mid_run() {
    scenario("sigkill", 1, Fault::KillServer);
}

/// PostgreSQL is restarted (`pg_ctl restart -m fast`) mid-run.
#[test]
fn postgres_restarted_mid_run() {
    scenario("pg-restart", 1, Fault::RestartPostgres);
}

/// Two `portaria serve` processes on one database share the load (and the outbox).
#[test]
fn two_replicas_share_the_load() {
    scenario("replicas", 2, Fault::None);
}
