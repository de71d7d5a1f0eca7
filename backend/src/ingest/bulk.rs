//! The set-based writes of a group-commit batch (`batch`): the webhooks of a batch that share nothing
//! with another webhook of it (customer, order, dedup key) and unlock exactly one course are written
//! set-based, in four statements whatever their number: the events (deduplication), the customers
//! and orders together, the enrollments (read and locked), then every change the rules decided
//! (orders, enrollments, events, treatments) together. The rules (`treatments::rules`) still decide
//! per event, in memory, from the state read for the whole batch. What does not fit (an ignored
//! event, a customer or order seen twice in the batch, several courses, a duplicate) is left to
//! `process::apply`, one by one, in the same transaction.
//!
//! Raw SQL (every value bound): the multi-row upserts and updates take one array per column through
//! `unnest`, and keep known values with `COALESCE(EXCLUDED.x, t.x)`; diesel's DSL has neither `unnest`
//! nor `COALESCE`. Their text does not depend on the batch, so each is a [`Statement`] that diesel
//! prepares once per connection (a `sql_query` would be parsed and planned again on every batch).

use super::event::{EventKind, Parsed, PaymentEvent};
use super::process::{self, CourseDefaults, Outcome, TreatmentRef, WebhookAnswer};
use super::record::{NewEvent, Received};
use crate::models::{Course, Customer, Enrollment, Treatment};
use crate::note::Note;
use crate::prepared::Statement;
use crate::schema::enrollments;
use crate::treatments::rules::{
    self, CourseFacts, EnrollmentChange, EnrollmentState, EnrollmentStatus, OrderStatus, Situation, TreatmentKind,
    TreatmentReason,
};
use crate::treatments::store::{self, NewTreatment};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use std::collections::HashMap;
use std::time::Instant;

/// An enrollment to create: customer, course, order, access end.
type NewEnrollment = (i64, i64, Option<i64>, Option<DateTime<Utc>>);
/// A webhook written here: its index in the batch, event, customer, order, note.
type Decided = (usize, i64, i64, Option<i64>, Option<Note>);
/// The order before this batch: id, status, `payment_timeout_at` (the payment-expired message was planned).
type LockedOrder = (i64, OrderStatus, Option<DateTime<Utc>>);

/// A change to an order, as `process` makes it: id, new status (with its approval time when it is the
/// approval), and whether the payment-expired message was planned now (`payment_timeout_at` set).
struct OrderUpdate {
    id: i64,
    status: Option<OrderStatus>,
    approved_at: Option<DateTime<Utc>>,
    announces_expiry: bool,
}

/// One webhook of the batch, as `bulk` sees it.
pub struct Webhook<'a> {
    pub received: &'a Received,
    pub parsed: &'a Parsed,
    pub started: Instant,
}

