//! Alerts to an incoming webhook (`ALERT_WEBHOOK_URL`: Slack, Discord, Teams) and/or through templated
//! HTTP calls (`ALERT_HTTP_CONFIG`: a WhatsApp gateway, ..., see [`templated`]): a treatment became
//! `dead`, due treatments wait longer than `ALERT_OUTBOX_AGE`, a source's 401s spike. At most one
//! message per condition (per treatment, per source) per `ALERT_WINDOW` and per destination, across
//! replicas and restarts (`alert_marks`: the webhook's mark is the condition's key, the templated calls'
//! is the key + [`HTTP_MARK`]), so a destination that failed is retried without repeating the other.
//! Checked every [`CHECK_EVERY`] by the maintenance loop; see docs/OPERATIONS.md.

pub mod message;
pub mod queries;
pub mod send;
pub mod templated;

use crate::config::{AlertConfig, Config};
use crate::ingest::event::Source;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::time::Duration;

/// How often the conditions are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);
/// More newly dead treatments than this in one check make one summary message.
pub const MAX_DEAD_MESSAGES: i64 = 5;
/// A treatment's `updated_at` is read this long after it is set (its transaction has committed by then).
const SETTLE: chrono::Duration = chrono::Duration::seconds(5);
const DEAD_CURSOR: &str = "cursor:dead";
/// The suffix of the templated calls' marks (`dead:42@http`).
pub const HTTP_MARK: &str = "@http";

/// What a check sent (or tried to), per destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The condition: `dead:<id>`, `dead:many`, `outbox_age`, `rejections:<source>`; with [`HTTP_MARK`]
    /// appended for the templated calls.
    pub key: String,
    pub ok: bool,
}

/// Where alerts go, and what they link to.
pub struct Alerter<'a> {
    /// `ALERT_WEBHOOK_URL`.
    pub url: Option<&'a str>,
    /// `ALERT_HTTP_CONFIG`.
    pub http: Option<&'a templated::AlertPlan>,
    pub public_url: &'a str,
    pub config: &'a AlertConfig,
}

/// What a test send got from each destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub ok: bool,
    /// The webhook's HTTP status when it is the only destination.
    pub status: Option<u16>,
    pub detail: String,
}

impl<'a> Alerter<'a> {
    /// `None` when alerts are off (neither destination set).
    pub fn from_config(config: &'a Config) -> Option<Alerter<'a>> {
        let (url, http) = (config.alerts.webhook_url.as_deref(), config.alerts.http.as_ref());
        (url.is_some() || http.is_some()).then_some(Alerter {
            url,
            http,
            public_url: &config.public_url,
            config: &config.alerts,
        })
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.window).unwrap_or(chrono::Duration::minutes(30))
    }

