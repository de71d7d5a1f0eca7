//! Rows of the domain tables, as diesel reads them.

use crate::ingest::event::{EventKind, Source};
use crate::ingest::process::Outcome;
use crate::note::Note;
use crate::schema::*;
use crate::treatments::rules::{EnrollmentStatus, OrderStatus, TreatmentKind, TreatmentReason};
use crate::treatments::store::TreatmentStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers)]
pub struct Customer {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub document: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = courses)]
pub struct Course {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub access_days: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub access_url: Option<String>,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
    pub access_webhook_url: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: i64,
    pub source: Source,
    pub external_id: String,
    pub customer_id: i64,
    pub course_id: Option<i64>,
    pub status: OrderStatus,
    pub amount_cents: Option<i64>,
    pub currency: Option<String>,
    pub payment_method: Option<String>,
    pub installments: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    pub id: i64,
    pub customer_id: i64,
    pub course_id: i64,
    pub order_id: Option<i64>,
    pub status: EnrollmentStatus,
    pub granted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = webhook_events)]
pub struct WebhookEvent {
    pub id: i64,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub remote_addr: Option<String>,
    pub headers: Value,
    pub raw_body: String,
    pub body_size: i32,
    pub truncated: bool,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub dedup_key: Option<String>,
    pub duplicate_of: Option<i64>,
    pub event_type: Option<String>,
    pub kind: Option<EventKind>,
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub replay_of: Option<i64>,
    pub latency_ms: Option<i32>,
    pub note: Option<Note>,
    pub raw_body_purged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = treatments)]
pub struct Treatment {
    pub id: i64,
    pub kind: TreatmentKind,
    pub status: TreatmentStatus,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub output: Option<String>,
    pub last_error: Option<String>,
    pub reason: Option<TreatmentReason>,
    pub payload: Value,
    pub event_id: Option<i64>,
    pub customer_id: i64,
    pub course_id: Option<i64>,
    pub order_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub actor_user_id: Option<i64>,
    pub staff_reason: Option<String>,
}
