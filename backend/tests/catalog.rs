//! The catalog (issue 10): courses and product mappings through the API (every status), their audit, and
//! what they do to ingest — a product mapped to several courses grants, and a refund revokes, every one
//! of them with its own duration; an offer's own mapping wins over the product-wide one; products seen
//! without a mapping are listed until they get one.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use chrono::{DateTime, Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::models::Enrollment;
use portaria::schema::{audit_log, enrollments, orders, treatments};
use portaria::treatments::executor::PrintExecutor;
use serde_json::{json, Value};
use std::sync::Arc;

const PRODUCT: &str = "8d2c1b0a-2222-4e5f-8a9b-abcdefabcdef"; // Product.product_id of kiwify/order_approved.json

fn patch(uri: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::patch().uri(uri).insert_header(("Authorization", token.to_string())).set_json(body)
}

fn post_json(uri: &str, token: &str, body: Value) -> TestRequest {
    post(uri, token).set_json(body)
}

fn delete(uri: &str, token: &str) -> TestRequest {
    TestRequest::delete().uri(uri).insert_header(("Authorization", token.to_string()))
}

/// Calls the app; (status, JSON body or null).
macro_rules! call {
    ($app:expr, $req:expr) => {{
        let res = test::call_service(&$app, $req.to_request()).await;
        let status = res.status();
        let bytes = test::read_body(res).await;
        (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
    }};
}

/// (action, target type, target id, before, after) of every audit entry, oldest first.
type AuditRow = (String, String, Option<i64>, Option<Value>, Option<Value>);

fn audit(db: &TestDb) -> Vec<AuditRow> {
    audit_log::table
        .order(audit_log::id)
        .select((audit_log::action, audit_log::target_type, audit_log::target_id, audit_log::before, audit_log::after))
        .load(&mut db.conn())
        .unwrap()
}

/// The Kiwify approval fixture for another order, customer and (optionally) offer.
fn kiwify(event: &str, order_id: &str, email: &str, offer: Option<&str>) -> String {
    let mut body: Value = serde_json::from_str(&fixture(&format!("kiwify/{event}.json"))).unwrap();
    body["order_id"] = json!(order_id);
    body["Customer"]["email"] = json!(email);
    body["Product"]["product_id"] = json!(PRODUCT);
    if let Some(offer) = offer {
        body["Product"]["product_offer_id"] = json!(offer);
    }
    body.to_string()
}

fn enrollment_of(db: &TestDb, customer_id: i64, course_id: i64) -> Option<Enrollment> {
    enrollments::table
        .filter(enrollments::customer_id.eq(customer_id))
        .filter(enrollments::course_id.eq(course_id))
        .select(Enrollment::as_select())
        .first(&mut db.conn())
        .optional()
        .unwrap()
}

fn close_to(at: Option<DateTime<Utc>>, expected: DateTime<Utc>) -> bool {
    at.is_some_and(|t| (t - expected).num_seconds().abs() < 120)
}

#[actix_web::test]
async fn courses_are_created_listed_changed_and_audited() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;

    let (status, course) = call!(
        app,
        post_json(
            "/api/courses",
            &admin,
            json!({"name": " Confeitaria do Zero ", "access_days": 30, "access_url": "https://membros.example.com/c"})
        )
    );
    assert_eq!(status, StatusCode::CREATED, "{course}");
    assert_eq!(course["name"], "Confeitaria do Zero");
    assert_eq!(course["slug"], "confeitaria-do-zero");
    assert_eq!((course["access_days"].as_i64(), course["active"].as_bool()), (Some(30), Some(true)));
    assert_eq!((course["active_enrollments"].as_i64(), course["mappings"].as_i64()), (Some(0), Some(0)));
    let id = course["id"].as_i64().unwrap();

    // the same name again: its own slug; lifetime when access_days is null or absent
    let (status, twin) = call!(app, post_json("/api/courses", &admin, json!({"name": "Confeitaria do zero!"})));
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((twin["slug"].as_str(), twin["access_days"].is_null()), (Some("confeitaria-do-zero-2"), true));
    let (_, reserved) = call!(app, post_json("/api/courses", &admin, json!({"name": "Default", "active": false})));
    assert_eq!((reserved["slug"].as_str(), reserved["active"].as_bool()), (Some("curso-default"), Some(false)));

    // any staff member reads
    let (status, list) = call!(app, get("/api/courses", &support));
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Confeitaria do Zero", "Confeitaria do zero!", "Default"]);
    let (status, one) = call!(app, get(&format!("/api/courses/{id}"), &support));
    assert_eq!((status, one["access_url"].as_str()), (StatusCode::OK, Some("https://membros.example.com/c")));
    assert_eq!(call!(app, get("/api/courses/999999", &support)).0, StatusCode::NOT_FOUND);

    // a partial update: absent fields stay, null sets lifetime, the slug is stable
    let (status, changed) =
        call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"name": "Confeitaria", "access_days": null})));
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["slug"].as_str()),
        (Some("Confeitaria"), Some("confeitaria-do-zero"))
    );
    assert!(changed["access_days"].is_null());
    assert_eq!(changed["access_url"], "https://membros.example.com/c", "absent: unchanged");
    let (_, changed) =
        call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"access_days": 365, "access_url": ""})));
    assert_eq!((changed["access_days"].as_i64(), changed["access_url"].is_null()), (Some(365), true));
    // the course platform's webhook: set, then removed (null falls back to ACCESS_WEBHOOK_URL)
    assert!(changed["access_webhook_url"].is_null());
    let hook = "https://plataforma.example.com/hooks/portaria";
    let (status, changed) =
        call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"access_webhook_url": hook})));
    assert_eq!((status, changed["access_webhook_url"].as_str()), (StatusCode::OK, Some(hook)), "{changed}");
    let (status, e) =
        call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"access_webhook_url": "ftp://x"})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["details"]["fields"]["access_webhook_url"].is_string(), "{e}");
    let (_, changed) = call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"access_webhook_url": null})));
    assert!(changed["access_webhook_url"].is_null());
    // nothing changes: nothing audited
    let (status, _) = call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"access_days": 365})));
    assert_eq!(status, StatusCode::OK);

    // errors
    let (status, e) =
        call!(app, post_json("/api/courses", &admin, json!({"name": " ", "access_days": 0, "access_url": "ftp://x"})));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")));
    let fields = &e["error"]["details"]["fields"];
    assert!(fields["name"].is_string() && fields["access_days"].is_string() && fields["access_url"].is_string(), "{e}");
    let (status, _) = call!(app, post_json("/api/courses", &admin, json!({"access_days": 30})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a name is required");
    let (status, _) = call!(app, post_json("/api/courses", &admin, json!({"name": "X", "access_days": 36501})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call!(app, patch(&format!("/api/courses/{id}"), &admin, json!({"name": ""})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call!(app, patch("/api/courses/999999", &admin, json!({"name": "Y"})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    for req in [
        post_json("/api/courses", &support, json!({"name": "Suporte"})),
        patch(&format!("/api/courses/{id}"), &support, json!({"name": "Suporte"})),
    ] {
        let (status, e) = call!(app, req);
        assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    }

    let entries = audit(&db);
    let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create_course",
            "create_course",
            "create_course",
            "update_course",
            "update_course",
            "update_course",
            "update_course"
        ]
    );
    let (_, target, target_id, before, after) = &entries[3];
    assert_eq!((target.as_str(), *target_id), ("course", Some(id)));
    assert_eq!(before.as_ref().unwrap()["access_days"], 30);
    assert!(after.as_ref().unwrap()["access_days"].is_null());
    assert_eq!(after.as_ref().unwrap()["name"], "Confeitaria");
    assert!(entries[0].3.is_none() && entries[0].4.as_ref().unwrap()["slug"] == "confeitaria-do-zero");
}

#[actix_web::test]
async fn mappings_are_created_changed_deleted_and_audited() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;
    let (_, a) = call!(app, post_json("/api/courses", &admin, json!({"name": "A", "access_days": 30})));
    let (_, b) = call!(app, post_json("/api/courses", &admin, json!({"name": "B"})));
    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    let body = json!({"source": "kiwify", "external_product_id": PRODUCT, "course_ids": [b, a, b]});
    let (status, mapping) = call!(app, post_json("/api/products", &admin, body.clone()));
    assert_eq!(status, StatusCode::CREATED, "{mapping}");
    assert!(mapping["offer_code"].is_null());
    let ids: Vec<i64> = mapping["courses"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [a, b], "by id, without repeats");
    let id = mapping["id"].as_i64().unwrap();

    // the same product and offer again: 409; "" is no offer
    let mut blank_offer = body.clone();
    blank_offer["offer_code"] = json!("");
    let (status, e) = call!(app, post_json("/api/products", &admin, blank_offer));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("mapping_exists")));
    // another offer of the product is another mapping
    let offer = json!({"source": "kiwify", "external_product_id": PRODUCT, "offer_code": "vip", "course_ids": [b]});
    let (status, vip) = call!(app, post_json("/api/products", &admin, offer));
    assert_eq!(status, StatusCode::CREATED);
    let vip = vip["id"].as_i64().unwrap();

    // 422: no course, an unknown source, a blank product, a body that is no object
    for (bad, field) in [
        (json!({"source": "kiwify", "external_product_id": "p", "course_ids": []}), Some("course_ids")),
        (json!({"source": "kiwify", "external_product_id": " ", "course_ids": [a]}), Some("external_product_id")),
        (json!({"source": "braip", "external_product_id": "p", "course_ids": [a]}), None),
        (json!(["kiwify", "p", null, [a]]), None),
    ] {
        let (status, e) = call!(app, post_json("/api/products", &admin, bad.clone()));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        if let Some(field) = field {
            assert!(e["error"]["details"]["fields"][field].is_string(), "{e}");
        }
    }
    // 404: an id that is no course
    let unknown = json!({"source": "kiwify", "external_product_id": "p", "course_ids": [a, 999999]});
    let (status, e) = call!(app, post_json("/api/products", &admin, unknown));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("course_not_found")), "{e}");
    assert_eq!(e["error"]["details"]["course_ids"], json!([999999]));

    // any staff member lists them: the product-wide one first
    let (status, list) = call!(app, get("/api/products", &support));
    assert_eq!((status, list["kind"].as_str()), (StatusCode::OK, Some("mappings")));
    let offers: Vec<Value> = list["items"].as_array().unwrap().iter().map(|m| m["offer_code"].clone()).collect();
    assert_eq!(offers, [Value::Null, json!("vip")]);

    // changes
    let (status, changed) = call!(app, patch(&format!("/api/products/{id}"), &admin, json!({"course_ids": [a]})));
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["courses"].as_array().unwrap().len(), 1);
    let (status, e) = call!(app, patch(&format!("/api/products/{id}"), &admin, json!({"offer_code": "vip"})));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("mapping_exists")));
    let (status, _) = call!(app, patch(&format!("/api/products/{id}"), &admin, json!({"course_ids": []})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call!(app, patch(&format!("/api/products/{id}"), &admin, json!([])));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a body that is no object");
    let (status, e) = call!(app, patch(&format!("/api/products/{id}"), &admin, json!({"course_ids": [999999]})));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("course_not_found")));
    let (status, _) = call!(app, patch("/api/products/999999", &admin, json!({"course_ids": [a]})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, course_a) = call!(app, get(&format!("/api/courses/{a}"), &admin));
    assert_eq!(course_a["mappings"], 1);

    // only admins change
    for req in [
        post_json(
            "/api/products",
            &support,
            json!({"source": "kiwify", "external_product_id": "x", "course_ids": [a]}),
        ),
        patch(&format!("/api/products/{id}"), &support, json!({"course_ids": [b]})),
        delete(&format!("/api/products/{id}"), &support),
    ] {
        assert_eq!(call!(app, req).0, StatusCode::FORBIDDEN);
    }

    let res = test::call_service(&app, delete(&format!("/api/products/{vip}"), &admin).to_request()).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(call!(app, delete(&format!("/api/products/{vip}"), &admin)).0, StatusCode::NOT_FOUND);

    let entries: Vec<_> = audit(&db).into_iter().filter(|e| e.1 == "product_mapping").collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        ["create_product_mapping", "create_product_mapping", "update_product_mapping", "delete_product_mapping"]
    );
    let update = &entries[2];
    assert_eq!(update.3.as_ref().unwrap()["course_ids"], json!([a, b]));
    assert_eq!(update.4.as_ref().unwrap()["course_ids"], json!([a]));
    let deleted = &entries[3];
    assert_eq!(
        (deleted.2, deleted.3.as_ref().unwrap()["offer_code"].as_str(), deleted.4.is_none()),
        (Some(vip), Some("vip"), true)
    );
}

