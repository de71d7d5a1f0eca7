//! The real `portaria serve` binary as a child process on a free loopback port, for tests that
//! kill and restart it. Its standard output (one line per executed treatment) is collected into a
//! `Stdout` that outlives the process, so that lines of successive processes add up.

use super::{GENERIC_SECRET, HASHTAG_TOKEN, HOTTOK, KIWIFY_TOKEN};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Every line the server processes printed on standard output.
#[derive(Clone, Default)]
pub struct Stdout(Arc<Mutex<Vec<String>>>);

impl Stdout {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

pub struct Server {
    pub port: u16,
    child: Option<Child>,
    reader: Option<JoinHandle<()>>,
    pub log: PathBuf,
}

impl Server {
    /// Starts `portaria serve` against `database_url` on `port` with the test secrets (the same as
    /// `common::webhook` signs with), `WORKER_CONCURRENCY` workers and `extra` variables. Does not
    /// wait for it: see `wait_ready`.
    pub fn spawn(database_url: &str, port: u16, stdout: &Stdout, extra: &[(&str, &str)]) -> Server {
        let log = std::env::temp_dir().join(format!(
            "portaria-serve-{}-{port}-{:08x}.log",
            std::process::id(),
            rand::random::<u32>()
        ));
        let stderr = std::fs::File::create(&log).expect("server log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portaria"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORTARIA_ENV", "dev")
            .env("DATABASE_URL", database_url)
            .env("PORTARIA_BIND", format!("127.0.0.1:{port}"))
            .env("HASHTAG_WEBHOOK_TOKEN", HASHTAG_TOKEN)
            .env("HOTMART_HOTTOK", HOTTOK)
            .env("KIWIFY_WEBHOOK_TOKEN", KIWIFY_TOKEN)
            .env("GENERIC_WEBHOOK_SECRET", GENERIC_SECRET)
            .env("FRONTEND_DIR", "/nonexistent")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start portaria serve");
        let out = child.stdout.take().unwrap();
        let sink = stdout.0.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Server { port, child: Some(child), reader: Some(reader), log }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `GET /readyz` until it answers 200 (at most `limit`); whether it did. Fails at once
    /// when the process exited (a configuration error, a port in use), with its log.
    pub fn wait_ready(&mut self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("portaria serve exited ({status}):\n{}", self.log_tail(40));
            }
            if http_status(self.port, "/readyz") == Some(200) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    /// SIGKILL: no shutdown, no cleanup, like a crash or an OOM kill. Waits for the process and for
    /// the last of its output.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    /// The last `n` lines of the server's standard error.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Lines of the server's standard error that contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter(|l| l.contains(needle)).count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The status of `GET path` on 127.0.0.1:`port`, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream =
        std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
