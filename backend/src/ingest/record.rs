//! What was received, kept as it came (secrets masked), and the recording of rejected requests.

use super::event::EventKind;
use super::process::Outcome;
use crate::note::Note;
use crate::schema::webhook_events;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};

/// Request headers worth keeping with an event (lower-case). Values of the secret ones are masked.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "x-request-id",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-hotmart-hottok",
    "x-webhook-token",
    "x-signature",
];
const SECRET_HEADERS: &[&str] =
    &["webhook-signature", "x-hotmart-hottok", "x-webhook-token", "x-signature", "authorization"];
const SECRET_QUERY: &[&str] = &["token", "signature", "hottok"];
pub const MASK: &str = "***";

/// One webhook request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The `{source}` of the URL, verbatim (at most 64 characters).
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub remote_addr: Option<String>,
    /// Kept headers and the query string, secrets masked.
    pub headers: Value,
    /// The body, up to the limit.
    pub body: Vec<u8>,
    /// The body's full size as sent.
    pub body_size: usize,
    pub truncated: bool,
}

impl Received {
    /// The body as text for storage (invalid UTF-8 and NUL bytes replaced by U+FFFD), with the Hotmart
    /// token masked when it is inside.
    pub fn stored_body(&self) -> String {
        mask_body_secrets(&pg_text(&String::from_utf8_lossy(&self.body)))
    }
}

/// PostgreSQL `text` and `jsonb` cannot hold U+0000: what is stored has it replaced by U+FFFD, so a
/// hostile byte never turns the recording of a request into a failure.
pub fn pg_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Keeps the listed headers and the query string, masking secrets.
pub fn keep_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>, query: &[(String, String)]) -> Value {
    let mut kept = Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if KEPT_HEADERS.contains(&name.as_str()) {
            let value = if SECRET_HEADERS.contains(&name.as_str()) { MASK } else { value };
            kept.insert(name, Value::String(pg_text(value).chars().take(512).collect()));
        }
    }
    if !query.is_empty() {
        let q: Map<String, Value> = query
            .iter()
            .map(|(k, v)| {
                let v = if SECRET_QUERY.contains(&k.as_str()) {
                    MASK.to_string()
                } else {
                    pg_text(v).chars().take(512).collect()
                };
                (pg_text(k).chars().take(128).collect(), Value::String(v))
            })
            .collect();
        kept.insert("query".into(), Value::Object(q));
    }
    Value::Object(kept)
}

/// Masks the secrets senders put in the body: a top-level `"hottok"` field (Hotmart repeats its token
/// there) and Monetizze's `chave_unica` (in a JSON body, a form field, or the form's `json` field).
pub fn mask_body_secrets(body: &str) -> String {
    let mut masked = mask_hottok(body);
    if !body.contains("chave_unica") {
        return masked;
    }
    for key in crate::ingest::sources::monetizze::presented_keys(body.as_bytes()) {
        // A value this short is no real key, and replacing it everywhere would garble the body.
        if key.chars().count() >= MIN_MASKED_KEY_CHARS {
            masked = masked.replace(&key, MASK).replace(&form_encoded(&key), MASK);
        }
    }
    masked
}

/// Shortest `chave_unica` masked (Monetizze's are 32 hexadecimal digits).
const MIN_MASKED_KEY_CHARS: usize = 6;

fn mask_hottok(body: &str) -> String {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    match map.get("hottok").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => {
            let encoded = Value::String(token.to_string()).to_string();
            body.replace(&encoded, &format!("\"{MASK}\""))
        }
        _ => body.to_string(),
    }
}

/// `value` as a form encodes it (`application/x-www-form-urlencoded`).
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Insertable)]
#[diesel(table_name = webhook_events)]
pub struct NewEvent<'a> {
    pub source: &'a str,
    pub received_at: DateTime<Utc>,
    pub remote_addr: Option<&'a str>,
    pub headers: Value,
    pub raw_body: String,
    pub body_size: i32,
    pub truncated: bool,
    pub outcome: Outcome,
    pub error: Option<&'a str>,
    pub dedup_key: Option<&'a str>,
    pub duplicate_of: Option<i64>,
    pub event_type: Option<&'a str>,
    pub kind: Option<EventKind>,
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub replay_of: Option<i64>,
    pub latency_ms: Option<i32>,
    pub note: Option<Note>,
}

