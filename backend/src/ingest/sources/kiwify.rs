//! Kiwify sales webhooks: a flat order with capitalised nested objects (`Customer`, `Product`,
//! `Commissions`, `Subscription`), signed with `?signature=` = HMAC-SHA1 (hex) of the raw body keyed by
//! the webhook token. Some integrations receive the order wrapped, `{url, signature, order: {...}}`,
//! with the signature in the body: the HMAC-SHA1 of the `order` value's bytes exactly as sent. The
//! abandoned-cart payload has a different, flat shape.

use super::common::{
    at, at_any, constant_time_eq, datetime_value, hmac_sha1, ignored, installments, integer_cents, lower_text, missing,
    normalize_document, normalize_name, normalize_phone, optional_email, parse_json_object, require_email,
    require_text, text, unknown_status,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, ProductInfo,
    RequestParts, Source,
};
use crate::note::Note;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

pub const SIGNATURE_QUERY: &str = "signature";

const REASON_LATE: Note = Note::PaymentLate;
const REASON_CART: Note = Note::CartAbandoned;

/// The `?signature=` query parameter over the whole body, else (the wrapped shape) the body's
/// `signature` over its `order` value's bytes as sent.
pub fn authenticate(secret: &str, raw: &[u8], parts: &RequestParts) -> Result<(), AuthError> {
    if let Some(signature) = parts.query(SIGNATURE_QUERY).map(str::trim).filter(|s| !s.is_empty()) {
        return check(secret, raw, signature, "the signature does not match the body");
    }
    match wrapped(raw) {
        Some(Wrapped { signature: Some(signature), order: Some(order) }) if !signature.trim().is_empty() => {
            check(secret, order.get().as_bytes(), signature.trim(), "the body's signature does not match its `order`")
        }
        _ => Err(AuthError::Missing("no `signature` query parameter, nor a signed `order` in the body".into())),
    }
}

fn check(secret: &str, signed: &[u8], presented: &str, mismatch: &str) -> Result<(), AuthError> {
    let presented =
        hex::decode(presented).map_err(|_| AuthError::Invalid("the signature is not hexadecimal".into()))?;
    let expected = signature_bytes(secret, signed);
    if !secret.is_empty() && constant_time_eq(&expected, &presented) {
        Ok(())
    } else {
        Err(AuthError::Invalid(mismatch.into()))
    }
}

/// The wrapped shape's envelope: the `order` kept as the exact bytes sent (what the signature covers).
#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow, default)]
    order: Option<&'a RawValue>,
    #[serde(default)]
    signature: Option<String>,
}

/// The body read as the wrapped shape, when it is one (a JSON object with an `order` object).
fn wrapped(raw: &[u8]) -> Option<Wrapped<'_>> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let envelope: Wrapped = serde_json::from_slice(raw).ok()?;
    envelope.order.is_some_and(|o| o.get().starts_with('{')).then_some(envelope)
}

/// Lower-case hex HMAC-SHA1 of `raw` keyed by the webhook token: what Kiwify appends as `?signature=`.
pub fn sign(secret: &str, raw: &[u8]) -> String {
    hex::encode(signature_bytes(secret, raw))
}

fn signature_bytes(secret: &str, raw: &[u8]) -> Vec<u8> {
    hmac_sha1(secret.as_bytes(), &[raw])
}

pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    let body = unwrap_order(parse_json_object(raw)?);
    match text(at(&body, &["webhook_event_type"])) {
        Some(event) => sales_event(&body, &event),
        None if is_abandoned_cart(&body) => Ok(abandoned_cart(&body)),
        None => Err(missing("webhook_event_type")),
    }
}

/// The order itself: the wrapped shape's `order` object (a body without a `webhook_event_type` of its
/// own), else the body.
fn unwrap_order(body: Value) -> Value {
    if at(&body, &["webhook_event_type"]).is_none() {
        if let Some(Value::Object(order)) = body.get("order") {
            return Value::Object(order.clone());
        }
    }
    body
}

/// A nested object under its real (capitalised) key, or the lower-case spelling some senders use.
fn section<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    at(body, &[name]).or_else(|| at(body, &[name.to_ascii_lowercase().as_str()]))
}

