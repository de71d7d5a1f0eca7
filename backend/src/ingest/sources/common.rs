//! Helpers shared by the source adapters: JSON navigation, normalisation of e-mails, names, documents,
//! money and timestamps, and constant-time secret comparison.

use crate::ingest::event::{IgnoredEvent, ParseError, Parsed};
use crate::note::Note;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest provider value echoed back in an error message.
const MAX_ECHO_CHARS: usize = 64;

// ---------------------------------------------------------------------------------------------
// Body and errors
// ---------------------------------------------------------------------------------------------

/// Parses the raw body as a JSON object (a leading UTF-8 BOM is tolerated). The error message is the
/// detail only: the HTTP layer prefixes it with "The body is not valid JSON".
pub fn parse_json_object(raw: &[u8]) -> Result<Value, ParseError> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let StrictJson(value) = serde_json::from_slice(raw).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ParseError::InvalidJson(format!("a JSON object is expected, not {}", json_kind(&value))));
    }
    match nul_path(&value, "") {
        // PostgreSQL text cannot hold U+0000, and no provider field needs one: refuse rather than guess.
        Some(path) => Err(unprocessable(format!("field `{path}` contains a NUL character (\\u0000)"))),
        None => Ok(value),
    }
}

/// A JSON value that refuses duplicate object keys: `{"status":"aprovado","status":"reembolsado"}`
/// has no single meaning, and parsers disagree on which one wins.
struct StrictJson(Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<StrictJson, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictJson)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictJson(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key `{}`", shorten(&key))));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The path of the first key or string that contains U+0000, if any (depth is bounded by serde_json's
/// recursion limit).
fn nul_path(value: &Value, path: &str) -> Option<String> {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() { "(root)".into() } else { path.to_string() }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| nul_path(item, &join(&i.to_string()))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(&shorten(&key.replace('\0', "\\u0000"))))
            } else {
                nul_path(item, &join(key))
            }
        }),
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn unprocessable(message: impl Into<String>) -> ParseError {
    ParseError::Unprocessable(message.into())
}

pub fn missing(field: &str) -> ParseError {
    unprocessable(format!("missing required field `{field}`"))
}

/// A provider value, cut short so that an error message stays readable.
pub fn shorten(value: &str) -> String {
    if value.chars().count() <= MAX_ECHO_CHARS {
        return value.to_string();
    }
    let mut short: String = value.chars().take(MAX_ECHO_CHARS).collect();
    short.push('…');
    short
}

/// An authenticated delivery with a status (or event name) no rule handles: ignored under that name
/// (shortened), never refused, because a 4xx makes the platform retry it forever.
pub fn unknown_status(status: &str, dedup_key: Option<String>, email: Option<String>) -> Parsed {
    ignored(&shorten(status), dedup_key, email, Note::UnknownStatus)
}

/// A recognised event that Portaria deliberately does not act on.
pub fn ignored(event_type: &str, dedup_key: Option<String>, email: Option<String>, reason: Note) -> Parsed {
    Parsed::Ignored(IgnoredEvent { event_type: event_type.to_string(), dedup_key, email, reason })
}

// ---------------------------------------------------------------------------------------------
// JSON navigation
// ---------------------------------------------------------------------------------------------

/// The value at `path` (object keys), `None` when absent or `null`.
pub fn at<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut current = root;
    for key in path {
        current = current.get(key)?;
    }
    (!current.is_null()).then_some(current)
}

/// The first of several paths that holds a value.
pub fn at_any<'a>(root: &'a Value, paths: &[&[&str]]) -> Option<&'a Value> {
    paths.iter().find_map(|path| at(root, path))
}