#[actix_web::test]
async fn a_kiwify_product_mapped_to_two_courses_grants_both_and_a_refund_revokes_both() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let (_, month) = call!(
        app,
        post_json(
            "/api/courses",
            &admin,
            json!({"name": "Mensal", "access_days": 30, "access_url": "https://membros.example.com/mensal"})
        )
    );
    let (_, lifetime) =
        call!(app, post_json("/api/courses", &admin, json!({"name": "Vitalício", "access_days": null})));
    let (month, lifetime) = (month["id"].as_i64().unwrap(), lifetime["id"].as_i64().unwrap());
    let (status, _) = call!(
        app,
        post_json(
            "/api/products",
            &admin,
            json!({"source": "kiwify", "external_product_id": PRODUCT, "course_ids": [month, lifetime]})
        )
    );
    assert_eq!(status, StatusCode::CREATED);

    // one signed approval grants both, each with its own end
    let (status, answer) = call!(app, webhook("kiwify", &fixture("kiwify/order_approved.json")));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("processed")), "{answer}");
    let kinds: Vec<&str> =
        answer["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["grant_access", "welcome_message", "grant_access", "welcome_message"]);
    assert!(answer["note"].is_null());
    let customer = answer["customer_id"].as_i64().unwrap();
    let m = enrollment_of(&db, customer, month).expect("the 30-day course");
    let l = enrollment_of(&db, customer, lifetime).expect("the lifetime course");
    assert_eq!((m.status.to_string(), l.status.to_string()), ("active".into(), "active".into()));
    assert!(close_to(m.expires_at, Utc::now() + Duration::days(30)), "{:?}", m.expires_at);
    assert_eq!(l.expires_at, None);
    let order_course: Option<i64> = orders::table.select(orders::course_id).first(&mut db.conn()).unwrap();
    assert_eq!(order_course, None, "a multi-course order has no single course");
    let (_, course) = call!(app, get(&format!("/api/courses/{month}"), &admin));
    assert_eq!((course["active_enrollments"].as_i64(), course["mappings"].as_i64()), (Some(1), Some(1)));
    // no automatic course was created for the mapped product
    let (_, unmapped) = call!(app, get("/api/products?unmapped=true", &admin));
    assert_eq!(unmapped["items"], json!([]));

    // the welcome of the course with an access URL says where to go
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let outputs: Vec<(Option<i64>, String, Option<String>)> = treatments::table
        .order(treatments::id)
        .select((treatments::course_id, treatments::kind, treatments::output))
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(
        outputs[1],
        (
            Some(month),
            "welcome_message".to_string(),
            Some("Enviar mensagem de boas vindas para o email: joao.teste@example.com (acesso: https://membros.example.com/mensal)".into())
        )
    );
    assert_eq!(outputs[3].2.as_deref(), Some("Enviar mensagem de boas vindas para o email: joao.teste@example.com"));

    // a new duration applies to new grants: the granted end does not move
    call!(app, patch(&format!("/api/courses/{month}"), &admin, json!({"access_days": 90})));
    assert_eq!(enrollment_of(&db, customer, month).unwrap().expires_at, m.expires_at);

    // the refund of that order revokes both, with one refund message
    let (_, answer) = call!(app, webhook("kiwify", &fixture("kiwify/order_refunded.json")));
    let kinds: Vec<(&str, i64)> = answer["treatments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["kind"].as_str().unwrap(), t["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds.iter().map(|k| k.0).collect::<Vec<_>>(), ["revoke_access", "refund_message", "revoke_access"]);
    for course in [month, lifetime] {
        let e = enrollment_of(&db, customer, course).unwrap();
        assert_eq!(e.status, "revoked", "course {course}");
    }
    let status: String = orders::table.select(orders::status).first(&mut db.conn()).unwrap();
    assert_eq!(status, "refunded");
}

