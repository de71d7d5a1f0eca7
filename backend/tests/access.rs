//! Manual access against a real PostgreSQL: grant, extend, revoke and resend the welcome on one
//! customer (every status), the treatments they queue run by the worker like webhook-driven ones, the
//! timeline shows who did them and why, the audit log has them; bulk extend/revoke of a course.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use chrono::{DateTime, Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::schema::{audit_log, courses, enrollments, treatments};
use portaria::treatments::executor::PrintExecutor;
use serde_json::{json, Value};
use std::sync::Arc;

macro_rules! call_json {
    ($app:expr, $req:expr) => {{
        let res = test::call_service($app, $req.to_request()).await;
        let status = res.status();
        (status, json(res).await)
    }};
}

/// A course straight in the catalog table (the catalog screens are another module's).
fn course(db: &TestDb, slug: &str, name: &str, days: Option<i32>) -> i64 {
    diesel::insert_into(courses::table)
        .values((courses::slug.eq(slug), courses::name.eq(name), courses::access_days.eq(days)))
        .returning(courses::id)
        .get_result(&mut db.conn())
        .unwrap()
}

/// (action, reason, before, after)
type AuditRow = (String, Option<String>, Option<Value>, Option<Value>);
/// (status, output, actor, staff reason)
type BulkTreatment = (String, Option<String>, Option<i64>, Option<String>);

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap()
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_seconds().abs() < 60
}

fn kinds(answer: &Value) -> Vec<String> {
    answer["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect()
}

fn access(customer: i64, token: &str, body: Value) -> TestRequest {
    post(&format!("/api/customers/{customer}/access"), token).set_json(body)
}

/// A customer created by an approved webhook (the simulator's default course, lifetime).
async fn customer<S, B>(app: &S, name: &str, email: &str) -> i64
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, webhook("hashtag", &simulator(name, email, "aprovado", 97.0)).to_request()).await;
    json(res).await["customer_id"].as_i64().unwrap()
}

