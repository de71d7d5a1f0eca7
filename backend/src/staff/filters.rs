//! Shared query filters: the query-string extractor of the staff API, and periods.

use crate::error::ErrorCode;
use crate::error::{self, ApiError, ApiResult};
use crate::staff::queries::Window;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use std::future::{ready, Ready};
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// The query string of a staff route, deserialised into `T`. A NUL character anywhere in it (a
/// name or a value, percent-encoded or not) is refused with 400 `invalid_query`: no filter needs
/// one and PostgreSQL cannot compare text with one.
#[derive(Debug)]
pub struct StaffQuery<T>(pub T);

impl<T> StaffQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for StaffQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The name of the first query parameter whose name or value holds a NUL character.
pub fn nul_parameter(query: &str) -> Option<String> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).ok()?.into_inner();
    pairs.into_iter().find(|(k, v)| k.contains('\0') || v.contains('\0')).map(|(k, _)| k.replace('\0', "\\0"))
}

impl<T: DeserializeOwned> FromRequest for StaffQuery<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<StaffQuery<T>, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(name) = nul_parameter(req.query_string()) {
            let message = format!("The query parameter {name:?} contains a NUL character.");
            return ready(Err(ApiError::bad_request(ErrorCode::InvalidQuery, message).into()));
        }
        ready(
            web::Query::<T>::from_query(req.query_string())
                .map(|q| StaffQuery(q.into_inner()))
                .map_err(|e| error::query_error(e, req)),
        )
    }
}

/// The schema of `from`: a date (YYYY-MM-DD) or an RFC 3339 time (utoipa drops the parameter's
/// own description when the schema is custom, so it is here).
pub fn from_schema() -> RefOr<Schema> {
    period_schema("From this time (RFC 3339) or date (YYYY-MM-DD, from its start in UTC), inclusive.")
}

/// The schema of `to`: a date (YYYY-MM-DD) or an RFC 3339 time.
pub fn to_schema() -> RefOr<Schema> {
    period_schema("Until this time (RFC 3339, exclusive) or date (YYYY-MM-DD, up to its end in UTC, inclusive).")
}

fn period_schema(description: &str) -> RefOr<Schema> {
    let string =
        |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
    AnyOfBuilder::new()
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .description(Some(description))
        .into()
}

/// `from`: an RFC 3339 time, or a date (its start, UTC).
pub fn parse_from(s: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    parse(s, false)
}

/// The window of a list from its `from` and `to` parameters (checked), its page size and position.
pub fn window(from: Option<&str>, to: Option<&str>, limit: i64, before_id: Option<i64>) -> ApiResult<Window> {
    Ok(Window { from: parse_from(from)?, to: parse_to(to)?, before_id, limit })
}

/// A free-text filter: trimmed; blank is no filter.
pub fn text(q: Option<String>) -> Option<String> {
    q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty())
}

/// `to`: an RFC 3339 time (exclusive), or a date (inclusive: up to its end, UTC).
pub fn parse_to(s: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    parse(s, true)
}

/// Strict, so that what is accepted is exactly what the OpenAPI document says (`format: date` or
/// `format: date-time`): no surrounding spaces, no empty value, `T` between date and time.
fn parse(s: Option<&str>, end_of_day: bool) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(s) = s else { return Ok(None) };
    let invalid = || {
        ApiError::bad_request(ErrorCode::InvalidQuery, format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time."))
    };
    if !(s.is_char_boundary(10) && is_date_shape(&s[..10])) {
        return Err(invalid());
    }
    if s.len() > 10 {
        if !matches!(s.as_bytes()[10], b'T' | b't') {
            return Err(invalid());
        }
        let t = DateTime::parse_from_rfc3339(s).map_err(|_| invalid())?;
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid())?;
    let date = if end_of_day { date.checked_add_days(Days::new(1)).unwrap_or(date) } else { date };
    Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

/// `YYYY-MM-DD` with ASCII digits.
fn is_date_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_from(None).unwrap(), None);
        assert_eq!(parse_from(Some("2026-11-23")).unwrap().unwrap().to_rfc3339(), "2026-11-23T00:00:00+00:00");
        assert_eq!(parse_to(Some("2026-11-23")).unwrap().unwrap().to_rfc3339(), "2026-11-24T00:00:00+00:00");
        assert_eq!(
            parse_from(Some("2026-11-23T10:00:00-03:00")).unwrap().unwrap().to_rfc3339(),
            "2026-11-23T13:00:00+00:00"
        );
        assert!(parse_from(Some("ontem")).is_err());
        assert_eq!(
            parse_from(Some("2026-11-23t10:00:00z")).unwrap().unwrap().to_rfc3339(),
            "2026-11-23T10:00:00+00:00"
        );
        for bad in
            ["", " ", " 2026-11-23", "2026-11-23 ", "2026-1-23", "+2026-11-23", "2026-02-30", "2026-11-23 10:00:00Z"]
        {
            assert!(parse_from(Some(bad)).is_err() && parse_to(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nul_characters_are_found_wherever_they_are() {
        assert_eq!(nul_parameter("q=ab%00cd"), Some("q".into()));
        assert_eq!(nul_parameter("limit=1&source=%00"), Some("source".into()));
        assert_eq!(nul_parameter("a%00b=1"), Some("a\\0b".into()));
        assert_eq!(nul_parameter("q=ab%2500cd&from=2026-11-23"), None, "an encoded percent sign is text");
        assert_eq!(nul_parameter(""), None);
    }
}
