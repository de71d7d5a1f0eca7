//! Portaria's own JSON format (documented in docs/WEBHOOKS.md), signed with Standard Webhooks:
//! `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`.

use super::common::{
    at, bounded_amount, constant_time_eq, hmac_sha256, installments, lower_text, normalize_document, normalize_name,
    normalize_phone, optional_email, parse_json_object, require_email, require_text, text, text_at, unknown_status,
    unprocessable,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, ProductInfo,
    RequestParts, Source,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// Accepted clock difference between the sender's `webhook-timestamp` and ours, both ways.
pub const TOLERANCE_SECONDS: i64 = 300;
const SECRET_PREFIX: &str = "whsec_";

/// The `type` values and what they mean.
pub const EVENT_TYPES: [(&str, EventKind); 9] = [
    ("payment.approved", EventKind::Approved),
    ("payment.refused", EventKind::Refused),
    ("payment.refunded", EventKind::Refunded),
    ("payment.chargeback", EventKind::Chargeback),
    ("payment.waiting_payment", EventKind::WaitingPayment),
    ("payment.expired", EventKind::Expired),
    ("payment.canceled", EventKind::Canceled),
    ("subscription.canceled", EventKind::SubscriptionCanceled),
    ("subscription.renewed", EventKind::Renewed),
];

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

pub fn authenticate(secret: &str, raw: &[u8], parts: &RequestParts, now: DateTime<Utc>) -> Result<(), AuthError> {
    let signatures =
        header(parts, SIGNATURE_HEADER).ok_or_else(|| AuthError::Missing(format!("no `{SIGNATURE_HEADER}` header")))?;
    let id = header(parts, ID_HEADER).ok_or_else(|| invalid(format!("the `{ID_HEADER}` header is missing")))?;
    let timestamp = header(parts, TIMESTAMP_HEADER)
        .ok_or_else(|| invalid(format!("the `{TIMESTAMP_HEADER}` header is missing")))?;
    check_timestamp(timestamp, now)?;
    let key = signing_key(secret)
        .ok_or_else(|| invalid("the signature cannot be verified: the configured secret is unusable"))?;
    let expected = hmac_sha256(&key, &[id.as_bytes(), b".", timestamp.as_bytes(), b".", raw]);
    if v1_signatures(signatures).any(|candidate| constant_time_eq(&expected, &candidate)) {
        Ok(())
    } else {
        Err(invalid("no `v1` signature matches the body"))
    }
}

/// The `webhook-signature` value for a body: what a sender puts in the header (`v1,<base64>`).
/// `None` when the secret is unusable (empty, or `whsec_` followed by invalid base64).
pub fn sign(secret: &str, id: &str, timestamp: i64, raw: &[u8]) -> Option<String> {
    let key = signing_key(secret)?;
    let timestamp = timestamp.to_string();
    let mac = hmac_sha256(&key, &[id.as_bytes(), b".", timestamp.as_bytes(), b".", raw]);
    Some(format!("v1,{}", STANDARD.encode(mac)))
}

fn invalid(message: impl Into<String>) -> AuthError {
    AuthError::Invalid(message.into())
}

fn header<'a>(parts: &'a RequestParts, name: &str) -> Option<&'a str> {
    parts.header(name).map(str::trim).filter(|v| !v.is_empty())
}

/// Unix seconds, within ±[`TOLERANCE_SECONDS`] of `now`.
fn check_timestamp(timestamp: &str, now: DateTime<Utc>) -> Result<(), AuthError> {
    let sent: i64 = timestamp.parse().map_err(|_| invalid(format!("`{TIMESTAMP_HEADER}` is not unix seconds")))?;
    if sent.saturating_sub(now.timestamp()).saturating_abs() > TOLERANCE_SECONDS {
        return Err(invalid(format!(
            "`{TIMESTAMP_HEADER}` is more than {TOLERANCE_SECONDS} s away from the server clock"
        )));
    }
    Ok(())
}

/// `whsec_<base64>` → the decoded bytes; a secret without the prefix is used as raw bytes.
fn signing_key(secret: &str) -> Option<Vec<u8>> {
    let key = match secret.strip_prefix(SECRET_PREFIX) {
        Some(encoded) => STANDARD.decode(encoded).ok()?,
        None => secret.as_bytes().to_vec(),
    };
    (!key.is_empty()).then_some(key)
}

