//! Portaria benchmarks. Prints markdown on standard output (progress goes to standard error):
//!
//! 1. Customer search on `BENCH_CUSTOMERS` seeded customers: latency of `staff::customers::search()`
//!    per term, and the EXPLAIN (ANALYZE, BUFFERS) of the exact SQL it sends (captured through diesel's
//!    instrumentation, bound values inlined as literals).
//! 2. Webhook ingestion end to end over HTTP: the real app (`app::configure`) served in this process on
//!    127.0.0.1, fed by a small hand-written HTTP/1.1 keep-alive client; then a duplicate storm.
//! 3. The outbox worker draining pending treatments from 1, 2 and 4 threads with a no-op executor.
//!
//! Run it with `make bench` (scripts/bench.sh creates the `portaria_bench` database and writes the output
//! into docs/PERFORMANCE.md). Everything is sent to 127.0.0.1; every loop is bounded in count and in time.
//! Environment: BENCH_DATABASE_URL (required), BENCH_CUSTOMERS (1000000), BENCH_WEBHOOKS (20000),
//! BENCH_CONCURRENCY (8), BENCH_SEARCH_RUNS (40), BENCH_SEARCH_TERM_SECONDS (20), BENCH_TREATMENTS (20000),
//! BENCH_PHASE_SECONDS (300), BENCH_PHASES (search,ingest,worker).
//!
//! The database must be a dedicated one (its name must contain "bench"): customers are seeded into it
//! once and kept; what earlier runs' ingest and worker phases left is truncated at the start of a run.

use actix_web::{middleware, App, HttpServer};
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use portaria::config::Config;
use portaria::db::Pool;
use portaria::schema::customers as c;
use portaria::staff::customers::{search, term, Term};
use portaria::staff::pagination::like_escape;
use portaria::state::AppState;
use portaria::treatments::executor::{describe, Executor, Job};
use portaria::treatments::worker::Worker;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type R<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

diesel::define_sql_function! {
    /// Lower-case and accent-free (migration 1), as in `staff::customers`.
    fn portaria_fold(x: Text) -> Text;
}

/// Rows per page, as the API's default.
const PAGE: i64 = 20;
const SEARCH_TARGET_MS: f64 = 50.0;
const INGEST_TARGET_RPS: f64 = 1000.0;
const RSS_TARGET_MB: f64 = 100.0;
const WORKER_TARGET_TPS: f64 = 1000.0;

struct Options {
    url: String,
    customers: i64,
    webhooks: usize,
    concurrency: usize,
    search_runs: usize,
    search_term_seconds: u64,
    treatments: i64,
    phase_seconds: u64,
}

