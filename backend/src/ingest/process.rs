//! The ingest transaction: deduplicate, upsert the customer, resolve the product's courses, lock the
//! order and the enrollments, decide (pure rules, once per course), apply, insert the treatments,
//! NOTIFY. One commit.

use super::event::{EventKind, IgnoredEvent, Parsed, PaymentEvent, ProductInfo, Source};
use super::record::{NewEvent, Received};
use crate::catalog;
use crate::models::{Course, Customer, Enrollment, Order};
use crate::note::Note;
use crate::notify::{self, Signal};
use crate::schema::{courses, customers, enrollments, orders, product_courses, webhook_events};
use crate::treatments::rules::{
    self, CourseFacts, EnrollmentChange, EnrollmentState, EnrollmentStatus, OrderStatus, Situation, TreatmentKind,
};
use crate::treatments::store::{self, NewTreatment, TreatmentStatus};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;
use utoipa::ToSchema;

crate::vocabulary! {
    /// What became of a webhook request (`webhook_events.outcome`). A 200 answer is `processed`,
    /// `duplicate` or `ignored`; the others are recorded for requests turned away.
    pub enum Outcome {
        /// New event: customer, order, enrollment and treatments recorded.
        Processed = "processed",
        /// Already received (same source and business key): nothing new was done.
        Duplicate = "duplicate",
        /// Recognised, deliberately not acted upon (cart abandonment, members-area events, ...).
        Ignored = "ignored",
        /// Missing or invalid credentials (401).
        Unauthorized = "unauthorized",
        /// The body is not JSON (400).
        InvalidJson = "invalid_json",
        /// JSON without what is needed (422).
        Unprocessable = "unprocessable",
        /// The body is over the limit (413).
        PayloadTooLarge = "payload_too_large",
        /// No source of that name is enabled here (404).
        UnknownSource = "unknown_source",
        /// The body did not arrive in time (408).
        RequestTimeout = "request_timeout",
        /// An internal failure while ingesting (500); nothing of it was kept but this record.
        Error = "error",
    }
}

impl Outcome {
    /// Outcomes of accepted requests (answered 200).
    pub const ACCEPTED: [Outcome; 3] = [Outcome::Processed, Outcome::Duplicate, Outcome::Ignored];
    /// Outcomes of requests that were turned away.
    pub const REJECTED: [Outcome; 7] = [
        Outcome::Unauthorized,
        Outcome::InvalidJson,
        Outcome::Unprocessable,
        Outcome::PayloadTooLarge,
        Outcome::UnknownSource,
        Outcome::RequestTimeout,
        Outcome::Error,
    ];

