//! The OpenAPI document, generated from the handlers. `portaria openapi` prints it as YAML and the
//! committed `openapi.yaml` must equal it (tests/openapi.rs).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portaria",
        description = "Payment webhooks in, course access out, every decision on record.\n\nStaff endpoints need `Authorization: Bearer <access_token>` from `POST /api/auth/login`. Every error has the body `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        license(name = "MIT")
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::auth::handlers::signup,
        crate::auth::handlers::login,
        crate::auth::handlers::me,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes"),
        (name = "auth", description = "Staff accounts and sessions"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // The crate version would make the contract change on every release bump; the API has its own.
    doc.info.version = "1.0.0".into();
    doc
}

pub fn yaml() -> String {
    document().to_yaml().expect("the OpenAPI document serialises to YAML")
}
