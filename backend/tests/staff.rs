//! The staff API against a real PostgreSQL: search, profile, timeline, events, replay, treatments,
//! retry, CSV reports, stats and the live stream.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::*;
use diesel::prelude::*;
use portaria::schema::{audit_log, treatments};
use portaria::treatments::executor::PrintExecutor;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

macro_rules! call_json {
    ($app:expr, $req:expr) => {{
        let res = test::call_service($app, $req.to_request()).await;
        let status = res.status();
        (status, json(res).await)
    }};
}

#[actix_web::test]
async fn staff_routes_need_a_token() {
    let db = TestDb::new();
    let app = app!(db.state());
    let routes = [
        ("GET", "/api/customers"),
        ("GET", "/api/customers/1"),
        ("GET", "/api/customers/1/timeline"),
        ("GET", "/api/events"),
        ("GET", "/api/events/1"),
        ("POST", "/api/events/1/replay"),
        ("GET", "/api/treatments"),
        ("POST", "/api/treatments/1/retry"),
        ("GET", "/api/reports/customers.csv"),
        ("GET", "/api/reports/treatments.csv"),
        ("GET", "/api/reports/orders.csv"),
        ("GET", "/api/stats"),
        ("GET", "/api/stream"),
        ("GET", "/api/auth/me"),
    ];
    for (method, uri) in routes {
        let req = match method {
            "GET" => TestRequest::get(),
            _ => TestRequest::post(),
        };
        let res = test::call_service(&app, req.uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json(res).await["error"]["code"], "missing_token", "{method} {uri}");
    }
}

#[actix_web::test]
async fn search_is_accent_and_case_insensitive_and_ranked() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    for (name, email) in [
        ("João Ávila", "Joao.Avila@Example.com"),
        ("Maria Joana", "maria@example.com"),
        ("Ana", "joao.avila.filho@example.com"),
        ("Conceição Araújo", "cc@example.com"),
    ] {
        test::call_service(&app, webhook("hashtag", &simulator(name, email, "aprovado", 100.0)).to_request()).await;
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap().to_string()).collect()
    };
    let (status, body) = call_json!(&app, get("/api/customers?q=joao%20avi", &token));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), ["joao.avila@example.com"], "by accent-free partial name");
    let (_, body) = call_json!(&app, get("/api/customers?q=CONCEI%C3%87%C3%83O", &token));
    assert_eq!(names(&body), ["cc@example.com"]);
    let (_, body) = call_json!(&app, get("/api/customers?q=araujo", &token));
    assert_eq!(names(&body), ["cc@example.com"]);
    // exact e-mail first, then other e-mail prefixes, then the rest
    let (_, body) = call_json!(&app, get("/api/customers?q=joao.avila@example.com", &token));
    assert_eq!(names(&body)[0], "joao.avila@example.com");
    let (_, body) = call_json!(&app, get("/api/customers?q=joa", &token));
    let found = names(&body);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[2], "maria@example.com", "name matches rank after e-mail prefixes: {found:?}");
    // each row carries its access state
    let first = &body["items"][0];
    assert_eq!(first["access"], "active");
    assert_eq!(first["enrollments"][0]["status"], "active");
    assert!(first["last_activity_at"].is_string());
    // nothing found
    let (_, body) = call_json!(&app, get("/api/customers?q=zzzzzz", &token));
    assert!(body["items"].as_array().unwrap().is_empty());
    assert!(body["next_cursor"].is_null());
}

#[actix_web::test]
async fn search_finds_documents_with_or_without_punctuation() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    test::call_service(&app, webhook("hotmart", &fixture("hotmart/purchase_approved.json")).to_request()).await;
    let hotmart: Value = serde_json::from_str(&fixture("hotmart/purchase_approved.json")).unwrap();
    let doc = hotmart["data"]["buyer"]["document"].as_str().unwrap().to_string();
    let formatted = format!("{}.{}.{}-{}", &doc[0..3], &doc[3..6], &doc[6..9], &doc[9..11]);
    for q in [doc.clone(), formatted, doc[2..8].to_string()] {
        let (_, body) = call_json!(&app, get(&format!("/api/customers?q={q}"), &token));
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "q={q}");
    }
}