#[actix_web::test]
async fn an_offers_own_mapping_wins_over_the_product_wide_one() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let wide = call!(app, post_json("/api/courses", &admin, json!({"name": "Produto"}))).1["id"].as_i64().unwrap();
    let vip = call!(app, post_json("/api/courses", &admin, json!({"name": "VIP"}))).1["id"].as_i64().unwrap();
    for (offer, courses) in [(Value::Null, json!([wide])), (json!("oferta-vip"), json!([vip]))] {
        let body =
            json!({"source": "kiwify", "external_product_id": PRODUCT, "offer_code": offer, "course_ids": courses});
        assert_eq!(call!(app, post_json("/api/products", &admin, body)).0, StatusCode::CREATED);
    }
    let cases = [
        ("o-1", "vip@example.com", Some("oferta-vip"), vip),
        ("o-2", "outra@example.com", Some("outra"), wide),
        ("o-3", "sem@example.com", None, wide),
    ];
    for (order, email, offer, expected) in cases {
        let (_, answer) = call!(app, webhook("kiwify", &kiwify("order_approved", order, email, offer)));
        let customer = answer["customer_id"].as_i64().unwrap();
        let granted: Vec<i64> = enrollments::table
            .filter(enrollments::customer_id.eq(customer))
            .select(enrollments::course_id)
            .load(&mut db.conn())
            .unwrap();
        assert_eq!(granted, [expected], "offer {offer:?}");
    }
    // a single-course order keeps its course
    let with_course: i64 =
        orders::table.filter(orders::course_id.is_not_null()).count().get_result(&mut db.conn()).unwrap();
    assert_eq!(with_course, 3);
}

