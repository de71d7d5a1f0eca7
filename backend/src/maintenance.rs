//! Periodic housekeeping of each process: the rate limit's aggregate counts (every 10 s), the
//! retention of raw bodies (every 10 minutes, by processes that run workers) and the alert checks
//! (every minute, when `ALERT_WEBHOOK_URL` is set; replicas share the alert marks, so each condition
//! alerts once per window whichever process sees it first).

use crate::alerts::{self, Alerter};
use crate::config::Config;
use crate::db::Pool;
use crate::ingest::rate_limit::{self, WebhookRateLimit};
use crate::retention::{self, Retention};
use crate::shutdown::Shutdown;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_secs(10);
const RETENTION_EVERY: Duration = Duration::from_secs(600);

pub fn spawn(
    pool: Pool,
    limit: Arc<WebhookRateLimit>,
    retention: Option<Retention>,
    config: Arc<Config>,
    shutdown: Shutdown,
) {
    if config.alerts.webhook_url.is_some() || config.alerts.http.is_some() {
        let pool = pool.clone();
        let shutdown = shutdown.clone();
        actix_web::rt::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(alerts::CHECK_EVERY) => {}
                    _ = shutdown.wait() => return,
                }
                let (p, c) = (pool.clone(), config.clone());
                let checked = actix_web::rt::task::spawn_blocking(move || {
                    let Some(alerter) = Alerter::from_config(&c) else { return Ok(vec![]) };
                    let mut conn = p.get().map_err(|e| e.to_string())?;
                    alerter.check(&mut conn, Utc::now()).map_err(|e| e.to_string())
                })
                .await;
                match checked {
                    Ok(Ok(sent)) => {
                        for s in sent {
                            log::info!(
                                "alert {}: {}",
                                s.key,
                                if s.ok { "sent" } else { "not sent (retried next check)" }
                            );
                        }
                    }
                    Ok(Err(e)) => log::error!("alerts: {e}"),
                    Err(e) => log::error!("alerts: the check panicked: {e}"),
                }
            }
        });
    }
    {
        let pool = pool.clone();
        let shutdown = shutdown.clone();
        actix_web::rt::spawn(async move {
            loop {
                let stopping = tokio::select! {
                    _ = tokio::time::sleep(FLUSH_EVERY) => false,
                    _ = shutdown.wait() => true,
                };
                flush(&pool, &limit).await;
                if stopping {
                    return;
                }
            }
        });
    }
    if let Some(retention) = retention {
        actix_web::rt::spawn(async move {
            while !shutdown.is_triggered() {
                let p = pool.clone();
                let purged = actix_web::rt::task::spawn_blocking(move || {
                    let mut conn = p.get().map_err(|e| e.to_string())?;
                    retention::purge(&mut conn, retention, Utc::now()).map_err(|e| e.to_string())
                })
                .await;
                match purged {
                    Ok(Ok(n)) if n > 0 => log::info!("retention: emptied {n} raw webhook bodies"),
                    Ok(Err(e)) => log::error!("retention: {e}"),
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(RETENTION_EVERY) => {}
                    _ = shutdown.wait() => {}
                }
            }
        });
    }
}

/// Writes the counts of requests turned away since the last flush.
pub async fn flush(pool: &Pool, limit: &Arc<WebhookRateLimit>) {
    let counts = limit.take_counts();
    if counts.is_empty() {
        return;
    }
    for (source, addr, n) in &counts {
        log::warn!("rate limit: turned away {n} webhook request(s) for source {source:?} from {addr}");
    }
    let pool = pool.clone();
    let written = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        rate_limit::record(&mut conn, &counts, Utc::now()).map_err(|e| e.to_string())
    })
    .await;
    if let Ok(Err(e)) = written {
        log::error!("rate limit: cannot record the counts: {e}");
    }
}
