//! The team and the audit against a real PostgreSQL: roles and their 403s, deactivation ending a session at
//! once, the last-administrator rule, a password change ending the other sessions, the audit's filters
//! and pages.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::{get, json, post, TestDb, INVITE};
use serde_json::{json, Value};

/// Signs up `email` (password "senha-forte-1") and signs in: (user id, bearer header).
async fn member<S, B>(app: &S, email: &str, name: &str) -> (i64, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let body = json!({"email": email, "password": "senha-forte-1", "name": name, "invite_token": INVITE});
    let res = test::call_service(app, TestRequest::post().uri("/api/auth/signup").set_json(body).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{email}");
    let id = json(res).await["id"].as_i64().unwrap();
    (id, login(app, email, "senha-forte-1").await.expect("signs in"))
}

async fn login<S, B>(app: &S, email: &str, password: &str) -> Result<String, u16>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let body = json!({"email": email, "password": password});
    let res = test::call_service(app, TestRequest::post().uri("/api/auth/login").set_json(body).to_request()).await;
    if res.status() != StatusCode::OK {
        return Err(res.status().as_u16());
    }
    Ok(format!("Bearer {}", json(res).await["access_token"].as_str().unwrap()))
}

fn patch(id: i64, token: &str, body: Value) -> actix_web::test::TestRequest {
    TestRequest::patch()
        .uri(&format!("/api/users/{id}"))
        .insert_header(("Authorization", token.to_string()))
        .set_json(body)
}

fn password(token: &str, current: &str, new: &str) -> actix_web::test::TestRequest {
    post("/api/auth/password", token).set_json(json!({"current_password": current, "new_password": new}))
}

