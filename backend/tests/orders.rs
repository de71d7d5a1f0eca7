//! What the platforms tell us about an order, kept and shown, against a real PostgreSQL: the approval
//! time, the coupon, the offer or plan, and a renewal that extends access to the platform's paid-period
//! end.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::*;
use diesel::prelude::*;
use portaria::schema::{courses, enrollments, orders};
use serde_json::Value;

macro_rules! call_json {
    ($app:expr, $req:expr) => {{
        let res = test::call_service($app, $req.to_request()).await;
        let status = res.status();
        (status, json(res).await)
    }};
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn edited(raw: &str, pointer: &str, value: Value) -> Value {
    let mut body: Value = serde_json::from_str(raw).unwrap();
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
    body
}

fn kinds(answer: &Value) -> Vec<String> {
    answer["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect()
}

/// Now, to the millisecond (what Hotmart's epoch milliseconds can say).
fn now_ms() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::milliseconds(1)).unwrap()
}

fn expires_at(db: &TestDb, customer_id: i64) -> Option<DateTime<Utc>> {
    enrollments::table
        .filter(enrollments::customer_id.eq(customer_id))
        .select(enrollments::expires_at)
        .first(&mut db.conn())
        .unwrap()
}

/// Gives every course `days` of access (from now on: the courses were created by earlier webhooks).
fn set_access_days(db: &TestDb, days: i32) {
    diesel::update(courses::table).set(courses::access_days.eq(days)).execute(&mut db.conn()).unwrap();
}

#[actix_web::test]
async fn a_kiwify_approval_keeps_its_time_coupon_and_offer_and_the_customer_api_returns_them() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    let mut body: Value = serde_json::from_str(&fixture("kiwify/order_approved.json")).unwrap();
    body["coupon_code"] = "BLACK10".into();
    body["Product"]["product_offer_id"] = "oferta-anual".into();
    let (status, answer) = call_json!(&app, webhook("kiwify", &body.to_string()));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("processed")));
    let id = answer["customer_id"].as_i64().unwrap();

    let (_, detail) = call_json!(&app, get(&format!("/api/customers/{id}"), &token));
    let order = &detail["orders"][0];
    assert_eq!(time(&order["approved_at"]), Some(utc("2026-01-01T13:02:00Z")), "approved_date, São Paulo time");
    assert_eq!(order["coupon"], "BLACK10");
    assert_eq!(order["offer_code"], "oferta-anual");
    assert_eq!(order["access_until"], Value::Null, "a one-off sale has no paid period");

    // the refund of the order keeps what the approval told (it carries no coupon nor offer)
    let (_, refund) = call_json!(&app, webhook("kiwify", &fixture("kiwify/order_refunded.json")));
    assert_eq!(kinds(&refund), ["revoke_access", "refund_message"]);
    let (_, detail) = call_json!(&app, get(&format!("/api/customers/{id}"), &token));
    let order = &detail["orders"][0];
    assert_eq!(order["status"], "refunded");
    assert_eq!(time(&order["approved_at"]), Some(utc("2026-01-01T13:02:00Z")));
    assert_eq!((order["coupon"].as_str(), order["offer_code"].as_str()), (Some("BLACK10"), Some("oferta-anual")));
}

#[actix_web::test]
async fn an_approval_without_a_time_is_dated_when_received_and_a_pending_order_has_none() {
    let db = TestDb::new();
    let app = app!(db.state());
    let before = Utc::now();
    let pending = edited(&fixture("generic/waiting_payment.json"), "/order/id", "ord_9".into());
    call_json!(&app, webhook("generic", &pending.to_string()));
    let approved_at: Option<DateTime<Utc>> = orders::table.select(orders::approved_at).first(&mut db.conn()).unwrap();
    assert_eq!(approved_at, None);
    let mut approved = edited(&fixture("generic/approved.json"), "/order/id", "ord_9".into());
    approved.as_object_mut().unwrap().remove("occurred_at");
    approved["order"]["coupon"] = "PRIMEIRA".into();
    let (_, answer) = call_json!(&app, webhook("generic", &approved.to_string()));
    assert_eq!(answer["outcome"], "processed");
    let (approved_at, coupon): (Option<DateTime<Utc>>, Option<String>) =
        orders::table.select((orders::approved_at, orders::coupon)).first(&mut db.conn()).unwrap();
    assert!(approved_at.is_some_and(|t| t >= before && t <= Utc::now()), "{approved_at:?}");
    assert_eq!(coupon.as_deref(), Some("PRIMEIRA"));
}