#[actix_web::test]
async fn products_seen_without_a_mapping_are_listed_until_mapped() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;

    let (_, answer) = call!(app, webhook("kiwify", &kiwify("order_approved", "o-1", "ana@example.com", None)));
    assert_eq!(answer["outcome"], "processed");
    let (status, list) = call!(app, get("/api/products?unmapped=true", &support));
    assert_eq!((status, list["kind"].as_str()), (StatusCode::OK, Some("unmapped")));
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let item = &items[0];
    assert_eq!((item["source"].as_str(), item["external_product_id"].as_str()), (Some("kiwify"), Some(PRODUCT)));
    assert_eq!(item["product_name"], "Curso Exemplo de Confeitaria");
    assert_eq!(
        (item["orders"].as_i64(), item["course_name"].as_str()),
        (Some(1), Some("Curso Exemplo de Confeitaria"))
    );
    assert!(item["first_seen"].is_string());
    let automatic = item["course_id"].as_i64().unwrap();
    let (_, stats) = call!(app, get("/api/stats", &support));
    assert_eq!(stats["totals"]["unmapped_products"], 1);
    // the simulator has no products: nothing to map
    call!(app, webhook("hashtag", &simulator("Bia", "bia@example.com", "aprovado", 10.0)));
    let (_, stats) = call!(app, get("/api/stats", &support));
    assert_eq!(stats["totals"]["unmapped_products"], 1);

    // mapped (even to one offer only): no longer listed, and its webhooks grant the mapping's courses
    let (_, course) =
        call!(app, post_json("/api/courses", &admin, json!({"name": "Confeitaria Pro", "access_days": 365})));
    let course = course["id"].as_i64().unwrap();
    let body = json!({"source": "kiwify", "external_product_id": PRODUCT, "course_ids": [course]});
    call!(app, post_json("/api/products", &admin, body));
    let (_, list) = call!(app, get("/api/products?unmapped=true", &support));
    assert_eq!(list["items"], json!([]));
    let (_, stats) = call!(app, get("/api/stats", &support));
    assert_eq!(stats["totals"]["unmapped_products"], 0);
    let (_, answer) = call!(app, webhook("kiwify", &kiwify("order_approved", "o-2", "caio@example.com", None)));
    let customer = answer["customer_id"].as_i64().unwrap();
    assert!(enrollment_of(&db, customer, course).is_some());
    assert!(enrollment_of(&db, customer, automatic).is_none());

    let (status, e) = call!(app, get("/api/products?unmapped=talvez", &support));
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
}

