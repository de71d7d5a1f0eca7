//! Keyset pagination: cursors and limits.
//!
//! A cursor is the sort key of the last item of a page, in decimal: `1234` (the id) for events and
//! treatments, `2:1234` (rank and id) for the customer search. Any such value is a valid position,
//! so the OpenAPI document can describe exactly which cursors are accepted.

use super::views::Page;
use crate::error::ApiError;
use crate::error::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// The page parameters of the lists sorted by id (events, treatments).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items, 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

/// The page parameters of the customer search (sorted by rank, then id).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankedPageParams {
    /// How many items, 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, pattern = r"^[0-9]{1,18}:[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page size and the id to continue before (`None`: the first page).
    pub fn keyset(&self) -> Result<(i64, Option<i64>), ApiError> {
        let before = self.cursor.as_deref().map(|c| decode(c, 1).map(|p| p[0])).transpose()?;
        Ok((limit(self.limit)?, before))
    }
}

impl RankedPageParams {
    /// The page size and the (rank, id) to continue after (`None`: the first page).
    pub fn keyset(&self) -> Result<(i64, Option<(i64, i64)>), ApiError> {
        let after = self.cursor.as_deref().map(|c| decode(c, 2).map(|p| (p[0], p[1]))).transpose()?;
        Ok((limit(self.limit)?, after))
    }
}

impl<T> Page<T> {
    /// A page of items sorted by `key`, with the cursor of the next page when this one is full.
    pub fn keyed(items: Vec<T>, limit: i64, key: impl Fn(&T) -> Vec<i64>) -> Page<T> {
        let next_cursor = next(&items, limit, key);
        Page { items, next_cursor }
    }
}

pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => {
            Err(ApiError::bad_request(ErrorCode::InvalidQuery, format!("limit must be between 1 and {MAX_LIMIT}.")))
        }
    }
}

/// Encodes the sort key of the last row of a page (non-negative numbers).
pub fn encode(parts: &[i64]) -> String {
    parts.iter().map(i64::to_string).collect::<Vec<_>>().join(":")
}

/// Decodes a cursor of `n` parts, each 1 to 18 decimal digits.
pub fn decode(cursor: &str, n: usize) -> Result<Vec<i64>, ApiError> {
    let invalid = || ApiError::bad_request(ErrorCode::InvalidCursor, "The cursor is not one this API gave out.");
    let number = |part: &str| {
        let digits = (1..=18).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| part.parse::<i64>().ok()).flatten()
    };
    let parts: Vec<i64> = cursor.split(':').map(number).collect::<Option<_>>().ok_or_else(invalid)?;
    if parts.len() == n {
        Ok(parts)
    } else {
        Err(invalid())
    }
}

/// `Some(cursor)` when the page is full (there may be more).
pub fn next<T>(items: &[T], limit: i64, key: impl Fn(&T) -> Vec<i64>) -> Option<String> {
    next_key(items, limit, key).map(|k| encode(&k))
}

/// The keyset position after a full page (`None`: it was the last one).
pub fn next_key<T>(items: &[T], limit: i64, key: impl Fn(&T) -> Vec<i64>) -> Option<Vec<i64>> {
    (items.len() as i64 == limit).then(|| items.last().map(key)).flatten()
}

/// Escapes LIKE wildcards in user text.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode(&[2, 12345]);
        assert_eq!(decode(&c, 2).unwrap(), [2, 12345]);
        assert!(decode(&c, 1).is_err());
        assert!(decode("!!!", 1).is_err());
        assert!(decode(&encode(&[1]), 2).is_err());
        for bad in ["", "-1", "+1", "1:", ":1", "1 ", "1234567890123456789", "１"] {
            assert!(decode(bad, 1).is_err() && decode(&format!("{bad}:1"), 2).is_err(), "{bad:?}");
        }
        assert_eq!(decode("000000000000000042", 1).unwrap(), [42]);
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert!(limit(Some(0)).is_err() && limit(Some(101)).is_err());
    }

    #[test]
    fn next_cursor_only_on_full_pages() {
        assert_eq!(next(&[1i64, 2], 3, |x| vec![*x]), None);
        assert_eq!(next(&[1i64, 2, 3], 3, |x| vec![*x]), Some(encode(&[3])));
    }

    #[test]
    fn escapes_wildcards() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn the_next_key_follows_only_a_full_page() {
        let rows = [(1i64, 10i64), (2, 20)];
        assert_eq!(super::next_key(&rows, 2, |(a, b)| vec![*a, *b]), Some(vec![2, 20]));
        assert_eq!(super::next_key(&rows, 3, |(a, b)| vec![*a, *b]), None, "a short page is the last");
        assert_eq!(super::next_key::<(i64, i64)>(&[], 0, |_| vec![]), None);
        assert_eq!(super::next(&rows, 2, |(a, b)| vec![*a, *b]), Some(super::encode(&[2, 20])));
    }
}
