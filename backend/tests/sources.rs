//! The Eduzz and Monetizze sources end to end against a real PostgreSQL: each fixture posted signed
//! (or with its key), the outcome and the treatments it yields for the customer, deduplication on
//! redelivery, and 401 for a bad signature or key.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use chrono::SubsecRound;
use common::*;
use diesel::prelude::*;
use portaria::models::{Enrollment, Treatment, WebhookEvent};
use portaria::schema::{customers, enrollments, orders, treatments, webhook_events};
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

fn enrollment_of(db: &TestDb, email: &str) -> Enrollment {
    enrollments::table
        .inner_join(customers::table)
        .filter(customers::email.eq(email))
        .select(Enrollment::as_select())
        .first(&mut db.conn())
        .unwrap()
}

/// Posts `req` and returns the answer, which must be a 200.
async fn post<S, B>(app: &S, req: TestRequest, what: &str) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let answer = json(res).await;
    assert_eq!(status, StatusCode::OK, "{what}: {answer}");
    answer
}

/// `(fixture, outcome, treatments, note)` in an order that tells a story per customer.
const EDUZZ: &[(&str, &str, &[&str], Option<&str>)] = &[
    ("ping", "ignored", &[], Some("connection_test")),
    // Ana pays by card, asks for a refund, gets it
    ("invoice_paid", "processed", &["grant_access", "welcome_message"], None),
    ("invoice_waiting_refund", "ignored", &[], Some("refund_requested")),
    ("invoice_overdue", "ignored", &[], Some("payment_late")),
    ("invoice_refunded", "processed", &["revoke_access", "refund_message"], None),
    ("invoice_recovering", "ignored", &[], Some("not_acted_upon")),
    // Bruno: a boleto, then its cancellation; a pix, then its expiry
    ("invoice_opened", "processed", &["payment_pending_message"], None),
    ("invoice_canceled", "processed", &["canceled_message"], None),
    ("invoice_waiting_payment", "processed", &["payment_pending_message"], None),
    ("invoice_expired", "processed", &["payment_expired_message"], None),
    // Carla's card is refused
    ("invoice_refused", "processed", &["refused_message"], None),
    ("cart_abandonment", "ignored", &[], Some("cart_abandoned")),
    ("commission_processed", "ignored", &[], Some("not_acted_upon")),
    ("contract_created", "ignored", &[], Some("not_acted_upon")),
];

#[actix_web::test]
async fn eduzz_every_event_signed_end_to_end() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    for (name, outcome, expected, note) in EDUZZ {
        let body = fixture(&format!("eduzz/{name}.json"));
        let answer = post(&app, webhook("eduzz", &body), name).await;
        assert_eq!(answer["outcome"], *outcome, "{name}: {answer}");
        assert_eq!(kinds(&answer), *expected, "{name}: {answer}");
        assert_eq!(answer["note"].as_str(), *note, "{name}: {answer}");
        // a redelivery (Eduzz retries with the same event id) changes nothing
        let again = post(&app, webhook("eduzz", &body), name).await;
        assert_eq!(again["outcome"], "duplicate", "{name}: {again}");
        assert!(kinds(&again).is_empty());
    }
    assert_eq!(enrollment_of(&db, "ana.teste@example.com").status, "revoked");
    let (amount, status, method): (Option<i64>, String, Option<String>) = orders::table
        .filter(orders::external_id.eq("99000001"))
        .select((orders::amount_cents, orders::status, orders::payment_method))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!((amount, status.as_str(), method.as_deref()), (Some(19_700), "refunded", Some("credit_card")));
    // every recorded event names its source; each duplicate points at its original
    let evs = events(&db);
    assert_eq!(evs.len(), EDUZZ.len() * 2);
    assert!(evs.iter().all(|e| e.source == "eduzz"));
    assert!(evs.chunks(2).all(|pair| pair[1].duplicate_of == Some(pair[0].id)));
    // the worker runs what is due
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    assert!(all_treatments(&db).iter().all(|t| t.status == "done"));
}

