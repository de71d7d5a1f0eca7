//! `GET /api/audit` (admin only): the audit log, filtered, newest first. The query is in
//! [`super::audit_queries`].

use super::audit_queries::{self, AuditEntryView, AuditFilter};
use super::filters::StaffQuery;
use super::pagination::{self, PageParams};
use super::views::Page;
use crate::auth::AdminUser;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;
use actix_web::{get, web};

/// Audited staff actions, newest first: who did what to which target, why, before and after.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit",
    params(AuditFilter, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditEntryView>),
        (status = 400, description = "Invalid filter, limit or cursor (`invalid_query`, `invalid_cursor`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/audit")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: AdminUser,
    f: StaffQuery<AuditFilter>,
    page: StaffQuery<PageParams>,
) -> ApiResult<web::Json<Page<AuditEntryView>>> {
    let limit = pagination::limit(page.limit)?;
    let before = page.cursor.as_deref().map(|c| pagination::decode(c, 1).map(|p| p[0])).transpose()?;
    let f = f.into_inner();
    for (name, id) in [("actor", f.actor), ("target_id", f.target_id)] {
        if id.is_some_and(|id| id < 1) {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery, format!("`{name}` must be an id (1 or more).")));
        }
    }
    db::run(&state.pool, move |conn| {
        let items = audit_queries::query(conn, &f, limit, before)?;
        let next_cursor = pagination::next(&items, limit, |e| vec![e.id]);
        Ok(web::Json(Page { items, next_cursor }))
    })
    .await
}