#[actix_web::test]
async fn an_approval_of_a_mapped_offer_in_hotmart_and_generic() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let (_, course) = call!(app, post_json("/api/courses", &admin, json!({"name": "Oferta", "access_days": 7})));
    let course = course["id"].as_i64().unwrap();
    let hotmart: Value = serde_json::from_str(&fixture("hotmart/purchase_approved.json")).unwrap();
    let product = hotmart["data"]["product"]["ucode"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| hotmart["data"]["product"]["id"].to_string());
    for (source, product, offer) in
        [("hotmart", product.as_str(), "abc123xy"), ("generic", "curso-confeitaria", "anual")]
    {
        let body =
            json!({"source": source, "external_product_id": product, "offer_code": offer, "course_ids": [course]});
        assert_eq!(call!(app, post_json("/api/products", &admin, body)).0, StatusCode::CREATED);
    }
    let (_, answer) = call!(app, webhook("hotmart", &hotmart.to_string()));
    let customer = answer["customer_id"].as_i64().unwrap();
    let e = enrollment_of(&db, customer, course).expect("hotmart: data.purchase.offer.code");
    assert!(close_to(e.expires_at, Utc::now() + Duration::days(7)));

    let mut generic: Value = serde_json::from_str(&fixture("generic/approved.json")).unwrap();
    generic["product"]["offer_code"] = json!("anual");
    let (_, answer) = call!(app, webhook("generic", &generic.to_string()));
    let customer = answer["customer_id"].as_i64().unwrap();
    assert!(enrollment_of(&db, customer, course).is_some(), "generic: product.offer_code");
}

