//! `POST /webhooks/{source}`: thin HTTP glue around `screen` (pure checks) and `process::ingest`.

use super::event::{AuthError, ParseError, Parsed, RequestParts, Source};
use super::process::{self, CourseDefaults, Outcome, WebhookAnswer};
use super::record::{self, Received};
use super::sources;
use crate::config::SourceSecrets;
use crate::error::ErrorCode;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::{body_deadline, db};
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Why a request was turned away: its recorded outcome and the answer.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub outcome: Outcome,
    pub error: ApiError,
}

impl Rejection {
    fn new(outcome: Outcome, error: ApiError) -> Rejection {
        Rejection { outcome, error }
    }
}

/// The secret of an enabled source; unknown and unconfigured sources are both 404.
pub fn enabled_source(name: &str, secrets: &SourceSecrets) -> Result<(Source, String), Rejection> {
    let source = Source::parse(name);
    let secret = match source {
        Some(Source::Hashtag) => secrets.hashtag.clone(),
        Some(Source::Hotmart) => secrets.hotmart.clone(),
        Some(Source::Kiwify) => secrets.kiwify.clone(),
        Some(Source::Generic) => secrets.generic.clone(),
        None => None,
    };
    match (source, secret) {
        (Some(source), Some(secret)) => Ok((source, secret)),
        _ => Err(Rejection::new(
            Outcome::UnknownSource,
            ApiError::not_found(ErrorCode::UnknownSource, format!("No webhook source named {name:?} is enabled here.")),
        )),
    }
}

/// The checks before anything is written: size, sender, payload.
pub fn screen(
    source: Source,
    secret: &str,
    received: &Received,
    parts: &RequestParts,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Parsed, Rejection> {
    if received.truncated {
        return Err(Rejection::new(
            Outcome::PayloadTooLarge,
            ApiError::payload_too_large(format!("The body is larger than {limit} bytes.")),
        ));
    }
    sources::authenticate(source, secret, &received.body, parts, now).map_err(|e| {
        let message = match e {
            AuthError::Missing(m) => format!("Missing credentials: {m}"),
            AuthError::Invalid(m) => format!("Invalid credentials: {m}"),
        };
        Rejection::new(Outcome::Unauthorized, ApiError::unauthorized(ErrorCode::Unauthorized, message))
    })?;
    sources::parse(source, &received.body, parts).map_err(parse_rejection)
}

/// A body that could not be parsed: its recorded outcome and the answer (400 or 422).
pub fn parse_rejection(e: ParseError) -> Rejection {
    match e {
        ParseError::InvalidJson(m) => Rejection::new(
            Outcome::InvalidJson,
            ApiError::bad_request(ErrorCode::InvalidJson, format!("The body is not valid JSON: {m}")),
        ),
        ParseError::Unprocessable(m) => {
            Rejection::new(Outcome::Unprocessable, ApiError::unprocessable(ErrorCode::Unprocessable, m))
        }
    }
}

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
    request_body(content = Object, description = "The provider's payload: a JSON object, whatever the Content-Type; see docs/WEBHOOKS.md", content_type = "application/json"),
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
        log_line(&record::pg_text(&path), "rate_limited", None, 429, started.elapsed(), None);
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
    if body.timed_out {
        let seconds = state.config.body_read_timeout.as_secs_f64();
        let rejection = Rejection::new(
            Outcome::RequestTimeout,
            ApiError::request_timeout(format!("The body did not arrive within {seconds} s.")),
        );
        let defaults = CourseDefaults { default_course_name: state.config.default_course_name.clone() };
        return handle(&state, received, Err(rejection), defaults, None, started).await;
    }
    let screened = enabled_source(&received.source, &state.config.sources)
        .and_then(|(source, secret)| screen(source, &secret, &received, &parts, limit, Utc::now()));
    let defaults = CourseDefaults { default_course_name: state.config.default_course_name.clone() };
    handle(&state, received, screened, defaults, None, started).await
}

/// Records and answers a screened request (shared with the staff's replay).
#[tracing::instrument(name = "ingest", skip_all, fields(source = received.source.as_str(), replay_of = replay_of))]
pub async fn handle(
    state: &AppState,
    received: Received,
    screened: Result<Parsed, Rejection>,
    defaults: CourseDefaults,
    replay_of: Option<i64>,
    started: Instant,
) -> Result<HttpResponse, ApiError> {
    let source = received.source.clone();
    let span = tracing::Span::current();
    let result = db::run(&state.pool, move |conn| {
        let _ingest = span.enter();
        Ok(match &screened {
            Err(rejection) => {
                let id = record::record_rejection(
                    conn,
                    &received,
                    rejection.outcome,
                    &rejection.error.message,
                    replay_of,
                    process::elapsed_ms(started),
                )?;
                Err((rejection.clone(), id))
            }
            Ok(parsed) => match process::ingest(conn, &received, parsed, &defaults, replay_of, started) {
                Ok(answer) => Ok(answer),
                // A lost connection: nothing was committed; `db::run` retries on a good one, else 503.
                Err(e) if db::is_connection_failure(&e) => return Err(e.into()),
                Err(e) => {
                    // Nothing of the transaction stayed; keep the request on record, then fail.
                    let error = format!("internal error: {e}");
                    let _ = record::record_rejection(
                        conn,
                        &received,
                        Outcome::Error,
                        &error,
                        replay_of,
                        process::elapsed_ms(started),
                    );
                    return Err(ApiError::internal(format!("ingest of a {} webhook: {e}", received.source)));
                }
            },
        })
    })
    .await;
    let latency = started.elapsed();
    match result {
        Ok(Ok(answer)) => {
            log_line(&source, answer.outcome.as_str(), Some(answer.event_id), 200, latency, replay_of);
            Ok(HttpResponse::Ok().json(answer))
        }
        Ok(Err((rejection, id))) => {
            log_line(
                &source,
                rejection.outcome.as_str(),
                Some(id),
                rejection.error.status.as_u16(),
                latency,
                replay_of,
            );
            Err(rejection.error.with_details(json!({ "event_id": id })))
        }
        Err(e) => {
            log_line(&source, Outcome::Error.as_str(), None, e.status.as_u16(), latency, replay_of);
            Err(e)
        }
    }
}

/// One structured line per webhook (a tracing event with fields); never a secret or a payload. Counts
/// it in the metrics unless it is a staff replay.
fn log_line(
    source: &str,
    outcome: &str,
    event_id: Option<i64>,
    status: u16,
    latency: Duration,
    replay_of: Option<i64>,
) {
    if replay_of.is_none() {
        crate::metrics::webhook(source, outcome, latency);
    }
    tracing::info!(
        target: "portaria::webhook",
        source,
        outcome,
        event_id,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        replay_of,
        "webhook"
    );
}
