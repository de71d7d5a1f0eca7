//! What the staff API returns: JSON views of the domain rows.

use crate::ingest::event::{EventKind, Source};
use crate::ingest::process::Outcome;
use crate::models::Treatment;
use crate::note::Note;
use crate::treatments::rules::{EnrollmentStatus, OrderStatus, TreatmentKind};
use crate::treatments::store::TreatmentStatus;
use chrono::{DateTime, Utc};
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
    /// Overall: `active` if any course is accessible now, else `expired`, `revoked` or `none`.
    pub access: String,
    pub enrollments: Vec<AccessBadge>,
}

#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
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
    pub course_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    pub customer: CustomerView,
    pub enrollments: Vec<EnrollmentView>,
    pub orders: Vec<OrderView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatmentView {
    pub id: i64,
    pub kind: TreatmentKind,
    pub status: TreatmentStatus,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    /// What the executor did, e.g. `Liberar acesso do e-mail: fulano@email.com`.
    pub output: Option<String>,
    pub last_error: Option<String>,
    pub reason: Option<String>,
    pub event_id: Option<i64>,
    pub customer_id: i64,
    pub customer_email: String,
    pub course_id: Option<i64>,
    pub course_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The staff member who queued it by hand (a grant, extension, revocation, resent welcome, bulk
    /// action or import); `null` for the treatments of webhooks and of the expiry sweep.
    pub actor: Option<ActorView>,
    /// The reason that staff member gave.
    pub staff_reason: Option<String>,
}

/// A staff member, as the treatments they queued show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    pub id: i64,
    pub name: String,
}

/// Treatment views with their actors' names (one query for all of them).
pub fn with_actors(
    conn: &mut diesel::PgConnection,
    rows: Vec<(Treatment, String, Option<String>)>,
) -> diesel::QueryResult<Vec<TreatmentView>> {
    use crate::schema::users;
    use diesel::prelude::*;
    let ids: Vec<i64> = rows.iter().filter_map(|(t, _, _)| t.actor_user_id).collect();
    let names: std::collections::HashMap<i64, String> = if ids.is_empty() {
        Default::default()
    } else {
        users::table.filter(users::id.eq_any(&ids)).select((users::id, users::name)).load(conn)?.into_iter().collect()
    };
    Ok(rows
        .into_iter()
        .map(|(t, email, course)| {
            let actor = t.actor_user_id.map(|id| ActorView { id, name: names.get(&id).cloned().unwrap_or_default() });
            TreatmentView { actor, ..TreatmentView::new(t, email, course) }
        })
        .collect())
}

impl TreatmentView {
    pub fn new(t: Treatment, customer_email: String, course_name: Option<String>) -> TreatmentView {
        TreatmentView {
            id: t.id,
            kind: t.kind,
            status: t.status,
            attempts: t.attempts,
            run_at: t.run_at,
            output: t.output,
            last_error: t.last_error,
            reason: t.reason,
            event_id: t.event_id,
            customer_id: t.customer_id,
            customer_email,
            course_id: t.course_id,
            course_name,
            created_at: t.created_at,
            updated_at: t.updated_at,
            done_at: t.done_at,
            actor: None,
            staff_reason: t.staff_reason,
        }
    }
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
