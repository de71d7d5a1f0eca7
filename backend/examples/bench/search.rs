//! 1. Customer search: latency of `staff::queries::customers::search()` per term, and the plans of the SQL it sends.

use crate::sql::{scalar, text, Txt};
use crate::stats::{ms, ms_f, stats, Stats};
use crate::{connect, err, progress, Options, Report, R};
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use portaria::schema::customers as c;
use portaria::staff::pagination::like_escape;
use portaria::staff::queries::customers::{names_one_customer, search, term, Term};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One `INSERT ... SELECT ... FROM generate_series`: Brazilian names with accents, lower-case e-mails
/// (unique by the series number), an 11-digit CPF for 90 % of the rows (a 14-digit CNPJ for 2 %),
/// a phone for a third. Common names come first in the arrays and are drawn more often.
pub(crate) fn seed_sql(first: i64, last: i64) -> String {
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

diesel::define_sql_function! {
    /// Lower-case and accent-free (migration 1), as in `staff::queries::customers`.
    fn portaria_fold(x: Text) -> Text;
}

/// Rows per page, as the API's default.
const PAGE: i64 = 20;
const SEARCH_TARGET_MS: f64 = 10.0;
/// An exact e-mail or CPF is answered from the btree indexes alone.
const EXACT_TARGET_MS: f64 = 2.0;

pub(crate) fn term_kind(t: &Term) -> &'static str {
    match t {
        Term::All => "all",
        Term::EmailPrefix(_) => "e-mail prefix (btree)",
        Term::Contains(q) if names_one_customer(q) => "whole e-mail / document",
        Term::Contains(_) => "contains",
    }
}

/// How many customers match a term (what the ranking has to sort through before the LIMIT).
pub(crate) fn matches(conn: &mut PgConnection, t: &Term) -> R<i64> {
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
pub(crate) enum Bind {
    Str(String),
    /// An integer or a boolean, inlined as written.
    Literal(String),
}

/// Splits diesel's debug output `SQL -- binds: [..]` into the SQL and its bound values.
pub(crate) fn split_debug_query(dbg: &str) -> R<(String, Vec<Bind>)> {
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
                if s.parse::<i64>().is_err() && s != "true" && s != "false" {
                    return Err(format!("unexpected bind value {s:?}"));
                }
                out.push(Bind::Literal(s));
            }
        }
    }
    Ok((sql.to_string(), out))
}

pub(crate) fn literal(b: &Bind) -> String {
    match b {
        Bind::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Bind::Literal(l) => l.clone(),
    }
}

