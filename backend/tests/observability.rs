//! Observability (issue 9): `GET /metrics`, request ids, and the logs of the real binary
//! (`LOG_FORMAT=json`, text by default), which never show a query string.

mod common;

use actix_web::test::{call_service, read_body, TestRequest};
use common::cluster::free_port;
use common::server::{Server, Stdout};
use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// The value of the series `name{labels}` (labels exactly as rendered, sorted by name), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

async fn scrape<S, B>(app: &S, auth: Option<&str>) -> (u16, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let mut req = TestRequest::get().uri("/metrics");
    if let Some(auth) = auth {
        req = req.insert_header(("Authorization", auth.to_string()));
    }
    let res = call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    if status == 200 {
        let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_string();
        assert!(ct.starts_with("text/plain"), "{ct}");
    }
    (status, String::from_utf8(read_body(res).await.to_vec()).unwrap())
}

// Every scrape of this binary is in this one test: the outbox gauges are process-wide and each scrape
// sets them from its own database.
#[actix_web::test]
async fn metrics_name_every_series_and_move_with_webhooks_and_treatments() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());

    let (status, before) = scrape(&app, None).await;
    assert_eq!(status, 200, "open when METRICS_TOKEN is unset: {before}");
    for name in [
        "portaria_webhooks_total",
        "portaria_webhook_ingest_seconds_bucket",
        "portaria_treatment_executions_total",
        "portaria_treatment_execution_seconds_bucket",
        "portaria_outbox_due",
        "portaria_outbox_running",
        "portaria_outbox_oldest_due_age_seconds",
        "portaria_treatments_dead",
        "portaria_db_pool_connections",
        "portaria_database_up",
    ] {
        assert!(before.contains(&format!("\n{name}")), "{name} missing from:\n{before}");
    }
    assert_eq!(sample(&before, "portaria_database_up"), 1.0);
    assert_eq!(sample(&before, "portaria_outbox_due"), 0.0, "a fresh database has nothing due");

    let processed = r#"portaria_webhooks_total{outcome="processed",source="hashtag"}"#;
    let unauthorized = r#"portaria_webhooks_total{outcome="unauthorized",source="hotmart"}"#;
    let unknown = r#"portaria_webhooks_total{outcome="unknown_source",source="unknown"}"#;
    let hashtag_count = r#"portaria_webhook_ingest_seconds_count{source="hashtag"}"#;

    let body = simulator("Ana", "ana@example.com", "aprovado", 97.0);
    assert_eq!(call_service(&app, webhook("hashtag", &body).to_request()).await.status(), 200);
    let res = call_service(&app, TestRequest::post().uri("/webhooks/hotmart").set_payload("{}").to_request()).await;
    assert_eq!(res.status(), 401);
    // a made-up source is counted, but under `unknown`: the sender does not choose label values
    let res = call_service(&app, TestRequest::post().uri("/webhooks/x-made-up-1").set_payload("{}").to_request()).await;
    assert_eq!(res.status(), 404);

    let (_, after) = scrape(&app, None).await;
    assert_eq!(sample(&after, processed), sample(&before, processed) + 1.0);
    assert_eq!(sample(&after, unauthorized), sample(&before, unauthorized) + 1.0);
    assert_eq!(sample(&after, unknown), sample(&before, unknown) + 1.0);
    assert_eq!(sample(&after, hashtag_count), sample(&before, hashtag_count) + 1.0);
    assert!(!after.contains("x-made-up-1"));
    let due = sample(&after, "portaria_outbox_due");
    assert!(due >= 1.0, "the approved purchase left treatments due: {due}");
    assert!(sample(&after, "portaria_outbox_oldest_due_age_seconds") >= 0.0);

    // the worker executes them: counted by kind and result, and the outbox empties
    let done = |text: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("portaria_treatment_executions_total{") && l.contains(r#"result="done""#))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let w = worker(&state, Arc::new(Recording::default()));
    let ran = actix_web::web::block(move || w.drain()).await.unwrap().unwrap();
    assert!(ran >= 1);
    let (_, drained) = scrape(&app, None).await;
    assert_eq!(done(&drained), done(&after) + ran as f64);
    assert_eq!(sample(&drained, "portaria_outbox_due"), 0.0);
    assert_eq!(sample(&drained, "portaria_outbox_oldest_due_age_seconds"), 0.0);

    // with METRICS_TOKEN set: the bearer token or 401 (a staff JWT is not it)
    let mut config = db.config();
    config.metrics_token = Some("metrics-secret-0123456789".into());
    let guarded = app!(db.state_with(config));
    let staff = staff_token(&guarded).await;
    for auth in [None, Some("Bearer wrong"), Some("metrics-secret-0123456789"), Some(staff.as_str())] {
        let (status, body) = scrape(&guarded, auth).await;
        assert_eq!(status, 401, "{auth:?}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let (status, text) = scrape(&guarded, Some("Bearer metrics-secret-0123456789")).await;
    assert_eq!(status, 200);
    assert!(text.contains("portaria_webhooks_total"));
}

#[actix_web::test]
async fn every_answer_has_a_request_id_the_callers_when_sane() {
    let db = TestDb::new();
    let app = app!(db.state());

    // generated: a UUID, a new one each time, on any answer (here a 404 and a 200)
    let a = id_of(&call_service(&app, TestRequest::get().uri("/api/nope").to_request()).await);
    let b = id_of(&call_service(&app, TestRequest::get().uri("/healthz").to_request()).await);
    assert!(uuid::Uuid::parse_str(&a).is_ok() && uuid::Uuid::parse_str(&b).is_ok(), "{a} {b}");
    assert_ne!(a, b);

    // the caller's, echoed
    let res = call_service(
        &app,
        TestRequest::get().uri("/healthz").insert_header(("X-Request-Id", "lb-42.a_b:c")).to_request(),
    )
    .await;
    assert_eq!(id_of(&res), "lb-42.a_b:c");
    let res = call_service(
        &app,
        webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 1.0))
            .insert_header(("X-Request-Id", "abc-123"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(id_of(&res), "abc-123");

    // a hostile or oversized one is replaced, never echoed
    let long = "a".repeat(129);
    for hostile in ["x\" status=500 path=\"/admin", "two words", long.as_str(), "é"] {
        let res = call_service(
            &app,
            TestRequest::get().uri("/healthz").insert_header(("X-Request-Id", hostile)).to_request(),
        )
        .await;
        let id = id_of(&res);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{hostile:?} gave {id:?}");
    }
}

fn id_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    res.headers().get("x-request-id").expect("X-Request-Id").to_str().unwrap().to_string()
}

/// One HTTP/1.1 exchange on a fresh connection to the real server; returns the raw response.
fn http(port: u16, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

/// Starts the real binary with `LOG_FORMAT` (and `RUST_LOG=info`), sends one webhook whose token is in
/// the query string, stops it; returns its standard error.
fn serve_one_webhook(log_format: Option<&str>) -> String {
    let db = TestDb::new();
    let port = free_port();
    let mut extra = vec![("RUST_LOG", "info"), ("WORKER_CONCURRENCY", "0")];
    if let Some(format) = log_format {
        extra.push(("LOG_FORMAT", format));
    }
    let mut server = Server::spawn(&db.url, port, &Stdout::default(), &extra);
    assert!(server.wait_ready(Duration::from_secs(60)), "not ready:\n{}", server.log_tail(20));
    let body = simulator("Ana", "ana@example.com", "aprovado", 97.0);
    let response = http(
        port,
        &format!(
            "POST /webhooks/hashtag?token={HASHTAG_TOKEN}&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: req-obs-1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-request-id: req-obs-1"), "{response}");
    // the access line is written before the answer is sent
    let log = std::fs::read_to_string(&server.log).unwrap();
    server.kill();
    assert!(!log.contains(HASHTAG_TOKEN), "a query string reached the log:\n{log}");
    assert!(!log.contains("x=1"), "a query string reached the log:\n{log}");
    log
}

#[test]
fn log_format_json_writes_one_object_per_line_with_the_request_fields() {
    let log = serve_one_webhook(Some("json"));
    let lines: Vec<Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    for line in &lines {
        assert!(line["timestamp"].is_string() && line["level"].is_string() && line["target"].is_string(), "{line}");
    }
    let access = lines
        .iter()
        .find(|l| l["target"] == "portaria::access" && l["path"] == "/webhooks/hashtag")
        .unwrap_or_else(|| panic!("no access line:\n{log}"));
    assert_eq!(access["method"], "POST");
    assert_eq!(access["status"], 200);
    assert_eq!(access["request_id"], "req-obs-1");
    assert!(access["latency_ms"].as_f64().unwrap() >= 0.0);

    let hook =
        lines.iter().find(|l| l["target"] == "portaria::webhook").unwrap_or_else(|| panic!("no webhook line:\n{log}"));
    assert_eq!(hook["source"], "hashtag");
    assert_eq!(hook["outcome"], "processed");
    assert_eq!(hook["status"], 200);
    assert!(hook["event_id"].as_i64().unwrap() >= 1);
    // within the request's span (its id) and the ingest span
    let spans = hook["spans"].as_array().unwrap_or_else(|| panic!("no spans: {hook}"));
    assert!(spans.iter().any(|s| s["name"] == "request" && s["request_id"] == "req-obs-1"), "{hook}");
    assert!(spans.iter().any(|s| s["name"] == "ingest" && s["source"] == "hashtag"), "{hook}");
}

#[test]
fn text_logs_are_the_default_and_show_the_path_without_the_query() {
    let log = serve_one_webhook(None);
    assert!(log.lines().all(|l| serde_json::from_str::<Value>(l).is_err()), "text, not JSON:\n{log}");
    let access = log
        .lines()
        .find(|l| l.contains("portaria::access") && l.contains("/webhooks/hashtag"))
        .unwrap_or_else(|| panic!("no access line:\n{log}"));
    assert!(access.contains(r#"path="/webhooks/hashtag""#), "{access}");
    assert!(access.contains("status=200") && access.contains(r#"request_id="req-obs-1""#), "{access}");
    assert!(!log.contains('\u{1b}'), "no colour codes when stderr is not a terminal");
}

#[test]
fn an_unknown_log_format_is_refused_at_startup() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portaria"))
        .arg("openapi")
        .env("LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOG_FORMAT"));
}
