//! The HTTP application: the route registry, the extractor configuration and the fallbacks.

use crate::error::ErrorCode;
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{access, auth, catalog, frontend, health, ingest, metrics, openapi, settings, staff};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

/// JSON bodies of the staff API (webhooks read their raw body with their own limit).
const API_JSON_LIMIT: usize = 64 * 1024;

/// Every documented route, listed once: the app registers these services and `openapi::document()`
/// collects their `#[utoipa::path]` operations from the same list (utoipa-actix-web).
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(auth::handlers::signup)
        .service(auth::handlers::login)
        .service(auth::handlers::me)
        .service(auth::handlers::change_password)
        .service(ingest::handler::receive)
        .service(staff::customers::list)
        .service(staff::customers::detail)
        .service(staff::customers::timeline)
        .service(staff::events::list)
        .service(staff::events::detail)
        .service(staff::events::replay)
        .service(staff::treatments::list)
        .service(staff::treatments::retry)
        .service(staff::reports::customers_csv)
        .service(staff::reports::treatments_csv)
        .service(staff::reports::orders_csv)
        .service(staff::stats::stats)
        .service(staff::stream::stream)
        .service(staff::team::list)
        .service(staff::team::update)
        .service(staff::audit_routes::list)
        .service(access::handlers::change_access)
        .service(access::handlers::resend_welcome)
        .service(access::handlers::bulk)
        .service(access::handlers::import_access)
        .service(catalog::handlers::list_courses)
        .service(catalog::handlers::create_course)
        .service(catalog::handlers::get_course)
        .service(catalog::handlers::update_course)
        .service(catalog::handlers::list_products)
        .service(catalog::handlers::create_mapping)
        .service(catalog::handlers::update_mapping)
        .service(catalog::handlers::delete_mapping)
        .service(settings::handlers::get_settings)
        .service(settings::handlers::test_channel)
        .service(crate::channels::preview::list_templates)
        .service(crate::channels::preview::preview_template)
        .service(crate::channels::preview::preview_frame);
}

pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let frontend_dir = state.config.frontend_dir.clone();
        let document = openapi::document();
        let allowed = allowed_methods(&document);
        cfg.app_data(web::Data::new(state))
            .app_data(web::JsonConfig::default().limit(API_JSON_LIMIT).error_handler(error::json_error))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error));
        routes(&mut ServiceConfig::new(cfg));
        cfg.service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", document)).service(
            web::resource("/api/docs").to(|| async {
                actix_web::HttpResponse::PermanentRedirect().insert_header(("Location", "/api/docs/")).finish()
            }),
        );
        // A documented path called with another method: 405 with `Allow`. Registered after the
        // routes above, so it only answers what none of them took.
        for (path, methods) in allowed {
            let allow = methods.join(", ");
            cfg.service(web::resource(path).default_service(web::to(move |req: HttpRequest| {
                let allow = allow.clone();
                async move { method_not_allowed(&req, &allow) }
            })));
        }
        cfg.service(web::scope("/api").default_service(web::to(api_not_found)))
            .service(web::scope("/webhooks").default_service(web::to(api_not_found)))
            .configure(frontend::configure(frontend_dir));
    }
}

async fn api_not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(ErrorCode::NotFound, "No such API route."))
}

/// Every path of the OpenAPI document with its methods (upper case, sorted). The document is
/// generated from the handlers, so this is the routing table.
pub fn allowed_methods(document: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<String>)> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let doc = serde_json::to_value(document).unwrap_or_default();
    let Some(paths) = doc["paths"].as_object() else { return vec![] };
    paths
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item
                .as_object()
                .map(|ops| ops.keys().filter(|m| METHODS.contains(&m.as_str())).map(|m| m.to_uppercase()).collect())
                .unwrap_or_default();
            methods.sort();
            (path.clone(), methods)
        })
        .collect()
}

fn method_not_allowed(req: &HttpRequest, allow: &str) -> HttpResponse {
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed here; use {allow}.", req.method()),
    )
    .with_details(json!({ "allow": allow.split(", ").collect::<Vec<_>>() }));
    let mut res = error.error_response();
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// CORS from `CORS_ORIGINS`; none by default (the SPA is served from the same origin).
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    origins.iter().fold(
        actix_cors::Cors::default()
            .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
            .allowed_headers([actix_web::http::header::AUTHORIZATION, actix_web::http::header::CONTENT_TYPE])
            .max_age(3600),
        |cors, origin| cors.allowed_origin(origin),
    )
}
