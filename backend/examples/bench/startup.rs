//! Start-to-ready (section 0): the real `portaria serve` binary (release), started on the bench
//! database with its migrations already applied, timed from spawn to its first `200` from `/readyz`;
//! its RSS at rest (ready, then after a second idle) and the time a SIGTERM takes to stop it.

use crate::stats::ms_f;
use crate::{err, progress, Options, Report, R};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Start-to-ready is reported against this; a slower start is a finding, never a failure.
const READY_TARGET_MS: f64 = 1000.0;

/// The release `portaria` next to this example (`target/release/examples/bench` → `target/release/portaria`),
/// or `BENCH_PORTARIA_BIN`.
fn binary() -> R<PathBuf> {
    if let Ok(path) = std::env::var("BENCH_PORTARIA_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(err)?;
    let release = exe.parent().and_then(|examples| examples.parent()).ok_or("no target directory")?;
    let bin = release.join("portaria");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("no {} (scripts/bench.sh builds it: cargo build --release --bin portaria)", bin.display()))
    }
}

fn free_port() -> R<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(err)?;
    Ok(listener.local_addr().map_err(err)?.port())
}

/// VmRSS of a process, in kB.
fn rss_kb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Start {
    ready: Duration,
    rss_ready_kb: f64,
    rss_idle_kb: f64,
    stop: Duration,
}

fn spawn(bin: &PathBuf, o: &Options, port: u16) -> R<Child> {
    Command::new(bin)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &o.url)
        .env("PORTARIA_BIND", format!("127.0.0.1:{port}"))
        .env("PORTARIA_ENV", "dev")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))
}

fn one(bin: &PathBuf, o: &Options) -> R<Start> {
    let port = free_port()?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(500)))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let started = Instant::now();
    let mut child = spawn(bin, o, port)?;
    let ready = loop {
        if let Ok(res) = agent.get(&url).call() {
            if res.status() == 200 {
                break started.elapsed();
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("portaria serve exited before it was ready ({status})"));
        }
        if started.elapsed() > READY_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("portaria serve was not ready within {} s", READY_TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let rss_ready_kb = rss_kb(child.id()).unwrap_or(0.0);
    std::thread::sleep(Duration::from_secs(1));
    let rss_idle_kb = rss_kb(child.id()).unwrap_or(0.0);
    let stopping = Instant::now();
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    loop {
        if child.try_wait().map_err(err)?.is_some() {
            break;
        }
        if stopping.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("portaria serve did not stop within 60 s of SIGTERM".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(Start { ready, rss_ready_kb, rss_idle_kb, stop: stopping.elapsed() })
}

pub(crate) fn startup_bench(o: &Options, r: &mut Report) -> R<()> {
    let bin = binary()?;
    progress(&format!("start-to-ready: {RUNS} starts of {} serve ...", bin.display()));
    let mut starts = vec![];
    for _ in 0..RUNS {
        starts.push(one(&bin, o)?);
    }
    let mut ready: Vec<f64> = starts.iter().map(|s| ms_f(s.ready)).collect();
    ready.sort_by(f64::total_cmp);
    let median = ready[ready.len() / 2];
    let worst = ready[ready.len() - 1];
    let idle_mb = starts.iter().map(|s| s.rss_idle_kb).fold(0.0, f64::max) / 1024.0;
    let out = &mut r.out;
    writeln!(out, "### 0. Start-to-ready\n").map_err(err)?;
    writeln!(
        out,
        "The release binary `portaria serve` ({} starts, PORTARIA_ENV=dev, migrations already applied, worker and \
         sweeps on, the frontend served when built), timed from spawn to its first `200` from `/readyz` (polled \
         every 2 ms), then stopped with SIGTERM. RSS is the server process's own (VmRSS).\n",
        RUNS
    )
    .map_err(err)?;
    writeln!(out, "| start | ready after | RSS when ready | RSS after 1 s idle | SIGTERM to exit |").map_err(err)?;
    writeln!(out, "|---:|---:|---:|---:|---:|").map_err(err)?;
    for (i, s) in starts.iter().enumerate() {
        writeln!(
            out,
            "| {} | {:.0} ms | {:.1} MB | {:.1} MB | {:.0} ms |",
            i + 1,
            ms_f(s.ready),
            s.rss_ready_kb / 1024.0,
            s.rss_idle_kb / 1024.0,
            ms_f(s.stop)
        )
        .map_err(err)?;
    }
    writeln!(out).map_err(err)?;
    r.target(
        "start-to-ready",
        "reported (ready within 1 s)",
        format!("median {median:.0} ms, worst {worst:.0} ms"),
        worst <= READY_TARGET_MS,
    );
    r.target("server RSS at rest", "< 100 MB", format!("{idle_mb:.1} MB (the server process alone)"), idle_mb < 100.0);
    Ok(())
}