    /// Whether the request was accepted (answered 200).
    pub fn is_accepted(self) -> bool {
        Outcome::ACCEPTED.contains(&self)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatmentRef {
    pub id: i64,
    pub kind: TreatmentKind,
    pub status: TreatmentStatus,
}

/// The answer to an accepted webhook (and to a replay).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub event_id: i64,
    pub outcome: Outcome,
    pub customer_id: Option<i64>,
    pub treatments: Vec<TreatmentRef>,
    /// For a duplicate: the event it repeats.
    pub duplicate_of: Option<i64>,
    /// Why less than usual happened (e.g. an approval after a refund grants nothing), as a stable code.
    pub note: Option<Note>,
}

/// Course settings for products that are not mapped yet.
#[derive(Debug, Clone)]
pub struct CourseDefaults {
    pub default_course_name: String,
}

/// Runs the whole ingest of one accepted, parsed webhook in one transaction.
pub fn ingest(
    conn: &mut PgConnection,
    received: &Received,
    parsed: &Parsed,
    defaults: &CourseDefaults,
    replay_of: Option<i64>,
    started: Instant,
) -> QueryResult<WebhookAnswer> {
    conn.transaction(|conn| {
        let answer = apply(conn, received, parsed, defaults, replay_of, started)?;
        notify::send_all(conn, &signals(&answer))?;
        Ok(answer)
    })
}

/// The writes of one webhook, inside the caller's transaction, without its notification: the
/// one-by-one path (`ingest`) and the group-commit writer (`batch`, one savepoint per event) share it.
pub fn apply(
    conn: &mut PgConnection,
    received: &Received,
    parsed: &Parsed,
    defaults: &CourseDefaults,
    replay_of: Option<i64>,
    started: Instant,
) -> QueryResult<WebhookAnswer> {
    match parsed {
        Parsed::Ignored(ignored) => ingest_ignored(conn, received, ignored, replay_of, started),
        Parsed::Event(event) => ingest_event(conn, received, event, defaults, replay_of, started),
    }
}

/// What an accepted webhook announces once committed: its event and its queued treatments.
pub fn signals(answer: &WebhookAnswer) -> Vec<Signal> {
    std::iter::once(Signal::Event(answer.event_id))
        .chain(answer.treatments.iter().map(|t| Signal::Queued(t.id)))
        .collect()
}

pub fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// Inserts the event as the original of its dedup key; `None` when an original already exists.
fn insert_original(conn: &mut PgConnection, row: NewEvent<'_>) -> QueryResult<Option<i64>> {
    use webhook_events::dsl as w;
    diesel::insert_into(w::webhook_events)
        .values(row)
        .on_conflict((w::source, w::dedup_key))
        .filter_target(w::duplicate_of.is_null().and(w::dedup_key.is_not_null()))
        .do_nothing()
        .returning(w::id)
        .get_result(conn)
        .optional()
}

/// Records a repeat of an event already received.
fn record_duplicate(
    conn: &mut PgConnection,
    received: &Received,
    source: &str,
    dedup_key: &str,
    row: NewEvent<'_>,
) -> QueryResult<WebhookAnswer> {
    use webhook_events::dsl as w;
    let (original, customer_id): (i64, Option<i64>) = w::webhook_events
        .filter(w::source.eq(source))
        .filter(w::dedup_key.eq(dedup_key))
        .filter(w::duplicate_of.is_null())
        .select((w::id, w::customer_id))
        .first(conn)?;
    let row = NewEvent {
        outcome: Outcome::Duplicate,
        duplicate_of: Some(original),
        customer_id,
        note: Some(Note::AlreadyReceived),
        ..row
    };
    let event_id = diesel::insert_into(w::webhook_events).values(row).returning(w::id).get_result(conn)?;
    log::debug!("event {event_id} from {} repeats event {original}", received.source);
    Ok(WebhookAnswer {
        event_id,
        outcome: Outcome::Duplicate,
        customer_id,
        treatments: vec![],
        duplicate_of: Some(original),
        note: Some(Note::AlreadyReceived),
    })
}

fn ingest_ignored(
    conn: &mut PgConnection,
    received: &Received,
    ignored: &IgnoredEvent,
    replay_of: Option<i64>,
    started: Instant,
) -> QueryResult<WebhookAnswer> {
    let customer_id = match &ignored.email {
        Some(email) => {
            customers::table.filter(customers::email.eq(email)).select(customers::id).first(conn).optional()?
        }
        None => None,
    };
    let row = || NewEvent {
        dedup_key: ignored.dedup_key.as_deref(),
        event_type: Some(&ignored.event_type),
        kind: Some(EventKind::Ignored),
        customer_id,
        replay_of,
        note: Some(ignored.reason),
        latency_ms: Some(elapsed_ms(started)),
        ..NewEvent::from_received(received, Outcome::Ignored)
    };
    let event_id = match &ignored.dedup_key {
        Some(key) => match insert_original(conn, row())? {
            Some(id) => id,
            None => return record_duplicate(conn, received, &received.source, key, row()),
        },
        None => {
            diesel::insert_into(webhook_events::table).values(row()).returning(webhook_events::id).get_result(conn)?
        }
    };
    Ok(WebhookAnswer {
        event_id,
        outcome: Outcome::Ignored,
        customer_id,
        treatments: vec![],
        duplicate_of: None,
        note: Some(ignored.reason),
    })
}

fn ingest_event(
    conn: &mut PgConnection,
    received: &Received,
    event: &PaymentEvent,
    defaults: &CourseDefaults,
    replay_of: Option<i64>,
    started: Instant,
) -> QueryResult<WebhookAnswer> {
    let now = Utc::now();
    let row = || NewEvent {
        dedup_key: Some(&event.dedup_key),
        event_type: Some(&event.event_type),
        kind: Some(event.kind),
        replay_of,
        latency_ms: Some(elapsed_ms(started)),
        ..NewEvent::from_received(received, Outcome::Processed)
    };
    let Some(event_id) = insert_original(conn, row())? else {
        return record_duplicate(conn, received, event.source.as_str(), &event.dedup_key, row());
    };

    let customer = upsert_customer(conn, event, now)?;
    // Every course the product grants (its mapping's, else its automatic course), by id: the
    // enrollments are locked in that order.
    let courses = resolve_courses(conn, event.source, event.product.as_ref(), defaults)?;
    // The order's course when it unlocks exactly one; a multi-course order has none of its own (its
    // courses are its enrollments and treatments).
    let order_course = match courses.as_slice() {
        [only] => Some(only.id),
        _ => None,
    };
    let order = match &event.order {
        Some(_) => Some(lock_order(conn, event, customer.id, order_course, now)?),
        None => None,
    };
    let course_ids: Vec<i64> = courses.iter().map(|c| c.id).collect();
    let locked: Vec<Enrollment> = enrollments::table
        .filter(enrollments::customer_id.eq(customer.id))
        .filter(enrollments::course_id.eq_any(&course_ids))
        .order(enrollments::course_id)
        .select(Enrollment::as_select())
        .for_update()
        .load(conn)?;
    let current: Vec<Option<&Enrollment>> =
        courses.iter().map(|c| locked.iter().find(|e| e.course_id == c.id)).collect();

    let facts: Vec<CourseFacts> = courses
        .iter()
        .zip(&current)
        .map(|(course, enrollment)| CourseFacts {
            access_days: course.access_days,
            enrollment: enrollment.map(|e| EnrollmentState { status: e.status, expires_at: e.expires_at }),
        })
        .collect();
    // The payment-expired message goes out once per order: `orders.payment_timeout_at` is set when it is
    // planned, by the sweep's pix/boleto timeout or by an expiry here, whichever comes first.
    let expiry_announced = match (&order, event.kind) {
        (Some(o), EventKind::Expired) => {
            orders::table.find(o.id).select(orders::payment_timeout_at).first::<Option<DateTime<Utc>>>(conn)?.is_some()
        }
        _ => false,
    };
    let plan = rules::decide_for_courses(
        &Situation {
            kind: event.kind,
            order: order.as_ref().map(|o| o.status).filter(|s| *s != OrderStatus::New),
            enrollment: None,
            access_days: None,
            access_until: event.access_until,
            has_order_ids: event.source.has_order_ids(),
            expiry_announced,
            now,
        },
        &facts,
    );
    let announces_expiry =
        plan.courses.iter().flat_map(|d| &d.treatments).any(|t| t.kind == TreatmentKind::PaymentExpiredMessage);
    if let (Some(order), true) = (&order, announces_expiry) {
        diesel::update(orders::table.find(order.id)).set(orders::payment_timeout_at.eq(now)).execute(conn)?;
    }

    if let (Some(order), Some(status)) = (&order, plan.order_status) {
        let prior = Some(order.status).filter(|s| *s != OrderStatus::New);
        let approved_at = rules::approval_time(prior, Some(status), event.occurred_at, now);
        diesel::update(orders::table.find(order.id))
            .set((
                orders::status.eq(status),
                orders::updated_at.eq(now),
                approved_at.map(|t| orders::approved_at.eq(t)),
            ))
            .execute(conn)?;
    }
    let order_id = order.as_ref().map(|o| o.id);
    let mut planned: Vec<NewTreatment> = vec![];
    for ((course, enrollment), decision) in courses.iter().zip(&current).zip(&plan.courses) {
        let expires_at =
            apply_enrollment(conn, decision.enrollment, *enrollment, customer.id, course.id, order_id, now)?;
        // Revocations are scheduled only for access with an end (a cancelled subscription).
        if decision.cancel_scheduled_revokes && enrollment.is_some_and(|e| e.expires_at.is_some()) {
            store::cancel_scheduled_revokes(conn, customer.id, course.id, now)?;
        }
        let payload = treatment_payload(event, &customer, course, expires_at);
        planned.extend(decision.treatments.iter().map(|p| NewTreatment {
            kind: p.kind,
            run_at: p.run_at.unwrap_or(now),
            reason: Some(p.reason),
            payload: payload.clone(),
            event_id: Some(event_id),
            customer_id: customer.id,
            course_id: Some(course.id),
            order_id,
        }));
    }
    let inserted = store::insert(conn, &planned)?;

    diesel::update(webhook_events::table.find(event_id))
        .set((
            webhook_events::customer_id.eq(customer.id),
            webhook_events::order_id.eq(order_id),
            webhook_events::note.eq(plan.note.map(Note::as_str)),
            webhook_events::latency_ms.eq(elapsed_ms(started)),
        ))
        .execute(conn)?;

    Ok(WebhookAnswer {
        event_id,
        outcome: Outcome::Processed,
        customer_id: Some(customer.id),
        treatments: inserted.into_iter().map(|t| TreatmentRef { id: t.id, kind: t.kind, status: t.status }).collect(),
        duplicate_of: None,
        note: plan.note,
    })
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = customers)]
struct CustomerUpsert<'a> {
    email: &'a str,
    name: Option<&'a str>,
    document: Option<&'a str>,
    phone: Option<&'a str>,
    updated_at: DateTime<Utc>,
    last_activity_at: DateTime<Utc>,
}

