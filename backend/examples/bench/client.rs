//! The load generator of the ingest phase: blocking client threads, each with one keep-alive HTTP/1.1
//! connection, posting webhooks to the in-process server — each request in one write, each answer read
//! up to its `Content-Length` (parsed with `httparse`), as a load generator like wrk does. The client
//! shares the two CPUs with the server and PostgreSQL, so it should cost as little as it can: an awc
//! client on an actix system per thread cost two to three times as much CPU per request, and ureq (which
//! writes the head and the body apart) woke the server twice per request. Its CPU time is measured and
//! reported apart.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Default)]
pub(crate) struct Load {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) statuses: BTreeMap<u16, usize>,
    /// The answer's `outcome` (200) or `error.code` (any other status), `?` when it has neither.
    pub(crate) outcomes: BTreeMap<String, usize>,
    /// Requests that got no HTTP answer (connection refused or reset, timeout).
    pub(crate) io_errors: usize,
    /// The `event_id` of every 200 answer: each must be in the database (nothing lost).
    pub(crate) event_ids: Vec<i64>,
    pub(crate) elapsed: Duration,
    /// CPU time (seconds) the client threads used: the load generator's share of this process.
    pub(crate) client_cpu: f64,
}

impl Load {
    pub(crate) fn ok(&self) -> usize {
        self.statuses.get(&200).copied().unwrap_or(0)
    }
    pub(crate) fn non_200(&self) -> usize {
        self.statuses.iter().filter(|(s, _)| **s != 200).map(|(_, n)| n).sum::<usize>() + self.io_errors
    }
    pub(crate) fn sent(&self) -> usize {
        self.latencies.len() + self.io_errors
    }
    pub(crate) fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub(crate) fn describe_errors(&self) -> String {
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

    fn merge(&mut self, part: Load) {
        self.latencies.extend(part.latencies);
        self.io_errors += part.io_errors;
        self.client_cpu += part.client_cpu;
        self.event_ids.extend(part.event_ids);
        for (k, v) in part.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in part.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
    }
}

/// The answer's outcome (`outcome` of a 200, `error.code` of an error body) and its `event_id`.
fn outcome(status: u16, body: &[u8]) -> (String, Option<i64>) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = if status == 200 { &value["outcome"] } else { &value["error"]["code"] };
    (field.as_str().unwrap_or("?").to_string(), value["event_id"].as_i64())
}

/// Sends `total` POSTs of JSON to `path` (body `i` for request `i`) from `threads` client threads, each
/// on its own keep-alive connection; stops early at `limit`.
pub(crate) fn load(
    addr: SocketAddr,
    path: &str,
    total: usize,
    threads: usize,
    limit: Duration,
    body: &(dyn Fn(usize) -> String + Sync),
) -> Load {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + limit;
    let parts: Vec<Load> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..threads).map(|_| s.spawn(|| client_thread(addr, path, &next, total, deadline, body))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut all = Load { elapsed: started.elapsed(), ..Load::default() };
    for part in parts {
        all.merge(part);
    }
    all
}

/// One client thread: takes request numbers from `next` until `total` or the deadline.
fn client_thread(
    addr: SocketAddr,
    path: &str,
    next: &AtomicUsize,
    total: usize,
    deadline: Instant,
    body: &(dyn Fn(usize) -> String + Sync),
) -> Load {
    let mut part = Load::default();
    let mut connection: Option<Connection> = None;
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            break;
        }
        let payload = body(i);
        let t0 = Instant::now();
        match exchange(&mut connection, addr, path, &payload) {
            Ok((status, bytes)) => {
                part.latencies.push(t0.elapsed());
                *part.statuses.entry(status).or_default() += 1;
                let (outcome, event_id) = outcome(status, &bytes);
                *part.outcomes.entry(outcome).or_default() += 1;
                if status == 200 {
                    part.event_ids.extend(event_id);
                }
            }
            Err(_) => {
                connection = None;
                part.io_errors += 1;
            }
        }
    }
    part.client_cpu = thread_cpu_seconds().unwrap_or(0.0);
    part
}

/// A keep-alive connection to the server, with the buffer its answers are read into.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// One POST of `payload` and its answer (status, body), on `connection` (opened when there is none;
/// closed after an answer that says `Connection: close`).
fn exchange(
    connection: &mut Option<Connection>,
    addr: SocketAddr,
    path: &str,
    payload: &str,
) -> std::io::Result<(u16, Vec<u8>)> {
    let c = match connection {
        Some(c) => c,
        None => {
            let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            connection.insert(Connection { stream, buffer: Vec::with_capacity(4096) })
        }
    };
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    )
    .into_bytes();
    request.extend_from_slice(payload.as_bytes());
    c.stream.write_all(&request)?;
    c.buffer.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = c.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        c.buffer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&c.buffer).map_err(std::io::Error::other)? {
            httparse::Status::Complete(head) => head,
            httparse::Status::Partial => continue,
        };
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .map(str::trim)
        };
        let length = header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| std::io::Error::other("an answer without Content-Length"))?;
        if c.buffer.len() < head + length {
            continue;
        }
        let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let answer = (response.code.unwrap_or(0), c.buffer[head..head + length].to_vec());
        if close {
            *connection = None;
        }
        return Ok(answer);
    }
}

/// CPU time (user + system, seconds) of the calling thread so far.
fn thread_cpu_seconds() -> Option<f64> {
    crate::machine::stat_cpu_seconds(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_of_an_answer_or_an_error_body() {
        assert_eq!(
            outcome(200, br#"{"event_id":1,"outcome":"duplicate","treatments":[]}"#),
            ("duplicate".into(), Some(1))
        );
        assert_eq!(
            outcome(401, br#"{"error":{"code":"unauthorized","message":"no","details":null}}"#),
            ("unauthorized".into(), None)
        );
        assert_eq!(outcome(502, b"Bad Gateway"), ("?".into(), None));
    }
}
