//! `GET /metrics`: Prometheus text exposition. Counters and histograms are updated where things
//! happen (webhooks, treatment executions); the outbox and pool gauges are read at scrape time with
//! one cheap query. Labels only take bounded values (known sources and kinds, else `unknown`).
//! Protection: open unless `METRICS_TOKEN` is set, then `Authorization: Bearer <METRICS_TOKEN>`.

use crate::db::{DbError, Pool};
use crate::error::ErrorCode;
use crate::error::{ApiError, ErrorBody};
use crate::ingest::event::Source;
use crate::state::AppState;
use crate::treatments::rules::TreatmentKind;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::OnceLock;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Seconds: webhooks answer in milliseconds, treatments call channels that may take seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How long a scrape waits for a database connection before reporting the database as down.
const SCRAPE_CHECKOUT: Duration = Duration::from_secs(2);

pub struct Metrics {
    registry: Registry,
    webhooks: IntCounterVec,
    ingest_seconds: HistogramVec,
    executions: IntCounterVec,
    execution_seconds: HistogramVec,
    outbox_due: IntGauge,
    outbox_running: IntGauge,
    outbox_oldest_due_seconds: Gauge,
    dead: IntGauge,
    pool: IntGaugeVec,
    database_up: IntGauge,
    ingest_batch: prometheus::Histogram,
}

impl Metrics {
    fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("portaria".into()), None)?;
        let latency = |name: &str, help: &str, labels: &[&str]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
        };
        let m = Metrics {
            webhooks: IntCounterVec::new(
                Opts::new("webhooks_total", "Webhook requests answered, by source and recorded outcome"),
                &["source", "outcome"],
            )?,
            ingest_seconds: latency(
                "webhook_ingest_seconds",
                "Time from the request's arrival to its answer, by source",
                &["source"],
            )?,
            executions: IntCounterVec::new(
                Opts::new(
                    "treatment_executions_total",
                    "Treatment executions by kind and result (done, retry: failed and rescheduled, dead: failed for the last time)",
                ),
                &["kind", "result"],
            )?,
            execution_seconds: latency(
                "treatment_execution_seconds",
                "Time the executor took for one treatment, by kind",
                &["kind"],
            )?,
            outbox_due: IntGauge::new("outbox_due", "Pending treatments whose time has come (read at scrape time)")?,
            outbox_running: IntGauge::new("outbox_running", "Treatments claimed by a worker (read at scrape time)")?,
            outbox_oldest_due_seconds: Gauge::new(
                "outbox_oldest_due_age_seconds",
                "How long the oldest due pending treatment has been waiting; 0 when none (read at scrape time)",
            )?,
            dead: IntGauge::new("treatments_dead", "Treatments that failed for the last time (read at scrape time)")?,
            pool: IntGaugeVec::new(
                Opts::new("db_pool_connections", "Database pool connections by state (in_use, idle)"),
                &["state"],
            )?,
            database_up: IntGauge::new("database_up", "1 when the last scrape could query the database, else 0")?,
            ingest_batch: prometheus::Histogram::with_opts(
                HistogramOpts::new("ingest_batch_webhooks", "Webhooks written per group-commit transaction")
                    .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
            )?,
            registry,
        };
        m.registry.register(Box::new(m.webhooks.clone()))?;
        m.registry.register(Box::new(m.ingest_seconds.clone()))?;
        m.registry.register(Box::new(m.executions.clone()))?;
        m.registry.register(Box::new(m.execution_seconds.clone()))?;
        m.registry.register(Box::new(m.outbox_due.clone()))?;
        m.registry.register(Box::new(m.outbox_running.clone()))?;
        m.registry.register(Box::new(m.outbox_oldest_due_seconds.clone()))?;
        m.registry.register(Box::new(m.dead.clone()))?;
        m.registry.register(Box::new(m.pool.clone()))?;
        m.registry.register(Box::new(m.database_up.clone()))?;
        m.registry.register(Box::new(m.ingest_batch.clone()))?;
        // Every known label value from the start: a series that exists at 0 makes `rate()` and alerts work
        // from the first increment.
        for source in Source::ALL {
            m.ingest_seconds.with_label_values(&[source.as_str()]);
        }
        for kind in TreatmentKind::ALL {
            m.execution_seconds.with_label_values(&[kind.as_str()]);
            for result in ["done", "retry", "dead"] {
                m.executions.with_label_values(&[kind.as_str(), result]);
            }
        }
        Ok(m)
    }

    /// The process's metrics.
    pub fn get() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(|| Metrics::new().expect("the metric definitions are valid"))
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec only fails on an invalid metric family, which the definitions above exclude.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// A source label: a known source's name, else `unknown` (the path is the sender's choice).
fn source_label(source: &str) -> &'static str {
    Source::parse(source).map(Source::as_str).unwrap_or("unknown")
}

