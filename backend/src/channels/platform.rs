//! The course-platform channel: on grant, extend and revoke, tells the platform where the course
//! lives. Two ways, either or both:
//! - access webhooks: a JSON POST to the course's `access_webhook_url` (catalog) or else
//!   `ACCESS_WEBHOOK_URL`, signed with Standard Webhooks (`ACCESS_WEBHOOK_SECRET`, `whsec_…`) — the
//!   same scheme the generic source verifies, reused from there. `webhook-id` is `trt_{treatment id}`,
//!   identical on every retry, so the platform can drop a repeat;
//! - the templated HTTP mode (`PLATFORM_HTTP_CONFIG`, see `templated`).
//!
//! Every call has a timeout (`PLATFORM_TIMEOUT_MS`); 5xx, 408, 425, 429 and transport failures are
//! retried (429/503 after their `Retry-After`), other 4xx end the treatment at once with the
//! platform's answer. See docs/CHANNELS.md and docs/OPERATIONS.md.

use super::http::{self, classify, Client};
use super::templated::{Action, HttpPlan};
use super::{Channel, Failure};
use crate::config::ConfigError;
use crate::db::Pool;
use crate::ingest::sources::generic;
use crate::schema::{courses, customers, treatments};
use crate::treatments::executor::Job;
use crate::treatments::rules::{TreatmentKind, TreatmentReason};
use chrono::Utc;
use diesel::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use ureq::http as h;

/// Default `PLATFORM_TIMEOUT_MS`.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// `ACCESS_WEBHOOK_URL`, `ACCESS_WEBHOOK_SECRET`, `PLATFORM_TIMEOUT_MS`, `PLATFORM_HTTP_CONFIG`.
#[derive(Clone, Default)]
pub struct PlatformConfig {
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub timeout: Duration,
    pub http_config: Option<PathBuf>,
    pub http: Option<HttpPlan>,
}

impl std::fmt::Debug for PlatformConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformConfig")
            .field("webhook_url", &self.webhook_url.as_deref().map(http::host))
            .field("webhook_secret", &self.webhook_secret.is_some())
            .field("timeout", &self.timeout)
            .field("http", &self.http)
            .finish()
    }
}

impl PlatformConfig {
    /// Reads the variables through `get` (trimmed, empty = unset); `lookup` resolves the `env.NAME`s
    /// of the templated mode's file.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PlatformConfig, ConfigError> {
        let timeout_ms = match get("PLATFORM_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT_MS,
            Some(raw) => raw.parse().ok().filter(|ms| (100..=120_000).contains(ms)).ok_or_else(|| {
                ConfigError(format!(
                    "PLATFORM_TIMEOUT_MS is invalid ({raw:?}): set it to a whole number from 100 to 120000"
                ))
            })?,
        };
        let webhook_url = get("ACCESS_WEBHOOK_URL");
        if let Some(url) = &webhook_url {
            if crate::catalog::domain::access_url(Some(url)).ok().flatten().is_none() {
                return Err(ConfigError(
                    "ACCESS_WEBHOOK_URL is invalid: set it to the http:// or https:// address of the course platform's access webhook".into(),
                ));
            }
        }
        let webhook_secret = get("ACCESS_WEBHOOK_SECRET");
        match &webhook_secret {
            Some(secret) if generic::sign(secret, "x", 0, b"").is_none() || !secret.starts_with("whsec_") => {
                return Err(ConfigError(
                    "ACCESS_WEBHOOK_SECRET is invalid: set it to whsec_ followed by base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)".into(),
                ))
            }
            None if webhook_url.is_some() => {
                return Err(ConfigError(
                    "ACCESS_WEBHOOK_URL is set without ACCESS_WEBHOOK_SECRET: set ACCESS_WEBHOOK_SECRET (whsec_…) to sign the access webhooks".into(),
                ))
            }
            _ => {}
        }
        let http_config = get("PLATFORM_HTTP_CONFIG").map(PathBuf::from);
        let http = match &http_config {
            Some(path) => {
                Some(HttpPlan::load(path, lookup).map_err(|e| ConfigError(format!("PLATFORM_HTTP_CONFIG: {e}")))?)
            }
            None => None,
        };
        Ok(PlatformConfig {
            webhook_url,
            webhook_secret,
            timeout: Duration::from_millis(timeout_ms),
            http_config,
            http,
        })
    }

    /// On when access webhooks can be signed or a templated sequence is configured.
    pub fn enabled(&self) -> bool {
        self.webhook_secret.is_some() || self.http.is_some()
    }

    /// The longest one delivery can take: the webhook plus the longest templated sequence, each call
    /// up to the timeout. The worker's lease must be longer (docs/OPERATIONS.md).
    pub fn max_delivery(&self) -> Duration {
        let calls = u32::from(self.webhook_secret.is_some()) + self.http.as_ref().map_or(0, |p| p.max_steps() as u32);
        self.timeout * calls
    }
}

