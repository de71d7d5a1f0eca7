//! Webhook ingestion end to end against a real PostgreSQL: every source, every rejection path,
//! deduplication under concurrency, out-of-order delivery, and the worker's output.

mod common;

use chrono::DurationRound;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::*;
use diesel::prelude::*;
use portaria::models::{Enrollment, Treatment, WebhookEvent};
use portaria::schema::{courses, customers, enrollments, orders, treatments, webhook_events};
use portaria::treatments::executor::PrintExecutor;
use serde_json::Value;
use std::sync::Arc;

fn events(db: &TestDb) -> Vec<WebhookEvent> {
    webhook_events::table.order(webhook_events::id).select(WebhookEvent::as_select()).load(&mut db.conn()).unwrap()
}

fn all_treatments(db: &TestDb) -> Vec<Treatment> {
    treatments::table.order(treatments::id).select(Treatment::as_select()).load(&mut db.conn()).unwrap()
}

fn kinds(answer: &Value) -> Vec<String> {
    answer["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn simulator_approval_then_refund_end_to_end() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());

    let res = test::call_service(&app, webhook("hashtag", &fixture("hashtag/approved.json")).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer = json(res).await;
    assert_eq!(answer["outcome"], "processed");
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    assert!(answer["treatments"].as_array().unwrap().iter().all(|t| t["status"] == "pending"));
    let customer_id = answer["customer_id"].as_i64().unwrap();

    let mut conn = db.conn();
    let (email, name): (String, Option<String>) =
        customers::table.find(customer_id).select((customers::email, customers::name)).first(&mut conn).unwrap();
    assert_eq!(email, "beatriz.teste@example.com", "e-mails are stored lower-cased");
    assert_eq!(name.as_deref(), Some("Beatriz Teste Gonçalves"));
    let (amount, status): (Option<i64>, String) =
        orders::table.select((orders::amount_cents, orders::status)).first(&mut conn).unwrap();
    assert_eq!(amount, Some(29_700), "valor in reais becomes cents");
    assert_eq!(status, "approved");
    let enrollment: Enrollment = enrollments::table.select(Enrollment::as_select()).first(&mut conn).unwrap();
    assert_eq!(enrollment.status, "active");
    let course: String = courses::table.find(enrollment.course_id).select(courses::name).first(&mut conn).unwrap();
    assert_eq!(course, "Curso principal");

    // the worker executes them and records the printed line
    let done = worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    assert_eq!(done, 2);
    let outputs: Vec<(String, Option<String>)> =
        all_treatments(&db).into_iter().map(|t| (t.status.to_string(), t.output)).collect();
    assert_eq!(
        outputs,
        [
            ("done".to_string(), Some("Liberar acesso do e-mail: beatriz.teste@example.com".to_string())),
            (
                "done".to_string(),
                Some("Enviar mensagem de boas vindas para o email: beatriz.teste@example.com".to_string())
            ),
        ]
    );

    // the refund of the same purchase revokes
    let res = test::call_service(&app, webhook("hashtag", &fixture("hashtag/refunded.json")).to_request()).await;
    let answer = json(res).await;
    assert_eq!(answer["outcome"], "processed");
    assert_eq!(kinds(&answer), ["revoke_access", "refund_message"]);
    assert_eq!(answer["customer_id"], customer_id);
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let last = all_treatments(&db);
    assert_eq!(last[2].output.as_deref(), Some("Tirar acesso do e-mail: beatriz.teste@example.com"));
    let enrollment: Enrollment = enrollments::table.select(Enrollment::as_select()).first(&mut db.conn()).unwrap();
    assert_eq!(enrollment.status, "revoked");
    assert!(enrollment.revoked_at.is_some());

    // every request left exactly one row, with its latency
    let evs = events(&db);
    assert_eq!(evs.len(), 2);
    assert!(evs
        .iter()
        .all(|e| e.outcome == "processed" && e.latency_ms.is_some() && e.customer_id == Some(customer_id)));
    assert_eq!(evs[0].kind.map(|v| v.as_str()), Some("approved"));
    assert_eq!(evs[1].kind.map(|v| v.as_str()), Some("refunded"));
}

#[actix_web::test]
async fn the_four_original_lines_and_the_simulator_samples() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let samples: Vec<Value> = serde_json::from_str(&fixture("hashtag/simulator-20.json")).unwrap();
    assert_eq!(samples.len(), 20);
    for (i, body) in samples.iter().enumerate() {
        // the simulator sends no Content-Type, or a wrong one
        let mut req = webhook("hashtag", &body.to_string());
        if i % 2 == 0 {
            req = req.insert_header(("Content-Type", "text/plain"));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "sample {i}");
        assert_eq!(json(res).await["outcome"], "processed", "sample {i}");
    }
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let outputs: Vec<String> = all_treatments(&db).into_iter().filter_map(|t| t.output).collect();
    let approved = samples.iter().filter(|s| s["status"] == "aprovado").count();
    let refused = samples.iter().filter(|s| s["status"] == "recusado").count();
    assert_eq!(outputs.iter().filter(|o| o.starts_with("Liberar acesso do e-mail: ")).count(), approved);
    assert_eq!(
        outputs.iter().filter(|o| o.starts_with("Enviar mensagem de boas vindas para o email: ")).count(),
        approved
    );
    assert_eq!(
        outputs.iter().filter(|o| o.starts_with("Enviar mensagem de pagamento recusado para o email: ")).count(),
        refused
    );
    // the refunds in the samples are of purchases never approved here: they revoke nothing
    assert_eq!(outputs.iter().filter(|o| o.starts_with("Tirar acesso do e-mail: ")).count(), 0);
    // every line names the e-mail lower-cased
    for o in &outputs {
        let email = o.rsplit(": ").next().unwrap();
        assert_eq!(email, email.to_lowercase(), "{o}");
    }
}

#[actix_web::test]
async fn every_rejection_is_recorded_with_its_outcome() {
    let db = TestDb::new();
    let mut config = db.config();
    config.webhook_body_limit = 8192;
    config.sources.kiwify = None; // a disabled source
    let app = app!(db.state_with(config));
    let good = fixture("hashtag/approved.json");

    let cases: Vec<(TestRequest, StatusCode, &str)> = vec![
        (
            TestRequest::post().uri("/webhooks/hashtag").set_payload(good.clone()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            TestRequest::post().uri("/webhooks/hashtag?token=wrong").set_payload(good.clone()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            TestRequest::post()
                .uri("/webhooks/hashtag")
                .insert_header(("X-Webhook-Token", "test-hashtag-TOKEN"))
                .set_payload(good.clone()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (webhook("hashtag", "{\"nome\": \"x\", "), StatusCode::BAD_REQUEST, "invalid_json"),
        (webhook("hashtag", "nome=x&email=y"), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            webhook("hashtag", r#"{"nome":"A","email":"a@b.com","status":"aprovado","valor":"muito"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        (
            webhook("hashtag", r#"{"nome":"A","status":"aprovado","valor":1}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        (
            webhook("hashtag", &format!(r#"{{"pad":"{}"}}"#, "x".repeat(10_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (webhook("stripe", &good), StatusCode::NOT_FOUND, "unknown_source"),
        (webhook("kiwify", &fixture("kiwify/order_approved.json")), StatusCode::NOT_FOUND, "unknown_source"),
        (
            webhook("hotmart", &fixture("hotmart/purchase_approved.json")).insert_header(("X-HOTMART-HOTTOK", "wrong")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    let n = cases.len();
    for (i, (req, status, outcome)) in cases.into_iter().enumerate() {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status, "case {i}");
        let body = json(res).await;
        assert_eq!(body["error"]["code"], outcome, "case {i}: {body}");
        let event_id = body["error"]["details"]["event_id"].as_i64().expect("the answer names the recorded event");
        let ev: WebhookEvent =
            webhook_events::table.find(event_id).select(WebhookEvent::as_select()).first(&mut db.conn()).unwrap();
        assert_eq!(ev.outcome, outcome, "case {i}");
        assert!(ev.error.is_some(), "case {i}");
    }
    let evs = events(&db);
    assert_eq!(evs.len(), n, "one row per request");
    // nothing was processed
    assert_eq!(customers::table.count().get_result::<i64>(&mut db.conn()).unwrap(), 0);
    assert_eq!(treatments::table.count().get_result::<i64>(&mut db.conn()).unwrap(), 0);
    // the oversized body is kept truncated, with its real size
    let big = evs.iter().find(|e| e.outcome == "payload_too_large").unwrap();
    assert!(big.truncated && big.raw_body.len() <= 8192 && big.body_size > 10_000);
    // secrets are never stored
    for e in &evs {
        assert!(!e.headers.to_string().contains("wrong") || e.headers.to_string().contains("***"));
        assert!(!e.headers.to_string().contains(HASHTAG_TOKEN) && !e.headers.to_string().contains(HOTTOK));
    }
}

#[actix_web::test]
async fn a_repeat_is_a_duplicate_pointing_at_the_original() {
    let db = TestDb::new();
    let app = app!(db.state());
    let body = fixture("hashtag/approved.json");
    let first = json(test::call_service(&app, webhook("hashtag", &body).to_request()).await).await;
    let second = json(test::call_service(&app, webhook("hashtag", &body).to_request()).await).await;
    assert_eq!(second["outcome"], "duplicate");
    assert_eq!(second["duplicate_of"], first["event_id"]);
    assert_eq!(second["customer_id"], first["customer_id"]);
    assert!(second["treatments"].as_array().unwrap().is_empty());
    assert_eq!(all_treatments(&db).len(), 2);
    assert_eq!(events(&db).len(), 2);
}

#[actix_web::test]
async fn twenty_concurrent_copies_make_one_event() {
    let db = TestDb::new();
    let app = app!(db.state());
    let body = fixture("hotmart/purchase_approved.json");
    let calls = (0..20).map(|_| test::call_service(&app, webhook("hotmart", &body).to_request()));
    let answers = futures_util::future::join_all(calls).await;
    let mut outcomes = vec![];
    for res in answers {
        assert_eq!(res.status(), StatusCode::OK);
        outcomes.push(json(res).await["outcome"].as_str().unwrap().to_string());
    }
    assert_eq!(outcomes.iter().filter(|o| *o == "processed").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 19, "{outcomes:?}");
    assert_eq!(all_treatments(&db).len(), 2, "one set of treatments");
    assert_eq!(events(&db).len(), 20);
}

#[actix_web::test]
async fn out_of_order_refund_then_approval_grants_nothing() {
    let db = TestDb::new();
    let app = app!(db.state());
    let refund = json(
        test::call_service(&app, webhook("hotmart", &fixture("hotmart/purchase_refunded.json")).to_request()).await,
    )
    .await;
    assert_eq!(refund["outcome"], "processed");
    assert!(refund["treatments"].as_array().unwrap().is_empty());
    let approval = json(
        test::call_service(&app, webhook("hotmart", &fixture("hotmart/purchase_approved.json")).to_request()).await,
    )
    .await;
    assert_eq!(approval["outcome"], "processed");
    assert!(approval["treatments"].as_array().unwrap().is_empty());
    assert_eq!(approval["note"], "approval_after_reversal");
    assert_eq!(enrollments::table.count().get_result::<i64>(&mut db.conn()).unwrap(), 0);
    let status: String = orders::table.select(orders::status).first(&mut db.conn()).unwrap();
    assert_eq!(status, "refunded");
    let ev = events(&db);
    assert_eq!(ev[1].note.map(|v| v.as_str()), Some("approval_after_reversal"));
}

#[actix_web::test]
async fn a_second_approval_of_an_active_enrollment_grants_nothing() {
    let db = TestDb::new();
    let app = app!(db.state());
    let first =
        json(test::call_service(&app, webhook("generic", &fixture("generic/approved.json")).to_request()).await).await;
    assert_eq!(kinds(&first), ["grant_access", "welcome_message"]);
    // the same order approved again under another delivery id
    let again = test::call_service(
        &app,
        generic_headers("msg_other", &fixture("generic/approved.json"), chrono::Utc::now().timestamp())
            .into_iter()
            .fold(TestRequest::post().uri("/webhooks/generic"), |r, h| r.insert_header(h))
            .set_payload(fixture("generic/approved.json"))
            .to_request(),
    )
    .await;
    let again = json(again).await;
    assert_eq!(again["outcome"], "processed");
    assert!(again["treatments"].as_array().unwrap().is_empty());
}

struct Case {
    source: &'static str,
    fixture: &'static str,
    outcome: &'static str,
    kinds: &'static [&'static str],
}

const fn case(
    source: &'static str,
    fixture: &'static str,
    outcome: &'static str,
    kinds: &'static [&'static str],
) -> Case {
    Case { source, fixture, outcome, kinds }
}

/// Every fixture of every source, in an order that tells a story per customer.
const CASES: &[Case] = &[
    case("hotmart", "purchase_approved", "processed", &["grant_access", "welcome_message"]),
    case("hotmart", "purchase_complete", "ignored", &[]),
    case("hotmart", "purchase_refunded", "processed", &["revoke_access", "refund_message"]),
    case("hotmart", "billet_printed", "processed", &["payment_pending_message"]),
    case("hotmart", "purchase_expired", "processed", &["payment_expired_message"]),
    case("hotmart", "pix_generated", "processed", &["payment_pending_message"]),
    case("hotmart", "purchase_canceled", "processed", &["refused_message"]),
    case("hotmart", "purchase_approved_renewal", "processed", &["grant_access"]),
    case("hotmart", "purchase_chargeback", "processed", &[]),
    case("hotmart", "purchase_protest", "ignored", &[]),
    case("hotmart", "purchase_delayed", "ignored", &[]),
    case("hotmart", "out_of_shopping_cart", "ignored", &[]),
    case("hotmart", "switch_plan", "ignored", &[]),
    case("hotmart", "club_first_access", "ignored", &[]),
    case("hotmart", "club_module_completed", "ignored", &[]),
    case("hotmart", "order_fulfillment", "ignored", &[]),
    case("kiwify", "order_approved", "processed", &["grant_access", "welcome_message"]),
    case("kiwify", "order_refunded", "processed", &["revoke_access", "refund_message"]),
    case("kiwify", "order_rejected", "processed", &["refused_message"]),
    case("kiwify", "billet_created", "processed", &["payment_pending_message"]),
    case("kiwify", "pix_created", "processed", &["payment_pending_message"]),
    case("kiwify", "subscription_renewed", "processed", &["grant_access"]),
    case("kiwify", "subscription_late", "ignored", &[]),
    case("kiwify", "abandoned_cart", "ignored", &[]),
    case("generic", "approved", "processed", &["grant_access", "welcome_message"]),
    case("generic", "refunded", "processed", &["revoke_access", "refund_message"]),
    case("generic", "refused", "processed", &["refused_message"]),
    case("generic", "waiting_payment", "processed", &["payment_pending_message"]),
    case("generic", "expired", "processed", &["payment_expired_message"]),
    case("generic", "canceled", "processed", &["canceled_message"]),
    case("generic", "renewed", "processed", &["grant_access"]),
    case("generic", "chargeback", "processed", &[]),
];

#[actix_web::test]
async fn every_source_and_event_kind() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    for c in CASES {
        let body = fixture(&format!("{}/{}.json", c.source, c.fixture));
        let res = test::call_service(&app, webhook(c.source, &body).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{}/{}", c.source, c.fixture);
        let answer = json(res).await;
        assert_eq!(answer["outcome"], c.outcome, "{}/{}: {answer}", c.source, c.fixture);
        assert_eq!(kinds(&answer), c.kinds, "{}/{}: {answer}", c.source, c.fixture);
    }
    // the worker runs every treatment to done, each with its printed line
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    for t in all_treatments(&db) {
        if t.run_at <= chrono::Utc::now() {
            assert_eq!(t.status, "done", "{t:?}");
            assert!(t.output.as_deref().is_some_and(|o| o.contains('@')), "{t:?}");
        }
    }
    // the Hotmart token never reaches the database, even from the body
    for e in events(&db) {
        assert!(!e.raw_body.contains(HOTTOK) && !e.headers.to_string().contains(HOTTOK), "event {}", e.id);
    }
    // unmapped products became courses named after them, mapped for next time
    let names: Vec<String> = courses::table.select(courses::name).load(&mut db.conn()).unwrap();
    assert!(names.len() > 2, "{names:?}");
}

#[actix_web::test]
async fn subscription_cancellation_schedules_the_revoke_at_the_period_end() {
    let db = TestDb::new();
    let app = app!(db.state());
    for f in ["generic/approved.json", "generic/renewed.json"] {
        test::call_service(&app, webhook("generic", &fixture(f)).to_request()).await;
    }
    // The paid period ends in 20 days (the fixture's date is in the past by now).
    let until = (chrono::Utc::now() + chrono::Duration::days(20)).duration_trunc(chrono::Duration::seconds(1)).unwrap();
    let mut canceled: Value = serde_json::from_str(&fixture("generic/subscription_canceled.json")).unwrap();
    canceled["access_until"] = Value::from(until.to_rfc3339());
    let answer = json(test::call_service(&app, webhook("generic", &canceled.to_string()).to_request()).await).await;
    assert_eq!(answer["outcome"], "processed");
    let revokes: Vec<Treatment> = all_treatments(&db).into_iter().filter(|t| t.kind == "revoke_access").collect();
    assert_eq!(revokes.len(), 1, "one revocation, scheduled");
    assert_eq!(revokes[0].run_at, until);
    let e: Enrollment = enrollments::table
        .filter(enrollments::course_id.nullable().eq(revokes[0].course_id))
        .select(Enrollment::as_select())
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(e.status, "active", "access is kept until the paid period ends");
    assert_eq!(e.expires_at, Some(until));
}

#[actix_web::test]
async fn generic_signatures_are_checked() {
    let db = TestDb::new();
    let app = app!(db.state());
    let body = fixture("generic/approved.json");
    let stale = chrono::Utc::now().timestamp() - 3600;
    let req = generic_headers("msg_1", &body, stale)
        .into_iter()
        .fold(TestRequest::post().uri("/webhooks/generic"), |r, h| r.insert_header(h))
        .set_payload(body.clone());
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let tampered = body.replace("Helena", "Helenx");
    let req = generic_headers("msg_1", &body, chrono::Utc::now().timestamp())
        .into_iter()
        .fold(TestRequest::post().uri("/webhooks/generic"), |r, h| r.insert_header(h))
        .set_payload(tampered);
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri(&format!("/webhooks/kiwify?signature={}", "0".repeat(40)))
            .set_payload(fixture("kiwify/order_approved.json"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(events(&db).iter().filter(|e| e.outcome == "unauthorized").count(), 3);
}

#[actix_web::test]
async fn hotmart_token_in_the_body_is_accepted_and_masked() {
    let db = TestDb::new();
    let app = app!(db.state());
    let mut body: Value = serde_json::from_str(&fixture("hotmart/purchase_approved.json")).unwrap();
    body["hottok"] = Value::String(HOTTOK.into());
    let res = test::call_service(
        &app,
        TestRequest::post().uri("/webhooks/hotmart").set_payload(body.to_string()).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let e = &events(&db)[0];
    assert!(!e.raw_body.contains(HOTTOK));
    assert!(e.raw_body.contains("\"hottok\":\"***\""));
}

/// Issue 8, defect 1: the simulator sends a refund with its own random amount, installments and
/// method; the original rule is customer-level, so the customer's access goes all the same.
#[actix_web::test]
async fn simulator_refund_with_other_amounts_revokes_the_customers_access() {
    let db = TestDb::new();
    let app = app!(db.state());
    let approval = serde_json::json!({"nome": "Fulano", "email": "Fulano@Email.com", "status": "aprovado",
        "valor": 297, "forma_pagamento": "cartao", "parcelas": 3});
    let answer = json(test::call_service(&app, webhook("hashtag", &approval.to_string()).to_request()).await).await;
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    let refund = serde_json::json!({"nome": "Fulano", "email": "fulano@email.com", "status": "reembolsado",
        "valor": 58.1, "forma_pagamento": "boleto", "parcelas": 1});
    let answer = json(test::call_service(&app, webhook("hashtag", &refund.to_string()).to_request()).await).await;
    assert_eq!(answer["outcome"], "processed");
    assert_eq!(kinds(&answer), ["revoke_access", "refund_message"]);
    assert_eq!(answer["note"], Value::Null);
    let status: String = enrollments::table.select(enrollments::status).first(&mut db.conn()).unwrap();
    assert_eq!(status, "revoked");

    // a refund for someone with nothing to revoke is recorded with its reason
    let stranger = serde_json::json!({"nome": "Ciclano", "email": "ciclano@email.com", "status": "reembolsado",
        "valor": 10, "forma_pagamento": "pix", "parcelas": 1});
    let answer = json(test::call_service(&app, webhook("hashtag", &stranger.to_string()).to_request()).await).await;
    assert_eq!(answer["outcome"], "processed");
    assert!(kinds(&answer).is_empty());
    assert_eq!(answer["note"], "no_access_to_revoke");
    let note: Option<String> = webhook_events::table
        .find(answer["event_id"].as_i64().unwrap())
        .select(webhook_events::note)
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(note.as_deref(), Some("no_access_to_revoke"));
}

/// Issue 8, defect 3: a subscription cancelled with access until the end of the paid period, then a new
/// approved order for the same product: access renews per the course's duration (lifetime here), so the
/// old end date no longer applies — neither the scheduled revoke nor the expiry sweep takes it away.
#[actix_web::test]
async fn repurchase_after_a_cancellation_keeps_access_past_the_old_end() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let mut approved: Value = serde_json::from_str(&fixture("generic/approved.json")).unwrap();
    approved["order"]["id"] = "sub_1".into();
    let first = json(test::call_service(&app, webhook("generic", &approved.to_string()).to_request()).await).await;
    assert_eq!(kinds(&first), ["grant_access", "welcome_message"]);

    let mut canceled: Value = serde_json::from_str(&fixture("generic/subscription_canceled.json")).unwrap();
    canceled["order"]["id"] = "sub_1".into();
    canceled["product"] = approved["product"].clone();
    let in_one_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    canceled["access_until"] = in_one_hour.to_rfc3339().into();
    let answer = json(test::call_service(&app, webhook("generic", &canceled.to_string()).to_request()).await).await;
    assert_eq!(kinds(&answer), ["revoke_access"], "scheduled at the period end");
    let expires: Option<chrono::DateTime<chrono::Utc>> =
        enrollments::table.select(enrollments::expires_at).first(&mut db.conn()).unwrap();
    assert!(expires.is_some());

    let mut again = approved.clone();
    again["order"]["id"] = "ord_2".into();
    let answer = json(test::call_service(&app, webhook("generic", &again.to_string()).to_request()).await).await;
    assert_eq!(answer["outcome"], "processed");
    assert_eq!(kinds(&answer), ["extend_access"]);
    assert_eq!(answer["note"], "access_renewed");
    let (status, expires): (String, Option<chrono::DateTime<chrono::Utc>>) =
        enrollments::table.select((enrollments::status, enrollments::expires_at)).first(&mut db.conn()).unwrap();
    assert_eq!((status.as_str(), expires), ("active", None), "lifetime course: no end any more");
    let scheduled: Vec<String> = treatments::table
        .filter(treatments::kind.eq("revoke_access"))
        .select(treatments::status)
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(scheduled, ["canceled"], "the scheduled revoke is canceled");

    // the expiry sweep, run past the old end, revokes nothing
    let mut conn = db.conn();
    let swept = portaria::treatments::sweep::revoke_expired(&mut conn, in_one_hour + chrono::Duration::minutes(1));
    assert_eq!(swept.unwrap(), Vec::<i64>::new());
}
