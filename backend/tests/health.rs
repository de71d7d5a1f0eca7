//! Probes, the served frontend and the OpenAPI document.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::{json, TestDb};

#[actix_web::test]
async fn healthz_and_readyz() {
    let db = TestDb::new();
    let app = app!(db.state());
    let res = test::call_service(&app, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["status"], "ok");
    let res = test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["status"], "ready");
}

#[actix_web::test]
async fn readyz_reports_pending_migrations() {
    let db = TestDb::new();
    {
        use diesel::prelude::*;
        diesel::sql_query("DELETE FROM __diesel_schema_migrations").execute(&mut db.conn()).unwrap();
    }
    let app = app!(db.state());
    let res = test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(res).await["error"]["code"], "migrations_pending");
}

#[actix_web::test]
async fn serves_the_frontend_with_history_fallback() {
    let dir = std::env::temp_dir().join(format!("portaria-frontend-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Portaria</title>").unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
    let db = TestDb::new();
    let mut config = db.config();
    config.frontend_dir = dir.clone();
    let app = app!(db.state_with(config));

    for path in ["/", "/clientes/42", "/eventos?source=hotmart"] {
        let res = test::call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body = test::read_body(res).await;
        assert!(String::from_utf8_lossy(&body).contains("<title>Portaria</title>"), "{path}");
    }
    let res = test::call_service(&app, TestRequest::get().uri("/assets/app.js").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, TestRequest::get().uri("/assets/missing.js").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // API paths never fall back to the app shell
    let res = test::call_service(&app, TestRequest::get().uri("/api/missing").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(res).await["error"]["code"], "not_found");
    std::fs::remove_dir_all(dir).ok();
}

#[actix_web::test]
async fn openapi_json_and_swagger_ui_are_served() {
    let db = TestDb::new();
    let app = app!(db.state());
    let res = test::call_service(&app, TestRequest::get().uri("/api/openapi.json").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = json(res).await;
    assert!(doc["paths"]["/api/auth/login"]["post"].is_object());
    let res = test::call_service(&app, TestRequest::get().uri("/api/docs/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8_lossy(&test::read_body(res).await).to_string();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("cdn") && !html.contains("unpkg"), "assets must be vendored");
}

#[actix_web::test]
async fn cors_allows_only_the_configured_origins() {
    let db = TestDb::new();
    let origins = vec!["https://painel.escola.com.br".to_string()];
    let app = actix_web::test::init_service(
        actix_web::App::new().wrap(portaria::app::cors(&origins)).configure(portaria::app::configure(db.state())),
    )
    .await;
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/auth/login")
            .insert_header(("Origin", origin.to_string()))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header(("Access-Control-Request-Headers", "content-type"))
            .to_request()
    };
    let res = test::call_service(&app, preflight("https://painel.escola.com.br")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("access-control-allow-origin").unwrap(), "https://painel.escola.com.br");
    let res = test::try_call_service(&app, preflight("https://evil.example")).await;
    let allowed = res.as_ref().ok().and_then(|r| r.headers().get("access-control-allow-origin").cloned());
    assert!(allowed.is_none(), "another origin is not allowed");
    // same-origin requests (no Origin header) are unaffected
    let res = test::call_service(&app, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}
