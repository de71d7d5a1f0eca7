//! The treatments outbox in PostgreSQL: insert, claim (SKIP LOCKED + lease), complete, fail, retry.

use super::rules::{TreatmentKind, TreatmentReason};
use crate::channels::Failure;
use crate::models::Treatment;
use crate::prepared::Statement;
use crate::schema::treatments;
use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

crate::vocabulary! {
    /// Where a treatment is in the outbox (`treatments.status`).
    pub enum TreatmentStatus {
        /// Waiting for its time (`run_at`), or for a retry after a failed attempt (`last_error` set).
        Pending = "pending",
        /// Claimed by a worker, under a lease.
        Running = "running",
        /// Carried out.
        Done = "done",
        /// Failed `WORKER_MAX_ATTEMPTS` times: given up until a staff member retries it.
        Dead = "dead",
        /// Made moot before it ran (a scheduled revocation after access was bought again).
        Canceled = "canceled",
    }
}

/// A treatment to plan.
pub struct NewTreatment {
    pub kind: TreatmentKind,
    pub run_at: DateTime<Utc>,
    pub reason: Option<TreatmentReason>,
    pub payload: Value,
    pub event_id: Option<i64>,
    pub customer_id: i64,
    pub course_id: Option<i64>,
    pub order_id: Option<i64>,
}

/// The payload to store: the planned one, with the reason too (for the channels: the e-mail of a
/// revocation depends on it).
pub fn payload_with_reason(r: &NewTreatment) -> Value {
    let mut payload = r.payload.clone();
    if let (Some(reason), Some(map)) = (r.reason, payload.as_object_mut()) {
        map.entry("reason").or_insert_with(|| reason.as_str().into());
    }
    payload
}

/// The prepared statement of `insert`.
struct InsertTreatments;

/// Inserts `rows` in order (their ids ascend in that order: the worker runs a customer's access
/// changes in id order) with one prepared statement whatever their number.
pub fn insert(conn: &mut PgConnection, rows: &[NewTreatment]) -> QueryResult<Vec<Treatment>> {
    use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz};
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let payloads: Vec<Value> = rows.iter().map(payload_with_reason).collect();
    Statement::<InsertTreatments>::new(
        "INSERT INTO treatments (kind, run_at, reason, payload, event_id, customer_id, course_id, order_id) \
         SELECT v.kind, v.run_at, v.reason, v.payload, v.event_id, v.customer_id, v.course_id, v.order_id \
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::int8[], $6::int8[], $7::int8[], \
           $8::int8[]) WITH ORDINALITY \
           AS v(kind, run_at, reason, payload, event_id, customer_id, course_id, order_id, n) \
         ORDER BY v.n \
         RETURNING *",
    )
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.run_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.reason.map(TreatmentReason::as_str)).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(payloads)
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.customer_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.course_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.order_id).collect::<Vec<_>>())
    .load(conn)
}

/// How a claim is planned (`SET LOCAL`, for the claim's transaction): it walks `treatments_due` in
/// `run_at` order and stops at its limit. Left to the statistics, a queue that grew after they were
/// taken (a burst before autoanalyze, a server without autovacuum) looks small, and the planner
/// gathered every due treatment instead — a bitmap of `treatments_due` and `treatments_status` — ran
/// the ordering check on each and sorted them all to keep the first 20: 0.79 s a claim with 216,000
/// due in stop 21's bench, 0.5 ms walking. No sort, no bitmap, no sequential scan leaves the walk.
const CLAIM_PLAN: &str =
    "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off";

/// Claims up to `limit` due treatments: pending ones whose time has come, and running ones whose
/// lease expired (their worker died), oldest `run_at` first. Each claim counts as an attempt.
pub fn claim(conn: &mut PgConnection, limit: i64, lease: Duration, now: DateTime<Utc>) -> QueryResult<Vec<Treatment>> {
    use treatments::dsl as t;
    conn.transaction(|conn| {
        conn.batch_execute(CLAIM_PLAN)?;
        let due: Vec<i64> = t::treatments
            .select(t::id)
            .filter(
                (t::status.eq(TreatmentStatus::Pending).and(t::run_at.le(now)))
                    .or(t::status.eq(TreatmentStatus::Running).and(t::lease_until.lt(now))),
            )
            .filter(not_behind_an_earlier_access_change(now))
            .order(t::run_at.asc())
            .limit(limit)
            .for_update()
            .skip_locked()
            .load(conn)?;
        if due.is_empty() {
            return Ok(vec![]);
        }
        diesel::update(t::treatments.filter(t::id.eq_any(&due)))
            .set((
                t::status.eq(TreatmentStatus::Running),
                t::lease_until.eq(now + lease),
                t::attempts.eq(t::attempts + 1),
                t::updated_at.eq(now),
            ))
            .returning(Treatment::as_returning())
            .get_results(conn)
    })
}

