//! Hotmart webhook v2.0.0: `{id, creation_date, event, version, hottok?, data}`, authenticated by the
//! account token ("hottok") in `X-HOTMART-HOTTOK` (or, failing that, the body field `hottok`).

use super::common::{
    at, at_any, ignored, installments, lower_text, millis_or_text, money_lenient, normalize_document, normalize_name,
    normalize_phone, optional_email, parse_json_object, require_email, require_text, secret_matches, small_integer,
    text, text_at, unknown_status,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, ProductInfo,
    RequestParts, Source,
};
use crate::note::Note;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const HOTTOK_HEADER: &str = "x-hotmart-hottok";

/// Payment types whose cancellation is, in practice, a declined card.
const CARD_PAYMENT_TYPES: [&str; 4] = ["CREDIT_CARD", "HOTCARD", "GOOGLE_PAY", "SAMSUNG_PAY"];

const REASON_COMPLETE: Note = Note::PurchaseComplete;
const REASON_PROTEST: Note = Note::DisputeOpened;
const REASON_DELAYED: Note = Note::PaymentLate;
const REASON_CART: Note = Note::CartAbandoned;
const REASON_SUBSCRIPTION_CHANGE: Note = Note::SubscriptionChanged;
const REASON_CLUB: Note = Note::MembersAreaActivity;
const REASON_FULFILLMENT: Note = Note::ShippingEvent;

pub fn authenticate(secret: &str, raw: &[u8], parts: &RequestParts) -> Result<(), AuthError> {
    let presented = match parts.header(HOTTOK_HEADER).filter(|h| !h.is_empty()) {
        Some(header) => Some(header.to_string()),
        None => body_hottok(raw),
    };
    match presented {
        None => Err(AuthError::Missing("no hottok: expected the `X-HOTMART-HOTTOK` header".into())),
        Some(hottok) if secret_matches(secret, &hottok) => Ok(()),
        Some(_) => Err(AuthError::Invalid("the hottok does not match".into())),
    }
}

/// The top-level `hottok` of a JSON body, when there is one.
fn body_hottok(raw: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(raw).ok()?;
    body.get("hottok")?.as_str().filter(|t| !t.is_empty()).map(str::to_string)
}

/// What every handler needs from the envelope.
struct Envelope<'a> {
    body: &'a Value,
    /// As sent (verbatim in `event_type`).
    event: String,
    /// Upper-cased, used for matching and in dedup keys.
    name: String,
    occurred_at: Option<DateTime<Utc>>,
}

impl Envelope<'_> {
    fn at(&self, path: &[&str]) -> Option<&Value> {
        at(self.body, path)
    }

    fn key(&self, parts: &[&str]) -> String {
        std::iter::once(self.name.as_str()).chain(parts.iter().copied()).collect::<Vec<_>>().join(":")
    }

    /// The envelope `id` as a last-resort dedup key (its stability on redelivery is unconfirmed).
    fn id_key(&self) -> Option<String> {
        text_at(self.body, &["id"]).map(|id| self.key(&["id", &id]))
    }

    fn ignored(&self, dedup_key: Option<String>, email: Option<String>, reason: Note) -> Parsed {
        ignored(&self.event, dedup_key, email, reason)
    }
}

pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    let body = parse_json_object(raw)?;
    let event = require_text(at(&body, &["event"]), "event")?;
    let env = Envelope {
        body: &body,
        name: event.to_ascii_uppercase(),
        occurred_at: millis_or_text(creation_date(&body)),
        event,
    };
    match env.name.as_str() {
        "PURCHASE_APPROVED"
        | "PURCHASE_BILLET_PRINTED"
        | "PURCHASE_CANCELED"
        | "PURCHASE_REFUNDED"
        | "PURCHASE_CHARGEBACK"
        | "PURCHASE_EXPIRED" => purchase(&env),
        "PURCHASE_COMPLETE" => Ok(ignored_purchase(&env, REASON_COMPLETE)),
        "PURCHASE_PROTEST" => Ok(ignored_purchase(&env, REASON_PROTEST)),
        "PURCHASE_DELAYED" => Ok(ignored_purchase(&env, REASON_DELAYED)),
        "PURCHASE_OUT_OF_SHOPPING_CART" => Ok(cart_abandonment(&env)),
        "SUBSCRIPTION_CANCELLATION" => subscription_cancellation(&env),
        "SWITCH_PLAN" => Ok(switch_plan(&env)),
        "UPDATE_SUBSCRIPTION_CHARGE_DATE" => Ok(charge_date_change(&env)),
        "CLUB_FIRST_ACCESS" | "CLUB_MODULE_COMPLETED" => Ok(club(&env)),
        "ORDER_FULFILLMENT" => Ok(fulfillment(&env)),
        _ => Ok(unknown_event(&env)),
    }
}

