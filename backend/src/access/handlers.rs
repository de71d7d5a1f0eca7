//! HTTP glue of manual access: validate the body, run the transaction in `queries`.

use super::import::{self, ImportReport, MAX_IMPORT_BYTES, MAX_IMPORT_LINES};
use super::queries::{self, AccessAnswer, BulkAnswer, BulkRequest, ManualRequest};
use super::rules::{self, AccessAction, BulkAction, FieldErrors, TermInput};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::staff::filters::StaffQuery;
use crate::state::AppState;
use crate::{body_deadline, db};
use actix_web::{post, web, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

/// A grant, an extension or a revocation of one customer's access to one course.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccessBody {
    pub action: AccessAction,
    pub course_id: i64,
    /// Grant: access for this many days from now. Extend: this many days more, from the current end.
    /// 1 to 36500. Give at most one of `days`, `until`, `lifetime` (an extension exactly one, a
    /// revocation none); a grant with none of them gets the course's duration (lifetime if it has none).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500, example = 30)]
    pub days: Option<i64>,
    /// Access until the end of this day (23:59:59 in America/Sao_Paulo): `AAAA-MM-DD` (or `DD/MM/AAAA`),
    /// today or later; for an extension, after the current end.
    #[serde(default)]
    #[schema(example = "2027-01-31")]
    pub until: Option<String>,
    /// `true`: access with no end.
    #[serde(default)]
    pub lifetime: Option<bool>,
    /// Why (required, 1 to 500 characters): kept with the treatments and in the audit log.
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500, pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$", example = "Cortesia para aluno do evento presencial")]
    pub reason: Option<String>,
}

/// The welcome message again, for an active access.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WelcomeBody {
    pub course_id: i64,
    /// Why (optional, at most 500 characters; no control characters but line breaks and tabs).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub reason: Option<String>,
}

/// Extend or revoke every active enrollment of a course.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkBody {
    pub action: BulkAction,
    /// Extend: this many days more for each, from its own end (1 to 36500).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500, example = 30)]
    pub days: Option<i64>,
    /// Extend: until the end of this day (`AAAA-MM-DD`); an access already ending then or later is left alone.
    #[serde(default)]
    #[schema(example = "2027-01-31")]
    pub until: Option<String>,
    /// Why (required, 1 to 500 characters).
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500, pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$", example = "Fim da turma de março")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunParams {
    /// `true`: only report what would happen; nothing is written.
    #[param(nullable = false)]
    #[serde(default)]
    pub dry_run: Option<bool>,
}

fn invalid(fields: FieldErrors) -> ApiError {
    ApiError::unprocessable(ErrorCode::ValidationFailed, "Some fields are invalid.")
        .with_details(json!({ "fields": fields }))
}

/// The body of a manual action, checked (422 with every field at fault).
pub fn manual_request(body: AccessBody, now: DateTime<Utc>) -> ApiResult<ManualRequest> {
    let mut fields = FieldErrors::new();
    let reason = rules::valid_reason(body.reason.as_deref()).map_err(|e| fields.insert("reason".into(), json!(e))).ok();
    let input = TermInput { days: body.days, until: body.until, lifetime: body.lifetime };
    let term = rules::valid_term(body.action, &input, now, &mut fields);
    match reason {
        Some(reason) if fields.is_empty() => {
            Ok(ManualRequest { action: body.action, course_id: body.course_id, term, reason })
        }
        _ => Err(invalid(fields)),
    }
}

/// The body of a bulk action, checked: an extension takes `days` or `until`, a revocation neither.
pub fn bulk_request(body: BulkBody, now: DateTime<Utc>) -> ApiResult<BulkRequest> {
    let mut fields = FieldErrors::new();
    let reason = rules::valid_reason(body.reason.as_deref()).map_err(|e| fields.insert("reason".into(), json!(e))).ok();
    let action = match body.action {
        BulkAction::Extend => AccessAction::Extend,
        BulkAction::Revoke => AccessAction::Revoke,
    };
    let input = TermInput { days: body.days, until: body.until, lifetime: None };
    let term = rules::valid_term(action, &input, now, &mut fields);
    if let Some(rules::Term::Lifetime) = term {
        fields.insert("days".into(), json!("a bulk extension takes days or until"));
    }
    match reason {
        Some(reason) if fields.is_empty() => Ok(BulkRequest { action: body.action, term, reason }),
        _ => Err(invalid(fields)),
    }
}

