//! The OpenAPI contract: every response status the document promises is produced by a real
//! request here (and nothing else is documented); a documented path called with another method is
//! 405 with `Allow`. Also: an internal failure during ingest leaves nothing half-written and still
//! records the request.

mod common;

use actix_web::test::{self, TestRequest};
use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// (method, documented path, status) of every documented response.
fn documented() -> BTreeSet<(String, String, u16)> {
    let doc = serde_json::to_value(portaria::openapi::document()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for status in op["responses"].as_object().unwrap().keys() {
                out.insert((method.to_uppercase(), path.clone(), status.parse().unwrap()));
            }
        }
    }
    out
}

#[actix_web::test]
async fn every_documented_status_is_reachable() {
    let db = TestDb::new();
    let mut config = db.config();
    config.login_max_failures = 1;
    config.webhook_body_limit = 4096;
    // nothing listens on port 9: the test send answers 200 with `ok: false`
    config.alerts.webhook_url = Some("http://127.0.0.1:9/alertas".into());
    let state = db.state_with(config);
    // the Simulador posts to the address the server listens on: nothing listens on port 9 (no answer)
    state.listening.set("127.0.0.1:9".parse().unwrap()).unwrap();
    let app = app!(state.clone());
    let token = staff_token(&app).await;
    let support = staff_token(&app).await;

    // data to point at
    let (ok_event, customer_id) = {
        let res = test::call_service(
            &app,
            webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 10.0)).to_request(),
        )
        .await;
        let b = json(res).await;
        (b["event_id"].as_i64().unwrap(), b["customer_id"].as_i64().unwrap())
    };
    let event_of = |res_body: &Value| res_body["error"]["details"]["event_id"].as_i64().unwrap();
    let res = test::call_service(&app, webhook("hashtag", "not json").to_request()).await;
    let invalid_event = event_of(&json(res).await);
    let res = test::call_service(
        &app,
        webhook("hashtag", r#"{"nome":"Sem E-mail","status":"aprovado","valor":1}"#).to_request(),
    )
    .await;
    let unprocessable_event = event_of(&json(res).await);
    let res =
        test::call_service(&app, TestRequest::post().uri("/webhooks/hashtag").set_payload("{}").to_request()).await;
    let unauthorized_event = event_of(&json(res).await);
    let done_treatment = {
        worker(&state, std::sync::Arc::new(portaria::treatments::executor::PrintExecutor)).drain().unwrap();
        use portaria::schema::treatments;
        treatments::table.select(treatments::id).first::<i64>(&mut db.conn()).unwrap()
    };
    let dead_treatment = {
        use portaria::schema::treatments;
        let id: i64 =
            treatments::table.select(treatments::id).order(treatments::id.desc()).first(&mut db.conn()).unwrap();
        diesel::update(treatments::table.find(id)).set(treatments::status.eq("dead")).execute(&mut db.conn()).unwrap();
        id
    };

    let frame_ticket = portaria::channels::preview::issue_ticket(
        &state.config.jwt_secret,
        portaria::treatments::rules::TreatmentKind::WelcomeMessage,
        chrono::Utc::now().timestamp(),
    );
    let signup = |email: &str, password: &str, invite: &str| {
        TestRequest::post()
            .uri("/api/auth/signup")
            .set_json(json!({"email": email, "password": password, "name": "N", "invite_token": invite}))
    };
    let login = |email: &str, password: &str, ip: &str| {
        TestRequest::post()
            .uri("/api/auth/login")
            .peer_addr(format!("{ip}:1234").parse().unwrap())
            .set_json(json!({"email": email, "password": password}))
    };
    test::call_service(&app, signup("dono@example.com", "senha-boa-1", INVITE).to_request()).await;
    test::call_service(&app, signup("inativo@example.com", "senha-boa-1", INVITE).to_request()).await;
    {
        use portaria::schema::users;
        diesel::update(users::table.filter(users::email.eq("inativo@example.com")))
            .set(users::active.eq(false))
            .execute(&mut db.conn())
            .unwrap();
    }
    // the team: a support user for the 403s, one whose role the admin changes, two who change their password
    let member = |email: &'static str| {
        let app = &app;
        async move {
            let body = json!({"email": email, "password": "senha-boa-1", "name": "N", "invite_token": INVITE});
            let res =
                test::call_service(app, TestRequest::post().uri("/api/auth/signup").set_json(body).to_request()).await;
            let id = json(res).await["id"].as_i64().unwrap();
            let body = json!({"email": email, "password": "senha-boa-1"});
            let res =
                test::call_service(app, TestRequest::post().uri("/api/auth/login").set_json(body).to_request()).await;
            (id, format!("Bearer {}", json(res).await["access_token"].as_str().unwrap()))
        }
    };
    let (helper, _) = member("ajuda@example.com").await;
    let (_, changer) = member("troca@example.com").await;
    let (_, guesser) = member("chuta@example.com").await;
    let admin_id =
        json(test::call_service(&app, get("/api/auth/me", &token).to_request()).await).await["id"].as_i64().unwrap();
    let patch = |id: i64, token: &str, body: &str, content_type: Option<&str>| {
        let req = TestRequest::patch()
            .uri(&format!("/api/users/{id}"))
            .insert_header(("Authorization", token.to_string()))
            .set_payload(body.to_string());
        match content_type {
            Some(t) => req.insert_header(("Content-Type", t.to_string())),
            None => req,
        }
    };
    let password = |token: &str, body: String, content_type: Option<&str>| {
        let req = post("/api/auth/password", token).set_payload(body);
        match content_type {
            Some(t) => req.insert_header(("Content-Type", t.to_string())),
            None => req,
        }
    };
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new}).to_string();

    let unauth = |m: &str, uri: &str| match m {
        "GET" => TestRequest::get().uri(uri),
        _ => TestRequest::post().uri(uri),
    };
    let raw = |uri: &str, content_type: Option<&str>, body: String| {
        let req = TestRequest::post().uri(uri).set_payload(body);
        match content_type {
            Some(t) => req.insert_header(("Content-Type", t.to_string())),
            None => req,
        }
    };
    let json_type = Some("application/json");
    let huge = || format!("{{\"email\": \"{}\"}}", "x".repeat(70 * 1024));
    // a replay whose payload is rejected again is a conflict, recorded as a new event
    let res = test::call_service(&app, post(&format!("/api/events/{invalid_event}/replay"), &token).to_request()).await;
    let b = json(res).await;
    assert_eq!(
        (b["error"]["code"].as_str(), b["error"]["details"]["code"].as_str()),
        (Some("replay_rejected"), Some("invalid_json"))
    );
    assert!(b["error"]["details"]["event_id"].as_i64().unwrap() > invalid_event, "{b}");

    // manual access: a 30-day course; ana gets access to it, bia's is revoked, a lifetime one for lifetime
    let (course_id, lifetime_course, no_access_course) = {
        use portaria::schema::courses;
        let mut conn = db.conn();
        let add = |conn: &mut PgConnection, slug: &str, days: Option<i32>| -> i64 {
            diesel::insert_into(courses::table)
                .values((courses::slug.eq(slug), courses::name.eq(slug), courses::access_days.eq(days)))
                .returning(courses::id)
                .get_result(conn)
                .unwrap()
        };
        (add(&mut conn, "curso-30", Some(30)), add(&mut conn, "vitalicio", None), add(&mut conn, "sem-acesso", None))
    };
    let access_uri = format!("/api/customers/{customer_id}/access");
    let welcome_uri = format!("/api/customers/{customer_id}/welcome");
    let bulk_uri = format!("/api/courses/{course_id}/enrollments/bulk");
    let grant = |course: i64| json!({"action": "grant", "course_id": course, "reason": "cortesia"});
    for course in [course_id, lifetime_course] {
        let res = test::call_service(&app, post(&access_uri, &token).set_json(grant(course)).to_request()).await;
        assert_eq!(res.status().as_u16(), 200);
    }
    let csv = |body: &str| post("/api/imports/access?dry_run=true", &token).set_payload(body.to_string());
    let good_csv = "nome;email;curso;expira_em\nAna;ana@example.com;curso-30;\n";
    let bad_csv = "nome;email;curso;expira_em\nAna;sem-arroba;curso-30;\n";
    // the catalog: a suporte, a course, mappings to change, to collide with and to delete
    let authed = |method: &str, uri: &str, token: &str| {
        let req = match method {
            "PATCH" => TestRequest::patch(),
            "DELETE" => TestRequest::delete(),
            "POST" => TestRequest::post(),
            _ => TestRequest::get(),
        };
        req.uri(uri).insert_header(("Authorization", token.to_string()))
    };
    let authed_raw = |method: &str, uri: &str, content_type: Option<&str>, body: String| {
        let req = authed(method, uri, &token).set_payload(body);
        match content_type {
            Some(t) => req.insert_header(("Content-Type", t.to_string())),
            None => req,
        }
    };
    let created = |res_body: Value| res_body["id"].as_i64().unwrap();
    let course = {
        let req = post("/api/courses", &token).set_json(json!({"name": "Curso", "access_days": 30}));
        created(json(test::call_service(&app, req.to_request()).await).await)
    };
    let mapping = |product: &str, offer: Option<&str>| {
        post("/api/products", &token).set_json(
            json!({"source": "kiwify", "external_product_id": product, "offer_code": offer, "course_ids": [course]}),
        )
    };
    let wide = created(json(test::call_service(&app, mapping("p1", None).to_request()).await).await);
    test::call_service(&app, mapping("p1", Some("vip")).to_request()).await;
    let doomed = created(json(test::call_service(&app, mapping("p2", None).to_request()).await).await);
    let course_uri = format!("/api/courses/{course}");
    let wide_uri = format!("/api/products/{wide}");
    let doomed_uri = format!("/api/products/{doomed}");

    // (method, documented path, expected status, request)
    let witnesses: Vec<(&str, &str, u16, TestRequest)> = vec![
        ("GET", "/healthz", 200, TestRequest::get().uri("/healthz")),
        ("GET", "/readyz", 200, TestRequest::get().uri("/readyz")),
        ("GET", "/metrics", 200, TestRequest::get().uri("/metrics")),
        ("POST", "/api/auth/signup", 201, signup("novo@example.com", "senha-boa-1", INVITE)),
        ("POST", "/api/auth/signup", 400, raw("/api/auth/signup", json_type, "{".into())),
        ("POST", "/api/auth/signup", 403, signup("outro@example.com", "senha-boa-1", "errado")),
        ("POST", "/api/auth/signup", 409, signup("NOVO@example.com", "senha-boa-1", INVITE)),
        ("POST", "/api/auth/signup", 413, raw("/api/auth/signup", json_type, huge())),
        ("POST", "/api/auth/signup", 415, raw("/api/auth/signup", None, "{}".into())),
        ("POST", "/api/auth/signup", 422, signup("sem-arroba", "senha-boa-1", INVITE)),
        ("POST", "/api/auth/login", 200, login("dono@example.com", "senha-boa-1", "10.1.1.1")),
        ("POST", "/api/auth/login", 400, raw("/api/auth/login", json_type, "\0".into())),
        ("POST", "/api/auth/login", 401, login("dono@example.com", "errada-123", "10.1.1.2")),
        ("POST", "/api/auth/login", 403, login("inativo@example.com", "senha-boa-1", "10.1.1.4")),
        ("POST", "/api/auth/login", 413, raw("/api/auth/login", json_type, huge())),
        ("POST", "/api/auth/login", 415, raw("/api/auth/login", Some("text/plain"), "{}".into())),
        ("POST", "/api/auth/login", 422, raw("/api/auth/login", json_type, r#"{"email": 1}"#.into())),
        ("POST", "/api/auth/login", 429, login("dono@example.com", "senha-boa-1", "10.1.1.3")),
        ("GET", "/api/auth/me", 200, get("/api/auth/me", &token)),
        ("GET", "/api/auth/me", 401, unauth("GET", "/api/auth/me")),
        ("POST", "/webhooks/{source}", 200, webhook("hashtag", &simulator("Bia", "bia@example.com", "recusado", 1.0))),
        ("POST", "/webhooks/{source}", 400, webhook("hashtag", "{")),
        ("POST", "/webhooks/{source}", 401, TestRequest::post().uri("/webhooks/hotmart").set_payload("{}")),
        ("POST", "/webhooks/{source}", 404, webhook("pagseguro", "{}")),
        ("POST", "/webhooks/{source}", 413, webhook("hashtag", &"x".repeat(5000))),
        ("POST", "/webhooks/{source}", 422, webhook("hashtag", r#"{"nome":"A"}"#)),
        ("GET", "/api/customers", 200, get("/api/customers?q=ana", &token)),
        ("GET", "/api/customers", 400, get("/api/customers?limit=0", &token)),
        ("GET", "/api/customers", 400, get("/api/customers?q=ab%00cd", &token)),
        ("GET", "/api/customers", 401, unauth("GET", "/api/customers")),
        ("GET", "/api/customers/{id}", 200, get(&format!("/api/customers/{customer_id}"), &token)),
        ("GET", "/api/customers/{id}", 401, unauth("GET", "/api/customers/1")),
        ("GET", "/api/customers/{id}", 404, get("/api/customers/999999", &token)),
        ("GET", "/api/customers/{id}/timeline", 200, get(&format!("/api/customers/{customer_id}/timeline"), &token)),
        ("GET", "/api/customers/{id}/timeline", 401, unauth("GET", "/api/customers/1/timeline")),
        ("GET", "/api/customers/{id}/timeline", 404, get("/api/customers/999999/timeline", &token)),
        ("GET", "/api/events", 200, get("/api/events?outcome=processed", &token)),
        ("GET", "/api/events", 400, get("/api/events?cursor=%%%", &token)),
        ("GET", "/api/events", 401, unauth("GET", "/api/events")),
        ("GET", "/api/events/{id}", 200, get(&format!("/api/events/{ok_event}"), &token)),
        ("GET", "/api/events/{id}", 401, unauth("GET", "/api/events/1")),
        ("GET", "/api/events/{id}", 404, get("/api/events/999999", &token)),
        ("POST", "/api/events/{id}/replay", 200, post(&format!("/api/events/{ok_event}/replay"), &token)),
        ("POST", "/api/events/{id}/replay", 401, unauth("POST", "/api/events/1/replay")),
        ("POST", "/api/events/{id}/replay", 404, post("/api/events/999999/replay", &token)),
        ("POST", "/api/events/{id}/replay", 409, post(&format!("/api/events/{unauthorized_event}/replay"), &token)),
        ("POST", "/api/events/{id}/replay", 409, post(&format!("/api/events/{unprocessable_event}/replay"), &token)),
        ("GET", "/api/treatments", 200, get("/api/treatments?status=failed", &token)),
        ("GET", "/api/treatments", 400, get("/api/treatments?to=amanha", &token)),
        ("GET", "/api/treatments", 401, unauth("GET", "/api/treatments")),
        ("POST", "/api/treatments/{id}/retry", 200, post(&format!("/api/treatments/{dead_treatment}/retry"), &token)),
        ("POST", "/api/treatments/{id}/retry", 401, unauth("POST", "/api/treatments/1/retry")),
        ("POST", "/api/treatments/{id}/retry", 404, post("/api/treatments/999999/retry", &token)),
        ("POST", "/api/treatments/{id}/retry", 409, post(&format!("/api/treatments/{done_treatment}/retry"), &token)),
        ("GET", "/api/reports/customers.csv", 200, get("/api/reports/customers.csv", &token)),
        ("GET", "/api/reports/customers.csv", 400, get("/api/reports/customers.csv?q=%00", &token)),
        ("GET", "/api/reports/customers.csv", 401, unauth("GET", "/api/reports/customers.csv")),
        ("GET", "/api/reports/treatments.csv", 200, get("/api/reports/treatments.csv", &token)),
        ("GET", "/api/reports/treatments.csv", 400, get("/api/reports/treatments.csv?from=x", &token)),
        ("GET", "/api/reports/treatments.csv", 401, unauth("GET", "/api/reports/treatments.csv")),
        ("GET", "/api/reports/orders.csv", 200, get("/api/reports/orders.csv?status=approved", &token)),
        ("GET", "/api/reports/orders.csv", 400, get("/api/reports/orders.csv?to=x", &token)),
        ("GET", "/api/reports/orders.csv", 401, unauth("GET", "/api/reports/orders.csv")),
        ("GET", "/api/stats", 200, get("/api/stats", &token)),
        ("GET", "/api/stats", 401, unauth("GET", "/api/stats")),
        ("GET", "/api/stream", 200, get("/api/stream", &token)),
        ("GET", "/api/stream", 401, unauth("GET", "/api/stream")),
        ("GET", "/api/users", 200, get("/api/users", &token)),
        ("GET", "/api/users", 401, unauth("GET", "/api/users")),
        ("GET", "/api/users", 403, get("/api/users", &support)),
        ("GET", "/api/mail/templates", 200, get("/api/mail/templates", &token)),
        ("GET", "/api/mail/templates", 401, unauth("GET", "/api/mail/templates")),
        ("GET", "/api/mail/templates", 403, get("/api/mail/templates", &support)),
        ("GET", "/api/mail/templates/{kind}/preview", 200, get("/api/mail/templates/welcome_message/preview", &token)),
        (
            "GET",
            "/api/mail/templates/{kind}/preview",
            401,
            unauth("GET", "/api/mail/templates/welcome_message/preview"),
        ),
        (
            "GET",
            "/api/mail/templates/{kind}/preview",
            403,
            get("/api/mail/templates/welcome_message/preview", &support),
        ),
        ("GET", "/api/mail/templates/{kind}/preview", 404, get("/api/mail/templates/grant_access/preview", &token)),
        (
            "GET",
            "/api/mail/templates/{kind}/frame",
            200,
            TestRequest::get().uri(&format!("/api/mail/templates/welcome_message/frame?ticket={frame_ticket}")),
        ),
        (
            "GET",
            "/api/mail/templates/{kind}/frame",
            401,
            TestRequest::get().uri("/api/mail/templates/welcome_message/frame"),
        ),
        (
            "GET",
            "/api/mail/templates/{kind}/frame",
            404,
            TestRequest::get().uri("/api/mail/templates/grant_access/frame?ticket=1.00"),
        ),
        ("PATCH", "/api/users/{id}", 200, patch(helper, &token, r#"{"role": "suporte"}"#, json_type)),
        ("PATCH", "/api/users/{id}", 400, patch(helper, &token, "{", json_type)),
        ("PATCH", "/api/users/{id}", 401, patch(helper, "Bearer x", "{}", json_type)),
        ("PATCH", "/api/users/{id}", 403, patch(helper, &support, r#"{"active": false}"#, json_type)),
        ("PATCH", "/api/users/{id}", 404, patch(999_999, &token, r#"{"active": false}"#, json_type)),
        ("PATCH", "/api/users/{id}", 409, patch(admin_id, &token, r#"{"active": false}"#, json_type)),
        ("PATCH", "/api/users/{id}", 413, patch(helper, &token, &huge(), json_type)),
        ("PATCH", "/api/users/{id}", 415, patch(helper, &token, "{}", Some("text/plain"))),
        ("PATCH", "/api/users/{id}", 422, patch(helper, &token, r#"{"role": "dono"}"#, json_type)),
        ("POST", "/api/auth/password", 400, password(&guesser, "{".into(), json_type)),
        ("POST", "/api/auth/password", 401, unauth("POST", "/api/auth/password")),
        ("POST", "/api/auth/password", 413, password(&guesser, huge(), json_type)),
        ("POST", "/api/auth/password", 415, password(&guesser, "{}".into(), None)),
        ("POST", "/api/auth/password", 422, password(&guesser, change("errada-123", "nova-senha-1"), json_type)),
        ("POST", "/api/auth/password", 429, password(&guesser, change("senha-boa-1", "nova-senha-1"), json_type)),
        ("POST", "/api/auth/password", 200, password(&changer, change("senha-boa-1", "nova-senha-1"), json_type)),
        ("GET", "/api/audit", 200, get("/api/audit?action=update_user&from=2026-01-01", &token)),
        ("GET", "/api/audit", 400, get("/api/audit?target_type=planet", &token)),
        ("GET", "/api/audit", 401, unauth("GET", "/api/audit")),
        ("GET", "/api/audit", 403, get("/api/audit", &support)),
        ("GET", "/api/settings", 200, get("/api/settings", &token)),
        ("GET", "/api/settings", 401, unauth("GET", "/api/settings")),
        ("GET", "/api/settings", 403, get("/api/settings", &support)),
        ("POST", "/api/settings/test/{channel}", 200, post("/api/settings/test/alert", &token)),
        ("POST", "/api/settings/test/{channel}", 401, unauth("POST", "/api/settings/test/alert")),
        ("POST", "/api/settings/test/{channel}", 403, post("/api/settings/test/alert", &support)),
        ("POST", "/api/settings/test/{channel}", 404, post("/api/settings/test/fax", &token)),
        ("POST", "/api/settings/test/{channel}", 409, post("/api/settings/test/email", &token)),
        (
            "POST",
            "/api/customers/{id}/access",
            200,
            post(&access_uri, &support)
                .set_json(json!({"action": "extend", "course_id": course_id, "days": 10, "reason": "atraso"})),
        ),
        (
            "POST",
            "/api/customers/{id}/access",
            400,
            raw(&access_uri, json_type, "{".into()).insert_header(("Authorization", token.clone())),
        ),
        ("POST", "/api/customers/{id}/access", 401, unauth("POST", &access_uri).set_json(grant(course_id))),
        (
            "POST",
            "/api/customers/{id}/access",
            404,
            post("/api/customers/999999/access", &token).set_json(grant(course_id)),
        ),
        ("POST", "/api/customers/{id}/access", 409, post(&access_uri, &token).set_json(grant(course_id))),
        (
            "POST",
            "/api/customers/{id}/access",
            409,
            post(&access_uri, &token)
                .set_json(json!({"action": "extend", "course_id": lifetime_course, "days": 3, "reason": "x"})),
        ),
        (
            "POST",
            "/api/customers/{id}/access",
            413,
            raw(&access_uri, json_type, huge()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/customers/{id}/access",
            415,
            raw(&access_uri, None, "{}".into()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/customers/{id}/access",
            422,
            post(&access_uri, &token).set_json(json!({"action": "grant", "course_id": course_id})),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            200,
            post(&welcome_uri, &support).set_json(json!({"course_id": course_id})),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            400,
            raw(&welcome_uri, json_type, "{".into()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            401,
            unauth("POST", &welcome_uri).set_json(json!({"course_id": course_id})),
        ),
        ("POST", "/api/customers/{id}/welcome", 404, post(&welcome_uri, &token).set_json(json!({"course_id": 999999}))),
        (
            "POST",
            "/api/customers/{id}/welcome",
            409,
            post(&welcome_uri, &token).set_json(json!({"course_id": no_access_course})),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            413,
            raw(&welcome_uri, json_type, huge()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            415,
            raw(&welcome_uri, None, "{}".into()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/customers/{id}/welcome",
            422,
            post(&welcome_uri, &token).set_json(json!({"reason": "sem curso"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            200,
            post(&format!("{bulk_uri}?dry_run=true"), &token).set_json(json!({"action": "revoke", "reason": "fim"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            400,
            post(&format!("{bulk_uri}?dry_run=x"), &token).set_json(json!({"action": "revoke", "reason": "fim"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            401,
            unauth("POST", &bulk_uri).set_json(json!({"action": "revoke", "reason": "fim"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            403,
            post(&bulk_uri, &support).set_json(json!({"action": "revoke", "reason": "fim"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            404,
            post("/api/courses/999999/enrollments/bulk", &token).set_json(json!({"action": "revoke", "reason": "fim"})),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            413,
            raw(&bulk_uri, json_type, huge()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            415,
            raw(&bulk_uri, None, "{}".into()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/courses/{id}/enrollments/bulk",
            422,
            post(&bulk_uri, &token).set_json(json!({"action": "revoke"})),
        ),
        ("POST", "/api/imports/access", 200, csv(good_csv)),
        ("POST", "/api/imports/access", 400, post("/api/imports/access?dry_run=x", &token).set_payload(good_csv)),
        ("POST", "/api/imports/access", 401, unauth("POST", "/api/imports/access").set_payload(good_csv)),
        ("POST", "/api/imports/access", 403, post("/api/imports/access", &support).set_payload(good_csv)),
        ("POST", "/api/imports/access", 413, csv(&"x".repeat(5 * 1024 * 1024 + 1))),
        ("POST", "/api/imports/access", 422, post("/api/imports/access", &token).set_payload(bad_csv)),
        ("GET", "/api/courses", 200, get("/api/courses", &support)),
        ("GET", "/api/courses", 401, unauth("GET", "/api/courses")),
        ("POST", "/api/courses", 201, post("/api/courses", &token).set_json(json!({"name": "Outro"}))),
        ("POST", "/api/courses", 400, authed_raw("POST", "/api/courses", json_type, "{".into())),
        ("POST", "/api/courses", 401, unauth("POST", "/api/courses")),
        ("POST", "/api/courses", 403, post("/api/courses", &support).set_json(json!({"name": "Outro"}))),
        ("POST", "/api/courses", 413, authed_raw("POST", "/api/courses", json_type, huge())),
        ("POST", "/api/courses", 415, authed_raw("POST", "/api/courses", None, "{}".into())),
        ("POST", "/api/courses", 422, post("/api/courses", &token).set_json(json!({"name": "", "access_days": 0}))),
        ("GET", "/api/courses/{id}", 200, get(&course_uri, &support)),
        ("GET", "/api/courses/{id}", 401, unauth("GET", "/api/courses/1")),
        ("GET", "/api/courses/{id}", 404, get("/api/courses/999999", &token)),
        (
            "PATCH",
            "/api/courses/{id}",
            200,
            authed("PATCH", &course_uri, &token).set_json(json!({"access_days": null})),
        ),
        ("PATCH", "/api/courses/{id}", 400, authed_raw("PATCH", &course_uri, json_type, "[".into())),
        ("PATCH", "/api/courses/{id}", 401, TestRequest::patch().uri("/api/courses/1").set_json(json!({}))),
        ("PATCH", "/api/courses/{id}", 403, authed("PATCH", &course_uri, &support).set_json(json!({"name": "X"}))),
        ("PATCH", "/api/courses/{id}", 404, authed("PATCH", "/api/courses/999999", &token).set_json(json!({}))),
        ("PATCH", "/api/courses/{id}", 413, authed_raw("PATCH", &course_uri, json_type, huge())),
        ("PATCH", "/api/courses/{id}", 415, authed_raw("PATCH", &course_uri, Some("text/plain"), "{}".into())),
        ("PATCH", "/api/courses/{id}", 422, authed("PATCH", &course_uri, &token).set_json(json!({"access_days": 0}))),
        ("GET", "/api/products", 200, get("/api/products?unmapped=true", &support)),
        ("GET", "/api/products", 400, get("/api/products?unmapped=sim", &token)),
        ("GET", "/api/products", 401, unauth("GET", "/api/products")),
        ("POST", "/api/products", 201, mapping("p3", None)),
        ("POST", "/api/products", 400, authed_raw("POST", "/api/products", json_type, "{".into())),
        ("POST", "/api/products", 401, unauth("POST", "/api/products")),
        (
            "POST",
            "/api/products",
            403,
            authed("POST", "/api/products", &support)
                .set_json(json!({"source": "kiwify", "external_product_id": "p9", "course_ids": [course]})),
        ),
        (
            "POST",
            "/api/products",
            404,
            mapping("p5", None)
                .set_json(json!({"source": "kiwify", "external_product_id": "p5", "course_ids": [999999]})),
        ),
        ("POST", "/api/products", 409, mapping("p1", Some("vip"))),
        ("POST", "/api/products", 413, authed_raw("POST", "/api/products", json_type, huge())),
        ("POST", "/api/products", 415, authed_raw("POST", "/api/products", None, "{}".into())),
        (
            "POST",
            "/api/products",
            422,
            mapping("p4", None).set_json(json!({"source": "kiwify", "external_product_id": "p4", "course_ids": []})),
        ),
        (
            "PATCH",
            "/api/products/{id}",
            200,
            authed("PATCH", &wide_uri, &token).set_json(json!({"course_ids": [course]})),
        ),
        ("PATCH", "/api/products/{id}", 400, authed_raw("PATCH", &wide_uri, json_type, "{".into())),
        ("PATCH", "/api/products/{id}", 401, TestRequest::patch().uri("/api/products/1").set_json(json!({}))),
        ("PATCH", "/api/products/{id}", 403, authed("PATCH", &wide_uri, &support).set_json(json!({}))),
        ("PATCH", "/api/products/{id}", 404, authed("PATCH", "/api/products/999999", &token).set_json(json!({}))),
        ("PATCH", "/api/products/{id}", 409, authed("PATCH", &wide_uri, &token).set_json(json!({"offer_code": "vip"}))),
        ("PATCH", "/api/products/{id}", 413, authed_raw("PATCH", &wide_uri, json_type, huge())),
        ("PATCH", "/api/products/{id}", 415, authed_raw("PATCH", &wide_uri, None, "{}".into())),
        ("PATCH", "/api/products/{id}", 422, authed("PATCH", &wide_uri, &token).set_json(json!({"course_ids": []}))),
        (
            "PATCH",
            "/api/products/{id}",
            404,
            authed("PATCH", &wide_uri, &token).set_json(json!({"course_ids": [999999]})),
        ),
        ("DELETE", "/api/products/{id}", 204, authed("DELETE", &doomed_uri, &token)),
        ("DELETE", "/api/products/{id}", 401, TestRequest::delete().uri("/api/products/1")),
        ("DELETE", "/api/products/{id}", 403, authed("DELETE", &wide_uri, &support)),
        ("DELETE", "/api/products/{id}", 404, authed("DELETE", &doomed_uri, &token)),
        // Simulador
        ("GET", "/api/simulator", 200, get("/api/simulator", &token)),
        ("GET", "/api/simulator", 401, unauth("GET", "/api/simulator")),
        ("GET", "/api/simulator", 403, get("/api/simulator", &support)),
        (
            "POST",
            "/api/simulator/runs",
            200,
            post("/api/simulator/runs", &token)
                .set_json(json!({"source": "kiwify", "scenario": "lifecycle", "email": "sim@example.com"})),
        ),
        (
            "POST",
            "/api/simulator/runs",
            400,
            raw("/api/simulator/runs", json_type, "{".into()).insert_header(("Authorization", token.clone())),
        ),
        ("POST", "/api/simulator/runs", 401, unauth("POST", "/api/simulator/runs")),
        (
            "POST",
            "/api/simulator/runs",
            403,
            post("/api/simulator/runs", &support).set_json(json!({"source": "kiwify", "scenario": "lifecycle"})),
        ),
        (
            "POST",
            "/api/simulator/runs",
            413,
            raw("/api/simulator/runs", json_type, huge()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/simulator/runs",
            415,
            raw("/api/simulator/runs", None, "{}".into()).insert_header(("Authorization", token.clone())),
        ),
        (
            "POST",
            "/api/simulator/runs",
            422,
            post("/api/simulator/runs", &token).set_json(json!({"source": "kiwify", "scenario": "lottery"})),
        ),
    ];

    let mut witnessed = BTreeSet::new();
    for (method, path, status, req) in witnesses {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        witnessed.insert((method.to_string(), path.to_string(), status));
    }
    // The Simulador turned off (404), and a source without its secret (409): their own apps.
    {
        let mut off = db.config();
        off.simulator_enabled = false;
        let off = app!(db.state_with(off));
        let mut no_kiwify = db.config();
        no_kiwify.sources.kiwify = None;
        let no_kiwify = app!(db.state_with(no_kiwify));
        let run = || post("/api/simulator/runs", &token).set_json(json!({"source": "kiwify", "scenario": "lifecycle"}));
        for (path, req) in [("/api/simulator", get("/api/simulator", &token)), ("/api/simulator/runs", run())] {
            let method = if path == "/api/simulator" { "GET" } else { "POST" };
            let res = test::call_service(&off, req.to_request()).await;
            assert_eq!(res.status().as_u16(), 404, "{method} {path} turned off");
            assert_eq!(json(res).await["error"]["code"], "simulator_off");
            witnessed.insert((method.to_string(), path.to_string(), 404));
        }
        let res = test::call_service(&no_kiwify, run().to_request()).await;
        assert_eq!(res.status().as_u16(), 409);
        assert_eq!(json(res).await["error"]["code"], "source_off");
        witnessed.insert(("POST".into(), "/api/simulator/runs".into(), 409));
    }
    // the ones that need a broken database are witnessed by the tests below
    witnessed.insert(("GET".into(), "/readyz".into(), 503));
    witnessed.insert(("POST".into(), "/webhooks/{source}".into(), 500));
    witnessed.extend(database_routes().into_iter().map(|(method, path, _)| (method.into(), path.into(), 503)));
    // Witnessed where they need their own set-up: a stalled body over a real socket (tests/stalled.rs)
    // and a rate-limited app (tests/limits.rs).
    witnessed.insert(("POST".into(), "/webhooks/{source}".into(), 408));
    witnessed.insert(("POST".into(), "/api/auth/signup".into(), 408));
    witnessed.insert(("POST".into(), "/api/auth/login".into(), 408));
    witnessed.insert(("POST".into(), "/api/auth/password".into(), 408));
    witnessed.insert(("PATCH".into(), "/api/users/{id}".into(), 408));
    for path in [
        "/api/customers/{id}/access",
        "/api/customers/{id}/welcome",
        "/api/courses/{id}/enrollments/bulk",
        "/api/imports/access",
    ] {
        witnessed.insert(("POST".into(), path.into(), 408));
    }
    witnessed.insert(("POST".into(), "/webhooks/{source}".into(), 429));
    // A stalled body over a real socket with a token (tests/catalog.rs).
    for (method, path) in [
        ("POST", "/api/courses"),
        ("PATCH", "/api/courses/{id}"),
        ("POST", "/api/products"),
        ("PATCH", "/api/products/{id}"),
    ] {
        witnessed.insert((method.into(), path.into(), 408));
    }
    // With METRICS_TOKEN set (tests/observability.rs).
    witnessed.insert(("GET".into(), "/metrics".into(), 401));

    let documented = documented();
    let undocumented: Vec<_> = witnessed.difference(&documented).collect();
    let unwitnessed: Vec<_> = documented.difference(&witnessed).collect();
    assert!(undocumented.is_empty(), "answers the OpenAPI document does not list: {undocumented:?}");
    assert!(unwitnessed.is_empty(), "documented answers no test produces: {unwitnessed:?}");
}

/// (method, documented path, request path) of every route that needs the database.
fn database_routes() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("POST", "/api/auth/signup", "/api/auth/signup"),
        ("POST", "/api/auth/login", "/api/auth/login"),
        ("GET", "/api/auth/me", "/api/auth/me"),
        ("POST", "/webhooks/{source}", "/webhooks/hashtag"),
        ("GET", "/api/customers", "/api/customers?q=ana"),
        ("GET", "/api/customers/{id}", "/api/customers/1"),
        ("GET", "/api/customers/{id}/timeline", "/api/customers/1/timeline"),
        ("GET", "/api/events", "/api/events"),
        ("GET", "/api/events/{id}", "/api/events/1"),
        ("POST", "/api/events/{id}/replay", "/api/events/1/replay"),
        ("GET", "/api/treatments", "/api/treatments"),
        ("POST", "/api/treatments/{id}/retry", "/api/treatments/1/retry"),
        ("GET", "/api/reports/customers.csv", "/api/reports/customers.csv"),
        ("GET", "/api/reports/treatments.csv", "/api/reports/treatments.csv"),
        ("GET", "/api/reports/orders.csv", "/api/reports/orders.csv"),
        ("GET", "/api/stats", "/api/stats"),
        ("POST", "/api/auth/password", "/api/auth/password"),
        ("GET", "/api/users", "/api/users"),
        ("PATCH", "/api/users/{id}", "/api/users/1"),
        ("GET", "/api/audit", "/api/audit"),
        ("POST", "/api/customers/{id}/access", "/api/customers/1/access"),
        ("POST", "/api/customers/{id}/welcome", "/api/customers/1/welcome"),
        ("POST", "/api/courses/{id}/enrollments/bulk", "/api/courses/1/enrollments/bulk"),
        ("POST", "/api/imports/access", "/api/imports/access"),
        ("GET", "/api/courses", "/api/courses"),
        ("GET", "/api/mail/templates", "/api/mail/templates"),
        ("GET", "/api/mail/templates/{kind}/preview", "/api/mail/templates/welcome_message/preview"),
        ("POST", "/api/courses", "/api/courses"),
        ("GET", "/api/courses/{id}", "/api/courses/1"),
        ("PATCH", "/api/courses/{id}", "/api/courses/1"),
        ("GET", "/api/products", "/api/products"),
        ("POST", "/api/products", "/api/products"),
        ("PATCH", "/api/products/{id}", "/api/products/1"),
        ("DELETE", "/api/products/{id}", "/api/products/1"),
        ("GET", "/api/settings", "/api/settings"),
        ("POST", "/api/settings/test/{channel}", "/api/settings/test/alert"),
        ("GET", "/api/simulator", "/api/simulator"),
        ("POST", "/api/simulator/runs", "/api/simulator/runs"),
    ]
}

#[actix_web::test]
async fn every_database_route_is_503_when_the_database_is_down() {
    use diesel::r2d2::Pool;
    // Nothing listens on port 1: every checkout fails (after a short wait) as in an outage.
    let url = "postgres://postgres@127.0.0.1:1/portaria_down";
    let pool = Pool::builder()
        .min_idle(Some(0))
        .connection_timeout(std::time::Duration::from_millis(200))
        .build_unchecked(portaria::db::Manager::new(url));
    let config = portaria::config::Config::for_tests(url);
    let jwt =
        portaria::auth::jwt::issue(1, "ana@example.com", 0, &config.jwt_secret, 600, chrono::Utc::now().timestamp())
            .unwrap();
    let token = format!("Bearer {jwt}");
    let app = app!(portaria::state::AppState::new(config, pool));
    for (method, path, uri) in database_routes() {
        let req = match (method, path) {
            ("POST", "/api/auth/signup") => TestRequest::post().uri(uri).set_json(
                json!({"email": "ana@example.com", "password": "senha-boa-1", "name": "Ana", "invite_token": INVITE}),
            ),
            ("POST", "/api/auth/login") => {
                TestRequest::post().uri(uri).set_json(json!({"email": "ana@example.com", "password": "senha-boa-1"}))
            }
            ("POST", "/webhooks/{source}") => webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 1.0)),
            ("POST", "/api/auth/password") => {
                post(uri, &token).set_json(json!({"current_password": "senha-boa-1", "new_password": "nova-senha-1"}))
            }
            // a valid JSON body, so the body extractor does not answer before the database is asked
            ("POST", "/api/customers/{id}/access") => {
                post(uri, &token).set_json(json!({"action": "grant", "course_id": 1, "reason": "x"}))
            }
            ("POST", "/api/customers/{id}/welcome") => post(uri, &token).set_json(json!({"course_id": 1})),
            ("POST", "/api/courses/{id}/enrollments/bulk") => {
                post(uri, &token).set_json(json!({"action": "revoke", "reason": "x"}))
            }
            ("POST", "/api/courses") => post(uri, &token).set_json(json!({"name": "Curso"})),
            ("POST", "/api/simulator/runs") => {
                post(uri, &token).set_json(json!({"source": "kiwify", "scenario": "lifecycle"}))
            }
            ("POST", "/api/products") => {
                post(uri, &token).set_json(json!({"source": "kiwify", "external_product_id": "p", "course_ids": [1]}))
            }
            ("PATCH", _) => {
                TestRequest::patch().uri(uri).insert_header(("Authorization", token.clone())).set_json(json!({}))
            }
            ("DELETE", _) => TestRequest::delete().uri(uri).insert_header(("Authorization", token.clone())),
            ("POST", _) => post(uri, &token),
            _ => get(uri, &token),
        };
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status().as_u16(), 503, "{method} {uri}");
        assert!(res.headers().get("retry-after").is_some(), "{method} {uri}: Retry-After");
        assert_eq!(json(res).await["error"]["code"], "database_unavailable", "{method} {uri}");
    }
}

#[actix_web::test]
async fn documented_paths_answer_405_with_allow_for_other_methods() {
    let db = TestDb::new();
    let app = app!(db.state());
    let doc = serde_json::to_value(portaria::openapi::document()).unwrap();
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut allowed: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        allowed.sort();
        // a concrete path: 1 for ids, hashtag for the source
        let uri = path.replace("{id}", "1").replace("{source}", "hashtag");
        for method in methods.iter().filter(|m| !allowed.iter().any(|a| a == *m)) {
            let req = TestRequest::default()
                .method(actix_web::http::Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&uri)
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status().as_u16(), 405, "{method} {uri}");
            let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
            assert_eq!(allow, Some(allowed.join(", ")), "{method} {uri}");
            if *method != "HEAD" {
                let body = json(res).await;
                assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {uri}");
                assert_eq!(body["error"]["details"]["allow"], json!(allowed), "{method} {uri}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 19 * 6, "every documented path was tried with every other method ({checked})");
    // unknown paths stay 404, whatever the method
    let res = test::call_service(&app, TestRequest::delete().uri("/api/nothing-here").to_request()).await;
    assert_eq!(res.status().as_u16(), 404);
}

#[actix_web::test]
async fn readyz_is_503_when_migrations_are_missing() {
    let db = TestDb::new();
    diesel::sql_query("DELETE FROM __diesel_schema_migrations").execute(&mut db.conn()).unwrap();
    let app = app!(db.state());
    let res = test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status().as_u16(), 503);
}

#[actix_web::test]
async fn an_internal_failure_is_500_with_nothing_half_written() {
    let db = TestDb::new();
    // Make the last write of the ingest transaction fail.
    diesel::sql_query(
        "CREATE FUNCTION fail_treatments() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$",
    )
    .execute(&mut db.conn())
    .unwrap();
    diesel::sql_query("CREATE TRIGGER t BEFORE INSERT ON treatments FOR EACH ROW EXECUTE FUNCTION fail_treatments()")
        .execute(&mut db.conn())
        .unwrap();
    let app = app!(db.state());
    let body = simulator("Ana", "ana@example.com", "aprovado", 10.0);
    let res = test::call_service(&app, webhook("hashtag", &body).to_request()).await;
    assert_eq!(res.status().as_u16(), 500);
    let b = json(res).await;
    assert_eq!(b["error"]["code"], "internal_error");
    assert!(!b.to_string().contains("disk on fire"), "internal details stay in the log");

    use portaria::schema::{customers, orders, webhook_events};
    let mut conn = db.conn();
    assert_eq!(customers::table.count().get_result::<i64>(&mut conn).unwrap(), 0, "rolled back");
    assert_eq!(orders::table.count().get_result::<i64>(&mut conn).unwrap(), 0, "rolled back");
    let outcomes: Vec<(String, Option<String>)> =
        webhook_events::table.select((webhook_events::outcome, webhook_events::dedup_key)).load(&mut conn).unwrap();
    assert_eq!(outcomes, [("error".to_string(), None)], "the request is still on record, without claiming its key");

    // once the database is healthy, the platform's retry is processed normally (not a duplicate)
    diesel::sql_query("DROP TRIGGER t ON treatments").execute(&mut conn).unwrap();
    let res = test::call_service(&app, webhook("hashtag", &body).to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(json(res).await["outcome"], "processed");
}
