//! Eduzz webhook v3 (Developer Hub): `{id, event, data, sentDate}`, signed with the header
//! `x-signature` = HMAC-SHA256 of the raw body keyed by the secret key chosen in the panel.

use super::common::{
    at, at_any, constant_time_eq, datetime_value, hmac_sha256, ignored, installments, money_lenient,
    normalize_document, normalize_name, optional_email, parse_json_object, require_email, require_text, text, text_at,
    unknown_status, unprocessable,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, ProductInfo,
    RequestParts, Source,
};
use crate::note::Note;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;

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

/// The prefix of an order id made from a contract (subscription) id, so that it never collides with an
/// invoice id of the same account.
pub const CONTRACT_ORDER_PREFIX: &str = "contract-";

pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    let body = parse_json_object(raw)?;
    let event = require_text(at(&body, &["event"]), "event")?;
    let env = Envelope { body: &body, name: event.to_ascii_lowercase(), event };
    // `myeduzz.invoice_paid` → app `myeduzz`, action `invoice_paid`; a name without a dot is its own action.
    let (app, action) = env.name.rsplit_once('.').unwrap_or(("", env.name.as_str()));
    match (app, action) {
        (_, "ping") => Ok(env.ignored(None, Note::ConnectionTest)),
        ("myeduzz", action) if action.starts_with("invoice_") => invoice(&env, &action["invoice_".len()..]),
        ("myeduzz" | "subscriptions", action) if action.contains("contract") || action == "status_updated" => {
            contract(&env)
        }
        ("myeduzz" | "sun", "cart_abandonment") => {
            Ok(env.ignored(optional_email(env.at(&["data", "buyer", "email"])), Note::CartAbandoned))
        }
        ("myeduzz", "commission_processed" | "processed_commision") => Ok(env.ignored(None, Note::NotActedUpon)),
        ("nutror" | "alpaclass", _) => Ok(env.ignored(
            optional_email(at_any(env.body, &[&["data", "student", "email"], &["data", "user", "email"]])),
            Note::MembersAreaActivity,
        )),
        ("blinket", _) => Ok(env.ignored(None, Note::NotActedUpon)),
        _ => Ok(env.unknown(&env.event)),
    }
}

/// What every handler needs from the envelope.
struct Envelope<'a> {
    body: &'a Value,
    /// As sent (verbatim in `event_type`).
    event: String,
    /// Lower-cased, used for matching.
    name: String,
}

impl Envelope<'_> {
    fn at(&self, path: &[&str]) -> Option<&Value> {
        at(self.body, path)
    }

    /// The event's own `id`: Eduzz keeps it across its retries and manual resends. Without one, the event
    /// name and the invoice or contract id stand in.
    fn dedup_key(&self, object_id: Option<&str>) -> Option<String> {
        match (text_at(self.body, &["id"]), object_id) {
            (Some(id), _) => Some(id),
            (None, Some(object_id)) => Some(format!("{}:{object_id}", self.name)),
            (None, None) => None,
        }
    }

    fn ignored(&self, email: Option<String>, reason: Note) -> Parsed {
        let object_id = text_at(self.body, &["data", "id"]);
        let key = self.dedup_key(object_id.as_deref()).or_else(|| Some(format!("{}:-", self.name)));
        ignored(&self.event, key, email, reason)
    }

    /// Ignored under `status` (the event name, or the contract's status) as no rule handles it.
    fn unknown(&self, status: &str) -> Parsed {
        let object_id = text(at_any(self.body, &[&["data", "id"], &["data", "contract", "id"]]));
        let email = optional_email(at_any(self.body, &[&["data", "buyer", "email"], &["data", "customer", "email"]]));
        unknown_status(status, self.dedup_key(object_id.as_deref()), email)
    }

    fn sent_at(&self) -> Option<DateTime<Utc>> {
        datetime_value(at_any(self.body, &[&["sentDate"], &["createdAt"]]))
    }
}

