//! Alerts to an incoming webhook (`ALERT_WEBHOOK_URL`: Slack, Discord, Teams): a treatment became
//! `dead`, due treatments wait longer than `ALERT_OUTBOX_AGE`, a source's 401s spike. At most one
//! message per condition (per treatment, per source) per `ALERT_WINDOW`, across replicas and restarts
//! (`alert_marks`). Checked every [`CHECK_EVERY`] by the maintenance loop; see docs/OPERATIONS.md.

pub mod message;
pub mod queries;
pub mod send;

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

/// What a check sent (or tried to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The condition: `dead:<id>`, `dead:many`, `outbox_age`, `rejections:<source>`.
    pub key: String,
    pub ok: bool,
}

/// Where alerts go, and what they link to.
pub struct Alerter<'a> {
    pub url: &'a str,
    pub public_url: &'a str,
    pub config: &'a AlertConfig,
}

impl<'a> Alerter<'a> {
    /// `None` when alerts are off.
    pub fn from_config(config: &'a Config) -> Option<Alerter<'a>> {
        Some(Alerter {
            url: config.alerts.webhook_url.as_deref()?,
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

    /// Sends `text` under `key` unless that key alerted within the window; a failed send gives the claim back.
    fn once(&self, conn: &mut PgConnection, key: String, text: &str, now: DateTime<Utc>) -> QueryResult<Option<Sent>> {
        if !queries::claim(conn, &key, now, self.window())? {
            return Ok(None);
        }
        let ok = deliver(self.url, text);
        if !ok {
            queries::release(conn, &key)?;
        }
        Ok(Some(Sent { key, ok }))
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
        Ok(self.once(conn, "outbox_age".into(), &text, now)?.into_iter().collect())
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

    /// Sends the test message now (no window): what the endpoint answered.
    pub fn test(&self, admin_email: &str) -> Result<send::Reply, String> {
        send::post(self.url, &message::payload(&message::test(admin_email, self.public_url)))
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
