//! Liveness and readiness probes.

use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use actix_web::{get, web};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok".into() })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or migrations pending", body = ErrorBody),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    db::run(&state.pool, |conn| {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1")).execute(conn).map_err(|e| {
            ApiError::service_unavailable(ErrorCode::DatabaseUnavailable, format!("Database unreachable: {e}"))
        })?;
        match db::has_pending_migrations(conn) {
            Ok(false) => Ok(web::Json(Health { status: "ready".into() })),
            Ok(true) => {
                Err(ApiError::service_unavailable(ErrorCode::MigrationsPending, "Database migrations are pending."))
            }
            Err(e) => Err(ApiError::service_unavailable(ErrorCode::DatabaseUnavailable, e.to_string())),
        }
    })
    .await
}