impl<'a> NewEvent<'a> {
    pub fn from_received(r: &'a Received, outcome: Outcome) -> NewEvent<'a> {
        NewEvent {
            source: &r.source,
            received_at: r.received_at,
            remote_addr: r.remote_addr.as_deref(),
            headers: r.headers.clone(),
            raw_body: r.stored_body(),
            body_size: i32::try_from(r.body_size).unwrap_or(i32::MAX),
            truncated: r.truncated,
            outcome,
            error: None,
            dedup_key: None,
            duplicate_of: None,
            event_type: None,
            kind: None,
            customer_id: None,
            order_id: None,
            replay_of: None,
            latency_ms: None,
            note: None,
        }
    }
}

/// Records a rejected request (its own statement, committed at once); returns the event id.
pub fn record_rejection(
    conn: &mut PgConnection,
    received: &Received,
    outcome: Outcome,
    error: &str,
    replay_of: Option<i64>,
    latency_ms: i32,
) -> QueryResult<i64> {
    let error = pg_text(error);
    let row = NewEvent {
        error: Some(&error),
        replay_of,
        latency_ms: Some(latency_ms),
        ..NewEvent::from_received(received, outcome)
    };
    diesel::insert_into(webhook_events::table).values(row).returning(webhook_events::id).get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_useful_headers_and_masks_secrets() {
        let headers = [
            ("Content-Type", "application/json"),
            ("X-HOTMART-HOTTOK", "segredo"),
            ("Cookie", "session=abc"),
            ("webhook-signature", "v1,abc"),
            ("webhook-id", "msg_1"),
        ];
        let query = vec![("token".to_string(), "segredo".to_string()), ("x".to_string(), "1".to_string())];
        let kept = keep_headers(headers.into_iter(), &query);
        assert_eq!(kept["content-type"], "application/json");
        assert_eq!(kept["x-hotmart-hottok"], MASK);
        assert_eq!(kept["webhook-signature"], MASK);
        assert_eq!(kept["webhook-id"], "msg_1");
        assert!(kept.get("cookie").is_none());
        assert_eq!(kept["query"]["token"], MASK);
        assert_eq!(kept["query"]["x"], "1");
        assert!(!kept.to_string().contains("segredo"));
    }

    #[test]
    fn nul_never_reaches_the_database() {
        let kept = keep_headers(std::iter::empty(), &[("q\0".to_string(), "a\0b".to_string())]);
        assert!(!kept.to_string().contains("\\u0000"), "{kept}");
        let received = Received {
            source: "hashtag".into(),
            received_at: chrono::Utc::now(),
            remote_addr: None,
            headers: kept,
            body: b"{\"a\":\"\x00\"}\xff".to_vec(),
            body_size: 9,
            truncated: false,
        };
        assert_eq!(received.stored_body(), "{\"a\":\"\u{FFFD}\"}\u{FFFD}");
    }

    #[test]
    fn masks_the_hottok_in_the_body() {
        let body = r#"{"id":"1","hottok":"SEGREDO-123","event":"PURCHASE_APPROVED"}"#;
        let masked = mask_body_secrets(body);
        assert!(!masked.contains("SEGREDO-123"));
        assert!(masked.contains(r#""hottok":"***""#));
        assert_eq!(mask_body_secrets("not json"), "not json");
        assert_eq!(mask_body_secrets(r#"{"a":1}"#), r#"{"a":1}"#);
    }

    #[test]
    fn masks_the_monetizze_key_in_every_shape() {
        let json = r#"{"chave_unica":"82e98fd17562ae451ba4f9e3b9c2eab6","venda":{"codigo":"1"}}"#;
        assert_eq!(mask_body_secrets(json), r#"{"chave_unica":"***","venda":{"codigo":"1"}}"#);
        let form =
            "chave_unica=k%C3%A9y+s%26cret&venda%5Bcodigo%5D=1&json=%7B%22chave_unica%22%3A%22k%C3%A9y+s%26cret%22%7D";
        assert_eq!(
            mask_body_secrets(form),
            "chave_unica=***&venda%5Bcodigo%5D=1&json=%7B%22chave_unica%22%3A%22***%22%7D"
        );
        // too short to be a key: left alone rather than every "ab" of the body replaced
        let short = r#"{"chave_unica":"ab","produto":{"nome":"abc"}}"#;
        assert_eq!(mask_body_secrets(short), short);
    }
}