/// An event Portaria does not know: ignored under its name, keyed by its purchase (or envelope id).
fn unknown_event(env: &Envelope) -> Parsed {
    let key = text_at(env.body, &["data", "purchase", "transaction"])
        .map(|transaction| env.key(&[&transaction]))
        .or_else(|| env.id_key());
    let email = optional_email(at_any(env.body, &[&["data", "buyer", "email"], &["data", "subscriber", "email"]]));
    unknown_status(&env.event, key, email)
}

/// `creation_date`, or `creationDate` as one captured test payload spells it.
fn creation_date(body: &Value) -> Option<&Value> {
    at_any(body, &[&["creation_date"], &["creationDate"]])
}

// ---------------------------------------------------------------------------------------------
// Purchase events
// ---------------------------------------------------------------------------------------------

fn purchase(env: &Envelope) -> Result<Parsed, ParseError> {
    let transaction = require_text(env.at(&["data", "purchase", "transaction"]), "data.purchase.transaction")?;
    let email = require_email(env.at(&["data", "buyer", "email"]), "data.buyer.email")?;
    let kind = purchase_kind(env);
    let access_until = if kind == EventKind::Renewed {
        millis_or_text(env.at(&["data", "purchase", "date_next_charge"]))
    } else {
        None
    };
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Hotmart,
        dedup_key: env.key(&[&transaction]),
        event_type: env.event.clone(),
        kind,
        occurred_at: env.occurred_at.or_else(|| purchase_time(env)),
        customer: buyer(env, email),
        order: Some(purchase_order(env, transaction)?),
        product: product(env.body),
        payment: payment_details(env),
        access_until,
    })))
}

fn purchase_kind(env: &Envelope) -> EventKind {
    match env.name.as_str() {
        "PURCHASE_APPROVED" if recurrence_number(env).is_some_and(|n| n > 1) => EventKind::Renewed,
        "PURCHASE_APPROVED" => EventKind::Approved,
        "PURCHASE_BILLET_PRINTED" => EventKind::WaitingPayment,
        "PURCHASE_CANCELED" => canceled_kind(env),
        "PURCHASE_REFUNDED" => EventKind::Refunded,
        "PURCHASE_CHARGEBACK" => EventKind::Chargeback,
        _ => EventKind::Expired,
    }
}

fn recurrence_number(env: &Envelope) -> Option<i32> {
    small_integer(env.at(&["data", "purchase", "recurrence_number"]))
}

/// PURCHASE_CANCELED covers both a declined card and an unpaid boleto/pix. It is a refusal when the
/// purchase carries a `refusal_reason`, or when its status is CANCELLED/CANCELED and it was paid by card;
/// anything else (boleto, pix, ... left unpaid) is a cancellation.
fn canceled_kind(env: &Envelope) -> EventKind {
    let has_refusal_reason = text(env.at(&["data", "purchase", "payment", "refusal_reason"])).is_some();
    let status = text(env.at(&["data", "purchase", "status"])).map(|s| s.to_ascii_uppercase());
    let cancelled = matches!(status.as_deref(), Some("CANCELLED" | "CANCELED"));
    let payment_type = text(env.at(&["data", "purchase", "payment", "type"])).map(|s| s.to_ascii_uppercase());
    let by_card = payment_type.is_some_and(|t| CARD_PAYMENT_TYPES.contains(&t.as_str()));
    if has_refusal_reason || (cancelled && by_card) {
        EventKind::Refused
    } else {
        EventKind::Canceled
    }
}

fn purchase_time(env: &Envelope) -> Option<DateTime<Utc>> {
    millis_or_text(at_any(env.body, &[&["data", "purchase", "approved_date"], &["data", "purchase", "order_date"]]))
}

