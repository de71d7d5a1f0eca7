//! Sends planned deliveries over HTTP (the blocking `ureq` client of the channels) on several
//! threads, at a bounded rate, one customer's sequence at a time per thread and in order, and tallies
//! the answers. A 429 is retried after its `Retry-After`, as a platform would.

use super::{resign, Delivery};
use crate::channels::http::Client;
use crate::config::SourceSecrets;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ureq::http;

/// How to send.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL (`http://127.0.0.1:8080`), without a trailing slash.
    pub url: String,
    /// Sending threads.
    pub concurrency: usize,
    /// Requests per second over all threads (`None`: as fast as the server answers).
    pub rate: Option<f64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most attempts of a delivery answered 429.
    pub max_attempts_429: u32,
}

/// What happened to one delivery.
#[derive(Debug, Clone)]
pub struct Sent {
    pub label: String,
    /// `None`: no answer (connection refused, reset, timeout).
    pub status: Option<u16>,
    /// `processed`, `duplicate`, `ignored` for a 200; the error code otherwise; the transport error
    /// when there was no answer.
    pub outcome: String,
    pub latency: Duration,
    /// Whether the status and outcome are those the plan expects.
    pub as_expected: bool,
}

/// The tally of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub sent: usize,
    /// (status, outcome) → count; status `None` for transport failures.
    pub answers: BTreeMap<(Option<u16>, String), usize>,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    /// Deliveries answered 429 and sent again.
    pub retried_429: usize,
    /// Deliveries whose answer differs from the plan's expectation (first ones kept).
    pub unexpected: Vec<Sent>,
    pub unexpected_count: usize,
}

const UNEXPECTED_KEPT: usize = 10;

impl Report {
    fn add(&mut self, r: Sent) {
        self.sent += 1;
        *self.answers.entry((r.status, r.outcome.clone())).or_default() += 1;
        if r.status.is_some() {
            self.latencies.push(r.latency);
        }
        if !r.as_expected {
            self.unexpected_count += 1;
            if self.unexpected.len() < UNEXPECTED_KEPT {
                self.unexpected.push(r);
            }
        }
    }

    /// Connection failures (no answer at all).
    pub fn failures(&self) -> usize {
        self.answers.iter().filter(|((status, _), _)| status.is_none()).map(|(_, n)| n).sum()
    }

    /// Answers with a 5xx status.
    pub fn server_errors(&self) -> usize {
        self.answers.iter().filter(|((status, _), _)| status.is_some_and(|s| s >= 500)).map(|(_, n)| n).sum()
    }

    /// Requests per second over the run.
    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.sent as f64 / seconds
        } else {
            0.0
        }
    }

    /// The latency at quantile `q` (0 to 1) of the answered requests, nearest rank.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        percentile(&self.latencies, q)
    }
}

/// Nearest-rank percentile of `samples` (unsorted).
pub fn percentile(samples: &[Duration], q: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Spreads sends over time: each takes the next slot, `1 / rate` after the previous one.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let slot = {
            let mut next = self.next.lock().expect("pacer lock");
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

/// Sends every delivery; `tick` is called after each one (the progress bar).
pub fn send_all(
    deliveries: Vec<Delivery>,
    secrets: &SourceSecrets,
    options: &Options,
    tick: &(dyn Fn(&Sent) + Sync),
) -> Report {
    let mut sequences: BTreeMap<usize, Vec<Delivery>> = BTreeMap::new();
    for d in deliveries {
        sequences.entry(d.sequence).or_default().push(d);
    }
    let queue: Mutex<VecDeque<Vec<Delivery>>> = Mutex::new(sequences.into_values().collect());
    let report = Mutex::new(Report::default());
    let pacer = Pacer {
        interval: options.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r)),
        next: Mutex::new(Instant::now()),
    };
    let client = Arc::new(Client::new(options.timeout));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..options.concurrency.max(1) {
            scope.spawn(|| loop {
                let Some(sequence) = queue.lock().expect("queue lock").pop_front() else { break };
                for delivery in sequence {
                    let (result, retried) = send_one(&client, delivery, secrets, options, &pacer);
                    tick(&result);
                    let mut report = report.lock().expect("report lock");
                    report.retried_429 += usize::from(retried);
                    report.add(result);
                }
            });
        }
    });
    let mut report = report.into_inner().expect("report lock");
    report.elapsed = started.elapsed();
    report
}

