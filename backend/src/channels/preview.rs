//! GET /api/mail/templates and /api/mail/templates/{kind}/preview (admin): the e-mail templates as they
//! render with sample data, so the seller sees each message before a customer does.
//!
//! The HTML part keeps its inline styles (what e-mail clients read best), which the app's CSP
//! (`style-src 'self'`) would refuse in an `srcdoc` or blob frame: those inherit the parent's policy. So the
//! app shows it in a sandboxed `<iframe>` whose document comes from `GET /api/mail/templates/{kind}/frame`,
//! served with its own narrow policy ([`crate::security_headers::PREVIEW_CSP`]: inline styles, no script,
//! `sandbox`, framed by the app only). A frame cannot send the Bearer header, so the JSON preview hands out
//! a `frame_url` carrying a short-lived ticket: an HMAC, keyed by a key derived from `JWT_SECRET`, over the
//! kind and the expiry. It opens that one kind's sample preview for [`TICKET_TTL_SECS`] and nothing else,
//! so a ticket that ends up in a log reveals only sample data.

use super::mail::{sample_payload, Templates, KINDS};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;
use crate::treatments::rules::TreatmentKind;
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

/// How long the ticket of a `frame_url` opens the frame (seconds).
pub const TICKET_TTL_SECS: i64 = 120;

#[derive(Serialize, ToSchema)]
pub struct MailTemplateList {
    /// E-mail is sent (`SMTP_URL` is set); otherwise only the console line is written.
    pub enabled: bool,
    /// Templates are read from `MAIL_TEMPLATES_DIR` when it holds a file of the same name.
    pub templates_dir_set: bool,
    pub items: Vec<MailTemplateInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct MailTemplateInfo {
    pub kind: TreatmentKind,
    /// The three files of the kind: subject, plain text, HTML.
    pub files: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MailPreview {
    pub kind: TreatmentKind,
    pub subject: String,
    pub text: String,
    /// The HTML part, values escaped; show it in a sandboxed frame.
    pub html: String,
    /// The HTML part as a document for a sandboxed `<iframe src>` (with its own CSP): this path with a
    /// ticket valid for a short while (`GET /api/mail/templates/{kind}/frame`).
    pub frame_url: String,
}

#[derive(Deserialize, IntoParams)]
pub struct FrameQuery {
    /// The ticket of the `frame_url` given by the JSON preview.
    pub ticket: Option<String>,
}

fn ticket_mac(secret: &str, kind: TreatmentKind, expires: i64) -> Hmac<Sha256> {
    // A key of its own, derived from JWT_SECRET, so a ticket can never pass for anything else.
    let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    derive.update(b"portaria mail preview ticket v1");
    let key = derive.finalize().into_bytes();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(format!("{kind}\n{expires}").as_bytes());
    mac
}

/// A ticket for the frame of `kind`, valid until `now + TICKET_TTL_SECS`: `<expiry>.<hex HMAC>`.
pub fn issue_ticket(secret: &str, kind: TreatmentKind, now: i64) -> String {
    let expires = now + TICKET_TTL_SECS;
    format!("{expires}.{}", hex::encode(ticket_mac(secret, kind, expires).finalize().into_bytes()))
}

/// Whether `ticket` opens the frame of `kind` at `now` (the MAC compared in constant time).
pub fn ticket_opens(secret: &str, kind: TreatmentKind, ticket: &str, now: i64) -> bool {
    let Some((expires, mac)) = ticket.split_once('.') else { return false };
    let (Ok(expires), Ok(mac)) = (expires.parse::<i64>(), hex::decode(mac)) else { return false };
    expires >= now && ticket_mac(secret, kind, expires).verify_slice(&mac).is_ok()
}

fn mail_kind(kind: &str) -> ApiResult<TreatmentKind> {
    TreatmentKind::parse(kind)
        .filter(|k| KINDS.contains(k))
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No e-mail template of that kind."))
}

fn templates(state: &AppState) -> ApiResult<Templates> {
    let dir = state.config.mail.as_ref().and_then(|m| m.templates_dir.clone());
    Templates::load(dir.as_deref()).map_err(|e| ApiError::internal(e.0))
}

/// The message kinds the e-mail channel sends (admin).
#[utoipa::path(
    tag = "mail",
    operation_id = "list_mail_templates",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The kinds and their template files", body = MailTemplateList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/mail/templates")]