fn buyer(env: &Envelope, email: String) -> CustomerInfo {
    let name = normalize_name(env.at(&["data", "buyer", "name"])).or_else(|| joined_name(env));
    CustomerInfo {
        email,
        name,
        document: normalize_document(env.at(&["data", "buyer", "document"])),
        phone: normalize_phone(at_any(env.body, &[&["data", "buyer", "checkout_phone"], &["data", "buyer", "phone"]])),
    }
}

fn joined_name(env: &Envelope) -> Option<String> {
    let parts: Vec<String> = [["data", "buyer", "first_name"], ["data", "buyer", "last_name"]]
        .iter()
        .filter_map(|path| normalize_name(env.at(path)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Amount from `price` (the offer price), or `full_price` when `price` is missing.
fn purchase_order(env: &Envelope, transaction: String) -> Result<OrderInfo, ParseError> {
    let price = at_any(env.body, &[&["data", "purchase", "price"], &["data", "purchase", "full_price"]]);
    let amount_cents = money_lenient(price.and_then(|p| at(p, &["value"])), "data.purchase.price.value")?;
    let currency = price.and_then(|p| text(at(p, &["currency_value"]))).map(|c| c.to_ascii_uppercase());
    Ok(OrderInfo {
        external_id: transaction,
        amount_cents,
        currency,
        payment_method: lower_text(env.at(&["data", "purchase", "payment", "type"])),
        installments: installments(
            env.at(&["data", "purchase", "payment", "installments_number"]),
            "data.purchase.payment.installments_number",
        )?,
        coupon: text(env.at(&["data", "purchase", "offer", "coupon_code"])),
    })
}

fn payment_details(env: &Envelope) -> PaymentDetails {
    let payment = |field: &str| text(env.at(&["data", "purchase", "payment", field]));
    PaymentDetails {
        boleto_url: payment("billet_url"),
        boleto_barcode: payment("billet_barcode"),
        pix_code: payment("pix_code"),
        pix_expires_at: millis_or_text(env.at(&["data", "purchase", "payment", "pix_expiration_date"])),
        refusal_reason: payment("refusal_reason"),
    }
}

/// The product: `ucode` (stable, what Hotmart advises) when present, with the numeric `id` as its
/// alias; else the `id` as text (a number, `"00000"`, ...) standing for the product last seen with
/// it, since a subscription cancellation carries only `{id, name}`.
fn product(body: &Value) -> Option<ProductInfo> {
    let product = at(body, &["data", "product"])?;
    let id = text(at(product, &["id"]));
    let (external_id, alias, by_alias) = match text(at(product, &["ucode"])) {
        Some(ucode) => (ucode, id, false),
        None => (id?, None, true),
    };
    // Purchase events carry the offer bought; the other shapes (a subscription cancellation) do not.
    let offer_code = text(at(body, &["data", "purchase", "offer", "code"]));
    Some(ProductInfo { external_id, name: normalize_name(at(product, &["name"])), offer_code, alias, by_alias })
}

/// A purchase event we recognise but do not act on; keyed like the other purchase events.
fn ignored_purchase(env: &Envelope, reason: Note) -> Parsed {
    let dedup_key = text(env.at(&["data", "purchase", "transaction"])).map(|t| env.key(&[&t]));
    env.ignored(dedup_key, optional_email(env.at(&["data", "buyer", "email"])), reason)
}

// ---------------------------------------------------------------------------------------------
// Other payload shapes
// ---------------------------------------------------------------------------------------------

/// Key: event + buyer e-mail + product id + creation date.
fn cart_abandonment(env: &Envelope) -> Parsed {
    let email = optional_email(env.at(&["data", "buyer", "email"]));
    let product_id = text(at_any(env.body, &[&["data", "product", "id"], &["data", "product", "ucode"]]));
    let created = text(creation_date(env.body));
    let dedup_key = match (&email, &created) {
        (Some(email), Some(created)) => Some(env.key(&[email, product_id.as_deref().unwrap_or_default(), created])),
        _ => env.id_key(),
    };
    env.ignored(dedup_key, email, REASON_CART)
}

/// No buyer nor purchase here: the subscriber is the customer and `sub:<code>` stands for the order.
fn subscription_cancellation(env: &Envelope) -> Result<Parsed, ParseError> {
    let code = require_text(env.at(&["data", "subscriber", "code"]), "data.subscriber.code")?;
    let email = require_email(env.at(&["data", "subscriber", "email"]), "data.subscriber.email")?;
    let cancellation_date = env.at(&["data", "cancellation_date"]);
    let date_key = text(cancellation_date).unwrap_or_default();
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Hotmart,
        dedup_key: env.key(&[&code, &date_key]),
        event_type: env.event.clone(),
        kind: EventKind::SubscriptionCanceled,
        occurred_at: millis_or_text(cancellation_date).or(env.occurred_at),
        customer: CustomerInfo {
            email,
            name: normalize_name(env.at(&["data", "subscriber", "name"])),
            document: None,
            phone: subscriber_phone(env),
        },
        order: Some(OrderInfo {
            external_id: format!("sub:{code}"),
            amount_cents: money_lenient(env.at(&["data", "actual_recurrence_value"]), "data.actual_recurrence_value")?,
            ..OrderInfo::default()
        }),
        product: product(env.body),
        payment: PaymentDetails::default(),
        access_until: millis_or_text(env.at(&["data", "date_next_charge"])),
    })))
}

