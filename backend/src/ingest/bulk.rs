//! The set-based writes of a group-commit batch (`batch`): the webhooks of a batch that share nothing
//! with another webhook of it (customer, order, dedup key) and unlock exactly one course are written
//! set-based, in two statements whatever their number: first what the rules read — which events are
//! new (deduplication), the customers (upserted), the orders and the enrollments, these three locked; then
//! every change the rules decided, each row written once (orders, enrollments, events, treatments),
//! and the batch's notification. The rules (`treatments::rules`) still decide
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

/// For the rest of the batch's transaction: every prepared statement runs with its generic plan, and
/// that plan looks rows up by key.
///
/// PostgreSQL plans a prepared statement with its values for the first five runs, then keeps the
/// generic plan only if it does not look costlier than those. For `write_changes` it does: given the
/// arrays, the planner counts their elements (8 webhooks, say), while the generic plan assumes 10 rows
/// for each `unnest`, so it planned the statement again on every batch — 0.6 ms of PostgreSQL's CPU
/// each time, about as much as executing it (its log: `bind` 0.62 ms against 0.08 ms for the first
/// statement). The generic plans are the right ones whatever the batch (each `unnest` joined by key,
/// nested loops over index scans) — provided they are made so: a generic plan is kept for the life of
/// the connection until the tables' statistics change, and one made while `webhook_events`, `orders`
/// or `enrollments` is nearly empty (a new installation, or a server without autovacuum) read the
/// whole dedup index and the whole `orders` table on every batch (`EXPLAIN EXECUTE`: a materialized
/// full index scan under the anti-join, a hash join over a sequential scan). The batch's statements
/// only ever look rows up by key, so sequential scans, hash and merge joins and materialized inner
/// sides are off while they are planned. `SET LOCAL` ends with the transaction, so the pool's other
/// users (the search plans every term with its values) are not affected, but for the plan a statement
/// prepared inside a batch keeps on that connection: those are the one-by-one path's lookups by key,
/// for which it is the right plan anywhere. It is sent with the `BEGIN`, in one round trip
/// (`transaction`).
const BEGIN_WITH_GENERIC_PLANS: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; \
     SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; \
     SET LOCAL enable_material = off";

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

/// What a batch writes to one of its orders, as `process` makes it: the new status (with its approval
/// time when it is the approval), whether the payment-expired message was planned now
/// (`payment_timeout_at` set), and the payment's details from the event — a known one is never
/// blanked by an event without it (`process::lock_order`).
struct OrderWrite {
    id: i64,
    status: Option<OrderStatus>,
    approved_at: Option<DateTime<Utc>>,
    announces_expiry: bool,
    amount_cents: Option<i64>,
    currency: Option<String>,
    payment_method: Option<String>,
    installments: Option<i32>,
    coupon: Option<String>,
    offer_code: Option<String>,
    access_until: Option<DateTime<Utc>>,
}

