//! HTTP handlers of /api/auth: thin wrappers over the functions of this module.

use super::{constant_time_eq, jwt, password, users, validation, AuthUser};
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::staff::audit::{self, AuditAction, AuditTarget, Entry};
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use users::UserView;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    #[schema(example = "ana@escola.com.br")]
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    #[schema(example = "Ana Souza")]
    pub name: String,
    /// The invite token handed out by the administrator (`SIGNUP_TOKEN`).
    #[serde(default)]
    pub invite_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user: UserView,
}

/// Creates a staff account. Requires the invite token.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = UserView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 403, description = "Missing or wrong invite token", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "E-mail already registered", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Invalid e-mail, name or password, or a field missing", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/auth/signup")]
pub async fn signup(state: web::Data<AppState>, body: web::Json<SignupRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let invited = body
        .invite_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), state.config.signup_token.as_bytes()));
    if !invited {
        return Err(ApiError::forbidden(ErrorCode::InvalidInviteToken, "A valid invite token is required to sign up."));
    }
    let valid = validation::validate_signup(&body.email, &body.name, &body.password)?;
    let cost = state.config.bcrypt_cost;
    let user = db::run(&state.pool, move |conn| {
        let hash = password::hash(&body.password, cost)?;
        users::insert(conn, &valid.email, &valid.name, &hash).map_err(|e| {
            if db::is_unique_violation(&e) {
                ApiError::conflict(ErrorCode::EmailTaken, "An account with this e-mail already exists.")
            } else {
                e.into()
            }
        })
    })
    .await?;
    log::info!("staff user {} signed up", user.id);
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

/// Exchanges e-mail and password for an access token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
        (status = 403, description = "Right password, but the account is deactivated (`account_deactivated`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "A field missing or of the wrong type (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt may succeed"))),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let LoginRequest { email, password: given } = body.into_inner();
    let email = email.trim().to_lowercase();
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let keys = vec![format!("acct:{email}"), format!("ip:{ip}")];
    if let Some(wait) = state.throttle.check(&keys, Instant::now()) {
        return Err(ApiError::too_many_requests(
            format!("Too many failed sign-in attempts. Try again in {wait} seconds."),
            wait,
        ));
    }
    let cost = state.config.bcrypt_cost;
    let user = db::run(&state.pool, move |conn| {
        // No account has an implausible e-mail (one with a NUL, say): no need to ask the database.
        let user = match validation::normalize_email(&email) {
            Some(email) => users::find_by_email(conn, &email)?,
            None => None,
        };
        let ok = password::verify(&given, user.as_ref().map(|u| u.password_hash.as_str()), cost);
        match user {
            // The password is right: only now may the answer tell that the account is deactivated.
            Some(u) if ok && !u.active => Err(ApiError::forbidden(
                ErrorCode::AccountDeactivated,
                "This account has been deactivated; ask an administrator.",
            )),
            Some(u) if ok => Ok(Some(users::touch_login(conn, u.id)?)),
            _ => Ok(None),
        }
    })
    .await?;
    let Some(user) = user else {
        state.throttle.record_failure(&keys, Instant::now());
        log::warn!("failed staff login from {ip}");
        return Err(ApiError::unauthorized(ErrorCode::InvalidCredentials, "Wrong e-mail or password."));
    };
    state.throttle.record_success(&keys[..1]);
    Ok(web::Json(token_response(&state, user)?))
}

/// The signed-in staff user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserView),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/auth/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<UserView>> {
    let user = db::run(&state.pool, move |conn| Ok(users::find(conn, auth.id)?)).await?;
    user.map(|u| web::Json(u.into()))
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::InvalidToken, "This account no longer exists; sign in again."))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The password the user signs in with today.
    pub current_password: String,
    /// At least 8 characters, at most 72 bytes (as at sign-up).
    #[schema(min_length = 8)]
    pub new_password: String,
}

/// Changes the signed-in user's password. Every other session of the user ends (the token version
/// moves on); the answer carries a fresh token for this one.
#[utoipa::path(
    tag = "auth",
    operation_id = "change_password",
    request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Password changed; a new token for this session (older tokens no longer work)", body = TokenResponse),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "The current password is wrong (`details.fields.current_password`), the new one breaks the sign-up rule (`details.fields.new_password`), or a field is missing (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many wrong current passwords; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt may succeed"))),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<PasswordChange>,
) -> ApiResult<web::Json<TokenResponse>> {
    let PasswordChange { current_password, new_password } = body.into_inner();
    // A stolen token must not become a way to guess the password: wrong guesses are throttled like logins.
    let keys = vec![format!("password:{}", auth.id)];
    if let Some(wait) = state.throttle.check(&keys, Instant::now()) {
        return Err(ApiError::too_many_requests(
            format!("Too many wrong passwords. Try again in {wait} seconds."),
            wait,
        ));
    }
    if let Some(problem) = validation::password_problem(&new_password) {
        return Err(ApiError::unprocessable(ErrorCode::ValidationFailed, "The new password is invalid.")
            .with_details(serde_json::json!({ "fields": { "new_password": problem } })));
    }
    let cost = state.config.bcrypt_cost;
    let id = auth.id;
    let changed = db::run(&state.pool, move |conn| {
        let user = users::find(conn, id)?
            .ok_or_else(|| ApiError::unauthorized(ErrorCode::InvalidToken, "This account no longer exists."))?;
        if !password::verify(&current_password, Some(&user.password_hash), cost) {
            return Ok(None);
        }
        let hash = password::hash(&new_password, cost)?;
        diesel::Connection::transaction(conn, |conn| {
            let user = users::set_password(conn, id, &hash)?;
            audit::record(conn, Entry::new(id, AuditAction::ChangePassword, AuditTarget::User, Some(id)))?;
            Ok(Some(user))
        })
    })
    .await?;
    let Some(user) = changed else {
        state.throttle.record_failure(&keys, Instant::now());
        return Err(ApiError::unprocessable(ErrorCode::ValidationFailed, "The current password is wrong.")
            .with_details(serde_json::json!({ "fields": { "current_password": "is not the current password" } })));
    };
    state.throttle.record_success(&keys);
    log::info!("staff user {} changed their password", user.id);
    Ok(web::Json(token_response(&state, user)?))
}

/// A fresh access token for `user`, as login answers it.
fn token_response(state: &AppState, user: users::User) -> ApiResult<TokenResponse> {
    let ttl = state.config.jwt_ttl.as_secs() as i64;
    let token = jwt::issue(
        user.id,
        &user.email,
        user.token_version,
        &state.config.jwt_secret,
        ttl,
        chrono::Utc::now().timestamp(),
    )?;
    Ok(TokenResponse { access_token: token, token_type: "Bearer".into(), expires_in: ttl, user: user.into() })
}
