//! 4\. CSV export over HTTP: `GET /api/reports/treatments.csv` of a tenth of BENCH_CSV_TREATMENTS (default
//! 1,000,000), then of all of them, from the real app served in this process, with the server's peak RSS
//! (VmHWM, reset before each export, and VmRSS sampled every 10 ms) and the time.

use crate::ingest::{start_server_with, stop_server};
use crate::machine::proc_status_kb;
use crate::sql::scalar;
use crate::{err, progress, Options, Report, R};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use futures_util::StreamExt;
use portaria::config::Config;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Growth of the peak RSS during the 1,000,000-row export over the RSS before it.
const CSV_PEAK_GROWTH_TARGET_MB: f64 = 50.0;

/// Adds treatments `first..=last` (one `INSERT ... SELECT ... FROM generate_series`): done, of the
/// seeded customers, every kind and reason, a few with an output that needs quoting or defusing.
fn seed_sql(first: i64, last: i64) -> String {
    format!(
        r#"
INSERT INTO treatments (kind, status, attempts, run_at, output, last_error, reason, payload, customer_id,
                        created_at, updated_at, done_at)
SELECT (ARRAY['grant_access', 'welcome_message', 'revoke_access', 'refund_message'])[1 + g % 4],
       'done', 1 + g % 3, t, 'Acesso liberado para ' || c.email,
       CASE WHEN g % 97 = 0 THEN '=HYPERLINK("x"), "erro" ' || g END,
       (ARRAY['payment_approved', 'repurchase', 'payment_refunded', 'manual'])[1 + g % 4],
       '{{}}'::jsonb, c.id, t, t, t + interval '2 seconds'
FROM (SELECT g, now() - ({last} - g) * interval '1 second' AS t
      FROM generate_series({first}::bigint, {last}::bigint) AS g) s
JOIN (SELECT id, email, row_number() OVER (ORDER BY id) - 1 AS k FROM customers ORDER BY id LIMIT 500000) c
  ON c.k = s.g % least(500000, (SELECT count(*) FROM customers))"#
    )
}

struct Export {
    rows: usize,
    bytes: usize,
    chunks: usize,
    status: u16,
    elapsed: Duration,
    /// VmHWM after the export (peak since the reset before it), VmRSS before and the largest VmRSS sampled.
    rss_before_mb: f64,
    hwm_mb: f64,
    sampled_max_mb: f64,
}