/// Hotmart keys a product by its `ucode`, but a SUBSCRIPTION_CANCELLATION carries the numeric `id`
/// only: the purchases remember `id` → `ucode`, so the cancellation ends the course the product is
/// mapped to (not a new automatic course), and a mapping typed with the numeric id applies to
/// purchases that carry the `ucode`.
#[actix_web::test]
async fn a_hotmart_cancellation_that_names_the_numeric_id_only_ends_the_course_mapped_by_ucode() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let new_course = |name: &str| json!({"name": name, "access_days": 30});
    let club = call!(app, post_json("/api/courses", &admin, new_course("Clube"))).1["id"].as_i64().unwrap();
    let by_id = call!(app, post_json("/api/courses", &admin, new_course("Confeitaria"))).1["id"].as_i64().unwrap();
    let mappings = [("club-ucode-0001", club), ("4100123", by_id)];
    for (product, course) in mappings {
        let body = json!({"source": "hotmart", "external_product_id": product, "course_ids": [course]});
        assert_eq!(call!(app, post_json("/api/products", &admin, body)).0, StatusCode::CREATED);
    }

    // The club's purchase: id 4100456 with its ucode, by the subscriber of the cancellation fixture.
    let mut purchase: Value = serde_json::from_str(&fixture("hotmart/purchase_approved.json")).unwrap();
    purchase["data"]["product"]["id"] = json!(4100456);
    purchase["data"]["product"]["ucode"] = json!("club-ucode-0001");
    purchase["data"]["buyer"]["email"] = json!("joao.teste@example.com");
    purchase["data"]["purchase"]["transaction"] = json!("HP-CLUB-0001");
    let (_, answer) = call!(app, webhook("hotmart", &purchase.to_string()));
    let customer = answer["customer_id"].as_i64().unwrap();
    assert!(enrollment_of(&db, customer, club).is_some(), "{answer}");

    let period_end = (Utc::now() + Duration::days(20)).timestamp_millis();
    let mut cancellation: Value = serde_json::from_str(&fixture("hotmart/subscription_cancellation.json")).unwrap();
    cancellation["data"]["date_next_charge"] = json!(period_end);
    assert_eq!(cancellation["data"]["product"], json!({"id": 4100456, "name": "Clube Exemplo de Receitas"}));
    let (status, answer) = call!(app, webhook("hotmart", &cancellation.to_string()));
    assert_eq!((status, answer["outcome"].as_str()), (StatusCode::OK, Some("processed")), "{answer}");
    let revokes: Vec<(Option<i64>, DateTime<Utc>)> = treatments::table
        .filter(treatments::kind.eq("revoke_access"))
        .select((treatments::course_id, treatments::run_at))
        .load(&mut db.conn())
        .unwrap();
    let end = DateTime::<Utc>::from_timestamp_millis(period_end).unwrap();
    assert_eq!(revokes, [(Some(club), end)], "the club's access ends with its paid period");
    assert_eq!(enrollment_of(&db, customer, club).unwrap().expires_at, Some(end));
    let (_, list) = call!(app, get("/api/products?unmapped=true", &admin));
    assert_eq!(list["items"], json!([]), "no automatic course for the numeric id");

    // A mapping typed with the numeric id: the purchases that carry the ucode grant its course.
    let (_, answer) = call!(app, webhook("hotmart", &fixture("hotmart/purchase_approved.json")));
    let customer = answer["customer_id"].as_i64().unwrap();
    assert!(enrollment_of(&db, customer, by_id).is_some(), "{answer}");
}