// ---------------------------------------------------------------------------------------------
// Invoices (`myeduzz.invoice_*`): one sale
// ---------------------------------------------------------------------------------------------

/// The invoice's action: the event name's, or, for an action Portaria does not know, `data.status`.
fn invoice(env: &Envelope, action: &str) -> Result<Parsed, ParseError> {
    let status = text(env.at(&["data", "status"])).map(|s| s.to_ascii_lowercase());
    let kind = match invoice_action(action) {
        Some(kind) => kind,
        None => match status.as_deref().and_then(invoice_action) {
            Some(kind) => kind,
            None => return Ok(env.unknown(&env.event)),
        },
    };
    let kind = match kind {
        InvoiceAction::Act(kind) => kind,
        InvoiceAction::Ignore(note) => {
            return Ok(env.ignored(optional_email(env.at(&["data", "buyer", "email"])), note));
        }
    };
    let invoice_id = require_text(env.at(&["data", "id"]), "data.id")?;
    let email = require_email(env.at(&["data", "buyer", "email"]), "data.buyer.email")?;
    let dedup_key = env.dedup_key(Some(&invoice_id)).expect("an invoice id gives a key");
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Eduzz,
        dedup_key,
        event_type: env.event.clone(),
        kind,
        occurred_at: invoice_time(env, kind),
        customer: buyer(env, email),
        order: Some(invoice_order(env, invoice_id)?),
        product: invoice_product(env),
        payment: invoice_payment(env),
        access_until: None,
    })))
}

enum InvoiceAction {
    Act(EventKind),
    Ignore(Note),
}

/// An invoice action (`paid`, from `myeduzz.invoice_paid`) or status (`paid`, `waiting_payment`, ...).
fn invoice_action(action: &str) -> Option<InvoiceAction> {
    use InvoiceAction::{Act, Ignore};
    Some(match action {
        "paid" => Act(EventKind::Approved),
        "opened" | "open" | "waiting_payment" => Act(EventKind::WaitingPayment),
        "refused" => Act(EventKind::Refused),
        "canceled" | "cancelled" => Act(EventKind::Canceled),
        "expired" => Act(EventKind::Expired),
        "refunded" => Act(EventKind::Refunded),
        "chargeback" | "chargedback" | "charged_back" => Act(EventKind::Chargeback),
        // A charge past due (an installment plan or a subscription's invoice): access is kept; the
        // contract's cancellation ends it.
        "overdue" => Ignore(Note::PaymentLate),
        "waiting_refund" => Ignore(Note::RefundRequested),
        "recovering" | "scheduled" | "negotiated" | "updated" => Ignore(Note::NotActedUpon),
        _ => return None,
    })
}

/// Refunds are dated by `data.refundedAt`, payments by `data.paidAt` (when sent); otherwise the
/// envelope's `sentDate`, and `data.createdAt` last.
fn invoice_time(env: &Envelope, kind: EventKind) -> Option<DateTime<Utc>> {
    let specific = match kind {
        EventKind::Refunded => datetime_value(env.at(&["data", "refundedAt"])),
        EventKind::Approved => datetime_value(env.at(&["data", "paidAt"])),
        _ => None,
    };
    specific.or_else(|| env.sent_at()).or_else(|| datetime_value(env.at(&["data", "createdAt"])))
}

fn buyer(env: &Envelope, email: String) -> CustomerInfo {
    let buyer = |name: &str| env.at(&["data", "buyer", name]);
    CustomerInfo {
        email,
        name: normalize_name(buyer("name")),
        // Not in Eduzz's examples; read when sent.
        document: ["document", "cpf", "cnpj"].iter().find_map(|key| normalize_document(buyer(key))),
        phone: ["cellphone", "phone", "phone2"].iter().find_map(|key| phone(buyer(key))),
    }
}