/// (status, error code or "")
async fn call<S, B>(app: &S, req: TestRequest) -> (u16, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    let bytes = test::read_body(res).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn admins_list_and_change_users_support_gets_403() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (dona, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, suporte) = member(&app, "bia@escola.com.br", "Bia").await;

    let (status, list) = call(&app, get("/api/users", &admin)).await;
    assert_eq!(status, 200);
    let roles: Vec<(i64, &str, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_i64().unwrap(), u["role"].as_str().unwrap(), u["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(roles, [(bia, "suporte", true), (dona, "admin", true)], "active users by name");
    assert!(!list.to_string().contains("$2"), "no password hash");

    // suporte: 403 on every admin route, but the staff routes stay open
    for req in
        [get("/api/users", &suporte), patch(dona, &suporte, json!({"active": false})), get("/api/audit", &suporte)]
    {
        let (status, body) = call(&app, req).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    }
    for uri in ["/api/customers", "/api/events", "/api/treatments", "/api/stats", "/api/reports/orders.csv"] {
        let res = test::call_service(&app, get(uri, &suporte).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
    }

    // promote Bia: she is an admin at her next request, with the same token
    let (status, user) = call(&app, patch(bia, &admin, json!({"role": "admin"}))).await;
    assert_eq!((status, user["role"].as_str(), user["active"].as_bool()), (200, Some("admin"), Some(true)));
    assert_eq!(call(&app, get("/api/users", &suporte)).await.0, 200);
    // and back
    let (status, user) = call(&app, patch(bia, &admin, json!({"role": "suporte"}))).await;
    assert_eq!((status, user["role"].as_str()), (200, Some("suporte")));
    assert_eq!(call(&app, get("/api/users", &suporte)).await.0, 403);

    // unknown id, unknown role, nothing to change, not JSON
    let (status, body) = call(&app, patch(999_999, &admin, json!({"active": false}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, body) = call(&app, patch(bia, &admin, json!({"role": "dono"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")));
    // a body that changes nothing (no field, or nulls) is the user as they are, and is not audited
    for nothing in [json!({}), json!({"role": null, "active": null})] {
        let (status, body) = call(&app, patch(bia, &admin, nothing)).await;
        assert_eq!((status, body["id"].as_i64()), (200, Some(bia)), "{body}");
    }
    let (status, _) = call(&app, patch(bia, &admin, json!({"active": "no"}))).await;
    assert_eq!(status, 422);
    let res = test::call_service(&app, get("/api/users", "Bearer nope").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_deactivated_user_is_signed_out_at_once_and_can_be_reactivated() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (_, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, suporte) = member(&app, "bia@escola.com.br", "Bia").await;
    assert_eq!(call(&app, get("/api/customers", &suporte)).await.0, 200);

    let (status, user) = call(&app, patch(bia, &admin, json!({"active": false}))).await;
    assert_eq!((status, user["active"].as_bool()), (200, Some(false)));
    let (status, body) = call(&app, get("/api/customers", &suporte)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("session_revoked")), "the very next request");
    assert_eq!(login(&app, "bia@escola.com.br", "senha-forte-1").await, Err(403));

    // reactivated: the old token stays dead, a new sign-in works
    let (status, user) = call(&app, patch(bia, &admin, json!({"active": true}))).await;
    assert_eq!((status, user["active"].as_bool()), (200, Some(true)));
    assert_eq!(call(&app, get("/api/customers", &suporte)).await.0, 401);
    let fresh = login(&app, "bia@escola.com.br", "senha-forte-1").await.unwrap();
    assert_eq!(call(&app, get("/api/customers", &fresh)).await.0, 200);

    // a role change does not end a session
    assert_eq!(call(&app, patch(bia, &admin, json!({"role": "admin"}))).await.0, 200);
    assert_eq!(call(&app, get("/api/users", &fresh)).await.0, 200);
}

#[actix_web::test]
async fn there_is_always_an_active_admin_and_no_admin_removes_themself() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (dona, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, bia_token) = member(&app, "bia@escola.com.br", "Bia").await;

    // the only admin cannot step down
    for change in [json!({"role": "suporte"}), json!({"active": false}), json!({"role": "suporte", "active": false})] {
        let (status, body) = call(&app, patch(dona, &admin, change.clone())).await;
        assert_eq!((status, body["error"]["code"].as_str()), (409, Some("last_admin")), "{change}");
    }
    // with a second admin, still not by themself
    assert_eq!(call(&app, patch(bia, &admin, json!({"role": "admin"}))).await.0, 200);
    let (status, body) = call(&app, patch(dona, &admin, json!({"active": false}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("cannot_change_self")));
    let (status, body) = call(&app, patch(dona, &admin, json!({"role": "suporte"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("cannot_change_self")));
    // a change to oneself that removes nothing is fine
    assert_eq!(call(&app, patch(dona, &admin, json!({"role": "admin", "active": true}))).await.0, 200);
    // ...but another admin may do it; then Bia is the last one
    assert_eq!(call(&app, patch(dona, &bia_token, json!({"role": "suporte"}))).await.0, 200);
    assert_eq!(call(&app, get("/api/users", &admin)).await.0, 403, "Dona is suporte now");
    let (status, body) = call(&app, patch(bia, &bia_token, json!({"active": false}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("last_admin")));

    // the database agrees: one active admin
    use diesel::prelude::*;
    use portaria::schema::users;
    let admins: i64 = users::table
        .filter(users::role.eq("admin"))
        .filter(users::active.eq(true))
        .count()
        .get_result(&mut db.conn())
        .unwrap();
    assert_eq!(admins, 1);
}

#[actix_web::test]
async fn two_admins_removing_each_other_at_once_leave_one() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (dona, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, bia_token) = member(&app, "bia@escola.com.br", "Bia").await;
    assert_eq!(call(&app, patch(bia, &admin, json!({"role": "admin"}))).await.0, 200);
    let (a, b) = futures_util::join!(
        call(&app, patch(bia, &admin, json!({"active": false}))),
        call(&app, patch(dona, &bia_token, json!({"active": false}))),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    // the second one either finds the other admin gone (last_admin) or its own account gone (401/403)
    assert_eq!(statuses[0], 200, "{a:?} {b:?}");
    assert!(matches!(statuses[1], 401 | 403 | 409), "{a:?} {b:?}");
    use diesel::prelude::*;
    use portaria::schema::users;
    let admins: i64 = users::table
        .filter(users::role.eq("admin"))
        .filter(users::active.eq(true))
        .count()
        .get_result(&mut db.conn())
        .unwrap();
    assert_eq!(admins, 1);
}

#[actix_web::test]
async fn a_password_change_ends_the_other_sessions() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (_, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, laptop) = member(&app, "bia@escola.com.br", "Bia").await;
    let phone = login(&app, "bia@escola.com.br", "senha-forte-1").await.unwrap();

    // wrong current password: 422 on that field; a new password that breaks the sign-up rule: 422 on it
    let (status, body) = call(&app, password(&laptop, "errada-123", "nova-senha-1")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")));
    assert!(body["error"]["details"]["fields"]["current_password"].is_string(), "{body}");
    let (status, body) = call(&app, password(&laptop, "senha-forte-1", "curta")).await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["fields"]["new_password"].is_string(), "{body}");
    let (status, _) = call(&app, post("/api/auth/password", &laptop).set_json(json!({"new_password": "x"}))).await;
    assert_eq!(status, 422, "a missing field");
    // nothing changed so far
    assert_eq!(call(&app, get("/api/auth/me", &phone)).await.0, 200);

    let (status, body) = call(&app, password(&laptop, "senha-forte-1", "nova-senha-1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["token_type"].as_str(), body["user"]["id"].as_i64()), (Some("Bearer"), Some(bia)));
    let fresh = format!("Bearer {}", body["access_token"].as_str().unwrap());
    // this session goes on with the fresh token; every older token is dead
    assert_eq!(call(&app, get("/api/auth/me", &fresh)).await.0, 200);
    for old in [&laptop, &phone] {
        let (status, body) = call(&app, get("/api/auth/me", old)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("session_revoked")));
    }
    assert_eq!(login(&app, "bia@escola.com.br", "senha-forte-1").await, Err(401));
    assert!(login(&app, "bia@escola.com.br", "nova-senha-1").await.is_ok());

    // audited, without any secret
    let (_, page) = call(&app, get("/api/audit?action=change_password", &admin)).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"]["id"], bia);
    assert_eq!((items[0]["target"]["type"].as_str(), items[0]["target"]["id"].as_i64()), (Some("user"), Some(bia)));
    let text = page.to_string();
    assert!(!text.contains("senha-forte-1") && !text.contains("nova-senha-1") && !text.contains("$2"), "{text}");
}

#[actix_web::test]
async fn wrong_current_passwords_are_throttled() {
    let db = TestDb::new();
    let mut config = db.config();
    config.login_max_failures = 2;
    let app = app!(db.state_with(config));
    let (_, token) = member(&app, "dona@escola.com.br", "Dona").await;
    for _ in 0..2 {
        assert_eq!(call(&app, password(&token, "errada-123", "nova-senha-1")).await.0, 422);
    }
    let res = test::call_service(&app, password(&token, "senha-forte-1", "nova-senha-1").to_request()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("Retry-After").is_some());
    // signing in is not locked by it
    assert!(login(&app, "dona@escola.com.br", "senha-forte-1").await.is_ok());
}

#[actix_web::test]
async fn the_audit_lists_with_actor_filters_and_pages() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (dona, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, _) = member(&app, "bia@escola.com.br", "Bia").await;
    let (caio, caio_token) = member(&app, "caio@escola.com.br", "Caio").await;
    // Dona: 5 changes to Bia and Caio; Caio (made admin) deactivates Bia
    for (id, change) in [
        (bia, json!({"role": "admin"})),
        (bia, json!({"role": "suporte"})),
        (caio, json!({"role": "admin"})),
        (bia, json!({"active": false})),
        (bia, json!({"active": true})),
    ] {
        assert_eq!(call(&app, patch(id, &admin, change)).await.0, 200);
    }
    assert_eq!(call(&app, patch(bia, &caio_token, json!({"active": false}))).await.0, 200);

    let (status, page) = call(&app, get("/api/audit", &admin)).await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(page["next_cursor"], Value::Null);
    let newest = &items[0];
    assert_eq!(newest["action"], "update_user");
    assert_eq!(newest["actor"], json!({"id": caio, "name": "Caio", "email": "caio@escola.com.br"}));
    assert_eq!(newest["target"], json!({"type": "user", "id": bia, "label": "Bia"}));
    assert_eq!(newest["before"], json!({"role": "suporte", "active": true}));
    assert_eq!(newest["after"], json!({"role": "suporte", "active": false}));
    assert!(newest["created_at"].is_string() && newest["details"].is_object());
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    // filters
    let count = |page: &Value| page["items"].as_array().unwrap().len();
    let (_, page) = call(&app, get(&format!("/api/audit?actor={dona}"), &admin)).await;
    assert_eq!(count(&page), 5);
    let (_, page) = call(&app, get(&format!("/api/audit?actor={caio}&action=update_user"), &admin)).await;
    assert_eq!(count(&page), 1);
    let (_, page) = call(&app, get(&format!("/api/audit?target_type=user&target_id={caio}"), &admin)).await;
    assert_eq!(count(&page), 1);
    let (_, page) = call(&app, get("/api/audit?action=grant_access", &admin)).await;
    assert_eq!(count(&page), 0);
    let today = chrono::Utc::now().date_naive();
    let (_, page) = call(&app, get(&format!("/api/audit?from={today}&to={today}"), &admin)).await;
    assert_eq!(count(&page), 6);
    let (_, page) = call(&app, get(&format!("/api/audit?to={}", today.pred_opt().unwrap()), &admin)).await;
    assert_eq!(count(&page), 0);

    // pages of 4 then 2, with the same entries as one page
    let (_, first) = call(&app, get("/api/audit?limit=4", &admin)).await;
    assert_eq!(count(&first), 4);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = call(&app, get(&format!("/api/audit?limit=4&cursor={cursor}"), &admin)).await;
    assert_eq!(count(&second), 2);
    assert_eq!(second["next_cursor"], Value::Null);
    let paged: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(paged, ids);

    // strict filters
    for bad in
        ["action=delete_everything", "action=", "target_type=planet", "actor=x", "from=ontem", "limit=0", "cursor=x"]
    {
        let (status, body) = call(&app, get(&format!("/api/audit?{bad}"), &admin)).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[actix_web::test]
async fn staff_actions_of_today_are_audited_with_their_actor() {
    let db = TestDb::new();
    let app = app!(db.state());
    let (_, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, suporte) = member(&app, "bia@escola.com.br", "Bia").await;
    let res = test::call_service(
        &app,
        common::webhook("hashtag", &common::simulator("Ana", "ana@example.com", "aprovado", 10.0)).to_request(),
    )
    .await;
    let event = json(res).await["event_id"].as_i64().unwrap();
    // a replay by support is recorded with Bia as its actor
    let res = test::call_service(&app, post(&format!("/api/events/{event}/replay"), &suporte).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = call(&app, get("/api/audit?action=replay_event", &admin)).await;
    let entry = &page["items"][0];
    assert_eq!(entry["actor"]["id"], bia);
    assert_eq!(entry["target"], json!({"type": "webhook_event", "id": event, "label": null}));
}

/// The next chunk of a streamed body (`None` at its end); panics after 10 s of silence.
async fn next_chunk<B: actix_web::body::MessageBody>(body: &mut std::pin::Pin<Box<B>>) -> Option<String> {
    let chunk = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        std::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
    )
    .await
    .expect("the stream answers");
    chunk.map(|c| String::from_utf8_lossy(&c.ok().expect("a chunk")).into_owned())
}

#[actix_web::test]
async fn a_deactivated_users_live_stream_ends_before_the_next_update() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let (_, admin) = member(&app, "dona@escola.com.br", "Dona").await;
    let (bia, suporte) = member(&app, "bia@escola.com.br", "Bia").await;
    let res = test::call_service(&app, get("/api/stream", &suporte).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = Box::pin(res.into_body());
    assert!(next_chunk(&mut body).await.unwrap().contains(": connected"));
    // while the session stands, updates arrive
    let res = test::call_service(
        &app,
        common::webhook("hashtag", &common::simulator("Ana", "ana@example.com", "aprovado", 10.0)).to_request(),
    )
    .await;
    let event = json(res).await["event_id"].as_i64().unwrap();
    state.bus.dispatch(portaria::notify::Signal::Event(event));
    assert!(next_chunk(&mut body).await.unwrap().contains("event: webhook_event"));
    // deactivated: the next update is not sent, the stream ends
    assert_eq!(call(&app, patch(bia, &admin, json!({"active": false}))).await.0, 200);
    state.bus.dispatch(portaria::notify::Signal::Event(event));
    assert_eq!(next_chunk(&mut body).await, None, "the stream ended without the update");
}
