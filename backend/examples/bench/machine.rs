//! What the figures were measured on: the machine, PostgreSQL, the parameters; CPU and memory readings.

use crate::sql::text;
use crate::{err, Options, R};
use diesel::prelude::*;
use std::fmt::Write as _;

pub(crate) fn machine(conn: &mut PgConnection, o: &Options) -> R<String> {
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

/// CPU time (seconds) of this process and of the whole machine (busy, total), from /proc.
#[derive(Clone, Copy)]
pub(crate) struct Cpu {
    pub(crate) own: f64,
    pub(crate) postgres: f64,
    pub(crate) busy: f64,
    pub(crate) total: f64,
}

pub(crate) fn cpu_now() -> Option<Cpu> {
    let tick = 100.0; // USER_HZ on Linux
    let own = stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
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
        if stat.rsplit_once(')').is_some_and(|(head, _)| head.ends_with("(postgres")) {
            postgres += stat_cpu_seconds(&stat).unwrap_or(0.0);
        }
    }
    Some(Cpu { own, postgres, busy: (total - idle) / tick, total: total / tick })
}

/// The CPU time (user + system, seconds) in a `/proc/<pid>/stat` or `/proc/thread-self/stat` text.
pub(crate) fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ on Linux
}

/// "machine busy X % of N CPUs, this process Y % (server and load generator apart), PostgreSQL Z %,
/// the rest" between two readings; `client` is the CPU time (seconds) the client threads used meanwhile.
pub(crate) fn cpu_share(a: Option<Cpu>, b: Option<Cpu>, client: f64) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.total > a.total => {
            let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
            let wall = (b.total - a.total) / cpus;
            let pct = |v: f64| 100.0 * v / wall;
            let (busy, own, pg) = (pct(b.busy - a.busy), pct(b.own - a.own), pct(b.postgres - a.postgres));
            let client = pct(client).min(own);
            format!(
                "machine {busy:.0} % busy of {:.0} % ({cpus} CPUs); this process {own:.0} % (the server {:.0} %, \
                 its client threads {client:.0} %); PostgreSQL processes {pg:.0} %; other programs on the machine \
                 {:.0} %",
                100.0 * cpus,
                own - client,
                (busy - own - pg).max(0.0)
            )
        }
        _ => "not available".into(),
    }
}

/// Reads a field (kB) of /proc/self/status.
pub(crate) fn proc_status_kb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
