//! Retention of raw webhook bodies (they hold buyers' personal data): after `RETENTION_DAYS_REJECTED`
//! days for rejected requests and `RETENTION_DAYS_RAW` days for accepted ones, the body is emptied and
//! `raw_body_purged_at` set. The row, its headers (secrets masked), outcome, links and every decision
//! and treatment are kept.

use crate::ingest::process::Outcome;
use crate::schema::webhook_events;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

/// Rows per statement, so that a first run on a large table never holds long locks.
const BATCH: i64 = 1000;

#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    pub rejected_days: Option<u32>,
    pub accepted_days: Option<u32>,
}

/// Empties the raw bodies past their retention; returns how many were purged.
pub fn purge(conn: &mut PgConnection, retention: Retention, now: DateTime<Utc>) -> QueryResult<usize> {
    let mut purged = 0;
    for (days, outcomes) in
        [(retention.rejected_days, &Outcome::REJECTED[..]), (retention.accepted_days, &Outcome::ACCEPTED[..])]
    {
        let Some(days) = days else { continue };
        let cutoff = now - Duration::days(i64::from(days));
        loop {
            let n = purge_batch(conn, outcomes, cutoff, now)?;
            purged += n;
            if n < BATCH as usize {
                break;
            }
        }
    }
    Ok(purged)
}

fn purge_batch(
    conn: &mut PgConnection,
    outcomes: &[Outcome],
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use webhook_events::dsl as w;
    let due: Vec<i64> = w::webhook_events
        .select(w::id)
        .filter(w::raw_body_purged_at.is_null())
        .filter(w::received_at.lt(cutoff))
        .filter(w::outcome.eq_any(outcomes))
        .limit(BATCH)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    diesel::update(w::webhook_events.filter(w::id.eq_any(&due)))
        .set((w::raw_body.eq(""), w::raw_body_purged_at.eq(now)))
        .execute(conn)
}