/// A phone as text, or as `{countryCode, areaCode, number}` (contract events) → `+<country><area><number>`.
fn phone(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Object(_) => {
            let parts: Vec<String> = ["countryCode", "areaCode", "number"]
                .iter()
                .filter_map(|key| text(value.and_then(|v| at(v, &[key]))))
                .collect();
            let joined: String = parts.concat().chars().filter(|c| c.is_ascii_digit()).collect();
            (!joined.is_empty()).then(|| format!("+{joined}"))
        }
        other => text(Some(other)),
    }
}

/// Amount from `data.price` (the invoice total, major units).
fn invoice_order(env: &Envelope, invoice_id: String) -> Result<OrderInfo, ParseError> {
    let price = env.at(&["data", "price"]);
    Ok(OrderInfo {
        external_id: invoice_id,
        amount_cents: money_lenient(price.and_then(|p| at(p, &["value"])), "data.price.value")?,
        currency: price.and_then(|p| text(at(p, &["currency"]))).map(|c| c.to_ascii_uppercase()),
        payment_method: payment_method(env.at(&["data", "paymentMethod"])),
        installments: installments(env.at(&["data", "installments"]), "data.installments")?,
        // Eduzz's v3 invoice documents no coupon field.
        coupon: None,
    })
}

/// Eduzz's camel-case method names in the app's vocabulary: `creditCard` → `credit_card`,
/// `bankslip`/`bankSlip` → `boleto`; anything else in snake case.
pub fn payment_method(value: Option<&Value>) -> Option<String> {
    let raw = text(value)?;
    let mut snake = String::new();
    let mut after_lower = false;
    for c in raw.chars() {
        if c.is_uppercase() && after_lower {
            snake.push('_');
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
        snake.extend(c.to_lowercase());
    }
    Some(match snake.as_str() {
        "bankslip" | "bank_slip" | "billet" => "boleto".to_string(),
        _ => snake,
    })
}

/// The first item is the product bought (later items are order bumps, not mapped). Its plan, when
/// sent, is the offer code.
fn invoice_product(env: &Envelope) -> Option<ProductInfo> {
    let item = env.at(&["data", "items"]).and_then(Value::as_array).and_then(|items| items.first())?;
    Some(ProductInfo {
        external_id: text(at_any(item, &[&["productId"], &["id"]]))?,
        name: normalize_name(at(item, &["name"])),
        offer_code: plan_code(at(item, &["plan"])),
        ..ProductInfo::default()
    })
}

/// A plan given as a code, or as an object with an `id` (or `code`, or `name`).
fn plan_code(value: Option<&Value>) -> Option<String> {
    let value = value?;
    text(Some(value)).or_else(|| text(at_any(value, &[&["id"], &["code"], &["name"]])))
}

/// Boleto and pix instructions, when an invoice carries them (undocumented names, read when sent).
fn invoice_payment(env: &Envelope) -> PaymentDetails {
    let data = |names: &[&str]| names.iter().find_map(|name| text(env.at(&["data", name])));
    PaymentDetails {
        boleto_url: data(&["bankslipUrl", "billetUrl", "boletoUrl"]),
        boleto_barcode: data(&["bankslipCode", "billetBarcode", "boletoBarcode"]),
        pix_code: data(&["pixCode", "pixQrCode"]),
        pix_expires_at: None,
        refusal_reason: data(&["refusalReason", "refuseReason"]),
    }
}

// ---------------------------------------------------------------------------------------------
// Contracts (subscriptions): `myeduzz.contract_*`, `subscriptions.*`
// ---------------------------------------------------------------------------------------------

/// A contract event acts only when the contract is cancelled: access is then kept until the next due
/// date (the end of the period already paid). Payments arrive as invoice events; every other contract
/// status is recorded and ignored.
fn contract(env: &Envelope) -> Result<Parsed, ParseError> {
    let status = text(env.at(&["data", "contract", "status"]));
    let email_value = || at_any(env.body, &[&["data", "customer", "email"], &["metadata", "email"]]);
    let normalized = status.as_deref().map(|s| s.to_ascii_lowercase().replace(['_', '-', ' '], ""));
    match normalized.as_deref() {
        Some(s) if s.starts_with("cancel") => {}
        Some("late" | "overdue" | "delinquent" | "inarrears" | "pastdue") => {
            return Ok(env.ignored(optional_email(email_value()), Note::PaymentLate))
        }
        Some(
            "uptodate" | "active" | "trial" | "ontrial" | "waitingpayment" | "created" | "finished" | "completed"
            | "ended",
        ) => return Ok(env.ignored(optional_email(email_value()), Note::NotActedUpon)),
        Some(_) => return Ok(env.unknown(&format!("{}:{}", env.event, status.unwrap_or_default()))),
        None => return Err(unprocessable("missing required field `data.contract.status`")),
    }
    let contract_id = require_text(env.at(&["data", "contract", "id"]), "data.contract.id")?;
    let email = require_email(email_value(), "data.customer.email")?;
    let customer = |name: &str| env.at(&["data", "customer", name]);
    let product = env.at(&["data", "products"]).and_then(Value::as_array).and_then(|p| p.first());
    let recurrence = |name: &str| env.at(&["data", "contract", "recurrence", name]);
    let price = at_any(env.body, &[&["data", "contract", "recurrence", "price"], &["data", "contract", "price"]]);
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Eduzz,
        dedup_key: env.dedup_key(Some(&contract_id)).expect("a contract id gives a key"),
        event_type: env.event.clone(),
        kind: EventKind::SubscriptionCanceled,
        occurred_at: datetime_value(env.at(&["data", "contract", "updatedAt"])).or_else(|| env.sent_at()),
        customer: CustomerInfo {
            email,
            name: normalize_name(customer("name")),
            document: None,
            phone: phone(customer("phone")),
        },
        order: Some(OrderInfo {
            coupon: None,
            external_id: format!("{CONTRACT_ORDER_PREFIX}{contract_id}"),
            amount_cents: money_lenient(price.and_then(|p| at(p, &["value"])), "data.contract.recurrence.price.value")?,
            currency: price.and_then(|p| text(at(p, &["currency"]))).map(|c| c.to_ascii_uppercase()),
            payment_method: payment_method(at_any(
                env.body,
                &[&["data", "contract", "paymentMethod"], &["data", "contract", "payment", "method"]],
            )),
            installments: None,
        }),
        product: product.and_then(|p| {
            Some(ProductInfo {
                external_id: text(at(p, &["id"]))?,
                name: normalize_name(at(p, &["name"])),
                offer_code: plan_code(at(p, &["plan"])),
                ..ProductInfo::default()
            })
        }),
        payment: PaymentDetails::default(),
        access_until: datetime_value(recurrence("nextDue")),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/eduzz/", $name, ".json"))
        };
    }

    parse_helpers!(parse);

    fn signed(signature: &str) -> RequestParts {
        let mut parts = RequestParts::default();
        parts.headers.insert(SIGNATURE_HEADER.into(), signature.into());
        parts
    }

    /// The vector of providers.md §5.3 (HMAC-SHA256, computed independently with Python's `hmac`).
    const VECTOR_SECRET: &str = "eduzz-fake-secret";
    const VECTOR_BODY: &[u8] =
        br#"{"id":"evt1","event":"myeduzz.invoice_paid","data":{"id":"123"},"sentDate":"2026-01-01T00:00:00.000Z"}"#;
    const VECTOR_HEX: &str = "704323ec68dfe2bea851ecd9dd52f45a2d615a37976c8d03cb5391546b046baf";
    const VECTOR_BASE64: &str = "cEMj7Gjf4r6oUezZ3VL0Wi1hWjeXbI0Dy1ORVGsEa68=";

    #[test]
    fn signature_test_vectors_hex_and_base64() {
        assert_eq!(sign(VECTOR_SECRET, VECTOR_BODY), VECTOR_HEX);
        assert_eq!(sign_base64(VECTOR_SECRET, VECTOR_BODY), VECTOR_BASE64);
        for presented in [
            VECTOR_HEX.to_string(),
            VECTOR_HEX.to_ascii_uppercase(),
            VECTOR_BASE64.to_string(),
            VECTOR_BASE64.trim_end_matches('=').to_string(),
            format!(" {VECTOR_HEX} "),
        ] {
            assert_eq!(authenticate(VECTOR_SECRET, VECTOR_BODY, &signed(&presented)), Ok(()), "{presented}");
        }
    }

    #[test]
    fn signature_failures() {
        let body = fixture!("invoice_paid").as_bytes();
        let secret = "eduzz-fake-secret";
        let right = sign(secret, body);
        assert_eq!(authenticate(secret, body, &signed(&right)), Ok(()));
        assert!(matches!(authenticate(secret, body, &RequestParts::default()), Err(AuthError::Missing(_))));
        assert!(matches!(authenticate(secret, body, &signed("  ")), Err(AuthError::Missing(_))));
        for wrong in [
            sign("other", body),
            sign_base64("other", body),
            sign(secret, b"{}"),
            right[..62].to_string(),
            "zz".repeat(32),
            secret.to_string(),
            "sha256=".to_string() + &right[..10],
        ] {
            match authenticate(secret, body, &signed(&wrong)) {
                Err(AuthError::Invalid(message)) => assert!(!message.contains(secret) && !message.contains(&right)),
                other => panic!("{wrong}: {other:?}"),
            }
        }
        let tampered = [body, b" "].concat();
        assert!(matches!(authenticate(secret, &tampered, &signed(&right)), Err(AuthError::Invalid(_))));
        assert!(matches!(authenticate("", body, &signed(&sign("", body))), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn invoice_paid_is_an_approval() {
        let e = event(fixture!("invoice_paid"));
        assert_eq!(e.source, Source::Eduzz);
        assert_eq!((e.kind, e.event_type.as_str()), (EventKind::Approved, "myeduzz.invoice_paid"));
        assert_eq!(e.dedup_key, "evt_edz_0001paid", "the event id");
        assert_eq!(e.occurred_at, Some(utc("2026-01-01T13:05:00Z")), "sentDate");
        assert_eq!(
            e.customer,
            CustomerInfo {
                email: "ana.teste@example.com".into(),
                name: Some("Ana Teste Souza".into()),
                document: None,
                phone: Some("5511998877665".into()),
            }
        );
        assert_eq!(
            e.order.unwrap(),
            OrderInfo {
                external_id: "99000001".into(),
                amount_cents: Some(19700),
                currency: Some("BRL".into()),
                payment_method: Some("credit_card".into()),
                installments: Some(3),
                coupon: None,
            }
        );
        assert_eq!(
            e.product.unwrap(),
            ProductInfo {
                external_id: "200001".into(),
                name: Some("Curso Exemplo de Confeitaria".into()),
                offer_code: None,
                ..ProductInfo::default()
            }
        );
        assert_eq!((e.payment, e.access_until), (PaymentDetails::default(), None));
    }

    #[test]
    fn every_invoice_event_maps_to_its_kind() {
        let cases = [
            (fixture!("invoice_opened"), EventKind::WaitingPayment, "99000002", Some("boleto")),
            (fixture!("invoice_waiting_payment"), EventKind::WaitingPayment, "99000003", Some("pix")),
            (fixture!("invoice_refused"), EventKind::Refused, "99000004", Some("credit_card")),
            (fixture!("invoice_canceled"), EventKind::Canceled, "99000002", Some("boleto")),
            (fixture!("invoice_expired"), EventKind::Expired, "99000003", Some("pix")),
            (fixture!("invoice_refunded"), EventKind::Refunded, "99000001", Some("credit_card")),
        ];
        for (raw, kind, invoice, method) in cases {
            let e = event(raw);
            assert_eq!(e.kind, kind, "{}", e.event_type);
            let order = e.order.unwrap();
            assert_eq!((order.external_id.as_str(), order.payment_method.as_deref()), (invoice, method));
        }
        assert_eq!(event(fixture!("invoice_refunded")).occurred_at, Some(utc("2026-01-05T16:30:12Z")), "refundedAt");
        assert_eq!(event(fixture!("invoice_refused")).order.unwrap().installments, Some(12));
    }

    #[test]
    fn redeliveries_share_the_event_id_and_each_event_has_its_own() {
        let paid = event(fixture!("invoice_paid"));
        let refunded = event(fixture!("invoice_refunded"));
        assert_eq!(paid.order.as_ref().unwrap().external_id, refunded.order.as_ref().unwrap().external_id);
        assert_ne!(paid.dedup_key, refunded.dedup_key);
        let resent = edited(fixture!("invoice_paid"), "/sentDate", Some("2026-01-01T13:06:00.000Z".into()));
        assert_eq!(event(&resent).dedup_key, paid.dedup_key, "a retry keeps the id");
        let no_id = edited(fixture!("invoice_paid"), "/id", None);
        assert_eq!(event(&no_id).dedup_key, "myeduzz.invoice_paid:99000001", "event name and invoice without an id");
    }

    #[test]
    fn ignored_invoice_events_keep_their_reason() {
        let cases = [
            (fixture!("invoice_overdue"), Note::PaymentLate),
            (fixture!("invoice_waiting_refund"), Note::RefundRequested),
            (fixture!("invoice_recovering"), Note::NotActedUpon),
            (fixture!("cart_abandonment"), Note::CartAbandoned),
            (fixture!("commission_processed"), Note::NotActedUpon),
            (fixture!("ping"), Note::ConnectionTest),
            (fixture!("contract_created"), Note::NotActedUpon),
        ];
        for (raw, reason) in cases {
            let e = ignored_event(raw);
            assert_eq!(e.reason, reason, "{}", e.event_type);
            assert!(e.dedup_key.as_deref().is_some_and(|k| k.starts_with("evt_edz_")), "{}", e.event_type);
        }
        assert_eq!(ignored_event(fixture!("invoice_overdue")).email.as_deref(), Some("ana.teste@example.com"));
        assert_eq!(ignored_event(fixture!("cart_abandonment")).email.as_deref(), Some("elisa.teste@example.com"));
        let bare_ping = r#"{"event":"ping"}"#;
        assert_eq!(ignored_event(bare_ping).dedup_key.as_deref(), Some("ping:-"));
        let late = edited(fixture!("contract_created"), "/data/contract/status", Some("late".into()));
        assert_eq!(ignored_event(&late).reason, Note::PaymentLate);
        let nutror = r#"{"id":"n1","event":"nutror.lesson_started","data":{"student":{"email":"A@B.com"}}}"#;
        assert_eq!(ignored_event(nutror).reason, Note::MembersAreaActivity);
        assert_eq!(ignored_event(nutror).email.as_deref(), Some("a@b.com"));
    }

    #[test]
    fn a_cancelled_contract_keeps_access_until_the_next_due_date() {
        let e = event(fixture!("contract_canceled"));
        assert_eq!(e.kind, EventKind::SubscriptionCanceled);
        assert_eq!(e.dedup_key, "evt_edz_0011contract");
        assert_eq!(e.access_until, Some(utc("2026-04-15T15:00:00Z")));
        assert_eq!(e.occurred_at, Some(utc("2026-03-08T15:00:00Z")));
        assert_eq!(e.customer.email, "diego.teste@example.com");
        assert_eq!(e.customer.phone.as_deref(), Some("+5511966554433"));
        let order = e.order.unwrap();
        assert_eq!(order.external_id, "contract-3456001");
        assert_eq!((order.amount_cents, order.payment_method.as_deref()), (Some(4990), Some("credit_card")));
        let product = e.product.unwrap();
        assert_eq!((product.external_id.as_str(), product.offer_code.as_deref()), ("200002", Some("mensal")));
        let cancelled = edited(fixture!("contract_canceled"), "/data/contract/status", Some("CANCELLED".into()));
        assert_eq!(event(&cancelled).kind, EventKind::SubscriptionCanceled);
    }

    #[test]
    fn phones_as_objects_and_plans_as_objects() {
        assert_eq!(
            phone(Some(&serde_json::json!({"countryCode": "55", "areaCode": "11", "number": "9 6655-4433"})))
                .as_deref(),
            Some("+5511966554433")
        );
        assert_eq!(phone(Some(&serde_json::json!({}))), None);
        assert_eq!(plan_code(Some(&serde_json::json!({"id": 7, "name": "Anual"}))).as_deref(), Some("7"));
        let with_plan = edited(fixture!("invoice_paid"), "/data/items/0/plan", Some("anual".into()));
        assert_eq!(event(&with_plan).product.unwrap().offer_code.as_deref(), Some("anual"));
        assert_eq!(payment_method(Some(&serde_json::json!("bankSlip"))).as_deref(), Some("boleto"));
        assert_eq!(payment_method(Some(&serde_json::json!("PIX"))).as_deref(), Some("pix"));
    }

    #[test]
    fn unknown_invoice_actions_fall_back_on_the_status() {
        let chargeback = edited(fixture!("invoice_refunded"), "/event", Some("myeduzz.invoice_chargeback".into()));
        assert_eq!(event(&chargeback).kind, EventKind::Chargeback);
        let by_status = edited(fixture!("invoice_paid"), "/event", Some("myeduzz.invoice_something".into()));
        assert_eq!(event(&by_status).kind, EventKind::Approved, "data.status paid");
    }

    #[test]
    fn unknown_events_and_statuses_are_ignored_under_their_name() {
        let removed = edited(fixture!("invoice_paid"), "/event", Some("myeduzz.invoice_removed".into()));
        let removed = edited(&removed, "/data/status", Some("removido".into()));
        let cases = [
            (removed.clone(), "myeduzz.invoice_removed"),
            (
                edited(fixture!("invoice_paid"), "/event", Some("checkout.order_created".into())),
                "checkout.order_created",
            ),
            (
                edited(fixture!("contract_canceled"), "/data/contract/status", Some("suspended".into())),
                "subscriptions.contract_status_updated:suspended",
            ),
        ];
        for (raw, name) in cases {
            let e = ignored_event(&raw);
            assert_eq!((e.event_type.as_str(), e.reason), (name, Note::UnknownStatus));
            assert!(e.dedup_key.as_deref().is_some_and(|k| k.starts_with("evt_edz_")), "{name}");
        }
        assert_eq!(ignored_event(&removed).email.as_deref(), Some("ana.teste@example.com"));
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse(b"id=1"), Err(ParseError::InvalidJson(_))));
        let no_event = edited(fixture!("invoice_paid"), "/event", None);
        assert!(unprocessable_message(&no_event).contains("`event`"));
        let no_email = edited(fixture!("invoice_paid"), "/data/buyer/email", None);
        assert!(unprocessable_message(&no_email).contains("data.buyer.email"));
        let no_invoice = edited(fixture!("invoice_paid"), "/data/id", Some("".into()));
        assert!(unprocessable_message(&no_invoice).contains("data.id"));
        let no_status = edited(fixture!("contract_canceled"), "/data/contract/status", None);
        assert!(unprocessable_message(&no_status).contains("data.contract.status"));
        let no_contract = edited(fixture!("contract_canceled"), "/data/contract/id", None);
        assert!(unprocessable_message(&no_contract).contains("data.contract.id"));
        let negative = edited(fixture!("invoice_paid"), "/data/price", Some(serde_json::json!({"value": -1})));
        assert!(unprocessable_message(&negative).contains("data.price.value"));
    }
}
