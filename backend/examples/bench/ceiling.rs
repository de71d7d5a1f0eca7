//! The one-transaction ceiling: what the one-by-one design could do at best. Client threads, each on
//! its own connection, call `ingest::process::ingest` — exactly the statements of the one-by-one path
//! (one transaction per webhook, diesel's prepared-statement cache), without HTTP, without a pool.

use crate::ingest::simulator_body;
use crate::{connect, R};
use portaria::ingest::event::{RequestParts, Source};
use portaria::ingest::process::{self, CourseDefaults};
use portaria::ingest::record::Received;
use portaria::ingest::sources;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Ceiling {
    pub(crate) done: usize,
    pub(crate) errors: usize,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) elapsed: Duration,
}

impl Ceiling {
    pub(crate) fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `total` distinct simulator webhooks (`tag` in their e-mails) from `clients` threads; stops at `limit`.
pub(crate) fn ceiling(url: &str, run: &str, tag: &str, total: usize, clients: usize, limit: Duration) -> R<Ceiling> {
    let next = AtomicUsize::new(0);
    let defaults = CourseDefaults { default_course_name: "Curso principal".into() };
    let parts = RequestParts {
        headers: Default::default(),
        query: [("token".to_string(), "test-hashtag-token".to_string())].into_iter().collect(),
    };
    let started = Instant::now();
    let deadline = started + limit;
    let parts_of: Vec<R<(usize, usize, Vec<Duration>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| -> R<(usize, usize, Vec<Duration>)> {
                    let mut conn = connect(url)?;
                    let (mut done, mut errors, mut latencies) = (0, 0, vec![]);
                    while Instant::now() < deadline {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let t0 = Instant::now();
                        let body = simulator_body(run, tag, i).into_bytes();
                        let received = Received {
                            source: "hashtag".into(),
                            received_at: chrono::Utc::now(),
                            remote_addr: Some("127.0.0.1".into()),
                            headers: serde_json::json!({"content-type": "application/json", "query": {"token": "***"}}),
                            body_size: body.len(),
                            body,
                            truncated: false,
                        };
                        let parsed =
                            sources::parse(Source::Hashtag, &received.body, &parts).map_err(|e| format!("{e:?}"))?;
                        match process::ingest(&mut conn, &received, &parsed, &defaults, None, t0) {
                            Ok(_) => {
                                done += 1;
                                latencies.push(t0.elapsed());
                            }
                            Err(_) => errors += 1,
                        }
                    }
                    Ok((done, errors, latencies))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a ceiling thread panicked".into()))).collect()
    });
    let elapsed = started.elapsed();
    let mut all = Ceiling { done: 0, errors: 0, latencies: vec![], elapsed };
    for part in parts_of {
        let (done, errors, latencies) = part?;
        all.done += done;
        all.errors += errors;
        all.latencies.extend(latencies);
    }
    Ok(all)
}
