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

/// The frame for a signal (`None` when the row is gone).
async fn render(pool: Pool, signal: Signal) -> Option<String> {
    let rendered = web::block(move || -> Result<Option<String>, ApiError> {
        Ok(match signal {
            Signal::Event(id) => load_event(&pool, id)?
                .map(|e| frame("webhook_event", &format!("e{id}"), &serde_json::to_value(e).unwrap_or_default())),
            Signal::Treatment(id) | Signal::Queued(id) => load_treatment(&pool, id)?
                .map(|t| frame("treatment", &format!("t{id}"), &serde_json::to_value(t).unwrap_or_default())),
        })
    })
    .await;
    match rendered {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => {
            e.log_unanswered("live stream: loading an update");
            Some(format!(": error loading {signal:?}: {}\n\n", e.code))
        }
        Err(_) => None,
    }
}

/// Live stream of new webhook events (`event: webhook_event`, data: EventSummary) and treatment
/// changes (`event: treatment`, data: TreatmentView); a `: ping` comment every 15 s.
#[utoipa::path(
    tag = "stream",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[get("/api/stream")]
pub async fn stream(state: web::Data<AppState>, _auth: AuthUser) -> HttpResponse {
    let rx = state.bus.subscribe();
    let pool = state.pool.clone();
    let shutdown = state.shutdown.clone();
    let hello = futures_util::stream::once(async {
        Ok::<Bytes, actix_web::Error>(Bytes::from("retry: 3000\n: connected\n\n"))
    });
    let updates = futures_util::stream::unfold((rx, pool), move |(mut rx, pool)| {
        let shutdown = shutdown.clone();
        async move {
            loop {
                let next = tokio::select! {
                    // The server is stopping: end the stream (the browser reconnects to another replica).
                    _ = shutdown.wait() => return None,
                    signal = rx.recv() => signal,
                    _ = tokio::time::sleep(PING_EVERY) => {
                        return Some((Ok(Bytes::from(": ping\n\n")), (rx, pool)));
                    }
                };
                match next {
                    Ok(signal) => {
                        if let Some(text) = render(pool.clone(), signal).await {
                            return Some((Ok(Bytes::from(text)), (rx, pool)));
                        }
                    }
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
