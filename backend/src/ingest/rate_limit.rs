//! The webhook rate limit: `WEBHOOK_RATE_LIMIT` requests per second per source and client address
//! (bursts up to twice that), answered 429 with `Retry-After`. Turned-away requests are counted in
//! memory and written in aggregate — one row per source, address and minute — so a flood costs neither
//! a row per request nor a disk.

use crate::schema::webhook_rate_limited;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;

type Key = (String, String);

pub struct WebhookRateLimit {
    limiter: Option<RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock>>,
    clock: DefaultClock,
    /// Requests turned away since the last flush, per (source, address).
    turned_away: Mutex<HashMap<Key, i64>>,
}

impl WebhookRateLimit {
    /// `per_second` = 0: no limit.
    pub fn new(per_second: u32) -> WebhookRateLimit {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        WebhookRateLimit { limiter, clock: DefaultClock::default(), turned_away: Mutex::default() }
    }

    /// `Err(seconds to wait)` when this sender is over the limit (and counts it).
    pub fn check(&self, source: &str, remote_addr: Option<&str>) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let key =
            (crate::ingest::record::pg_text(source).chars().take(64).collect(), remote_addr.unwrap_or("-").to_string());
        match limiter.check_key(&key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                *self.turned_away.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0) += 1;
                Err(wait.as_secs().max(1))
            }
        }
    }

    /// Takes the counts gathered since the last call, and forgets idle senders.
    pub fn take_counts(&self) -> Vec<(String, String, i64)> {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
        }
        let mut counts = self.turned_away.lock().unwrap_or_else(|e| e.into_inner());
        counts.drain().map(|((source, addr), n)| (source, addr, n)).collect()
    }
}

/// Adds the counts to the minute of `now` (one statement).
pub fn record(conn: &mut PgConnection, counts: &[(String, String, i64)], now: DateTime<Utc>) -> QueryResult<usize> {
    use webhook_rate_limited::dsl as r;
    if counts.is_empty() {
        return Ok(0);
    }
    let minute = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
    let rows: Vec<_> = counts
        .iter()
        .map(|(source, addr, n)| {
            (r::source.eq(source), r::remote_addr.eq(addr), r::minute.eq(minute), r::requests.eq(n))
        })
        .collect();
    diesel::insert_into(r::webhook_rate_limited)
        .values(rows)
        .on_conflict((r::source, r::remote_addr, r::minute))
        .do_update()
        .set(r::requests.eq(r::requests + excluded(r::requests)))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::WebhookRateLimit;

    #[test]
    fn limits_per_source_and_address_and_counts_what_it_turns_away() {
        let limit = WebhookRateLimit::new(2);
        // a burst of twice the rate passes, then 429
        assert!(limit.check("hotmart", Some("10.0.0.1")).is_ok());
        assert!(limit.check("hotmart", Some("10.0.0.1")).is_ok());
        assert!(limit.check("hotmart", Some("10.0.0.1")).is_ok());
        assert!(limit.check("hotmart", Some("10.0.0.1")).is_ok());
        let wait = limit.check("hotmart", Some("10.0.0.1")).unwrap_err();
        assert!(wait >= 1);
        assert!(limit.check("hotmart", Some("10.0.0.1")).is_err());
        // other senders and other sources are not affected
        assert!(limit.check("hotmart", Some("10.0.0.2")).is_ok());
        assert!(limit.check("kiwify", Some("10.0.0.1")).is_ok());
        assert_eq!(limit.take_counts(), [("hotmart".to_string(), "10.0.0.1".to_string(), 2)]);
        assert!(limit.take_counts().is_empty());
        // no limit at all
        let off = WebhookRateLimit::new(0);
        assert!((0..10_000).all(|_| off.check("hotmart", Some("10.0.0.1")).is_ok()));
    }
}
