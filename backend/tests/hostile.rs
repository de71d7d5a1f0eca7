//! The hostile corpus (issue 8): for every source, correctly authenticated bodies that no adapter can
//! accept get the right 4xx, are recorded with that outcome, and leave the server healthy. Nothing here
//! may produce a 5xx.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use common::*;
use diesel::prelude::*;
use portaria::schema::{customers, webhook_events};
use serde_json::{json, Value};

const SOURCES: [&str; 4] = ["hashtag", "hotmart", "kiwify", "generic"];

/// A valid body of each source, to mutate.
fn valid(source: &str) -> Value {
    let raw = match source {
        "hashtag" => fixture("hashtag/approved.json"),
        "hotmart" => fixture("hotmart/purchase_approved.json"),
        "kiwify" => fixture("kiwify/order_approved.json"),
        _ => fixture("generic/approved.json"),
    };
    serde_json::from_str(&raw).unwrap()
}

/// The JSON pointer of the buyer's e-mail / name / amount / installments in each source's format.
fn pointer(source: &str, field: &str) -> &'static str {
    match (source, field) {
        ("hashtag", "email") => "/email",
        ("hashtag", "name") => "/nome",
        ("hashtag", "amount") => "/valor",
        ("hashtag", "installments") => "/parcelas",
        ("hotmart", "email") => "/data/buyer/email",
        ("hotmart", "name") => "/data/buyer/name",
        ("hotmart", "amount") => "/data/purchase/price/value",
        ("hotmart", "installments") => "/data/purchase/payment/installments_number",
        ("kiwify", "email") => "/Customer/email",
        ("kiwify", "name") => "/Customer/full_name",
        ("kiwify", "amount") => "/Commissions/charge_amount",
        ("kiwify", "installments") => "/installments",
        ("generic", "email") => "/customer/email",
        ("generic", "name") => "/customer/name",
        ("generic", "amount") => "/order/amount_cents",
        ("generic", "installments") => "/order/installments",
        other => panic!("no pointer for {other:?}"),
    }
}

fn with(source: &str, field: &str, value: Value) -> Vec<u8> {
    let mut body = valid(source);
    *body.pointer_mut(pointer(source, field)).unwrap_or_else(|| panic!("{source} has no {field}")) = value;
    body.to_string().into_bytes()
}