/// Writes what it can of `batch` set-based; returns one entry per webhook, in order: `Some(answer)`
/// when written here, `None` when left to the caller (one by one, in arrival order).
pub fn write(
    conn: &mut PgConnection,
    defaults: &CourseDefaults,
    batch: &[Webhook<'_>],
) -> QueryResult<Vec<Option<WebhookAnswer>>> {
    let now = Utc::now();
    let mut answers: Vec<Option<WebhookAnswer>> = (0..batch.len()).map(|_| None).collect();
    // The course of each candidate (resolved once per product in the batch).
    let mut courses: HashMap<(String, Option<String>, Option<String>), Vec<Course>> = HashMap::new();
    let mut candidates: Vec<(usize, &PaymentEvent, Course)> = vec![];
    for (i, w) in batch.iter().enumerate() {
        let Parsed::Event(event) = w.parsed else { continue };
        if event.order.is_none() {
            continue;
        }
        let key = (
            event.source.as_str().to_string(),
            event.product.as_ref().map(|p| p.external_id.clone()),
            event.product.as_ref().and_then(|p| p.offer_code.clone()),
        );
        if !courses.contains_key(&key) {
            let resolved = process::resolve_courses(conn, event.source, event.product.as_ref(), defaults)?;
            courses.insert(key.clone(), resolved);
        }
        if let [course] = courses[&key].as_slice() {
            candidates.push((i, &**event, course.clone()));
        }
    }
    // Only webhooks that share nothing with another one of the batch: their writes are independent.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for w in batch {
        for key in keys(w.parsed) {
            *seen.entry(key).or_default() += 1;
        }
    }
    candidates.retain(|(i, _, _)| keys(batch[*i].parsed).iter().all(|k| seen[k] == 1));
    if candidates.is_empty() {
        return Ok(answers);
    }
    // One lock order for every writer: by e-mail.
    candidates.sort_by(|a, b| a.1.customer.email.cmp(&b.1.customer.email));

    // 1. The events, as originals; a key already on record is a duplicate: left to `process`.
    let rows: Vec<NewEvent<'_>> = candidates
        .iter()
        .map(|(i, event, _)| NewEvent {
            dedup_key: Some(&event.dedup_key),
            event_type: Some(&event.event_type),
            kind: Some(event.kind),
            latency_ms: Some(process::elapsed_ms(batch[*i].started)),
            ..NewEvent::from_received(batch[*i].received, Outcome::Processed)
        })
        .collect();
    let inserted = insert_events(conn, &rows)?;
    let event_ids: HashMap<(String, String), i64> =
        inserted.into_iter().filter_map(|(id, key, source)| Some(((source, key?), id))).collect();
    let candidates: Vec<(usize, &PaymentEvent, Course, i64)> = candidates
        .into_iter()
        .filter_map(|(i, event, course)| {
            let id = event_ids.get(&(batch[i].received.source.clone(), event.dedup_key.clone()))?;
            Some((i, event, course, *id))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(answers);
    }

    // 2. The customers: inserted or refreshed (known fields never blanked), locked until commit.
    // 3. The orders: inserted (`new`) or refreshed, with their status before this batch; locked.
    let (customers, orders) = upsert_customers_and_orders(conn, &candidates, now)?;
    // 4. The enrollments of those customers in those courses, locked.
    let customer_ids: Vec<i64> = customers.values().map(|c| c.id).collect();
    let course_ids: Vec<i64> = candidates.iter().map(|c| c.2.id).collect();
    let current: Vec<Enrollment> = enrollments::table
        .filter(enrollments::customer_id.eq_any(&customer_ids))
        .filter(enrollments::course_id.eq_any(&course_ids))
        .order(enrollments::id)
        .select(Enrollment::as_select())
        .for_update()
        .load(conn)?;
    let current: HashMap<(i64, i64), Enrollment> =
        current.into_iter().map(|e| ((e.customer_id, e.course_id), e)).collect();

    // 5. The rules, per event, in memory.
    let mut order_updates: Vec<OrderUpdate> = vec![];
    let mut new_enrollments: Vec<NewEnrollment> = vec![];
    let mut changed_enrollments: Vec<Enrollment> = vec![];
    let mut planned: Vec<NewTreatment> = vec![];
    let mut decided: Vec<Decided> = vec![];
    for (i, event, course, event_id) in &candidates {
        let customer = &customers[&event.customer.email];
        let order_key = (
            event.source.as_str().to_string(),
            event.order.as_ref().expect("candidates have orders").external_id.clone(),
        );
        let order = &orders[&order_key];
        let enrollment = current.get(&(customer.id, course.id));
        let prior = Some(order.1).filter(|s| *s != OrderStatus::New);
        let plan = rules::decide_for_courses(
            &Situation {
                kind: event.kind,
                order: prior,
                enrollment: None,
                access_days: None,
                access_until: event.access_until,
                has_order_ids: event.source.has_order_ids(),
                // As in `process`: one payment-expired message per order (`payment_timeout_at`).
                expiry_announced: event.kind == EventKind::Expired && order.2.is_some(),
                now,
            },
            &[CourseFacts {
                access_days: course.access_days,
                enrollment: enrollment.map(|e| EnrollmentState { status: e.status, expires_at: e.expires_at }),
            }],
        );
        let order_id = order.0;
        let announces_expiry =
            plan.courses.iter().flat_map(|d| &d.treatments).any(|t| t.kind == TreatmentKind::PaymentExpiredMessage);
        if plan.order_status.is_some() || announces_expiry {
            order_updates.push(OrderUpdate {
                id: order_id,
                status: plan.order_status,
                approved_at: rules::approval_time(prior, plan.order_status, event.occurred_at, now),
                announces_expiry,
            });
        }
        let decision = &plan.courses[0];
        let expires_at = match (decision.enrollment, enrollment) {
            (EnrollmentChange::Unchanged, cur) => cur.and_then(|c| c.expires_at),
            (EnrollmentChange::Activate { expires_at }, None) => {
                new_enrollments.push((customer.id, course.id, Some(order_id), expires_at));
                expires_at
            }
            (EnrollmentChange::Activate { expires_at }, Some(cur)) => {
                changed_enrollments.push(Enrollment {
                    status: EnrollmentStatus::Active,
                    order_id: Some(order_id),
                    granted_at: Some(now),
                    revoked_at: None,
                    expires_at,
                    ..cur.clone()
                });
                expires_at
            }
            (EnrollmentChange::Extend { expires_at }, Some(cur)) => {
                changed_enrollments.push(Enrollment { expires_at, order_id: Some(order_id), ..cur.clone() });
                expires_at
            }
            (EnrollmentChange::Revoke, Some(cur)) => {
                changed_enrollments.push(Enrollment {
                    status: EnrollmentStatus::Revoked,
                    revoked_at: Some(now),
                    ..cur.clone()
                });
                cur.expires_at
            }
            (EnrollmentChange::EndAt(end), Some(cur)) => {
                changed_enrollments.push(Enrollment { expires_at: Some(end), ..cur.clone() });
                Some(end)
            }
            (EnrollmentChange::Extend { .. } | EnrollmentChange::Revoke | EnrollmentChange::EndAt(_), None) => None,
        };
        if decision.cancel_scheduled_revokes && enrollment.is_some_and(|e| e.expires_at.is_some()) {
            store::cancel_scheduled_revokes(conn, customer.id, course.id, now)?;
        }
        let payload = process::treatment_payload(event, customer, course, expires_at);
        planned.extend(decision.treatments.iter().map(|p| NewTreatment {
            kind: p.kind,
            run_at: p.run_at.unwrap_or(now),
            reason: Some(p.reason),
            payload: payload.clone(),
            event_id: Some(*event_id),
            customer_id: customer.id,
            course_id: Some(course.id),
            order_id: Some(order_id),
        }));
        decided.push((*i, *event_id, customer.id, Some(order_id), plan.note));
    }

    // 6. The writes, in one statement: orders, enrollments, events and the treatments.
    let changes = Changes {
        orders: &order_updates,
        new_enrollments: &new_enrollments,
        changed_enrollments: &changed_enrollments,
        decided: &decided,
        treatments: &planned,
    };
    let inserted = write_changes(conn, batch, &changes, now)?;
    let mut treatments: HashMap<i64, Vec<TreatmentRef>> = HashMap::new();
    for t in inserted {
        if let Some(event_id) = t.event_id {
            treatments.entry(event_id).or_default().push(TreatmentRef { id: t.id, kind: t.kind, status: t.status });
        }
    }
    for (i, event_id, customer_id, _, note) in decided {
        answers[i] = Some(WebhookAnswer {
            event_id,
            outcome: Outcome::Processed,
            customer_id: Some(customer_id),
            treatments: treatments.remove(&event_id).unwrap_or_default(),
            duplicate_of: None,
            note,
        });
    }
    Ok(answers)
}

/// What ties a webhook to others in its batch: its dedup key, its customer, its order.
fn keys(parsed: &Parsed) -> Vec<String> {
    match parsed {
        Parsed::Event(e) => {
            let mut keys = vec![format!("k:{}:{}", e.source.as_str(), e.dedup_key), format!("c:{}", e.customer.email)];
            if let Some(o) = &e.order {
                keys.push(format!("o:{}:{}", e.source.as_str(), o.external_id));
            }
            keys
        }
        Parsed::Ignored(i) => {
            let mut keys = vec![];
            if let Some(k) = &i.dedup_key {
                keys.push(format!("i:{k}"));
            }
            if let Some(e) = &i.email {
                keys.push(format!("c:{e}"));
            }
            keys
        }
    }
}

#[derive(QueryableByName)]
struct InsertedEvent {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    dedup_key: Option<String>,
    #[diesel(sql_type = Text)]
    source: String,
}

/// The prepared statement of `insert_events`.
struct InsertEvents;

/// The events, in order; one whose (source, dedup key) is already on record as an original is not
/// inserted (`ON CONFLICT DO NOTHING` on the dedup index): (id, dedup key, source) of those inserted.
fn insert_events(conn: &mut PgConnection, rows: &[NewEvent<'_>]) -> QueryResult<Vec<(i64, Option<String>, String)>> {
    let inserted: Vec<InsertedEvent> = Statement::<InsertEvents>::new(
        "INSERT INTO webhook_events (source, received_at, remote_addr, headers, raw_body, body_size, truncated, \
           outcome, dedup_key, event_type, kind, latency_ms) \
         SELECT v.source, v.received_at, v.remote_addr, v.headers, v.raw_body, v.body_size, v.truncated, v.outcome, \
           v.dedup_key, v.event_type, v.kind, v.latency_ms \
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::text[], $6::int4[], $7::bool[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::int4[]) WITH ORDINALITY \
           AS v(source, received_at, remote_addr, headers, raw_body, body_size, truncated, outcome, dedup_key, \
             event_type, kind, latency_ms, n) \
         ORDER BY v.n \
         ON CONFLICT (source, dedup_key) WHERE duplicate_of IS NULL AND dedup_key IS NOT NULL DO NOTHING \
         RETURNING id, dedup_key, source",
    )
    .bind::<Array<Text>, _>(column(rows, |r| r.source.to_string()))
    .bind::<Array<Timestamptz>, _>(column(rows, |r| r.received_at))
    .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.remote_addr.map(str::to_string)))
    .bind::<Array<Jsonb>, _>(column(rows, |r| r.headers.clone()))
    .bind::<Array<Text>, _>(column(rows, |r| r.raw_body.clone()))
    .bind::<Array<Integer>, _>(column(rows, |r| r.body_size))
    .bind::<Array<Bool>, _>(column(rows, |r| r.truncated))
    .bind::<Array<Text>, _>(column(rows, |r| r.outcome.as_str()))
    .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.dedup_key.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.event_type.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.kind.map(EventKind::as_str)))
    .bind::<Array<Nullable<Integer>>, _>(column(rows, |r| r.latency_ms))
    .load(conn)?;
    Ok(inserted.into_iter().map(|e| (e.id, e.dedup_key, e.source)).collect())
}

