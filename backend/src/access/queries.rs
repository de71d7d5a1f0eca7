//! The transactions of manual access: one customer's grant, extension, revocation or welcome; a
//! course's bulk action; an import. Each writes the enrollment change and queues its treatments in the
//! outbox exactly as a webhook would (with who did it and why), audits it, and wakes the workers —
//! all in one commit.

use super::import::{self, Catalog, CourseRef, ImportReport, LineError, PlannedLine, RawLine};
use super::rules::{self, bulk_extend, local_day, AccessAction, BulkAction, ImportResult, Refusal, Term};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::{Customer, Enrollment, Treatment};
use crate::notify::{self, Signal};
use crate::schema::{courses, customers, enrollments, treatments};
use crate::staff::audit::{self, AuditAction, AuditTarget, Entry};
use crate::staff::queries::customers::effective_status;
use crate::staff::queries::treatments as treatment_queries;
use crate::staff::views::{EnrollmentView, TreatmentView};
use crate::treatments::rules::{EnrollmentChange, EnrollmentState, EnrollmentStatus, TreatmentKind, TreatmentReason};
use crate::treatments::store::{self, TreatmentStatus};
use chrono::{DateTime, Utc};
use diesel::data_types::PgInterval;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;

/// Rows per multi-row INSERT (PostgreSQL takes at most 65,535 parameters per statement).
const INSERT_CHUNK: usize = 1000;
/// Signals per NOTIFY (its payload must stay under 8,000 bytes).
const NOTIFY_CHUNK: usize = 400;

/// A course as manual access needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = courses)]
pub struct CourseRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub access_days: Option<i32>,
    pub access_url: Option<String>,
}

/// A treatment queued by a staff member.
#[derive(Insertable)]
#[diesel(table_name = treatments)]
struct NewStaffTreatment<'a> {
    kind: TreatmentKind,
    run_at: DateTime<Utc>,
    reason: Option<TreatmentReason>,
    payload: Value,
    customer_id: i64,
    course_id: Option<i64>,
    actor_user_id: Option<i64>,
    staff_reason: Option<&'a str>,
}

/// The answer to a manual action: the enrollment as it is now and the treatments queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessAnswer {
    pub enrollment: EnrollmentView,
    pub treatments: Vec<TreatmentView>,
}

/// A validated manual action.
#[derive(Debug, Clone)]
pub struct ManualRequest {
    pub action: AccessAction,
    pub course_id: i64,
    /// `None` for a revocation.
    pub term: Option<Term>,
    pub reason: String,
}

/// A validated bulk action.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    pub action: BulkAction,
    /// `Days` or `Until` for an extension, `None` for a revocation.
    pub term: Option<Term>,
    pub reason: String,
}

/// What a bulk action did, or would do (dry run).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkAnswer {
    pub dry_run: bool,
    pub action: BulkAction,
    pub course_id: i64,
    pub course_name: String,
    /// Active enrollments of the course.
    pub active: usize,
    /// Enrollments changed (each with one treatment queued): all of them for a revocation; for an
    /// extension, those with an end before the new one.
    pub changed: usize,
    /// Active enrollments left alone: lifetime access, or already ending on or after `until`.
    pub skipped: usize,
}

fn not_found(what: &str, id: i64) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("No {what} with id {id}."))
}

/// The customer, locked until commit (webhooks lock it first too, so changes to one customer apply one at a time).
fn lock_customer(conn: &mut PgConnection, id: i64) -> ApiResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("customer", id))
}

pub fn find_course(conn: &mut PgConnection, id: i64) -> ApiResult<CourseRow> {
    courses::table
        .find(id)
        .select(CourseRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("course", id))
}

fn enrollment_of(
    conn: &mut PgConnection,
    customer_id: i64,
    course_id: i64,
    lock: bool,
) -> QueryResult<Option<Enrollment>> {
    let q = enrollments::table
        .filter(enrollments::customer_id.eq(customer_id))
        .filter(enrollments::course_id.eq(course_id))
        .select(Enrollment::as_select());
    if lock {
        q.for_update().first(conn).optional()
    } else {
        q.first(conn).optional()
    }
}

