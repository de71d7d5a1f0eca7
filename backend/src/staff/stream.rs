//! `GET /api/stream`: Server-Sent Events of new webhook events and treatment changes. Signals come
//! from PostgreSQL LISTEN/NOTIFY, so an event received by any replica reaches every stream.

use super::queries;
use super::views::{EventSummary, TreatmentView};
use crate::auth::AuthUser;
use crate::db::Pool;
use crate::error::{ApiError, ErrorBody};
use crate::notify::Signal;
use crate::state::AppState;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const PING_EVERY: Duration = Duration::from_secs(15);

/// One SSE frame.
pub fn frame(event: &str, id: &str, data: &serde_json::Value) -> String {
    format!("event: {event}\nid: {id}\ndata: {data}\n\n")
}

fn load_event(pool: &Pool, id: i64) -> Result<Option<EventSummary>, ApiError> {
    let mut conn = pool.get()?;
    Ok(queries::events::summary(&mut conn, id)?)
}

fn load_treatment(pool: &Pool, id: i64) -> Result<Option<TreatmentView>, ApiError> {
    let mut conn = pool.get()?;
    Ok(queries::treatments::find(&mut conn, id)?)
}

/// What comes next on a stream.
enum Next {
    Frame(String),
    /// Nothing to send (the row is gone, or the blocking pool failed).
    Nothing,
    /// The user's session was ended (deactivated, password changed): the stream ends, and the browser's
    /// reconnection gets the 401 `session_revoked` that signs the app out.
    Revoked,
}

/// Whether the user's session still stands (a database hiccup does not end the stream).
fn session_stands(pool: &Pool, user: &AuthUser) -> bool {
    match pool.get() {
        Ok(mut conn) => crate::auth::extractor::still_valid(&mut conn, user).unwrap_or(true),
        Err(_) => true,
    }
}

/// A ping, unless the session was ended meanwhile.
async fn ping(pool: Pool, user: AuthUser) -> Next {
    match web::block(move || session_stands(&pool, &user)).await {
        Ok(false) => Next::Revoked,
        _ => Next::Frame(": ping\n\n".into()),
    }
}

/// The frame for a signal, for a user whose session still stands.
async fn render(pool: Pool, user: AuthUser, signal: Signal) -> Next {
    let rendered = web::block(move || -> Result<Option<String>, ApiError> {
        if !session_stands(&pool, &user) {
            return Err(ApiError::unauthorized(crate::error::ErrorCode::SessionRevoked, "session ended"));
        }
        Ok(match signal {
            Signal::Event(id) => load_event(&pool, id)?
                .map(|e| frame("webhook_event", &format!("e{id}"), &serde_json::to_value(e).unwrap_or_default())),
            Signal::Treatment(id) | Signal::Queued(id) => load_treatment(&pool, id)?
                .map(|t| frame("treatment", &format!("t{id}"), &serde_json::to_value(t).unwrap_or_default())),
        })
    })
    .await;
    match rendered {
        Ok(Ok(Some(frame))) => Next::Frame(frame),
        Ok(Ok(None)) | Err(_) => Next::Nothing,
        Ok(Err(e)) if e.code == crate::error::ErrorCode::SessionRevoked => Next::Revoked,
        Ok(Err(e)) => {
            e.log_unanswered("live stream: loading an update");
            Next::Frame(format!(": error loading {signal:?}: {}\n\n", e.code))
        }
    }
}

/// Live stream of new webhook events (`event: webhook_event`, data: EventSummary) and treatment
/// changes (`event: treatment`, data: TreatmentView); a `: ping` comment every 15 s. The stream ends as soon as
/// the user's session does (deactivated, password changed), before sending anything more.
#[utoipa::path(
    tag = "stream",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[get("/api/stream")]
pub async fn stream(state: web::Data<AppState>, auth: AuthUser) -> HttpResponse {
    let rx = state.bus.subscribe();
    let pool = state.pool.clone();
    let shutdown = state.shutdown.clone();
    let hello = futures_util::stream::once(async {
        Ok::<Bytes, actix_web::Error>(Bytes::from("retry: 3000\n: connected\n\n"))
    });
    let updates = futures_util::stream::unfold((rx, pool), move |(mut rx, pool)| {
        let shutdown = shutdown.clone();
        let user = auth.clone();
        async move {
            loop {
                let next = tokio::select! {
                    // The server is stopping: end the stream (the browser reconnects to another replica).
                    _ = shutdown.wait() => return None,
                    signal = rx.recv() => signal,
                    _ = tokio::time::sleep(PING_EVERY) => {
                        return match ping(pool.clone(), user).await {
                            Next::Frame(text) => Some((Ok(Bytes::from(text)), (rx, pool))),
                            _ => None,
                        };
                    }
                };
                match next {
                    Ok(signal) => match render(pool.clone(), user.clone(), signal).await {
                        Next::Frame(text) => return Some((Ok(Bytes::from(text)), (rx, pool))),
                        Next::Nothing => {}
                        Next::Revoked => return None,
                    },
                    Err(RecvError::Lagged(n)) => {
                        return Some((
                            Ok(Bytes::from(format!(": missed {n} updates; reload to catch up\n\n"))),
                            (rx, pool),
                        ));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(hello, updates))
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames() {
        let f = super::frame("treatment", "t1", &serde_json::json!({"id": 1}));
        assert_eq!(f, "event: treatment\nid: t1\ndata: {\"id\":1}\n\n");
    }
}