fn num<T: std::str::FromStr>(key: &str, default: T) -> R<T> {
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
            concurrency: num("BENCH_CONCURRENCY", 8)?,
            search_runs: num("BENCH_SEARCH_RUNS", 40)?,
            search_term_seconds: num("BENCH_SEARCH_TERM_SECONDS", 20)?,
            treatments: num("BENCH_TREATMENTS", 20_000)?,
            phase_seconds: num("BENCH_PHASE_SECONDS", 300)?,
        };
        if !(1..=50_000_000).contains(&o.customers)
            || !(1..=1_000_000).contains(&o.webhooks)
            || !(1..=256).contains(&o.concurrency)
            || !(1..=10_000).contains(&o.search_runs)
            || !(1..=1_000_000).contains(&o.treatments)
        {
            return Err("a BENCH_* value is out of range (customers 1..50M, webhooks 1..1M, concurrency 1..256, \
                        search runs 1..10000, treatments 1..1M)"
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

fn progress(msg: &str) {
    eprintln!("bench: {msg}");
}

/// Lines of `out` are markdown; `summary` collects one row per target.
struct Report {
    out: String,
    summary: Vec<[String; 4]>,
}

impl Report {
    fn target(&mut self, what: &str, target: &str, measured: String, met: bool) {
        let verdict = if met { "yes" } else { "**no**" };
        self.summary.push([what.into(), target.into(), measured, verdict.into()]);
    }
}

fn run() -> R<()> {
    let o = Options::from_env()?;
    // Log lines are formatted as `make run` does (info), into a sink: their cost counts, not the terminal's.
    env_logger::Builder::new().parse_filters("info").target(env_logger::Target::Pipe(Box::new(std::io::sink()))).init();
    let mut conn = connect(&o.url)?;
    let database = text(&mut conn, "SELECT current_database()::text AS t")?;
    if !database.contains("bench") {
        return Err(format!(
            "refusing to seed and truncate the database {database:?}: point BENCH_DATABASE_URL at a dedicated \
             database whose name contains \"bench\" (make bench uses portaria_bench)"
        ));
    }
    portaria::db::migrate(&mut conn)?;
    let mut r = Report { out: String::new(), summary: vec![] };
    let machine = machine(&mut conn, &o)?;
    clean_previous_runs(&mut conn)?;
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "search,ingest,worker".into());
    if phases.contains("search") {
        search_bench(&mut conn, &o, &mut r)?;
    }
    if phases.contains("ingest") {
        ingest_bench(&mut conn, &o, &mut r)?;
    }
    if phases.contains("worker") {
        worker_bench(&mut conn, &o, &mut r)?;
    }

    let mut head = machine;
    writeln!(head, "### Against the targets\n").map_err(err)?;
    writeln!(head, "| what | target | measured | met |\n|---|---|---|---|").map_err(err)?;
    for [a, b, c, d] in &r.summary {
        writeln!(head, "| {a} | {b} | {c} | {d} |").map_err(err)?;
    }
    println!("{head}\n{}", r.out.trim_end());
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

fn connect(url: &str) -> R<PgConnection> {
    PgConnection::establish(url).map_err(|e| format!("cannot connect to {}: {e}", portaria::config::redact_url(url)))
}

// ---- small SQL helpers ---------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Num {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Txt {
    #[diesel(sql_type = Text)]
    t: String,
}

fn scalar(conn: &mut PgConnection, sql: &str) -> R<i64> {
    sql_query(sql).get_result::<Num>(conn).map(|r| r.n).map_err(|e| format!("{e}: {sql}"))
}

fn text(conn: &mut PgConnection, sql: &str) -> R<String> {
    sql_query(sql).get_result::<Txt>(conn).map(|r| r.t).map_err(|e| format!("{e}: {sql}"))
}

// ---- statistics -----------------------------------------------------------------------------------

struct Stats {
    n: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

/// Nearest-rank percentiles.
fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort_unstable();
    let at = |p: f64| {
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    };
    Stats { n: v.len(), p50: at(50.0), p95: at(95.0), p99: at(99.0), max: v.last().copied().unwrap_or_default() }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---- machine -----------------------------------------------------------------------------------------

fn machine(conn: &mut PgConnection, o: &Options) -> R<String> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let version = text(conn, "SELECT version() AS t")?;
    let settings = text(
        conn,
        "SELECT string_agg(n || '=' || current_setting(n), ', ' ORDER BY n) AS t FROM unnest(ARRAY['shared_buffers', \
         'work_mem', 'effective_cache_size', 'random_page_cost', 'synchronous_commit', 'max_connections', \
         'plan_cache_mode', 'jit']) AS n",
    )?;
    let now = text(conn, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS t")?;
    let mut s = String::new();
    writeln!(s, "### Machine and parameters\n").map_err(err)?;
    writeln!(s, "| | |\n|---|---|").map_err(err)?;
    writeln!(s, "| run | {now} |").map_err(err)?;
    writeln!(s, "| CPUs (nproc) | {cpus} × {model} |").map_err(err)?;
    writeln!(s, "| memory | {:.1} GiB |", mem_kb / 1024.0 / 1024.0).map_err(err)?;
    writeln!(s, "| PostgreSQL | {version} (same machine, over TCP 127.0.0.1) |").map_err(err)?;
    writeln!(s, "| PostgreSQL settings | {settings} |").map_err(err)?;
    writeln!(
        s,
        "| parameters | BENCH_CUSTOMERS={} BENCH_WEBHOOKS={} BENCH_CONCURRENCY={} BENCH_SEARCH_RUNS={} \
         BENCH_TREATMENTS={} |\n",
        o.customers, o.webhooks, o.concurrency, o.search_runs, o.treatments
    )
    .map_err(err)?;
    Ok(s)
}

// ---- 1. customer search -----------------------------------------------------------------------------

/// One `INSERT ... SELECT ... FROM generate_series`: Brazilian names with accents, lower-case e-mails
/// (unique by the series number), an 11-digit CPF for 90 % of the rows (a 14-digit CNPJ for 2 %),
/// a phone for a third. Common names come first in the arrays and are drawn more often.
fn seed_sql(first: i64, last: i64) -> String {
    format!(
        r#"
INSERT INTO customers (email, name, document, phone, created_at, updated_at, last_activity_at)
SELECT lower(portaria_unaccent(p.fname || '.' || replace(p.lname, ' ', ''))) || p.g || '@' || p.domain,
       p.fname || ' ' || p.middle || p.lname,
       CASE WHEN p.g % 50 = 0 THEN lpad(((p.g * 7368787) % 99999999999989)::text, 14, '0')
            WHEN p.g % 10 <> 0 THEN lpad(((p.g * 9876541 + 12345) % 99999999989)::text, 11, '0') END,
       CASE WHEN p.g % 3 = 0 THEN '+55' || (11 + p.g % 89) || '9' || lpad((p.g % 100000000)::text, 8, '0') END,
       p.at, p.at, p.at
FROM (
    SELECT g,
           a.f[1 + floor(array_length(a.f, 1) * random() ^ 1.6)::int] AS fname,
           CASE WHEN random() < 0.45 THEN a.s[1 + floor(array_length(a.s, 1) * random() ^ 1.4)::int] || ' '
                ELSE '' END AS middle,
           a.s[1 + floor(array_length(a.s, 1) * random() ^ 1.4)::int] AS lname,
           a.d[1 + floor(array_length(a.d, 1) * random() ^ 2)::int] AS domain,
           now() - ({last} - g) * interval '30 seconds' AS at
    FROM generate_series({first}::bigint, {last}::bigint) AS g,
         (SELECT
            ARRAY['Maria', 'José', 'Ana', 'João', 'Antônio', 'Francisco', 'Carlos', 'Paulo', 'Pedro', 'Lucas',
                  'Luiz', 'Marcos', 'Luís', 'Gabriel', 'Rafael', 'Daniel', 'Marcelo', 'Bruno', 'Eduardo', 'Felipe',
                  'Juliana', 'Adriana', 'Márcia', 'Fernanda', 'Patrícia', 'Aline', 'Sandra', 'Camila', 'Amanda',
                  'Bruna', 'Jéssica', 'Letícia', 'Júlia', 'Luciana', 'Vanessa', 'Mariana', 'Gabriela', 'Beatriz',
                  'Larissa', 'Raimundo', 'Sebastião', 'Conceição', 'Fátima', 'Vitória', 'Tânia', 'Cláudia',
                  'Rodrigo', 'Gustavo', 'Guilherme', 'André', 'Fábio', 'Leonardo', 'Mateus', 'Thiago', 'Vinícius',
                  'Otávio', 'Inês', 'Lúcia', 'Renê', 'Joaquim'] AS f,
            ARRAY['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima',
                  'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Almeida', 'Lopes', 'Soares', 'Fernandes',
                  'Vieira', 'Barbosa', 'Rocha', 'Dias', 'Nascimento', 'Andrade', 'Moreira', 'Nunes', 'Marques',
                  'Machado', 'Mendes', 'Freitas', 'Cardoso', 'Ramos', 'Gonçalves', 'Santana', 'Teixeira', 'Araújo',
                  'da Conceição', 'Assunção', 'Simões', 'Magalhães', 'Brandão', 'Galvão', 'Patrício', 'Estêvão',
                  'dos Santos', 'de Souza', 'da Silva', 'Guimarães', 'Falcão', 'Leão'] AS s,
            ARRAY['gmail.com', 'hotmail.com', 'yahoo.com.br', 'outlook.com', 'uol.com.br', 'bol.com.br',
                  'terra.com.br', 'icloud.com', 'live.com', 'globo.com'] AS d) AS a
) AS p
ON CONFLICT (email) DO NOTHING"#
    )
}

fn term_kind(t: &Term) -> &'static str {
    match t {
        Term::All => "all",
        Term::EmailPrefix(_) => "e-mail prefix (btree)",
        Term::Contains(_) => "contains (trigram)",
    }
}

/// How many customers match a term (what the ranking has to sort through before the LIMIT).
fn matches(conn: &mut PgConnection, t: &Term) -> R<i64> {
    match t {
        Term::All => c::table.count().get_result(conn),
        Term::EmailPrefix(q) => c::table.filter(c::email.like(format!("{}%", like_escape(q)))).count().get_result(conn),
        Term::Contains(q) => c::table
            .filter(c::search_text.like(portaria_fold(format!("%{}%", like_escape(q)))))
            .count()
            .get_result(conn),
    }
    .map_err(err)
}

#[derive(Debug, Clone, PartialEq)]
enum Bind {
    Str(String),
    Int(String),
}

/// Splits diesel's debug output `SQL -- binds: [..]` into the SQL and its bound values.
fn split_debug_query(dbg: &str) -> R<(String, Vec<Bind>)> {
    let (sql, binds) = dbg.rsplit_once(" -- binds: ").ok_or("no binds in the captured query")?;
    let mut out = vec![];
    let mut chars = binds.trim().trim_start_matches('[').trim_end_matches(']').chars().peekable();
    while let Some(&ch) = chars.peek() {
        match ch {
            ' ' | ',' => {
                chars.next();
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next().ok_or("unterminated string bind")? {
                        '"' => break,
                        '\\' => match chars.next().ok_or("bad escape")? {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            'r' => s.push('\r'),
                            '0' => s.push('\0'),
                            other => s.push(other),
                        },
                        other => s.push(other),
                    }
                }
                out.push(Bind::Str(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&d) = chars.peek() {
                    if d == ',' {
                        break;
                    }
                    s.push(d);
                    chars.next();
                }
                let s = s.trim().to_string();
                if s.parse::<i64>().is_err() {
                    return Err(format!("unexpected bind value {s:?}"));
                }
                out.push(Bind::Int(s));
            }
        }
    }
    Ok((sql.to_string(), out))
}

fn literal(b: &Bind) -> String {
    match b {
        Bind::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Bind::Int(i) => i.clone(),
    }
}

/// Replaces `$n` placeholders with `f(n)`.
fn replace_params(sql: &str, f: impl Fn(usize) -> R<String>) -> R<String> {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            out.push_str(&f(n.parse().map_err(err)?)?);
        } else {
            out.push(ch);
        }
    }
    Ok(out)
}

