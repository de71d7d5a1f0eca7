//! The webhook log: list with filters, one event with its raw body, replay.

use super::audit::{self, AuditAction, AuditTarget, Entry};
use super::filters::{from_schema, parse_from, parse_to, to_schema, StaffQuery};
use super::pagination::{self, like_escape, PageParams};
use super::treatments;
use super::views::*;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::ingest::event::{EventKind, RequestParts, Source};
use crate::ingest::process::{Outcome, WebhookAnswer};
use crate::ingest::record::Received;
use crate::ingest::service::{self, Ingested};
use crate::ingest::sources;
use crate::models::WebhookEvent;
use crate::note::Note;
use crate::schema::{customers, webhook_events};
use crate::state::AppState;
use crate::vocabulary::known_value;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;
use utoipa::IntoParams;

/// The columns of an event without its body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_events)]
pub struct EventRow {
    pub id: i64,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub note: Option<Note>,
    pub event_type: Option<String>,
    pub kind: Option<EventKind>,
    pub dedup_key: Option<String>,
    pub duplicate_of: Option<i64>,
    pub replay_of: Option<i64>,
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub latency_ms: Option<i32>,
}

impl EventRow {
    pub fn view(self, customer_email: Option<String>) -> EventSummary {
        EventSummary {
            id: self.id,
            source: self.source,
            received_at: self.received_at,
            outcome: self.outcome,
            error: self.error,
            note: self.note,
            event_type: self.event_type,
            kind: self.kind,
            dedup_key: self.dedup_key,
            duplicate_of: self.duplicate_of,
            replay_of: self.replay_of,
            customer_id: self.customer_id,
            customer_email,
            order_id: self.order_id,
            latency_ms: self.latency_ms,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// hashtag, hotmart, kiwify, generic (or any name that was called)
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub source: Option<String>,
    /// The outcome .
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub outcome: Option<Outcome>,
    /// Text contained in the raw body or the customer's e-mail.
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// From this time (RFC 3339) or date (YYYY-MM-DD), inclusive.
    #[param(nullable = false, schema_with = from_schema)]
    pub from: Option<String>,
    /// Until this time (exclusive) or date (inclusive).
    #[param(nullable = false, schema_with = to_schema)]
    pub to: Option<String>,
}

/// One page of events, newest first, after `before_id`.
pub fn query(
    conn: &mut PgConnection,
    f: &EventFilter,
    limit: i64,
    before_id: Option<i64>,
) -> ApiResult<Vec<EventSummary>> {
    let from = parse_from(f.from.as_deref())?;
    let to = parse_to(f.to.as_deref())?;
    let mut q = webhook_events::table
        .left_join(customers::table)
        .select((EventRow::as_select(), customers::email.nullable()))
        .into_boxed();
    if let Some(source) = f.source.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(webhook_events::source.eq(source.to_string()));
    }
    if let Some(outcome) = f.outcome {
        q = q.filter(webhook_events::outcome.eq(outcome));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(text));
        q = q.filter(
            webhook_events::raw_body
                .ilike(pattern.clone())
                .or(customers::email.nullable().like(pattern.to_lowercase())),
        );
    }
    if let Some(from) = from {
        q = q.filter(webhook_events::received_at.ge(from));
    }
    if let Some(to) = to {
        q = q.filter(webhook_events::received_at.lt(to));
    }
    if let Some(id) = before_id {
        q = q.filter(webhook_events::id.lt(id));
    }
    let rows: Vec<(EventRow, Option<String>)> = q.order(webhook_events::id.desc()).limit(limit).load(conn)?;
    Ok(rows.into_iter().map(|(e, email)| e.view(email)).collect())
}

/// The webhook log, newest first.
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(EventFilter, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = Page<EventSummary>),
        (status = 400, description = "Invalid filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/events")]
pub async fn list(
    state: web::Data<AppState>,
    _auth: AuthUser,
    f: StaffQuery<EventFilter>,
    page: StaffQuery<PageParams>,
) -> ApiResult<web::Json<Page<EventSummary>>> {
    let limit = pagination::limit(page.limit)?;
    let before = page.cursor.as_deref().map(|c| pagination::decode(c, 1).map(|p| p[0])).transpose()?;
    let f = f.into_inner();
    db::run(&state.pool, move |conn| {
        let items = query(conn, &f, limit, before)?;
        let next_cursor = pagination::next(&items, limit, |e| vec![e.id]);
        Ok(web::Json(Page { items, next_cursor }))
    })
    .await
}

/// One event's summary (the live stream's frame), `None` when it is gone.
pub fn summary(conn: &mut PgConnection, id: i64) -> ApiResult<Option<EventSummary>> {
    let row: Option<(EventRow, Option<String>)> = webhook_events::table
        .left_join(customers::table)
        .filter(webhook_events::id.eq(id))
        .select((EventRow::as_select(), customers::email.nullable()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(e, email)| e.view(email)))
}

