//! Keyset pagination: opaque cursors and limits.

use crate::error::ApiError;
use base64::Engine;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request("invalid_query", format!("limit must be between 1 and {MAX_LIMIT}."))),
    }
}

/// Encodes the sort key of the last row of a page.
pub fn encode(parts: &[i64]) -> String {
    let text = parts.iter().map(i64::to_string).collect::<Vec<_>>().join(":");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Decodes a cursor made by `encode` with `n` parts.
pub fn decode(cursor: &str, n: usize) -> Result<Vec<i64>, ApiError> {
    let invalid = || ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<i64> = text.split(':').map(str::parse).collect::<Result<_, _>>().map_err(|_| invalid())?;
    if parts.len() == n {
        Ok(parts)
    } else {
        Err(invalid())
    }
}

/// `Some(cursor)` when the page is full (there may be more).
pub fn next<T>(items: &[T], limit: i64, key: impl Fn(&T) -> Vec<i64>) -> Option<String> {
    (items.len() as i64 == limit).then(|| items.last().map(|last| encode(&key(last)))).flatten()
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
}