/// Inserts or refreshes the customer (by lower-cased e-mail); known fields are never blanked.
/// The row stays locked until commit, so the events of one customer apply one at a time.
fn upsert_customer(conn: &mut PgConnection, event: &PaymentEvent, now: DateTime<Utc>) -> QueryResult<Customer> {
    let c = &event.customer;
    let row = CustomerUpsert {
        email: &c.email,
        name: c.name.as_deref(),
        document: c.document.as_deref(),
        phone: c.phone.as_deref(),
        updated_at: now,
        last_activity_at: now,
    };
    diesel::insert_into(customers::table)
        .values(&row)
        .on_conflict(customers::email)
        .do_update()
        .set(&row)
        .returning(Customer::as_returning())
        .get_result(conn)
}

const DEFAULT_COURSE_SLUG: &str = "default";

/// The courses of a product, by id: those of its mapping (catalog: the offer's own, else the
/// product-wide one), else its automatic course (created the first time the product is seen, and the
/// product recorded as seen). A product named by its other id alone (a Hotmart subscription
/// cancellation) is the one last seen with it. No product (the simulator): the default course.
pub(crate) fn resolve_courses(
    conn: &mut PgConnection,
    source: Source,
    product: Option<&ProductInfo>,
    defaults: &CourseDefaults,
) -> QueryResult<Vec<Course>> {
    let Some(product) = product else {
        return Ok(vec![ensure_course(conn, DEFAULT_COURSE_SLUG, &defaults.default_course_name)?]);
    };
    let product = &catalog::queries::known_product(conn, source, product)?;
    // Mapped by the key it is known by, else by its other id (a seller may have typed either).
    for id in std::iter::once(&product.external_id).chain(&product.alias) {
        if let Some(mapped) = catalog::queries::mapped_courses(conn, source, id, product.offer_code.as_deref())? {
            return Ok(mapped);
        }
    }
    Ok(vec![automatic_course(conn, source, product)?])
}