/// A string (trimmed, non-empty) or a number, as text.
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => non_empty(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn text_at(root: &Value, path: &[&str]) -> Option<String> {
    text(at(root, path))
}

pub fn require_text(value: Option<&Value>, field: &str) -> Result<String, ParseError> {
    text(value).ok_or_else(|| missing(field))
}

fn non_empty(s: &str) -> Option<String> {
    let trimmed = s.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Lower-cased text (payment methods, provider enums).
pub fn lower_text(value: Option<&Value>) -> Option<String> {
    text(value).map(|s| s.to_lowercase())
}

/// A positive-or-zero integer given as a JSON number or a numeric string (`parcelas`, `installments`).
pub fn small_integer(value: Option<&Value>) -> Option<i32> {
    match value? {
        Value::Number(n) => n.as_i64().and_then(|i| i32::try_from(i).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The number of installments at `value`: absent → `None`; otherwise a whole number from 1 to 99.
pub fn installments(value: Option<&Value>, field: &str) -> Result<Option<i32>, ParseError> {
    let Some(value) = value else { return Ok(None) };
    if matches!(value, Value::String(s) if s.trim().is_empty()) {
        return Ok(None);
    }
    match small_integer(Some(value)) {
        Some(n) if (1..=MAX_INSTALLMENTS).contains(&n) => Ok(Some(n)),
        _ => Err(unprocessable(format!(
            "field `{field}` must be a whole number of installments from 1 to {MAX_INSTALLMENTS}"
        ))),
    }
}

pub const MAX_INSTALLMENTS: i32 = 99;

// ---------------------------------------------------------------------------------------------
// Customer fields
// ---------------------------------------------------------------------------------------------

/// Longest e-mail address accepted (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Trimmed and lower-cased; `None` unless it is a well-formed `local@domain.tld` of at most 254
/// characters: a local part of 1–64 characters without spaces or control characters, and a domain of
/// dot-separated labels (letters — accented too —, digits and inner hyphens, 1–63 characters each),
/// at least two of them.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.chars().count() > MAX_EMAIL_CHARS {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    let local_ok = (1..=64).contains(&local.chars().count())
        && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | ',' | ';'))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let label_ok = |label: &str| {
        (1..=63).contains(&label.chars().count())
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let domain_ok = domain.split('.').count() >= 2 && domain.split('.').all(label_ok);
    (local_ok && domain_ok).then_some(email)
}

/// The e-mail at `value`, or the reason why the event cannot be processed without it.
pub fn require_email(value: Option<&Value>, field: &str) -> Result<String, ParseError> {
    let raw = match value {
        None => return Err(missing(field)),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(missing(field)),
        Some(Value::String(s)) => s,
        Some(_) => return Err(unprocessable(format!("field `{field}` must be a string"))),
    };
    normalize_email(raw).ok_or_else(|| unprocessable(format!("field `{field}` is not a valid e-mail address")))
}

/// The e-mail at `value` when there is a valid one (for ignored events).
pub fn optional_email(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).and_then(normalize_email)
}

/// Trimmed; empty → `None`.
pub fn normalize_name(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).and_then(non_empty)
}

/// CPF/CNPJ: digits only when the value contains digits, otherwise the trimmed text.
pub fn normalize_document(value: Option<&Value>) -> Option<String> {
    let raw = text(value)?;
    if raw.chars().any(|c| c.is_ascii_digit()) {
        Some(raw.chars().filter(char::is_ascii_digit).collect())
    } else {
        Some(raw)
    }
}

/// Trimmed; empty → `None`.
pub fn normalize_phone(value: Option<&Value>) -> Option<String> {
    text(value)
}

// ---------------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------------

/// An amount in major units (JSON number or text such as `"197.00"`, `"1.234,56"`, `"R$ 197,5"`) → cents.
/// The decimal text is parsed digit by digit (no `f64` arithmetic); a third decimal rounds half away
/// from zero.
pub fn money_to_cents(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(units) => units.checked_mul(100),
            None => decimal_text_to_cents(&n.to_string()),
        },
        Value::String(s) => decimal_text_to_cents(s),
        _ => None,
    }
}

/// The largest amount accepted: R$ 10,000,000.00. Course sales are far below; anything above is a
/// malformed value, not a sale.
pub const MAX_AMOUNT_CENTS: i64 = 1_000_000_000;

/// An amount read from `field` must be a sale's: from zero to [`MAX_AMOUNT_CENTS`].
pub fn bounded_amount(cents: Option<i64>, field: &str) -> Result<Option<i64>, ParseError> {
    match cents {
        Some(c) if !(0..=MAX_AMOUNT_CENTS).contains(&c) => Err(unprocessable(format!(
            "field `{field}` must be an amount from 0 to {} (in major units)",
            MAX_AMOUNT_CENTS / 100
        ))),
        other => Ok(other),
    }
}

