//! The ingest service, without HTTP: the checks before anything is written (`enabled_source`,
//! `screen`), and `ingest`, which records a screened request and runs an accepted one through
//! `process::ingest`. Called by the webhook handler and by the staff's replay; each maps the
//! `Ingested` result to its own answer.

use super::batch;
use super::event::{AuthError, ParseError, Parsed, RequestParts, Source};
use super::identity;
use super::process::{self, CourseDefaults, Outcome, WebhookAnswer};
use super::record::{self, Received};
use super::sources;
use crate::config::SourceSecrets;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// Why a request was turned away: its recorded outcome and the answer.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub outcome: Outcome,
    pub error: ApiError,
}

impl Rejection {
    pub fn new(outcome: Outcome, error: ApiError) -> Rejection {
        Rejection { outcome, error }
    }
}

/// What became of a screened request. Either way it is on record as a webhook event.
#[derive(Debug)]
pub enum Ingested {
    /// Processed, duplicate or ignored: the event and its consequences are committed.
    Accepted(WebhookAnswer),
    /// Turned away; recorded as the event `event_id`.
    Rejected { rejection: Rejection, event_id: i64 },
}

/// The secret of an enabled source; unknown and unconfigured sources are both 404.
pub fn enabled_source(name: &str, secrets: &SourceSecrets) -> Result<(Source, String), Rejection> {
    let source = Source::parse(name);
    let secret = match source {
        Some(Source::Hashtag) => secrets.hashtag.clone(),
        Some(Source::Hotmart) => secrets.hotmart.clone(),
        Some(Source::Kiwify) => secrets.kiwify.clone(),
        Some(Source::Generic) => secrets.generic.clone(),
        Some(Source::Eduzz) => secrets.eduzz.clone(),
        Some(Source::Monetizze) => secrets.monetizze.clone(),
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

/// Records a screened request: a rejection as a rejected event, a parsed payload through the
/// group-commit writers (`batch`; a staff replay, or any webhook when `INGEST_WRITERS=0`, in a
/// transaction of its own). `Err` only when nothing could be committed: the database is unavailable (503), or an
/// internal failure (500; the request is then kept on record with the outcome `error`). Logs one
/// line per webhook and counts it in the metrics unless it is a staff replay (`replay_of`).
#[tracing::instrument(name = "ingest", skip_all, fields(source = received.source.as_str(), replay_of = replay_of))]
pub async fn ingest(
    state: &AppState,
    received: Received,
    screened: Result<Parsed, Rejection>,
    replay_of: Option<i64>,
    started: Instant,
) -> ApiResult<Ingested> {
    let source = received.source.clone();
    let result = match screened {
        // The hot path: through the group-commit writers (one transaction per batch). A customer given by
        // document only (no e-mail) is not: it must first be identified (`identity::identify`, else 422),
        // which `one_by_one` does before its transaction, as for every webhook there.
        Ok(parsed) if replay_of.is_none() && state.ingest.enabled() && !by_document_only(&parsed) => {
            state.ingest.submit(batch::Request { received, parsed, started }).await.map(Ingested::Accepted)
        }
        // Rejections, staff replays, and everything when the group commit is off: one by one.
        screened => one_by_one(state, received, screened, replay_of, started).await,
    };
    let latency = started.elapsed();
    match &result {
        Ok(Ingested::Accepted(answer)) => {
            log_line(&source, answer.outcome.as_str(), Some(answer.event_id), 200, latency, replay_of)
        }
        Ok(Ingested::Rejected { rejection, event_id }) => log_line(
            &source,
            rejection.outcome.as_str(),
            Some(*event_id),
            rejection.error.status.as_u16(),
            latency,
            replay_of,
        ),
        Err(e) => log_line(&source, Outcome::Error.as_str(), None, e.status.as_u16(), latency, replay_of),
    }
    result
}

/// The payload's customer came with a document and no e-mail (see `identity`).
fn by_document_only(parsed: &Parsed) -> bool {
    matches!(parsed, Parsed::Event(event) if event.customer.by_document_only())
}

/// Records a rejection, or ingests a parsed webhook in a transaction of its own.
async fn one_by_one(
    state: &AppState,
    received: Received,
    screened: Result<Parsed, Rejection>,
    replay_of: Option<i64>,
    started: Instant,
) -> ApiResult<Ingested> {
    let defaults = CourseDefaults { default_course_name: state.config.default_course_name.clone() };
    let span = tracing::Span::current();
    db::run(&state.pool, move |conn| {
        let _ingest = span.enter();
        Ok(match &screened {
            Err(rejection) => {
                let event_id = record::record_rejection(
                    conn,
                    &received,
                    rejection.outcome,
                    &rejection.error.message,
                    replay_of,
                    process::elapsed_ms(started),
                )?;
                Ingested::Rejected { rejection: rejection.clone(), event_id }
            }
            Ok(parsed) => match identity::identify(conn, parsed)? {
                // No e-mail and no single customer with the document: turned away, like a bad payload.
                Err(message) => {
                    let rejection = parse_rejection(ParseError::Unprocessable(message));
                    let event_id = record::record_rejection(
                        conn,
                        &received,
                        rejection.outcome,
                        &rejection.error.message,
                        replay_of,
                        process::elapsed_ms(started),
                    )?;
                    Ingested::Rejected { rejection, event_id }
                }
                Ok(parsed) => match process::ingest(conn, &received, &parsed, &defaults, replay_of, started) {
                    Ok(answer) => Ingested::Accepted(answer),
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
            },
        })
    })
    .await
}

/// A request refused before it was read (over the rate limit): logged and counted, never recorded.
pub fn log_rate_limited(source: &str, latency: Duration) {
    log_line(source, "rate_limited", None, 429, latency, None);
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
