//! Authenticates a delivery exactly as each platform does, from the same secret the server reads
//! (written here from the providers' documentation, not borrowed from the adapters, so that a test of
//! one checks the other):
//! - hashtag: the shared token as `?token=`;
//! - Hotmart: the account token in `X-HOTMART-HOTTOK`;
//! - Kiwify: `?signature=` = lower-case hex HMAC-SHA1 of the raw body, keyed by the webhook token;
//! - generic: Standard Webhooks, `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`
//!   keyed by the `whsec_` secret's decoded bytes (a secret without the prefix is used as is);
//! - Eduzz: `x-signature` = lower-case hex HMAC-SHA256 of the raw body, keyed by the secret;
//! - Monetizze: the postback key `chave_unica` inside the body, which goes as a form
//!   (`application/x-www-form-urlencoded`) with bracketed fields and the whole postback in `json`.

use crate::ingest::event::Source;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};

/// Where and with which headers one delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    /// The body to send instead of the one given (Monetizze: the form that carries the key).
    pub body: Option<Vec<u8>>,
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
    let mut replaced = None;
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
        Source::Eduzz => {
            headers.push(("x-signature".into(), eduzz_signature(secret, body)));
            path
        }
        Source::Monetizze => {
            // Only a well-formed postback can carry the key; anything else goes as it is (and has none).
            if let Some(form) = monetizze_form(secret, body) {
                headers[0].1 = "application/x-www-form-urlencoded".into();
                replaced = Some(form);
            }
            path
        }
    };
    Ok(Signed { path_and_query, headers, body: replaced })
}

/// Lower-case hex HMAC-SHA256 of `body` keyed by the secret.
pub fn eduzz_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The postback `body` (a JSON object, as `serde_json` writes it) with `chave_unica` = `key`, as the
/// form Monetizze posts: `chave_unica`, every field under its bracketed name (`venda[codigo]`), and
/// the whole postback in `json`. `None` when the body is not such an object.
pub fn monetizze_form(key: &str, body: &[u8]) -> Option<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    if serde_json::to_vec(&value).ok()? != body {
        return None; // not written by us: duplicate keys, odd spacing... send it untouched
    }
    let mut with_key = serde_json::Map::new();
    with_key.insert("chave_unica".into(), serde_json::Value::String(key.into()));
    with_key.extend(object.clone());
    let mut pairs = vec![];
    for (name, field) in &with_key {
        flatten(&percent_encode(name), field, &mut pairs);
    }
    let json = serde_json::to_string(&serde_json::Value::Object(with_key)).ok()?;
    pairs.push(format!("json={}", percent_encode(&json)));
    Some(pairs.join("&").into_bytes())
}

/// `name=value` pairs of a JSON value under `prefix`, objects and arrays as `prefix[key]`; nulls skipped.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, child) in map {
                flatten(&format!("{prefix}%5B{}%5D", percent_encode(key)), child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                flatten(&format!("{prefix}%5B{i}%5D"), child, out);
            }
        }
        Value::String(s) => out.push(format!("{prefix}={}", percent_encode(s))),
        Value::Bool(b) => out.push(format!("{prefix}={}", u8::from(*b))),
        Value::Number(n) => out.push(format!("{prefix}={n}")),
    }
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
    fn eduzz_vector_of_providers_md() {
        let body = br#"{"id":"evt1","event":"myeduzz.invoice_paid","data":{"id":"123"},"sentDate":"2026-01-01T00:00:00.000Z"}"#;
        assert_eq!(
            eduzz_signature("eduzz-fake-secret", body),
            "704323ec68dfe2bea851ecd9dd52f45a2d615a37976c8d03cb5391546b046baf"
        );
    }

    #[test]
    fn monetizze_forms_carry_the_key_and_the_json() {
        let form = monetizze_form(
            "k&y",
            "{\"comprador\":{\"nome\":\"João\"},\"venda\":{\"codigo\":\"7001\",\"parcelas\":1}}".as_bytes(),
        );
        let form = String::from_utf8(form.unwrap()).unwrap();
        assert!(form.starts_with("chave_unica=k%26y&"), "{form}");
        assert!(
            form.contains("&comprador%5Bnome%5D=Jo%C3%A3o&venda%5Bcodigo%5D=7001&venda%5Bparcelas%5D=1&"),
            "{form}"
        );
        assert!(form.contains("&json=%7B%22chave_unica%22%3A%22k%26y%22"), "{form}");
        assert_eq!(monetizze_form("k", br#"{"a":1,"a":2}"#), None);
        assert_eq!(monetizze_form("k", b"[1]"), None);
        assert_eq!(monetizze_form("k", b""), None);
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
            let body = signed.body.as_deref().unwrap_or(body);
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