#[actix_web::test]
async fn pagination_has_no_gaps_or_repeats() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    for i in 0..23 {
        let body =
            simulator(&format!("Cliente {i}"), &format!("cliente{i}@exemplo.com.br"), "aprovado", 10.0 + f64::from(i));
        test::call_service(&app, webhook("hashtag", &body).to_request()).await;
    }
    for base in
        ["/api/customers?q=cliente&limit=5", "/api/customers?limit=5", "/api/events?limit=4", "/api/treatments?limit=7"]
    {
        let mut seen = HashSet::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let uri = match &cursor {
                Some(c) => format!("{base}&cursor={c}"),
                None => base.to_string(),
            };
            let (status, body) = call_json!(&app, get(&uri, &token));
            assert_eq!(status, StatusCode::OK, "{uri}: {body}");
            for item in body["items"].as_array().unwrap() {
                assert!(seen.insert(item["id"].as_i64().unwrap()), "repeat in {base}");
            }
            pages += 1;
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 50);
        }
        let expected = match base {
            b if b.starts_with("/api/treatments") => 46,
            _ => 23,
        };
        assert_eq!(seen.len(), expected, "{base}");
    }
    let (status, body) = call_json!(&app, get("/api/customers?cursor=garbage", &token));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cursor")));
    let (status, _) = call_json!(&app, get("/api/customers?limit=1000", &token));
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn a_nul_character_in_any_query_parameter_is_400_invalid_query() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    test::call_service(&app, webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 1.0)).to_request())
        .await;
    let uris = [
        "/api/customers?q=ab%00cd",
        "/api/customers?cursor=%00",
        "/api/events?q=ab%00cd",
        "/api/events?source=hash%00tag",
        "/api/events?outcome=%00",
        "/api/events?from=2026-11-23%00",
        "/api/treatments?q=ab%00cd",
        "/api/treatments?kind=grant%00",
        "/api/treatments?status=%00pending",
        "/api/reports/customers.csv?q=ab%00cd",
        "/api/reports/treatments.csv?q=ab%00cd",
        "/api/reports/orders.csv?q=ab%00cd",
        "/api/reports/orders.csv?source=%00&status=approved",
        // a NUL in a parameter's name
        "/api/customers?q%00=ana",
    ];
    for uri in uris {
        let (status, body) = call_json!(&app, get(uri, &token));
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")), "{uri}");
        assert!(body["error"]["message"].as_str().unwrap().contains("NUL"), "{uri}: {body}");
    }
    // the same searches without the NUL work
    let (status, body) = call_json!(&app, get("/api/customers?q=ana", &token));
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (status, body) = call_json!(&app, get("/api/events?q=ana", &token));
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

#[actix_web::test]
async fn filters_refuse_values_outside_their_vocabulary_empty_included() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    test::call_service(&app, webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 1.0)).to_request())
        .await;
    let refused = [
        ("/api/events?outcome=rejected", "rejected"),
        ("/api/events?outcome=Processed", "Processed"),
        ("/api/treatments?kind=grant", "grant"),
        ("/api/treatments?status=finished", "finished"),
        ("/api/reports/treatments.csv?kind=grant", "grant"),
        ("/api/reports/treatments.csv?status=finished", "finished"),
        ("/api/reports/orders.csv?source=paypal", "paypal"),
        ("/api/reports/orders.csv?status=paid", "paid"),
        // present but empty is not "any": the OpenAPI enum does not list it (the app leaves it out)
        ("/api/events?outcome=", ""),
        ("/api/treatments?kind=", ""),
        ("/api/treatments?status=", ""),
        ("/api/reports/treatments.csv?kind=", ""),
        ("/api/reports/orders.csv?source=", ""),
    ];
    for (uri, value) in refused {
        let (status, body) = call_json!(&app, get(uri, &token));
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")), "{uri}");
        assert!(body["error"]["message"].as_str().unwrap().contains(value), "{uri}: {body}");
    }
    for (uri, items) in [
        ("/api/events?outcome=processed", 1),
        ("/api/events?outcome=unknown_source", 0),
        ("/api/treatments?kind=grant_access&status=pending", 1),
        ("/api/treatments", 2),
        ("/api/treatments?status=failed", 0),
    ] {
        let (status, body) = call_json!(&app, get(uri, &token));
        assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(items)), "{uri}: {body}");
    }
    for uri in ["/api/reports/orders.csv?source=hashtag&status=approved", "/api/reports/orders.csv"] {
        let res = test::call_service(&app, get(uri, &token).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
    }
}

