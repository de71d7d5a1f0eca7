//! Authenticates a delivery exactly as each platform does, from the same secret the server reads
//! (written here from the providers' documentation, not borrowed from the adapters, so that a test of
//! one checks the other):
//! - hashtag: the shared token as `?token=`;
//! - Hotmart: the account token in `X-HOTMART-HOTTOK`;
//! - Kiwify: `?signature=` = lower-case hex HMAC-SHA1 of the raw body, keyed by the webhook token;
//! - generic: Standard Webhooks, `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`
//!   keyed by the `whsec_` secret's decoded bytes (a secret without the prefix is used as is).

use crate::ingest::event::Source;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};

/// Where and with which headers one delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the generic secret is unusable: `whsec_` must be followed by base64")]
    UnusableSecret,
}

/// Signs `body` for `source`. `delivery_id` is the Standard Webhooks message id (the same for every
/// retry of one message) and `timestamp` the unix time of this attempt; other sources ignore both.
pub fn sign(source: Source, secret: &str, body: &[u8], delivery_id: &str, timestamp: i64) -> Result<Signed, SignError> {
    let path = format!("/webhooks/{}", source.as_str());
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let path_and_query = match source {
        Source::Hashtag => format!("{path}?token={}", percent_encode(secret)),
        Source::Hotmart => {
            headers.push(("X-HOTMART-HOTTOK".into(), secret.into()));
            path
        }
        Source::Kiwify => format!("{path}?signature={}", kiwify_signature(secret, body)),
        Source::Generic => {
            headers.push(("webhook-id".into(), delivery_id.into()));
            headers.push(("webhook-timestamp".into(), timestamp.to_string()));
            headers
                .push(("webhook-signature".into(), standard_webhooks_signature(secret, delivery_id, timestamp, body)?));
            path
        }
    };
    Ok(Signed { path_and_query, headers })
}

/// Lower-case hex HMAC-SHA1 of `body` keyed by the token.
pub fn kiwify_signature(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`.
pub fn standard_webhooks_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let key = match secret.strip_prefix("whsec_") {
        Some(encoded) => STANDARD.decode(encoded).map_err(|_| SignError::UnusableSecret)?,
        None => secret.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(SignError::UnusableSecret);
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// A query-string value, percent-encoded (RFC 3986 unreserved characters kept).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiwify_vector_of_providers_md() {
        let body = br#"{"order_id":"ord-0001","webhook_event_type":"order_approved","order_status":"paid"}"#;
        assert_eq!(kiwify_signature("w9i3pvutvxe", body), "8c994da07be26fba2b5ebfcb849924dfbb77a3ae");
    }

    #[test]
    fn standard_webhooks_vectors() {
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            standard_webhooks_signature(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                body
            )
            .unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        let body = br#"{"type":"purchase.approved","data":{"order_id":"ord_123"}}"#;
        assert_eq!(
            standard_webhooks_signature(
                "whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ=",
                "msg_test_0001",
                1767225600,
                body
            )
            .unwrap(),
            "v1,onclsy61uKHau/CaFNniPdLXndTcNyrV8zQoEFrKUts="
        );
        assert_eq!(standard_webhooks_signature("whsec_***", "m", 1, b"{}"), Err(SignError::UnusableSecret));
        assert_eq!(standard_webhooks_signature("", "m", 1, b"{}"), Err(SignError::UnusableSecret));
    }

    #[test]
    fn each_source_is_authenticated_where_its_adapter_looks() {
        use crate::ingest::event::RequestParts;
        let body = br#"{"a":1}"#;
        let now = chrono::Utc::now();
        for source in Source::ALL {
            let secret = match source {
                Source::Generic => "whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ=",
                _ => "s3cr3t &=+/ token",
            };
            let signed = sign(source, secret, body, "msg_1", now.timestamp()).unwrap();
            let (path, query) = signed.path_and_query.split_once('?').unwrap_or((&signed.path_and_query, ""));
            assert_eq!(path, format!("/webhooks/{}", source.as_str()));
            let parts = RequestParts {
                headers: signed.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
                query: query
                    .split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (k.to_string(), percent_decode(v))
                    })
                    .collect(),
            };
            assert_eq!(crate::ingest::sources::authenticate(source, secret, body, &parts, now), Ok(()), "{source:?}");
            assert!(crate::ingest::sources::authenticate(source, "other", body, &parts, now).is_err(), "{source:?}");
        }
    }

    fn percent_decode(v: &str) -> String {
        let bytes = v.as_bytes();
        let mut out = vec![];
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