    /// Runs every check once at `now`. Blocking (database and HTTP).
    pub fn check(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Sent>> {
        let mut sent = self.check_dead(conn, now)?;
        sent.extend(self.check_outbox(conn, now)?);
        sent.extend(self.check_rejections(conn, now)?);
        queries::prune(conn, now - self.window())?;
        Ok(sent)
    }

    /// Sends `text` under `key` to each destination unless it got that key within the window; a failed
    /// send gives that destination's claim back (the next check retries it alone).
    fn once(&self, conn: &mut PgConnection, key: String, text: &str, now: DateTime<Utc>) -> QueryResult<Vec<Sent>> {
        let mut sent = vec![];
        if let Some(url) = self.url {
            if queries::claim(conn, &key, now, self.window())? {
                let ok = deliver(url, text);
                if !ok {
                    queries::release(conn, &key)?;
                }
                sent.push(Sent { key: key.clone(), ok });
            }
        }
        if let Some(plan) = self.http {
            let mark = format!("{key}{HTTP_MARK}");
            if queries::claim(conn, &mark, now, self.window())? {
                let ok = self.call(plan, &key, text);
                if !ok {
                    queries::release(conn, &mark)?;
                }
                sent.push(Sent { key: mark, ok });
            }
        }
        Ok(sent)
    }

    /// Runs the templated calls for one alert; logs a failure (its error never holds a URL or a header).
    fn call(&self, plan: &templated::AlertPlan, key: &str, text: &str) -> bool {
        let condition = condition_of(key);
        let alert = templated::AlertCall { condition, key, text, public_url: self.public_url };
        match plan.send(&alert, send::TIMEOUT) {
            Ok(_) => true,
            Err(failure) => {
                log::warn!("alert not delivered by ALERT_HTTP_CONFIG: {}", failure.error());
                false
            }
        }
    }

    fn check_dead(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Sent>> {
        let until = now - SETTLE;
        let after = queries::mark(conn, DEAD_CURSOR)?.unwrap_or(now - self.window());
        let (count, latest, items) = queries::newly_dead(conn, after, until, MAX_DEAD_MESSAGES)?;
        let Some(latest) = latest else { return Ok(vec![]) };
        let mut sent = vec![];
        if count > MAX_DEAD_MESSAGES {
            sent.extend(self.once(conn, "dead:many".into(), &message::many_dead(count, self.public_url), now)?);
        } else {
            for t in &items {
                sent.extend(self.once(conn, format!("dead:{}", t.id), &message::dead(t, self.public_url), now)?);
            }
        }
        // Read past them only once every message went out (the sent ones hold their marks: no repeats).
        if sent.iter().all(|s| s.ok) {
            queries::set_mark(conn, DEAD_CURSOR, latest)?;
        }
        Ok(sent)
    }

    fn check_outbox(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Sent>> {
        let age = chrono::Duration::from_std(self.config.outbox_age).unwrap_or(chrono::Duration::minutes(15));
        let (count, oldest) = queries::overdue(conn, now - age, now)?;
        let Some(oldest) = oldest.filter(|_| count > 0) else { return Ok(vec![]) };
        let text = message::outbox_age(count, oldest, self.config.outbox_age, now, self.public_url);
        self.once(conn, "outbox_age".into(), &text, now)
    }

    fn check_rejections(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<Sent>> {
        let span = AlertConfig::REJECTIONS_SPAN;
        let since = now - chrono::Duration::from_std(span).unwrap_or(chrono::Duration::minutes(5));
        let mut sent = vec![];
        for (source, count) in queries::unauthorized_by_source(conn, since)? {
            let Some(source) = Source::parse(&source) else { continue };
            if count < i64::from(self.config.rejections) {
                continue;
            }
            let text = message::rejections(source, count, span, self.public_url);
            sent.extend(self.once(conn, format!("rejections:{source}"), &text, now)?);
        }
        Ok(sent)
    }

    /// Sends the test message now (no window) to each destination: what they answered.
    pub fn test(&self, admin_email: &str) -> TestReport {
        let text = message::test(admin_email, self.public_url);
        let mut parts = vec![];
        let (mut ok, mut status) = (true, None);
        if let Some(url) = self.url {
            match send::post(url, &message::payload(&text)) {
                Ok(reply) => {
                    ok &= reply.ok();
                    status = Some(reply.status);
                    parts.push(if reply.body.trim().is_empty() {
                        format!("HTTP {}", reply.status)
                    } else {
                        format!("HTTP {}: {}", reply.status, reply.body.trim())
                    });
                }
                Err(e) => {
                    ok = false;
                    parts.push(e);
                }
            }
        }
        if let Some(plan) = self.http {
            let alert =
                templated::AlertCall { condition: "test", key: "test", text: &text, public_url: self.public_url };
            let result = plan.send(&alert, send::TIMEOUT);
            ok &= result.is_ok();
            let detail = result.unwrap_or_else(|f| f.error().to_string());
            parts.push(if self.url.is_some() { format!("chamadas: {detail}") } else { detail });
            if self.url.is_some() {
                status = None;
            }
        }
        TestReport { ok, status, detail: parts.join("; ") }
    }
}

/// The condition of an alert key, as the templates see it (`alert.condition`).
fn condition_of(key: &str) -> &'static str {
    match key.split(':').next().unwrap_or_default() {
        "dead" if key == "dead:many" => "dead_many",
        "dead" => "dead",
        "outbox_age" => "outbox_age",
        "rejections" => "rejections",
        _ => "test",
    }
}

/// Posts one alert; logs a failure (never the URL). True when the endpoint accepted it.
fn deliver(url: &str, text: &str) -> bool {
    match send::post(url, &message::payload(text)) {
        Ok(reply) if reply.ok() => true,
        Ok(reply) => {
            log::warn!("alert not accepted by {}: HTTP {} {}", send::host(url), reply.status, reply.body);
            false
        }
        Err(e) => {
            log::warn!("alert not sent to {}: {e}", send::host(url));
            false
        }
    }
}
