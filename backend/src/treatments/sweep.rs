//! The expiry sweep: enrollments whose access period has passed become `expired`, with a
//! `revoke_access` treatment (reason `expired`) unless a revocation is already on record.

use super::rules::{EnrollmentStatus, TreatmentKind, TreatmentReason};
use super::store::{self, NewTreatment};
use crate::notify::{self, Signal};
use crate::schema::{courses, customers, enrollments, treatments};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

/// An enrollment due to expire, with what the revocation needs.
#[derive(Queryable)]
struct Due {
    id: i64,
    customer_id: i64,
    course_id: i64,
    order_id: Option<i64>,
    granted_at: Option<DateTime<Utc>>,
    email: String,
    name: Option<String>,
    course: String,
}

/// Returns the ids of the enrollments it expired. Safe to run from several replicas at once.
pub fn revoke_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    conn.transaction(|conn| {
        let locked: Vec<i64> = enrollments::table
            .filter(enrollments::status.eq(EnrollmentStatus::Active))
            .filter(enrollments::expires_at.le(now))
            .select(enrollments::id)
            .limit(500)
            .for_update()
            .skip_locked()
            .load(conn)?;
        let due: Vec<Due> = enrollments::table
            .inner_join(customers::table)
            .inner_join(courses::table)
            .filter(enrollments::id.eq_any(&locked))
            .select((
                enrollments::id,
                enrollments::customer_id,
                enrollments::course_id,
                enrollments::order_id,
                enrollments::granted_at,
                customers::email,
                customers::name,
                courses::name,
            ))
            .load(conn)?;
        let mut expired = vec![];
        for Due { id, customer_id, course_id, order_id, granted_at, email, name, course } in due {
            diesel::update(enrollments::table.find(id))
                .set((
                    enrollments::status.eq(EnrollmentStatus::Expired),
                    enrollments::revoked_at.eq(now),
                    enrollments::updated_at.eq(now),
                ))
                .execute(conn)?;
            let already_revoking: i64 = treatments::table
                .filter(treatments::customer_id.eq(customer_id))
                .filter(treatments::course_id.eq(course_id))
                .filter(treatments::kind.eq(TreatmentKind::RevokeAccess))
                .filter(treatments::status.ne(store::TreatmentStatus::Canceled))
                .filter(treatments::created_at.ge(granted_at.unwrap_or(now)))
                .count()
                .get_result(conn)?;
            if already_revoking == 0 {
                let inserted = store::insert(
                    conn,
                    &[NewTreatment {
                        kind: TreatmentKind::RevokeAccess,
                        run_at: now,
                        reason: Some(TreatmentReason::Expired),
                        payload: json!({"email": email, "name": name, "course": course}),
                        event_id: None,
                        customer_id,
                        course_id: Some(course_id),
                        order_id,
                    }],
                )?;
                for t in inserted {
                    notify::send(conn, Signal::Queued(t.id))?;
                }
            }
            expired.push(id);
        }
        Ok(expired)
    })
}