fn field<'a>(body: &'a Value, section_name: &str, name: &str) -> Option<&'a Value> {
    section(body, section_name).and_then(|s| at(s, &[name]))
}

fn sales_event(body: &Value, event: &str) -> Result<Parsed, ParseError> {
    let name = event.to_ascii_lowercase();
    let kind = match name.as_str() {
        "order_approved" => EventKind::Approved,
        "order_rejected" => EventKind::Refused,
        "order_refunded" => EventKind::Refunded,
        "chargeback" => EventKind::Chargeback,
        "billet_created" | "pix_created" => EventKind::WaitingPayment,
        "subscription_renewed" => EventKind::Renewed,
        "subscription_canceled" => EventKind::SubscriptionCanceled,
        "subscription_late" => return Ok(subscription_late(body, event, &name)),
        _ => return Ok(unknown_event(body, event, &name)),
    };
    let order_id = require_text(at(body, &["order_id"]), "order_id")?;
    let email = customer_email(body)?;
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Kiwify,
        dedup_key: format!("{order_id}:{name}"),
        event_type: event.to_string(),
        kind,
        occurred_at: occurred_at(body, kind),
        customer: customer(body, email),
        order: Some(order(body, order_id)?),
        product: product(body),
        payment: payment_details(body),
        access_until: access_until(body, kind),
    })))
}

/// Approvals are dated by `approved_date`, refunds by `refunded_at`, everything else by `updated_at`;
/// `created_at` is the last resort. Kiwify writes local São Paulo time without an offset.
fn occurred_at(body: &Value, kind: EventKind) -> Option<DateTime<Utc>> {
    let specific = match kind {
        EventKind::Approved | EventKind::Renewed => datetime_value(at(body, &["approved_date"])),
        EventKind::Refunded => datetime_value(at(body, &["refunded_at"])),
        _ => None,
    };
    specific.or_else(|| datetime_value(at_any(body, &[&["updated_at"], &["created_at"]])))
}

/// `Customer.email`; a customer sent with a CPF/CNPJ but no e-mail (some refunds carry only
/// `full_name` and `CPF`) has an empty one, for the ingest service to resolve by document.
fn customer_email(body: &Value) -> Result<String, ParseError> {
    let email = field(body, "Customer", "email");
    let blank = email.is_none_or(|e| e.as_str().is_some_and(|s| s.trim().is_empty()));
    if blank && document(body).is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())) {
        return Ok(String::new());
    }
    require_email(email, "Customer.email")
}

fn document(body: &Value) -> Option<String> {
    ["CPF", "cpf", "cnpj", "CNPJ"].iter().find_map(|key| normalize_document(field(body, "Customer", key)))
}

fn customer(body: &Value, email: String) -> CustomerInfo {
    let customer = |name: &str| field(body, "Customer", name);
    CustomerInfo {
        email,
        name: normalize_name(customer("full_name")).or_else(|| normalize_name(customer("first_name"))),
        document: document(body),
        phone: normalize_phone(customer("mobile")),
    }
}

/// `Commissions.charge_amount` (integer cents), or `Commissions.product_base_price` (also cents).
fn order(body: &Value, order_id: String) -> Result<OrderInfo, ParseError> {
    let commissions = |name: &str| field(body, "Commissions", name);
    let amount_cents = match integer_cents(commissions("charge_amount"), "Commissions.charge_amount")? {
        Some(cents) => Some(cents),
        None => integer_cents(commissions("product_base_price"), "Commissions.product_base_price")?,
    };
    let currency = text(commissions("currency")).or_else(|| text(commissions("product_base_price_currency")));
    Ok(OrderInfo {
        external_id: order_id,
        amount_cents,
        currency: currency.map(|c| c.to_ascii_uppercase()),
        payment_method: lower_text(at(body, &["payment_method"])),
        installments: installments(at(body, &["installments"]), "installments")?,
        coupon: text(at_any(body, &[&["coupon_code"], &["coupon", "code"], &["coupon"]])),
    })
}

