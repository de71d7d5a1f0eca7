//! Monetizze postback ("Server to Server"): the sale as form fields with bracketed keys
//! (`venda[codigo]=...&comprador[email]=...`, PHP's `$_POST`), often with the whole postback repeated as
//! JSON in a `json` field, or the JSON object as the body. Authenticated by the account's postback key,
//! `chave_unica`, inside the body.

use super::common::{parse_json_object, secret_matches, text, unprocessable};
use crate::ingest::event::{AuthError, ParseError, Parsed, RequestParts};
use serde_json::{Map, Value};

pub const KEY_FIELD: &str = "chave_unica";

/// Top-level keys of which at least one makes a form body a Monetizze postback.
const POSTBACK_KEYS: [&str; 6] = ["chave_unica", "json", "tipoEvento", "venda", "comprador", "produto"];

/// Deepest bracket nesting read from a form (`comissoes[0][comprador][email]` is four levels).
const MAX_FORM_DEPTH: usize = 5;

pub fn authenticate(secret: &str, raw: &[u8], _parts: &RequestParts) -> Result<(), AuthError> {
    let presented = presented_keys(raw);
    if presented.is_empty() {
        return Err(AuthError::Missing("no `chave_unica` in the postback".into()));
    }
    if presented.iter().any(|key| secret_matches(secret, key)) {
        Ok(())
    } else {
        Err(AuthError::Invalid("the `chave_unica` does not match".into()))
    }
}

/// The `chave_unica` values of the body: of the JSON object, or of the form and of its `json` field.
fn presented_keys(raw: &[u8]) -> Vec<String> {
    let mut keys = vec![];
    if let Ok(body) = decode(raw) {
        keys.extend(text(body.get(KEY_FIELD)));
    }
    if let Some(Value::Object(form)) = form_fields(raw) {
        keys.extend(text(form.get(KEY_FIELD)));
    }
    keys
}

/// The postback as one JSON object, whatever form it came in: a JSON body; else a form, whose `json`
/// field (the whole postback) wins over its bracketed fields. Anything else is not a postback.
pub fn decode(raw: &[u8]) -> Result<Value, ParseError> {
    let unbommed = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    if unbommed.trim_ascii_start().starts_with(b"{") {
        return parse_json_object(raw);
    }
    let Some(Value::Object(form)) = form_fields(raw).filter(is_postback_form) else {
        return Err(ParseError::InvalidJson(
            "neither a JSON object nor a Monetizze form postback (`venda[codigo]=...`)".into(),
        ));
    };
    match form.get("json") {
        Some(Value::String(json)) if !json.trim().is_empty() => {
            parse_json_object(json.as_bytes()).map_err(|e| match e {
                ParseError::InvalidJson(m) => ParseError::InvalidJson(format!("the `json` field: {m}")),
                other => other,
            })
        }
        _ => without_nul(Value::Object(form)),
    }
}

/// Whether the body is a form-encoded postback (for callers that tell JSON and forms apart).
pub fn is_form_postback(raw: &[u8]) -> bool {
    form_fields(raw).is_some_and(|form| is_postback_form(&form))
}

fn is_postback_form(form: &Value) -> bool {
    form.as_object().is_some_and(|map| POSTBACK_KEYS.iter().any(|key| map.contains_key(*key)))
}

/// The form's fields as nested objects (`venda[codigo]=1` → `{"venda": {"codigo": "1"}}`), read by
/// `serde_qs`; `None` when the body is not a readable form.
fn form_fields(raw: &[u8]) -> Option<Value> {
    let config = serde_qs::Config::new().max_depth(MAX_FORM_DEPTH).use_form_encoding(true);
    config.deserialize_bytes::<Map<String, Value>>(raw).ok().map(Value::Object)
}

/// A form can carry `%00`: refused like a JSON `\u0000` (PostgreSQL text cannot hold it).
fn without_nul(form: Value) -> Result<Value, ParseError> {
    parse_json_object(form.to_string().as_bytes())
}

pub fn parse(raw: &[u8], _parts: &RequestParts) -> Result<Parsed, ParseError> {
    let _body = decode(raw)?;
    Err(unprocessable("Monetizze events are not mapped yet"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_become_nested_objects() {
        let raw = b"chave_unica=k&venda%5Bcodigo%5D=70000001&venda[valor]=197.00&comprador[nome]=Jo%C3%A3o+da+Silva&tipoEvento[codigo]=2";
        let body = decode(raw).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"chave_unica": "k", "venda": {"codigo": "70000001", "valor": "197.00"},
                "comprador": {"nome": "João da Silva"}, "tipoEvento": {"codigo": "2"}})
        );
    }
}