/// Grants, extends or revokes a customer's access to a course by hand, with a reason.
///
/// - `grant`: access on now, until `days` from now, the end of the day `until`, forever (`lifetime:
///   true`) or, with none of them, for the course's duration (lifetime when the course has none).
///   A revoked or expired access is granted again. Queues `grant_access` and `welcome_message`.
/// - `extend`: an active access ends later: `days` after its current end, at the end of the day
///   `until` (after the current end), or never (`lifetime: true`). Queues `extend_access`.
/// - `revoke`: access off now. Queues `revoke_access`.
///
/// The treatments go through the outbox like webhook-driven ones (reason `manual`, with `actor` and
/// `staff_reason`); the action is audited with the enrollment before and after.
#[utoipa::path(
    tag = "access",
    operation_id = "change_access",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = AccessBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done: the enrollment now and the treatments queued", body = AccessAnswer),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such customer or course (`not_found`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "Grant of an active access (`access_already_active`), extension or revocation of an access that is not active (`access_not_active`), extension of a lifetime access (`access_lifetime`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as JSON (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Missing or blank `reason`, a bad `days`/`until`, a term that does not fit the action, `until` not after the current end (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/customers/{id}/access")]
pub async fn change_access(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<AccessBody>,
) -> ApiResult<web::Json<AccessAnswer>> {
    let now = Utc::now();
    let req = manual_request(body.into_inner(), now)?;
    let id = id.into_inner();
    db::run(&state.pool, move |conn| queries::manual(conn, auth.id, id, &req, now)).await.map(web::Json)
}

/// Sends the welcome message again (a `welcome_message` treatment, reason `manual`) for an active access.
#[utoipa::path(
    tag = "access",
    operation_id = "resend_welcome",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = WelcomeBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Queued: the enrollment and the treatment", body = AccessAnswer),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such customer or course (`not_found`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "No active access to the course (`access_not_active`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as JSON (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "A bad `reason` or a missing `course_id` (`validation_failed`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/customers/{id}/welcome")]
pub async fn resend_welcome(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<WelcomeBody>,
) -> ApiResult<web::Json<AccessAnswer>> {
    let body = body.into_inner();
    let reason = match body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(rules::valid_reason(Some(r)).map_err(|e| {
            let mut fields = FieldErrors::new();
            fields.insert("reason".into(), json!(e));
            invalid(fields)
        })?),
        None => None,
    };
    let (id, course_id, now) = (id.into_inner(), body.course_id, Utc::now());
    db::run(&state.pool, move |conn| queries::resend_welcome(conn, auth.id, id, course_id, reason.clone(), now))
        .await
        .map(web::Json)
}

/// Extends or revokes every active enrollment of a course (ends a cohort). Admins only.
///
/// `extend` adds `days` to each access's own end, or moves it to the end of the day `until` (an access
/// already ending then or later, and a lifetime one, is left alone: `skipped`); `revoke` ends them
/// all now. With `?dry_run=true` only the counts (the preview); otherwise one treatment per
/// enrollment changed (`extend_access` / `revoke_access`, reason `bulk`) and one audit entry.
#[utoipa::path(
    tag = "access",
    operation_id = "bulk_enrollments",
    params(("id" = i64, Path, description = "Course id"), DryRunParams),
    request_body = BulkBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done (or, dry run, what would be done)", body = BulkAnswer),
        (status = 400, description = "The body is not JSON (`invalid_json`) or a bad `dry_run` (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such course (`not_found`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as JSON (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Missing `reason`, an extension without `days` or `until`, a revocation with one (`validation_failed`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/courses/{id}/enrollments/bulk")]
pub async fn bulk(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
    params: StaffQuery<DryRunParams>,
    body: web::Json<BulkBody>,
) -> ApiResult<web::Json<BulkAnswer>> {
    let now = Utc::now();
    let req = bulk_request(body.into_inner(), now)?;
    let (id, dry_run, actor) = (id.into_inner(), params.dry_run.unwrap_or(false), admin.id);
    db::run(&state.pool, move |conn| queries::bulk(conn, actor, id, &req, dry_run, now)).await.map(web::Json)
}

/// Reads a body of at most `limit` bytes: 413 beyond (at once when `Content-Length` says so), 408
/// when it stalls.
async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::payload_too_large(format!("The file is larger than {} MiB.", limit / (1024 * 1024)));
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if body_deadline::is_timeout(&e) {
                ApiError::request_timeout("The request body did not arrive in time.")
            } else {
                ApiError::bad_request(ErrorCode::InvalidBody, format!("The request body could not be read: {e}"))
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Imports customers with access from a CSV file. Admins only.
///
/// The body is the file itself (any `Content-Type`; `text/csv` is fine), at most 5 MiB and 50,000
/// lines: a header `nome;email;curso;expira_em` (in any order; `,` instead of `;` works too,
/// detected from the header line; UTF-8 with or without BOM; CRLF or LF; quoted fields), then one
/// customer and course per line. `curso` is a course's name, slug or id; `expira_em` empty means the
/// course's duration from now (lifetime when it has none), else a date `AAAA-MM-DD` or `DD/MM/AAAA`
/// (access until the end of that day, America/Sao_Paulo).
///
/// Each good line creates the customer if new (a customer without a name gets the line's) and then:
/// `new_access` (no active access: granted, with the welcome message), `extend` (active, ending before
/// the line's date, or the line gives lifetime: extended, no new welcome) or `already_active` (active
/// until then or later, lifetime, or the line has no date: nothing). Access is never shortened and a
/// re-import never sends a second welcome (importing the same file twice changes nothing).
///
/// `?dry_run=true`: the report of every bad line (by its line number in the file, the header being
/// line 1) and of what each good line would do; nothing is written. Otherwise all or nothing: any bad
/// line → 422 `import_has_errors` with the same report in `details`; else everything is written in
/// one transaction (treatments with reason `import`) and audited once.
#[utoipa::path(
    tag = "access",
    operation_id = "import_access",
    params(DryRunParams),
    request_body(content = String, content_type = "text/csv", description = "The CSV file", example = "nome;email;curso;expira_em\nAna Souza;ana@example.com;Confeitaria Pro;2027-01-31\n"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report (dry run: with the bad lines, nothing written; real run: imported)", body = ImportReport),
        (status = 400, description = "A bad `dry_run` (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Over 5 MiB or 50,000 lines (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "A real import of a file with bad lines, or any run of a file whose header is wrong: nothing imported (`import_has_errors`; the report in `details`); an empty body (`validation_failed`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/imports/access")]
pub async fn import_access(
    state: web::Data<AppState>,
    admin: AdminUser,
    params: StaffQuery<DryRunParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<web::Json<ImportReport>> {
    let bytes = read_body(&req, payload, MAX_IMPORT_BYTES).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::unprocessable(
            ErrorCode::ValidationFailed,
            "Send the CSV file as the body (header `nome;email;curso;expira_em`).",
        )
        .with_details(serde_json::json!({ "fields": { "file": "is empty" } })));
    }
    let (lines, file_errors) = import::read_csv(&bytes).map_err(|_| {
        ApiError::payload_too_large(format!("The file has more than {MAX_IMPORT_LINES} lines; split it."))
    })?;
    let (dry_run, actor, now) = (params.dry_run.unwrap_or(false), admin.id, Utc::now());
    db::run(&state.pool, move |conn| queries::import(conn, actor, lines.clone(), file_errors.clone(), dry_run, now))
        .await
        .map(web::Json)
}