/// The decoded `v1` entries of a space-separated signature list (other versions are skipped).
fn v1_signatures(list: &str) -> impl Iterator<Item = Vec<u8>> + '_ {
    list.split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, signature)| STANDARD.decode(signature).ok())
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

pub fn parse(raw: &[u8], parts: &RequestParts) -> Result<Parsed, ParseError> {
    let body = parse_json_object(raw)?;
    let event_type = require_text(at(&body, &["type"]), "type")?;
    let Some(kind) = event_kind(&event_type) else {
        let dedup_key = match header(parts, ID_HEADER) {
            Some(id) => Some(id.to_string()),
            None => text_at(&body, &["order", "id"]).map(|order_id| format!("{event_type}:{order_id}")),
        };
        return Ok(unknown_status(&event_type, dedup_key, optional_email(at(&body, &["customer", "email"]))));
    };
    let email = require_email(at(&body, &["customer", "email"]), "customer.email")?;
    let order = order(&body)?;
    let dedup_key = match header(parts, ID_HEADER) {
        Some(id) => id.to_string(),
        None => format!("{event_type}:{}", order.external_id),
    };
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Generic,
        dedup_key,
        event_type,
        kind,
        occurred_at: timestamp(&body, "occurred_at")?,
        customer: customer(&body, email),
        order: Some(order),
        product: product(&body)?,
        payment: payment(&body)?,
        access_until: timestamp(&body, "access_until")?,
    })))
}

/// The kind of a documented `type`; `None` for any other (ignored as an unknown status).
fn event_kind(event_type: &str) -> Option<EventKind> {
    EVENT_TYPES.iter().find(|(name, _)| *name == event_type).map(|(_, kind)| *kind)
}

fn customer(body: &Value, email: String) -> CustomerInfo {
    CustomerInfo {
        email,
        name: normalize_name(at(body, &["customer", "name"])),
        document: normalize_document(at(body, &["customer", "document"])),
        phone: normalize_phone(at(body, &["customer", "phone"])),
    }
}

fn order(body: &Value) -> Result<OrderInfo, ParseError> {
    Ok(OrderInfo {
        external_id: require_text(at(body, &["order", "id"]), "order.id")?,
        amount_cents: amount_cents(at(body, &["order", "amount_cents"]))?,
        currency: text(at(body, &["order", "currency"])).map(|c| c.to_ascii_uppercase()),
        payment_method: lower_text(at(body, &["order", "payment_method"])),
        installments: installments(at(body, &["order", "installments"]), "order.installments")?,
        coupon: text(at(body, &["order", "coupon"])),
    })
}

/// `order.amount_cents` must be a JSON integer: no decimals, no text.
fn amount_cents(value: Option<&Value>) -> Result<Option<i64>, ParseError> {
    match value {
        None => Ok(None),
        Some(v) => bounded_amount(
            Some(
                v.as_i64()
                    .ok_or_else(|| unprocessable("field `order.amount_cents` must be an integer number of cents"))?,
            ),
            "order.amount_cents",
        ),
    }
}

/// `product` is optional, but when sent it needs an `id`.
fn product(body: &Value) -> Result<Option<ProductInfo>, ParseError> {
    if at(body, &["product"]).is_none() {
        return Ok(None);
    }
    let external_id = require_text(at(body, &["product", "id"]), "product.id")?;
    Ok(Some(ProductInfo {
        external_id,
        name: normalize_name(at(body, &["product", "name"])),
        offer_code: text(at(body, &["product", "offer_code"])),
        ..ProductInfo::default()
    }))
}

fn payment(body: &Value) -> Result<PaymentDetails, ParseError> {
    let field = |name: &str| text(at(body, &["payment", name]));
    Ok(PaymentDetails {
        boleto_url: field("boleto_url"),
        boleto_barcode: field("boleto_barcode"),
        pix_code: field("pix_code"),
        pix_expires_at: rfc3339(at(body, &["payment", "pix_expires_at"]), "payment.pix_expires_at")?,
        refusal_reason: field("refusal_reason"),
    })
}

fn timestamp(body: &Value, field: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
    rfc3339(at(body, &[field]), field)
}