/// Every query `search()` sends for `t` (SQL and bound values), captured with diesel's instrumentation.
fn captured_search_sql(url: &str, t: &Term, after: Option<(i64, i64)>) -> R<Vec<(String, Vec<Bind>)>> {
    let mut conn = connect(url)?;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = log.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().expect("log").push(query.to_string());
        }
    });
    search(&mut conn, t, PAGE, after).map_err(err)?;
    let captured = log.lock().expect("log").clone();
    captured.iter().filter(|q| q.contains("\"customers\"")).map(|q| split_debug_query(q)).collect()
}

struct Plan {
    lines: Vec<String>,
}

impl Plan {
    fn uses(&self, what: &str) -> bool {
        self.lines.iter().any(|l| l.contains(what))
    }
    fn execution_ms(&self) -> f64 {
        self.lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("Execution Time: "))
            .and_then(|v| v.trim_end_matches(" ms").parse().ok())
            .unwrap_or(0.0)
    }
    /// The rows the top node returned.
    fn rows(&self) -> String {
        self.lines
            .first()
            .and_then(|l| l.split(" rows=").nth(2))
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("?")
            .to_string()
    }
    fn access_paths(&self) -> String {
        let mut used = vec![];
        for (needle, name) in [
            ("customers_search_trgm", "trigram GIN `customers_search_trgm`"),
            ("customers_email_prefix", "e-mail btree `customers_email_prefix`"),
            ("customers_email_key", "unique e-mail btree `customers_email_key`"),
            ("using customers_pkey", "primary key `customers_pkey`"),
            ("Index Only Scan Backward using customers_pkey", "primary key (index only)"),
            ("Seq Scan on customers", "**sequential scan**"),
        ] {
            if self.uses(needle) && !used.contains(&name) {
                used.push(name);
            }
        }
        if used.is_empty() {
            "no index".into()
        } else {
            used.join(" + ")
        }
    }
}