/// One delivery, retried after `Retry-After` while it is answered 429. Whether it was retried.
fn send_one(
    client: &Client,
    mut delivery: Delivery,
    secrets: &SourceSecrets,
    options: &Options,
    pacer: &Pacer,
) -> (Sent, bool) {
    let mut retried = false;
    let mut attempt = 1;
    loop {
        pacer.wait();
        // A Standard Webhooks signature must be fresh (five minutes): sign at sending time.
        let _ = resign(&mut delivery, secrets, chrono::Utc::now());
        let url = format!("{}{}", options.url, delivery.path_and_query);
        let mut request = http::Request::post(&url);
        for (name, value) in &delivery.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = match request.body(delivery.body.clone()) {
            Ok(request) => request,
            Err(e) => return (failure(&delivery, format!("invalid request: {e}"), Duration::ZERO), retried),
        };
        let began = Instant::now();
        let answer = client.send(request);
        let latency = began.elapsed();
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => return (failure(&delivery, e.error().to_string(), latency), retried),
        };
        if answer.status == 429 && attempt < options.max_attempts_429 {
            let wait = answer.retry_after.as_deref().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
            std::thread::sleep(Duration::from_secs(wait.clamp(1, 60)));
            retried = true;
            attempt += 1;
            continue;
        }
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
        let outcome =
            body["outcome"].as_str().or_else(|| body["error"]["code"].as_str()).unwrap_or("(no outcome)").to_string();
        let expected = &delivery.expect;
        let as_expected = answer.status == expected.status
            && (outcome == expected.outcome.as_str() || expected.status != 200 && answer.status != 200);
        return (Sent { label: delivery.label, status: Some(answer.status), outcome, latency, as_expected }, retried);
    }
}

fn failure(delivery: &Delivery, error: String, latency: Duration) -> Sent {
    Sent { label: delivery.label.clone(), status: None, outcome: error, latency, as_expected: false }
}

/// The summary printed at the end of a run.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let ms = |d: Option<Duration>| d.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0)).unwrap_or("-".into());
    out.push_str(&format!(
        "sent {} in {:.2} s ({:.1}/s)\n",
        report.sent,
        report.elapsed.as_secs_f64(),
        report.throughput()
    ));
    out.push_str("answers:\n");
    for ((status, outcome), n) in &report.answers {
        let status = status.map(|s| s.to_string()).unwrap_or_else(|| "no answer".into());
        out.push_str(&format!("  {status:>9}  {outcome:<24} {n}\n"));
    }
    if report.retried_429 > 0 {
        out.push_str(&format!("answered 429 and sent again after Retry-After: {}\n", report.retried_429));
    }
    out.push_str(&format!(
        "latency: p50 {}, p95 {}, p99 {}, max {}\n",
        ms(report.latency(0.50)),
        ms(report.latency(0.95)),
        ms(report.latency(0.99)),
        ms(report.latency(1.0))
    ));
    if report.unexpected_count > 0 {
        out.push_str(&format!(
            "not the answer a new customer gets: {} (a seed sent before gives duplicates)\n",
            report.unexpected_count
        ));
        for r in &report.unexpected {
            let status = r.status.map(|s| s.to_string()).unwrap_or_else(|| "no answer".into());
            out.push_str(&format!("  {}: {status} {}\n", r.label, r.outcome));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&samples, 0.95), Some(Duration::from_millis(95)));
        assert_eq!(percentile(&samples, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&samples, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&samples, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[Duration::from_millis(7)], 0.99), Some(Duration::from_millis(7)));
    }

    #[test]
    fn the_report_counts_failures_and_server_errors() {
        let mut report = Report::default();
        let result = |status: Option<u16>, outcome: &str, ok: bool| Sent {
            label: "x".into(),
            status,
            outcome: outcome.into(),
            latency: Duration::from_millis(3),
            as_expected: ok,
        };
        report.add(result(Some(200), "processed", true));
        report.add(result(Some(200), "processed", true));
        report.add(result(Some(503), "database_unavailable", false));
        report.add(result(None, "connection refused", false));
        report.elapsed = Duration::from_secs(2);
        assert_eq!((report.sent, report.failures(), report.server_errors()), (4, 1, 1));
        assert_eq!(report.latencies.len(), 3);
        assert_eq!(report.throughput(), 2.0);
        let text = summary(&report);
        assert!(text.contains("sent 4 in 2.00 s (2.0/s)"), "{text}");
        assert!(text.contains("200  processed"), "{text}");
        assert!(text.contains("no answer  connection refused"), "{text}");
        assert!(text.contains("p50 3.0 ms"), "{text}");
        assert!(text.contains("not the answer a new customer gets: 2"), "{text}");
    }
}