// ---- 408: a stalled body on the catalog's write routes (over real sockets) ----------------------

#[actix_web::test]
async fn a_stalled_catalog_body_is_408() {
    use std::io::{Read, Write};
    let db = TestDb::new();
    let mut config = db.config();
    config.body_read_timeout = std::time::Duration::from_millis(800);
    let state = db.state_with(config);
    let app = app!(state.clone());
    let token = staff_token(&app).await;
    let (_, course) = call!(app, post_json("/api/courses", &token, json!({"name": "A"})));
    let course = course["id"].as_i64().unwrap();
    let body = json!({"source": "kiwify", "external_product_id": "p", "course_ids": [course]});
    let (_, mapping) = call!(app, post_json("/api/products", &token, body));
    let mapping = mapping["id"].as_i64().unwrap();

    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(portaria::body_deadline::bound))
            .configure(portaria::app::configure(state.clone()))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    for (method, path) in [
        ("POST", "/api/courses".to_string()),
        ("PATCH", format!("/api/courses/{course}")),
        ("POST", "/api/products".to_string()),
        ("PATCH", format!("/api/products/{mapping}")),
    ] {
        let token = token.clone();
        let answer = actix_web::web::block(move || {
            let body = r#"{"name": "Curso parado no meio do caminho"}"#;
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
            stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).expect("the server closes the connection");
            answer
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("request_timeout"), "{answer}");
    }
    handle.stop(false).await;
}
