//! The sweeps, run every minute: enrollments whose access period has passed become `expired`, with a
//! `revoke_access` treatment (reason `expired`) unless a revocation is already on record; the "access
//! ending soon" reminder `ACCESS_REMINDER_DAYS` before `expires_at`; the payment-expired message of a pix
//! or boleto left pending past `PIX_EXPIRY_MINUTES` / `BOLETO_EXPIRY_HOURS`.

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
                queue(
                    conn,
                    NewTreatment {
                        kind: TreatmentKind::RevokeAccess,
                        run_at: now,
                        reason: Some(TreatmentReason::Expired),
                        payload: json!({"email": email, "name": name, "course": course}),
                        event_id: None,
                        customer_id,
                        course_id: Some(course_id),
                        order_id,
                    },
                )?;
            }
            expired.push(id);
        }
        Ok(expired)
    })
}

/// What the reminder and payment-timeout sweeps need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `ACCESS_REMINDER_DAYS` (0: no reminders).
    pub reminder_days: u32,
    /// `PIX_EXPIRY_MINUTES`.
    pub pix_expiry: chrono::Duration,
    /// `BOLETO_EXPIRY_HOURS`.
    pub boleto_expiry: chrono::Duration,
}

impl Settings {
    pub fn from_config(c: &crate::config::Config) -> Settings {
        let d = |s: std::time::Duration| chrono::Duration::from_std(s).unwrap_or(chrono::Duration::days(1));
        Settings {
            reminder_days: c.access_reminder_days,
            pix_expiry: d(c.pix_expiry),
            boleto_expiry: d(c.boleto_expiry),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            reminder_days: 7,
            pix_expiry: chrono::Duration::minutes(30),
            boleto_expiry: chrono::Duration::hours(72),
        }
    }
}

/// Every sweep, each in its own transaction: expiry, reminders, payment timeouts.
pub fn run(conn: &mut PgConnection, now: DateTime<Utc>, settings: &Settings) -> QueryResult<(usize, usize, usize)> {
    let expired = revoke_expired(conn, now)?.len();
    let reminded = queue_access_reminders(conn, now, settings.reminder_days)?.len();
    let timed_out = queue_payment_timeouts(conn, now, settings)?.len();
    Ok((expired, reminded, timed_out))
}

/// The day a moment falls on in São Paulo (UTC−3), as the payloads carry dates (`2026-12-31`).
fn sao_paulo_day(at: DateTime<Utc>) -> String {
    let offset = chrono::FixedOffset::west_opt(3 * 3600).expect("a valid offset");
    at.with_timezone(&offset).format("%Y-%m-%d").to_string()
}

/// Queues the "access ending soon" message (`access_reminder_message`) for active enrollments whose
/// `expires_at` is within `days` days, once per end of access: `enrollments.reminded_for` records the
/// `expires_at` reminded, so a second sweep skips it and an extension (a new end) gets a new reminder.
/// An access period no longer than the window itself (granted less than `days` before its end) gets no
/// reminder: the welcome said when it ends. Returns the enrollment ids reminded.
pub fn queue_access_reminders(conn: &mut PgConnection, now: DateTime<Utc>, days: u32) -> QueryResult<Vec<i64>> {
    if days == 0 {
        return Ok(vec![]);
    }
    let window = chrono::Duration::days(i64::from(days));
    conn.transaction(|conn| {
        let locked: Vec<i64> = enrollments::table
            .filter(enrollments::status.eq(EnrollmentStatus::Active))
            .filter(enrollments::expires_at.gt(now))
            .filter(enrollments::expires_at.le(now + window))
            .filter(enrollments::reminded_for.is_distinct_from(enrollments::expires_at))
            .select(enrollments::id)
            .limit(500)
            .for_update()
            .skip_locked()
            .load(conn)?;
        #[allow(clippy::type_complexity)]
        let due: Vec<(
            i64,
            i64,
            i64,
            Option<i64>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            String,
            Option<String>,
            String,
            Option<String>,
        )> = enrollments::table
            .inner_join(customers::table)
            .inner_join(courses::table)
            .filter(enrollments::id.eq_any(&locked))
            .select((
                enrollments::id,
                enrollments::customer_id,
                enrollments::course_id,
                enrollments::order_id,
                enrollments::granted_at,
                enrollments::expires_at,
                customers::email,
                customers::name,
                courses::name,
                courses::access_url,
            ))
            .load(conn)?;
        let mut reminded = vec![];
        for (id, customer_id, course_id, order_id, granted_at, expires_at, email, name, course, access_url) in due {
            let Some(expires_at) = expires_at else { continue };
            diesel::update(enrollments::table.find(id)).set(enrollments::reminded_for.eq(expires_at)).execute(conn)?;
            if granted_at.is_some_and(|g| expires_at - g <= window) {
                continue;
            }
            queue(
                conn,
                NewTreatment {
                    kind: TreatmentKind::AccessReminderMessage,
                    run_at: now,
                    reason: None,
                    payload: json!({
                        "email": email, "name": name, "course": course, "course_id": course_id,
                        "access_url": access_url, "expires_at": sao_paulo_day(expires_at),
                    }),
                    event_id: None,
                    customer_id,
                    course_id: Some(course_id),
                    order_id,
                },
            )?;
            reminded.push(id);
        }
        Ok(reminded)
    })
}

