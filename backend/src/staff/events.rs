//! The webhook log: list with filters, one event with its raw body, replay. The reads are in
//! `queries::events`.

use super::audit::{self, AuditAction, AuditTarget, Entry};
use super::filters::{from_schema, text, to_schema, window, StaffQuery};
use super::pagination::PageParams;
use super::queries::events::{self as query, EventQuery};
use super::views::*;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::ingest::event::{RequestParts, Source};
use crate::ingest::process::{Outcome, WebhookAnswer};
use crate::ingest::record::Received;
use crate::ingest::service::{self, Ingested};
use crate::ingest::sources;
use crate::models::WebhookEvent;
use crate::state::AppState;
use crate::vocabulary::known_value;
use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;
use utoipa::IntoParams;

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

impl EventFilter {
    /// The query of one page: the filters checked, empty text ignored.
    pub fn query(self, limit: i64, before_id: Option<i64>) -> ApiResult<EventQuery> {
        Ok(EventQuery {
            window: window(self.from.as_deref(), self.to.as_deref(), limit, before_id)?,
            source: self.source.filter(|s| !s.is_empty()),
            outcome: self.outcome,
            text: text(self.q),
            customer_id: None,
        })
    }
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
    let (limit, before_id) = page.keyset()?;
    let query = f.into_inner().query(limit, before_id)?;
    db::run(&state.pool, move |conn| Ok(web::Json(Page::keyed(query.list(conn)?, limit, |e| vec![e.id])))).await
}

fn no_event(id: i64) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("No event with id {id}."))
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
    db::run(&state.pool, move |conn| query::detail(conn, id)?.map(web::Json).ok_or_else(|| no_event(id))).await
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
        let e = query::find(conn, id)?.ok_or_else(|| no_event(id))?;
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