/// The course created for an unmapped product, created now on its first webhook.
fn automatic_course(conn: &mut PgConnection, source: Source, product: &ProductInfo) -> QueryResult<Course> {
    let seen = |conn: &mut PgConnection| {
        product_courses::table
            .inner_join(courses::table)
            .filter(product_courses::source.eq(source))
            .filter(product_courses::external_product_id.eq(&product.external_id))
            .select(Course::as_select())
            .first::<Course>(conn)
            .optional()
    };
    if let Some(course) = seen(conn)? {
        return Ok(course);
    }
    let slug = format!("{}-{}", source.as_str(), slugify(&product.external_id));
    let name = product.name.clone().unwrap_or_else(|| format!("Produto {}", product.external_id));
    let course = ensure_course(conn, &slug, &name)?;
    diesel::insert_into(product_courses::table)
        .values((
            product_courses::source.eq(source),
            product_courses::external_product_id.eq(&product.external_id),
            product_courses::product_name.eq(&product.name),
            product_courses::course_id.eq(course.id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    // Another request may have recorded it first: its course wins.
    Ok(seen(conn)?.unwrap_or(course))
}

fn ensure_course(conn: &mut PgConnection, slug: &str, name: &str) -> QueryResult<Course> {
    let find = |conn: &mut PgConnection| {
        courses::table.filter(courses::slug.eq(slug)).select(Course::as_select()).first(conn).optional()
    };
    if let Some(course) = find(conn)? {
        return Ok(course);
    }
    diesel::insert_into(courses::table)
        .values((courses::slug.eq(slug), courses::name.eq(name)))
        .on_conflict(courses::slug)
        .do_nothing()
        .execute(conn)?;
    // Created here, or by a concurrent request a moment ago.
    courses::table.filter(courses::slug.eq(slug)).select(Course::as_select()).first(conn)
}

/// Lower-case ASCII letters, digits and dashes, at most 64 characters.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    out.chars().take(64).collect()
}

#[derive(Insertable)]
#[diesel(table_name = orders)]
struct NewOrder<'a> {
    source: Source,
    external_id: &'a str,
    customer_id: i64,
    course_id: Option<i64>,
    status: OrderStatus,
    amount_cents: Option<i64>,
    currency: Option<&'a str>,
    payment_method: Option<&'a str>,
    installments: Option<i32>,
    coupon: Option<&'a str>,
    offer_code: Option<&'a str>,
    access_until: Option<DateTime<Utc>>,
}

/// What a later event of the order refreshes; a field it does not carry (`None`) is left as it was.
#[derive(AsChangeset)]
#[diesel(table_name = orders)]
struct OrderRefresh<'a> {
    amount_cents: Option<i64>,
    currency: Option<&'a str>,
    payment_method: Option<&'a str>,
    installments: Option<i32>,
    coupon: Option<&'a str>,
    offer_code: Option<&'a str>,
    access_until: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// The order row as it was before this event (status `new` when created now; the rules decide),
/// with the amounts this event brings. One statement; the row stays locked until commit.
fn lock_order(
    conn: &mut PgConnection,
    event: &PaymentEvent,
    customer_id: i64,
    course_id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<Order> {
    let info = event.order.as_ref().expect("caller checked");
    let offer_code = event.product.as_ref().and_then(|p| p.offer_code.as_deref());
    let row = NewOrder {
        source: event.source,
        external_id: &info.external_id,
        customer_id,
        course_id,
        status: OrderStatus::New,
        amount_cents: info.amount_cents,
        currency: info.currency.as_deref(),
        payment_method: info.payment_method.as_deref(),
        installments: info.installments,
        coupon: info.coupon.as_deref(),
        offer_code,
        access_until: event.access_until,
    };
    let refresh = OrderRefresh {
        amount_cents: info.amount_cents,
        currency: info.currency.as_deref(),
        payment_method: info.payment_method.as_deref(),
        installments: info.installments,
        coupon: info.coupon.as_deref(),
        offer_code,
        access_until: event.access_until,
        updated_at: now,
    };
    diesel::insert_into(orders::table)
        .values(&row)
        .on_conflict((orders::source, orders::external_id))
        .do_update()
        .set(&refresh)
        .returning(Order::as_returning())
        .get_result(conn)
}

/// Applies the enrollment change; returns the access end it leaves (for the messages).
fn apply_enrollment(
    conn: &mut PgConnection,
    change: EnrollmentChange,
    current: Option<&Enrollment>,
    customer_id: i64,
    course_id: i64,
    order_id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    use enrollments::dsl as e;
    let active = EnrollmentStatus::Active;
    match (change, current) {
        (EnrollmentChange::Unchanged, cur) => Ok(cur.and_then(|c| c.expires_at)),
        (EnrollmentChange::Activate { expires_at }, None) => {
            diesel::insert_into(e::enrollments)
                .values((
                    e::customer_id.eq(customer_id),
                    e::course_id.eq(course_id),
                    e::order_id.eq(order_id),
                    e::status.eq(active),
                    e::granted_at.eq(now),
                    e::expires_at.eq(expires_at),
                ))
                .execute(conn)?;
            Ok(expires_at)
        }
        (EnrollmentChange::Activate { expires_at }, Some(cur)) => {
            diesel::update(e::enrollments.find(cur.id))
                .set((
                    e::status.eq(active),
                    e::order_id.eq(order_id),
                    e::granted_at.eq(now),
                    e::revoked_at.eq(None::<DateTime<Utc>>),
                    e::expires_at.eq(expires_at),
                    e::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(expires_at)
        }
        (EnrollmentChange::Extend { expires_at }, Some(cur)) => {
            diesel::update(e::enrollments.find(cur.id))
                .set((e::expires_at.eq(expires_at), e::order_id.eq(order_id), e::updated_at.eq(now)))
                .execute(conn)?;
            Ok(expires_at)
        }
        (EnrollmentChange::Revoke, Some(cur)) => {
            diesel::update(e::enrollments.find(cur.id))
                .set((e::status.eq(EnrollmentStatus::Revoked), e::revoked_at.eq(now), e::updated_at.eq(now)))
                .execute(conn)?;
            Ok(cur.expires_at)
        }
        (EnrollmentChange::EndAt(end), Some(cur)) => {
            diesel::update(e::enrollments.find(cur.id))
                .set((e::expires_at.eq(end), e::updated_at.eq(now)))
                .execute(conn)?;
            Ok(Some(end))
        }
        // The rules only extend, revoke or end an existing enrollment.
        (EnrollmentChange::Extend { .. } | EnrollmentChange::Revoke | EnrollmentChange::EndAt(_), None) => Ok(None),
    }
}

/// What the executors need to know, frozen at decision time.
pub(crate) fn treatment_payload(
    event: &PaymentEvent,
    customer: &Customer,
    course: &Course,
    expires_at: Option<DateTime<Utc>>,
) -> serde_json::Value {
    let order = event.order.as_ref();
    json!({
        "email": customer.email,
        "name": customer.name,
        "course": course.name,
        "course_id": course.id,
        "access_url": course.access_url,
        "amount_cents": order.and_then(|o| o.amount_cents),
        "currency": order.and_then(|o| o.currency.clone()),
        "payment_method": order.and_then(|o| o.payment_method.clone()),
        "boleto_url": event.payment.boleto_url,
        "boleto_barcode": event.payment.boleto_barcode,
        "pix_code": event.payment.pix_code,
        "pix_expires_at": event.payment.pix_expires_at,
        "refusal_reason": event.payment.refusal_reason,
        "expires_at": expires_at.map(|t| t.format("%Y-%m-%d").to_string()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slugify("0b6f3c4e-1111-4A2B"), "0b6f3c4e-1111-4a2b");
        assert_eq!(super::slugify("  Curso: Confeitaria!! "), "curso-confeitaria");
        assert_eq!(super::slugify("4100123"), "4100123");
    }
}
