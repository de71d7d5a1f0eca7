//! The alert marks (`alert_marks`: when each condition last alerted) and the three conditions' queries.

use super::message::DeadTreatment;
use crate::ingest::process::Outcome;
use crate::schema::{alert_marks, customers, treatments, webhook_events};
use crate::treatments::store::TreatmentStatus;
use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;

/// Takes the right to send the alert `key` now: true when it never alerted or its last message is older
/// than `window`. Atomic across replicas (one row per key, upserted under its lock).
pub fn claim(conn: &mut PgConnection, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> QueryResult<bool> {
    use alert_marks::dsl as a;
    let inserted = diesel::insert_into(a::alert_marks)
        .values((a::key.eq(key), a::at.eq(now)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(true);
    }
    // PostgreSQL re-checks the condition on the row it waited for: of two replicas, one wins.
    diesel::update(a::alert_marks.filter(a::key.eq(key)).filter(a::at.le(now - window)))
        .set(a::at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives a claim back (the message could not be sent): the next check tries again.
pub fn release(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(alert_marks::table.find(key)).execute(conn).map(|_| ())
}

pub fn mark(conn: &mut PgConnection, key: &str) -> QueryResult<Option<DateTime<Utc>>> {
    alert_marks::table.find(key).select(alert_marks::at).first(conn).optional()
}

pub fn set_mark(conn: &mut PgConnection, key: &str, at: DateTime<Utc>) -> QueryResult<()> {
    use alert_marks::dsl as a;
    diesel::insert_into(a::alert_marks)
        .values((a::key.eq(key), a::at.eq(at)))
        .on_conflict(a::key)
        .do_update()
        .set(a::at.eq(at))
        .execute(conn)
        .map(|_| ())
}

/// Forgets the marks of conditions older than `before` (the cursor rows are kept).
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(alert_marks::table.filter(alert_marks::at.lt(before)).filter(alert_marks::key.not_like("cursor:%")))
        .execute(conn)
}

/// Treatments that became dead after `after` and up to `until`: how many, the latest `updated_at`, and
/// the first `limit` of them.
pub fn newly_dead(
    conn: &mut PgConnection,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<(i64, Option<DateTime<Utc>>, Vec<DeadTreatment>)> {
    use treatments::dsl as t;
    let dead = TreatmentStatus::Dead;
    let window = t::status.eq(dead).and(t::updated_at.gt(after)).and(t::updated_at.le(until));
    let (count, latest): (i64, Option<DateTime<Utc>>) =
        t::treatments.filter(window).select((count_star(), max(t::updated_at))).first(conn)?;
    let rows = t::treatments
        .inner_join(customers::table)
        .filter(window)
        .order(t::updated_at.asc())
        .limit(limit)
        .select((t::id, t::kind, t::attempts, t::customer_id, customers::email, t::last_error))
        .load::<(i64, crate::treatments::rules::TreatmentKind, i32, i64, String, Option<String>)>(conn)?;
    let items = rows
        .into_iter()
        .map(|(id, kind, attempts, customer_id, customer_email, last_error)| DeadTreatment {
            id,
            kind,
            attempts,
            customer_id,
            customer_email,
            last_error,
        })
        .collect();
    Ok((count, latest, items))
}

/// Due treatments still waiting since before `due_before`: how many, and the oldest `run_at`. A running
/// treatment whose lease expired is due again.
pub fn overdue(
    conn: &mut PgConnection,
    due_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    use treatments::dsl as t;
    t::treatments
        .filter(t::run_at.le(due_before))
        .filter(
            t::status
                .eq(TreatmentStatus::Pending)
                .or(t::status.eq(TreatmentStatus::Running).and(t::lease_until.lt(now))),
        )
        .select((count_star(), min(t::run_at)))
        .first(conn)
}

/// 401s per source received after `since`.
pub fn unauthorized_by_source(conn: &mut PgConnection, since: DateTime<Utc>) -> QueryResult<Vec<(String, i64)>> {
    use webhook_events::dsl as w;
    w::webhook_events
        .filter(w::outcome.eq(Outcome::Unauthorized))
        .filter(w::received_at.gt(since))
        .group_by(w::source)
        .select((w::source, count_star()))
        .load(conn)
}
