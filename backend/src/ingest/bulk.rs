//! The set-based writes of a group-commit batch (`batch`): the webhooks of a batch that share nothing
//! with another webhook of it (customer, order, dedup key) and unlock exactly one course are written
//! set-based, in two statements whatever their number: first the events (deduplication) with the
//! customers and orders (upserted) and the enrollments (read), all locked; then every change the rules
//! decided (orders, enrollments, events, treatments) and the batch's notification. The rules (`treatments::rules`) still decide
//! per event, in memory, from the state read for the whole batch. What does not fit (an ignored
//! event, a customer or order seen twice in the batch, several courses, a duplicate) is left to
//! `process::apply`, one by one, in the same transaction.
//!
//! Raw SQL (every value bound): the multi-row upserts and updates take one array per column through
//! `unnest`, and keep known values with `COALESCE(EXCLUDED.x, t.x)`; diesel's DSL has neither `unnest`
//! nor `COALESCE`. Their text does not depend on the batch, so each is a [`Statement`] that diesel
//! prepares once per connection (a `sql_query` would be parsed and planned again on every batch).

use super::event::{EventKind, OrderInfo, Parsed, PaymentEvent};
use super::process::{self, CourseDefaults, Outcome, TreatmentRef, WebhookAnswer};
use super::record::{NewEvent, Received};
use crate::models::{Course, Customer, Enrollment, Treatment};
use crate::note::Note;
use crate::notify;
use crate::prepared::Statement;
use crate::treatments::rules::{
    self, CourseFacts, EnrollmentChange, EnrollmentState, EnrollmentStatus, OrderStatus, Situation, TreatmentKind,
    TreatmentReason,
};
use crate::treatments::store::{self, NewTreatment};
use chrono::{DateTime, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use std::collections::HashMap;
use std::time::Instant;

/// An enrollment to create: customer, course, order, access end.
type NewEnrollment = (i64, i64, Option<i64>, Option<DateTime<Utc>>);
/// A webhook written here: its index in the batch, event, customer, order, note.
type Decided = (usize, i64, i64, Option<i64>, Option<Note>);

/// For the rest of the batch's transaction: every prepared statement runs with its generic plan.
///
/// PostgreSQL plans a prepared statement with its values for the first five runs, then keeps the
/// generic plan only if it does not look costlier than those. For `write_changes` it does: given the
/// arrays, the planner counts their elements (8 webhooks, say), while the generic plan assumes 10 rows
/// for each `unnest`, so it planned the statement again on every batch — 0.6 ms of PostgreSQL's CPU
/// each time, about as much as executing it (its log: `bind` 0.62 ms against 0.08 ms for
/// `insert_and_lock`). The generic plans are the right ones whatever the batch (each `unnest` joined
/// by primary key, nested loops over index scans). `SET LOCAL` ends with the transaction, so the
/// pool's other users (the search plans every term with its values) are not affected. It is sent with
/// the `BEGIN`, in one round trip (`transaction`).
const BEGIN_WITH_GENERIC_PLANS: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

/// `conn.transaction(f)` for a batch: committed when `f` succeeds, rolled back when it fails, its
/// statements planned generically (`BEGIN_WITH_GENERIC_PLANS`, one round trip for both). `write` runs
/// inside it; what the batch writes one by one too, whose prepared statements are lookups by key.
pub fn transaction<T>(conn: &mut PgConnection, f: impl FnOnce(&mut PgConnection) -> QueryResult<T>) -> QueryResult<T> {
    AnsiTransactionManager::begin_transaction_sql(conn, BEGIN_WITH_GENERIC_PLANS)?;
    match f(conn) {
        Ok(value) => {
            <AnsiTransactionManager as TransactionManager<PgConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        // As diesel's own `transaction`: the caller learns the failure, not a rollback's broken state.
        Err(failure) => {
            match <AnsiTransactionManager as TransactionManager<PgConnection>>::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(failure),
                Err(rollback) => Err(rollback),
            }
        }
    }
}

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
/// when written here (its signals are sent: `write_changes`), `None` when left to the caller (one by
/// one, in arrival order). Runs inside `transaction`, whose generic plans its statements need.
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
    // Both statements run with their generic plans: the caller's `transaction` asked for them.

    // 1. In one statement: the events, as originals (a key already on record is a duplicate: left to
    // `process`); for the others, the customers and orders upserted and locked, and their
    // enrollments in the course, locked.
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
    let mut locked: HashMap<(String, String), Locked> = insert_and_lock(conn, &candidates, &rows, now)?
        .into_iter()
        .map(|l| ((l.source.clone(), l.dedup_key.clone()), l))
        .collect();
    let candidates: Vec<(usize, &PaymentEvent, Course, Locked)> = candidates
        .into_iter()
        .filter_map(|(i, event, course)| {
            let locked = locked.remove(&(batch[i].received.source.clone(), event.dedup_key.clone()))?;
            Some((i, event, course, locked))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(answers);
    }

    // 2. The rules, per event, in memory.
    let mut order_updates: Vec<OrderUpdate> = vec![];
    let mut new_enrollments: Vec<NewEnrollment> = vec![];
    let mut changed_enrollments: Vec<Enrollment> = vec![];
    let mut planned: Vec<NewTreatment> = vec![];
    let mut decided: Vec<Decided> = vec![];
    for (i, event, course, locked) in &candidates {
        let event_id = &locked.event_id;
        let customer = &locked.customer();
        let order = (locked.order_id, locked.order_status, locked.payment_timeout_at);
        let enrollment = locked.enrollment();
        let enrollment = enrollment.as_ref();
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

    // 3. The writes, in one statement: orders, enrollments, events, the treatments and the signals.
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

/// A fresh candidate after `insert_and_lock`: its event, its customer as stored now, its order's id,
/// status and payment-timeout mark before this batch, and its enrollment in the course, if any.
#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    event_id: i64,
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Text)]
    dedup_key: String,
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
    order_status: OrderStatus,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    payment_timeout_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    enrollment_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    course_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    enrollment_order_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    enrollment_status: Option<EnrollmentStatus>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    granted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    revoked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    enrollment_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    enrollment_updated_at: Option<DateTime<Utc>>,
}