/// Access changes of one customer on one course reach the course platform in the order they were
/// decided: a grant, extension or revocation is not claimed while an earlier one of the same customer
/// and course is still under way — running, due, or waiting for a retry after a failed attempt. So a
/// grant that failed and waits for its retry can never reach the platform after the revocation that
/// followed it (the student would keep access after a refund). An earlier one that is merely
/// scheduled for later (never attempted, `run_at` ahead, e.g. a revocation at the end of a paid
/// period) does not hold the others back; one that ended `dead` or `canceled` no longer does either.
///
/// A correlated `NOT EXISTS` on the same table, which diesel's typed DSL cannot express; `now` is
/// bound. Served by the index on `treatments (customer_id, id)`: the earlier one's status is tested in
/// a `CASE`, which PostgreSQL cannot prove to imply the predicate of the partial index
/// `treatments_due` (pending or running). As plain conditions it could, and with statistics taken while
/// the queue was empty (a quiet hour, and no autoanalyze yet after a burst) the planner then chose to
/// scan `treatments_due` whole for every candidate: each claim read the backlog once per row (6 s a
/// claim with 130,000 due, in stop 20's bench). `tests/worker.rs` keeps it so.
fn not_behind_an_earlier_access_change(
    now: DateTime<Utc>,
) -> diesel::expression::SqlLiteral<diesel::sql_types::Bool, impl diesel::query_builder::QueryFragment<diesel::pg::Pg>>
{
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(treatments.kind NOT IN ('grant_access', 'extend_access', 'revoke_access') OR NOT EXISTS (\
         SELECT 1 FROM treatments AS earlier \
         WHERE earlier.customer_id = treatments.customer_id \
         AND earlier.course_id = treatments.course_id \
         AND earlier.id < treatments.id \
         AND earlier.kind IN ('grant_access', 'extend_access', 'revoke_access') \
         AND CASE earlier.status WHEN 'running' THEN true \
         WHEN 'pending' THEN earlier.attempts > 0 OR earlier.run_at <= ",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .sql(" ELSE false END))")
}

/// The claim of `id` as this worker holds it: still running, at the attempt it claimed. A worker whose
/// lease was taken over (the attempt moved on) no longer matches, so it cannot overwrite the result.
#[diesel::dsl::auto_type]
fn held_claim(id: i64, attempts: i32) -> _ {
    let running: TreatmentStatus = TreatmentStatus::Running;
    treatments::id.eq(id).and(treatments::status.eq(running)).and(treatments::attempts.eq(attempts))
}