/// Replaces `$n` placeholders with `f(n)`.
pub(crate) fn replace_params(sql: &str, f: impl Fn(usize) -> R<String>) -> R<String> {
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
pub(crate) fn captured_search_sql(url: &str, t: &Term, after: Option<(i64, i64)>) -> R<Vec<(String, Vec<Bind>)>> {
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

pub(crate) struct Plan {
    pub(crate) lines: Vec<String>,
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
            ("customers_document", "document btree `customers_document`"),
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

pub(crate) fn explain_text(conn: &mut PgConnection, statement: &str) -> R<Plan> {
    let lines = sql_query("SELECT pg_temp.bench_explain($1) AS t")
        .bind::<Text, _>(statement)
        .load::<Txt>(conn)
        .map_err(|e| format!("{e}: {statement}"))?;
    Ok(Plan { lines: lines.into_iter().map(|l| l.t).collect() })
}

/// EXPLAIN (ANALYZE, BUFFERS) of a captured query with its bound values inlined as literals.
pub(crate) fn explain_inlined(conn: &mut PgConnection, sql: &str, binds: &[Bind]) -> R<(String, Plan)> {
    let inlined = replace_params(sql, |n| binds.get(n - 1).map(literal).ok_or_else(|| format!("no bind for ${n}")))?;
    let plan = explain_text(conn, &format!("EXPLAIN (ANALYZE, BUFFERS) {inlined}"))?;
    Ok((inlined, plan))
}

/// A short name for one of the queries `search()` sends.
pub(crate) fn query_role(sql: &str) -> &'static str {
    if sql.starts_with("SELECT EXISTS") {
        "is the term someone's e-mail or document exactly?"
    } else if sql.contains("UNION ALL") {
        "ranks 0 and 1: exact e-mail or document, e-mail prefix"
    } else if sql.contains("strpos") {
        "rank 2, a window walked in id order"
    } else if sql.contains("\"search_text\" LIKE") {
        "rank 2, the older ids (trigram index)"
    } else if sql.contains(" LIKE ") {
        "rank 1, e-mail prefix"
    } else if sql.contains("\"email\" = ") {
        "rank 0, exact e-mail or document"
    } else if sql.contains("ORDER BY \"customers\".\"id\" DESC LIMIT") && !sql.contains(" AND ") {
        "newest id before the cursor"
    } else {
        "other"
    }
}

#[derive(QueryableByName)]
pub(crate) struct PreparedStats {
    #[diesel(sql_type = BigInt)]
    pub(crate) generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) custom_plans: i64,
}

pub(crate) fn search_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
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
        ("CPF, digits only", d.clone()),
        ("an e-mail nobody has", format!("x{}", sample.email)),
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
    let pool = portaria::db::connect(&o.url, 1).map_err(|e| e.to_string())?;
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
        "`staff::queries::customers::search()` with limit {PAGE} on a real connection, every term in turn, after one \
         untimed round, up to {} runs per term, at most {} s per term; times in ms. \"app\" = a connection \
         from `db::connect`'s pool, as the server uses; \"plain\" = a fresh connection. Either way every \
         statement of `search()` whose plan depends on the term is sent unnamed (`custom_plan`), so PostgreSQL \
         plans it with the term every time; only the newest-id and exact-match probes are kept prepared \
         ({} generic and {} custom plans of those on the plain one).\n",
        o.search_runs,
        o.search_term_seconds,
        plain_plans.iter().map(|p| p.generic_plans).sum::<i64>(),
        plain_plans.iter().map(|p| p.custom_plans).sum::<i64>()
    )
    .map_err(err)?;
    writeln!(
        out,
        "| term | searched as | matching rows | rows returned | runs | p50 app | p95 app | p99 app | max app | \
         p50 plain | p99 plain |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .map_err(err)?;
    let mut worst: Option<(String, f64)> = None;
    let mut worst_exact: Option<(String, f64)> = None;
    for (i, ((label, q), (t, _))) in terms.iter().zip(&parsed).enumerate() {
        let (a, b) = (&results[0][i], &results[1][i]);
        writeln!(
            out,
            "| {label} `{q}` | {} | {} | {} | {} | {} | {} | **{}** | {} | {} | {} |",
            term_kind(t),
            counts[i],
            rows[i],
            a.n,
            ms(a.p50),
            ms(a.p95),
            ms(a.p99),
            ms(a.max),
            ms(b.p50),
            ms(b.p99)
        )
        .map_err(err)?;
        let p99 = ms_f(a.p99);
        if q.chars().count() >= 3 && worst.as_ref().is_none_or(|(_, w)| p99 > *w) {
            worst = Some((format!("`{q}`"), p99));
        }
        let exact = matches!(t, Term::Contains(q) if names_one_customer(q)) && counts[i] > 0;
        if exact && worst_exact.as_ref().is_none_or(|(_, w)| p99 > *w) {
            worst_exact = Some((format!("`{q}`"), p99));
        }
    }
    writeln!(out).map_err(err)?;
    if let Some((q, p99)) = worst {
        r.target(
            "search p99, every term of 3+ characters",
            &format!("≤ {SEARCH_TARGET_MS} ms on 1M customers"),
            format!("worst {p99:.1} ms ({q})"),
            p99 <= SEARCH_TARGET_MS,
        );
    }
    if let Some((q, p99)) = worst_exact {
        r.target(
            "search p99, an exact e-mail or CPF that exists",
            &format!("≤ {EXACT_TARGET_MS} ms (btree indexes only)"),
            format!("worst {p99:.2} ms ({q})"),
            p99 <= EXACT_TARGET_MS,
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
        "#### EXPLAIN (ANALYZE, BUFFERS)\n\n`search()` reads ranks 0 and 1 in one statement, then (unless a whole e-mail or \
         document was found exactly) the newest id and rank 2 window by window. Each query below is the one it sent, captured with diesel's instrumentation, with the \
         bound values inlined as literals (a custom plan, as the app's connections plan them). The full plan \
         shown is the slowest query of the term.\n"
    )
    .map_err(err)?;
    let explained = [
        "common first name",
        "accent-free full name",
        "two common names (0.5 % of customers)",
        "exact e-mail",
        "CPF with punctuation",
        "partial e-mail",
        "matches nothing",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diesel_debug_output() {
        let (sql, binds) =
            split_debug_query(r#"SELECT $1, $2, $10, $11 -- binds: ["it's", 0, "a\"b\\c", 20, false]"#).unwrap();
        assert_eq!(sql, "SELECT $1, $2, $10, $11");
        assert_eq!(
            binds,
            vec![
                Bind::Str("it's".into()),
                Bind::Literal("0".into()),
                Bind::Str("a\"b\\c".into()),
                Bind::Literal("20".into()),
                Bind::Literal("false".into())
            ]
        );
        assert!(split_debug_query(r#"SELECT $1 -- binds: [maybe]"#).is_err());
        let inlined = replace_params("a = $1 AND b = $2 LIMIT $12", |n| Ok(format!("<{n}>"))).unwrap();
        assert_eq!(inlined, "a = <1> AND b = <2> LIMIT <12>");
        assert_eq!(literal(&binds[0]), "'it''s'");
    }
}