impl Locked {
    fn customer(&self) -> Customer {
        Customer {
            id: self.customer_id,
            email: self.email.clone(),
            name: self.name.clone(),
            document: self.document.clone(),
            phone: self.phone.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_activity_at: self.last_activity_at,
        }
    }

    fn enrollment(&self) -> Option<Enrollment> {
        Some(Enrollment {
            id: self.enrollment_id?,
            customer_id: self.customer_id,
            course_id: self.course_id?,
            order_id: self.enrollment_order_id,
            status: self.enrollment_status?,
            granted_at: self.granted_at,
            revoked_at: self.revoked_at,
            expires_at: self.expires_at,
            created_at: self.enrollment_created_at?,
            updated_at: self.enrollment_updated_at?,
        })
    }
}

/// The prepared statement of `insert_and_lock`.
struct InsertAndLock;

/// One statement for the candidates (unique in the batch by dedup key, e-mail and order; in e-mail
/// order, the one lock order of every writer), with `events` their rows:
/// - the events, inserted in order as originals; one whose (source, dedup key) is already on record
///   is not inserted (`ON CONFLICT DO NOTHING` on the dedup index) and gets nothing more here;
/// - for the others, the customers (by e-mail) inserted or refreshed (a known field is never
///   blanked) and the orders (by source and external id) inserted (`new`) or refreshed as
///   `process::lock_order` does (a field the event does not carry — amount, coupon, offer,
///   paid-period end... — keeps its known value), both locked until commit;
/// - and their enrollments in the candidate's course, `FOR UPDATE`.
///
/// Locks are taken in the order every writer takes them, one by one too (`process::apply`): events,
/// customers, orders, enrollments. PostgreSQL runs a data-modifying CTE when its rows are first read,
/// so each part reads the one before it (the enrollments join the orders only for that): without it
/// the enrollments may be locked before the orders, and two replicas deadlocked (tests/faults.rs).
///
/// Returns one row per inserted event. A concurrent writer's enrollment for the same customer and
/// course committed while this statement waited for the customer's lock is not seen (the statement's
/// snapshot is older); inserting one again then fails on the unique key, and the batch is written again
/// one savepoint per webhook (`batch::write_isolated`), which sees it.
fn insert_and_lock(
    conn: &mut PgConnection,
    candidates: &[(usize, &PaymentEvent, Course)],
    events: &[NewEvent<'_>],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Locked>> {
    // Candidates have orders (`write` keeps only those).
    fn order<'a>(x: &(usize, &'a PaymentEvent, Course)) -> &'a OrderInfo {
        x.1.order.as_ref().expect("candidates have orders")
    }
    Statement::<InsertAndLock>::new(
        "WITH input AS ( \
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::text[], $6::int4[], \
             $7::bool[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int4[], $13::text[], $14::text[], \
             $15::text[], $16::text[], $18::text[], $19::int8[], $20::int8[], $21::text[], $22::text[], \
             $23::int4[], $24::text[], $25::text[], $26::timestamptz[]) WITH ORDINALITY \
           AS v(source, received_at, remote_addr, headers, raw_body, body_size, truncated, outcome, dedup_key, \
             event_type, kind, latency_ms, email, name, document, phone, external_id, course_id, amount_cents, \
             currency, payment_method, installments, coupon, offer_code, access_until, n)), \
         ev AS ( \
           INSERT INTO webhook_events (source, received_at, remote_addr, headers, raw_body, body_size, truncated, \
             outcome, dedup_key, event_type, kind, latency_ms) \
           SELECT i.source, i.received_at, i.remote_addr, i.headers, i.raw_body, i.body_size, i.truncated, \
             i.outcome, i.dedup_key, i.event_type, i.kind, i.latency_ms FROM input i ORDER BY i.n \
           ON CONFLICT (source, dedup_key) WHERE duplicate_of IS NULL AND dedup_key IS NOT NULL DO NOTHING \
           RETURNING id, source, dedup_key), \
         fresh AS ( \
           SELECT i.*, ev.id AS event_id FROM input i \
           JOIN ev ON ev.source = i.source AND ev.dedup_key = i.dedup_key), \
         c AS ( \
           INSERT INTO customers (email, name, document, phone, updated_at, last_activity_at) \
           SELECT f.email, f.name, f.document, f.phone, $17, $17 FROM fresh f ORDER BY f.n \
           ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, customers.name), \
             document = COALESCE(EXCLUDED.document, customers.document), \
             phone = COALESCE(EXCLUDED.phone, customers.phone), \
             updated_at = EXCLUDED.updated_at, last_activity_at = EXCLUDED.last_activity_at \
           RETURNING id, email, name, document, phone, created_at, updated_at, last_activity_at), \
         o AS ( \
           INSERT INTO orders (source, external_id, customer_id, course_id, status, amount_cents, currency, \
             payment_method, installments, coupon, offer_code, access_until) \
           SELECT f.source, f.external_id, c.id, f.course_id, 'new', f.amount_cents, f.currency, \
             f.payment_method, f.installments, f.coupon, f.offer_code, f.access_until \
           FROM fresh f JOIN c ON c.email = f.email ORDER BY f.n \
           ON CONFLICT (source, external_id) DO UPDATE SET \
             amount_cents = COALESCE(EXCLUDED.amount_cents, orders.amount_cents), \
             currency = COALESCE(EXCLUDED.currency, orders.currency), \
             payment_method = COALESCE(EXCLUDED.payment_method, orders.payment_method), \
             installments = COALESCE(EXCLUDED.installments, orders.installments), \
             coupon = COALESCE(EXCLUDED.coupon, orders.coupon), \
             offer_code = COALESCE(EXCLUDED.offer_code, orders.offer_code), \
             access_until = COALESCE(EXCLUDED.access_until, orders.access_until), updated_at = $17 \
           RETURNING id, source, external_id, status, payment_timeout_at), \
         en AS ( \
           SELECT e.* FROM enrollments e \
           JOIN c ON c.id = e.customer_id JOIN fresh f ON f.email = c.email AND f.course_id = e.course_id \
           JOIN o ON o.source = f.source AND o.external_id = f.external_id \
           ORDER BY e.id FOR UPDATE OF e) \
         SELECT f.event_id, f.source, f.dedup_key, c.id AS customer_id, c.email, c.name, c.document, c.phone, \
           c.created_at, c.updated_at, c.last_activity_at, o.id AS order_id, o.status AS order_status, \
           o.payment_timeout_at, en.id AS enrollment_id, en.course_id, en.order_id AS enrollment_order_id, \
           en.status AS enrollment_status, en.granted_at, en.revoked_at, en.expires_at, \
           en.created_at AS enrollment_created_at, en.updated_at AS enrollment_updated_at \
         FROM fresh f JOIN c ON c.email = f.email \
           JOIN o ON o.source = f.source AND o.external_id = f.external_id \
           LEFT JOIN en ON en.customer_id = c.id AND en.course_id = f.course_id \
         ORDER BY f.n",
    )
    .bind::<Array<Text>, _>(column_of(events, |r| r.source.to_string()))
    .bind::<Array<Timestamptz>, _>(column_of(events, |r| r.received_at))
    .bind::<Array<Nullable<Text>>, _>(column_of(events, |r| r.remote_addr.map(str::to_string)))
    .bind::<Array<Jsonb>, _>(column_of(events, |r| r.headers.clone()))
    .bind::<Array<Text>, _>(column_of(events, |r| r.raw_body.clone()))
    .bind::<Array<Integer>, _>(column_of(events, |r| r.body_size))
    .bind::<Array<Bool>, _>(column_of(events, |r| r.truncated))
    .bind::<Array<Text>, _>(column_of(events, |r| r.outcome.as_str()))
    .bind::<Array<Nullable<Text>>, _>(column_of(events, |r| r.dedup_key.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column_of(events, |r| r.event_type.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column_of(events, |r| r.kind.map(EventKind::as_str)))
    .bind::<Array<Nullable<Integer>>, _>(column_of(events, |r| r.latency_ms))
    .bind::<Array<Text>, _>(column_of(candidates, |x| x.1.customer.email.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.name.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.document.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.phone.clone()))
    .bind::<Timestamptz, _>(now)
    .bind::<Array<Text>, _>(column_of(candidates, |x| order(x).external_id.clone()))
    .bind::<Array<BigInt>, _>(column_of(candidates, |x| x.2.id))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(candidates, |x| order(x).amount_cents))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| order(x).currency.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| order(x).payment_method.clone()))
    .bind::<Array<Nullable<Integer>>, _>(column_of(candidates, |x| order(x).installments))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| order(x).coupon.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| {
        x.1.product.as_ref().and_then(|p| p.offer_code.clone())
    }))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(candidates, |x| x.1.access_until))
    .load(conn)
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
/// the new and changed enrollments; the events' customer, order, note and final latency; the
/// treatments, inserted in order (their ids ascend in that order) and returned; and the batch's
/// signals (`e:<event>` and `q:<treatment>`, as `process::signals` makes them), sent with
/// `pg_notify` when the transaction commits, `notify::SIGNALS_PER_PAYLOAD` to a payload. The parts
/// touch different rows, so their order within the statement does not matter.
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
             AS v(id, customer_id, order_id, note, latency_ms) WHERE w.id = v.id), \
         treatments_added AS ( \
           INSERT INTO treatments (kind, run_at, reason, payload, event_id, customer_id, course_id, order_id) \
           SELECT v.kind, v.run_at, v.reason, v.payload, v.event_id, v.customer_id, v.course_id, v.order_id \
           FROM unnest($21::text[], $22::timestamptz[], $23::text[], $24::jsonb[], $25::int8[], $26::int8[], \
             $27::int8[], $28::int8[]) WITH ORDINALITY \
             AS v(kind, run_at, reason, payload, event_id, customer_id, course_id, order_id, n) \
           ORDER BY v.n \
           RETURNING *), \
         signals AS ( \
           SELECT s, row_number() OVER () AS n FROM ( \
             SELECT 'e:' || v.id AS s FROM unnest($16::int8[]) AS v(id) \
             UNION ALL SELECT 'q:' || t.id FROM treatments_added t) x), \
         notified AS ( \
           SELECT count(*) AS payloads FROM ( \
             SELECT pg_notify($29, string_agg(s, ',')) FROM signals GROUP BY (n - 1) / $30) p) \
         SELECT t.* FROM treatments_added t CROSS JOIN notified ORDER BY t.id",
    )
    .bind::<Array<BigInt>, _>(column_of(c.orders, |u| u.id))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.orders, |u| u.status.map(OrderStatus::as_str)))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.orders, |u| u.approved_at))
    .bind::<Array<Bool>, _>(column_of(c.orders, |u| u.announces_expiry))
    .bind::<Timestamptz, _>(now)
    .bind::<Array<BigInt>, _>(column_of(c.new_enrollments, |e| e.0))
    .bind::<Array<BigInt>, _>(column_of(c.new_enrollments, |e| e.1))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.new_enrollments, |e| e.2))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.new_enrollments, |e| e.3))
    .bind::<Array<BigInt>, _>(column_of(c.changed_enrollments, |e| e.id))
    .bind::<Array<Text>, _>(column_of(c.changed_enrollments, |e| e.status.as_str()))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.changed_enrollments, |e| e.order_id))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.changed_enrollments, |e| e.granted_at))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.changed_enrollments, |e| e.revoked_at))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.changed_enrollments, |e| e.expires_at))
    .bind::<Array<BigInt>, _>(column_of(c.decided, |d| d.1))
    .bind::<Array<BigInt>, _>(column_of(c.decided, |d| d.2))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.decided, |d| d.3))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.decided, |d| d.4.map(Note::as_str)))
    .bind::<Array<Integer>, _>(column_of(c.decided, |d| process::elapsed_ms(batch[d.0].started)))
    .bind::<Array<Text>, _>(column_of(c.treatments, |t| t.kind.as_str()))
    .bind::<Array<Timestamptz>, _>(column_of(c.treatments, |t| t.run_at))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.treatments, |t| t.reason.map(TreatmentReason::as_str)))
    .bind::<Array<Jsonb>, _>(column_of(c.treatments, store::payload_with_reason))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.treatments, |t| t.event_id))
    .bind::<Array<BigInt>, _>(column_of(c.treatments, |t| t.customer_id))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.treatments, |t| t.course_id))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.treatments, |t| t.order_id))
    .bind::<Text, _>(notify::CHANNEL)
    .bind::<BigInt, _>(notify::SIGNALS_PER_PAYLOAD)
    .load(conn)
}

/// One bound array: `f` of every row.
fn column_of<R, T>(rows: &[R], f: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}