fn explain_text(conn: &mut PgConnection, statement: &str) -> R<Plan> {
    let lines = sql_query("SELECT pg_temp.bench_explain($1) AS t")
        .bind::<Text, _>(statement)
        .load::<Txt>(conn)
        .map_err(|e| format!("{e}: {statement}"))?;
    Ok(Plan { lines: lines.into_iter().map(|l| l.t).collect() })
}

/// EXPLAIN (ANALYZE, BUFFERS) of a captured query with its bound values inlined as literals.
fn explain_inlined(conn: &mut PgConnection, sql: &str, binds: &[Bind]) -> R<(String, Plan)> {
    let inlined = replace_params(sql, |n| binds.get(n - 1).map(literal).ok_or_else(|| format!("no bind for ${n}")))?;
    let plan = explain_text(conn, &format!("EXPLAIN (ANALYZE, BUFFERS) {inlined}"))?;
    Ok((inlined, plan))
}

/// A short name for one of the queries `search()` sends.
fn query_role(sql: &str) -> &'static str {
    if sql.contains("OFFSET") {
        "window floor (id of the 5000th newest customer)"
    } else if sql.contains("search_text") && sql.contains("+") {
        "rank 2, older customers (trigram index, `ORDER BY id + 0`)"
    } else if sql.contains("search_text") {
        "rank 2, newest customers (window, id order)"
    } else if sql.contains(" LIKE ") {
        "rank 1, e-mail prefix"
    } else if sql.contains("\"email\" = ") {
        "rank 0, exact e-mail"
    } else {
        "other"
    }
}

#[derive(QueryableByName)]
struct PreparedStats {
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
}