/// `data.subscriber.phone {dddCell, cell, dddPhone, phone}` → area code + number, mobile first.
fn subscriber_phone(env: &Envelope) -> Option<String> {
    let field = |name: &str| text(env.at(&["data", "subscriber", "phone", name]));
    [("dddCell", "cell"), ("dddPhone", "phone")]
        .iter()
        .find_map(|(area, number)| field(number).map(|n| format!("{}{n}", field(area).unwrap_or_default())))
}

/// Key: event + subscriber code + switch date.
fn switch_plan(env: &Envelope) -> Parsed {
    let code = text(env.at(&["data", "subscription", "subscriber_code"]));
    let date = text(env.at(&["data", "switch_plan_date"])).unwrap_or_default();
    let dedup_key = code.map(|code| env.key(&[&code, &date])).or_else(|| env.id_key());
    let email = optional_email(env.at(&["data", "subscription", "user", "email"]));
    env.ignored(dedup_key, email, REASON_SUBSCRIPTION_CHANGE)
}

/// Shape unconfirmed. Key: event + subscriber code + new next-charge date (or charge day).
fn charge_date_change(env: &Envelope) -> Parsed {
    let code = text(at_any(
        env.body,
        &[
            &["data", "subscriber", "code"],
            &["data", "subscription", "subscriber", "code"],
            &["data", "subscription", "subscriber_code"],
        ],
    ));
    let date = text(at_any(
        env.body,
        &[
            &["data", "subscription", "date_next_charge"],
            &["data", "subscription", "new_charge_day"],
            &["data", "date_next_charge"],
        ],
    ))
    .unwrap_or_default();
    let dedup_key = code.map(|code| env.key(&[&code, &date])).or_else(|| env.id_key());
    let email = optional_email(at_any(env.body, &[&["data", "subscriber", "email"], &["data", "user", "email"]]));
    env.ignored(dedup_key, email, REASON_SUBSCRIPTION_CHANGE)
}

/// Key: event + user e-mail + product id (+ module id for CLUB_MODULE_COMPLETED).
fn club(env: &Envelope) -> Parsed {
    let email = optional_email(env.at(&["data", "user", "email"]));
    let product_id = text(env.at(&["data", "product", "id"])).unwrap_or_default();
    let module_id = text(env.at(&["data", "module", "id"]));
    let dedup_key = match (&email, module_id) {
        (Some(email), Some(module)) if env.name == "CLUB_MODULE_COMPLETED" => {
            Some(env.key(&[email, &product_id, &module]))
        }
        (Some(email), _) => Some(env.key(&[email, &product_id])),
        (None, _) => env.id_key(),
    };
    env.ignored(dedup_key, email, REASON_CLUB)
}

