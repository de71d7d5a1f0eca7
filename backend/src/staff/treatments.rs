//! Treatments: list with filters, retry of failed or dead ones. The reads are in `queries::treatments`.

use super::audit::{self, AuditAction, AuditTarget, Entry};
use super::filters::{from_schema, text, to_schema, window, StaffQuery};
use super::pagination::PageParams;
use super::queries::treatments::{self as query, StatusFilter, TreatmentQuery};
use super::views::*;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::models::Treatment;
use crate::notify::{self, Signal};
use crate::schema::treatments;
use crate::state::AppState;
use crate::treatments::rules::TreatmentKind;
use crate::treatments::store::TreatmentStatus;
use crate::vocabulary::known_value;
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreatmentFilter {
    /// Part of the customer's e-mail.
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// The kind of treatment .
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub kind: Option<TreatmentKind>,
    /// A status, or `failed` (pending after a failed attempt).
    #[param(nullable = false, schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// Created from this time (RFC 3339) or date (YYYY-MM-DD), inclusive.
    #[param(nullable = false, schema_with = from_schema)]
    pub from: Option<String>,
    /// Created until this time (exclusive) or date (inclusive).
    #[param(nullable = false, schema_with = to_schema)]
    pub to: Option<String>,
}

impl TreatmentFilter {
    /// The query of one page: the filters checked, empty text ignored.
    pub fn query(self, limit: i64, before_id: Option<i64>) -> ApiResult<TreatmentQuery> {
        Ok(TreatmentQuery {
            window: window(self.from.as_deref(), self.to.as_deref(), limit, before_id)?,
            text: text(self.q),
            kind: self.kind,
            status: self.status.as_deref().map(status_filter).transpose()?,
            customer_id: None,
        })
    }
}

/// A value of the `status` filter.
fn status_filter(status: &str) -> ApiResult<StatusFilter> {
    if status == FAILED {
        return Ok(StatusFilter::Failed);
    }
    TreatmentStatus::parse(status).map(StatusFilter::Is).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("Unknown treatment status {status:?}; expected one of: {}.", status_filter_values().join(", ")),
        )
    })
}

/// Treatments, newest first.
#[utoipa::path(
    tag = "treatments",
    operation_id = "list_treatments",
    params(TreatmentFilter, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of treatments", body = Page<TreatmentView>),
        (status = 400, description = "Invalid filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/treatments")]
pub async fn list(
    state: web::Data<AppState>,
    _auth: AuthUser,
    f: StaffQuery<TreatmentFilter>,
    page: StaffQuery<PageParams>,
) -> ApiResult<web::Json<Page<TreatmentView>>> {
    let (limit, before_id) = page.keyset()?;
    let query = f.into_inner().query(limit, before_id)?;
    db::run(&state.pool, move |conn| Ok(web::Json(Page::keyed(query.list(conn)?, limit, |t| vec![t.id])))).await
}

fn no_treatment(id: i64) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("No treatment with id {id}."))
}

/// Whether staff may send a treatment back to the queue: dead, or pending after a failure.
pub fn retryable(status: TreatmentStatus, last_error: Option<&str>) -> bool {
    status == TreatmentStatus::Dead || (status == TreatmentStatus::Pending && last_error.is_some())
}

/// The `status` filter's pseudo-value: pending after a failed attempt.
const FAILED: &str = "failed";

/// The values of the `status` filter: every treatment status, and `failed`.
fn status_filter_values() -> Vec<&'static str> {
    TreatmentStatus::ALL.iter().map(|s| s.as_str()).chain([FAILED]).collect()
}

fn status_filter_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(status_filter_values()))
        .description(Some("A status, or `failed` (pending after a failed attempt)."))
        .into()
}

/// Sends a failed or dead treatment back to pending, to run now with a fresh set of attempts.
#[utoipa::path(
    tag = "treatments",
    operation_id = "retry_treatment",
    params(("id" = i64, Path, description = "Treatment id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The treatment, pending again", body = TreatmentView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such treatment", body = ErrorBody),
        (status = 409, description = "Not failed or dead (`not_retryable`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/treatments/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<TreatmentView>> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let t: Treatment = treatments::table
                .find(id)
                .select(Treatment::as_select())
                .for_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| no_treatment(id))?;
            if !retryable(t.status, t.last_error.as_deref()) {
                return Err(ApiError::conflict(
                    ErrorCode::NotRetryable,
                    format!("Only failed or dead treatments can be retried; this one is {}.", t.status),
                ));
            }
            let now = Utc::now();
            diesel::update(treatments::table.find(id))
                .set((
                    treatments::status.eq(TreatmentStatus::Pending),
                    treatments::run_at.eq(now),
                    treatments::attempts.eq(0),
                    treatments::lease_until.eq(None::<DateTime<Utc>>),
                    treatments::updated_at.eq(now),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                Entry::new(auth.id, AuditAction::RetryTreatment, AuditTarget::Treatment, Some(id))
                    .before(json!({ "status": t.status, "attempts": t.attempts, "last_error": t.last_error }))
                    .after(json!({ "status": TreatmentStatus::Pending, "attempts": 0 })),
            )?;
            notify::send(conn, Signal::Queued(id))?;
            Ok(web::Json(query::find(conn, id)?.ok_or_else(|| no_treatment(id))?))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_can_be_retried() {
        use super::retryable;
        use super::TreatmentStatus::*;
        assert!(retryable(Dead, Some("x")));
        assert!(retryable(Dead, None));
        assert!(retryable(Pending, Some("timeout")));
        assert!(!retryable(Pending, None));
        assert!(!retryable(Done, None));
        assert!(!retryable(Running, Some("x")));
        assert!(!retryable(Canceled, Some("x")));
    }
}