/// A candidate's customer and order after the upsert: the customer as stored now, and the order's
/// id, status and payment-timeout mark before this batch.
#[derive(QueryableByName)]
struct UpsertedRow {
    #[diesel(sql_type = BigInt)]
    customer_id: i64,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    document: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    phone: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    last_activity_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    order_id: i64,
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Text)]
    external_id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    payment_timeout_at: Option<DateTime<Utc>>,
}

/// The prepared statement of `upsert_customers_and_orders`.
struct UpsertCustomersAndOrders;

/// The customers (by e-mail) and the orders (by source and external id), both unique in the batch, in
/// one statement and locked until commit. A customer is inserted or refreshed (a known field is never
/// blanked); an order is inserted (`new`) or refreshed as `process::lock_order` does (a field the event
/// does not carry — amount, coupon, offer, paid-period end... — keeps its known value) and comes back
/// with its status before this batch. The candidates are in e-mail order: every writer locks in it.
#[allow(clippy::type_complexity)]
fn upsert_customers_and_orders(
    conn: &mut PgConnection,
    candidates: &[(usize, &PaymentEvent, Course, i64)],
    now: DateTime<Utc>,
) -> QueryResult<(HashMap<String, Customer>, HashMap<(String, String), LockedOrder>)> {
    let column = |f: &dyn Fn(&PaymentEvent) -> Option<String>| candidates.iter().map(|x| f(x.1)).collect::<Vec<_>>();
    let order = |x: &(usize, &PaymentEvent, Course, i64)| x.1.order.clone().expect("candidates have orders");
    let rows: Vec<UpsertedRow> = Statement::<UpsertCustomersAndOrders>::new(
        "WITH input AS ( \
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::text[], $7::text[], \
             $8::int8[], $9::int8[], $10::text[], $11::text[], $12::int4[], $13::text[], $14::text[], \
             $15::timestamptz[]) \
           AS v(email, name, document, phone, source, external_id, course_id, amount_cents, currency, \
             payment_method, installments, coupon, offer_code, access_until)), \
         c AS ( \
           INSERT INTO customers (email, name, document, phone, updated_at, last_activity_at) \
           SELECT i.email, i.name, i.document, i.phone, $5, $5 FROM input i \
           ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, customers.name), \
             document = COALESCE(EXCLUDED.document, customers.document), \
             phone = COALESCE(EXCLUDED.phone, customers.phone), \
             updated_at = EXCLUDED.updated_at, last_activity_at = EXCLUDED.last_activity_at \
           RETURNING id, email, name, document, phone, created_at, updated_at, last_activity_at), \
         o AS ( \
           INSERT INTO orders (source, external_id, customer_id, course_id, status, amount_cents, currency, \
             payment_method, installments, coupon, offer_code, access_until) \
           SELECT i.source, i.external_id, c.id, i.course_id, 'new', i.amount_cents, i.currency, \
             i.payment_method, i.installments, i.coupon, i.offer_code, i.access_until \
           FROM input i JOIN c ON c.email = i.email \
           ON CONFLICT (source, external_id) DO UPDATE SET \
             amount_cents = COALESCE(EXCLUDED.amount_cents, orders.amount_cents), \
             currency = COALESCE(EXCLUDED.currency, orders.currency), \
             payment_method = COALESCE(EXCLUDED.payment_method, orders.payment_method), \
             installments = COALESCE(EXCLUDED.installments, orders.installments), \
             coupon = COALESCE(EXCLUDED.coupon, orders.coupon), \
             offer_code = COALESCE(EXCLUDED.offer_code, orders.offer_code), \
             access_until = COALESCE(EXCLUDED.access_until, orders.access_until), updated_at = $5 \
           RETURNING id, source, external_id, status, payment_timeout_at) \
         SELECT c.id AS customer_id, c.email, c.name, c.document, c.phone, c.created_at, c.updated_at, \
           c.last_activity_at, o.id AS order_id, o.source, o.external_id, o.status, o.payment_timeout_at \
         FROM o JOIN input i ON i.source = o.source AND i.external_id = o.external_id \
           JOIN c ON c.email = i.email",
    )
    .bind::<Array<Text>, _>(candidates.iter().map(|x| x.1.customer.email.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(column(&|e| e.customer.name.clone()))
    .bind::<Array<Nullable<Text>>, _>(column(&|e| e.customer.document.clone()))
    .bind::<Array<Nullable<Text>>, _>(column(&|e| e.customer.phone.clone()))
    .bind::<Timestamptz, _>(now)
    .bind::<Array<Text>, _>(candidates.iter().map(|x| x.1.source.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(candidates.iter().map(|x| order(x).external_id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(candidates.iter().map(|x| x.2.id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(candidates.iter().map(|x| order(x).amount_cents).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(candidates.iter().map(|x| order(x).currency).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(candidates.iter().map(|x| order(x).payment_method).collect::<Vec<_>>())
    .bind::<Array<Nullable<Integer>>, _>(candidates.iter().map(|x| order(x).installments).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(candidates.iter().map(|x| order(x).coupon).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        candidates.iter().map(|x| x.1.product.as_ref().and_then(|p| p.offer_code.clone())).collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Timestamptz>>, _>(candidates.iter().map(|x| x.1.access_until).collect::<Vec<_>>())
    .load(conn)?;
    let mut customers = HashMap::new();
    let mut orders = HashMap::new();
    for r in rows {
        let status = OrderStatus::parse(&r.status).ok_or_else(|| {
            diesel::result::Error::DeserializationError(format!("unknown order status {:?}", r.status).into())
        })?;
        orders.insert((r.source, r.external_id), (r.order_id, status, r.payment_timeout_at));
        let customer = Customer {
            id: r.customer_id,
            email: r.email,
            name: r.name,
            document: r.document,
            phone: r.phone,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_activity_at: r.last_activity_at,
        };
        customers.insert(customer.email.clone(), customer);
    }
    Ok((customers, orders))
}

/// What a batch changes once the rules have decided.
struct Changes<'a> {
    orders: &'a [OrderUpdate],
    new_enrollments: &'a [NewEnrollment],
    changed_enrollments: &'a [Enrollment],
    decided: &'a [Decided],
    treatments: &'a [NewTreatment],
}

/// The prepared statement of `write_changes`.
struct WriteChanges;

/// Every write of the batch after the rules, in one statement (one round trip, whatever the batch):
/// the orders' new statuses (and approval times) and payment-expired marks, as `process` sets them;
/// the new and changed enrollments; the events' customer, order, note and final latency; and the
/// treatments, inserted in order (their ids ascend in that order) and returned. The parts touch
/// different rows, so their order within the statement does not matter.
fn write_changes(
    conn: &mut PgConnection,
    batch: &[Webhook<'_>],
    c: &Changes<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Treatment>> {
    Statement::<WriteChanges>::new(
        "WITH orders_changed AS ( \
           UPDATE orders o SET status = COALESCE(v.status, o.status), \
             updated_at = CASE WHEN v.status IS NULL THEN o.updated_at ELSE $5 END, \
             approved_at = COALESCE(v.approved_at, o.approved_at), \
             payment_timeout_at = CASE WHEN v.announces_expiry THEN $5 ELSE o.payment_timeout_at END \
           FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::bool[]) \
             AS v(id, status, approved_at, announces_expiry) WHERE o.id = v.id), \
         enrollments_added AS ( \
           INSERT INTO enrollments (customer_id, course_id, order_id, status, granted_at, expires_at) \
           SELECT v.customer_id, v.course_id, v.order_id, 'active', $5, v.expires_at \
           FROM unnest($6::int8[], $7::int8[], $8::int8[], $9::timestamptz[]) \
             AS v(customer_id, course_id, order_id, expires_at)), \
         enrollments_changed AS ( \
           UPDATE enrollments e SET status = v.status, order_id = v.order_id, granted_at = v.granted_at, \
             revoked_at = v.revoked_at, expires_at = v.expires_at, updated_at = $5 \
           FROM unnest($10::int8[], $11::text[], $12::int8[], $13::timestamptz[], $14::timestamptz[], \
             $15::timestamptz[]) AS v(id, status, order_id, granted_at, revoked_at, expires_at) WHERE e.id = v.id), \
         events_done AS ( \
           UPDATE webhook_events w SET customer_id = v.customer_id, order_id = v.order_id, note = v.note, \
             latency_ms = v.latency_ms \
           FROM unnest($16::int8[], $17::int8[], $18::int8[], $19::text[], $20::int4[]) \
             AS v(id, customer_id, order_id, note, latency_ms) WHERE w.id = v.id) \
         INSERT INTO treatments (kind, run_at, reason, payload, event_id, customer_id, course_id, order_id) \
         SELECT v.kind, v.run_at, v.reason, v.payload, v.event_id, v.customer_id, v.course_id, v.order_id \
         FROM unnest($21::text[], $22::timestamptz[], $23::text[], $24::jsonb[], $25::int8[], $26::int8[], \
           $27::int8[], $28::int8[]) WITH ORDINALITY \
           AS v(kind, run_at, reason, payload, event_id, customer_id, course_id, order_id, n) \
         ORDER BY v.n \
         RETURNING *",
    )
    .bind::<Array<BigInt>, _>(column(c.orders, |u| u.id))
    .bind::<Array<Nullable<Text>>, _>(column(c.orders, |u| u.status.map(OrderStatus::as_str)))
    .bind::<Array<Nullable<Timestamptz>>, _>(column(c.orders, |u| u.approved_at))
    .bind::<Array<Bool>, _>(column(c.orders, |u| u.announces_expiry))
    .bind::<Timestamptz, _>(now)
    .bind::<Array<BigInt>, _>(column(c.new_enrollments, |e| e.0))
    .bind::<Array<BigInt>, _>(column(c.new_enrollments, |e| e.1))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.new_enrollments, |e| e.2))
    .bind::<Array<Nullable<Timestamptz>>, _>(column(c.new_enrollments, |e| e.3))
    .bind::<Array<BigInt>, _>(column(c.changed_enrollments, |e| e.id))
    .bind::<Array<Text>, _>(column(c.changed_enrollments, |e| e.status.as_str()))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.changed_enrollments, |e| e.order_id))
    .bind::<Array<Nullable<Timestamptz>>, _>(column(c.changed_enrollments, |e| e.granted_at))
    .bind::<Array<Nullable<Timestamptz>>, _>(column(c.changed_enrollments, |e| e.revoked_at))
    .bind::<Array<Nullable<Timestamptz>>, _>(column(c.changed_enrollments, |e| e.expires_at))
    .bind::<Array<BigInt>, _>(column(c.decided, |d| d.1))
    .bind::<Array<BigInt>, _>(column(c.decided, |d| d.2))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.decided, |d| d.3))
    .bind::<Array<Nullable<Text>>, _>(column(c.decided, |d| d.4.map(Note::as_str)))
    .bind::<Array<Integer>, _>(column(c.decided, |d| process::elapsed_ms(batch[d.0].started)))
    .bind::<Array<Text>, _>(column(c.treatments, |t| t.kind.as_str()))
    .bind::<Array<Timestamptz>, _>(column(c.treatments, |t| t.run_at))
    .bind::<Array<Nullable<Text>>, _>(column(c.treatments, |t| t.reason.map(TreatmentReason::as_str)))
    .bind::<Array<Jsonb>, _>(column(c.treatments, store::payload_with_reason))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.treatments, |t| t.event_id))
    .bind::<Array<BigInt>, _>(column(c.treatments, |t| t.customer_id))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.treatments, |t| t.course_id))
    .bind::<Array<Nullable<BigInt>>, _>(column(c.treatments, |t| t.order_id))
    .load(conn)
}

/// One bound array: `f` of every row.
fn column<R, T>(rows: &[R], f: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}
