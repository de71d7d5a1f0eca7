//! Security headers on every response, API JSON and errors included: a Content-Security-Policy,
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
//!
//! The staff app is one bundled script and one stylesheet from `/assets`, so its policy allows scripts and
//! styles from its own origin only (no `unsafe-inline`, no `eval`) and forbids framing. Swagger UI under
//! `/api/docs/` gets its own policy (see [`DOCS_CSP`]).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// The staff app, the API and everything else.
pub const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Swagger UI (vendored by utoipa-swagger-ui): its page loads its scripts and stylesheets from files (no inline
/// script); its bundle injects exactly one `<style>` element, allowed here by its hash (checked in Chromium by
/// the e2e run, which fails on any violation: a new Swagger UI version with another style shows up there).
/// Everything else is the app's policy.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The e-mail preview frame (`GET /api/mail/templates/{kind}/frame`, see `channels::preview`): the templates'
/// inline styles and data: or https: images, nothing else; no script (`sandbox` without `allow-scripts`, and
/// `default-src 'none'`); framed by the app's own pages only.
pub const PREVIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; \
     base-uri 'none'; form-action 'none'; sandbox; frame-ancestors 'self'";

pub const REFERRER_POLICY: &str = "no-referrer";

/// The policy for a request path.
pub fn policy_for(path: &str) -> &'static str {
    if path == "/api/docs" || path.starts_with("/api/docs/") {
        DOCS_CSP
    } else if path.starts_with("/api/mail/templates/") && path.ends_with("/frame") {
        PREVIEW_CSP
    } else {
        APP_CSP
    }
}

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(security_headers::add))`, outermost.
/// Handlers, extractors, CORS and the static files all answer errors as responses, which get the headers.
pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = policy_for(req.path());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_policy_allows_no_inline_script_and_no_framing() {
        for policy in [APP_CSP, DOCS_CSP] {
            let script = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap();
            assert_eq!(script, "script-src 'self'");
            assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"));
        }
        assert!(!APP_CSP.contains("unsafe") && !DOCS_CSP.contains("unsafe"));
        assert_eq!(policy_for("/api/docs/"), DOCS_CSP);
        assert_eq!(policy_for("/api/docs/swagger-ui.css"), DOCS_CSP);
        assert_eq!(policy_for("/api/docsx"), APP_CSP);
        assert_eq!(policy_for("/api/customers"), APP_CSP);
        assert_eq!(policy_for("/"), APP_CSP);
    }

    #[test]
    fn the_preview_frame_allows_inline_styles_only_and_the_app_as_its_parent() {
        assert_eq!(policy_for("/api/mail/templates/welcome_message/frame"), PREVIEW_CSP);
        assert_eq!(policy_for("/api/mail/templates/welcome_message/preview"), APP_CSP);
        let directives: Vec<&str> = PREVIEW_CSP.split(';').map(str::trim).collect();
        assert!(directives.contains(&"default-src 'none'") && directives.contains(&"sandbox"));
        assert!(directives.contains(&"frame-ancestors 'self'"));
        assert!(!PREVIEW_CSP.contains("script") && !PREVIEW_CSP.contains("allow-"));
    }
}