/// Downloads the report with awc, chunk by chunk, counting records (lines) without keeping them.
fn export(addr: SocketAddr, token: &str) -> R<Export> {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = proc_status_kb("VmRSS:").unwrap_or(0.0);
    let done = Arc::new(AtomicBool::new(false));
    let max_rss = Arc::new(Mutex::new(rss_before));
    let sampler = {
        let (done, max_rss) = (done.clone(), max_rss.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(kb) = proc_status_kb("VmRSS:") {
                    let mut m = max_rss.lock().expect("rss");
                    *m = m.max(kb);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let t0 = Instant::now();
    let result: R<(u16, usize, usize, usize)> = actix_web::rt::System::new().block_on(async {
        let client = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
        let mut res = client
            .get(format!("http://{addr}/api/reports/treatments.csv"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
            .await
            .map_err(err)?;
        let (mut lines, mut bytes, mut chunks) = (0usize, 0usize, 0usize);
        while let Some(chunk) = res.next().await {
            let chunk = chunk.map_err(err)?;
            chunks += 1;
            bytes += chunk.len();
            lines += chunk.iter().filter(|&&b| b == b'\n').count();
        }
        Ok((res.status().as_u16(), lines, bytes, chunks))
    });
    let elapsed = t0.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let (status, lines, bytes, chunks) = result?;
    let hwm = if reset { proc_status_kb("VmHWM:").unwrap_or(0.0) } else { f64::NAN };
    let sampled = *max_rss.lock().expect("rss");
    Ok(Export {
        rows: lines.saturating_sub(1),
        bytes,
        chunks,
        status,
        elapsed,
        rss_before_mb: rss_before / 1024.0,
        hwm_mb: hwm / 1024.0,
        sampled_max_mb: sampled / 1024.0,
    })
}

/// A staff user of the bench and an access token for it (signed with the app's secret).
fn token(conn: &mut PgConnection, config: &Config) -> R<String> {
    conn.batch_execute(
        "INSERT INTO users (email, name, password_hash, role) VALUES ('bench-csv@exemplo.com.br', 'Bench', 'x', 'admin') \
         ON CONFLICT (email) DO UPDATE SET active = true",
    )
    .map_err(err)?;
    let id = scalar(conn, "SELECT id AS n FROM users WHERE email = 'bench-csv@exemplo.com.br'")?;
    let version =
        scalar(conn, "SELECT token_version::bigint AS n FROM users WHERE email = 'bench-csv@exemplo.com.br'")?;
    portaria::auth::jwt::issue(
        id,
        "bench-csv@exemplo.com.br",
        version as i32,
        &config.jwt_secret,
        3600,
        chrono::Utc::now().timestamp(),
    )
    .map_err(err)
}

pub(crate) fn csv_bench(conn: &mut PgConnection, o: &Options, r: &mut Report) -> R<()> {
    let config = Config::for_tests(&o.url);
    let token = token(conn, &config)?;
    // The earlier phases' treatments are counted and reported already: this phase exports only its own.
    conn.batch_execute("TRUNCATE treatments").map_err(err)?;
    let server = start_server_with(config.clone())?;
    let mut results = vec![];
    let mut have = 0;
    let total = crate::num("BENCH_CSV_TREATMENTS", 1_000_000i64)?.clamp(10, 10_000_000);
    for size in [total / 10, total] {
        progress(&format!("seeding {} treatments (one INSERT ... SELECT) ...", size - have));
        let t0 = Instant::now();
        conn.batch_execute("SET statement_timeout = '30min'").map_err(err)?;
        sql_query(seed_sql(have + 1, size)).execute(conn).map_err(err)?;
        conn.batch_execute("RESET statement_timeout").map_err(err)?;
        conn.batch_execute("VACUUM (ANALYZE) treatments").map_err(err)?;
        let seeded = t0.elapsed();
        have = size;
        progress(&format!("exporting {size} treatments as CSV over HTTP ..."));
        let e = export(server.addr, &token)?;
        results.push((size, seeded, e));
    }
    stop_server(server);
    conn.batch_execute("TRUNCATE treatments").map_err(err)?;

    let out = &mut r.out;
    writeln!(out, "### 4. CSV export\n").map_err(err)?;
    writeln!(
        out,
        "`GET /api/reports/treatments.csv` (no filter: every treatment, newest first) from the real app served in \
         this process (as in section 2), downloaded by an awc client in this process that counts the lines of each \
         chunk and keeps nothing. The server reads the treatments in keyset-paginated batches of 500 (`id < last id \
         ORDER BY id DESC LIMIT 500`, one pooled connection per batch) and writes each batch as one chunk of the \
         streamed body, so what it holds is one batch, whatever the size of the report. Treatments seeded with \
         `INSERT ... SELECT ... FROM generate_series` (done, of 500,000 distinct customers). Memory is this process's \
         (server and client): VmHWM after the export, reset (`/proc/self/clear_refs`) just before it, and the largest \
         VmRSS sampled every 10 ms.\n"
    )
    .map_err(err)?;
    writeln!(
        out,
        "| treatments | seeded in | status | rows in the CSV | size | chunks | time | rows/s | RSS before | peak RSS (VmHWM) | largest sampled RSS |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .map_err(err)?;
    for (size, seeded, e) in &results {
        writeln!(
            out,
            "| {size} | {:.1} s | {} | {} | {:.1} MB | {} | {:.1} s | **{:.0}** | {:.1} MB | **{:.1} MB** | {:.1} MB |",
            seeded.as_secs_f64(),
            e.status,
            e.rows,
            e.bytes as f64 / 1e6,
            e.chunks,
            e.elapsed.as_secs_f64(),
            e.rows as f64 / e.elapsed.as_secs_f64().max(1e-9),
            e.rss_before_mb,
            e.hwm_mb,
            e.sampled_max_mb
        )
        .map_err(err)?;
    }
    writeln!(out).map_err(err)?;
    for (size, _, e) in &results {
        if e.status != 200 || e.rows as i64 != *size {
            return Err(format!("the CSV export of {size} treatments answered {} with {} rows", e.status, e.rows));
        }
    }
    if let (Some((_, _, small)), Some((size, _, big))) = (results.first(), results.last()) {
        let growth = big.hwm_mb - big.rss_before_mb;
        r.target(
            &format!("CSV export of {size} treatments, peak RSS growth"),
            &format!("constant memory (< {CSV_PEAK_GROWTH_TARGET_MB} MB over the RSS before it)"),
            format!(
                "+{growth:.1} MB (peak {:.1} MB; {:.1} MB for {} rows), {:.1} s",
                big.hwm_mb,
                small.hwm_mb,
                small.rows,
                big.elapsed.as_secs_f64()
            ),
            growth < CSV_PEAK_GROWTH_TARGET_MB,
        );
    }
    Ok(())
}