/// Lenient: an absent or unreadable amount is `None` (amounts are informational for providers); a
/// readable one out of range (negative, absurdly large) is unprocessable.
pub fn money_lenient(value: Option<&Value>, field: &str) -> Result<Option<i64>, ParseError> {
    match value {
        // A number is always readable: one that does not fit is out of range.
        Some(Value::Number(_)) => money_strict(value, field),
        _ => bounded_amount(value.and_then(money_to_cents), field),
    }
}

/// Strict: absent (or blank) → `Ok(None)`, present but unreadable or out of range → unprocessable.
pub fn money_strict(value: Option<&Value>, field: &str) -> Result<Option<i64>, ParseError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => bounded_amount(
            Some(money_to_cents(v).ok_or_else(|| unprocessable(format!("field `{field}` is not a valid amount")))?),
            field,
        ),
    }
}

/// Amounts that are already integer cents (Kiwify `Commissions.*`): integer number or digit string;
/// unreadable → `None`, out of range → unprocessable.
pub fn integer_cents(value: Option<&Value>, field: &str) -> Result<Option<i64>, ParseError> {
    let cents = match value {
        Some(Value::Number(n)) if n.as_i64().is_none() && n.as_f64().is_some_and(|f| f.abs() >= 9e15) => {
            return bounded_amount(Some(-1), field);
        }
        Some(Value::Number(n)) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
        }
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    bounded_amount(cents, field)
}

/// Parses decimal text in major units into cents.
pub fn decimal_text_to_cents(text: &str) -> Option<i64> {
    let cleaned = clean_money_text(text)?;
    let (negative, unsigned) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let (mantissa, exponent) = split_exponent(unsigned)?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_only(int_part) || !digits_only(frac_part) {
        return None;
    }
    let point = i64::try_from(int_part.len()).ok()?.checked_add(exponent)?;
    let cents = scale_to_cents(&format!("{int_part}{frac_part}"), point)?;
    Some(if negative { -cents } else { cents })
}

/// Strips a currency prefix and spaces, and rewrites the separators so that `.` is the decimal point.
fn clean_money_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let trimmed = trimmed.strip_prefix("R$").unwrap_or(trimmed);
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    (!compact.is_empty()).then(|| normalize_separators(&compact))
}

/// `1.234,56` and `1,234.56` → `1234.56`; a single `,` is a decimal comma; repeated separators group thousands.
fn normalize_separators(text: &str) -> String {
    let commas = text.matches(',').count();
    let dots = text.matches('.').count();
    match (commas, dots) {
        (0, 0 | 1) => text.to_string(),
        (0, _) => text.replace('.', ""),
        (1, 0) => text.replace(',', "."),
        (_, 0) => text.replace(',', ""),
        _ if text.rfind(',') > text.rfind('.') => text.replace('.', "").replace(',', "."),
        _ => text.replace(',', ""),
    }
}

/// `"1.5e3"` → (`"1.5"`, 3).
fn split_exponent(text: &str) -> Option<(&str, i64)> {
    match text.find(['e', 'E']) {
        Some(pos) => {
            let exponent = text[pos + 1..].parse::<i64>().ok()?;
            (exponent.abs() <= 1000).then_some((&text[..pos], exponent))
        }
        None => Some((text, 0)),
    }
}