#[actix_web::test]
async fn a_hotmart_renewal_extends_access_to_the_next_charge_date() {
    let db = TestDb::new();
    let app = app!(db.state());
    let renewal = fixture("hotmart/purchase_approved_renewal.json");
    // someone else's purchase creates the product's course; the course then gets 7 days of access
    let other = edited(&renewal, "/data/buyer/email", "outra.pessoa@example.com".into());
    let other = edited(&other.to_string(), "/data/purchase/transaction", "HP-OTHER".into());
    let other = edited(&other.to_string(), "/data/purchase/recurrence_number", 1.into());
    call_json!(&app, webhook("hotmart", &other.to_string()));
    set_access_days(&db, 7);

    // the first charge: 7 days, the coupon and the offer kept
    let first = edited(&renewal, "/data/purchase/transaction", "HP-FIRST".into());
    let first = edited(&first.to_string(), "/data/purchase/recurrence_number", 1.into());
    let mut first = first;
    first["data"]["purchase"]["offer"]["coupon_code"] = "VOLTA20".into();
    let (_, answer) = call_json!(&app, webhook("hotmart", &first.to_string()));
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    let id = answer["customer_id"].as_i64().unwrap();
    let end = expires_at(&db, id).unwrap();
    assert!(end > Utc::now() + Duration::days(6) && end <= Utc::now() + Duration::days(7));
    let (coupon, offer): (Option<String>, Option<String>) = orders::table
        .filter(orders::external_id.eq("HP-FIRST"))
        .select((orders::coupon, orders::offer_code))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(coupon.as_deref(), Some("VOLTA20"));
    assert!(offer.is_some(), "data.purchase.offer.code");

    // the renewal: access until Hotmart's next charge, not 7 more days
    let next_charge = now_ms() + Duration::days(40);
    let renewed = edited(&renewal, "/data/purchase/date_next_charge", next_charge.timestamp_millis().into());
    let (_, answer) = call_json!(&app, webhook("hotmart", &renewed.to_string()));
    assert_eq!(kinds(&answer), ["extend_access"]);
    assert_eq!(expires_at(&db, id), Some(next_charge));
    let (access_until, approved_at): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = orders::table
        .filter(orders::external_id.eq("HP1760000000002"))
        .select((orders::access_until, orders::approved_at))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(access_until, Some(next_charge));
    assert!(approved_at.is_some());
}

#[actix_web::test]
async fn a_kiwify_renewal_sent_as_both_events_extends_once_to_access_until() {
    let db = TestDb::new();
    let app = app!(db.state());
    let renewed = fixture("kiwify/subscription_renewed.json");
    let paid_until = now_ms() + Duration::days(60);
    let with_period = |raw: &str, order_id: &str, event: &str| {
        let body = edited(raw, "/order_id", order_id.into());
        let body = edited(&body.to_string(), "/webhook_event_type", event.into());
        edited(&body.to_string(), "/Subscription/customer_access/access_until", paid_until.to_rfc3339().into())
    };
    // someone else's charge creates the course; it then gets 30 days
    let other = with_period(&renewed, "kw-other", "order_approved");
    let other = edited(&other.to_string(), "/Customer/email", "outra.pessoa@example.com".into());
    call_json!(&app, webhook("kiwify", &other.to_string()));
    set_access_days(&db, 30);

    // the first charge: a first approval is per the course's duration
    let first = with_period(&renewed, "kw-1", "order_approved");
    let (_, answer) = call_json!(&app, webhook("kiwify", &first.to_string()));
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    let id = answer["customer_id"].as_i64().unwrap();
    assert!(expires_at(&db, id).unwrap() < Utc::now() + Duration::days(31));

    // the renewal charge, a new order: order_approved extends to access_until...
    let charge = with_period(&renewed, "kw-2", "order_approved");
    let (_, answer) = call_json!(&app, webhook("kiwify", &charge.to_string()));
    assert_eq!(kinds(&answer), ["extend_access"]);
    assert_eq!(expires_at(&db, id), Some(paid_until));
    // ...and subscription_renewed of the same order changes nothing more
    let again = with_period(&renewed, "kw-2", "subscription_renewed");
    let (_, answer) = call_json!(&app, webhook("kiwify", &again.to_string()));
    assert_eq!((answer["outcome"].as_str(), kinds(&answer).len()), (Some("processed"), 0));
    assert_eq!(answer["note"], "access_already_active");
    assert_eq!(expires_at(&db, id), Some(paid_until));
    let (offer, access_until): (Option<String>, Option<DateTime<Utc>>) = orders::table
        .filter(orders::external_id.eq("kw-2"))
        .select((orders::offer_code, orders::access_until))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(offer.as_deref(), Some("c2d3e4f5-6666-4b7c-9d8e-1f2a3b4c5d6e"), "the plan");
    assert_eq!(access_until, Some(paid_until));
}

