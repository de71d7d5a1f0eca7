//! Reads of the webhook log.

use super::{treatments, Window};
use crate::ingest::process::Outcome;
use crate::models::WebhookEvent;
use crate::schema::{customers, webhook_events};
use crate::staff::pagination::like_escape;
use crate::staff::views::{EventDetail, EventSummary};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

/// Events received in the window, narrowed by the filters that are set.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// The URL's `{source}` as called.
    pub source: Option<String>,
    pub outcome: Option<Outcome>,
    /// Text contained in the raw body or the customer's e-mail.
    pub text: Option<String>,
    pub customer_id: Option<i64>,
    pub window: Window,
}

impl EventQuery {
    pub fn list(&self, conn: &mut PgConnection) -> QueryResult<Vec<EventSummary>> {
        let mut q = webhook_events::table.left_join(customers::table).select(EventSummary::as_select()).into_boxed();
        if let Some(source) = &self.source {
            q = q.filter(webhook_events::source.eq(source.clone()));
        }
        if let Some(outcome) = self.outcome {
            q = q.filter(webhook_events::outcome.eq(outcome));
        }
        if let Some(text) = &self.text {
            let pattern = format!("%{}%", like_escape(text));
            q = q.filter(
                webhook_events::raw_body
                    .ilike(pattern.clone())
                    .or(customers::email.nullable().like(pattern.to_lowercase())),
            );
        }
        if let Some(id) = self.customer_id {
            q = q.filter(webhook_events::customer_id.eq(id));
        }
        within!(q, self.window, webhook_events::received_at, webhook_events::id).load(conn)
    }
}

/// One event's summary (the live stream's frame).
pub fn summary(conn: &mut PgConnection, id: i64) -> QueryResult<Option<EventSummary>> {
    webhook_events::table
        .left_join(customers::table)
        .filter(webhook_events::id.eq(id))
        .select(EventSummary::as_select())
        .first(conn)
        .optional()
}

/// What `EventDetail` adds to the summary, as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_events, check_for_backend(diesel::pg::Pg))]
struct EventBody {
    headers: Value,
    raw_body: String,
    truncated: bool,
    body_size: i32,
    remote_addr: Option<String>,
    raw_body_purged_at: Option<DateTime<Utc>>,
}

/// One event with its raw body, kept headers and the treatments it caused.
pub fn detail(conn: &mut PgConnection, id: i64) -> QueryResult<Option<EventDetail>> {
    let row: Option<(EventSummary, EventBody)> = webhook_events::table
        .left_join(customers::table)
        .filter(webhook_events::id.eq(id))
        .select((EventSummary::as_select(), EventBody::as_select()))
        .first(conn)
        .optional()?;
    let Some((summary, body)) = row else { return Ok(None) };
    Ok(Some(EventDetail {
        summary,
        body_json: serde_json::from_str::<Value>(&body.raw_body).ok(),
        headers: body.headers,
        raw_body: body.raw_body,
        truncated: body.truncated,
        body_size: body.body_size,
        remote_addr: body.remote_addr,
        raw_body_purged_at: body.raw_body_purged_at,
        treatments: treatments::of_event(conn, id)?,
    }))
}

/// The whole stored event (the replay rebuilds its request from it).
pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<WebhookEvent>> {
    webhook_events::table.find(id).select(WebhookEvent::as_select()).first(conn).optional()
}