/// `digits` with the decimal point after `point` digits → cents, rounding on the third decimal.
fn scale_to_cents(digits: &str, point: i64) -> Option<i64> {
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    let stripped = i64::try_from(digits.len() - significant.len()).ok()?;
    let keep = point - stripped + 2;
    if keep > 19 {
        return None;
    }
    let bytes = significant.as_bytes();
    let digit = |i: i64| usize::try_from(i).ok().and_then(|i| bytes.get(i)).map_or(0, |b| i64::from(b - b'0'));
    let mut cents: i64 = 0;
    for i in 0..keep.max(0) {
        cents = cents.checked_mul(10)?.checked_add(digit(i))?;
    }
    if keep >= 0 && digit(keep) >= 5 {
        cents = cents.checked_add(1)?;
    }
    Some(cents)
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/// America/Sao_Paulo: UTC-03:00 all year since daylight saving time was abolished in 2019.
pub fn sao_paulo() -> FixedOffset {
    FixedOffset::west_opt(3 * 3600).unwrap_or_else(|| Utc.fix())
}

/// Epoch milliseconds (number or numeric string), or else a date-time text (Hotmart).
pub fn millis_or_text(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 9e15).map(|f| f as i64))
            .and_then(DateTime::from_timestamp_millis),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(ms) => DateTime::from_timestamp_millis(ms),
            Err(_) => datetime_text(s),
        },
        _ => None,
    }
}

/// A date-time text: RFC 3339 / ISO-8601 with an offset, or a local time without one (then São Paulo
/// time): `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]`, `YYYY-MM-DD`, `DD/MM/YYYY[ HH:MM[:SS]]`.
pub fn datetime_text(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    with_offset(text).or_else(|| local_sao_paulo(text))
}

pub fn datetime_value(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value.and_then(Value::as_str).and_then(datetime_text)
}

fn with_offset(text: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 4] =
        ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z", "%Y-%m-%d %H:%M%#z"];
    let text = text.strip_suffix(['Z', 'z']).map(|t| format!("{t}+00:00")).unwrap_or_else(|| text.to_string());
    FORMATS.iter().find_map(|f| DateTime::parse_from_str(&text, f).ok()).map(|dt| dt.with_timezone(&Utc))
}

