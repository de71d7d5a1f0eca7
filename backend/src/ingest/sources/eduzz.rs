//! Eduzz webhook v3 (Developer Hub): `{id, event, data, sentDate}`, signed with the header
//! `x-signature` = HMAC-SHA256 of the raw body keyed by the secret key chosen in the panel.

use super::common::{constant_time_eq, hmac_sha256, parse_json_object, unprocessable};
use crate::ingest::event::{AuthError, ParseError, Parsed, RequestParts};
use base64::Engine;

pub const SIGNATURE_HEADER: &str = "x-signature";

/// The signature must be the HMAC-SHA256 of the body. Eduzz does not say how it is encoded: lower- or
/// upper-case hex (what their examples suggest) and base64 (standard or URL-safe alphabet, padded or
/// not) are all accepted until it is confirmed.
pub fn authenticate(secret: &str, raw: &[u8], parts: &RequestParts) -> Result<(), AuthError> {
    let Some(presented) = parts.header(SIGNATURE_HEADER).map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(AuthError::Missing("no `x-signature` header".into()));
    };
    let presented = decode_signature(presented)
        .ok_or_else(|| AuthError::Invalid("the signature is neither hexadecimal nor base64".into()))?;
    let expected = hmac_sha256(secret.as_bytes(), &[raw]);
    if !secret.is_empty() && constant_time_eq(&expected, &presented) {
        Ok(())
    } else {
        Err(AuthError::Invalid("the signature does not match the body".into()))
    }
}

/// The 32 bytes of a presented signature: 64 hex digits, else base64 (44 characters, or 43 unpadded).
fn decode_signature(presented: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if presented.len() == 64 {
        return hex::decode(presented).ok();
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(presented).ok())
}

/// Lower-case hex HMAC-SHA256 of `raw` keyed by the secret: what Eduzz sends as `x-signature`.
pub fn sign(secret: &str, raw: &[u8]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[raw]))
}

/// The same signature in base64 (the other encoding accepted).
pub fn sign_base64(secret: &str, raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), &[raw]))
}

pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    let _body = parse_json_object(raw)?;
    Err(unprocessable("Eduzz events are not mapped yet"))
}