/// Counts one answered webhook and its latency.
pub fn webhook(source: &str, outcome: &str, latency: Duration) {
    let m = Metrics::get();
    let source = source_label(source);
    m.webhooks.with_label_values(&[source, outcome]).inc();
    m.ingest_seconds.with_label_values(&[source]).observe(latency.as_secs_f64());
}

/// Observes the size of one group-commit batch (`ingest::batch`).
pub fn ingest_batch(webhooks: usize) {
    Metrics::get().ingest_batch.observe(webhooks as f64);
}

/// Counts one treatment execution: `result` is `done`, `retry` or `dead`.
pub fn treatment(kind: &str, result: &str, latency: Duration) {
    let m = Metrics::get();
    let kind = TreatmentKind::parse(kind).map(TreatmentKind::as_str).unwrap_or("unknown");
    m.executions.with_label_values(&[kind, result]).inc();
    m.execution_seconds.with_label_values(&[kind]).observe(latency.as_secs_f64());
}

#[derive(QueryableByName)]
struct Outbox {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    due: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    running: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    dead: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest_due_seconds: f64,
}

/// One query over the rows the `treatments_due` and `treatments_status` indexes cover.
const OUTBOX_QUERY: &str = "SELECT
    count(*) FILTER (WHERE status = 'pending' AND run_at <= now()) AS due,
    count(*) FILTER (WHERE status = 'running') AS running,
    count(*) FILTER (WHERE status = 'dead') AS dead,
    COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now())), 0)::float8
        AS oldest_due_seconds
  FROM treatments WHERE status IN ('pending', 'running', 'dead')";

/// Reads the gauges (blocking).
fn refresh(pool: &Pool) {
    let m = Metrics::get();
    let state = pool.state();
    let idle = i64::from(state.idle_connections);
    m.pool.with_label_values(&["idle"]).set(idle);
    m.pool.with_label_values(&["in_use"]).set(i64::from(state.connections) - idle);
    let outbox = pool
        .get_timeout(SCRAPE_CHECKOUT)
        .map_err(DbError::Pool)
        .and_then(|mut conn| Ok(diesel::sql_query(OUTBOX_QUERY).get_result::<Outbox>(&mut **conn)?));
    match outbox {
        Ok(o) => {
            m.outbox_due.set(o.due);
            m.outbox_running.set(o.running);
            m.dead.set(o.dead);
            m.outbox_oldest_due_seconds.set(o.oldest_due_seconds.max(0.0));
            m.database_up.set(1);
        }
        Err(e) => {
            tracing::warn!(target: "portaria::metrics", error = %e, "metrics scrape: the outbox gauges are stale");
            m.database_up.set(0);
        }
    }
}

/// Whether `req` may read the metrics.
fn authorized(req: &HttpRequest, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    given.as_bytes().ct_eq(token.as_bytes()).into()
}

/// Prometheus metrics (text exposition format 0.0.4). Open unless `METRICS_TOKEN` is set; then it
/// needs `Authorization: Bearer <METRICS_TOKEN>` (not a staff JWT). See docs/OPERATIONS.md.
#[utoipa::path(
    tag = "metrics",
    responses(
        (status = 200, description = "Every metric, in the Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "`METRICS_TOKEN` is set and the request does not carry it (`unauthorized`)", body = ErrorBody),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if !authorized(&req, state.config.metrics_token.as_deref()) {
        return Err(ApiError::unauthorized(
            ErrorCode::Unauthorized,
            "This endpoint needs Authorization: Bearer <METRICS_TOKEN>.",
        ));
    }
    let pool = state.pool.clone();
    // A failed blocking task leaves the gauges as they were; the counters are still worth serving.
    let _ = web::block(move || refresh(&pool)).await;
    Ok(HttpResponse::Ok().content_type(TextEncoder::new().format_type()).body(Metrics::get().render()))
}