fn local_sao_paulo(text: &str) -> Option<DateTime<Utc>> {
    const DATE_TIMES: [&str; 6] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ];
    const DATES: [&str; 2] = ["%Y-%m-%d", "%d/%m/%Y"];
    let naive = DATE_TIMES.iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok()).or_else(|| {
        DATES.iter().find_map(|f| NaiveDate::parse_from_str(text, f).ok()).and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    sao_paulo().from_local_datetime(&naive).single().map(|dt| dt.with_timezone(&Utc))
}

// ---------------------------------------------------------------------------------------------
// Secrets and digests
// ---------------------------------------------------------------------------------------------

/// Constant-time equality; different lengths are unequal (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Whether a credential the sender presented equals the configured secret. An empty secret never matches.
pub fn secret_matches(secret: &str, presented: &str) -> bool {
    !secret.is_empty() && constant_time_eq(secret.as_bytes(), presented.as_bytes())
}

/// HMAC-SHA1 over the concatenation of `parts`.
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length (long keys are hashed), so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    parts.iter().for_each(|part| mac.update(part));
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    parts.iter().for_each(|part| mac.update(part));
    mac.finalize().into_bytes().to_vec()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::utc;
    use serde_json::json;

    #[test]
    fn json_object_is_required() {
        assert!(parse_json_object(br#"{"a":1}"#).is_ok());
        assert!(parse_json_object(b"\xEF\xBB\xBF{\"a\":1}").is_ok());
        for bad in [&b"nope"[..], b"", b"{\"a\":", b"[1,2]", b"null", b"\"text\"", b"42", b"\xff\xfe"] {
            assert!(matches!(parse_json_object(bad), Err(ParseError::InvalidJson(_))), "{bad:?}");
        }
        let Err(ParseError::InvalidJson(msg)) = parse_json_object(b"[]") else { panic!() };
        assert!(msg.contains("array"));
    }

    #[test]
    fn navigation_skips_nulls_and_non_objects() {
        let v = json!({"a": {"b": null, "c": " x ", "n": 12, "arr": [1]}});
        assert_eq!(at(&v, &["a", "b"]), None);
        assert_eq!(at(&v, &["a", "c", "d"]), None);
        assert_eq!(at(&v, &["a", "arr", "0"]), None);
        assert_eq!(text_at(&v, &["a", "c"]), Some("x".into()));
        assert_eq!(text_at(&v, &["a", "n"]), Some("12".into()));
        assert_eq!(text_at(&v, &["a", "arr"]), None);
        assert_eq!(text(at_any(&v, &[&["zz"], &["a", "n"]])), Some("12".into()));
        assert_eq!(require_text(None, "x.y"), Err(missing("x.y")));
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email("  Paula.Souza12@Yahoo.com.BR "), Some("paula.souza12@yahoo.com.br".into()));
        for bad in ["", "no-at-sign", "@example.com", "ana@", "a@b@c", "ana maria@example.com"] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
        assert_eq!(require_email(Some(&json!("X@Example.com")), "email"), Ok("x@example.com".into()));
        assert!(matches!(require_email(None, "email"), Err(ParseError::Unprocessable(m)) if m.contains("`email`")));
        assert!(matches!(require_email(Some(&json!("  ")), "email"), Err(ParseError::Unprocessable(_))));
        assert!(matches!(require_email(Some(&json!(12)), "email"), Err(ParseError::Unprocessable(_))));
        assert!(
            matches!(require_email(Some(&json!("nope")), "e"), Err(ParseError::Unprocessable(m)) if m.contains("not a valid"))
        );
        assert_eq!(optional_email(Some(&json!("nope"))), None);
    }

    #[test]
    fn names_documents_and_phones() {
        assert_eq!(normalize_name(Some(&json!("  Vinícius Conceição "))), Some("Vinícius Conceição".into()));
        assert_eq!(normalize_name(Some(&json!("   "))), None);
        assert_eq!(normalize_name(None), None);
        assert_eq!(normalize_document(Some(&json!("123.456.789-09"))), Some("12345678909".into()));
        assert_eq!(normalize_document(Some(&json!("12.345.678/0001-95"))), Some("12345678000195".into()));
        assert_eq!(normalize_document(Some(&json!(12345678909_u64))), Some("12345678909".into()));
        assert_eq!(normalize_document(Some(&json!(" ABCDEF "))), Some("ABCDEF".into()));
        assert_eq!(normalize_document(Some(&json!(""))), None);
        assert_eq!(normalize_phone(Some(&json!(" +5511912345678 "))), Some("+5511912345678".into()));
        assert_eq!(lower_text(Some(&json!("CREDIT_CARD"))), Some("credit_card".into()));
        assert_eq!(small_integer(Some(&json!("3"))), Some(3));
        assert_eq!(small_integer(Some(&json!(12))), Some(12));
        assert_eq!(small_integer(Some(&json!(1.5))), None);
        assert_eq!(small_integer(Some(&json!("x"))), None);
    }

    #[test]
    fn money_in_major_units_becomes_cents_exactly() {
        let cases = [
            (json!(297), 29700),
            (json!(197.5), 19750),
            (json!(297.0), 29700),
            (json!(0.1), 10),
            (json!(19.99), 1999),
            (json!(1234.56), 123456),
            (json!(0.30000000000000004), 30),
            (json!("197.00"), 19700),
            (json!("1.234,56"), 123456),
            (json!("1,234.56"), 123456),
            (json!("197,5"), 19750),
            (json!("R$ 1.234,56"), 123456),
            (json!(" 1 234,56 "), 123456),
            (json!("1.234.567"), 123456700),
            (json!("0,005"), 1),
            (json!("0.004"), 0),
            (json!("-10.5"), -1050),
            (json!("1e3"), 100000),
            (json!("1.5E-1"), 15),
            (json!(".5"), 50),
            (json!("7."), 700),
        ];
        for (value, cents) in cases {
            assert_eq!(money_to_cents(&value), Some(cents), "{value}");
        }
        for bad in [
            json!(""),
            json!("abc"),
            json!("1,2.3,4"),
            json!("12a"),
            json!("1e"),
            json!(true),
            json!([1]),
            json!("."),
            json!("9e30"),
        ] {
            assert_eq!(money_to_cents(&bad), None, "{bad}");
        }
        assert_eq!(money_to_cents(&json!(i64::MAX)), None);
    }

    #[test]
    fn money_strictness() {
        assert_eq!(money_strict(None, "valor"), Ok(None));
        assert_eq!(money_strict(Some(&json!(" ")), "valor"), Ok(None));
        assert_eq!(money_strict(Some(&json!("12,30")), "valor"), Ok(Some(1230)));
        assert!(
            matches!(money_strict(Some(&json!("doze")), "valor"), Err(ParseError::Unprocessable(m)) if m.contains("`valor`"))
        );
        assert_eq!(money_lenient(Some(&json!("doze")), "v"), Ok(None));
        assert_eq!(integer_cents(Some(&json!(29700)), "c"), Ok(Some(29700)));
        assert_eq!(integer_cents(Some(&json!("29700")), "c"), Ok(Some(29700)));
        assert_eq!(integer_cents(Some(&json!(29700.0)), "c"), Ok(Some(29700)));
        assert_eq!(integer_cents(Some(&json!(297.5)), "c"), Ok(None));
    }

    #[test]
    fn hotmart_epoch_millis() {
        let expected = utc("2026-01-01T12:00:00.123Z");
        assert_eq!(millis_or_text(Some(&json!(1767268800123_i64))), Some(expected));
        assert_eq!(millis_or_text(Some(&json!("1767268800123"))), Some(expected));
        assert_eq!(millis_or_text(Some(&json!(1767268800123.0))), Some(utc("2026-01-01T12:00:00.123Z")));
        assert_eq!(millis_or_text(Some(&json!("2026-01-01T12:00:00Z"))), Some(utc("2026-01-01T12:00:00Z")));
        assert_eq!(millis_or_text(Some(&json!(true))), None);
        assert_eq!(millis_or_text(Some(&json!(i64::MAX))), None);
        assert_eq!(millis_or_text(None), None);
    }

    #[test]
    fn date_time_texts() {
        let cases = [
            ("2026-01-01 10:02", "2026-01-01T13:02:00Z"),
            ("2026-01-01 10:02:30", "2026-01-01T13:02:30Z"),
            ("2026-01-01T10:02:30", "2026-01-01T13:02:30Z"),
            ("2026-01-01T10:02:30.500", "2026-01-01T13:02:30.500Z"),
            ("2026-01-01", "2026-01-01T03:00:00Z"),
            ("01/02/2026 10:00", "2026-02-01T13:00:00Z"),
            ("2026-01-01T10:02:30Z", "2026-01-01T10:02:30Z"),
            ("2026-01-01T10:02:30.123Z", "2026-01-01T10:02:30.123Z"),
            ("2026-01-01T10:02:30-03:00", "2026-01-01T13:02:30Z"),
            ("2026-01-01T10:02:30-0300", "2026-01-01T13:02:30Z"),
            ("2026-01-01 10:02:30+00:00", "2026-01-01T10:02:30Z"),
            ("2026-01-01T10:02Z", "2026-01-01T10:02:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(datetime_text(text), Some(utc(expected)), "{text}");
        }
        for bad in ["", "tomorrow", "2026-13-01", "2026-01-01 25:00", "1767268800123"] {
            assert_eq!(datetime_text(bad), None, "{bad}");
        }
        assert_eq!(datetime_value(Some(&json!(12))), None);
    }

    #[test]
    fn secrets_compare_in_constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(secret_matches("s3cret", "s3cret"));
        assert!(!secret_matches("s3cret", "S3CRET"));
        assert!(!secret_matches("", ""));
    }

    #[test]
    fn helpers_for_messages() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"x".repeat(100)).chars().count(), MAX_ECHO_CHARS + 1);
        assert_eq!(
            hex::encode(hmac_sha1(b"key", &[b"The quick brown fox ", b"jumps over the lazy dog"])),
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"key", &[b"The quick brown fox jumps over the lazy dog"])),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let Parsed::Ignored(event) = ignored("E", Some("k".into()), None, Note::CartAbandoned) else { panic!() };
        assert_eq!((event.event_type.as_str(), event.reason), ("E", Note::CartAbandoned));
    }

    #[test]
    fn nul_characters_are_refused_with_their_path() {
        let Err(ParseError::Unprocessable(m)) = parse_json_object(br#"{"a":{"nome":"x\u0000y"}}"#) else { panic!() };
        assert!(m.contains("`a.nome`"), "{m}");
        let Err(ParseError::Unprocessable(m)) = parse_json_object(br#"{"l":[1,"\u0000"]}"#) else { panic!() };
        assert!(m.contains("`l.1`"), "{m}");
        let Err(ParseError::Unprocessable(m)) = parse_json_object(br#"{"k\u0000":1}"#) else { panic!() };
        assert!(m.contains("NUL"), "{m}");
        // a raw NUL byte is not JSON at all
        assert!(matches!(parse_json_object(b"{\"a\":\"\x00\"}"), Err(ParseError::InvalidJson(_))));
        assert!(matches!(parse_json_object(b"\x00"), Err(ParseError::InvalidJson(_))));
    }

    #[test]
    fn duplicate_keys_and_hostile_json_are_not_json_we_accept() {
        for bad in [
            &br#"{"status":"aprovado","status":"reembolsado"}"#[..],
            br#"{"a":{"b":1,"b":2}}"#,
            br#"{"a":1e400}"#,
            br#"{"a":"\ud800"}"#,
            b"",
            b"  \n ",
            b"\xff\xfe{}",
            b"nome=a&email=b",
        ] {
            assert!(
                matches!(parse_json_object(bad), Err(ParseError::InvalidJson(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse_json_object(deep.as_bytes()), Err(ParseError::InvalidJson(_))));
        let deep_object = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        assert!(matches!(parse_json_object(deep_object.as_bytes()), Err(ParseError::InvalidJson(_))));
        let ok = parse_json_object(br#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#).unwrap();
        assert_eq!(ok, json!({"a":[1,-2,3.5,"x",null,true,{"b":{}}]}));
    }

    #[test]
    fn e_mails_are_bounded_and_well_formed() {
        assert_eq!(normalize_email(" Fulano@Email.com ").as_deref(), Some("fulano@email.com"));
        assert_eq!(
            normalize_email("joão.silva+curso@escola.com.br").as_deref(),
            Some("joão.silva+curso@escola.com.br")
        );
        let long_local = format!("{}@x.com", "a".repeat(65));
        let long_total = format!("{}@{}.com", "a".repeat(60), vec!["b".repeat(60); 4].join("."));
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@b-.com",
            ".a@b.com",
            "a..b@c.com",
            "a@b.com\nx",
            "a@b_c.com",
            &long_local,
            &long_total,
            &"x".repeat(5000),
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        assert!(matches!(require_email(Some(&json!("a".repeat(5000))), "email"),
            Err(ParseError::Unprocessable(m)) if m.contains("`email`")));
    }

    #[test]
    fn amounts_and_installments_are_bounded() {
        assert!(
            matches!(money_strict(Some(&json!(-1)), "valor"), Err(ParseError::Unprocessable(m)) if m.contains("`valor`"))
        );
        assert!(matches!(money_strict(Some(&json!(1e20)), "valor"), Err(ParseError::Unprocessable(_))));
        assert!(matches!(money_strict(Some(&json!(1e300)), "valor"), Err(ParseError::Unprocessable(_))));
        assert_eq!(money_strict(Some(&json!(0)), "valor"), Ok(Some(0)));
        assert_eq!(money_strict(Some(&json!(10_000_000)), "valor"), Ok(Some(MAX_AMOUNT_CENTS)));
        assert!(money_lenient(Some(&json!("-5,00")), "price.value").is_err());
        assert!(integer_cents(Some(&json!(-100)), "charge_amount").is_err());
        assert_eq!(installments(None, "parcelas"), Ok(None));
        assert_eq!(installments(Some(&json!(" ")), "parcelas"), Ok(None));
        assert_eq!(installments(Some(&json!("12")), "parcelas"), Ok(Some(12)));
        assert_eq!(installments(Some(&json!(99)), "parcelas"), Ok(Some(99)));
        for bad in [json!(0), json!(100), json!(-3), json!(1e20), json!(1.5), json!("x"), json!(true), json!([1])] {
            assert!(
                matches!(installments(Some(&bad), "parcelas"), Err(ParseError::Unprocessable(ref m)) if m.contains("`parcelas`")),
                "{bad}"
            );
        }
    }
}
