//! One adapter per provider: authenticate the sender, then parse the raw body into a `PaymentEvent`.
//! The formats, event mappings and dedup keys are documented for integrators in docs/WEBHOOKS.md.

mod common;
pub mod eduzz;
pub mod generic;
pub mod hashtag;
pub mod hotmart;
pub mod kiwify;
pub mod monetizze;
#[cfg(test)]
mod test_support;

use super::event::*;
use chrono::{DateTime, Utc};

/// Checks the sender's credential against the source's `secret` (constant-time). `now` bounds the
/// Standard Webhooks timestamp of the generic source.
pub fn authenticate(
    source: Source,
    secret: &str,
    raw: &[u8],
    parts: &RequestParts,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    match source {
        Source::Hashtag => hashtag::authenticate(secret, parts),
        Source::Hotmart => hotmart::authenticate(secret, raw, parts),
        Source::Kiwify => kiwify::authenticate(secret, raw, parts),
        Source::Generic => generic::authenticate(secret, raw, parts, now),
        Source::Eduzz => eduzz::authenticate(secret, raw, parts),
        Source::Monetizze => monetizze::authenticate(secret, raw, parts),
    }
}

/// Parses the raw body (whatever its Content-Type) into a normalised event, or an ignored one.
pub fn parse(source: Source, raw: &[u8], parts: &RequestParts) -> Result<Parsed, ParseError> {
    let parsed = match source {
        Source::Hashtag => hashtag::parse(raw),
        Source::Hotmart => hotmart::parse(raw),
        Source::Kiwify => kiwify::parse(raw),
        Source::Generic => generic::parse(raw, parts),
        Source::Eduzz => eduzz::parse(raw),
        Source::Monetizze => monetizze::parse(raw, parts),
    }?;
    if let Parsed::Event(event) = &parsed {
        check_lengths(event)?;
    }
    Ok(parsed)
}

/// Longest text kept per normalised field: beyond these a value is not a name, an id or a link but
/// garbage, and it would bloat every row and screen it reaches.
const LIMITS: &[(&str, usize)] = &[
    ("event type", 100),
    ("customer name", 200),
    ("customer document", 32),
    ("customer phone", 32),
    ("order id", 200),
    ("currency", 8),
    ("payment method", 64),
    ("product id", 200),
    ("product name", 300),
    ("offer code", 200),
    ("coupon", 200),
    ("boleto URL", 2048),
    ("boleto barcode", 128),
    ("pix code", 1024),
    ("refusal reason", 500),
];

