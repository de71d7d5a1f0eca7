//! `GET /api/settings` and `POST /api/settings/test/{channel}` (administrators).

use super::{Settings, TestChannel, TestResult};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;
use actix_web::{get, post, web};

/// What is on and how: webhook sources, e-mail, course platform, alerts, worker, retention, rate limit.
/// Secrets are never shown: only whether each is set (and the host of a webhook URL).
#[utoipa::path(
    tag = "settings",
    operation_id = "get_settings",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server's settings, secrets masked", body = Settings),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/settings")]
pub async fn get_settings(state: web::Data<AppState>, _admin: AdminUser) -> web::Json<Settings> {
    web::Json(super::settings(&state.config))
}

/// Sends a test through a channel now (`alert`; `email` to the signed-in administrator; `platform`, a
/// signed test webhook) and answers what the other end replied. A failed send is `ok: false`, not an error.
#[utoipa::path(
    tag = "settings",
    operation_id = "test_channel",
    security(("bearer" = [])),
    params(("channel" = TestChannel, Path, description = "The channel to test")),
    responses(
        (status = 200, description = "Sent (or tried): what the other end answered", body = TestResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such channel (`not_found`)", body = ErrorBody),
        (status = 409, description = "The channel is not configured here (`channel_off`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/settings/test/{channel}")]
pub async fn test_channel(
    state: web::Data<AppState>,
    admin: AdminUser,
    channel: web::Path<String>,
) -> ApiResult<web::Json<TestResult>> {
    let channel = TestChannel::parse(&channel).ok_or_else(|| {
        ApiError::not_found(ErrorCode::NotFound, "No such channel; expected alert, email or platform.")
    })?;
    let config = state.config.clone();
    let email = admin.email.clone();
    let result = web::block(move || super::test(&config, channel, &email))
        .await
        .map_err(|e| ApiError::internal(format!("test send: {e}")))??;
    Ok(web::Json(result))
}