fn search_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let out = &mut r.out;
    writeln!(out, "### 1. Customer search\n").map_err(err)?;
    let have = scalar(conn, "SELECT count(*) AS n FROM customers")?;
    if have < o.customers {
        progress(&format!("seeding {} customers (one INSERT ... SELECT) ...", o.customers - have));
        let t0 = Instant::now();
        conn.batch_execute("SET statement_timeout = '60min'").map_err(err)?;
        // Series numbers above every id ever given out: e-mails never collide with earlier seeds.
        let from = scalar(conn, "SELECT coalesce(max(id), 0) + 1 AS n FROM customers")?;
        let n = sql_query(seed_sql(from, from + o.customers - have - 1)).execute(conn).map_err(err)?;
        let insert = t0.elapsed();
        conn.batch_execute("RESET statement_timeout").map_err(err)?;
        conn.batch_execute("VACUUM (ANALYZE) customers").map_err(err)?;
        writeln!(
            out,
            "Seeded {n} customers in {:.1} s (one `INSERT ... SELECT ... FROM generate_series`), then \
             `VACUUM (ANALYZE)` in {:.1} s.\n",
            insert.as_secs_f64(),
            (t0.elapsed() - insert).as_secs_f64()
        )
        .map_err(err)?;
    } else {
        conn.batch_execute("ANALYZE customers").map_err(err)?;
        writeln!(out, "The table already held {have} customers: seeding skipped; `ANALYZE customers` run.\n")
            .map_err(err)?;
    }
    let total = scalar(conn, "SELECT count(*) AS n FROM customers")?;
    let sizes = text(
        conn,
        "SELECT 'table ' || pg_size_pretty(pg_table_size('customers')) || ', trigram GIN ' || \
         pg_size_pretty(pg_relation_size('customers_search_trgm')) || ', e-mail btree (text_pattern_ops) ' || \
         pg_size_pretty(pg_relation_size('customers_email_prefix')) || ', unique e-mail ' || \
         pg_size_pretty(pg_relation_size('customers_email_key')) AS t",
    )?;
    writeln!(out, "{total} customers; {sizes}.\n").map_err(err)?;

    // Terms taken from the data where they must exist.
    #[derive(QueryableByName)]
    struct Sample {
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = Text)]
        document: String,
    }
    let sample: Sample = sql_query(
        "SELECT email, document FROM customers WHERE id >= (SELECT min(id) FROM customers) + $1 \
         AND length(document) = 11 AND email NOT LIKE 'bench-%' ORDER BY id LIMIT 1",
    )
    .bind::<BigInt, _>(total / 2)
    .get_result(conn)
    .map_err(err)?;
    let local = sample.email.split('@').next().unwrap_or_default();
    let partial = format!("{}@", local.split_once('.').map(|(_, rest)| rest).unwrap_or(local));
    let d = &sample.document;
    let cpf = format!("{}.{}.{}-{}", &d[0..3], &d[3..6], &d[6..9], &d[9..11]);
    let mut terms: Vec<(&str, String)> = vec![
        ("common first name", "maria".into()),
        ("accent-free full name", "joao silva".into()),
        ("two common names (0.5 % of customers)", "maria silva".into()),
        ("accented name, upper case", "CONCEIÇÃO".into()),
        ("less common name", "fatima".into()),
        ("partial e-mail", partial),
        ("exact e-mail", sample.email.clone()),
        ("CPF with punctuation", cpf),
        ("2-letter prefix", "ma".into()),
        ("matches nothing", "zzqxj".into()),
        ("common 3-letter fragment", "ana".into()),
        ("3 letters in almost every e-mail", "com".into()),
    ];
    let mut parsed: Vec<(Term, Option<(i64, i64)>)> =
        terms.iter().map(|(_, q)| (term(Some(q.as_str())), None)).collect();
    // The second page of the most common name, through the keyset cursor of the first.
    let first_page = search(conn, &parsed[0].0, PAGE, None).map_err(err)?;
    if let Some((rank, c)) = first_page.last() {
        terms.push(("common first name, page 2", "maria".into()));
        parsed.push((term(Some("maria")), Some((i64::from(*rank), c.id))));
    }

    // Latency: all terms in rounds, first on a connection of the app's pool (`db::connect`, which sets
    // what the app sets on its connections), then on a plain connection with PostgreSQL's defaults.
    let cap = Duration::from_secs(o.search_term_seconds);
    let pool = portaria::db::connect(&o.url, 1)?;
    let mut results: Vec<Vec<Stats>> = vec![];
    let mut rows = vec![0usize; terms.len()];
    let mut plain_plans: Vec<PreparedStats> = vec![];
    for mode in ["app", "plain"] {
        progress(&format!("search latency ({mode} connection) ..."));
        let mut plain;
        let mut pooled;
        let conn: &mut PgConnection = if mode == "app" {
            pooled = pool.get().map_err(err)?;
            &mut pooled
        } else {
            plain = connect(&o.url)?;
            &mut plain
        };
        // One untimed round: caches warm, statements prepared.
        for (t, after) in &parsed {
            search(conn, t, PAGE, *after).map_err(err)?;
        }
        let mut lat: Vec<Vec<Duration>> = vec![vec![]; terms.len()];
        let mut spent = vec![Duration::ZERO; terms.len()];
        for _ in 0..o.search_runs {
            for (i, (t, after)) in parsed.iter().enumerate() {
                if spent[i] >= cap {
                    continue;
                }
                let t0 = Instant::now();
                let found = search(conn, t, PAGE, *after).map_err(err)?;
                let d = t0.elapsed();
                lat[i].push(d);
                spent[i] += d;
                rows[i] = found.len();
            }
        }
        if mode == "plain" {
            plain_plans = sql_query(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
                 WHERE statement LIKE '%FROM \"customers\"%'",
            )
            .load(conn)
            .map_err(err)?;
        }
        results.push(lat.into_iter().map(stats).collect());
    }
    drop(pool);
    progress("counting matches ...");
    let mut counts = vec![];
    for (t, _) in &parsed {
        counts.push(matches(conn, t)?);
    }

    writeln!(
        out,
        "`staff::customers::search()` with limit {PAGE} on a real connection, every term in turn, after one \
         untimed round, up to {} runs per term, at most {} s per term; times in ms. \"app\" = a connection \
         from `db::connect`'s pool, as the server uses; \"plain\" = a fresh connection. Either way `search()` \
         sets `plan_cache_mode = force_custom_plan` for its own transaction, so diesel's prepared statements \
         do not switch to generic plans ({} generic and {} custom plans were used on the plain one).\n",
        o.search_runs,
        o.search_term_seconds,
        plain_plans.iter().map(|p| p.generic_plans).sum::<i64>(),
        plain_plans.iter().map(|p| p.custom_plans).sum::<i64>()
    )
    .map_err(err)?;
    writeln!(
        out,
        "| term | searched as | matching rows | rows returned | runs | p50 app | p95 app | max app | p50 plain | \
         p95 plain | max plain |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .map_err(err)?;
    let mut worst: Option<(String, f64)> = None;
    for (i, ((label, q), (t, _))) in terms.iter().zip(&parsed).enumerate() {
        let (a, b) = (&results[0][i], &results[1][i]);
        writeln!(
            out,
            "| {label} `{q}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            term_kind(t),
            counts[i],
            rows[i],
            a.n,
            ms(a.p50),
            ms(a.p95),
            ms(a.max),
            ms(b.p50),
            ms(b.p95),
            ms(b.max)
        )
        .map_err(err)?;
        if q.chars().count() >= 3 && worst.as_ref().is_none_or(|(_, w)| ms_f(a.p95) > *w) {
            worst = Some((format!("`{q}`"), ms_f(a.p95)));
        }
    }
    writeln!(out).map_err(err)?;
    if let Some((q, p95)) = worst {
        r.target(
            "search p95, terms of 3+ characters",
            &format!("< {SEARCH_TARGET_MS} ms on 1M customers"),
            format!("worst {p95:.1} ms ({q})"),
            p95 < SEARCH_TARGET_MS,
        );
    }

    // EXPLAIN of the exact SQL search() sends, query by query.
    progress("EXPLAIN ...");
    conn.batch_execute(
        "CREATE OR REPLACE FUNCTION pg_temp.bench_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$ \
         DECLARE r text; BEGIN FOR r IN EXECUTE q LOOP RETURN NEXT r; END LOOP; END $$",
    )
    .map_err(err)?;
    let out = &mut r.out;
    writeln!(
        out,
        "#### EXPLAIN (ANALYZE, BUFFERS)\n\n`search()` sends one query per rank (and, for rank 2, a window \
         query first). Each query below is the one it sent, captured with diesel's instrumentation, with the \
         bound values inlined as literals (a custom plan, as the app's connections plan them). The full plan \
         shown is the slowest query of the term.\n"
    )
    .map_err(err)?;
    let explained = [
        "common first name",
        "accent-free full name",
        "two common names (0.5 % of customers)",
        "exact e-mail",
        "2-letter prefix",
        "3 letters in almost every e-mail",
    ];
    for label in explained {
        let Some(i) = terms.iter().position(|(l, _)| *l == label) else { continue };
        let captured = captured_search_sql(&o.url, &parsed[i].0, parsed[i].1)?;
        let mut plans = vec![];
        for (sql, binds) in &captured {
            let (inlined, plan) = explain_inlined(conn, sql, binds)?;
            plans.push((query_role(sql), inlined, plan));
        }
        let total: f64 = plans.iter().map(|(_, _, p)| p.execution_ms()).sum();
        writeln!(out, "**{label} `{}`** — {} queries, {total:.2} ms of execution in all.\n", terms[i].1, plans.len())
            .map_err(err)?;
        writeln!(out, "| query | access path | rows | ms |\n|---|---|---:|---:|").map_err(err)?;
        for (role, _, plan) in &plans {
            writeln!(out, "| {role} | {} | {} | {:.2} |", plan.access_paths(), plan.rows(), plan.execution_ms())
                .map_err(err)?;
        }
        if let Some((role, sql, plan)) = plans.iter().max_by(|a, b| a.2.execution_ms().total_cmp(&b.2.execution_ms())) {
            writeln!(out, "\nSlowest: {role}.\n\n```sql\n{sql}\n```\n\n```text\n{}\n```\n", plan.lines.join("\n"))
                .map_err(err)?;
        }
    }
    Ok(())
}

