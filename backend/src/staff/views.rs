//! What the staff API returns: JSON views of the domain rows. A view that is a plain selection of
//! columns derives `Selectable` (its query reads it as it is); the others are built from query rows
//! in `staff::queries`.

use crate::ingest::event::{EventKind, Source};
use crate::ingest::process::Outcome;
use crate::note::Note;
use crate::schema::{courses, customers, orders, treatments, users, webhook_events};
use crate::treatments::rules::{EnrollmentStatus, OrderStatus, TreatmentKind, TreatmentReason};
use crate::treatments::store::TreatmentStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A page of a keyset-paginated list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

crate::vocabulary! {
    /// A customer's overall access: `active` if any course is accessible now, else `expired`, `revoked`
    /// or `none`. Computed from the enrollments, never stored.
    pub enum CustomerAccess {
        Active = "active",
        Expired = "expired",
        Revoked = "revoked",
        None = "none",
    }
}

/// Access state of one enrollment, as the search lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessBadge {
    pub course_id: i64,
    pub course_name: String,
    /// `expired` also when an `active` enrollment's end has passed.
    pub status: EnrollmentStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub document: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub access: CustomerAccess,
    pub enrollments: Vec<AccessBadge>,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub struct CustomerView {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub document: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentView {
    pub id: i64,
    pub course_id: i64,
    pub course_name: String,
    /// `expired` also when an `active` enrollment's end has passed.
    pub status: EnrollmentStatus,
    pub granted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub order_id: Option<i64>,
}

// Selected from `orders` left-joined with `courses`.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct OrderView {
    pub id: i64,
    pub source: Source,
    pub external_id: String,
    pub status: OrderStatus,
    /// Integer cents.
    pub amount_cents: Option<i64>,
    pub currency: Option<String>,
    pub payment_method: Option<String>,
    pub installments: Option<i32>,
    #[diesel(select_expression = courses::name.nullable())]
    pub course_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the order was approved: the approving event's own time (the platform's), else when
    /// Portaria received it. `null` while it was never approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// The coupon (discount code) used, when the platform said.
    pub coupon: Option<String>,
    /// The offer or plan bought, when the platform said.
    pub offer_code: Option<String>,
    /// The end of the paid period the platform last reported (a subscription's access end / next charge).
    pub access_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    pub customer: CustomerView,
    pub enrollments: Vec<EnrollmentView>,
    pub orders: Vec<OrderView>,
}

// Selected from `webhook_events` left-joined with `customers`.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = webhook_events, check_for_backend(diesel::pg::Pg))]
pub struct EventSummary {
    pub id: i64,
    /// The URL's `{source}` as called (an unknown name is recorded too, with outcome `unknown_source`).
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub error: Option<String>,
    /// Why less than usual happened (e.g. an approval after a refund).
    pub note: Option<Note>,
    /// The provider's event name, verbatim.
    pub event_type: Option<String>,
    /// The normalised kind.
    pub kind: Option<EventKind>,
    pub dedup_key: Option<String>,
    pub duplicate_of: Option<i64>,
    pub replay_of: Option<i64>,
    pub customer_id: Option<i64>,
    #[diesel(select_expression = customers::email.nullable())]
    pub customer_email: Option<String>,
    pub order_id: Option<i64>,
    pub latency_ms: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    /// The kept request headers and query string, secrets masked.
    #[schema(value_type = Object)]
    pub headers: Value,
    /// The body as received (lossy UTF-8; secrets masked), truncated to the body limit.
    pub raw_body: String,
    /// The body parsed, when it is JSON: any JSON value (an object, but also an array, a string,
    /// a number, ...); `null` when the body is not JSON.
    #[schema(value_type = Value)]
    pub body_json: Option<Value>,
    pub truncated: bool,
    pub body_size: i32,
    pub remote_addr: Option<String>,
    /// When the retention sweep emptied `raw_body` (`RETENTION_DAYS_*`); `null` while it is kept.
    pub raw_body_purged_at: Option<DateTime<Utc>>,
    pub treatments: Vec<TreatmentView>,
}

// Selected from `treatments` joined with `customers` and left-joined with `courses` and `users` (the actor).
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = treatments, check_for_backend(diesel::pg::Pg))]
pub struct TreatmentView {
    pub id: i64,
    pub kind: TreatmentKind,
    pub status: TreatmentStatus,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    /// What the executor did, e.g. `Liberar acesso do e-mail: fulano@email.com`.
    pub output: Option<String>,
    pub last_error: Option<String>,
    pub reason: Option<TreatmentReason>,
    pub event_id: Option<i64>,
    pub customer_id: i64,
    #[diesel(select_expression = customers::email)]
    pub customer_email: String,
    pub course_id: Option<i64>,
    #[diesel(select_expression = courses::name.nullable())]
    pub course_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The staff member who queued it by hand (a grant, extension, revocation, resent welcome, bulk
    /// action or import); `null` for the treatments of webhooks and of the expiry sweep.
    #[diesel(embed)]
    pub actor: Option<ActorView>,
    /// The reason that staff member gave.
    pub staff_reason: Option<String>,
}

/// A staff member, as the treatments they queued show them.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct ActorView {
    pub id: i64,
    pub name: String,
}

/// One entry of a customer's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Event { at: DateTime<Utc>, event: EventSummary },
    Treatment { at: DateTime<Utc>, treatment: TreatmentView },
}

impl TimelineItem {
    /// Time order; an event before the treatments it caused; creation order within one commit.
    pub fn sort_key(&self) -> (DateTime<Utc>, u8, i64) {
        match self {
            TimelineItem::Event { at, event } => (*at, 0, event.id),
            TimelineItem::Treatment { at, treatment } => (*at, 1, treatment.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// Oldest first.
    pub items: Vec<TimelineItem>,
}

impl Timeline {
    /// A customer's events and treatments, merged oldest first.
    pub fn new(events: Vec<EventSummary>, treatments: Vec<TreatmentView>) -> Timeline {
        let mut items: Vec<TimelineItem> = events
            .into_iter()
            .map(|event| TimelineItem::Event { at: event.received_at, event })
            .chain(
                treatments.into_iter().map(|treatment| TimelineItem::Treatment { at: treatment.created_at, treatment }),
            )
            .collect();
        items.sort_by_key(TimelineItem::sort_key);
        Timeline { items }
    }
}
