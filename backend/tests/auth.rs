//! Staff authentication against a real PostgreSQL: every rule of the sign-up, login and token checks.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::{json, TestDb, INVITE};
use serde_json::{json, Value};

fn signup_req(email: &str, password: &str, token: Option<&str>) -> TestRequest {
    let mut body = json!({"email": email, "password": password, "name": "Ana Souza"});
    if let Some(t) = token {
        body["invite_token"] = json!(t);
    }
    TestRequest::post().uri("/api/auth/signup").set_json(body)
}

fn login_req(email: &str, password: &str) -> TestRequest {
    TestRequest::post().uri("/api/auth/login").set_json(json!({"email": email, "password": password}))
}

#[actix_web::test]
async fn signup_login_me() {
    let db = TestDb::new();
    let app = app!(db.state());

    let res = test::call_service(&app, signup_req("Ana@Escola.com.br", "s3nha-forte", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = json(res).await;
    assert_eq!(user["email"], "ana@escola.com.br");
    assert_eq!(user["name"], "Ana Souza");
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    assert!(!user.to_string().contains("$2"), "no hash in {user}");

    // log in with the e-mail in another case
    let res = test::call_service(&app, login_req("ANA@escola.com.br", "s3nha-forte").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 480 * 60);
    let token = body["access_token"].as_str().unwrap().to_string();

    let res = test::call_service(
        &app,
        TestRequest::get().uri("/api/auth/me").insert_header(("Authorization", format!("Bearer {token}"))).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = json(res).await;
    assert_eq!(me["email"], "ana@escola.com.br");
    assert!(me["last_login_at"].is_string());

    // the password is stored as a bcrypt hash
    use diesel::prelude::*;
    use portaria::schema::users;
    let hash: String = users::table.select(users::password_hash).first(&mut db.conn()).unwrap();
    assert!(hash.starts_with("$2") && !hash.contains("s3nha-forte"));
}

#[actix_web::test]
async fn signup_needs_the_exact_invite_token() {
    let db = TestDb::new();
    let app = app!(db.state());
    for token in [None, Some(""), Some("wrong"), Some("UHDFAAADF123"), Some("uhdfaAADF123 ")] {
        let res = test::call_service(&app, signup_req("a@b.com", "12345678", token).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert_eq!(json(res).await["error"]["code"], "invalid_invite_token");
    }
    // a configured token replaces the default
    let mut config = db.config();
    config.signup_token = "outro-token".into();
    let app = app!(db.state_with(config));
    let res = test::call_service(&app, signup_req("a@b.com", "12345678", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = test::call_service(&app, signup_req("a@b.com", "12345678", Some("outro-token")).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn signup_rejects_duplicates_and_invalid_fields() {
    let db = TestDb::new();
    let app = app!(db.state());
    let res = test::call_service(&app, signup_req("ana@b.com", "12345678", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = test::call_service(&app, signup_req("  ANA@B.com", "87654321", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(json(res).await["error"]["code"], "email_taken");

    let res = test::call_service(&app, signup_req("bia@b.com", "1234567", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(body["error"]["details"]["fields"]["password"].is_string());

    let res = test::call_service(&app, signup_req("not-an-email", "12345678", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(res).await["error"]["details"]["fields"]["email"].is_string());

    // a body without the required fields is a 422 too, a broken body a 400, and not JSON a 415
    let res = test::call_service(
        &app,
        TestRequest::post().uri("/api/auth/signup").set_json(json!({"invite_token": INVITE})).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri("/api/auth/signup")
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{\"email\": ")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await["error"]["code"], "invalid_json");
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri("/api/auth/signup")
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("x")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json(res).await["error"]["code"], "unsupported_media_type");
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri("/api/auth/signup")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(vec![b' '; 100 * 1024])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // a NUL character (which PostgreSQL text cannot hold) is an invalid field, not a server error
    let body = json!({"email": "nul@b.com", "password": "12345678", "name": "A\u{0}na", "invite_token": INVITE});
    let res = test::call_service(&app, TestRequest::post().uri("/api/auth/signup").set_json(body).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(res).await["error"]["details"]["fields"]["name"].is_string());
    let res = test::call_service(&app, signup_req("n\u{0}ul@b.com", "12345678", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn a_nul_character_in_the_login_is_wrong_credentials() {
    let db = TestDb::new();
    let app = app!(db.state());
    let res = test::call_service(&app, signup_req("ana@b.com", "12345678", Some(INVITE)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for (email, password) in [("ana@b.com\u{0}", "12345678"), ("\u{0}", "x"), ("ana@b.com", "1234\u{0}5678")] {
        let res = test::call_service(&app, login_req(email, password).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{email:?}");
        assert_eq!(json(res).await["error"]["code"], "invalid_credentials");
    }
    let res = test::call_service(&app, login_req("ana@b.com", "12345678").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn login_failures_look_the_same() {
    let db = TestDb::new();
    let app = app!(db.state());
    test::call_service(&app, signup_req("ana@b.com", "12345678", Some(INVITE)).to_request()).await;
    let wrong_password = test::call_service(&app, login_req("ana@b.com", "errada123").to_request()).await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let a = json(wrong_password).await;
    let unknown = test::call_service(&app, login_req("ninguem@b.com", "12345678").to_request()).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let b = json(unknown).await;
    assert_eq!(a, b);
    assert_eq!(a["error"]["code"], "invalid_credentials");
}

#[actix_web::test]
async fn repeated_failures_are_refused_for_a_while() {
    let db = TestDb::new();
    let mut config = db.config();
    config.login_max_failures = 3;
    let app = app!(db.state_with(config));
    test::call_service(&app, signup_req("ana@b.com", "12345678", Some(INVITE)).to_request()).await;

    let from = |ip: &str, email: &str, pw: &str| {
        login_req(email, pw).peer_addr(format!("{ip}:40000").parse().unwrap()).to_request()
    };
    for _ in 0..3 {
        let res = test::call_service(&app, from("10.0.0.1", "ana@b.com", "errada123")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // the account is locked, even with the right password and from another address
    let res = test::call_service(&app, from("10.0.0.2", "ana@b.com", "12345678")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers().get("Retry-After").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
    assert_eq!(json(res).await["error"]["code"], "too_many_requests");
    // the address is locked for other accounts too
    let res = test::call_service(&app, from("10.0.0.1", "bia@b.com", "whatever1")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // an unrelated address and account still get a normal answer
    let res = test::call_service(&app, from("10.0.0.3", "bia@b.com", "whatever1")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn bad_tokens_are_401() {
    let db = TestDb::new();
    let state = db.state();
    let secret = state.config.jwt_secret.clone();
    let app = app!(state);
    test::call_service(&app, signup_req("ana@b.com", "12345678", Some(INVITE)).to_request()).await;
    let now = chrono::Utc::now().timestamp();

    let expired = portaria::auth::jwt::issue(1, "ana@b.com", 0, &secret, 60, now - 3600).unwrap();
    let wrong_key =
        portaria::auth::jwt::issue(1, "ana@b.com", 0, "another-secret-of-32-characters!!", 60, now).unwrap();
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_token"),
        (Some("Bearer".into()), "missing_token"),
        (Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l".into()), "missing_token"),
        (Some("Bearer not-a-jwt".into()), "invalid_token"),
        (Some(format!("Bearer {expired}")), "token_expired"),
        (Some(format!("Bearer {wrong_key}")), "invalid_token"),
    ];
    for (header, code) in cases {
        let mut req = TestRequest::get().uri("/api/auth/me");
        if let Some(h) = &header {
            req = req.insert_header(("Authorization", h.as_str()));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(res.headers().get("WWW-Authenticate").unwrap(), "Bearer");
        let body: Value = json(res).await;
        assert_eq!(body["error"]["code"], code, "{header:?}");
    }
}

#[actix_web::test]
async fn unknown_api_routes_are_json_404() {
    let db = TestDb::new();
    let app = app!(db.state());
    let res = test::call_service(&app, TestRequest::get().uri("/api/nope").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(res).await["error"]["code"], "not_found");
}

#[actix_web::test]
async fn the_first_account_is_admin_and_the_next_ones_suporte() {
    let db = TestDb::new();
    let app = app!(db.state());
    for (email, role) in
        [("dona@escola.com.br", "admin"), ("bia@escola.com.br", "suporte"), ("caio@escola.com.br", "suporte")]
    {
        let res = test::call_service(&app, signup_req(email, "s3nha-forte", Some(INVITE)).to_request()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let user = json(res).await;
        assert_eq!((user["role"].as_str(), user["active"].as_bool()), (Some(role), Some(true)), "{email}");
        let res = test::call_service(&app, login_req(email, "s3nha-forte").to_request()).await;
        let body = json(res).await;
        assert_eq!(body["user"]["role"], role);
        let me = test::call_service(
            &app,
            common::get("/api/auth/me", &format!("Bearer {}", body["access_token"].as_str().unwrap())).to_request(),
        )
        .await;
        assert_eq!(json(me).await["role"], role);
    }
}

#[actix_web::test]
async fn a_deactivated_account_loses_its_sessions_at_once_and_cannot_sign_in() {
    use diesel::prelude::*;
    use portaria::schema::users;
    let db = TestDb::new();
    let app = app!(db.state());
    test::call_service(&app, signup_req("bia@escola.com.br", "s3nha-forte", Some(INVITE)).to_request()).await;
    let res = test::call_service(&app, login_req("bia@escola.com.br", "s3nha-forte").to_request()).await;
    let token = format!("Bearer {}", json(res).await["access_token"].as_str().unwrap());
    let res = test::call_service(&app, common::get("/api/customers", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);

    diesel::update(users::table).set(users::active.eq(false)).execute(&mut db.conn()).unwrap();
    let res = test::call_service(&app, common::get("/api/customers", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"]["code"], "session_revoked");
    let res = test::call_service(&app, login_req("bia@escola.com.br", "s3nha-forte").to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(res).await["error"]["code"], "account_deactivated");
    // a wrong password still says only "wrong e-mail or password"
    let res = test::call_service(&app, login_req("bia@escola.com.br", "errada-123").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // reactivated: the old token stays dead once the version moved on; a new sign-in works
    diesel::update(users::table)
        .set((users::active.eq(true), users::token_version.eq(users::token_version + 1)))
        .execute(&mut db.conn())
        .unwrap();
    let res = test::call_service(&app, common::get("/api/customers", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = test::call_service(&app, login_req("bia@escola.com.br", "s3nha-forte").to_request()).await;
    let token = format!("Bearer {}", json(res).await["access_token"].as_str().unwrap());
    let res = test::call_service(&app, common::get("/api/customers", &token).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}