// ---- 2. webhook ingestion over HTTP ----------------------------------------------------------------

const WEBHOOK_PATH: &str = "/webhooks/hashtag?token=test-hashtag-token";

struct Server {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// The real app (same middleware as `portaria serve`, no worker, no LISTEN thread) on 127.0.0.1:0.
/// The pool is the server's (`db::connect`).
fn start_server(url: &str, pool_size: u32) -> R<Server> {
    let mut config = Config::for_tests(url);
    config.database_pool_size = pool_size;
    let pool = portaria::db::connect(&config.database_url, pool_size)?;
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

fn stop_server(server: Server) {
    actix_web::rt::System::new().block_on(server.handle.stop(true));
    let _ = server.thread.join();
}

/// A minimal HTTP/1.1 keep-alive client connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn { reader: BufReader::new(s) })
    }

    /// Sends one request; returns (status, body, whether the connection stays open).
    fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>, bool)> {
        use std::io::{Error, ErrorKind};
        self.reader.get_mut().write_all(request)?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::new(ErrorKind::InvalidData, format!("bad status line {line:?}")))?;
        let (mut length, mut chunked, mut keep) = (0usize, false, true);
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
                match k.as_str() {
                    "content-length" => length = v.parse().unwrap_or(0),
                    "transfer-encoding" => chunked = v.contains("chunked"),
                    "connection" => keep = !v.contains("close"),
                    _ => {}
                }
            }
        }
        let mut body = vec![];
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .map_err(|_| Error::new(ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    loop {
                        line.clear();
                        if self.reader.read_line(&mut line)? == 0 || line == "\r\n" {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                let mut crlf = [0u8; 2];
                self.reader.read_exact(&mut crlf)?;
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok((status, body, keep))
    }
}

fn http_post(addr: SocketAddr, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A string field of a JSON answer, found textually (`"key":"value"`).
fn json_field(body: &[u8], key: &str) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let pat = format!("\"{key}\":\"");
    let start = s.find(&pat)? + pat.len();
    let rest = &s[start..];
    Some(rest[..rest.find('"')?].to_string())
}

#[derive(Default)]
struct Load {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
    outcomes: BTreeMap<String, usize>,
    io_errors: usize,
    elapsed: Duration,
}

impl Load {
    fn ok(&self) -> usize {
        self.statuses.get(&200).copied().unwrap_or(0)
    }
    fn non_200(&self) -> usize {
        self.statuses.iter().filter(|(s, _)| **s != 200).map(|(_, n)| n).sum::<usize>() + self.io_errors
    }
    fn sent(&self) -> usize {
        self.latencies.len() + self.io_errors
    }
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn describe_errors(&self) -> String {
        let mut parts: Vec<String> =
            self.statuses.iter().filter(|(s, _)| **s != 200).map(|(s, n)| format!("{n} × {s}")).collect();
        if self.io_errors > 0 {
            parts.push(format!("{} I/O errors", self.io_errors));
        }
        if parts.is_empty() {
            "0".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Sends `total` requests (body `i` for request `i`) from `threads` client threads, each on its own
/// keep-alive connection; stops early at `limit`.
fn load(
    addr: SocketAddr,
    total: usize,
    threads: usize,
    limit: Duration,
    body: &(dyn Fn(usize) -> String + Sync),
) -> Load {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + limit;
    let parts: Vec<Load> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut part = Load::default();
                    let mut conn: Option<Conn> = None;
                    while Instant::now() < deadline {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let request = http_post(addr, WEBHOOK_PATH, &body(i));
                        let t0 = Instant::now();
                        if conn.is_none() {
                            match Conn::open(addr) {
                                Ok(c) => conn = Some(c),
                                Err(_) => {
                                    part.io_errors += 1;
                                    continue;
                                }
                            }
                        }
                        match conn.as_mut().map(|c| c.send(&request)) {
                            Some(Ok((status, answer, keep))) => {
                                part.latencies.push(t0.elapsed());
                                *part.statuses.entry(status).or_default() += 1;
                                let key = if status == 200 { "outcome" } else { "code" };
                                let outcome = json_field(&answer, key).unwrap_or_else(|| "?".into());
                                *part.outcomes.entry(outcome).or_default() += 1;
                                if !keep {
                                    conn = None;
                                }
                            }
                            _ => {
                                part.io_errors += 1;
                                conn = None;
                            }
                        }
                    }
                    part
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut all = Load { elapsed: started.elapsed(), ..Load::default() };
    for p in parts {
        all.latencies.extend(p.latencies);
        all.io_errors += p.io_errors;
        for (k, v) in p.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
        for (k, v) in p.outcomes {
            *all.outcomes.entry(k).or_default() += v;
        }
    }
    all
}

/// The simulator's payload; distinct e-mails give distinct customers, orders and dedup keys.
fn simulator_body(run: &str, tag: &str, i: usize) -> String {
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

/// CPU time (seconds) of this process and of the whole machine (busy, total), from /proc.
#[derive(Clone, Copy)]
struct Cpu {
    own: f64,
    postgres: f64,
    busy: f64,
    total: f64,
}

fn cpu_now() -> Option<Cpu> {
    let tick = 100.0; // USER_HZ on Linux
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
    let own = (fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / tick;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let all: Vec<f64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let total: f64 = all.iter().take(8).sum();
    let idle = all.get(3)? + all.get(4)?;
    let mut postgres = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        if !entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        if !head.ends_with("(postgres") {
            continue;
        }
        let f: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
        postgres += f.iter().sum::<f64>() / tick;
    }
    Some(Cpu { own, postgres, busy: (total - idle) / tick, total: total / tick })
}

/// "machine busy X % of N CPUs, this process Y %, the rest Z %" between two readings.
fn cpu_share(a: Option<Cpu>, b: Option<Cpu>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.total > a.total => {
            let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
            let wall = (b.total - a.total) / cpus;
            let pct = |v: f64| 100.0 * v / wall;
            let (busy, own, pg) = (pct(b.busy - a.busy), pct(b.own - a.own), pct(b.postgres - a.postgres));
            format!(
                "machine {busy:.0} % busy of {:.0} % ({cpus} CPUs); this process (server and client threads) \
                 {own:.0} %; PostgreSQL processes {pg:.0} %; other programs on the machine {:.0} %",
                100.0 * cpus,
                (busy - own - pg).max(0.0)
            )
        }
        _ => "not available".into(),
    }
}

/// Reads a field (kB) of /proc/self/status.
fn proc_status_kb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn latency_row(out: &mut String, label: &str, l: &Load) -> R<()> {
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

fn ingest_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
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
    let warm = load(server.addr, 200.min(o.webhooks), o.concurrency, limit, &|i| simulator_body(&run, "warm", i));
    progress(&format!("{} webhooks from {} client threads ...", o.webhooks, o.concurrency));
    let cpu_before = cpu_now();
    let main = load(server.addr, o.webhooks, o.concurrency, limit, &|i| simulator_body(&run, "main", i));
    let cpu_main = cpu_share(cpu_before, cpu_now());
    let hwm_main = proc_status_kb("VmHWM:").unwrap_or(0.0);
    let rss_main = proc_status_kb("VmRSS:").unwrap_or(0.0);

    progress("duplicate storm ...");
    let dup_body = simulator_body(&run, "dup", 0);
    let storm = load(server.addr, 1000, o.concurrency, limit, &|_| dup_body.clone());
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
        sweep.push((threads, load(server.addr, sweep_n, threads, limit, &|i| simulator_body(&run, &tag, i))));
    }
    stop_server(server);
    let mut pools = vec![];
    let setups = [(2u32, "2"), (4, "4"), (16, "16"), (pool_size, "10, as the app (`db::connect`)")];
    for (n, (size, label)) in setups.into_iter().enumerate() {
        progress(&format!("pool: {label} ..."));
        let server = start_server(&o.url, size)?;
        let tag = format!("p{n}");
        pools.push((label, load(server.addr, sweep_n, o.concurrency, limit, &|i| simulator_body(&run, &tag, i))));
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
         threads of this process, each with one HTTP/1.1 keep-alive connection, sending \
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

// ---- 3. outbox worker ------------------------------------------------------------------------------

/// Succeeds with the line the default executor would print, without printing it.
struct Quiet;

impl Executor for Quiet {
    fn execute(&self, job: &Job) -> Result<String, String> {
        Ok(describe(job))
    }
}

fn drain(pool: &Pool, threads: usize) -> R<(usize, Duration)> {
    let worker = Worker {
        pool: pool.clone(),
        executor: Arc::new(Quiet),
        max_attempts: 8,
        lease: chrono::Duration::seconds(60),
        batch: 20,
        shutdown: Default::default(),
    };
    let t0 = Instant::now();
    let results: Vec<R<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(|| worker.drain())).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a worker thread panicked".into()))).collect()
    });
    let elapsed = t0.elapsed();
    let mut total = 0;
    for r in results {
        total += r?;
    }
    Ok((total, elapsed))
}

fn pending(conn: &mut PgConnection) -> R<i64> {
    scalar(conn, "SELECT count(*) AS n FROM treatments WHERE status = 'pending' AND run_at <= now()")
}

fn worker_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let pool = portaria::db::connect(&o.url, 8)?;
    let mut rows = vec![];
    let left = pending(conn)?;
    if left > 0 {
        progress(&format!("draining the {left} treatments left by the webhook phase (4 threads) ..."));
        let (n, d) = drain(&pool, 4)?;
        rows.push((format!("the {left} treatments created by the webhook phase"), 4, n, d));
    }
    for threads in [1usize, 2, 4] {
        progress(&format!("{} treatments, {threads} worker thread(s) ...", o.treatments));
        sql_query(
            "WITH c AS (SELECT id, email, name, row_number() OVER (ORDER BY id) - 1 AS k \
                        FROM (SELECT id, email, name FROM customers ORDER BY id LIMIT 1000) s), \
                  m AS (SELECT count(*) AS n FROM c) \
             INSERT INTO treatments (kind, reason, payload, customer_id) \
             SELECT CASE WHEN g % 2 = 0 THEN 'grant_access' ELSE 'welcome_message' END, 'bench', \
                    jsonb_build_object('email', c.email, 'name', c.name, 'course', 'Curso principal'), c.id \
             FROM generate_series(1, $1) AS g, m, c WHERE c.k = g % m.n",
        )
        .bind::<BigInt, _>(o.treatments)
        .execute(conn)
        .map_err(err)?;
        conn.batch_execute("ANALYZE treatments").map_err(err)?;
        let (n, d) = drain(&pool, threads)?;
        rows.push((format!("{} inserted pending treatments", o.treatments), threads, n, d));
    }
    let still = pending(conn)?;
    let out = &mut r.out;
    writeln!(out, "### 3. Outbox worker\n").map_err(err)?;
    writeln!(
        out,
        "`treatments::worker::Worker::drain()` (batches of 20 claimed with `FOR UPDATE SKIP LOCKED`, then one \
         `UPDATE ... done` and one `NOTIFY` per treatment) from N threads sharing a pool of 8, with a no-op \
         executor that returns `describe(job)` without printing. Treatments are inserted as `pending` with one \
         `INSERT ... SELECT` before each run.\n"
    )
    .map_err(err)?;
    writeln!(out, "| treatments | threads | done | time | treatments/s |\n|---|---:|---:|---:|---:|").map_err(err)?;
    let mut best: f64 = 0.0;
    let mut one_thread: f64 = 0.0;
    for (label, threads, n, d) in &rows {
        let tps = *n as f64 / d.as_secs_f64().max(1e-9);
        writeln!(out, "| {label} | {threads} | {n} | {:.1} s | **{tps:.0}** |", d.as_secs_f64()).map_err(err)?;
        if label.contains("inserted") {
            best = best.max(tps);
            if *threads == 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diesel_debug_output() {
        let (sql, binds) = split_debug_query(r#"SELECT $1, $2, $10 -- binds: ["it's", 0, "a\"b\\c", 20]"#).unwrap();
        assert_eq!(sql, "SELECT $1, $2, $10");
        assert_eq!(
            binds,
            vec![Bind::Str("it's".into()), Bind::Int("0".into()), Bind::Str("a\"b\\c".into()), Bind::Int("20".into())]
        );
        let inlined = replace_params("a = $1 AND b = $2 LIMIT $12", |n| Ok(format!("<{n}>"))).unwrap();
        assert_eq!(inlined, "a = <1> AND b = <2> LIMIT <12>");
        assert_eq!(literal(&binds[0]), "'it''s'");
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = stats((1..=100).map(Duration::from_millis).collect());
        assert_eq!(
            (s.p50, s.p95, s.p99, s.max),
            (
                Duration::from_millis(50),
                Duration::from_millis(95),
                Duration::from_millis(99),
                Duration::from_millis(100)
            )
        );
    }
}