/// Every hostile body for `source`, with the status it must get.
fn corpus(source: &str) -> Vec<(String, Vec<u8>, StatusCode)> {
    let bad = StatusCode::BAD_REQUEST;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let valid_text = valid(source).to_string();
    let mut cases: Vec<(String, Vec<u8>, StatusCode)> = vec![
        ("empty".into(), vec![], bad),
        ("whitespace".into(), b" \r\n\t ".to_vec(), bad),
        ("invalid UTF-8".into(), b"{\"a\":\"\xff\xfe\"}".to_vec(), bad),
        ("raw NUL".into(), b"\x00".to_vec(), bad),
        ("NUL inside the JSON".into(), valid_text.replacen('{', "{\"x\":\"\x00\",", 1).into_bytes(), bad),
        ("lone surrogate".into(), valid_text.replacen('{', r#"{"x":"\ud800","#, 1).into_bytes(), bad),
        ("10,000-deep nesting".into(), format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), bad),
        ("1e400".into(), valid_text.replacen('{', r#"{"x":1e400,"#, 1).into_bytes(), bad),
        ("array at the top".into(), b"[1,2,3]".to_vec(), bad),
        ("string at the top".into(), b"\"aprovado\"".to_vec(), bad),
        ("null at the top".into(), b"null".to_vec(), bad),
        ("number at the top".into(), b"42".to_vec(), bad),
        ("duplicate keys".into(), valid_text.replacen('{', r#"{"dup":1,"dup":2,"#, 1).into_bytes(), bad),
        ("form body".into(), b"nome=Fulano&email=fulano%40email.com&status=aprovado".to_vec(), bad),
        ("truncated JSON".into(), valid_text.as_bytes()[..valid_text.len() / 2].to_vec(), bad),
        ("\\u0000 in the e-mail".into(), with(source, "email", json!("a\u{0}b@email.com")), unprocessable),
        ("\\u0000 in the name".into(), with(source, "name", json!("Fulano\u{0}")), unprocessable),
        (
            "e-mail of 5,000 characters".into(),
            with(source, "email", json!(format!("{}@x.com", "a".repeat(5000)))),
            unprocessable,
        ),
        ("e-mail without a domain".into(), with(source, "email", json!("fulano@")), unprocessable),
        ("e-mail as a number".into(), with(source, "email", json!(12345)), unprocessable),
        ("e-mail as an object".into(), with(source, "email", json!({"a": 1})), unprocessable),
        ("name of 100,000 characters".into(), with(source, "name", json!("x".repeat(100_000))), unprocessable),
        ("negative amount".into(), with(source, "amount", json!(-297)), unprocessable),
        ("absurd amount".into(), with(source, "amount", json!(1e20)), unprocessable),
        ("installments 1e20".into(), with(source, "installments", json!(1e20)), unprocessable),
        ("installments 0".into(), with(source, "installments", json!(0)), unprocessable),
        ("installments as text".into(), with(source, "installments", json!("muitas")), unprocessable),
    ];
    if source == "hashtag" {
        let mut body = valid(source);
        body["status"] = json!(["aprovado"]);
        cases.push(("status as an array".into(), body.to_string().into_bytes(), unprocessable));
    }
    cases
}

async fn count_events<S>(db: &TestDb, _app: &S) -> i64 {
    webhook_events::table.count().get_result(&mut db.conn()).unwrap()
}

#[actix_web::test]
async fn every_hostile_body_gets_its_4xx_and_is_recorded() {
    let db = TestDb::new();
    let app = app!(db.state());
    for source in SOURCES {
        for (name, body, expected) in corpus(source) {
            let before = count_events(&db, &app).await;
            let res = test::call_service(&app, webhook(source, &body).to_request()).await;
            let status = res.status();
            let answer = json(res).await;
            assert_eq!(status, expected, "{source}: {name}: {answer}");
            assert!(answer["error"]["code"].is_string(), "{source}: {name}: a JSON error: {answer}");
            let id =
                answer["error"]["details"]["event_id"].as_i64().unwrap_or_else(|| panic!("{source}: {name}: recorded"));
            let outcome: String =
                webhook_events::table.find(id).select(webhook_events::outcome).first(&mut db.conn()).unwrap();
            let want = if expected == StatusCode::BAD_REQUEST { "invalid_json" } else { "unprocessable" };
            assert_eq!(outcome, want, "{source}: {name}");
            assert_eq!(count_events(&db, &app).await, before + 1, "{source}: {name}: exactly one row");
        }
        // still healthy: a valid delivery is processed
        let res = test::call_service(&app, webhook(source, &valid(source).to_string()).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{source}: healthy after the corpus");
    }
    assert_eq!(customers::table.count().get_result::<i64>(&mut db.conn()).unwrap(), 4, "no hostile customer");
}

#[actix_web::test]
async fn a_10_mb_body_is_413_and_recorded_truncated() {
    let db = TestDb::new();
    let app = app!(db.state());
    for source in SOURCES {
        let body = vec![b'a'; 10 * 1024 * 1024];
        let res = test::call_service(&app, webhook(source, &body).to_request()).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{source}");
        let id = json(res).await["error"]["details"]["event_id"].as_i64().unwrap();
        let (outcome, size, truncated): (String, i32, bool) = webhook_events::table
            .find(id)
            .select((webhook_events::outcome, webhook_events::body_size, webhook_events::truncated))
            .first(&mut db.conn())
            .unwrap();
        assert_eq!((outcome.as_str(), size, truncated), ("payload_too_large", 10 * 1024 * 1024, true));
    }
}

#[actix_web::test]
async fn nul_in_the_url_and_query_is_recorded_not_a_500() {
    let db = TestDb::new();
    let app = app!(db.state());
    let req = test::TestRequest::post()
        .uri(&format!("/webhooks/hashtag?token={HASHTAG_TOKEN}&x=ab%00cd"))
        .set_payload(fixture("hashtag/approved.json"))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let req = test::TestRequest::post().uri("/webhooks/hash%00tag").set_payload("{}").to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let sources: Vec<String> = webhook_events::table.select(webhook_events::source).load(&mut db.conn()).unwrap();
    assert_eq!(sources, ["hashtag", "hash\u{FFFD}tag"]);
}

#[actix_web::test]
async fn sql_and_html_in_fields_are_kept_as_plain_text() {
    let db = TestDb::new();
    let app = app!(db.state());
    let name = "Robert'); DROP TABLE customers;-- <script>alert(1)</script>";
    let body = with("generic", "name", json!(name));
    let res = test::call_service(&app, webhook("generic", &body).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let stored: Option<String> = customers::table.select(customers::name).first(&mut db.conn()).unwrap();
    assert_eq!(stored.as_deref(), Some(name));
}