#[test]
fn check_constraints_refuse_text_outside_the_vocabulary() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let refused = [
        "INSERT INTO webhook_events (source, received_at, headers, raw_body, body_size, truncated, outcome) \
         VALUES ('hashtag', now(), '{}', '', 0, false, 'rejected')",
        "INSERT INTO webhook_events (source, received_at, headers, raw_body, body_size, truncated, outcome, kind) \
         VALUES ('hashtag', now(), '{}', '', 0, false, 'processed', 'paid')",
        "INSERT INTO webhook_events (source, received_at, headers, raw_body, body_size, truncated, outcome, note) \
         VALUES ('hashtag', now(), '{}', '', 0, false, 'processed', 'an English sentence')",
    ];
    for sql in refused {
        let e = diesel::sql_query(sql).execute(&mut conn).unwrap_err().to_string();
        assert!(e.contains("_check"), "{sql}: {e}");
    }
    // what the vocabulary holds is accepted, and an unknown URL source is still recorded verbatim
    diesel::sql_query(
        "INSERT INTO webhook_events (source, received_at, headers, raw_body, body_size, truncated, outcome, kind, note) \
         VALUES ('paypal', now(), '{}', '', 0, false, 'unknown_source', NULL, NULL), \
                ('hashtag', now(), '{}', '', 0, false, 'ignored', 'ignored', 'cart_abandoned')",
    )
    .execute(&mut conn)
    .unwrap();
    let customer: i64 = diesel::sql_query("INSERT INTO customers (email) VALUES ('ana@example.com') RETURNING id")
        .get_result::<Id>(&mut conn)
        .unwrap()
        .id;
    for (sql, ok) in [
        (format!("INSERT INTO orders (source, external_id, customer_id, status) VALUES ('hotmart', 'a', {customer}, 'new')"), true),
        (format!("INSERT INTO orders (source, external_id, customer_id, status) VALUES ('hotmart', 'b', {customer}, 'paid')"), false),
        (format!("INSERT INTO orders (source, external_id, customer_id, status) VALUES ('paypal', 'c', {customer}, 'approved')"), false),
        (format!("INSERT INTO treatments (kind, payload, customer_id) VALUES ('grant_access', '{{}}', {customer})"), true),
        (format!("INSERT INTO treatments (kind, payload, customer_id) VALUES ('send_gift', '{{}}', {customer})"), false),
        (format!("INSERT INTO treatments (kind, status, payload, customer_id) VALUES ('grant_access', 'finished', '{{}}', {customer})"), false),
        (format!("INSERT INTO treatments (kind, reason, payload, customer_id) VALUES ('grant_access', 'manual', '{{}}', {customer})"), true),
        (format!("INSERT INTO treatments (kind, reason, payload, customer_id) VALUES ('grant_access', 'because', '{{}}', {customer})"), false),
    ] {
        assert_eq!(diesel::sql_query(&sql).execute(&mut conn).is_ok(), ok, "{sql}");
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

#[actix_web::test]
async fn customer_profile_and_timeline_tell_what_happened() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let token = staff_token(&app).await;
    let approval = simulator("João Ávila", "joao@example.com", "aprovado", 297.0);
    let refund = simulator("João Ávila", "joao@example.com", "reembolsado", 297.0);
    let (_, a) = call_json!(&app, webhook("hashtag", &approval));
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    call_json!(&app, webhook("hashtag", &refund));
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let id = a["customer_id"].as_i64().unwrap();

    let (status, body) = call_json!(&app, get(&format!("/api/customers/{id}"), &token));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["customer"]["email"], "joao@example.com");
    assert_eq!(body["customer"]["name"], "João Ávila");
    assert_eq!(body["enrollments"][0]["status"], "revoked");
    assert!(body["enrollments"][0]["granted_at"].is_string() && body["enrollments"][0]["revoked_at"].is_string());
    assert_eq!(body["orders"][0]["amount_cents"], 29_700);
    assert_eq!(body["orders"][0]["status"], "refunded");

    let (_, body) = call_json!(&app, get(&format!("/api/customers/{id}/timeline"), &token));
    let items = body["items"].as_array().unwrap();
    let summary: Vec<String> = items
        .iter()
        .map(|i| match i["type"].as_str().unwrap() {
            "event" => format!("event:{}", i["event"]["kind"].as_str().unwrap()),
            _ => format!("{}:{}", i["treatment"]["kind"].as_str().unwrap(), i["treatment"]["status"].as_str().unwrap()),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "event:approved",
            "grant_access:done",
            "welcome_message:done",
            "event:refunded",
            "revoke_access:done",
            "refund_message:done"
        ]
    );
    assert_eq!(items[1]["treatment"]["output"], "Liberar acesso do e-mail: joao@example.com");
    assert_eq!(items[1]["treatment"]["event_id"], items[0]["event"]["id"]);

    let (status, body) = call_json!(&app, get("/api/customers/999999", &token));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = call_json!(&app, get("/api/customers/abc/timeline", &token));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn events_filters_detail_and_replay() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    let (_, processed) = call_json!(&app, webhook("hashtag", &simulator("Bia", "bia@example.com", "aprovado", 50.0)));
    call_json!(&app, webhook("hotmart", &fixture("hotmart/purchase_approved.json")));
    let (_, rejected) = call_json!(&app, TestRequest::post().uri("/webhooks/hashtag?token=errado").set_payload("{}"));
    let (_, unprocessable) = call_json!(&app, webhook("hashtag", r#"{"nome":"X","status":"aprovado","valor":1}"#));

    let count = |b: &Value| b["items"].as_array().unwrap().len();
    let (_, all) = call_json!(&app, get("/api/events", &token));
    assert_eq!(count(&all), 4);
    assert_eq!(all["items"][0]["id"], unprocessable["error"]["details"]["event_id"], "newest first");
    let (_, b) = call_json!(&app, get("/api/events?source=hotmart", &token));
    assert_eq!(count(&b), 1);
    let (_, b) = call_json!(&app, get("/api/events?outcome=unauthorized", &token));
    assert_eq!(count(&b), 1);
    let (_, b) = call_json!(&app, get("/api/events?q=bia@example", &token));
    assert_eq!(count(&b), 1);
    assert_eq!(b["items"][0]["customer_email"], "bia@example.com");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (_, b) = call_json!(&app, get(&format!("/api/events?from={today}&to={today}"), &token));
    assert_eq!(count(&b), 4);
    let (_, b) = call_json!(&app, get("/api/events?to=2001-01-01", &token));
    assert_eq!(count(&b), 0);
    let (status, _) = call_json!(&app, get("/api/events?from=ontem", &token));
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // the detail has the raw body and the headers, secrets masked
    let id = rejected["error"]["details"]["event_id"].as_i64().unwrap();
    let (status, d) = call_json!(&app, get(&format!("/api/events/{id}"), &token));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["outcome"], "unauthorized");
    assert_eq!(d["raw_body"], "{}");
    assert_eq!(d["body_json"], serde_json::json!({}));
    assert_eq!(d["headers"]["query"]["token"], "***");
    let pid = processed["event_id"].as_i64().unwrap();
    let (_, d) = call_json!(&app, get(&format!("/api/events/{pid}"), &token));
    assert_eq!(d["treatments"].as_array().unwrap().len(), 2);
    assert_eq!(d["body_json"]["nome"], "Bia");
    let (status, _) = call_json!(&app, get("/api/events/99999", &token));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // replays: a processed event comes back as a duplicate, pointing at both events
    let (status, r) = call_json!(&app, post(&format!("/api/events/{pid}/replay"), &token));
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "duplicate");
    assert_eq!(r["duplicate_of"], pid);
    let (_, d) = call_json!(&app, get(&format!("/api/events/{}", r["event_id"]), &token));
    assert_eq!(d["replay_of"], pid);
    // a never-authenticated event is not replayable; an unprocessable one is still unprocessable
    let (status, r) = call_json!(&app, post(&format!("/api/events/{id}/replay"), &token));
    assert_eq!((status, r["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_replayable")));
    let uid = unprocessable["error"]["details"]["event_id"].as_i64().unwrap();
    let (status, r) = call_json!(&app, post(&format!("/api/events/{uid}/replay"), &token));
    assert_eq!((status, r["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("replay_rejected")));
    assert_eq!(r["error"]["details"]["code"], "unprocessable");
    let (_, again) = call_json!(&app, get(&format!("/api/events/{}", r["error"]["details"]["event_id"]), &token));
    assert_eq!((again["outcome"].as_str(), again["replay_of"].as_i64()), (Some("unprocessable"), Some(uid)));
    // every replay is audited with the staff user
    let audited: Vec<(String, Option<i64>)> =
        audit_log::table.select((audit_log::action, audit_log::target_id)).load(&mut db.conn()).unwrap();
    assert_eq!(
        audited,
        [("replay_event".into(), Some(pid)), ("replay_event".into(), Some(id)), ("replay_event".into(), Some(uid))]
    );
}

#[actix_web::test]
async fn treatments_filters_and_retry() {
    let db = TestDb::new();
    let mut config = db.config();
    config.worker_max_attempts = 1;
    let state = db.state_with(config);
    let app = app!(state.clone());
    let token = staff_token(&app).await;
    call_json!(&app, webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 10.0)));
    call_json!(&app, webhook("hashtag", &simulator("Rui", "rui@example.com", "recusado", 10.0)));
    let failing = Arc::new(Recording {
        fail_kinds: vec![portaria::treatments::rules::TreatmentKind::WelcomeMessage],
        ..Default::default()
    });
    worker(&state, failing).drain().unwrap();

    let count = |b: &Value| b["items"].as_array().unwrap().len();
    let (_, b) = call_json!(&app, get("/api/treatments", &token));
    assert_eq!(count(&b), 3);
    assert_eq!(b["items"][0]["customer_email"], "rui@example.com");
    assert_eq!(b["items"][0]["course_name"], "Curso principal");
    let (_, b) = call_json!(&app, get("/api/treatments?kind=grant_access", &token));
    assert_eq!(count(&b), 1);
    let (_, b) = call_json!(&app, get("/api/treatments?status=dead", &token));
    assert_eq!(count(&b), 1);
    let dead = b["items"][0]["id"].as_i64().unwrap();
    assert_eq!(b["items"][0]["last_error"], "channel unavailable");
    let (_, b) = call_json!(&app, get("/api/treatments?q=RUI@", &token));
    assert_eq!(count(&b), 1);
    let (_, b) = call_json!(&app, get("/api/treatments?status=done", &token));
    assert_eq!(count(&b), 2);
    let done = b["items"][0]["id"].as_i64().unwrap();

    let (status, r) = call_json!(&app, post(&format!("/api/treatments/{dead}/retry"), &token));
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!((r["status"].as_str(), r["attempts"].as_i64()), (Some("pending"), Some(0)));
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let (status, r) = call_json!(&app, get("/api/treatments?status=done&kind=welcome_message", &token));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["items"][0]["output"], "Enviar mensagem de boas vindas para o email: ana@example.com");

    let (status, r) = call_json!(&app, post(&format!("/api/treatments/{done}/retry"), &token));
    assert_eq!((status, r["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_retryable")));
    let (status, _) = call_json!(&app, post("/api/treatments/424242/retry", &token));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let audited: i64 =
        audit_log::table.filter(audit_log::action.eq("retry_treatment")).count().get_result(&mut db.conn()).unwrap();
    assert_eq!(audited, 1);

    // "failed" = pending after a failed attempt
    diesel::update(treatments::table.find(dead))
        .set((
            treatments::status.eq("pending"),
            treatments::last_error.eq("timeout"),
            treatments::run_at.eq(chrono::Utc::now() + chrono::Duration::hours(1)),
        ))
        .execute(&mut db.conn())
        .unwrap();
    let (_, b) = call_json!(&app, get("/api/treatments?status=failed", &token));
    assert_eq!(count(&b), 1);
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // a small RFC 4180 reader for the assertions
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[actix_web::test]
async fn csv_reports_quote_and_defuse_formulas() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    let nasty = "=HYPERLINK(\"http://evil\",\"clique\")";
    for (name, email) in [
        (nasty, "formula@example.com"),
        ("Silva, \"Zé\"\nSegunda linha", "ze@example.com"),
        ("João", "joao@example.com"),
    ] {
        call_json!(&app, webhook("hashtag", &simulator(name, email, "aprovado", 1234.56)));
    }
    let res = test::call_service(&app, get("/api/reports/customers.csv", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(res.headers().get("content-disposition").unwrap().to_str().unwrap().contains("clientes.csv"));
    let text = String::from_utf8(test::read_body(res).await.to_vec()).expect("UTF-8");
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("\r\n"));
    let rows = csv_rows(&text);
    assert_eq!(rows[0][..3], ["id", "email", "name"]);
    assert_eq!(rows.len(), 4);
    let by_email = |e: &str| rows.iter().find(|r| r[1] == e).unwrap().clone();
    assert_eq!(by_email("formula@example.com")[2], format!("'{nasty}"), "formula defused");
    assert_eq!(by_email("ze@example.com")[2], "Silva, \"Zé\"\nSegunda linha", "quoted round trip");
    assert_eq!(by_email("joao@example.com")[2], "João");
    assert_eq!(by_email("joao@example.com")[5], "active");

    let res = test::call_service(&app, get("/api/reports/customers.csv?q=joao", &token).to_request()).await;
    assert_eq!(csv_rows(std::str::from_utf8(&test::read_body(res).await).unwrap()).len(), 2);

    let res = test::call_service(&app, get("/api/reports/orders.csv", &token).to_request()).await;
    let rows = csv_rows(std::str::from_utf8(&test::read_body(res).await).unwrap());
    assert_eq!(rows.len(), 4);
    let amount = rows[0].iter().position(|h| h == "amount_cents").unwrap();
    assert!(rows[1..].iter().all(|r| r[amount] == "123456"), "integer cents");

    let res = test::call_service(&app, get("/api/reports/treatments.csv?kind=grant_access", &token).to_request()).await;
    let rows = csv_rows(std::str::from_utf8(&test::read_body(res).await).unwrap());
    assert_eq!(rows.len(), 4);
    let res = test::call_service(&app, get("/api/reports/treatments.csv?from=nope", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn csv_reports_stream_past_one_batch() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    {
        use portaria::schema::customers;
        let rows: Vec<_> = (0..1203).map(|i| customers::email.eq(format!("massa{i}@example.com"))).collect();
        diesel::insert_into(customers::table).values(&rows).execute(&mut db.conn()).unwrap();
    }
    let res = test::call_service(&app, get("/api/reports/customers.csv", &token).to_request()).await;
    let rows = csv_rows(std::str::from_utf8(&test::read_body(res).await).unwrap());
    assert_eq!(rows.len(), 1204);
    let unique: HashSet<&String> = rows[1..].iter().map(|r| &r[1]).collect();
    assert_eq!(unique.len(), 1203);
}

#[actix_web::test]
async fn stats_count_today_and_the_last_30_days() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    call_json!(&app, webhook("hashtag", &simulator("A", "a@example.com", "aprovado", 1.0)));
    call_json!(&app, webhook("hashtag", &simulator("B", "b@example.com", "recusado", 1.0)));
    call_json!(&app, TestRequest::post().uri("/webhooks/hashtag").set_payload("{}"));
    let (status, s) = call_json!(&app, get("/api/stats", &token));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["today"]["events"], 3);
    assert_eq!(s["today"]["processed"], 2);
    assert_eq!(s["today"]["rejected"], 1);
    assert_eq!(s["today"]["new_customers"], 2);
    assert_eq!(s["today"]["treatments_pending"], 3);
    assert_eq!(s["totals"]["customers"], 2);
    assert_eq!(s["totals"]["active_enrollments"], 1);
    assert_eq!(s["events_by_outcome"]["processed"], 2);
    assert_eq!(s["events_by_outcome"]["unauthorized"], 1);
    assert_eq!(s["treatments_by_kind"]["grant_access"], 1);
    assert_eq!(s["treatments_by_status"]["pending"], 3);
    let daily = s["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[29]["events"], 3);
    assert_eq!(daily[29]["treatments"], 3);
}

#[actix_web::test]
async fn the_stream_delivers_an_event_posted_after_it_opened() {
    use actix_web::body::MessageBody;
    let db = TestDb::new();
    let state = db.state();
    portaria::notify::spawn_listener(db.url.clone(), state.bus.clone());
    let app = app!(state.clone());
    let token = staff_token(&app).await;
    let res = test::call_service(&app, get("/api/stream", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/event-stream");
    let mut body = Box::pin(res.into_body());
    let mut received = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut posted = None;
    while std::time::Instant::now() < deadline {
        if posted.is_none() && received.contains(": connected") {
            // give the LISTEN thread a moment, then post (again if needed) until the event shows
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let (_, a) =
                call_json!(&app, webhook("hashtag", &simulator("Ao Vivo", "aovivo@example.com", "aprovado", 9.9)));
            posted = Some(a["event_id"].as_i64().unwrap());
        }
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            std::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
        )
        .await;
        if let Ok(Some(Ok(bytes))) = next {
            received.push_str(&String::from_utf8_lossy(&bytes));
        }
        if let Some(id) = posted {
            if received.contains("event: webhook_event")
                && received.contains(&format!("\"id\":{id},"))
                && received.contains("event: treatment")
            {
                let data = received
                    .split("\n\n")
                    .find(|f| f.starts_with("event: webhook_event"))
                    .and_then(|f| f.lines().find_map(|l| l.strip_prefix("data: ")))
                    .unwrap();
                let v: Value = serde_json::from_str(data).unwrap();
                assert_eq!(v["outcome"], "processed");
                assert_eq!(v["customer_email"], "aovivo@example.com");
                return;
            }
        }
    }
    panic!("the stream did not deliver the event; got: {received}");
}

#[actix_web::test]
async fn search_reaches_past_the_recent_window() {
    use portaria::schema::customers;
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    // One old customer with a rare name, then 6000 newer ones; every 100th is a "Maria".
    diesel::insert_into(customers::table)
        .values((customers::email.eq("antiga@example.com"), customers::name.eq("Ondina Quaresma")))
        .execute(&mut db.conn())
        .unwrap();
    let rows: Vec<_> = (0..6000)
        .map(|i| {
            let name = if i % 100 == 0 { format!("Maria {i}") } else { format!("Cliente {i}") };
            (customers::email.eq(format!("c{i}@example.com")), customers::name.eq(name))
        })
        .collect();
    diesel::insert_into(customers::table).values(&rows).execute(&mut db.conn()).unwrap();

    let (_, body) = call_json!(&app, get("/api/customers?q=quaresma", &token));
    assert_eq!(body["items"][0]["email"], "antiga@example.com", "found beyond the newest 5000");

    // 60 Marias, spread across and beyond the window: 7 pages of 9 without gaps or repeats
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/customers?q=maria&limit=9&cursor={c}"),
            None => "/api/customers?q=maria&limit=9".to_string(),
        };
        let (_, body) = call_json!(&app, get(&uri, &token));
        seen.extend(body["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
}
