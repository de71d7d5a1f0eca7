//! The OpenAPI document, generated from the handlers. The paths come from the route registry
//! (`app::routes`); this module adds the info, tags, shared components and security scheme.
//! `portaria openapi` prints it as YAML and the committed `openapi.yaml` must equal it (tests/openapi.rs).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portaria",
        description = "Payment webhooks in, course access out, every decision on record.\n\nStaff endpoints need `Authorization: Bearer <access_token>` from `POST /api/auth/login`. Every error has the body `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        license(name = "MIT")
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, crate::ingest::event::Source)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes"),
        (name = "metrics", description = "Prometheus metrics"),
        (name = "auth", description = "Staff accounts and sessions"),
        (name = "webhooks", description = "Payment platforms deliver their events here"),
        (name = "customers", description = "Search customers and see everything that happened to them"),
        (name = "events", description = "The webhook log"),
        (name = "treatments", description = "What Portaria did or will do for each customer"),
        (name = "reports", description = "CSV exports"),
        (name = "stats", description = "Dashboard numbers"),
        (name = "stream", description = "Live updates (Server-Sent Events)"),
        (name = "team", description = "Staff users, roles and deactivation (administrators only)"),
        (name = "audit", description = "Who did what, to which target, why (administrators only)"),
        (name = "access", description = "Manual access: grant, extend, revoke, resend the welcome, bulk actions and the CSV import"),
        (name = "catalog", description = "Courses and product mappings: which product (and offer) grants which courses, for how long"),
        (name = "settings", description = "Configurações: what is on and how (secrets masked), and a test send per channel (administrators only)"),
        (name = "mail", description = "The customer e-mails: their templates, previewed with sample data (administrators only)"),
        (name = "simulator", description = "Simulador: plays a scenario's signed deliveries against this same server (administrators only; off with SIMULATOR_ENABLED=false)"),
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

/// The whole document, without a server: the registry is applied to a throwaway `App`, which
/// collects every registered handler's operation and schemas into `ApiDoc`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::app::routes)
        .split_for_parts();
    // The crate version would make the contract change on every release bump; the API has its own.
    doc.info.version = "1.0.0".into();
    doc
}

pub fn yaml() -> String {
    document().to_yaml().expect("the OpenAPI document serialises to YAML")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_operation_ids_are_unique() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let mut found = vec![];
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
            assert!(doc["components"]["schemas"][name].is_object(), "dangling $ref {r}");
        }
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operationId values must be unique");
    }
}