pub async fn list_templates(state: web::Data<AppState>, _admin: AdminUser) -> ApiResult<web::Json<MailTemplateList>> {
    let mail = state.config.mail.as_ref();
    let items = KINDS
        .iter()
        .map(|kind| MailTemplateInfo {
            kind: *kind,
            files: ["subject.txt", "txt", "html"].iter().map(|ext| format!("{kind}.{ext}")).collect(),
        })
        .collect();
    Ok(web::Json(MailTemplateList {
        enabled: mail.is_some(),
        templates_dir_set: mail.is_some_and(|m| m.templates_dir.is_some()),
        items,
    }))
}

/// One kind's e-mail rendered with sample data: subject, text and HTML (admin).
#[utoipa::path(
    tag = "mail",
    operation_id = "preview_mail_template",
    security(("bearer" = [])),
    params(("kind" = String, Path, description = "A treatment kind the e-mail channel sends (see `GET /api/mail/templates`)")),
    responses(
        (status = 200, description = "The rendered message", body = MailPreview),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "Not a kind the e-mail channel sends (`not_found`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/mail/templates/{kind}/preview")]
pub async fn preview_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    kind: web::Path<String>,
) -> ApiResult<web::Json<MailPreview>> {
    let kind = mail_kind(&kind)?;
    let rendered = templates(&state)?.render(kind, &sample_payload(kind)).map_err(ApiError::internal)?;
    let ticket = issue_ticket(&state.config.jwt_secret, kind, chrono::Utc::now().timestamp());
    Ok(web::Json(MailPreview {
        kind,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        frame_url: format!("/api/mail/templates/{kind}/frame?ticket={ticket}"),
    }))
}

/// One kind's HTML part as a document for a sandboxed frame, opened by the ticket of `frame_url` (no Bearer
/// header: a frame cannot send one). Served with its own CSP (inline styles, no script, `sandbox`, framed by
/// the app only) and `Cache-Control: no-store`. Reads no database.
#[utoipa::path(
    tag = "mail",
    operation_id = "mail_template_frame",
    params(
        ("kind" = String, Path, description = "A treatment kind the e-mail channel sends"),
        FrameQuery,
    ),
    responses(
        (status = 200, description = "The HTML part rendered with sample data", content_type = "text/html", body = String),
        (status = 401, description = "The ticket is missing, wrong or expired (`invalid_token`): open the preview again", body = ErrorBody),
        (status = 404, description = "Not a kind the e-mail channel sends (`not_found`)", body = ErrorBody),
    )
)]
#[get("/api/mail/templates/{kind}/frame")]
pub async fn preview_frame(
    state: web::Data<AppState>,
    kind: web::Path<String>,
    query: web::Query<FrameQuery>,
) -> ApiResult<HttpResponse> {
    let kind = mail_kind(&kind)?;
    let now = chrono::Utc::now().timestamp();
    if !query.ticket.as_deref().is_some_and(|t| ticket_opens(&state.config.jwt_secret, kind, t, now)) {
        return Err(ApiError::unauthorized(
            ErrorCode::InvalidToken,
            "The preview link is missing, wrong or expired; open the preview again.",
        ));
    }
    let rendered = templates(&state)?.render(kind, &sample_payload(kind)).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(rendered.html))
}

#[cfg(test)]
mod tests {
    use super::*;
    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_ticket_opens_its_kind_until_it_expires() {
        let now = 1_800_000_000;
        let t = issue_ticket(SECRET, TreatmentKind::WelcomeMessage, now);
        assert!(ticket_opens(SECRET, TreatmentKind::WelcomeMessage, &t, now));
        assert!(ticket_opens(SECRET, TreatmentKind::WelcomeMessage, &t, now + TICKET_TTL_SECS));
        assert!(!ticket_opens(SECRET, TreatmentKind::WelcomeMessage, &t, now + TICKET_TTL_SECS + 1));
        assert!(!ticket_opens(SECRET, TreatmentKind::RefundMessage, &t, now), "another kind");
        assert!(!ticket_opens("another-secret-another-secret-xx", TreatmentKind::WelcomeMessage, &t, now));
    }

    #[test]
    fn a_forged_ticket_opens_nothing() {
        let now = 1_800_000_000;
        let t = issue_ticket(SECRET, TreatmentKind::WelcomeMessage, now);
        let (_, mac) = t.split_once('.').unwrap();
        // a later expiry with the old MAC, garbage, an empty MAC
        for forged in
            [format!("{}.{mac}", now + 99_999), "x".into(), "1.".into(), format!("{}.zz", now + 60), String::new()]
        {
            assert!(!ticket_opens(SECRET, TreatmentKind::WelcomeMessage, &forged, now), "{forged}");
        }
    }
}
