//! Shared query filters: periods.

use crate::error::ApiError;
use chrono::{DateTime, Days, NaiveDate, Utc};

/// `from`: an RFC 3339 time, or a date (its start, UTC).
pub fn parse_from(s: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    parse(s, false)
}

/// `to`: an RFC 3339 time (exclusive), or a date (inclusive: up to its end, UTC).
pub fn parse_to(s: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    parse(s, true)
}

fn parse(s: Option<&str>, end_of_day: bool) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request("invalid_query", format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time."))
    })?;
    let date = if end_of_day { date.checked_add_days(Days::new(1)).unwrap_or(date) } else { date };
    Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
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
    }
}