fn state_of(e: &Enrollment) -> EnrollmentState {
    EnrollmentState { status: e.status, expires_at: e.expires_at }
}

/// The enrollment as the audit log keeps it.
fn audit_json(e: &Enrollment) -> Value {
    json!({
        "id": e.id,
        "course_id": e.course_id,
        "status": e.status,
        "granted_at": e.granted_at,
        "revoked_at": e.revoked_at,
        "expires_at": e.expires_at,
    })
}

pub fn enrollment_view(e: Enrollment, course_name: String) -> EnrollmentView {
    EnrollmentView {
        status: effective_status(e.status, e.expires_at),
        id: e.id,
        course_id: e.course_id,
        course_name,
        granted_at: e.granted_at,
        revoked_at: e.revoked_at,
        expires_at: e.expires_at,
        order_id: e.order_id,
    }
}

/// What the executors need, frozen now (the keys of webhook-driven treatments, see `ingest::process`).
fn payload(email: &str, name: Option<&str>, course: &CourseRow, expires_at: Option<DateTime<Utc>>) -> Value {
    json!({
        "email": email,
        "name": name,
        "course": course.name,
        "course_id": course.id,
        "access_url": course.access_url,
        "expires_at": expires_at.map(local_day),
    })
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::AlreadyActive { expires_at } => ApiError::conflict(
            ErrorCode::AccessAlreadyActive,
            match expires_at {
                Some(t) => format!(
                    "This customer's access to the course is already active until {}; extend it instead.",
                    local_day(t)
                ),
                None => "This customer already has lifetime access to the course.".to_string(),
            },
        )
        .with_details(json!({ "expires_at": expires_at })),
        Refusal::NotActive => ApiError::conflict(
            ErrorCode::AccessNotActive,
            "This customer has no active access to the course (never granted, revoked or expired); grant it instead.",
        ),
        Refusal::Lifetime => {
            ApiError::conflict(ErrorCode::AccessLifetime, "This access never ends: there is nothing to extend.")
        }
        Refusal::NotLater { current_end } => {
            ApiError::unprocessable(ErrorCode::ValidationFailed, "Some fields are invalid.").with_details(json!({
                "fields": { "until": format!("must be after the current end of access ({})", local_day(current_end)) }
            }))
        }
    }
}

/// Writes the change of one enrollment; returns the row as it is now.
fn write_enrollment(
    conn: &mut PgConnection,
    change: EnrollmentChange,
    current: Option<&Enrollment>,
    customer_id: i64,
    course_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<Enrollment> {
    use enrollments::dsl as e;
    let row = match (change, current) {
        (EnrollmentChange::Activate { expires_at }, None) => diesel::insert_into(e::enrollments)
            .values((
                e::customer_id.eq(customer_id),
                e::course_id.eq(course_id),
                e::status.eq(EnrollmentStatus::Active),
                e::granted_at.eq(now),
                e::expires_at.eq(expires_at),
            ))
            .returning(Enrollment::as_returning())
            .get_result(conn)?,
        // A grant by hand is no order's: the enrollment forgets the order that granted it before.
        (EnrollmentChange::Activate { expires_at }, Some(cur)) => diesel::update(e::enrollments.find(cur.id))
            .set((
                e::status.eq(EnrollmentStatus::Active),
                e::order_id.eq(None::<i64>),
                e::granted_at.eq(now),
                e::revoked_at.eq(None::<DateTime<Utc>>),
                e::expires_at.eq(expires_at),
                e::updated_at.eq(now),
            ))
            .returning(Enrollment::as_returning())
            .get_result(conn)?,
        (EnrollmentChange::Extend { expires_at }, Some(cur)) => diesel::update(e::enrollments.find(cur.id))
            .set((e::expires_at.eq(expires_at), e::updated_at.eq(now)))
            .returning(Enrollment::as_returning())
            .get_result(conn)?,
        (EnrollmentChange::Revoke, Some(cur)) => diesel::update(e::enrollments.find(cur.id))
            .set((e::status.eq(EnrollmentStatus::Revoked), e::revoked_at.eq(now), e::updated_at.eq(now)))
            .returning(Enrollment::as_returning())
            .get_result(conn)?,
        (change, _) => return Err(ApiError::internal(format!("manual access cannot apply {change:?}"))),
    };
    Ok(row)
}

fn insert_treatments(conn: &mut PgConnection, rows: &[NewStaffTreatment<'_>]) -> QueryResult<Vec<Treatment>> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        out.extend(
            diesel::insert_into(treatments::table)
                .values(chunk)
                .returning(Treatment::as_returning())
                .get_results::<Treatment>(conn)?,
        );
    }
    Ok(out)
}