#[actix_web::test]
async fn eduzz_contract_cancellation_keeps_access_until_the_next_due_date() {
    let db = TestDb::new();
    let app = app!(db.state());
    // Diego pays the first invoice of the subscription product
    let mut paid: Value = serde_json::from_str(&fixture("eduzz/invoice_paid.json")).unwrap();
    paid["id"] = "evt_diego_paid".into();
    paid["data"]["id"] = "99000100".into();
    paid["data"]["buyer"]["email"] = "diego.teste@example.com".into();
    paid["data"]["items"][0]["productId"] = "200002".into();
    let answer = post(&app, webhook("eduzz", &paid.to_string()), "paid").await;
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    // and cancels: access ends at the next due date
    let next_due = (chrono::Utc::now() + chrono::Duration::days(20)).trunc_subsecs(0);
    let mut canceled: Value = serde_json::from_str(&fixture("eduzz/contract_canceled.json")).unwrap();
    canceled["data"]["contract"]["recurrence"]["nextDue"] = next_due.to_rfc3339().into();
    let answer = post(&app, webhook("eduzz", &canceled.to_string()), "contract canceled").await;
    assert_eq!(answer["outcome"], "processed", "{answer}");
    assert_eq!(kinds(&answer), ["revoke_access"]);
    let revoke = all_treatments(&db).into_iter().last().unwrap();
    assert_eq!(revoke.run_at, next_due, "scheduled at the end of the paid period");
    let enrollment = enrollment_of(&db, "diego.teste@example.com");
    assert_eq!((enrollment.status.as_str(), enrollment.expires_at), ("active", Some(next_due)));
}

#[actix_web::test]
async fn eduzz_signatures_hex_base64_and_wrong() {
    use base64::Engine;
    let db = TestDb::new();
    let app = app!(db.state());
    let body = fixture("eduzz/invoice_paid.json");
    let unsigned = || TestRequest::post().uri("/webhooks/eduzz").set_payload(body.clone());
    let hex_sig = eduzz_signature(&body);
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&hex_sig).unwrap());
    let wrong = eduzz_signature(&format!("{body} "));
    for (req, status) in [
        (unsigned(), StatusCode::UNAUTHORIZED),
        (unsigned().insert_header(("x-signature", wrong.as_str())), StatusCode::UNAUTHORIZED),
        (unsigned().insert_header(("x-signature", "not a signature")), StatusCode::UNAUTHORIZED),
        (unsigned().insert_header(("x-signature", b64.as_str())), StatusCode::OK),
        (unsigned().insert_header(("X-Signature", hex_sig.to_uppercase().as_str())), StatusCode::OK),
    ] {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status);
    }
    let outcomes: Vec<String> = events(&db).into_iter().map(|e| e.outcome.to_string()).collect();
    assert_eq!(outcomes, ["unauthorized", "unauthorized", "unauthorized", "processed", "duplicate"]);
    // the signature is never stored
    assert!(events(&db).iter().all(|e| !e.headers.to_string().contains(&hex_sig)));
}

/// `(fixture, outcome, treatments, note)` for Monetizze, in story order per customer.
const MONETIZZE: &[(&str, &str, &[&str], Option<&str>)] = &[
    // Carlos pays by card; the sale completes, then is blocked (disputed), then refunded
    ("approved", "processed", &["grant_access", "welcome_message"], None),
    ("complete", "ignored", &[], Some("purchase_complete")),
    ("blocked", "processed", &["revoke_access"], None),
    ("refunded", "processed", &[], Some("order_already_reversed")),
    // Daniela prints a boleto and leaves it unpaid
    ("pending_boleto", "processed", &["payment_pending_message"], None),
    ("canceled_boleto", "processed", &["payment_expired_message"], None),
    // Eduardo's card is refused
    ("canceled_card", "processed", &["refused_message"], None),
    ("cart_abandonment", "ignored", &[], Some("cart_abandoned")),
    // Gustavo's subscription: a paid charge, notices, then the cancellation
    ("subscription_renewal", "processed", &["grant_access"], None),
    ("subscription_active", "ignored", &[], Some("not_acted_upon")),
    ("subscription_overdue", "ignored", &[], Some("payment_late")),
    ("subscription_waiting_payment", "processed", &[], Some("order_already_paid")),
    ("subscription_canceled", "processed", &["revoke_access"], None),
];