pub fn load(conn: &mut PgConnection, id: i64) -> ApiResult<WebhookEvent> {
    webhook_events::table
        .find(id)
        .select(WebhookEvent::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, format!("No event with id {id}.")))
}

/// One event with its raw body, kept headers (secrets masked) and the treatments it caused.
#[utoipa::path(
    tag = "events",
    operation_id = "get_event",
    params(("id" = i64, Path, description = "Event id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/events/{id}")]
pub async fn detail(
    state: web::Data<AppState>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<EventDetail>> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        type Body = (Value, String, bool, i32, Option<String>, Option<DateTime<Utc>>);
        let (row, email, (headers, raw_body, truncated, body_size, remote_addr, raw_body_purged_at)): (
            EventRow,
            Option<String>,
            Body,
        ) = webhook_events::table
            .left_join(customers::table)
            .filter(webhook_events::id.eq(id))
            .select((
                EventRow::as_select(),
                customers::email.nullable(),
                (
                    webhook_events::headers,
                    webhook_events::raw_body,
                    webhook_events::truncated,
                    webhook_events::body_size,
                    webhook_events::remote_addr,
                    webhook_events::raw_body_purged_at,
                ),
            ))
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, format!("No event with id {id}.")))?;
        let caused = treatments::of_event(conn, id)?;
        let body_json = serde_json::from_str::<Value>(&raw_body).ok();
        Ok(web::Json(EventDetail {
            summary: row.view(email),
            headers,
            raw_body,
            body_json,
            truncated,
            body_size,
            remote_addr,
            raw_body_purged_at,
            treatments: caused,
        }))
    })
    .await
}

/// Rebuilds the request of a recorded event, for a replay.
fn rebuild(e: &WebhookEvent) -> Result<(Source, Received, RequestParts), ApiError> {
    let not_replayable = |why: &str| ApiError::conflict(ErrorCode::NotReplayable, why.to_string());
    if matches!(e.outcome, Outcome::Unauthorized | Outcome::UnknownSource) {
        return Err(not_replayable("This event was never authenticated; it cannot be replayed."));
    }
    if e.truncated {
        return Err(not_replayable("This event's body was truncated; it cannot be replayed."));
    }
    if e.raw_body_purged_at.is_some() {
        return Err(not_replayable("This event's body was removed by the retention policy; it cannot be replayed."));
    }
    let source = Source::parse(&e.source).ok_or_else(|| not_replayable("Unknown source."))?;
    let mut parts = RequestParts::default();
    if let Value::Object(map) = &e.headers {
        for (k, v) in map {
            match (k.as_str(), v) {
                ("query", Value::Object(q)) => {
                    parts.query = q.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect()
                }
                (_, Value::String(v)) => {
                    parts.headers.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    let received = Received {
        source: e.source.clone(),
        received_at: Utc::now(),
        remote_addr: None,
        headers: json!({ "replay_of": e.id }),
        body: e.raw_body.as_bytes().to_vec(),
        body_size: e.raw_body.len(),
        truncated: false,
    };
    Ok((source, received, parts))
}

/// Runs a recorded event through the rules again (as a new event that points at it). Its
/// deduplication makes it harmless: an event already processed comes back as a `duplicate`. A
/// payload that is rejected again (not JSON, or without what is needed) is recorded as a new
/// rejected event and answered 409 `replay_rejected`: the request was fine, the event was not.
#[utoipa::path(
    tag = "events",
    operation_id = "replay_event",
    params(("id" = i64, Path, description = "Event id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replay's result (a new event)", body = WebhookAnswer),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 409, description = "Never authenticated, truncated or its body removed by retention (`not_replayable`), or its payload was rejected again (`replay_rejected`; `details`: the new `event_id`, the rejection's `code`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/events/{id}/replay")]
pub async fn replay(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let started = Instant::now();
    let id = id.into_inner();
    let user = auth.id;
    let event = db::run(&state.pool, move |conn| {
        let e = load(conn, id)?;
        audit::record(
            conn,
            Entry::new(user, AuditAction::ReplayEvent, AuditTarget::WebhookEvent, Some(id))
                .details(json!({ "outcome": e.outcome })),
        )?;
        Ok(e)
    })
    .await?;
    let (source, received, parts) = rebuild(&event)?;
    let screened = sources::parse(source, &received.body, &parts).map_err(service::parse_rejection);
    match service::ingest(&state, received, screened, Some(id), started).await? {
        Ingested::Accepted(answer) => Ok(HttpResponse::Ok().json(answer)),
        // The request was fine, the payload was not (400 or 422 for a sender): a conflict for the staff.
        Ingested::Rejected { rejection, event_id } => Err(ApiError::conflict(
            ErrorCode::ReplayRejected,
            format!("The replay was rejected again: {}", rejection.error.message),
        )
        .with_details(json!({ "event_id": event_id, "code": rejection.error.code }))),
    }
}