/// Wakes the workers (on every replica, at commit) for the treatments queued.
fn notify_queued(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<()> {
    for chunk in ids.chunks(NOTIFY_CHUNK) {
        let signals: Vec<Signal> = chunk.iter().map(|id| Signal::Queued(*id)).collect();
        notify::send_all(conn, &signals)?;
    }
    Ok(())
}

/// The treatments just queued, as views with the customer, course and actor.
fn treatment_views(conn: &mut PgConnection, inserted: Vec<Treatment>) -> QueryResult<Vec<TreatmentView>> {
    let ids: Vec<i64> = inserted.iter().map(|t| t.id).collect();
    treatment_queries::by_ids(conn, &ids)
}

fn audit_action(action: AccessAction) -> AuditAction {
    match action {
        AccessAction::Grant => AuditAction::GrantAccess,
        AccessAction::Extend => AuditAction::ExtendAccess,
        AccessAction::Revoke => AuditAction::RevokeAccess,
    }
}

/// A staff member's grant, extension or revocation of one customer's access to one course.
pub fn manual(
    conn: &mut PgConnection,
    actor: i64,
    customer_id: i64,
    req: &ManualRequest,
    now: DateTime<Utc>,
) -> ApiResult<AccessAnswer> {
    conn.transaction(|conn| {
        let customer = lock_customer(conn, customer_id)?;
        let course = find_course(conn, req.course_id)?;
        let current = enrollment_of(conn, customer.id, course.id, true)?;
        let change = rules::decide(req.action, req.term, current.as_ref().map(state_of), course.access_days, now)
            .map_err(refusal)?;
        let after = write_enrollment(conn, change.enrollment, current.as_ref(), customer.id, course.id, now)?;
        if req.action != AccessAction::Revoke {
            // access was granted or moved on: a revocation scheduled for the old end is moot
            store::cancel_scheduled_revokes(conn, customer.id, course.id, now)?;
        }
        let body = payload(&customer.email, customer.name.as_deref(), &course, after.expires_at);
        let rows: Vec<NewStaffTreatment<'_>> = change
            .treatments
            .iter()
            .map(|kind| NewStaffTreatment {
                kind: *kind,
                run_at: now,
                reason: Some(TreatmentReason::Manual),
                payload: body.clone(),
                customer_id: customer.id,
                course_id: Some(course.id),
                actor_user_id: Some(actor),
                staff_reason: Some(&req.reason),
            })
            .collect();
        let inserted = insert_treatments(conn, &rows)?;
        let ids: Vec<i64> = inserted.iter().map(|t| t.id).collect();
        let mut entry = Entry::new(actor, audit_action(req.action), AuditTarget::Customer, Some(customer.id))
            .reason(req.reason.clone())
            .after(audit_json(&after))
            .details(json!({ "course_id": course.id, "course_name": course.name, "treatments": ids }));
        if let Some(before) = &current {
            entry = entry.before(audit_json(before));
        }
        audit::record(conn, entry)?;
        notify_queued(conn, &ids)?;
        Ok(AccessAnswer {
            treatments: treatment_views(conn, inserted)?,
            enrollment: enrollment_view(after, course.name),
        })
    })
}

/// Queues the welcome message again for an active access.
pub fn resend_welcome(
    conn: &mut PgConnection,
    actor: i64,
    customer_id: i64,
    course_id: i64,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<AccessAnswer> {
    conn.transaction(|conn| {
        let customer = lock_customer(conn, customer_id)?;
        let course = find_course(conn, course_id)?;
        let current = enrollment_of(conn, customer.id, course.id, false)?;
        rules::can_resend_welcome(current.as_ref().map(state_of), now).map_err(refusal)?;
        let enrollment = current.ok_or_else(|| refusal(Refusal::NotActive))?;
        let row = NewStaffTreatment {
            kind: TreatmentKind::WelcomeMessage,
            run_at: now,
            reason: Some(TreatmentReason::Manual),
            payload: payload(&customer.email, customer.name.as_deref(), &course, enrollment.expires_at),
            customer_id: customer.id,
            course_id: Some(course.id),
            actor_user_id: Some(actor),
            staff_reason: reason.as_deref(),
        };
        let inserted = insert_treatments(conn, &[row])?;
        let ids: Vec<i64> = inserted.iter().map(|t| t.id).collect();
        let mut entry = Entry::new(actor, AuditAction::ResendWelcome, AuditTarget::Customer, Some(customer.id))
            .details(json!({ "course_id": course.id, "course_name": course.name, "treatments": ids }));
        if let Some(reason) = &reason {
            entry = entry.reason(reason.clone());
        }
        audit::record(conn, entry)?;
        notify_queued(conn, &ids)?;
        Ok(AccessAnswer {
            treatments: treatment_views(conn, inserted)?,
            enrollment: enrollment_view(enrollment, course.name),
        })
    })
}

/// An active enrollment of a cohort, with its customer.
#[derive(Queryable)]
struct CohortRow {
    id: i64,
    customer_id: i64,
    expires_at: Option<DateTime<Utc>>,
    email: String,
    name: Option<String>,
}

/// Extends or revokes every active enrollment of a course; a dry run only counts.
pub fn bulk(
    conn: &mut PgConnection,
    actor: i64,
    course_id: i64,
    req: &BulkRequest,
    dry_run: bool,
    now: DateTime<Utc>,
) -> ApiResult<BulkAnswer> {
    use enrollments::dsl as e;
    conn.transaction(|conn| {
        let course = find_course(conn, course_id)?;
        let active = e::course_id
            .eq(course.id)
            .and(e::status.eq(EnrollmentStatus::Active))
            .and(e::expires_at.is_null().or(e::expires_at.gt(now)));
        if !dry_run {
            // customers first, in id order, then their enrollments: the order webhooks lock in
            customers::table
                .filter(customers::id.eq_any(e::enrollments.filter(active).select(e::customer_id)))
                .order(customers::id)
                .select(customers::id)
                .for_update()
                .load::<i64>(conn)?;
            e::enrollments.filter(active).order(e::id).select(e::id).for_update().load::<i64>(conn)?;
        }
        let cohort: Vec<CohortRow> = e::enrollments
            .inner_join(customers::table)
            .filter(active)
            .order(e::id)
            .select((e::id, e::customer_id, e::expires_at, customers::email, customers::name))
            .load(conn)?;
        let changes: Vec<(&CohortRow, Option<DateTime<Utc>>)> = cohort
            .iter()
            .filter_map(|row| match (req.action, req.term) {
                (BulkAction::Revoke, _) => Some((row, row.expires_at)),
                (BulkAction::Extend, Some(term)) => bulk_extend(row.expires_at, term).map(|end| (row, Some(end))),
                (BulkAction::Extend, None) => None,
            })
            .collect();
        let answer = BulkAnswer {
            dry_run,
            action: req.action,
            course_id: course.id,
            course_name: course.name.clone(),
            active: cohort.len(),
            changed: changes.len(),
            skipped: cohort.len() - changes.len(),
        };
        if dry_run {
            return Ok(answer);
        }
        let ids: Vec<i64> = changes.iter().map(|(row, _)| row.id).collect();
        let kind = match req.action {
            BulkAction::Revoke => {
                diesel::update(e::enrollments.filter(e::id.eq_any(&ids)))
                    .set((e::status.eq(EnrollmentStatus::Revoked), e::revoked_at.eq(now), e::updated_at.eq(now)))
                    .execute(conn)?;
                TreatmentKind::RevokeAccess
            }
            BulkAction::Extend => {
                match req.term {
                    Some(Term::Days(days)) => {
                        // exact days of 24 hours, as `bulk_extend` computes them
                        let by = PgInterval::from_microseconds(days * 86_400 * 1_000_000);
                        diesel::update(e::enrollments.filter(e::id.eq_any(&ids)))
                            .set((e::expires_at.eq(e::expires_at + by), e::updated_at.eq(now)))
                            .execute(conn)?;
                    }
                    _ => {
                        for (row, end) in &changes {
                            diesel::update(e::enrollments.find(row.id))
                                .set((e::expires_at.eq(end), e::updated_at.eq(now)))
                                .execute(conn)?;
                        }
                    }
                }
                let customer_ids: Vec<i64> = changes.iter().map(|(row, _)| row.customer_id).collect();
                cancel_scheduled_revokes(conn, course.id, &customer_ids, now)?;
                TreatmentKind::ExtendAccess
            }
        };
        let rows: Vec<NewStaffTreatment<'_>> = changes
            .iter()
            .map(|(row, end)| NewStaffTreatment {
                kind,
                run_at: now,
                reason: Some(TreatmentReason::Bulk),
                payload: payload(&row.email, row.name.as_deref(), &course, *end),
                customer_id: row.customer_id,
                course_id: Some(course.id),
                actor_user_id: Some(actor),
                staff_reason: Some(&req.reason),
            })
            .collect();
        let inserted = insert_treatments(conn, &rows)?;
        let treatment_ids: Vec<i64> = inserted.iter().map(|t| t.id).collect();
        let action = match req.action {
            BulkAction::Extend => AuditAction::BulkExtend,
            BulkAction::Revoke => AuditAction::BulkRevoke,
        };
        let term = match req.term {
            Some(Term::Days(d)) => json!({ "days": d }),
            Some(Term::Until(date)) => json!({ "until": date }),
            _ => json!({}),
        };
        audit::record(
            conn,
            Entry::new(actor, action, AuditTarget::Course, Some(course.id)).reason(req.reason.clone()).details(json!({
                "course_name": course.name,
                "active": answer.active,
                "changed": answer.changed,
                "skipped": answer.skipped,
                "term": term,
            })),
        )?;
        notify_queued(conn, &treatment_ids)?;
        Ok(answer)
    })
}

/// Cancels the revocations scheduled in the future for some customers of a course (their access moved on).
fn cancel_scheduled_revokes(
    conn: &mut PgConnection,
    course_id: i64,
    customer_ids: &[i64],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use treatments::dsl as t;
    let mut n = 0;
    for chunk in customer_ids.chunks(10_000) {
        n += diesel::update(
            t::treatments
                .filter(t::course_id.eq(course_id))
                .filter(t::customer_id.eq_any(chunk))
                .filter(t::kind.eq(TreatmentKind::RevokeAccess))
                .filter(t::status.eq(TreatmentStatus::Pending))
                .filter(t::run_at.gt(now)),
        )
        .set((
            t::status.eq(TreatmentStatus::Canceled),
            t::last_error.eq("canceled: access extended by staff"),
            t::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

fn catalog(conn: &mut PgConnection) -> QueryResult<Catalog> {
    let rows: Vec<CourseRow> = courses::table.order(courses::id).select(CourseRow::as_select()).load(conn)?;
    Ok(Catalog::new(
        rows.into_iter()
            .map(|c| CourseRef {
                id: c.id,
                slug: c.slug,
                name: c.name,
                access_days: c.access_days,
                access_url: c.access_url,
            })
            .collect(),
    ))
}

/// Customers by e-mail: id and name (locked until commit when `lock`, in id order).
fn customers_by_email(
    conn: &mut PgConnection,
    emails: &[String],
    lock: bool,
) -> QueryResult<HashMap<String, (i64, Option<String>)>> {
    let mut out = HashMap::new();
    for chunk in emails.chunks(10_000) {
        let q = customers::table.filter(customers::email.eq_any(chunk)).order(customers::id).select((
            customers::id,
            customers::email,
            customers::name,
        ));
        let rows: Vec<(i64, String, Option<String>)> = if lock { q.for_update().load(conn)? } else { q.load(conn)? };
        out.extend(rows.into_iter().map(|(id, email, name)| (email, (id, name))));
    }
    Ok(out)
}

/// The enrollments of some customers in some courses.
fn enrollments_of(
    conn: &mut PgConnection,
    customer_ids: &[i64],
    course_ids: &[i64],
    lock: bool,
) -> QueryResult<HashMap<(i64, i64), Enrollment>> {
    let mut out = HashMap::new();
    for chunk in customer_ids.chunks(10_000) {
        let q = enrollments::table
            .filter(enrollments::customer_id.eq_any(chunk))
            .filter(enrollments::course_id.eq_any(course_ids))
            .order(enrollments::id)
            .select(Enrollment::as_select());
        let rows: Vec<Enrollment> = if lock { q.for_update().load(conn)? } else { q.load(conn)? };
        out.extend(rows.into_iter().map(|e| ((e.customer_id, e.course_id), e)));
    }
    Ok(out)
}

/// An import that has bad lines: 422, nothing written, the report in `details`.
fn rejected(report: &ImportReport) -> ApiError {
    ApiError::unprocessable(
        ErrorCode::ImportHasErrors,
        format!("{} line(s) of the file cannot be imported; nothing was imported.", report.errors.len()),
    )
    .with_details(serde_json::to_value(report).unwrap_or_default())
}

/// Checks the lines of a file, plans them and (not a dry run, no bad line) applies the plan: new
/// customers, access granted (with a welcome) or extended (without one); an access already active
/// until the line's end or later is left alone. All or nothing.
pub fn import(
    conn: &mut PgConnection,
    actor: i64,
    raw: Vec<RawLine>,
    file_errors: Vec<LineError>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> ApiResult<ImportReport> {
    conn.transaction(|conn| {
        let catalog = catalog(conn)?;
        let (good, mut errors) = import::validate(raw, &catalog, now);
        errors.extend(file_errors);
        let mut emails: Vec<String> =
            good.iter().map(|l| l.email.clone()).collect::<HashSet<_>>().into_iter().collect();
        emails.sort();
        let mut course_ids: Vec<i64> = good.iter().map(|l| l.course.id).collect::<HashSet<_>>().into_iter().collect();
        course_ids.sort();
        let write = !dry_run && errors.is_empty();

        let created: HashSet<String> = if write { insert_customers(conn, &good, &emails)? } else { HashSet::new() };
        let customers = customers_by_email(conn, &emails, write)?;
        let customer_ids: Vec<i64> = customers.values().map(|(id, _)| *id).collect();
        let current = enrollments_of(conn, &customer_ids, &course_ids, write)?;
        let before: HashMap<String, i64> = customers
            .iter()
            .filter(|(email, _)| !created.contains(*email))
            .map(|(email, (id, _))| (email.clone(), *id))
            .collect();
        let states: HashMap<(i64, i64), EnrollmentState> = current.iter().map(|(k, e)| (*k, state_of(e))).collect();
        let planned = import::plan(good, &before, &states, now);
        let mut report = ImportReport::new(dry_run, &planned, errors);
        // A file whose header is wrong is no import file: refused even in a dry run (nothing to preview).
        let unreadable = report.errors.iter().any(|e| e.line == 1);
        if !report.errors.is_empty() && (!dry_run || unreadable) {
            return Err(rejected(&report));
        }
        if !write {
            return Ok(report);
        }
        fill_names(conn, &planned, &customers)?;
        let treatment_ids = apply_import(conn, actor, &planned, &customers, &current, now)?;
        audit::record(
            conn,
            Entry::new(actor, AuditAction::ImportAccess, AuditTarget::Import, None).details(json!({
                "lines": report.lines,
                "counts": report.counts,
                "treatments": treatment_ids.len(),
            })),
        )?;
        notify_queued(conn, &treatment_ids)?;
        report.imported = true;
        Ok(report)
    })
}

/// Creates the customers not seen before (sorted by e-mail, so concurrent imports lock in one order);
/// returns the e-mails created.
fn insert_customers(
    conn: &mut PgConnection,
    good: &[import::GoodLine],
    emails: &[String],
) -> QueryResult<HashSet<String>> {
    let names: HashMap<&str, Option<&str>> = good.iter().rev().map(|l| (l.email.as_str(), l.name.as_deref())).collect();
    let mut created = HashSet::new();
    for chunk in emails.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|email| (customers::email.eq(email), customers::name.eq(names.get(email.as_str()).copied().flatten())))
            .collect();
        let inserted: Vec<String> = diesel::insert_into(customers::table)
            .values(&rows)
            .on_conflict(customers::email)
            .do_nothing()
            .returning(customers::email)
            .get_results(conn)?;
        created.extend(inserted);
    }
    Ok(created)
}

/// Gives a name to the customers who had none, from their first line that has one.
fn fill_names(
    conn: &mut PgConnection,
    planned: &[PlannedLine],
    customers: &HashMap<String, (i64, Option<String>)>,
) -> QueryResult<()> {
    let mut named = HashSet::new();
    for p in planned {
        let (Some(name), Some((id, None))) = (&p.line.name, customers.get(&p.line.email)) else { continue };
        if named.insert(*id) {
            diesel::update(customers::table.find(*id))
                .filter(customers::name.is_null())
                .set((customers::name.eq(name), customers::updated_at.eq(Utc::now())))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Writes the planned enrollments and queues their treatments; returns the treatment ids.
fn apply_import(
    conn: &mut PgConnection,
    actor: i64,
    planned: &[PlannedLine],
    customers: &HashMap<String, (i64, Option<String>)>,
    current: &HashMap<(i64, i64), Enrollment>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    use enrollments::dsl as e;
    let mut new_rows = vec![];
    let mut moved_on: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut treatments = vec![];
    for p in planned {
        let Some((customer_id, name)) = customers.get(&p.line.email) else {
            return Err(ApiError::internal(format!("import: customer {} vanished", p.line.email)));
        };
        let course = CourseRow {
            id: p.line.course.id,
            slug: p.line.course.slug.clone(),
            name: p.line.course.name.clone(),
            access_days: p.line.course.access_days,
            access_url: p.line.course.access_url.clone(),
        };
        let existing = current.get(&(*customer_id, course.id));
        match (p.result, existing) {
            (ImportResult::AlreadyActive, _) => continue,
            (ImportResult::NewAccess, None) => new_rows.push((
                e::customer_id.eq(*customer_id),
                e::course_id.eq(course.id),
                e::status.eq(EnrollmentStatus::Active),
                e::granted_at.eq(now),
                e::expires_at.eq(p.line.expires_at),
            )),
            (ImportResult::NewAccess, Some(cur)) => {
                write_enrollment(
                    conn,
                    EnrollmentChange::Activate { expires_at: p.line.expires_at },
                    Some(cur),
                    *customer_id,
                    course.id,
                    now,
                )?;
            }
            (ImportResult::Extend, Some(cur)) => {
                write_enrollment(
                    conn,
                    EnrollmentChange::Extend { expires_at: p.line.expires_at },
                    Some(cur),
                    *customer_id,
                    course.id,
                    now,
                )?;
            }
            (ImportResult::Extend, None) => {
                return Err(ApiError::internal("import: an extension without an enrollment"));
            }
        }
        if existing.is_some() {
            moved_on.entry(course.id).or_default().push(*customer_id);
        }
        for kind in rules::import_treatments(p.result) {
            treatments.push((*kind, *customer_id, payload(&p.line.email, name.as_deref(), &course, p.line.expires_at)));
        }
    }
    for chunk in new_rows.chunks(INSERT_CHUNK) {
        diesel::insert_into(e::enrollments).values(chunk).execute(conn)?;
    }
    for (course_id, customer_ids) in moved_on {
        cancel_scheduled_revokes(conn, course_id, &customer_ids, now)?;
    }
    let rows: Vec<NewStaffTreatment<'_>> = treatments
        .into_iter()
        .map(|(kind, customer_id, payload)| NewStaffTreatment {
            kind,
            run_at: now,
            reason: Some(TreatmentReason::Import),
            course_id: payload["course_id"].as_i64(),
            payload,
            customer_id,
            actor_user_id: Some(actor),
            staff_reason: None,
        })
        .collect();
    Ok(insert_treatments(conn, &rows)?.into_iter().map(|t| t.id).collect())
}
