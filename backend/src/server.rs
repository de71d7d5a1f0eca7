//! `portaria serve`: configuration, database, migrations, the LISTEN thread, the worker, then the
//! HTTP server.

use crate::config::Config;
use crate::ingest::event::Source;
use crate::retention::Retention;
use crate::state::AppState;
use crate::treatments::worker::{self, Worker};
use crate::{app, body_deadline, channels, db, maintenance, notify, security_headers, settings, telemetry};
use actix_web::{middleware, App, HttpServer};
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("cannot listen on {bind}: {source}: set PORTARIA_BIND to a free host:port")]
    Bind { bind: String, source: std::io::Error },
    #[error("server: {0}")]
    Server(#[source] std::io::Error),
    #[error(transparent)]
    Channel(#[from] crate::channels::ChannelError),
}

pub async fn serve(config: Config) -> Result<(), ServeError> {
    let pool = db::connect(&config.database_url, config.database_pool_size)?;
    let applied = {
        let mut conn = pool.get().map_err(db::DbError::Pool)?;
        db::migrate(&mut conn)?
    };
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let bind = config.bind.clone();
    let cors_origins = config.cors_origins.clone();
    if config.dev {
        log::warn!("dev mode (PORTARIA_ENV=dev): development secrets in use; never run this in production");
    }
    let state = AppState::new(config, pool.clone());
    notify::spawn_listener(state.config.database_url.clone(), state.bus.clone());
    let c = &state.config;
    let router = channels::Router::new(channels::configured(c, &pool)?);
    let workers = worker::spawn(
        Worker {
            pool,
            executor: Arc::new(router),
            max_attempts: c.worker_max_attempts,
            lease: chrono::Duration::from_std(c.worker_lease).unwrap_or(chrono::Duration::seconds(60)),
            batch: c.worker_batch,
            shutdown: state.shutdown.clone(),
        },
        state.bus.clone(),
        c.worker_concurrency,
        c.worker_poll,
        Duration::from_secs(60),
        crate::treatments::sweep::Settings::from_config(c),
    );
    let retention = (c.worker_concurrency > 0)
        .then_some(Retention { rejected_days: c.retention_days_rejected, accepted_days: c.retention_days_raw });
    maintenance::spawn(
        state.pool.clone(),
        state.rate_limit.clone(),
        retention,
        state.config.clone(),
        state.shutdown.clone(),
    );
    let urls = webhook_urls(c);
    let server = {
        let state = state.clone();
        HttpServer::new(move || {
            App::new()
                .wrap(app::cors(&cors_origins))
                .wrap(middleware::from_fn(body_deadline::bound))
                .wrap(middleware::from_fn(security_headers::add))
                // The request's span, then (outermost) its id and its access line (path only: query
                // strings may carry webhook tokens and signatures).
                .wrap(telemetry::tracing_logger())
                .wrap(middleware::from_fn(telemetry::request))
                .configure(app::configure(state.clone()))
        })
    }
    // Signals are ours (below), so that live streams and workers stop together with the server.
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .bind(&bind)
    .map_err(|source| ServeError::Bind { bind: bind.clone(), source })?;
    if let Some(addr) = server.addrs().first() {
        let _ = state.listening.set(*addr);
    }
    let server = server.run();
    println!("Portaria listening on http://{bind} (staff app at http://{bind}/, API docs at http://{bind}/api/docs/)");
    if state.config.dev {
        println!("Webhook URLs (dev secrets; set HASHTAG_WEBHOOK_TOKEN etc. to change them):");
        for line in urls {
            println!("  {line}");
        }
    }
    println!("Channels:");
    for line in settings::channel_lines(&state.config) {
        println!("  {line}");
    }
    let handle = server.handle();
    let shutdown = state.shutdown.clone();
    actix_web::rt::spawn(async move {
        let signal = termination_signal().await;
        log::info!(
            "{signal}: stopping — finishing in-flight requests, ending live streams, releasing claimed treatments"
        );
        shutdown.trigger();
        handle.stop(true).await;
    });
    server.await.map_err(ServeError::Server)?;
    for worker in workers {
        let _ = worker.await;
    }
    log::info!("stopped");
    Ok(())
}

/// In-flight requests get this long to finish after SIGTERM before their connections are closed.
const SHUTDOWN_GRACE_SECS: u64 = 25;

/// SIGTERM (orchestrators, `docker stop`) or SIGINT (Ctrl-C).
async fn termination_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        },
        Err(e) => {
            log::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the server gracefully");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// The URL of each enabled source, to paste into a simulator (dev mode only: it shows secrets).
fn webhook_urls(config: &Config) -> Vec<String> {
    let base = format!("http://{}/webhooks", config.bind);
    let s = &config.sources;
    Source::ALL
        .into_iter()
        .filter_map(|source| {
            let line = match source {
                Source::Hashtag => format!("hashtag: {base}/hashtag?token={}", s.hashtag.as_ref()?),
                Source::Hotmart => {
                    format!("hotmart: {base}/hotmart  (header X-HOTMART-HOTTOK: {})", s.hotmart.as_ref()?)
                }
                Source::Kiwify => {
                    s.kiwify.as_ref()?;
                    format!(
                        "kiwify:  {base}/kiwify?signature=<HMAC-SHA1 hex of the body, keyed by KIWIFY_WEBHOOK_TOKEN>"
                    )
                }
                Source::Generic => {
                    s.generic.as_ref()?;
                    format!("generic: {base}/generic  (Standard Webhooks signature with GENERIC_WEBHOOK_SECRET)")
                }
                Source::Eduzz => {
                    s.eduzz.as_ref()?;
                    format!("eduzz:   {base}/eduzz  (header x-signature: HMAC-SHA256 hex of the body, keyed by EDUZZ_WEBHOOK_SECRET)")
                }
                Source::Monetizze => {
                    format!("monetizze: {base}/monetizze  (body field chave_unica={})", s.monetizze.as_ref()?)
                }
            };
            Some(line)
        })
        .collect()
}