#[actix_web::test]
async fn grant_extend_revoke_and_welcome_with_every_status() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;
    let ana = customer(&app, "Ana Lima", "ana@example.com").await;
    let monthly = course(&db, "mensal", "Curso Mensal", Some(30));

    // grant for 10 days, by a support user
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "grant", "course_id": monthly, "days": 10, "reason": "Cortesia"}))
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enrollment"]["status"], "active");
    assert_eq!(body["enrollment"]["course_name"], "Curso Mensal");
    assert!(close(at(&body["enrollment"]["expires_at"]), Utc::now() + Duration::days(10)));
    assert_eq!(kinds(&body), ["grant_access", "welcome_message"]);
    let t = &body["treatments"][0];
    assert_eq!((t["reason"].as_str(), t["staff_reason"].as_str()), (Some("manual"), Some("Cortesia")));
    assert_eq!(t["actor"]["name"], "Equipe");
    assert!(t["actor"]["id"].is_i64());
    assert!(t["event_id"].is_null());
    let ten_days = at(&body["enrollment"]["expires_at"]);

    // a second grant while active
    let (status, body) =
        call_json!(&app, access(ana, &support, json!({"action": "grant", "course_id": monthly, "reason": "de novo"})));
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "access_already_active");

    // extend by 10 days from the current end
    let (status, body) = call_json!(
        &app,
        access(
            ana,
            &support,
            json!({"action": "extend", "course_id": monthly, "days": 10, "reason": "Atraso na entrega"})
        )
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(at(&body["enrollment"]["expires_at"]), ten_days + Duration::days(10));
    assert_eq!(kinds(&body), ["extend_access"]);

    // extend until a date before the current end: 422 on `until`
    let soon = (Utc::now() + Duration::days(3)).format("%Y-%m-%d").to_string();
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "extend", "course_id": monthly, "until": soon, "reason": "x"}))
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["details"]["fields"]["until"].is_string(), "{body}");

    // extend until a later date: the end of that day in São Paulo
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "extend", "course_id": monthly, "until": "31/12/2099", "reason": "x"}))
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enrollment"]["expires_at"], "2100-01-01T02:59:59Z");

    // lifetime, then nothing more to extend
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "extend", "course_id": monthly, "lifetime": true, "reason": "VIP"}))
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["enrollment"]["expires_at"].is_null());
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "extend", "course_id": monthly, "days": 5, "reason": "x"}))
    );
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("access_lifetime")));

    // revoke, then revoke again and extend: not active
    let (status, body) = call_json!(
        &app,
        access(ana, &support, json!({"action": "revoke", "course_id": monthly, "reason": "Pediu cancelamento"}))
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enrollment"]["status"], "revoked");
    assert!(body["enrollment"]["revoked_at"].is_string());
    assert_eq!(kinds(&body), ["revoke_access"]);
    for action in [json!({"action": "revoke"}), json!({"action": "extend", "days": 3})] {
        let mut req = action.clone();
        req["course_id"] = json!(monthly);
        req["reason"] = json!("x");
        let (status, body) = call_json!(&app, access(ana, &support, req));
        assert_eq!(status, StatusCode::CONFLICT, "{action}");
        assert_eq!(body["error"]["code"], "access_not_active", "{action}");
        assert!(body["error"]["message"].as_str().unwrap().contains("no active access"));
    }
    // the welcome cannot be resent either
    let (status, body) = call_json!(
        &app,
        post(&format!("/api/customers/{ana}/welcome"), &support).set_json(json!({"course_id": monthly}))
    );
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("access_not_active")));

    // granted again with no term: the course's 30 days
    let (status, body) =
        call_json!(&app, access(ana, &admin, json!({"action": "grant", "course_id": monthly, "reason": "Voltou"})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(close(at(&body["enrollment"]["expires_at"]), Utc::now() + Duration::days(30)));
    assert!(body["enrollment"]["revoked_at"].is_null());
    assert_eq!(body["treatments"][0]["actor"]["id"], body["treatments"][1]["actor"]["id"]);

    // resend the welcome (reason optional)
    let (status, body) = call_json!(
        &app,
        post(&format!("/api/customers/{ana}/welcome"), &support)
            .set_json(json!({"course_id": monthly, "reason": "Não recebeu o e-mail"}))
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(kinds(&body), ["welcome_message"]);
    assert_eq!(body["treatments"][0]["staff_reason"], "Não recebeu o e-mail");
    let (status, _) = call_json!(
        &app,
        post(&format!("/api/customers/{ana}/welcome"), &support).set_json(json!({"course_id": monthly}))
    );
    assert_eq!(status, StatusCode::OK);

    // 422: reason missing, blank, with a NUL; bad terms
    for bad in [
        json!({"action": "grant", "course_id": monthly}),
        json!({"action": "grant", "course_id": monthly, "reason": "   "}),
        json!({"action": "grant", "course_id": monthly, "reason": "a\u{0}b"}),
    ] {
        let (status, body) = call_json!(&app, access(ana, &support, bad.clone()));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert!(body["error"]["details"]["fields"]["reason"].is_string(), "{body}");
    }
    for (bad, field) in [
        (json!({"action": "revoke", "days": 3}), "action"),
        (json!({"action": "extend"}), "days"),
        (json!({"action": "grant", "days": 0}), "days"),
        (json!({"action": "grant", "days": 3, "lifetime": true}), "days"),
        (json!({"action": "grant", "until": "2001-01-01"}), "until"),
        (json!({"action": "grant", "until": "amanhã"}), "until"),
    ] {
        let mut req = bad.clone();
        req["course_id"] = json!(monthly);
        req["reason"] = json!("motivo");
        let (status, body) = call_json!(&app, access(ana, &support, req));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body["error"]["details"]["fields"][field].is_string(), "{bad}: {body}");
    }
    let (status, _) =
        call_json!(&app, access(ana, &support, json!({"action": "pause", "course_id": monthly, "reason": "x"})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown action");

    // 404: customer, course
    let (status, body) =
        call_json!(&app, access(999_999, &support, json!({"action": "grant", "course_id": monthly, "reason": "x"})));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) =
        call_json!(&app, access(ana, &support, json!({"action": "grant", "course_id": 999_999, "reason": "x"})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        call_json!(&app, post("/api/customers/999999/welcome", &support).set_json(json!({"course_id": monthly})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    // 401
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri(&format!("/api/customers/{ana}/access"))
            .set_json(json!({"action": "grant", "course_id": monthly, "reason": "x"}))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // the audit log: one entry per action, with the reason and the enrollment before and after
    let entries: Vec<AuditRow> = audit_log::table
        .order(audit_log::id)
        .select((audit_log::action, audit_log::reason, audit_log::before, audit_log::after))
        .load(&mut db.conn())
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "grant_access",
            "extend_access",
            "extend_access",
            "extend_access",
            "revoke_access",
            "grant_access",
            "resend_welcome",
            "resend_welcome"
        ]
    );
    assert_eq!(entries[0].1.as_deref(), Some("Cortesia"));
    assert!(entries[0].2.is_none(), "nothing before the first grant");
    assert_eq!(entries[4].2.as_ref().unwrap()["status"], "active");
    assert_eq!(entries[4].3.as_ref().unwrap()["status"], "revoked");
    assert_eq!(entries[6].1.as_deref(), Some("Não recebeu o e-mail"));

    // the worker runs them like any treatment
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let outputs: Vec<(String, String, Option<String>)> = treatments::table
        .filter(treatments::course_id.eq(monthly))
        .order(treatments::id)
        .select((treatments::kind, treatments::status, treatments::output))
        .load(&mut db.conn())
        .unwrap();
    assert!(outputs.iter().all(|(_, status, _)| status == "done"), "{outputs:?}");
    let lines: Vec<&str> = outputs.iter().filter_map(|(_, _, o)| o.as_deref()).collect();
    assert_eq!(lines[0], "Liberar acesso do e-mail: ana@example.com");
    assert_eq!(lines[1], "Enviar mensagem de boas vindas para o email: ana@example.com");
    assert!(lines[2].starts_with("Estender acesso do e-mail: ana@example.com até "), "{}", lines[2]);
    assert_eq!(lines[3], "Estender acesso do e-mail: ana@example.com até 2099-12-31", "the day in São Paulo");
    assert_eq!(lines[4], "Estender acesso do e-mail: ana@example.com (acesso vitalício)");
    assert_eq!(lines[5], "Tirar acesso do e-mail: ana@example.com");

    // the timeline shows who did each manual treatment and why; webhook ones have no actor
    let (status, body) = call_json!(&app, get(&format!("/api/customers/{ana}/timeline"), &support));
    assert_eq!(status, StatusCode::OK);
    let ts: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "treatment")
        .map(|i| &i["treatment"])
        .collect();
    let webhook_ones: Vec<&&Value> = ts.iter().filter(|t| t["reason"] == "payment_approved").collect();
    assert_eq!(webhook_ones.len(), 2);
    assert!(webhook_ones.iter().all(|t| t["actor"].is_null() && t["staff_reason"].is_null()));
    let revoke = ts.iter().find(|t| t["kind"] == "revoke_access").unwrap();
    assert_eq!(revoke["actor"]["name"], "Equipe");
    assert_eq!(revoke["staff_reason"], "Pediu cancelamento");
    // and so does the treatments list
    let (_, body) = call_json!(&app, get("/api/treatments?kind=revoke_access", &support));
    assert_eq!(body["items"][0]["staff_reason"], "Pediu cancelamento");
}

#[actix_web::test]
async fn extending_cancels_a_scheduled_revocation() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    let bia = customer(&app, "Bia", "bia@example.com").await;
    let monthly = course(&db, "mensal", "Curso Mensal", Some(30));
    let (status, _) = call_json!(
        &app,
        access(bia, &token, json!({"action": "grant", "course_id": monthly, "days": 5, "reason": "x"}))
    );
    assert_eq!(status, StatusCode::OK);
    // a revocation scheduled for the current end (as a cancelled subscription leaves one)
    let end: DateTime<Utc> = enrollments::table
        .filter(enrollments::course_id.eq(monthly))
        .select(enrollments::expires_at.assume_not_null())
        .first(&mut db.conn())
        .unwrap();
    diesel::insert_into(treatments::table)
        .values((
            treatments::kind.eq("revoke_access"),
            treatments::run_at.eq(end),
            treatments::customer_id.eq(bia),
            treatments::course_id.eq(monthly),
        ))
        .execute(&mut db.conn())
        .unwrap();
    let (status, _) = call_json!(
        &app,
        access(bia, &token, json!({"action": "extend", "course_id": monthly, "days": 30, "reason": "x"}))
    );
    assert_eq!(status, StatusCode::OK);
    let scheduled: String = treatments::table
        .filter(treatments::kind.eq("revoke_access"))
        .select(treatments::status)
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(scheduled, "canceled");
}

#[actix_web::test]
async fn bulk_extend_and_revoke_a_cohort() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;
    let cohort = course(&db, "turma-marco", "Turma de março", Some(30));
    let other = course(&db, "outro", "Outro curso", Some(30));
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(customer(&app, &format!("Aluno {i}"), &format!("aluno{i}@example.com")).await);
    }
    let grant = |customer: i64, course: i64, extra: Value| {
        let mut body = json!({"action": "grant", "course_id": course, "reason": "turma"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        access(customer, &admin, body)
    };
    for (i, id) in ids.iter().enumerate() {
        let extra = if i == 4 { json!({"lifetime": true}) } else { json!({"days": 10}) };
        let (status, _) = call_json!(&app, grant(*id, cohort, extra));
        assert_eq!(status, StatusCode::OK);
    }
    // one revoked (not in the cohort any more), one in another course only
    call_json!(&app, access(ids[3], &admin, json!({"action": "revoke", "course_id": cohort, "reason": "saiu"})));
    call_json!(&app, grant(ids[0], other, json!({"days": 10})));
    let count_treatments = || treatments::table.count().get_result::<i64>(&mut db.conn()).unwrap();
    let count_audit = || audit_log::table.count().get_result::<i64>(&mut db.conn()).unwrap();
    let bulk = |token: &str, query: &str, body: Value| {
        post(&format!("/api/courses/{cohort}/enrollments/bulk{query}"), token).set_json(body)
    };

    // 403 for support, 404 for an unknown course, 422 without a reason or a term
    let (status, body) = call_json!(&app, bulk(&support, "", json!({"action": "revoke", "reason": "fim"})));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = call_json!(
        &app,
        post("/api/courses/999999/enrollments/bulk", &admin).set_json(json!({"action": "revoke", "reason": "fim"}))
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in [
        json!({"action": "revoke"}),
        json!({"action": "extend", "reason": "x"}),
        json!({"action": "revoke", "days": 3, "reason": "x"}),
        json!({"action": "extend", "days": 3, "until": "2099-01-01", "reason": "x"}),
    ] {
        let (status, body) = call_json!(&app, bulk(&admin, "", bad.clone()));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, _) = call_json!(&app, bulk(&admin, "?dry_run=talvez", json!({"action": "revoke", "reason": "x"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // dry run: the count, nothing written
    let (treatments_before, audit_before) = (count_treatments(), count_audit());
    let (status, body) =
        call_json!(&app, bulk(&admin, "?dry_run=true", json!({"action": "extend", "days": 7, "reason": "reposição"})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["dry_run"].as_bool(), body["active"].as_u64(), body["changed"].as_u64(), body["skipped"].as_u64()),
        (Some(true), Some(4), Some(3), Some(1)),
        "4 active, the lifetime one left alone: {body}"
    );
    assert_eq!((count_treatments(), count_audit()), (treatments_before, audit_before));

    // extend for real: each from its own end
    let ends = || -> Vec<(i64, Option<DateTime<Utc>>)> {
        enrollments::table
            .filter(enrollments::course_id.eq(cohort))
            .order(enrollments::customer_id)
            .select((enrollments::customer_id, enrollments::expires_at))
            .load(&mut db.conn())
            .unwrap()
    };
    let before = ends();
    let (status, body) =
        call_json!(&app, bulk(&admin, "?dry_run=false", json!({"action": "extend", "days": 7, "reason": "reposição"})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["dry_run"].as_bool(), body["changed"].as_u64()), (Some(false), Some(3)));
    let after = ends();
    for ((id, b), (_, a)) in before.iter().zip(&after) {
        let expected =
            if *id == ids[0] || *id == ids[1] || *id == ids[2] { b.map(|t| t + Duration::days(7)) } else { *b };
        assert_eq!(*a, expected, "customer {id}");
    }
    assert_eq!(count_treatments(), treatments_before + 3);
    let (action, reason, details): (String, Option<String>, Value) = audit_log::table
        .order(audit_log::id.desc())
        .select((audit_log::action, audit_log::reason, audit_log::details))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!((action.as_str(), reason.as_deref()), ("bulk_extend", Some("reposição")));
    assert_eq!(details["changed"], 3);

    // until a date: only those ending before it
    let (status, body) =
        call_json!(&app, bulk(&admin, "", json!({"action": "extend", "until": "2099-06-30", "reason": "prorrogação"})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], 3);
    let (_, body) = call_json!(
        &app,
        bulk(&admin, "?dry_run=true", json!({"action": "extend", "until": "2099-01-01", "reason": "x"}))
    );
    assert_eq!((body["changed"].as_u64(), body["skipped"].as_u64()), (Some(0), Some(4)), "never shortened");

    // end the cohort
    let (status, body) = call_json!(&app, bulk(&admin, "", json!({"action": "revoke", "reason": "Fim da turma"})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["active"].as_u64(), body["changed"].as_u64()), (Some(4), Some(4)));
    let statuses: Vec<String> = enrollments::table
        .filter(enrollments::course_id.eq(cohort))
        .select(enrollments::status)
        .load(&mut db.conn())
        .unwrap();
    assert!(statuses.iter().all(|s| s == "revoked"), "{statuses:?}");
    let other_status: String = enrollments::table
        .filter(enrollments::course_id.eq(other))
        .select(enrollments::status)
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(other_status, "active", "another course is untouched");
    let (status, body) = call_json!(&app, bulk(&admin, "", json!({"action": "revoke", "reason": "de novo"})));
    assert_eq!((status, body["changed"].as_u64()), (StatusCode::OK, Some(0)), "nobody left");

    // the worker runs the bulk treatments; they carry the actor and the reason
    worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    let revokes: Vec<BulkTreatment> = treatments::table
        .filter(treatments::course_id.eq(cohort))
        .filter(treatments::reason.eq("bulk"))
        .filter(treatments::kind.eq("revoke_access"))
        .select((treatments::status, treatments::output, treatments::actor_user_id, treatments::staff_reason))
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(revokes.len(), 4);
    for (status, output, actor, reason) in revokes {
        assert_eq!(status, "done");
        assert!(output.unwrap().starts_with("Tirar acesso do e-mail: aluno"));
        assert!(actor.is_some());
        assert_eq!(reason.as_deref(), Some("Fim da turma"));
    }
}