/// The offer code: the subscription's plan (`Subscription.plan.id`), else the product's offer
/// (`Product.product_offer_id`, sent by some accounts; undocumented).
fn product(body: &Value) -> Option<ProductInfo> {
    let external_id = text(field(body, "Product", "product_id"))?;
    let plan = section(body, "Subscription").and_then(|s| text(at(s, &["plan", "id"])));
    let offer_code = plan.or_else(|| text(field(body, "Product", "product_offer_id")));
    Some(ProductInfo {
        external_id,
        name: normalize_name(field(body, "Product", "product_name")),
        offer_code,
        ..ProductInfo::default()
    })
}

fn payment_details(body: &Value) -> PaymentDetails {
    PaymentDetails {
        boleto_url: text(at_any(body, &[&["boleto_URL"], &["boleto_url"]])),
        boleto_barcode: text(at(body, &["boleto_barcode"])),
        pix_code: text(at(body, &["pix_code"])),
        pix_expires_at: datetime_value(at(body, &["pix_expiration"])),
        refusal_reason: text(at(body, &["card_rejection_reason"])),
    }
}

/// End of the paid period: `Subscription.customer_access.access_until`, else `Subscription.next_payment`.
/// Read for approvals too: a renewal charge is a new order that may arrive as `order_approved` alone.
fn access_until(body: &Value, kind: EventKind) -> Option<DateTime<Utc>> {
    if !matches!(kind, EventKind::SubscriptionCanceled | EventKind::Renewed | EventKind::Approved) {
        return None;
    }
    let subscription = section(body, "Subscription")?;
    datetime_value(at(subscription, &["customer_access", "access_until"]))
        .or_else(|| datetime_value(at(subscription, &["next_payment"])))
}

/// A `webhook_event_type` Portaria does not know: ignored under its name, keyed like the others.
fn unknown_event(body: &Value, event: &str, name: &str) -> Parsed {
    let dedup_key = text(at(body, &["order_id"])).map(|order_id| format!("{order_id}:{name}"));
    unknown_status(event, dedup_key, optional_email(field(body, "Customer", "email")))
}

fn subscription_late(body: &Value, event: &str, name: &str) -> Parsed {
    let dedup_key = text(at(body, &["order_id"])).map(|order_id| format!("{order_id}:{name}"));
    ignored(event, dedup_key, optional_email(field(body, "Customer", "email")), REASON_LATE)
}

fn is_abandoned_cart(body: &Value) -> bool {
    text(at(body, &["status"])).is_some_and(|status| status.eq_ignore_ascii_case("abandoned"))
}

