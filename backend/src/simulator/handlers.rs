//! `GET /api/simulator` and `POST /api/simulator/runs` (administrators).

use super::{queries, Catalog, DeliveryAnswer, RunAnswer, RunBody, SimulatedCustomer};
use crate::auth::AdminUser;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::simulate::{self, send};
use crate::state::AppState;
use actix_web::{get, post, web};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

fn off() -> ApiError {
    ApiError::not_found(ErrorCode::SimulatorOff, "The Simulador is turned off here (SIMULATOR_ENABLED=false).")
}

/// What the Simulador can play here: every source (whether enabled) and its scenarios.
#[utoipa::path(
    tag = "simulator",
    operation_id = "simulator_catalog",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sources and the scenarios each can play", body = Catalog),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The Simulador is turned off here (`simulator_off`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/simulator")]
pub async fn catalog(state: web::Data<AppState>, _admin: AdminUser) -> ApiResult<web::Json<Catalog>> {
    if !state.config.simulator_enabled {
        return Err(off());
    }
    Ok(web::Json(super::catalog(&state.config)))
}

/// Plays a scenario: signs its deliveries with this server's secrets and posts them, in order, to
/// this server's webhook endpoint over loopback (the real path: authentication, rate limit, ingest);
/// answers each delivery's status and outcome and the customers to open. Audited (`run_simulator`).
#[utoipa::path(
    tag = "simulator",
    operation_id = "run_simulator",
    request_body = RunBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent: every delivery's answer and the customers", body = RunAnswer),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The Simulador is turned off here (`simulator_off`)", body = ErrorBody),
        (status = 409, description = "The source is not enabled here (`source_off`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as JSON (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "No such source (`unknown_source`) or scenario (`unknown_scenario`), a scenario the source cannot play (`scenario_unsupported`), a bad `email` or `count` (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/simulator/runs")]
pub async fn run(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<RunBody>,
) -> ApiResult<web::Json<RunAnswer>> {
    if !state.config.simulator_enabled {
        return Err(off());
    }
    let now = chrono::Utc::now();
    let plan = super::plan_of(&body, &state.config, now, rand::random())?;
    let deliveries =
        simulate::plan(&plan, &state.config.sources).map_err(|e| ApiError::internal(format!("simulator plan: {e}")))?;
    let expected: Vec<_> = deliveries.iter().map(|d| (d.customer.clone(), d.expect.status, d.expect.outcome)).collect();
    let mut emails: Vec<String> = vec![];
    for email in deliveries.iter().filter_map(|d| d.customer.clone()) {
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    let url = match state.listening.get() {
        Some(addr) => super::loopback_url(*addr),
        None => super::loopback_url_of_bind(&state.config.bind),
    };
    // Paced under the webhook rate limit (per source and client address), so a normal run is never
    // turned away; a 429 from other traffic of the same address is sent again after Retry-After.
    let limit = state.config.webhook_rate_limit;
    let options = send::Options {
        url,
        concurrency: 1,
        rate: (limit > 0).then(|| f64::from(limit) * 0.8),
        timeout: Duration::from_secs(15),
        max_attempts_429: 5,
    };
    let secrets = state.config.sources.clone();
    let sent = web::block(move || {
        let sent = std::sync::Mutex::new(Vec::new());
        send::send_all(deliveries, &secrets, &options, &|s| sent.lock().expect("sent lock").push(s.clone()));
        sent.into_inner().expect("sent lock")
    })
    .await
    .map_err(|e| ApiError::internal(format!("simulator send: {e}")))?;
    // One thread, sequences in order: the answers come in sending order.
    let answers: Vec<DeliveryAnswer> = sent
        .into_iter()
        .zip(expected)
        .map(|(s, (customer, expected_status, expected_outcome))| {
            let (sequence, step) = super::split_label(&s.label);
            DeliveryAnswer {
                sequence,
                step,
                customer,
                status: s.status,
                outcome: if s.status.is_some() { s.outcome } else { "no_answer".into() },
                expected_status,
                expected_outcome,
                as_expected: s.as_expected,
            }
        })
        .collect();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for a in &answers {
        let status = a.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        *tally.entry(format!("{status} {}", a.outcome)).or_default() += 1;
    }
    let unexpected = answers.iter().filter(|a| !a.as_expected).count();
    let details = json!({
        "source": plan.source,
        "scenario": plan.scenario,
        "seed": plan.seed.to_string(),
        "count": plan.count,
        "email": plan.email,
        "sent": answers.len(),
        "answers": tally,
        "unexpected": unexpected,
        "customers": emails.iter().take(10).collect::<Vec<_>>(),
    });
    let actor = admin.id;
    let lookup = emails.clone();
    let ids = db::run(&state.pool, move |conn| {
        queries::finish_run(conn, actor, &lookup, details.clone()).map_err(ApiError::from)
    })
    .await?;
    let customers = emails.into_iter().map(|email| SimulatedCustomer { id: ids.get(&email).copied(), email }).collect();
    Ok(web::Json(RunAnswer {
        source: plan.source,
        scenario: plan.scenario,
        seed: plan.seed,
        count: plan.count,
        deliveries: answers,
        customers,
        unexpected,
    }))
}