/// An order first seen in this batch: inserted once, whole, with the id `read_and_lock` reserved.
struct NewOrder<'a> {
    source: &'a str,
    external_id: &'a str,
    customer_id: i64,
    course_id: i64,
    write: OrderWrite,
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

    // 1. In one statement: which events are new (a key already on record is a duplicate: left to
    // `process`), their ids reserved; for those, the customers upserted and locked, their orders and
    // their enrollments in the course read and locked (a new order's id reserved).
    let mut locked: HashMap<(String, String), Locked> = read_and_lock(conn, batch, &candidates, now)?
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
    let mut new_orders: Vec<NewOrder<'_>> = vec![];
    let mut order_updates: Vec<OrderWrite> = vec![];
    let mut events: Vec<NewEvent<'_>> = vec![];
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
        let info = event.order.as_ref().expect("candidates have orders");
        let write = OrderWrite {
            id: order_id,
            status: plan.order_status,
            approved_at: rules::approval_time(prior, plan.order_status, event.occurred_at, now),
            announces_expiry,
            amount_cents: info.amount_cents,
            currency: info.currency.clone(),
            payment_method: info.payment_method.clone(),
            installments: info.installments,
            coupon: info.coupon.clone(),
            offer_code: event.product.as_ref().and_then(|p| p.offer_code.clone()),
            access_until: event.access_until,
        };
        if locked.order_is_new {
            new_orders.push(NewOrder {
                source: batch[*i].received.source.as_str(),
                external_id: &info.external_id,
                customer_id: customer.id,
                course_id: course.id,
                write,
            });
        } else {
            order_updates.push(write);
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
        // Its id, customer, order, note and final latency are `decided`'s (bound once for both).
        events.push(NewEvent {
            dedup_key: Some(&event.dedup_key),
            event_type: Some(&event.event_type),
            kind: Some(event.kind),
            ..NewEvent::from_received(batch[*i].received, Outcome::Processed)
        });
        decided.push((*i, *event_id, customer.id, Some(order_id), plan.note));
    }

    // 3. The writes, in one statement: the orders (new ones inserted whole), the enrollments, the events
    // (inserted whole, with their customer, order, note and latency), the treatments and the signals.
    let changes = Changes {
        new_orders: &new_orders,
        orders: &order_updates,
        events: &events,
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

/// A fresh candidate after `read_and_lock`: its event's reserved id, its customer as stored now, its
/// order's id (reserved when the order is new), status and payment-timeout mark before this batch,
/// and its enrollment in the course, if any.
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
    /// The order is not on record yet: `order_id` is reserved, and the batch inserts it.
    #[diesel(sql_type = Bool)]
    order_is_new: bool,
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

/// The prepared statement of `read_and_lock`.
struct ReadAndLock;

/// One statement for the candidates (unique in the batch by dedup key, e-mail and order; in e-mail
/// order, the one lock order of every writer), before the rules:
/// - the new events: those whose (source, dedup key) is not on record (a read of the dedup index),
///   each with an id reserved from the events' sequence; the others get nothing more here (`write`
///   leaves them to `process`, which answers them as duplicates);
/// - for the new events, the customers (by e-mail) inserted or refreshed (a known field is never
///   blanked), locked until commit;
/// - their orders (by source and external id), `FOR UPDATE`, or, for an order not on record, an id
///   reserved from the orders' sequence (`write_changes` inserts it, whole);
/// - and their enrollments in the candidate's course, `FOR UPDATE`.
///
/// Nothing of an event or an order is written before the rules have decided, so each is written
/// once (until stop 21 both were inserted here and updated again after the rules: two row versions,
/// their index entries and their foreign-key checks twice, about a tenth of the batch's work).
/// A concurrent copy of one of these events, or a concurrent first event of one of these orders, that
/// commits after this read makes `write_changes` fail on the unique key; the batch is then written
/// again one savepoint per webhook (`batch::write_isolated`), which sees it.
///
/// Locks are taken in the order every writer takes them, one by one too (`process::apply`):
/// customers, orders, enrollments. PostgreSQL runs a data-modifying CTE when its rows are first read,
/// and the order and enrollment reads each wait for the part before them (`o` joins `c`; `en` is
/// gated on `o`): without it the enrollments may be locked before the orders, and two replicas
/// deadlocked (tests/faults.rs).
///
/// Returns one row per new event. A concurrent writer's enrollment for the same customer and course
/// committed while this statement waited for the customer's lock is not seen (the statement's
/// snapshot is older); inserting one again then fails on the unique key, and the batch is written
/// again one savepoint per webhook, which sees it.
fn read_and_lock(
    conn: &mut PgConnection,
    batch: &[Webhook<'_>],
    candidates: &[(usize, &PaymentEvent, Course)],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Locked>> {
    // Candidates have orders (`write` keeps only those).
    fn order<'a>(x: &(usize, &'a PaymentEvent, Course)) -> &'a OrderInfo {
        x.1.order.as_ref().expect("candidates have orders")
    }
    Statement::<ReadAndLock>::new(
        "WITH input AS ( \
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::int8[]) WITH ORDINALITY \
           AS v(source, dedup_key, email, name, document, phone, external_id, course_id, n)), \
         fresh AS MATERIALIZED ( \
           SELECT i.*, nextval('webhook_events_id_seq') AS event_id FROM input i \
           WHERE NOT EXISTS (SELECT 1 FROM webhook_events w WHERE w.source = i.source \
             AND w.dedup_key = i.dedup_key AND w.duplicate_of IS NULL) \
           ORDER BY i.n), \
         c AS ( \
           INSERT INTO customers (email, name, document, phone, updated_at, last_activity_at) \
           SELECT f.email, f.name, f.document, f.phone, $9, $9 FROM fresh f ORDER BY f.n \
           ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, customers.name), \
             document = COALESCE(EXCLUDED.document, customers.document), \
             phone = COALESCE(EXCLUDED.phone, customers.phone), \
             updated_at = EXCLUDED.updated_at, last_activity_at = EXCLUDED.last_activity_at \
           RETURNING id, email, name, document, phone, created_at, updated_at, last_activity_at), \
         o AS ( \
           SELECT o.id, o.source, o.external_id, o.status, o.payment_timeout_at \
           FROM fresh f JOIN c ON c.email = f.email \
             JOIN orders o ON o.source = f.source AND o.external_id = f.external_id \
           ORDER BY f.n FOR UPDATE OF o), \
         en AS ( \
           SELECT e.* FROM enrollments e \
           JOIN c ON c.id = e.customer_id JOIN fresh f ON f.email = c.email AND f.course_id = e.course_id \
           WHERE (SELECT count(*) FROM o) >= 0 \
           ORDER BY e.id FOR UPDATE OF e) \
         SELECT f.event_id, f.source, f.dedup_key, c.id AS customer_id, c.email, c.name, c.document, c.phone, \
           c.created_at, c.updated_at, c.last_activity_at, \
           COALESCE(o.id, nextval('orders_id_seq')) AS order_id, o.id IS NULL AS order_is_new, \
           COALESCE(o.status, 'new') AS order_status, o.payment_timeout_at, \
           en.id AS enrollment_id, en.course_id, en.order_id AS enrollment_order_id, \
           en.status AS enrollment_status, en.granted_at, en.revoked_at, en.expires_at, \
           en.created_at AS enrollment_created_at, en.updated_at AS enrollment_updated_at \
         FROM fresh f JOIN c ON c.email = f.email \
           LEFT JOIN o ON o.source = f.source AND o.external_id = f.external_id \
           LEFT JOIN en ON en.customer_id = c.id AND en.course_id = f.course_id \
         ORDER BY f.n",
    )
    .bind::<Array<Text>, _>(column_of(candidates, |x| batch[x.0].received.source.clone()))
    .bind::<Array<Text>, _>(column_of(candidates, |x| x.1.dedup_key.clone()))
    .bind::<Array<Text>, _>(column_of(candidates, |x| x.1.customer.email.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.name.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.document.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(candidates, |x| x.1.customer.phone.clone()))
    .bind::<Array<Text>, _>(column_of(candidates, |x| order(x).external_id.clone()))
    .bind::<Array<BigInt>, _>(column_of(candidates, |x| x.2.id))
    .bind::<Timestamptz, _>(now)
    .load(conn)
}

/// What a batch changes once the rules have decided.
struct Changes<'a> {
    new_orders: &'a [NewOrder<'a>],
    orders: &'a [OrderWrite],
    new_enrollments: &'a [NewEnrollment],
    changed_enrollments: &'a [Enrollment],
    events: &'a [NewEvent<'a>],
    decided: &'a [Decided],
    treatments: &'a [NewTreatment],
}