fn abandoned_cart(body: &Value) -> Parsed {
    let dedup_key = text(at(body, &["id"])).map(|id| format!("cart:{id}"));
    ignored("abandoned_cart", dedup_key, optional_email(at(body, &["email"])), REASON_CART)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/kiwify/", $name, ".json"))
        };
    }

    parse_helpers!(parse);

    fn signed(signature: &str) -> RequestParts {
        let mut parts = RequestParts::default();
        parts.query.insert(SIGNATURE_QUERY.into(), signature.into());
        parts
    }

    #[test]
    fn order_approved() {
        let e = event(fixture!("order_approved"));
        assert_eq!(e.source, Source::Kiwify);
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.event_type, "order_approved");
        assert_eq!(e.dedup_key, "3f1e9a52-0c6b-4d2e-8f17-5a9b0c1d2e3f:order_approved");
        assert_eq!(e.occurred_at, Some(utc("2026-01-01T13:02:00Z")), "approved_date in São Paulo time");
        assert_eq!(
            e.customer,
            CustomerInfo {
                email: "joao.teste@example.com".into(),
                name: Some("João Teste Pereira".into()),
                document: Some("98765432100".into()),
                phone: Some("+5511912345678".into()),
            }
        );
        assert_eq!(
            e.order.unwrap(),
            OrderInfo {
                external_id: "3f1e9a52-0c6b-4d2e-8f17-5a9b0c1d2e3f".into(),
                amount_cents: Some(29700),
                currency: Some("BRL".into()),
                payment_method: Some("pix".into()),
                installments: Some(1),
                coupon: None,
            }
        );
        assert_eq!(
            e.product.unwrap(),
            ProductInfo {
                external_id: "8d2c1b0a-2222-4e5f-8a9b-abcdefabcdef".into(),
                name: Some("Curso Exemplo de Confeitaria".into()),
                offer_code: None,
                ..ProductInfo::default()
            }
        );
        assert_eq!(e.payment, PaymentDetails::default());
        assert_eq!(e.access_until, None);
    }

    #[test]
    fn refund_shares_the_order_of_the_approval() {
        let approved = event(fixture!("order_approved"));
        let refunded = event(fixture!("order_refunded"));
        assert_eq!(refunded.kind, EventKind::Refunded);
        assert_eq!(refunded.occurred_at, Some(utc("2026-01-05T19:30:12Z")));
        assert_eq!(approved.order.unwrap().external_id, refunded.order.unwrap().external_id);
        assert_ne!(approved.dedup_key, refunded.dedup_key);
    }

    #[test]
    fn order_rejected_carries_the_reason() {
        let e = event(fixture!("order_rejected"));
        assert_eq!(e.kind, EventKind::Refused);
        assert_eq!(e.payment.refusal_reason.as_deref(), Some("Cartão recusado pelo banco emissor"));
        assert_eq!(e.customer.document.as_deref(), Some("12345678909"));
        assert_eq!(e.order.unwrap().installments, Some(6));
    }

    #[test]
    fn chargeback() {
        let e = event(fixture!("chargeback"));
        assert_eq!(e.kind, EventKind::Chargeback);
        assert_eq!(e.dedup_key, "5b3a1c74-2e8d-4f40-a139-7c1d2e3f4051:chargeback");
        assert_eq!(e.customer.name.as_deref(), Some("Lúcia Teste Araújo"));
    }

    #[test]
    fn billet_and_pix_created_are_waiting_payment() {
        let billet = event(fixture!("billet_created"));
        assert_eq!(billet.kind, EventKind::WaitingPayment);
        assert_eq!(billet.payment.boleto_url.as_deref(), Some("https://pay.example.com/boleto/6c4b2d85"));
        assert_eq!(billet.payment.boleto_barcode.as_deref(), Some("23793381286000000000000000000000000000000000"));
        let pix = event(fixture!("pix_created"));
        assert_eq!(pix.kind, EventKind::WaitingPayment);
        assert!(pix.payment.pix_code.as_deref().unwrap().starts_with("000201"));
        assert_eq!(pix.payment.pix_expires_at, Some(utc("2026-01-04T14:30:00Z")));
        let lower = edited(fixture!("billet_created"), "/boleto_URL", None);
        let lower = edited(&lower, "/boleto_url", Some("https://pay.example.com/b".into()));
        assert_eq!(event(&lower).payment.boleto_url.as_deref(), Some("https://pay.example.com/b"));
    }

    #[test]
    fn subscription_renewed_extends_access() {
        let e = event(fixture!("subscription_renewed"));
        assert_eq!(e.kind, EventKind::Renewed);
        assert_eq!(e.dedup_key, "9f7e5ab8-6c21-4384-a57d-b05162738495:subscription_renewed");
        assert_eq!(e.access_until, Some(utc("2026-03-01T12:00:00Z")));
        assert_eq!(e.order.unwrap().amount_cents, Some(4990));
        assert_eq!(e.product.unwrap().offer_code.as_deref(), Some("c2d3e4f5-6666-4b7c-9d8e-1f2a3b4c5d6e"), "the plan");
    }

    #[test]
    fn coupon_when_sent() {
        assert_eq!(event(fixture!("order_approved")).order.unwrap().coupon, None);
        let coupon = edited(fixture!("order_approved"), "/coupon_code", Some(" BLACK10 ".into()));
        assert_eq!(event(&coupon).order.unwrap().coupon.as_deref(), Some("BLACK10"));
        let object = edited(fixture!("order_approved"), "/coupon", Some(serde_json::json!({"code": "VOLTA"})));
        assert_eq!(event(&object).order.unwrap().coupon.as_deref(), Some("VOLTA"));
    }

    #[test]
    fn an_approval_of_a_subscription_carries_its_paid_period_end() {
        let charge = edited(fixture!("subscription_renewed"), "/webhook_event_type", Some("order_approved".into()));
        let e = event(&charge);
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.access_until, Some(utc("2026-03-01T12:00:00Z")));
    }

    #[test]
    fn offer_code_is_the_plan_else_the_product_offer() {
        let offer = edited(fixture!("order_approved"), "/Product/product_offer_id", Some("oferta-1".into()));
        assert_eq!(event(&offer).product.unwrap().offer_code.as_deref(), Some("oferta-1"));
        let renewed = edited(fixture!("subscription_renewed"), "/Product/product_offer_id", Some("oferta-1".into()));
        assert_eq!(
            event(&renewed).product.unwrap().offer_code.as_deref(),
            Some("c2d3e4f5-6666-4b7c-9d8e-1f2a3b4c5d6e"),
            "a subscription's plan wins"
        );
    }

    #[test]
    fn subscription_late_is_ignored_with_a_key() {
        let e = ignored_event(fixture!("subscription_late"));
        assert_eq!(e.event_type, "subscription_late");
        assert_eq!(e.dedup_key.as_deref(), Some("a08f6bc9-7d32-4495-b68e-c162738495a6:subscription_late"));
        assert_eq!(e.email.as_deref(), Some("marcos.teste@example.com"));
    }

    #[test]
    fn subscription_canceled_keeps_access_until_the_period_ends() {
        let e = event(fixture!("subscription_canceled"));
        assert_eq!(e.kind, EventKind::SubscriptionCanceled);
        assert_eq!(e.access_until, Some(utc("2026-03-01T12:00:00Z")));
        assert_eq!(e.occurred_at, Some(utc("2026-03-08T12:00:10Z")));
        let only_next_payment = edited(fixture!("subscription_canceled"), "/Subscription/customer_access", None);
        let only_next_payment =
            edited(&only_next_payment, "/Subscription/next_payment", Some("2026-03-02 09:00".into()));
        assert_eq!(event(&only_next_payment).access_until, Some(utc("2026-03-02T12:00:00Z")));
        let no_subscription = edited(fixture!("subscription_canceled"), "/Subscription", None);
        assert_eq!(event(&no_subscription).access_until, None);
    }

    #[test]
    fn abandoned_cart_is_ignored_with_its_cart_key() {
        let e = ignored_event(fixture!("abandoned_cart"));
        assert_eq!(e.dedup_key.as_deref(), Some("cart:cart_0f1e2d3c4b5a69788796a5b4"));
        assert_eq!(e.email.as_deref(), Some("renata.teste@example.com"));
    }

    #[test]
    fn lenient_about_key_case_and_amount_fields() {
        let raw = edited(fixture!("order_approved"), "/Customer", None);
        let raw = edited(&raw, "/customer", Some(serde_json::json!({"email": "X@Example.com", "first_name": " Xis "})));
        let raw = edited(&raw, "/Commissions", Some(serde_json::json!({"product_base_price": "19700"})));
        let e = event(&raw);
        assert_eq!(e.customer.email, "x@example.com");
        assert_eq!(e.customer.name.as_deref(), Some("Xis"));
        let order = e.order.unwrap();
        assert_eq!((order.amount_cents, order.currency), (Some(19700), None));
        let upper = edited(fixture!("order_approved"), "/webhook_event_type", Some("ORDER_APPROVED".into()));
        assert_eq!(event(&upper).dedup_key, "3f1e9a52-0c6b-4d2e-8f17-5a9b0c1d2e3f:order_approved");
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse(b"order_id=1"), Err(ParseError::InvalidJson(_))));
        assert!(matches!(parse(b"[{}]"), Err(ParseError::InvalidJson(_))));
        let no_type = edited(fixture!("order_approved"), "/webhook_event_type", None);
        assert!(unprocessable_message(&no_type).contains("webhook_event_type"));
        let unknown = edited(fixture!("order_approved"), "/webhook_event_type", Some("order_paid".into()));
        let unknown = ignored_event(&unknown);
        assert_eq!((unknown.event_type.as_str(), unknown.reason), ("order_paid", Note::UnknownStatus));
        assert_eq!(unknown.dedup_key.as_deref(), Some("3f1e9a52-0c6b-4d2e-8f17-5a9b0c1d2e3f:order_paid"));
        let no_email = edited(fixture!("order_approved"), "/Customer/email", None);
        let no_email = edited(&no_email, "/Customer/CPF", None);
        assert!(unprocessable_message(&no_email).contains("Customer.email"));
        let no_order = edited(fixture!("order_refunded"), "/order_id", Some("".into()));
        assert!(unprocessable_message(&no_order).contains("order_id"));
        let not_abandoned = edited(fixture!("abandoned_cart"), "/status", Some("recovered".into()));
        assert!(unprocessable_message(&not_abandoned).contains("webhook_event_type"));
    }

    #[test]
    fn signature_test_vector() {
        let body = br#"{"order_id":"ord-0001","webhook_event_type":"order_approved","order_status":"paid"}"#;
        assert_eq!(sign("w9i3pvutvxe", body), "8c994da07be26fba2b5ebfcb849924dfbb77a3ae");
        assert_eq!(authenticate("w9i3pvutvxe", body, &signed("8c994da07be26fba2b5ebfcb849924dfbb77a3ae")), Ok(()));
        assert_eq!(authenticate("w9i3pvutvxe", body, &signed("8C994DA07BE26FBA2B5EBFCB849924DFBB77A3AE")), Ok(()));
    }

    #[test]
    fn wrapped_order_is_parsed_like_the_flat_one() {
        let e = event(fixture!("wrapped_order_approved"));
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.dedup_key, "7a2b9c41-5d6e-4f70-8a1b-2c3d4e5f6071:order_approved");
        assert_eq!(e.customer.email, "debora.teste@example.com");
        assert_eq!(e.customer.name.as_deref(), Some("Débora Teste Assunção"));
        assert_eq!(e.order.unwrap().amount_cents, Some(29700));
        // a body with its own webhook_event_type is the order itself, whatever an `order` key holds
        let flat = edited(fixture!("order_approved"), "/order", Some(serde_json::json!({"webhook_event_type": "x"})));
        assert_eq!(event(&flat).dedup_key, "3f1e9a52-0c6b-4d2e-8f17-5a9b0c1d2e3f:order_approved");
        let not_an_object = edited(fixture!("wrapped_order_approved"), "/order", Some("texto".into()));
        assert!(unprocessable_message(&not_an_object).contains("webhook_event_type"));
    }

    #[test]
    fn wrapped_signature_test_vector() {
        // HMAC-SHA1 keyed by the token over the `order` value's bytes exactly as sent (pretty-printed,
        // UTF-8 accents), hex: what the body's `signature` holds
        let raw = fixture!("wrapped_order_approved").as_bytes();
        let start = fixture!("wrapped_order_approved").find("\"order\": ").unwrap() + "\"order\": ".len();
        let end = fixture!("wrapped_order_approved").rfind('}').unwrap();
        let order = fixture!("wrapped_order_approved")[start..end].trim_end();
        assert_eq!(sign("w9i3pvutvxe", order.as_bytes()), "5a8e378d51f8c36d3601ccb6f4383d73d4a5f41d");
        assert_eq!(authenticate("w9i3pvutvxe", raw, &RequestParts::default()), Ok(()));
        let refund = fixture!("wrapped_order_refunded_cpf_only").as_bytes();
        assert_eq!(authenticate("w9i3pvutvxe", refund, &RequestParts::default()), Ok(()));
        // the usual query form over the whole body works on a wrapped body too
        assert_eq!(authenticate("w9i3pvutvxe", raw, &signed(&sign("w9i3pvutvxe", raw))), Ok(()));
    }

    #[test]
    fn wrapped_signature_failures() {
        let raw = fixture!("wrapped_order_approved");
        let secret = "w9i3pvutvxe";
        assert!(matches!(authenticate("other", raw.as_bytes(), &RequestParts::default()), Err(AuthError::Invalid(_))));
        assert!(matches!(authenticate("", raw.as_bytes(), &RequestParts::default()), Err(AuthError::Invalid(_))));
        // the same order re-serialised (compact) is other bytes: the signature no longer matches
        let mut body: Value = serde_json::from_str(raw).unwrap();
        let compact = body.to_string();
        assert!(matches!(
            authenticate(secret, compact.as_bytes(), &RequestParts::default()),
            Err(AuthError::Invalid(_))
        ));
        // a changed order, a changed signature
        let tampered = raw.replace("\"charge_amount\": 29700", "\"charge_amount\": 100");
        assert_ne!(tampered, raw);
        assert!(matches!(
            authenticate(secret, tampered.as_bytes(), &RequestParts::default()),
            Err(AuthError::Invalid(_))
        ));
        body["signature"] = "zz".into();
        assert!(matches!(
            authenticate(secret, body.to_string().as_bytes(), &RequestParts::default()),
            Err(AuthError::Invalid(m)) if m.contains("hexadecimal")
        ));
        // no signature anywhere, a blank one, or no order: missing
        for missing in [
            edited(raw, "/signature", None),
            edited(raw, "/signature", Some(" ".into())),
            edited(raw, "/order", None),
            edited(raw, "/order", Some(serde_json::json!([1]))),
        ] {
            assert!(
                matches!(
                    authenticate(secret, missing.as_bytes(), &RequestParts::default()),
                    Err(AuthError::Missing(_))
                ),
                "{missing}"
            );
        }
        // a body with the order twice is not one order
        let twice = raw.replacen("\"order\": {", "\"order\": {}, \"order\": {", 1);
        assert!(authenticate(secret, twice.as_bytes(), &RequestParts::default()).is_err());
    }

    #[test]
    fn a_customer_with_only_a_cpf_is_left_for_the_service_to_identify() {
        let e = event(fixture!("wrapped_order_refunded_cpf_only"));
        assert_eq!(e.kind, EventKind::Refunded);
        assert_eq!(e.customer.email, "");
        assert_eq!(e.customer.document.as_deref(), Some("52998224725"), "digits only");
        assert_eq!(e.customer.name.as_deref(), Some("Débora Teste Assunção"));
        assert!(e.customer.by_document_only());
        // a blank e-mail with a CPF is the same; a malformed e-mail is still refused
        let blank = edited(fixture!("order_refunded"), "/Customer/email", Some(" ".into()));
        assert!(event(&blank).customer.by_document_only());
        let bad = edited(fixture!("order_refunded"), "/Customer/email", Some("nope".into()));
        assert!(unprocessable_message(&bad).contains("Customer.email"));
        // neither e-mail nor a CPF of digits: refused as before
        let neither = edited(fixture!("wrapped_order_refunded_cpf_only"), "/order/Customer/CPF", None);
        assert!(unprocessable_message(&neither).contains("Customer.email"));
        let letters = edited(fixture!("wrapped_order_refunded_cpf_only"), "/order/Customer/CPF", Some("n/a".into()));
        assert!(unprocessable_message(&letters).contains("Customer.email"));
    }

    #[test]
    fn signature_failures() {
        let body = fixture!("order_approved").as_bytes();
        let secret = "w9i3pvutvxe";
        let right = sign(secret, body);
        assert_eq!(authenticate(secret, body, &signed(&right)), Ok(()));
        assert!(matches!(authenticate(secret, body, &RequestParts::default()), Err(AuthError::Missing(_))));
        assert!(matches!(authenticate(secret, body, &signed("")), Err(AuthError::Missing(_))));
        for wrong in
            [sign("other", body), sign(secret, b"{}"), right[..38].to_string(), "zz".repeat(20), secret.to_string()]
        {
            match authenticate(secret, body, &signed(&wrong)) {
                Err(AuthError::Invalid(message)) => assert!(!message.contains(secret) && !message.contains(&right)),
                other => panic!("{wrong}: {other:?}"),
            }
        }
        let tampered = [body, b" "].concat();
        assert!(matches!(authenticate(secret, &tampered, &signed(&right)), Err(AuthError::Invalid(_))));
        assert!(matches!(authenticate("", body, &signed(&sign("", body))), Err(AuthError::Invalid(_))));
    }
}