/// Refuses a normalised event with an over-long field (422 naming it).
pub fn check_lengths(event: &PaymentEvent) -> Result<(), ParseError> {
    let order = event.order.as_ref();
    let product = event.product.as_ref();
    let p = &event.payment;
    let values: [Option<&str>; 15] = [
        Some(&event.event_type),
        event.customer.name.as_deref(),
        event.customer.document.as_deref(),
        event.customer.phone.as_deref(),
        order.map(|o| o.external_id.as_str()),
        order.and_then(|o| o.currency.as_deref()),
        order.and_then(|o| o.payment_method.as_deref()),
        product.map(|p| p.external_id.as_str()),
        product.and_then(|p| p.name.as_deref()),
        product.and_then(|p| p.offer_code.as_deref()),
        order.and_then(|o| o.coupon.as_deref()),
        p.boleto_url.as_deref(),
        p.boleto_barcode.as_deref(),
        p.pix_code.as_deref(),
        p.refusal_reason.as_deref(),
    ];
    for ((field, max), value) in LIMITS.iter().zip(values) {
        if value.is_some_and(|v| v.chars().count() > *max) {
            return Err(ParseError::Unprocessable(format!("the {field} is longer than {max} characters")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixtures {
        ($source:ident, $dir:literal: $($name:literal),+ $(,)?) => {
            [$((Source::$source, $name, include_str!(concat!("../../../tests/fixtures/", $dir, "/", $name, ".json")))),+]
        };
    }

    fn all_fixtures() -> Vec<(Source, &'static str, &'static str)> {
        let mut all = Vec::new();
        all.extend(fixtures!(Hashtag, "hashtag": "approved", "refunded", "refused"));
        all.extend(fixtures!(Hotmart, "hotmart":
            "purchase_approved", "purchase_approved_renewal", "purchase_complete", "billet_printed", "pix_generated",
            "purchase_canceled", "purchase_canceled_billet", "purchase_refunded", "purchase_chargeback",
            "purchase_expired", "purchase_protest", "purchase_delayed", "out_of_shopping_cart",
            "subscription_cancellation", "switch_plan", "update_subscription_charge_date", "club_first_access",
            "club_module_completed", "order_fulfillment",
        ));
        all.extend(fixtures!(Kiwify, "kiwify":
            "order_approved", "order_rejected", "order_refunded", "chargeback", "billet_created", "pix_created",
            "subscription_renewed", "subscription_late", "subscription_canceled", "abandoned_cart",
            "wrapped_order_approved", "wrapped_order_refunded_cpf_only",
        ));
        all.extend(fixtures!(Generic, "generic":
            "approved", "refused", "refunded", "chargeback", "waiting_payment", "expired", "canceled",
            "subscription_canceled", "renewed",
        ));
        all.extend(fixtures!(Eduzz, "eduzz":
            "invoice_paid", "invoice_opened", "invoice_waiting_payment", "invoice_refused", "invoice_canceled",
            "invoice_expired", "invoice_overdue", "invoice_waiting_refund", "invoice_refunded", "invoice_recovering",
            "contract_created", "contract_canceled", "cart_abandonment", "commission_processed", "ping",
        ));
        all.extend(fixtures!(Monetizze, "monetizze":
            "approved", "pending_boleto", "canceled_boleto", "canceled_card", "refunded", "blocked", "complete",
            "cart_abandonment", "subscription_renewal", "subscription_active", "subscription_overdue",
            "subscription_canceled", "subscription_waiting_payment",
        ));
        all
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap()
    }

    #[test]
    fn over_long_fields_are_refused_by_name() {
        let body = |name: &str| {
            serde_json::json!({"nome": name, "email": "a@b.com", "status": "aprovado", "valor": 1}).to_string()
        };
        assert!(parse(Source::Hashtag, body(&"é".repeat(200)).as_bytes(), &RequestParts::default()).is_ok());
        let Err(ParseError::Unprocessable(m)) =
            parse(Source::Hashtag, body(&"é".repeat(201)).as_bytes(), &RequestParts::default())
        else {
            panic!("a 201-character name is refused")
        };
        assert!(m.contains("customer name"), "{m}");
    }

    #[test]
    fn every_fixture_parses_through_the_dispatcher() {
        for (source, name, raw) in all_fixtures() {
            let parsed = parse(source, raw.as_bytes(), &RequestParts::default());
            match parsed {
                Ok(Parsed::Event(event)) => {
                    assert_eq!(event.source, source, "{name}");
                    assert!(!event.dedup_key.is_empty(), "{name}");
                    assert!(event.customer.email.contains('@') || event.customer.by_document_only(), "{name}");
                    assert!(event.order.as_ref().is_some_and(|o| !o.external_id.is_empty()), "{name}");
                }
                Ok(Parsed::Ignored(ignored)) => assert!(ignored.dedup_key.is_some(), "{name}"),
                Err(error) => panic!("{source:?}/{name}: {error:?}"),
            }
        }
    }

    #[test]
    fn truncated_and_mangled_fixtures_never_panic() {
        let parts = RequestParts::default();
        for (source, _, raw) in all_fixtures() {
            let bytes = raw.as_bytes();
            for end in 0..bytes.len() {
                let _ = parse(source, &bytes[..end], &parts);
                let _ = authenticate(source, "secret", &bytes[..end], &parts, now());
            }
            for (i, replacement) in [(0usize, b'['), (bytes.len() / 2, 0xff), (bytes.len() / 3, b'"')] {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                let _ = parse(source, &mangled, &parts);
            }
        }
    }

    #[test]
    fn every_value_replaced_by_odd_types_never_panics() {
        let odd = [
            serde_json::Value::Null,
            serde_json::json!(true),
            serde_json::json!(-1),
            serde_json::json!(1e300),
            serde_json::json!(""),
            serde_json::json!("9999999999999999999999"),
            serde_json::json!([]),
            serde_json::json!({}),
        ];
        for (source, _, raw) in all_fixtures() {
            let body: serde_json::Value = serde_json::from_str(raw).unwrap();
            for pointer in pointers(&body, String::new()) {
                for value in &odd {
                    let mut changed = body.clone();
                    if let Some(slot) = changed.pointer_mut(&pointer) {
                        *slot = value.clone();
                    }
                    let _ = parse(source, changed.to_string().as_bytes(), &RequestParts::default());
                }
            }
        }
    }

    fn pointers(value: &serde_json::Value, prefix: String) -> Vec<String> {
        let mut all = vec![prefix.clone()];
        if let Some(object) = value.as_object() {
            for (key, child) in object {
                all.extend(pointers(child, format!("{prefix}/{key}")));
            }
        }
        all
    }

    #[test]
    fn non_objects_are_invalid_json_for_every_source() {
        for source in Source::ALL {
            for raw in [&b""[..], b"not json", b"[]", b"[{\"email\":\"a@example.com\"}]", b"\"x\"", b"1"] {
                assert!(matches!(parse(source, raw, &RequestParts::default()), Err(ParseError::InvalidJson(_))));
            }
        }
    }

    #[test]
    fn missing_credentials_for_every_source() {
        for source in Source::ALL {
            let result = authenticate(source, "secret", b"{}", &RequestParts::default(), now());
            assert!(matches!(result, Err(AuthError::Missing(_))), "{source:?}: {result:?}");
        }
    }
}
