//! `AuthUser`: the extractor that guards every staff route (Authorization: Bearer <JWT>), and
//! `AdminUser`, the one that guards the admin routes.
//!
//! A valid signature is not enough: every request reads the user's standing (active, role, token
//! version), so a deactivation, a role change or a password change takes effect at once.

use super::jwt::{self, TokenError};
use super::{users, Role};
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// The authenticated staff user, from a valid access token of an active account.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// The token version the request's token carries (a long-lived stream checks it again, see `still_valid`).
    pub token_version: i32,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    async fn authenticate(req: HttpRequest) -> ApiResult<AuthUser> {
        let state =
            req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("AppState missing from the app"))?;
        let token = bearer_token(&req).ok_or_else(|| {
            ApiError::unauthorized(ErrorCode::MissingToken, "Sign in first: send Authorization: Bearer <access_token>.")
        })?;
        let claims = jwt::verify(token, &state.config.jwt_secret).map_err(|e| match e {
            TokenError::Expired => {
                ApiError::unauthorized(ErrorCode::TokenExpired, "Your session has expired; sign in again.")
            }
            TokenError::Invalid => {
                ApiError::unauthorized(ErrorCode::InvalidToken, "The access token is invalid; sign in again.")
            }
        })?;
        let id: i64 = claims.sub.parse().map_err(|_| {
            ApiError::unauthorized(ErrorCode::InvalidToken, "The access token is invalid; sign in again.")
        })?;
        let standing = db::run(&state.pool, move |conn| Ok(users::standing(conn, id)?)).await?;
        match standing {
            Some(s) if s.active && s.token_version == claims.ver => {
                Ok(AuthUser { id, email: claims.email, role: s.role, token_version: s.token_version })
            }
            _ => Err(ApiError::unauthorized(
                ErrorCode::SessionRevoked,
                "This session was ended (account deactivated or password changed); sign in again.",
            )),
        }
    }
}

/// Whether the session of a request authenticated earlier still stands (the account active, the token's version
/// current): a live stream asks before each frame, so a deactivation or a password change ends it too.
pub fn still_valid(conn: &mut diesel::PgConnection, user: &AuthUser) -> diesel::QueryResult<bool> {
    Ok(users::standing(conn, user.id)?.is_some_and(|s| s.active && s.token_version == user.token_version))
}

/// The token of an `Authorization: Bearer` header. Tokens never travel in URLs (they would end
/// up in logs); the SPA reads streams and downloads through `fetch` with the header.
fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<AuthUser, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(AuthUser::authenticate(req.clone()))
    }
}

/// An authenticated staff user with the `admin` role; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl std::ops::Deref for AdminUser {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<AdminUser, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = AuthUser::authenticate(req).await?;
            if !user.is_admin() {
                return Err(ApiError::forbidden(ErrorCode::Forbidden, "Only an administrator may do this."));
            }
            Ok(AdminUser(user))
        })
    }
}
