//! `AuthUser`: the extractor that guards every staff route (Authorization: Bearer <JWT>).

use super::jwt::{self, TokenError};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The authenticated staff user, from a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub email: String,
}

impl AuthUser {
    fn from_request_sync(req: &HttpRequest) -> Result<AuthUser, ApiError> {
        let state =
            req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("AppState missing from the app"))?;
        let token = bearer_token(req).ok_or_else(|| {
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
        let id = claims.sub.parse().map_err(|_| {
            ApiError::unauthorized(ErrorCode::InvalidToken, "The access token is invalid; sign in again.")
        })?;
        Ok(AuthUser { id, email: claims.email })
    }
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
    type Future = Ready<Result<AuthUser, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(AuthUser::from_request_sync(req))
    }
}
