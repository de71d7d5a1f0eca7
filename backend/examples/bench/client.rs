//! The load generator of the ingest phase: client threads, each running an awc client (one keep-alive
//! connection) on its own actix system, posting webhooks to the in-process server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
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
    let url = format!("http://{addr}{path}");
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + limit;
    let parts: Vec<Load> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| actix_web::rt::System::new().block_on(client_thread(&url, &next, total, deadline, body)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut all = Load { elapsed: started.elapsed(), ..Load::default() };
    for part in parts {
        all.merge(part);
    }
    all
}

/// One client thread: takes request numbers from `next` until `total` or the deadline.
async fn client_thread(
    url: &str,
    next: &AtomicUsize,
    total: usize,
    deadline: Instant,
    body: &(dyn Fn(usize) -> String + Sync),
) -> Load {
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(1).timeout(Duration::from_secs(5)))
        .timeout(Duration::from_secs(30))
        .finish();
    let mut part = Load::default();
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            break;
        }
        let payload = body(i);
        let t0 = Instant::now();
        let sent = client.post(url).content_type("application/json").send_body(payload).await;
        let answer = match sent {
            Ok(mut response) => response.body().await.map(|b| (response.status().as_u16(), b)).ok(),
            Err(_) => None,
        };
        match answer {
            Some((status, bytes)) => {
                part.latencies.push(t0.elapsed());
                *part.statuses.entry(status).or_default() += 1;
                let (outcome, event_id) = outcome(status, &bytes);
                *part.outcomes.entry(outcome).or_default() += 1;
                if status == 200 {
                    part.event_ids.extend(event_id);
                }
            }
            None => part.io_errors += 1,
        }
    }
    part.client_cpu = thread_cpu_seconds().unwrap_or(0.0);
    part
}

/// CPU time (user + system, seconds) of the calling thread so far, from /proc/thread-self/stat.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ on Linux
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