/// The wrapped Kiwify shape: `{url, signature, order}`, the signature (keyed by the test token) over the
/// order's bytes as sent, here pretty-printed.
fn wrapped(order: &Value) -> String {
    let order = serde_json::to_string_pretty(order).unwrap();
    format!(
        "{{\"url\": \"https://portaria.example.com/webhooks/kiwify\", \"signature\": \"{}\", \"order\": {order}}}",
        kiwify_signature(&order)
    )
}

fn unsigned(body: &str) -> test::TestRequest {
    test::TestRequest::post().uri("/webhooks/kiwify").set_payload(body.to_string())
}

fn inner_order(fixture_path: &str) -> Value {
    let body: Value = serde_json::from_str(&fixture(fixture_path)).unwrap();
    body["order"].clone()
}

#[actix_web::test]
async fn a_wrapped_kiwify_order_signed_in_the_body_is_accepted_and_a_bad_signature_is_not() {
    let db = TestDb::new();
    let app = app!(db.state());
    let order = inner_order("kiwify/wrapped_order_approved.json");
    let body = wrapped(&order);
    let (status, answer) = call_json!(&app, unsigned(&body));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("processed")), "{answer}");
    assert_eq!(kinds(&answer), ["grant_access", "welcome_message"]);
    // the usual ?signature= over the whole body also works, and this is the same event
    let (status, answer) = call_json!(&app, webhook("kiwify", &body));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("duplicate")));

    // a body whose order was changed after signing, and one without any signature
    let tampered = body.replacen("29700", "100", 1);
    let (status, answer) = call_json!(&app, unsigned(&tampered));
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    assert!(answer["error"]["message"].as_str().unwrap().contains("`order`"), "{answer}");
    assert!(!answer.to_string().contains(KIWIFY_TOKEN));
    let mut no_signature: Value = serde_json::from_str(&body).unwrap();
    no_signature.as_object_mut().unwrap().remove("signature");
    let (status, _) = call_json!(&app, unsigned(&no_signature.to_string()));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let outcomes: Vec<String> = portaria::schema::webhook_events::table
        .order(portaria::schema::webhook_events::id)
        .select(portaria::schema::webhook_events::outcome)
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(outcomes, ["processed", "duplicate", "unauthorized", "unauthorized"], "every request is recorded");
}

#[actix_web::test]
async fn a_cpf_only_customer_is_matched_by_document_or_refused_asking_for_an_e_mail() {
    let db = TestDb::new();
    let app = app!(db.state());
    let refund = wrapped(&inner_order("kiwify/wrapped_order_refunded_cpf_only.json"));

    // nobody has that CPF yet: 422, recorded
    let (status, answer) = call_json!(&app, unsigned(&refund));
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unprocessable")));
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("an e-mail is needed"), "{message}");
    assert!(!message.contains("52998224725"), "the CPF is not echoed: {message}");
    let (outcome, error): (String, Option<String>) = portaria::schema::webhook_events::table
        .select((portaria::schema::webhook_events::outcome, portaria::schema::webhook_events::error))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(outcome, "unprocessable");
    assert!(error.is_some_and(|e| e.contains("an e-mail is needed")));

    // the approval (with the e-mail and the CPF) makes the customer known...
    let (_, approved) = call_json!(&app, unsigned(&wrapped(&inner_order("kiwify/wrapped_order_approved.json"))));
    assert_eq!(approved["outcome"], "processed");
    let customer_id = approved["customer_id"].as_i64().unwrap();
    // ...so the CPF-only refund (CPF punctuated) is that customer's: access revoked
    let (status, answer) = call_json!(&app, unsigned(&refund));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("processed")), "{answer}");
    assert_eq!(answer["customer_id"], customer_id);
    assert_eq!(kinds(&answer), ["revoke_access", "refund_message"]);
    let (email, status): (String, String) = enrollments::table
        .inner_join(portaria::schema::customers::table)
        .select((portaria::schema::customers::email, enrollments::status))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!((email.as_str(), status.as_str()), ("debora.teste@example.com", "revoked"));

    // two customers with the same CPF: which one is unknown, so 422 again
    let mut other = inner_order("kiwify/wrapped_order_approved.json");
    other["order_id"] = "outro-pedido".into();
    other["Customer"]["email"] = "debora.outra@example.com".into();
    call_json!(&app, unsigned(&wrapped(&other)));
    let mut late = inner_order("kiwify/wrapped_order_refunded_cpf_only.json");
    late["webhook_event_type"] = "chargeback".into();
    let (status, answer) = call_json!(&app, unsigned(&wrapped(&late)));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["error"]["message"].as_str().unwrap().contains("several customers"), "{answer}");
}