#[actix_web::test]
async fn monetizze_every_event_with_its_key_end_to_end() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    for (name, outcome, expected, note) in MONETIZZE {
        let body = fixture(&format!("monetizze/{name}.json"));
        let answer = post(&app, webhook("monetizze", &body), name).await;
        assert_eq!(answer["outcome"], *outcome, "{name}: {answer}");
        assert_eq!(kinds(&answer), *expected, "{name}: {answer}");
        assert_eq!(answer["note"].as_str(), *note, "{name}: {answer}");
        let again = post(&app, webhook("monetizze", &body), name).await;
        assert_eq!(again["outcome"], "duplicate", "{name}: {again}");
    }
    assert_eq!(enrollment_of(&db, "carlos.teste@example.com").status, "revoked");
    assert_eq!(enrollment_of(&db, "gustavo.teste@example.com").status, "revoked");
    let blocked: Treatment = all_treatments(&db).into_iter().find(|t| t.kind == "revoke_access").unwrap();
    assert_eq!(blocked.reason.map(|r| r.to_string()).as_deref(), Some("chargeback"), "a blocked sale is a chargeback");
    let status: String =
        orders::table.filter(orders::external_id.eq("70000001")).select(orders::status).first(&mut db.conn()).unwrap();
    assert_eq!(status, "refunded", "the refund that followed the block");
    // the key never reaches the database
    assert!(events(&db).iter().all(|e| !e.raw_body.contains(MONETIZZE_KEY)));
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    assert!(all_treatments(&db).iter().all(|t| t.status == "done"));
}

#[actix_web::test]
async fn monetizze_form_postbacks_and_keys() {
    let db = TestDb::new();
    let app = app!(db.state());
    let form = |body: String| {
        TestRequest::post()
            .uri("/webhooks/monetizze")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body)
    };
    // the PHP-style form with the `json` field, as Monetizze posts it
    let answer = post(&app, form(fixture("monetizze/approved.form")), "form").await;
    assert_eq!(
        (answer["outcome"].as_str(), kinds(&answer)),
        (Some("processed"), vec!["grant_access".to_string(), "welcome_message".to_string()])
    );
    // the same sale and event as JSON is the same event
    let again = post(&app, webhook("monetizze", &fixture("monetizze/approved.json")), "json").await;
    assert_eq!(again["outcome"], "duplicate");
    // a form without the `json` field
    let pending = post(&app, form(fixture("monetizze/pending_boleto.form")), "bare form").await;
    assert_eq!(kinds(&pending), ["payment_pending_message"]);
    // the refund, as a form
    let refund = fixture("monetizze/approved.form").replacen("tipoEvento%5Bcodigo%5D=2", "tipoEvento%5Bcodigo%5D=4", 1);
    let refund = refund[..refund.find("&json=").unwrap()].to_string();
    let answer = post(&app, form(refund), "refund form").await;
    assert_eq!(kinds(&answer), ["revoke_access", "refund_message"]);
    // wrong and missing keys
    let wrong = fixture("monetizze/approved.form").replace(MONETIZZE_KEY, "not-the-key");
    let keyless = fixture("monetizze/approved.json").replace(&format!("\"chave_unica\": \"{MONETIZZE_KEY}\","), "");
    for req in [form(wrong), webhook("monetizze", &keyless), form("chave_unica=&venda[codigo]=1".into())] {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let outcomes: Vec<String> = events(&db).into_iter().map(|e| e.outcome.to_string()).collect();
    assert_eq!(
        outcomes,
        ["processed", "duplicate", "processed", "processed", "unauthorized", "unauthorized", "unauthorized"]
    );
    assert!(events(&db).iter().all(|e| !e.raw_body.contains(MONETIZZE_KEY)));
    // a stored form is still a postback once masked: the staff can replay it
    let first = &events(&db)[0];
    assert!(first.raw_body.contains("chave_unica=***"), "{}", &first.raw_body[..80]);
}