/// The channel; [`PlatformChannel::new`] only when [`PlatformConfig::enabled`].
pub struct PlatformChannel {
    config: PlatformConfig,
    client: Client,
    pool: Pool,
}

/// What the platform is told about one treatment, read fresh from the database at delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub email: String,
    pub name: Option<String>,
    pub document: Option<String>,
    pub phone: Option<String>,
    pub course: Option<CourseFacts>,
    pub reason: Option<TreatmentReason>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourseFacts {
    pub id: i64,
    pub name: String,
    pub external_id: String,
    pub webhook_url: Option<String>,
}

type FactsRow = (
    Option<TreatmentReason>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<(i64, String, String, Option<String>)>,
);

/// `access.granted` / `access.extended` / `access.revoked`, or `None` for kinds this channel skips.
pub fn event_type(kind: TreatmentKind) -> Option<(&'static str, Action)> {
    match kind {
        TreatmentKind::GrantAccess => Some(("access.granted", Action::Grant)),
        TreatmentKind::ExtendAccess => Some(("access.extended", Action::Extend)),
        TreatmentKind::RevokeAccess => Some(("access.revoked", Action::Revoke)),
        _ => None,
    }
}

/// The stable `webhook-id` of a treatment: the same on every attempt.
pub fn webhook_id(treatment_id: i64) -> String {
    format!("trt_{treatment_id}")
}

/// The access webhook's JSON (and the templated mode's context).
pub fn body(event_type: &str, job: &Job, facts: &Facts) -> Value {
    json!({
        "type": event_type,
        "id": webhook_id(job.id),
        "customer": {
            "email": facts.email,
            "name": facts.name,
            "document": facts.document,
            "phone": facts.phone,
        },
        "course": facts.course.as_ref().map(|c| json!({"id": c.id, "name": c.name, "external_id": c.external_id})),
        "expires_at": job.payload.get("expires_at").cloned().unwrap_or(Value::Null),
        "reason": facts.reason,
    })
}

