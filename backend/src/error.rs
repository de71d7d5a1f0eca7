//! The one error type of the HTTP API, and the one place where errors become responses:
//! `{"error": {"code": "snake_case", "message": "human text", "details": ...}}`.
//!
//! A failure on our side (500, or a 503 for the database) keeps its cause in the error, never in the
//! answer; the cause is logged once, with the request (`telemetry::request`), or by whatever consumes
//! an error that is never answered (a live stream's frame, a report's later batch).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

crate::vocabulary! {
    /// The stable machine-readable code of an error answer (`error.code`); the staff app maps each to
    /// Brazilian-Portuguese text (frontend/src/errors.ts). Declared with `vocabulary!` for one list and
    /// its serde names; it is never stored.
    pub enum ErrorCode {
        AccessAlreadyActive = "access_already_active",
        AccessLifetime = "access_lifetime",
        AccessNotActive = "access_not_active",
        AccountDeactivated = "account_deactivated",
        ImportHasErrors = "import_has_errors",
        DatabaseUnavailable = "database_unavailable",
        Forbidden = "forbidden",
        SessionRevoked = "session_revoked",
        EmailTaken = "email_taken",
        InvalidBody = "invalid_body",
        InvalidCredentials = "invalid_credentials",
        InvalidCursor = "invalid_cursor",
        InvalidInviteToken = "invalid_invite_token",
        InvalidJson = "invalid_json",
        InvalidQuery = "invalid_query",
        InvalidToken = "invalid_token",
        MigrationsPending = "migrations_pending",
        MissingToken = "missing_token",
        NotFound = "not_found",
        NotReplayable = "not_replayable",
        NotRetryable = "not_retryable",
        PayloadTooLarge = "payload_too_large",
        ReplayRejected = "replay_rejected",
        RequestTimeout = "request_timeout",
        TokenExpired = "token_expired",
        TooManyRequests = "too_many_requests",
        Unauthorized = "unauthorized",
        UnknownSource = "unknown_source",
        Unprocessable = "unprocessable",
        ValidationFailed = "validation_failed",
        InternalError = "internal_error",
        UnsupportedMediaType = "unsupported_media_type",
        MethodNotAllowed = "method_not_allowed",
        LastAdmin = "last_admin",
        CannotChangeSelf = "cannot_change_self",
        MappingExists = "mapping_exists",
        CourseNotFound = "course_not_found",
        ChannelOff = "channel_off",
        SimulatorOff = "simulator_off",
        SourceOff = "source_off",
        UnknownScenario = "unknown_scenario",
        ScenarioUnsupported = "scenario_unsupported",
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after: Option<u64>,
    /// What went wrong on our side, for the log only (never sent).
    pub cause: Option<String>,
}

/// The JSON body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// Extra structured information (field errors, the original event, ...).
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: None, retry_after: None, cause: None }
    }
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }
    pub fn request_timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, message)
    }
    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests, message);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }
    pub fn service_unavailable(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }
    /// An unexpected failure: the client gets a generic message, the cause is kept for the log.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "Something went wrong on our side; please retry.",
        )
        .with_cause(cause)
    }
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> ApiError {
        self.cause = Some(cause.to_string());
        self
    }

    /// Logs the cause of a failure on our side that no answer will carry to the request's log line
    /// (`context` says where it happened). Nothing for an error without a cause.
    pub fn log_unanswered(&self, context: &str) {
        if let Some(cause) = &self.cause {
            tracing::error!(target: "portaria::error", status = self.status.as_u16(), code = self.code.as_str(), cause = cause.as_str(), "{context}");
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message.clone(), details: self.details.clone() },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still arrive: this connection cannot carry another request.
            res.force_close();
        }
        res.json(self.body())
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    /// The database could not be reached (or the connection died): 503 with `Retry-After`.
    pub fn database_unavailable() -> ApiError {
        let mut e =
            ApiError::service_unavailable(ErrorCode::DatabaseUnavailable, "The database is unavailable; please retry.");
        e.retry_after = Some(DATABASE_RETRY_AFTER_SECS);
        e
    }

    pub fn is_database_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE && self.code == ErrorCode::DatabaseUnavailable
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        match e {
            diesel::result::Error::NotFound => ApiError::not_found(ErrorCode::NotFound, "Not found."),
            e if crate::db::is_connection_failure(&e) => {
                ApiError::database_unavailable().with_cause(format!("database connection failure: {e}"))
            }
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> ApiError {
        ApiError::database_unavailable().with_cause(format!("database pool: {e}"))
    }
}

impl From<bcrypt::BcryptError> for ApiError {
    fn from(e: bcrypt::BcryptError) -> ApiError {
        ApiError::internal(format!("bcrypt: {e}"))
    }
}

impl From<jsonwebtoken::errors::Error> for ApiError {
    fn from(e: jsonwebtoken::errors::Error) -> ApiError {
        ApiError::internal(format!("jwt encode: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal(format!("blocking task: {e}"))
    }
}

/// actix's JSON extractor errors, in our shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => {
            ApiError::payload_too_large("The request body is too large.")
        }
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with Content-Type: application/json.",
        ),
        J::Payload(e) if crate::body_deadline::is_timeout(e) => {
            ApiError::request_timeout("The request body did not arrive in time.")
        }
        J::Deserialize(e) if e.is_data() => ApiError::unprocessable(
            ErrorCode::ValidationFailed,
            format!("The JSON body does not have the expected fields: {e}"),
        ),
        J::Deserialize(e) => ApiError::bad_request(ErrorCode::InvalidJson, format!("The body is not valid JSON: {e}")),
        other => ApiError::bad_request(ErrorCode::InvalidBody, format!("The request body could not be read: {other}")),
    };
    api.into()
}

/// actix's query-string extractor errors, in our shape.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(ErrorCode::InvalidQuery, format!("Invalid query parameters: {err}")).into()
}

/// actix's path extractor errors (e.g. a non-numeric id): the resource does not exist.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(ErrorCode::NotFound, format!("No such resource: {err}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn error_body_shape() {
        let res = ApiError::too_many_requests("slow down", 30).error_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "30");
        let bytes = res.into_body().try_into_bytes().unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["error"]["code"], "too_many_requests");
        assert_eq!(v["error"]["message"], "slow down");
    }

    #[test]
    fn internal_errors_hide_the_cause() {
        let e = ApiError::internal("password=hunter2 leaked?");
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("hunter2"));
    }
}