/// How a payment method is paid later, if it is (pix or boleto; the providers spell them differently).
pub fn delayed_method(method: &str) -> Option<DelayedMethod> {
    let m = method.to_ascii_lowercase();
    if m.contains("pix") {
        Some(DelayedMethod::Pix)
    } else if m.contains("boleto") || m.contains("billet") || m.contains("bank_slip") {
        Some(DelayedMethod::Boleto)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayedMethod {
    Pix,
    Boleto,
}

/// Queues `payment_expired_message` (reason `payment_expired`) for orders still `waiting_payment` by pix
/// past `PIX_EXPIRY_MINUTES`, or by boleto past `BOLETO_EXPIRY_HOURS`, since their last event, with
/// neither approval nor expiry from the platform. Once per order, whichever comes first: the timeout or
/// the platform's `expired` (`orders.payment_timeout_at` is set by both; an order whose message was
/// already planned before that, e.g. an expiry and then a new boleto, is skipped by its treatment). The
/// order stays `waiting_payment`: a later approval grants as usual, a later `expired` records the status
/// without a second message (the rules' `expiry_announced`). Returns the order ids.
pub fn queue_payment_timeouts(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    settings: &Settings,
) -> QueryResult<Vec<i64>> {
    use crate::schema::orders;
    let shortest = settings.pix_expiry.min(settings.boleto_expiry);
    conn.transaction(|conn| {
        let locked: Vec<i64> = orders::table
            .filter(orders::status.eq(super::rules::OrderStatus::WaitingPayment))
            .filter(orders::payment_timeout_at.is_null())
            .filter(orders::payment_method.is_not_null())
            .filter(orders::updated_at.le(now - shortest))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                treatments::table
                    .filter(treatments::customer_id.eq(orders::customer_id))
                    .filter(treatments::order_id.eq(orders::id.nullable()))
                    .filter(treatments::kind.eq(TreatmentKind::PaymentExpiredMessage))
                    .filter(treatments::status.ne(store::TreatmentStatus::Canceled)),
            )))
            .select(orders::id)
            .limit(500)
            .for_update()
            .skip_locked()
            .load(conn)?;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            i64,
            Option<i64>,
            Option<String>,
            Option<i64>,
            DateTime<Utc>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        )> = orders::table
            .inner_join(customers::table)
            .left_join(courses::table)
            .filter(orders::id.eq_any(&locked))
            .select((
                orders::id,
                orders::customer_id,
                orders::course_id,
                orders::payment_method,
                orders::amount_cents,
                orders::updated_at,
                customers::email,
                customers::name,
                courses::name.nullable(),
                courses::access_url.nullable(),
            ))
            .load(conn)?;
        let mut timed_out = vec![];
        for (id, customer_id, course_id, method, amount_cents, updated_at, email, name, course, access_url) in rows {
            let limit = match method.as_deref().and_then(delayed_method) {
                Some(DelayedMethod::Pix) => settings.pix_expiry,
                Some(DelayedMethod::Boleto) => settings.boleto_expiry,
                None => continue,
            };
            if updated_at > now - limit {
                continue;
            }
            diesel::update(orders::table.find(id)).set(orders::payment_timeout_at.eq(now)).execute(conn)?;
            queue(
                conn,
                NewTreatment {
                    kind: TreatmentKind::PaymentExpiredMessage,
                    run_at: now,
                    reason: Some(TreatmentReason::PaymentExpired),
                    payload: json!({
                        "email": email, "name": name, "course": course, "course_id": course_id,
                        "access_url": access_url, "amount_cents": amount_cents, "payment_method": method,
                    }),
                    event_id: None,
                    customer_id,
                    course_id,
                    order_id: Some(id),
                },
            )?;
            timed_out.push(id);
        }
        Ok(timed_out)
    })
}

/// Inserts one treatment and wakes the workers (at commit).
fn queue(conn: &mut PgConnection, treatment: NewTreatment) -> QueryResult<()> {
    for t in store::insert(conn, &[treatment])? {
        notify::send(conn, Signal::Queued(t.id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pix_and_boleto_as_the_providers_spell_them() {
        for m in ["pix", "PIX", "Pix"] {
            assert_eq!(delayed_method(m), Some(DelayedMethod::Pix), "{m}");
        }
        for m in ["boleto", "BILLET", "bank_slip"] {
            assert_eq!(delayed_method(m), Some(DelayedMethod::Boleto), "{m}");
        }
        for m in ["credit_card", "cartao_credito", ""] {
            assert_eq!(delayed_method(m), None, "{m}");
        }
    }

    #[test]
    fn payload_days_are_sao_paulo_days() {
        assert_eq!(sao_paulo_day("2027-01-01T02:00:00Z".parse().unwrap()), "2026-12-31");
        assert_eq!(sao_paulo_day("2027-01-01T03:00:00Z".parse().unwrap()), "2027-01-01");
    }
}