/// Optional RFC 3339 timestamp; present but malformed is unprocessable (this is our own format).
fn rfc3339(value: Option<&Value>, field: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
    let Some(value) = value else { return Ok(None) };
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|dt| Some(dt.with_timezone(&Utc)))
        .ok_or_else(|| unprocessable(format!("field `{field}` must be an RFC 3339 timestamp")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/generic/", $name, ".json"))
        };
    }

    const VECTOR_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const VECTOR_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const VECTOR_TS: i64 = 1649367553;
    const VECTOR_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const VECTOR_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    const COMPOSED_SECRET: &str = "whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ=";
    const COMPOSED_ID: &str = "msg_test_0001";
    const COMPOSED_TS: i64 = 1767225600;
    const COMPOSED_BODY: &[u8] = br#"{"type":"purchase.approved","data":{"order_id":"ord_123"}}"#;
    const COMPOSED_SIGNATURE: &str = "v1,onclsy61uKHau/CaFNniPdLXndTcNyrV8zQoEFrKUts=";

    fn at_second(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn headers(id: Option<&str>, timestamp: Option<i64>, signature: Option<&str>) -> RequestParts {
        let mut parts = RequestParts::default();
        let pairs = [
            (ID_HEADER, id.map(str::to_string)),
            (TIMESTAMP_HEADER, timestamp.map(|t| t.to_string())),
            (SIGNATURE_HEADER, signature.map(str::to_string)),
        ];
        for (name, value) in pairs {
            if let Some(value) = value {
                parts.headers.insert(name.to_string(), value);
            }
        }
        parts
    }

    fn event(raw: &str) -> PaymentEvent {
        expect_event(parse(raw.as_bytes(), &RequestParts::default()))
    }

    fn unprocessable_message(raw: &str) -> String {
        expect_unprocessable(parse(raw.as_bytes(), &RequestParts::default()))
    }

    #[test]
    fn reference_library_vector() {
        assert_eq!(sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY).as_deref(), Some(VECTOR_SIGNATURE));
        let parts = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(VECTOR_SIGNATURE));
        assert_eq!(authenticate(VECTOR_SECRET, VECTOR_BODY, &parts, at_second(VECTOR_TS)), Ok(()));
    }

    #[test]
    fn composed_vector() {
        assert_eq!(sign(COMPOSED_SECRET, COMPOSED_ID, COMPOSED_TS, COMPOSED_BODY).as_deref(), Some(COMPOSED_SIGNATURE));
        let parts = headers(Some(COMPOSED_ID), Some(COMPOSED_TS), Some(COMPOSED_SIGNATURE));
        assert_eq!(authenticate(COMPOSED_SECRET, COMPOSED_BODY, &parts, at_second(COMPOSED_TS)), Ok(()));
    }

    #[test]
    fn rotated_signature_lists() {
        let now = at_second(VECTOR_TS);
        let other = sign("whsec_b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=", VECTOR_ID, VECTOR_TS, VECTOR_BODY).unwrap();
        for list in [
            format!("{other} {VECTOR_SIGNATURE}"),
            format!("v1a,ZmFrZQ== {VECTOR_SIGNATURE}"),
            format!("  {VECTOR_SIGNATURE}   v2,abc  garbage"),
            format!("v1,%%%notbase64 {VECTOR_SIGNATURE}"),
        ] {
            let parts = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(&list));
            assert_eq!(authenticate(VECTOR_SECRET, VECTOR_BODY, &parts, now), Ok(()), "{list}");
        }
        let only_old = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(&other));
        assert!(matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &only_old, now), Err(AuthError::Invalid(_))));
        let wrong_version = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(&VECTOR_SIGNATURE.replace("v1,", "v2,")));
        assert!(matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &wrong_version, now), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn timestamp_tolerance() {
        let parts = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(VECTOR_SIGNATURE));
        for offset in [-300, 300, 0] {
            assert_eq!(
                authenticate(VECTOR_SECRET, VECTOR_BODY, &parts, at_second(VECTOR_TS + offset)),
                Ok(()),
                "{offset}"
            );
        }
        for offset in [-301, 301, 86_400] {
            match authenticate(VECTOR_SECRET, VECTOR_BODY, &parts, at_second(VECTOR_TS + offset)) {
                Err(AuthError::Invalid(message)) => assert!(message.contains(TIMESTAMP_HEADER)),
                other => panic!("{offset}: {other:?}"),
            }
        }
        let not_seconds = headers(Some(VECTOR_ID), None, Some(VECTOR_SIGNATURE));
        let mut not_seconds = not_seconds.clone();
        not_seconds.headers.insert(TIMESTAMP_HEADER.into(), "2022-04-07T21:39:13Z".into());
        assert!(matches!(
            authenticate(VECTOR_SECRET, VECTOR_BODY, &not_seconds, at_second(VECTOR_TS)),
            Err(AuthError::Invalid(_))
        ));
        let huge = headers(Some(VECTOR_ID), Some(i64::MIN), Some(VECTOR_SIGNATURE));
        assert!(matches!(
            authenticate(VECTOR_SECRET, VECTOR_BODY, &huge, at_second(VECTOR_TS)),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn missing_and_wrong_credentials() {
        let now = at_second(VECTOR_TS);
        assert!(matches!(
            authenticate(VECTOR_SECRET, VECTOR_BODY, &RequestParts::default(), now),
            Err(AuthError::Missing(_))
        ));
        let no_signature = headers(Some(VECTOR_ID), Some(VECTOR_TS), None);
        assert!(matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &no_signature, now), Err(AuthError::Missing(_))));
        let no_id = headers(None, Some(VECTOR_TS), Some(VECTOR_SIGNATURE));
        assert!(
            matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &no_id, now), Err(AuthError::Invalid(m)) if m.contains(ID_HEADER))
        );
        let no_ts = headers(Some(VECTOR_ID), None, Some(VECTOR_SIGNATURE));
        assert!(matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &no_ts, now), Err(AuthError::Invalid(_))));
        let other_id = headers(Some("msg_other"), Some(VECTOR_TS), Some(VECTOR_SIGNATURE));
        assert!(matches!(authenticate(VECTOR_SECRET, VECTOR_BODY, &other_id, now), Err(AuthError::Invalid(_))));
        let parts = headers(Some(VECTOR_ID), Some(VECTOR_TS), Some(VECTOR_SIGNATURE));
        let tampered = br#"{"email":"test@example.com","username":"test_user2"}"#;
        match authenticate(VECTOR_SECRET, tampered, &parts, now) {
            Err(AuthError::Invalid(message)) => {
                assert!(!message.contains("C2FVsBQIhrscChlQIMV") && !message.contains("tZ1I4"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            authenticate("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oE", VECTOR_BODY, &parts, now),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(authenticate("whsec_%%%", VECTOR_BODY, &parts, now), Err(AuthError::Invalid(_))));
        assert!(matches!(authenticate("", VECTOR_BODY, &parts, now), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn secret_without_prefix_is_used_as_raw_bytes() {
        let signature = sign("plain-secret", "msg_1", 1767225600, b"{}").unwrap();
        let expected = STANDARD.encode(hmac_sha256(b"plain-secret", &[b"msg_1.1767225600.{}"]));
        assert_eq!(signature, format!("v1,{expected}"));
        let parts = headers(Some("msg_1"), Some(1767225600), Some(&signature));
        assert_eq!(authenticate("plain-secret", b"{}", &parts, at_second(1767225600)), Ok(()));
        assert_eq!(sign("", "msg_1", 0, b"{}"), None);
    }

    #[test]
    fn approved_fixture() {
        let e = event(fixture!("approved"));
        assert_eq!(e.source, Source::Generic);
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.event_type, "payment.approved");
        assert_eq!(e.dedup_key, "payment.approved:ord_1001");
        assert_eq!(e.occurred_at, Some(utc("2026-01-01T13:02:00Z")));
        assert_eq!(
            e.customer,
            CustomerInfo {
                email: "helena.teste@example.com".into(),
                name: Some("Helena Teste Cardoso".into()),
                document: Some("12345678909".into()),
                phone: Some("+5511900001111".into()),
            }
        );
        assert_eq!(
            e.order.unwrap(),
            OrderInfo {
                external_id: "ord_1001".into(),
                amount_cents: Some(29700),
                currency: Some("BRL".into()),
                payment_method: Some("credit_card".into()),
                installments: Some(3),
                coupon: None,
            }
        );
        let product = e.product.unwrap();
        assert_eq!((product.external_id.as_str(), product.offer_code), ("curso-confeitaria", None));
        let with_offer = edited(fixture!("approved"), "/product/offer_code", Some("plano-anual".into()));
        let e = expect_event(parse(with_offer.as_bytes(), &RequestParts::default()));
        assert_eq!(e.product.unwrap().offer_code.as_deref(), Some("plano-anual"));
        let with_coupon = edited(fixture!("approved"), "/order/coupon", Some("PRIMEIRA".into()));
        let e = expect_event(parse(with_coupon.as_bytes(), &RequestParts::default()));
        assert_eq!(e.order.unwrap().coupon.as_deref(), Some("PRIMEIRA"));
    }

    #[test]
    fn webhook_id_is_the_dedup_key_when_sent() {
        let parts = headers(Some("msg_2Yx0001"), None, None);
        let Ok(Parsed::Event(e)) = parse(fixture!("approved").as_bytes(), &parts) else { panic!() };
        assert_eq!(e.dedup_key, "msg_2Yx0001");
    }

    #[test]
    fn every_type_from_its_fixture() {
        let cases = [
            (fixture!("approved"), EventKind::Approved),
            (fixture!("refused"), EventKind::Refused),
            (fixture!("refunded"), EventKind::Refunded),
            (fixture!("chargeback"), EventKind::Chargeback),
            (fixture!("waiting_payment"), EventKind::WaitingPayment),
            (fixture!("expired"), EventKind::Expired),
            (fixture!("canceled"), EventKind::Canceled),
            (fixture!("subscription_canceled"), EventKind::SubscriptionCanceled),
            (fixture!("renewed"), EventKind::Renewed),
        ];
        assert_eq!(cases.len(), EVENT_TYPES.len());
        for (raw, kind) in cases {
            assert_eq!(event(raw).kind, kind);
        }
        assert_eq!(event(fixture!("refunded")).order, event(fixture!("approved")).order);
        assert_eq!(event(fixture!("refused")).payment.refusal_reason.as_deref(), Some("Card declined by the issuer"));
        let waiting = event(fixture!("waiting_payment"));
        assert_eq!(waiting.payment.boleto_url.as_deref(), Some("https://pay.example.com/boleto/ord_1004"));
        let canceled = event(fixture!("subscription_canceled"));
        assert_eq!(canceled.access_until, Some(utc("2026-03-01T12:00:00Z")));
        assert_eq!(canceled.order.unwrap().external_id, "sub_2001");
    }

    #[test]
    fn optional_parts_may_be_absent() {
        let minimal = r#"{"type":"payment.approved","customer":{"email":"A@Example.com"},"order":{"id":42}}"#;
        let e = event(minimal);
        assert_eq!(e.customer.email, "a@example.com");
        assert_eq!(e.order.unwrap().external_id, "42");
        assert_eq!((e.product, e.occurred_at, e.access_until), (None, None, None));
        assert_eq!(e.payment, PaymentDetails::default());
        let pix = edited(
            minimal,
            "/payment",
            Some(serde_json::json!({"pix_code": "000201", "pix_expires_at": "2026-01-01T10:30:00-03:00"})),
        );
        assert_eq!(event(&pix).payment.pix_expires_at, Some(utc("2026-01-01T13:30:00Z")));
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse(b"type=payment.approved", &RequestParts::default()), Err(ParseError::InvalidJson(_))));
        assert!(matches!(parse(b"[]", &RequestParts::default()), Err(ParseError::InvalidJson(_))));
        let approved = fixture!("approved");
        let cases = [
            (edited(approved, "/type", None), "`type`"),
            (edited(approved, "/customer/email", None), "customer.email"),
            (edited(approved, "/customer/email", Some("helena".into())), "customer.email"),
            (edited(approved, "/order/id", None), "order.id"),
            (edited(approved, "/order", None), "order.id"),
            (edited(approved, "/order/amount_cents", Some(297.5.into())), "order.amount_cents"),
            (edited(approved, "/order/amount_cents", Some("29700".into())), "order.amount_cents"),
            (edited(approved, "/product/id", None), "product.id"),
            (edited(approved, "/occurred_at", Some("01/01/2026".into())), "occurred_at"),
            (edited(approved, "/access_until", Some(1767225600.into())), "access_until"),
        ];
        for (raw, needle) in cases {
            let message = unprocessable_message(&raw);
            assert!(message.contains(needle), "{message} should mention {needle}");
        }
    }

    #[test]
    fn an_unknown_type_is_ignored_under_its_name() {
        let unknown = edited(fixture!("approved"), "/type", Some("purchase.approved".into()));
        let e = expect_ignored(parse(unknown.as_bytes(), &RequestParts::default()));
        assert_eq!((e.event_type.as_str(), e.reason), ("purchase.approved", crate::note::Note::UnknownStatus));
        assert!(e.dedup_key.as_deref().is_some_and(|k| k.starts_with("purchase.approved:")));
        let mut parts = RequestParts::default();
        parts.headers.insert(ID_HEADER.into(), "msg_9".into());
        assert_eq!(expect_ignored(parse(unknown.as_bytes(), &parts)).dedup_key.as_deref(), Some("msg_9"));
    }
}