/// The request of an access webhook: JSON body and the three Standard Webhooks headers.
pub fn signed_request(
    url: &str,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<h::Request<Vec<u8>>, Failure> {
    let signature = generic::sign(secret, id, timestamp, body)
        .ok_or_else(|| Failure::Permanent { error: "ACCESS_WEBHOOK_SECRET is unusable".into() })?;
    h::Request::builder()
        .method("POST")
        .uri(url)
        .header("content-type", "application/json")
        .header(generic::ID_HEADER, id)
        .header(generic::TIMESTAMP_HEADER, timestamp.to_string())
        .header(generic::SIGNATURE_HEADER, signature)
        .body(body.to_vec())
        .map_err(|_| Failure::Permanent { error: format!("invalid webhook URL for {}", http::host(url)) })
}

impl PlatformChannel {
    pub fn new(config: PlatformConfig, pool: Pool) -> PlatformChannel {
        let client = Client::new(config.timeout);
        PlatformChannel { config, client, pool }
    }

    /// Customer, course and reason of treatment `id`.
    fn facts(&self, id: i64) -> Result<Facts, Failure> {
        let retry = |e: String| Failure::Retry { error: format!("reading the treatment: {e}"), after: None };
        let mut conn = self.pool.get().map_err(|e| retry(e.to_string()))?;
        let row = treatments::table
            .inner_join(customers::table)
            .left_join(courses::table)
            .filter(treatments::id.eq(id))
            .select((
                treatments::reason,
                customers::email,
                customers::name,
                customers::document,
                customers::phone,
                (courses::id, courses::name, courses::slug, courses::access_webhook_url).nullable(),
            ))
            .first::<FactsRow>(&mut **conn)
            .map_err(|e| retry(e.to_string()))?;
        let (reason, email, name, document, phone, course) = row;
        Ok(Facts {
            email,
            name,
            document,
            phone,
            course: course.map(|(id, name, external_id, webhook_url)| CourseFacts {
                id,
                name,
                external_id,
                webhook_url,
            }),
            reason,
        })
    }

    fn send_webhook(&self, url: &str, secret: &str, job: &Job, body: &Value) -> Result<String, Failure> {
        let raw = serde_json::to_vec(body).unwrap_or_default();
        let request = signed_request(url, secret, &webhook_id(job.id), Utc::now().timestamp(), &raw)?;
        let answer = self.client.send(request)?;
        classify(&format!("webhook para {}", http::host(url)), &answer, Utc::now())?;
        Ok(format!(
            "webhook {} aceito por {} (HTTP {})",
            body["type"].as_str().unwrap_or(""),
            http::host(url),
            answer.status
        ))
    }
}

/// Sends a signed `access.test` webhook with sample data to `ACCESS_WEBHOOK_URL` (Configurações'
/// "Enviar teste"). The templated mode is not exercised: its calls would create real students.
pub fn send_test(config: &PlatformConfig, admin_email: &str) -> Result<String, Failure> {
    let (Some(url), Some(secret)) = (&config.webhook_url, &config.webhook_secret) else {
        return Err(Failure::permanent(
            "only the access webhook can be tested (ACCESS_WEBHOOK_URL and ACCESS_WEBHOOK_SECRET); the templated mode is not called by a test",
        ));
    };
    let id = format!("test_{}", Utc::now().timestamp_millis());
    let body = json!({
        "type": "access.test",
        "id": id,
        "customer": {"email": admin_email, "name": "Teste da Portaria", "document": null, "phone": null},
        "course": null,
        "expires_at": null,
        "reason": null,
    });
    let raw = serde_json::to_vec(&body).unwrap_or_default();
    let request = signed_request(url, secret, &id, Utc::now().timestamp(), &raw)?;
    let answer = Client::new(config.timeout).send(request)?;
    classify(&format!("webhook para {}", http::host(url)), &answer, Utc::now())?;
    Ok(format!("webhook de teste aceito por {} (HTTP {})", http::host(url), answer.status))
}

impl Channel for PlatformChannel {
    fn name(&self) -> &'static str {
        "platform"
    }

    fn handles(&self, kind: TreatmentKind) -> bool {
        event_type(kind).is_some()
    }

    fn deliver(&self, job: &Job) -> Result<String, Failure> {
        let Some((event, action)) = event_type(job.kind) else { return Ok(String::new()) };
        let facts = self.facts(job.id)?;
        let body = body(event, job, &facts);
        let mut notes = Vec::new();
        let url = facts.course.as_ref().and_then(|c| c.webhook_url.clone()).or_else(|| self.config.webhook_url.clone());
        match (url, &self.config.webhook_secret) {
            (Some(url), Some(secret)) => notes.push(self.send_webhook(&url, secret, job, &body)?),
            (Some(url), None) => {
                log::warn!("access webhook to {} not sent: ACCESS_WEBHOOK_SECRET is not set", http::host(&url));
                notes.push("webhook não enviado: ACCESS_WEBHOOK_SECRET não configurado".into());
            }
            (None, _) => {}
        }
        if let Some(plan) = &self.config.http {
            let mut context = body.clone();
            context["treatment_id"] = json!(job.id);
            context["webhook_id"] = json!(webhook_id(job.id));
            let done = plan.run(&self.client, action, &context)?;
            notes.push(format!("API da plataforma: {done}"));
        }
        if notes.is_empty() {
            notes.push("nenhuma plataforma configurada para este curso".into());
        }
        Ok(format!("Plataforma: {}", notes.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<PlatformConfig, ConfigError> {
        let map: std::collections::HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let get = |k: &str| map.get(k).cloned();
        PlatformConfig::from_lookup(&get, &get)
    }

    const SECRET: &str = "whsec_c2VjcmV0LWZvci1wbGF0Zm9ybS10ZXN0cw==";

    #[test]
    fn configuration() {
        let off = config(&[]).unwrap();
        assert!(!off.enabled());
        assert_eq!(off.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
        let on = config(&[
            ("ACCESS_WEBHOOK_URL", "https://plataforma.example.com/hooks"),
            ("ACCESS_WEBHOOK_SECRET", SECRET),
        ])
        .unwrap();
        assert!(on.enabled());
        assert_eq!(on.max_delivery(), Duration::from_secs(10));
        assert!(!format!("{on:?}").contains(SECRET) && !format!("{on:?}").contains("/hooks"));
        let err = config(&[("ACCESS_WEBHOOK_URL", "https://p.example.com/h")]).unwrap_err();
        assert!(err.0.contains("without ACCESS_WEBHOOK_SECRET"), "{err}");
        let err = config(&[("ACCESS_WEBHOOK_SECRET", "whsec_!!")]).unwrap_err();
        assert!(err.0.starts_with("ACCESS_WEBHOOK_SECRET is invalid"), "{err}");
        let err = config(&[("ACCESS_WEBHOOK_URL", "ftp://x"), ("ACCESS_WEBHOOK_SECRET", SECRET)]).unwrap_err();
        assert!(err.0.starts_with("ACCESS_WEBHOOK_URL is invalid"), "{err}");
        let err = config(&[("PLATFORM_TIMEOUT_MS", "5")]).unwrap_err();
        assert!(err.0.starts_with("PLATFORM_TIMEOUT_MS is invalid"), "{err}");
        let err = config(&[("PLATFORM_HTTP_CONFIG", "/nonexistent/platform.toml")]).unwrap_err();
        assert!(err.0.starts_with("PLATFORM_HTTP_CONFIG: cannot read"), "{err}");
    }

    #[test]
    fn the_request_is_signed_as_the_generic_source_verifies() {
        let raw = br#"{"type":"access.granted"}"#;
        let now = Utc::now();
        let request = signed_request("https://p.example.com/h", SECRET, "trt_7", now.timestamp(), raw).unwrap();
        let headers =
            request.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string())).collect();
        let parts = crate::ingest::event::RequestParts { headers, query: Default::default() };
        assert_eq!(generic::authenticate(SECRET, raw, &parts, now), Ok(()));
        assert_eq!(request.headers()["webhook-id"], "trt_7");
    }

    #[test]
    fn the_body_names_customer_course_and_reason() {
        let job = Job { id: 9, kind: TreatmentKind::RevokeAccess, attempt: 1, payload: json!({"expires_at": null}) };
        let facts = Facts {
            email: "a@b.co".into(),
            name: Some("Ana".into()),
            document: Some("12345678909".into()),
            phone: None,
            course: Some(CourseFacts { id: 3, name: "Curso".into(), external_id: "curso".into(), webhook_url: None }),
            reason: Some(TreatmentReason::PaymentRefunded),
        };
        let (event, _) = event_type(job.kind).unwrap();
        assert_eq!(
            body(event, &job, &facts),
            json!({"type": "access.revoked", "id": "trt_9",
                   "customer": {"email": "a@b.co", "name": "Ana", "document": "12345678909", "phone": null},
                   "course": {"id": 3, "name": "Curso", "external_id": "curso"},
                   "expires_at": null, "reason": "payment_refunded"})
        );
        assert!(event_type(TreatmentKind::WelcomeMessage).is_none());
    }
}