/// Key: event + transaction when present, else the envelope id.
fn fulfillment(env: &Envelope) -> Parsed {
    let dedup_key = text(env.at(&["data", "purchase", "transaction"])).map(|t| env.key(&[&t])).or_else(|| env.id_key());
    env.ignored(dedup_key, optional_email(env.at(&["data", "buyer", "email"])), REASON_FULFILLMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/hotmart/", $name, ".json"))
        };
    }

    parse_helpers!(parse);

    fn parts_with_header(value: &str) -> RequestParts {
        let mut parts = RequestParts::default();
        parts.headers.insert(HOTTOK_HEADER.into(), value.into());
        parts
    }

    #[test]
    fn purchase_approved() {
        let e = event(fixture!("purchase_approved"));
        assert_eq!(e.source, Source::Hotmart);
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.event_type, "PURCHASE_APPROVED");
        assert_eq!(e.dedup_key, "PURCHASE_APPROVED:HP1760000000001");
        assert_eq!(e.occurred_at, Some(utc("2026-01-01T12:00:00.123Z")));
        assert_eq!(
            e.customer,
            CustomerInfo {
                email: "maria.teste@example.com".into(),
                name: Some("Maria Teste da Silva".into()),
                document: Some("12345678909".into()),
                phone: Some("11987654321".into()),
            }
        );
        let order = e.order.unwrap();
        assert_eq!(order.external_id, "HP1760000000001");
        assert_eq!(order.amount_cents, Some(29700));
        assert_eq!(order.currency.as_deref(), Some("BRL"));
        assert_eq!(order.payment_method.as_deref(), Some("credit_card"));
        assert_eq!(order.installments, Some(3));
        let product = e.product.unwrap();
        assert_eq!(product.external_id, "0b6f3c4e-1111-4a2b-9c9d-123456789abc");
        assert_eq!(product.name.as_deref(), Some("Curso Exemplo de Confeitaria"));
        assert_eq!(product.offer_code.as_deref(), Some("abc123xy"), "data.purchase.offer.code");
        assert_eq!((product.alias.as_deref(), product.by_alias), (Some("4100123"), false), "the numeric id");
        assert_eq!(order.coupon, None);
        let coupon = edited(fixture!("purchase_approved"), "/data/purchase/offer/coupon_code", Some("VOLTA20".into()));
        assert_eq!(event(&coupon).order.unwrap().coupon.as_deref(), Some("VOLTA20"), "data.purchase.offer.coupon_code");
        assert_eq!(e.access_until, None);
    }

    #[test]
    fn renewal_is_an_approval_with_recurrence_above_one() {
        let e = event(fixture!("purchase_approved_renewal"));
        assert_eq!(e.kind, EventKind::Renewed);
        assert_eq!(e.order.unwrap().amount_cents, Some(4990));
        assert_eq!(e.access_until, Some(utc("2026-03-01T12:00:00Z")));
        let first = edited(fixture!("purchase_approved_renewal"), "/data/purchase/recurrence_number", Some(1.into()));
        assert_eq!(event(&first).kind, EventKind::Approved);
        let text = edited(fixture!("purchase_approved_renewal"), "/data/purchase/recurrence_number", Some("2".into()));
        assert_eq!(event(&text).kind, EventKind::Renewed);
    }

    #[test]
    fn refund_shares_the_transaction_of_the_approval() {
        let approved = event(fixture!("purchase_approved"));
        let refunded = event(fixture!("purchase_refunded"));
        assert_eq!(refunded.kind, EventKind::Refunded);
        assert_eq!(refunded.dedup_key, "PURCHASE_REFUNDED:HP1760000000001");
        assert_eq!(approved.order.unwrap().external_id, refunded.order.unwrap().external_id);
        assert_eq!(approved.customer.email, refunded.customer.email);
    }

    #[test]
    fn billet_printed_carries_the_boleto() {
        let e = event(fixture!("billet_printed"));
        assert_eq!(e.kind, EventKind::WaitingPayment);
        assert_eq!(e.payment.boleto_url.as_deref(), Some("https://pay.example.com/boleto/HP1760000000003"));
        assert_eq!(e.payment.boleto_barcode.as_deref(), Some("34191790010104351004791020150008291070026000"));
        assert_eq!(e.order.unwrap().payment_method.as_deref(), Some("billet"));
    }

    #[test]
    fn billet_printed_for_pix_carries_the_pix_code() {
        let e = event(fixture!("pix_generated"));
        assert_eq!(e.kind, EventKind::WaitingPayment);
        assert!(e.payment.pix_code.as_deref().unwrap().starts_with("000201"));
        assert_eq!(e.payment.pix_expires_at, Some(utc("2026-01-02T12:00:00Z")));
        assert_eq!(e.payment.boleto_url, None);
        assert_eq!(e.order.unwrap().payment_method.as_deref(), Some("pix"));
    }

    #[test]
    fn canceled_by_card_is_a_refusal_otherwise_a_cancellation() {
        let card = event(fixture!("purchase_canceled"));
        assert_eq!(card.kind, EventKind::Refused);
        assert_eq!(card.payment.refusal_reason.as_deref(), Some("Transaction refused by the card issuer"));
        let billet = event(fixture!("purchase_canceled_billet"));
        assert_eq!(billet.kind, EventKind::Canceled);
        let no_reason = edited(fixture!("purchase_canceled"), "/data/purchase/payment/refusal_reason", None);
        assert_eq!(event(&no_reason).kind, EventKind::Refused, "CANCELED by card");
        let double_l = edited(&no_reason, "/data/purchase/status", Some("CANCELLED".into()));
        assert_eq!(event(&double_l).kind, EventKind::Refused, "CANCELLED by card");
        let other_status = edited(&no_reason, "/data/purchase/status", Some("EXPIRED".into()));
        assert_eq!(event(&other_status).kind, EventKind::Canceled);
        let billet_with_reason = edited(
            fixture!("purchase_canceled_billet"),
            "/data/purchase/payment/refusal_reason",
            Some("Denied".into()),
        );
        assert_eq!(event(&billet_with_reason).kind, EventKind::Refused);
    }

    #[test]
    fn chargeback_and_expired() {
        let chargeback = event(fixture!("purchase_chargeback"));
        assert_eq!(chargeback.kind, EventKind::Chargeback);
        assert_eq!(chargeback.customer.name.as_deref(), Some("João Teste Pereira"));
        let expired = event(fixture!("purchase_expired"));
        assert_eq!(expired.kind, EventKind::Expired);
        assert_eq!(expired.order.unwrap().external_id, event(fixture!("billet_printed")).order.unwrap().external_id);
    }

    #[test]
    fn ignored_purchase_events_keep_a_dedup_key() {
        for (raw, key, email, reason) in [
            (
                fixture!("purchase_complete"),
                "PURCHASE_COMPLETE:HP1760000000008",
                "lucia.teste@example.com",
                Note::PurchaseComplete,
            ),
            (
                fixture!("purchase_protest"),
                "PURCHASE_PROTEST:HP1760000000009",
                "lucia.teste@example.com",
                Note::DisputeOpened,
            ),
            (
                fixture!("purchase_delayed"),
                "PURCHASE_DELAYED:HP1760000000010",
                "joao.teste@example.com",
                Note::PaymentLate,
            ),
        ] {
            let e = ignored_event(raw);
            assert_eq!(e.dedup_key.as_deref(), Some(key));
            assert_eq!(e.email.as_deref(), Some(email));
            assert_eq!(e.reason, reason);
        }
    }

    #[test]
    fn cart_abandonment_is_ignored_with_its_business_key() {
        let e = ignored_event(fixture!("out_of_shopping_cart"));
        assert_eq!(e.event_type, "PURCHASE_OUT_OF_SHOPPING_CART");
        assert_eq!(
            e.dedup_key.as_deref(),
            Some("PURCHASE_OUT_OF_SHOPPING_CART:carla.teste@example.com:4100123:1767268800555")
        );
        assert_eq!(e.email.as_deref(), Some("carla.teste@example.com"));
    }

    #[test]
    fn subscription_cancellation() {
        let e = event(fixture!("subscription_cancellation"));
        assert_eq!(e.kind, EventKind::SubscriptionCanceled);
        assert_eq!(e.dedup_key, "SUBSCRIPTION_CANCELLATION:SUBFAKE01:1770551990000");
        assert_eq!(e.customer.email, "joao.teste@example.com");
        assert_eq!(e.customer.phone.as_deref(), Some("21988887777"));
        assert_eq!(e.access_until, Some(utc("2026-03-01T12:00:00Z")));
        assert_eq!(e.occurred_at, Some(utc("2026-02-08T11:59:50Z")));
        let order = e.order.unwrap();
        assert_eq!(order.external_id, "sub:SUBFAKE01");
        assert_eq!(order.amount_cents, Some(4990));
        assert_eq!(
            e.product.unwrap(),
            ProductInfo {
                external_id: "4100456".into(),
                name: Some("Clube Exemplo de Receitas".into()),
                offer_code: None,
                alias: None,
                by_alias: true,
            }
        );
        let no_email = edited(fixture!("subscription_cancellation"), "/data/subscriber/email", None);
        assert!(unprocessable_message(&no_email).contains("data.subscriber.email"));
        let no_code = edited(fixture!("subscription_cancellation"), "/data/subscriber/code", None);
        assert!(unprocessable_message(&no_code).contains("data.subscriber.code"));
    }

    #[test]
    fn subscription_changes_are_ignored() {
        let switch = ignored_event(fixture!("switch_plan"));
        assert_eq!(switch.dedup_key.as_deref(), Some("SWITCH_PLAN:SUBFAKE01:1770033590000"));
        assert_eq!(switch.email.as_deref(), Some("joao.teste@example.com"));
        let charge_day = ignored_event(fixture!("update_subscription_charge_date"));
        assert_eq!(charge_day.dedup_key.as_deref(), Some("UPDATE_SUBSCRIPTION_CHARGE_DATE:SUBFAKE01:1771156800000"));
        assert_eq!(charge_day.email.as_deref(), Some("joao.teste@example.com"));
    }

    #[test]
    fn members_area_and_logistics_are_ignored() {
        let first_access = ignored_event(fixture!("club_first_access"));
        assert_eq!(first_access.dedup_key.as_deref(), Some("CLUB_FIRST_ACCESS:maria.teste@example.com:00000"));
        assert_eq!(first_access.email.as_deref(), Some("maria.teste@example.com"));
        let module = ignored_event(fixture!("club_module_completed"));
        assert_eq!(module.dedup_key.as_deref(), Some("CLUB_MODULE_COMPLETED:maria.teste@example.com:4100123:mod-0001"));
        let fulfillment = ignored_event(fixture!("order_fulfillment"));
        assert_eq!(fulfillment.dedup_key.as_deref(), Some("ORDER_FULFILLMENT:HP1760000000011"));
        let anonymous = edited(fixture!("club_first_access"), "/data/user", None);
        assert_eq!(
            ignored_event(&anonymous).dedup_key.as_deref(),
            Some("CLUB_FIRST_ACCESS:id:5f0c2a0e-7d1b-4c55-9a51-0b7d2e8c1a17")
        );
    }

    #[test]
    fn creation_date_spellings() {
        let camel = edited(fixture!("purchase_approved"), "/creation_date", None);
        let camel = edited(&camel, "/creationDate", Some(1767268800123_i64.into()));
        assert_eq!(event(&camel).occurred_at, Some(utc("2026-01-01T12:00:00.123Z")));
        let none = edited(fixture!("purchase_approved"), "/creation_date", None);
        assert_eq!(event(&none).occurred_at, Some(utc("2026-01-01T11:59:50Z")), "falls back to approved_date");
        let text = edited(fixture!("purchase_approved"), "/creation_date", Some("1767268800123".into()));
        assert_eq!(event(&text).occurred_at, Some(utc("2026-01-01T12:00:00.123Z")));
    }

    #[test]
    fn product_id_forms() {
        let no_ucode = edited(fixture!("purchase_approved"), "/data/product/ucode", None);
        let by_id = event(&no_ucode).product.unwrap();
        assert_eq!((by_id.external_id.as_str(), by_id.alias, by_id.by_alias), ("4100123", None, true));
        let zeros = edited(&no_ucode, "/data/product/id", Some("00000".into()));
        assert_eq!(event(&zeros).product.unwrap().external_id, "00000");
        let none = edited(&no_ucode, "/data/product/id", None);
        assert_eq!(event(&none).product, None);
    }

    #[test]
    fn amount_falls_back_to_full_price_and_tolerates_text() {
        let no_price = edited(fixture!("purchase_approved"), "/data/purchase/price", None);
        let no_price = edited(
            &no_price,
            "/data/purchase/full_price",
            Some(serde_json::json!({"value": "312,90", "currency_value": "brl"})),
        );
        let order = event(&no_price).order.unwrap();
        assert_eq!((order.amount_cents, order.currency.as_deref()), (Some(31290), Some("BRL")));
        let decimal =
            edited(fixture!("purchase_approved"), "/data/purchase/price", Some(serde_json::json!({"value": 197.9})));
        assert_eq!(event(&decimal).order.unwrap().amount_cents, Some(19790));
    }

    #[test]
    fn buyer_quirks() {
        let raw = edited(fixture!("purchase_approved"), "/data/buyer/email", Some("  MARIA.Teste@EXAMPLE.com ".into()));
        let raw = edited(&raw, "/data/buyer/name", Some("   ".into()));
        let raw = edited(&raw, "/data/buyer/document", Some("123.456.789-09".into()));
        let customer = event(&raw).customer;
        assert_eq!(customer.email, "maria.teste@example.com");
        assert_eq!(customer.name.as_deref(), Some("Maria da Silva"), "first + last name when name is blank");
        assert_eq!(customer.document.as_deref(), Some("12345678909"));
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse(b"hottok=abc&event=PURCHASE_APPROVED"), Err(ParseError::InvalidJson(_))));
        assert!(matches!(parse(b"[]"), Err(ParseError::InvalidJson(_))));
        assert!(unprocessable_message(r#"{"data":{}}"#).contains("`event`"));
        let unknown = expect_ignored(parse(br#"{"id":"e1","event":"PURCHASE_COMPLETED","data":{}}"#));
        assert_eq!((unknown.event_type.as_str(), unknown.reason), ("PURCHASE_COMPLETED", Note::UnknownStatus));
        assert_eq!(unknown.dedup_key.as_deref(), Some("PURCHASE_COMPLETED:id:e1"));
        let renamed = edited(fixture!("purchase_approved"), "/event", Some("PURCHASE_REMOVED".into()));
        let unknown = ignored_event(&renamed);
        assert_eq!(unknown.dedup_key.as_deref(), Some("PURCHASE_REMOVED:HP1760000000001"));
        assert_eq!(unknown.email.as_deref(), Some("maria.teste@example.com"));
        let no_email = edited(fixture!("purchase_approved"), "/data/buyer/email", None);
        assert!(unprocessable_message(&no_email).contains("data.buyer.email"));
        let bad_email = edited(fixture!("purchase_approved"), "/data/buyer/email", Some("maria".into()));
        assert!(unprocessable_message(&bad_email).contains("data.buyer.email"));
        let no_transaction = edited(fixture!("purchase_refunded"), "/data/purchase/transaction", None);
        assert!(unprocessable_message(&no_transaction).contains("data.purchase.transaction"));
        let bare_complete = r#"{"event":"PURCHASE_COMPLETE","data":{}}"#;
        assert_eq!(ignored_event(bare_complete).dedup_key, None);
    }

    #[test]
    fn hottok_header_or_body() {
        let secret = "FAKE-HOTTOK-FOR-TESTS";
        let body = fixture!("purchase_approved").as_bytes();
        assert_eq!(authenticate(secret, b"{}", &parts_with_header(secret)), Ok(()));
        assert_eq!(authenticate(secret, body, &RequestParts::default()), Ok(()), "body field fallback");
        assert_eq!(authenticate(secret, body, &parts_with_header("")), Ok(()), "empty header counts as absent");
        match authenticate(secret, body, &parts_with_header("wrong-hottok")) {
            Err(AuthError::Invalid(message)) => assert!(!message.contains(secret)),
            other => panic!("{other:?}"),
        }
        let wrong_body = br#"{"hottok":"fake-hottok-for-tests"}"#;
        assert!(matches!(authenticate(secret, wrong_body, &RequestParts::default()), Err(AuthError::Invalid(_))));
        assert!(matches!(authenticate(secret, b"{}", &RequestParts::default()), Err(AuthError::Missing(_))));
        assert!(matches!(authenticate(secret, b"not json", &RequestParts::default()), Err(AuthError::Missing(_))));
        assert!(matches!(
            authenticate(secret, br#"{"hottok":7}"#, &RequestParts::default()),
            Err(AuthError::Missing(_))
        ));
    }
}