/// Marks a claimed treatment done. `attempts` fences off a worker whose lease was taken over.
pub fn complete(conn: &mut PgConnection, id: i64, attempts: i32, output: &str) -> QueryResult<bool> {
    use treatments::dsl as t;
    let now = Utc::now();
    diesel::update(t::treatments.filter(held_claim(id, attempts)))
        .set((
            t::status.eq(TreatmentStatus::Done),
            t::output.eq(output),
            t::lease_until.eq(None::<DateTime<Utc>>),
            t::done_at.eq(now),
            t::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Marks several claimed treatments done in one statement: `(id, attempts, output)` each, fenced like
/// `complete`. Returns the ids it recorded (a treatment taken over meanwhile is not among them).
pub fn complete_many(conn: &mut PgConnection, done: &[(i64, i32, String)]) -> QueryResult<Vec<i64>> {
    if done.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = done.iter().map(|d| d.0).collect();
    let attempts: Vec<i32> = done.iter().map(|d| d.1).collect();
    let outputs: Vec<&str> = done.iter().map(|d| d.2.as_str()).collect();
    // Raw SQL: one UPDATE with a different output per row needs `UPDATE ... FROM unnest(...)`, which
    // diesel's DSL cannot say.
    diesel::sql_query(
        "UPDATE treatments t SET status = 'done', output = v.output, lease_until = NULL, done_at = now(),          updated_at = now()          FROM unnest($1::int8[], $2::int4[], $3::text[]) AS v(id, attempts, output)          WHERE t.id = v.id AND t.attempts = v.attempts AND t.status = 'running' RETURNING t.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Integer>, _>(attempts)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(outputs)
    .load::<Id>(conn)
    .map(|rows| rows.into_iter().map(|r| r.id).collect())
}

/// Renews the leases of several claimed treatments (`(id, attempts)` each, fenced like `renew`) to
/// `until` in one statement; returns how many were still held.
pub fn renew_many(conn: &mut PgConnection, held: &[(i64, i32)], until: DateTime<Utc>) -> QueryResult<usize> {
    if held.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = held.iter().map(|h| h.0).collect();
    let attempts: Vec<i32> = held.iter().map(|h| h.1).collect();
    // Raw SQL: the fence pairs each id with its own attempt (`unnest`), which diesel's DSL cannot say.
    diesel::sql_query(
        "UPDATE treatments t SET lease_until = $3 FROM unnest($1::int8[], $2::int4[]) AS v(id, attempts)          WHERE t.id = v.id AND t.attempts = v.attempts AND t.status = 'running'",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Integer>, _>(attempts)
    .bind::<diesel::sql_types::Timestamptz, _>(until)
    .execute(conn)
}

/// Renews the lease of a claimed treatment to `until` — right before it runs, and then while it runs
/// (the worker's heartbeat). `false`: the claim was taken over (its lease had expired and another
/// worker claimed it, so the attempt moved on), and this worker must not run it. Fenced like
/// `complete`.
pub fn renew(conn: &mut PgConnection, id: i64, attempts: i32, until: DateTime<Utc>) -> QueryResult<bool> {
    use treatments::dsl as t;
    diesel::update(t::treatments.filter(held_claim(id, attempts)))
        .set(t::lease_until.eq(until))
        .execute(conn)
        .map(|n| n == 1)
}

/// Hands a claimed treatment back untouched (the process is stopping before it started it): pending
/// again, due now, and the claim's attempt not counted. Fenced by `attempts` like `complete`.
pub fn release(conn: &mut PgConnection, id: i64, attempts: i32) -> QueryResult<bool> {
    use treatments::dsl as t;
    diesel::update(t::treatments.filter(held_claim(id, attempts)))
        .set((
            t::status.eq(TreatmentStatus::Pending),
            t::attempts.eq(attempts - 1),
            t::lease_until.eq(None::<DateTime<Utc>>),
            t::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Exponential backoff with ±20 % jitter: 5 s, 10 s, 20 s, ... capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let base = 5i64.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1)).min(3600);
    let jitter = (base as f64 * 0.2 * (rand::random::<f64>() * 2.0 - 1.0)) as i64;
    Duration::seconds((base + jitter).max(1))
}

/// Records a failed attempt: back to pending after a backoff (or after `after` when the receiver said
/// when and that is later), or dead after `max_attempts` — or at once when the failure is permanent.
pub fn fail(
    conn: &mut PgConnection,
    id: i64,
    attempts: i32,
    failure: &Failure,
    max_attempts: i32,
) -> QueryResult<bool> {
    use treatments::dsl as t;
    let now = Utc::now();
    let (status, run_at) = match failure {
        Failure::Permanent { .. } => (TreatmentStatus::Dead, now),
        Failure::Retry { .. } if attempts >= max_attempts => (TreatmentStatus::Dead, now),
        Failure::Retry { after, .. } => (TreatmentStatus::Pending, now + retry_delay(attempts, *after)),
    };
    diesel::update(t::treatments.filter(held_claim(id, attempts)))
        .set((
            t::status.eq(status),
            t::run_at.eq(run_at),
            t::last_error.eq(failure.error()),
            t::lease_until.eq(None::<DateTime<Utc>>),
            t::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The wait before the next attempt: the backoff, or the receiver's `Retry-After` when later (capped at a day).
pub fn retry_delay(attempts: i32, after: Option<std::time::Duration>) -> Duration {
    let backoff = backoff(attempts);
    let asked = after.map_or(Duration::zero(), |a| Duration::seconds(a.as_secs().min(86_400) as i64));
    backoff.max(asked)
}

/// Cancels revocations scheduled for the future (access was bought again); returns their ids.
pub fn cancel_scheduled_revokes(
    conn: &mut PgConnection,
    customer_id: i64,
    course_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<i64>> {
    use treatments::dsl as t;
    diesel::update(
        t::treatments
            .filter(t::customer_id.eq(customer_id))
            .filter(t::course_id.eq(course_id))
            .filter(t::kind.eq(TreatmentKind::RevokeAccess))
            .filter(t::status.eq(TreatmentStatus::Pending))
            .filter(t::run_at.gt(now)),
    )
    .set((
        t::status.eq(TreatmentStatus::Canceled),
        t::last_error.eq("canceled: access bought again"),
        t::updated_at.eq(now),
    ))
    .returning(t::id)
    .get_results(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempts in 1..30 {
            let b = backoff(attempts).num_seconds();
            let base = (5i64 << (attempts.min(20) - 1)).min(3600);
            assert!(b >= (base as f64 * 0.79) as i64 && b <= (base as f64 * 1.21) as i64 + 1, "{attempts}: {b}");
        }
        assert!(backoff(1).num_seconds() <= 6);
        assert!(backoff(25).num_seconds() <= 4400);
    }
}