/// The prepared statement of `write_changes`.
struct WriteChanges;

/// Every write of the batch after the rules, in one statement (one round trip, whatever the batch):
/// the new orders inserted whole (status, approval time, payment-expired mark, with the ids
/// `read_and_lock` reserved) and the known ones changed as `process` changes them (new status and
/// approval time, payment-expired mark, the payment's details refreshed); the new and changed
/// enrollments; the events inserted whole (their customer, order, note and final latency, with their
/// reserved ids); the treatments, inserted in order (their ids ascend in that order) and returned;
/// and the batch's signals (`e:<event>` and `q:<treatment>`, as `process::signals` makes them), sent
/// with `pg_notify` when the transaction commits, `notify::SIGNALS_PER_PAYLOAD` to a payload. The
/// foreign keys are checked at the end of the statement, when every row it inserts is there.
fn write_changes(
    conn: &mut PgConnection,
    batch: &[Webhook<'_>],
    c: &Changes<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Treatment>> {
    let new_orders: Vec<&OrderWrite> = c.new_orders.iter().map(|o| &o.write).collect();
    Statement::<WriteChanges>::new(
        "WITH orders_added AS ( \
           INSERT INTO orders (id, source, external_id, customer_id, course_id, status, amount_cents, currency, \
             payment_method, installments, coupon, offer_code, access_until, approved_at, payment_timeout_at, \
             updated_at) \
           SELECT v.id, v.source, v.external_id, v.customer_id, v.course_id, COALESCE(v.status, 'new'), \
             v.amount_cents, v.currency, v.payment_method, v.installments, v.coupon, v.offer_code, \
             v.access_until, v.approved_at, CASE WHEN v.announces_expiry THEN $5 END, $5 \
           FROM unnest($31::int8[], $32::text[], $33::text[], $34::int8[], $35::int8[], $36::text[], \
             $37::timestamptz[], $38::bool[], $39::int8[], $40::text[], $41::text[], $42::int4[], $43::text[], \
             $44::text[], $45::timestamptz[]) \
             AS v(id, source, external_id, customer_id, course_id, status, approved_at, announces_expiry, \
               amount_cents, currency, payment_method, installments, coupon, offer_code, access_until)), \
         orders_changed AS ( \
           UPDATE orders o SET status = COALESCE(v.status, o.status), updated_at = $5, \
             approved_at = COALESCE(v.approved_at, o.approved_at), \
             payment_timeout_at = CASE WHEN v.announces_expiry THEN $5 ELSE o.payment_timeout_at END, \
             amount_cents = COALESCE(v.amount_cents, o.amount_cents), \
             currency = COALESCE(v.currency, o.currency), \
             payment_method = COALESCE(v.payment_method, o.payment_method), \
             installments = COALESCE(v.installments, o.installments), \
             coupon = COALESCE(v.coupon, o.coupon), \
             offer_code = COALESCE(v.offer_code, o.offer_code), \
             access_until = COALESCE(v.access_until, o.access_until) \
           FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::bool[], $46::int8[], $47::text[], \
             $48::text[], $49::int4[], $50::text[], $51::text[], $52::timestamptz[]) \
             AS v(id, status, approved_at, announces_expiry, amount_cents, currency, payment_method, \
               installments, coupon, offer_code, access_until) WHERE o.id = v.id), \
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
         events_added AS ( \
           INSERT INTO webhook_events (id, source, received_at, remote_addr, headers, raw_body, body_size, \
             truncated, outcome, dedup_key, event_type, kind, latency_ms, customer_id, order_id, note) \
           SELECT * FROM unnest($16::int8[], $53::text[], $54::timestamptz[], $55::text[], $56::jsonb[], \
             $57::text[], $58::int4[], $59::bool[], $60::text[], $61::text[], $62::text[], $63::text[], \
             $20::int4[], $17::int8[], $18::int8[], $19::text[])), \
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
    // $31–$45: the new orders.
    .bind::<Array<BigInt>, _>(column_of(&new_orders, |o| o.id))
    .bind::<Array<Text>, _>(column_of(c.new_orders, |o| o.source.to_string()))
    .bind::<Array<Text>, _>(column_of(c.new_orders, |o| o.external_id.to_string()))
    .bind::<Array<BigInt>, _>(column_of(c.new_orders, |o| o.customer_id))
    .bind::<Array<BigInt>, _>(column_of(c.new_orders, |o| o.course_id))
    .bind::<Array<Nullable<Text>>, _>(column_of(&new_orders, |o| o.status.map(OrderStatus::as_str)))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(&new_orders, |o| o.approved_at))
    .bind::<Array<Bool>, _>(column_of(&new_orders, |o| o.announces_expiry))
    .bind::<Array<Nullable<BigInt>>, _>(column_of(&new_orders, |o| o.amount_cents))
    .bind::<Array<Nullable<Text>>, _>(column_of(&new_orders, |o| o.currency.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(&new_orders, |o| o.payment_method.clone()))
    .bind::<Array<Nullable<Integer>>, _>(column_of(&new_orders, |o| o.installments))
    .bind::<Array<Nullable<Text>>, _>(column_of(&new_orders, |o| o.coupon.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(&new_orders, |o| o.offer_code.clone()))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(&new_orders, |o| o.access_until))
    // $46–$52: the payment's details of the known orders.
    .bind::<Array<Nullable<BigInt>>, _>(column_of(c.orders, |o| o.amount_cents))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.orders, |o| o.currency.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.orders, |o| o.payment_method.clone()))
    .bind::<Array<Nullable<Integer>>, _>(column_of(c.orders, |o| o.installments))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.orders, |o| o.coupon.clone()))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.orders, |o| o.offer_code.clone()))
    .bind::<Array<Nullable<Timestamptz>>, _>(column_of(c.orders, |o| o.access_until))
    // $53–$63: the events (with $16–$20: id, customer, order, note, latency).
    .bind::<Array<Text>, _>(column_of(c.events, |r| r.source.to_string()))
    .bind::<Array<Timestamptz>, _>(column_of(c.events, |r| r.received_at))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.events, |r| r.remote_addr.map(str::to_string)))
    .bind::<Array<Jsonb>, _>(column_of(c.events, |r| r.headers.clone()))
    .bind::<Array<Text>, _>(column_of(c.events, |r| r.raw_body.clone()))
    .bind::<Array<Integer>, _>(column_of(c.events, |r| r.body_size))
    .bind::<Array<Bool>, _>(column_of(c.events, |r| r.truncated))
    .bind::<Array<Text>, _>(column_of(c.events, |r| r.outcome.as_str()))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.events, |r| r.dedup_key.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.events, |r| r.event_type.map(str::to_string)))
    .bind::<Array<Nullable<Text>>, _>(column_of(c.events, |r| r.kind.map(EventKind::as_str)))
    .load(conn)
}

/// One bound array: `f` of every row.
fn column_of<R, T>(rows: &[R], f: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}
