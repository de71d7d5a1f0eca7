//! `POST /webhooks/{source}`: thin HTTP glue: reads the body, then `service::screen` (pure checks) and
//! `service::ingest`, and maps what it returns to the answer.

use super::event::{RequestParts, Source};
use super::process::{Outcome, WebhookAnswer};
use super::record::{self, Received};
use super::service::{self, enabled_source, screen, Ingested, Rejection};
use crate::body_deadline;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

/// The body as read: up to the limit, its full size as sent, and how the read ended.
struct Body {
    bytes: Vec<u8>,
    size: usize,
    truncated: bool,
    timed_out: bool,
}

/// Reads the body up to `limit` bytes. The body's deadline (`body_deadline`, `BODY_READ_TIMEOUT_MS`)
/// ends a read that stalls.
async fn read_limited(mut payload: web::Payload, limit: usize, declared: Option<usize>) -> Body {
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut size = 0usize;
    let mut timed_out = false;
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                timed_out = body_deadline::is_timeout(&e);
                break;
            }
        };
        size += chunk.len();
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if size > limit {
            break;
        }
    }
    let size = declared.unwrap_or(0).max(size);
    Body { bytes: body, size, truncated: size > limit && !timed_out, timed_out }
}

fn request_parts(req: &HttpRequest) -> (RequestParts, Vec<(String, String)>) {
    let query: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    let parts = RequestParts { headers, query: query.iter().cloned().collect() };
    (parts, query)
}

/// Receives a payment platform's webhook. The raw request is always recorded, even when rejected;
/// a 2xx is sent only after the event and its consequences are committed.
#[utoipa::path(
    tag = "webhooks",
    params(("source" = Source, Path, description = "The sending platform (one enabled here; any other name is 404 `unknown_source`)")),
    request_body(content = Object, description = "The provider's payload: a JSON object, whatever the Content-Type (Monetizze may also post a form-encoded postback); see docs/WEBHOOKS.md", content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted: processed, duplicate or ignored", body = WebhookAnswer),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials (`unauthorized`)", body = ErrorBody),
        (status = 404, description = "Unknown or disabled source (`unknown_source`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`); recorded, the connection is closed", body = ErrorBody),
        (status = 413, description = "Body over the limit (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "JSON without what is needed (`unprocessable`)", body = ErrorBody),
        (status = 429, description = "Over `WEBHOOK_RATE_LIMIT` for this source and address (`too_many_requests`); counted per minute, not recorded one by one", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before sending again"))),
        (status = 500, description = "Internal failure: nothing was half-written; retry", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`database_unavailable`): nothing was recorded; retry after Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
#[post("/webhooks/{source}")]
pub async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let remote_addr = req.peer_addr().map(|a| a.ip().to_string());
    if let Err(wait) = state.rate_limit.check(&path, remote_addr.as_deref()) {
        service::log_rate_limited(&record::pg_text(&path), started.elapsed());
        return Err(ApiError::too_many_requests(
            format!("Too many webhook requests from this address; retry in {wait} s."),
            wait,
        ));
    }
    let limit = state.config.webhook_body_limit;
    let declared = req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let body = read_limited(payload, limit, declared).await;
    let (parts, query) = request_parts(&req);
    let received = Received {
        source: record::pg_text(&path.into_inner()).chars().take(64).collect(),
        received_at: Utc::now(),
        remote_addr,
        headers: record::keep_headers(
            req.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
            &query,
        ),
        body: body.bytes,
        body_size: body.size,
        truncated: body.truncated,
    };
    let screened = if body.timed_out {
        let seconds = state.config.body_read_timeout.as_secs_f64();
        Err(Rejection::new(
            Outcome::RequestTimeout,
            ApiError::request_timeout(format!("The body did not arrive within {seconds} s.")),
        ))
    } else {
        enabled_source(&received.source, &state.config.sources)
            .and_then(|(source, secret)| screen(source, &secret, &received, &parts, limit, Utc::now()))
    };
    match service::ingest(&state, received, screened, None, started).await? {
        Ingested::Accepted(answer) => Ok(HttpResponse::Ok().json(answer)),
        Ingested::Rejected { rejection, event_id } => {
            Err(rejection.error.with_details(json!({ "event_id": event_id })))
        }
    }
}
