//! GET /api/mail/templates and /api/mail/templates/{kind}/preview (admin): the e-mail templates as they
//! render with sample data, so the seller sees each message before a customer does.

use super::mail::{sample_payload, Templates, KINDS};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;
use crate::treatments::rules::TreatmentKind;
use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

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
    let kind = TreatmentKind::parse(&kind)
        .filter(|k| KINDS.contains(k))
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No e-mail template of that kind."))?;
    let rendered = templates(&state)?.render(kind, &sample_payload(kind)).map_err(ApiError::internal)?;
    Ok(web::Json(MailPreview { kind, subject: rendered.subject, text: rendered.text, html: rendered.html }))
}
