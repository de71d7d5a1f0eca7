//! One builder per source: a source-neutral [`Event`] (a step in a purchase's life) rendered as the
//! platform's own payload, with the field names, shapes, date and money formats of
//! ../shared/providers.md and docs/WEBHOOKS.md. Builders are pure: the same event gives the same bytes.
//! Bodies never carry a secret (the Hotmart token goes in the header, see `sign`).

use super::data::{Method, Person, Purchase};
use crate::ingest::event::Source;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{json, Value};

/// A step in the life of a purchase, as every platform can say it (some cannot say all: see
/// [`can_send`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Paid (a card approved, a pix or boleto paid).
    Approved,
    /// Card declined.
    Refused,
    Refunded,
    Chargeback,
    /// A pix or boleto was generated and awaits payment.
    Pending,
    /// The pix or boleto expired unpaid.
    Expired,
    /// A subscription charge after the first one was paid.
    Renewed,
    /// The subscription was canceled (access until the paid period ends).
    SubscriptionCanceled,
}

/// Whether `source` has a way to say `step`. The checkout simulator only knows aprovado, recusado and
/// reembolsado; Kiwify sends no expiry of a pix or boleto (Portaria's sweep handles it); Eduzz documents
/// no chargeback event.
pub fn can_send(source: Source, step: Step) -> bool {
    match source {
        Source::Hashtag => matches!(step, Step::Approved | Step::Refused | Step::Refunded),
        Source::Kiwify => step != Step::Expired,
        Source::Eduzz => step != Step::Chargeback,
        Source::Hotmart | Source::Generic | Source::Monetizze => true,
    }
}

/// Everything a builder needs for one delivery.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub step: Step,
    pub person: &'a Person,
    pub purchase: &'a Purchase,
    /// When the platform says it happened.
    pub at: DateTime<Utc>,
    /// When the order was created (checkout).
    pub created: DateTime<Utc>,
    /// The platform's envelope / delivery id material (a UUID), new for each delivery of a new event.
    pub envelope: String,
    pub subscription: Option<&'a Subscription>,
}

/// A subscription's identity and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Random material for the platform's subscription / subscriber code.
    pub uuid: String,
    pub code: String,
    pub started: DateTime<Utc>,
    /// Which charge this event is about (1: the first).
    pub charge: u32,
    /// The end of the paid period (next charge date).
    pub paid_until: DateTime<Utc>,
}

/// The platform's payload as JSON (for the JSON sources, exactly what is sent).
pub fn build(source: Source, e: &Event) -> Value {
    match source {
        Source::Hashtag => hashtag(e),
        Source::Hotmart => hotmart(e),
        Source::Kiwify => kiwify(e),
        Source::Generic => generic(e),
        Source::Eduzz => eduzz(e),
        Source::Monetizze => monetizze(e),
    }
}

/// The bytes of a payload built by [`build`] (Monetizze's form, with its key, is made when signing).
pub fn encode(_source: Source, body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("a JSON value serialises")
}

/// The JSON pointer of the buyer's e-mail, name, amount and installments in each source's payload (the
/// hostile corpus mutates them).
pub fn pointer(source: Source, field: Field) -> &'static str {
    match (source, field) {
        (Source::Hashtag, Field::Email) => "/email",
        (Source::Hashtag, Field::Name) => "/nome",
        (Source::Hashtag, Field::Amount) => "/valor",
        (Source::Hashtag, Field::Installments) => "/parcelas",
        (Source::Hotmart, Field::Email) => "/data/buyer/email",
        (Source::Hotmart, Field::Name) => "/data/buyer/name",
        (Source::Hotmart, Field::Amount) => "/data/purchase/price/value",
        (Source::Hotmart, Field::Installments) => "/data/purchase/payment/installments_number",
        (Source::Kiwify, Field::Email) => "/Customer/email",
        (Source::Kiwify, Field::Name) => "/Customer/full_name",
        (Source::Kiwify, Field::Amount) => "/Commissions/charge_amount",
        (Source::Kiwify, Field::Installments) => "/installments",
        (Source::Generic, Field::Email) => "/customer/email",
        (Source::Generic, Field::Name) => "/customer/name",
        (Source::Generic, Field::Amount) => "/order/amount_cents",
        (Source::Generic, Field::Installments) => "/order/installments",
        (Source::Eduzz, Field::Email) => "/data/buyer/email",
        (Source::Eduzz, Field::Name) => "/data/buyer/name",
        (Source::Eduzz, Field::Amount) => "/data/price/value",
        (Source::Eduzz, Field::Installments) => "/data/installments",
        (Source::Monetizze, Field::Email) => "/comprador/email",
        (Source::Monetizze, Field::Name) => "/comprador/nome",
        (Source::Monetizze, Field::Amount) => "/venda/valor",
        (Source::Monetizze, Field::Installments) => "/venda/parcelas",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Amount,
    Installments,
}

/// Reais as a JSON number (`297`, `49.9`), as Hotmart, Eduzz and the simulator write money.
fn reais(cents: i64) -> Value {
    if cents % 100 == 0 {
        json!(cents / 100)
    } else {
        json!(cents as f64 / 100.0)
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn sao_paulo() -> FixedOffset {
    FixedOffset::west_opt(3 * 3600).expect("UTC-3")
}

/// Local São Paulo time without an offset, as Kiwify writes it (`2026-01-18 11:09`).
fn kiwify_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&sao_paulo()).format("%Y-%m-%d %H:%M").to_string()
}

/// ISO 8601 with milliseconds in UTC (`2026-01-01T13:05:00.000Z`).
fn iso_millis(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// RFC 3339 in São Paulo time (`2026-01-01T10:02:00-03:00`).
fn rfc3339_local(t: DateTime<Utc>) -> String {
    t.with_timezone(&sao_paulo()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A boleto's typeable line: 47 digits derived from the order (not a valid bank slip).
fn boleto_line(purchase: &Purchase) -> String {
    let digits =
        format!("{}{}{}{}", purchase.ids.digits, purchase.ids.digits, purchase.ids.digits, purchase.ids.digits);
    format!("23793{}", &digits[..42])
}

/// A pix "copia e cola" code (EMV-looking, not a valid BR Code).
fn pix_code(purchase: &Purchase) -> String {
    format!(
        "00020101021226850014br.gov.bcb.pix2563pix.exemplo.com.br/qr/v2/{}5204000053039865406{}5802BR6009SAO PAULO62070503***6304{}",
        purchase.ids.hex,
        purchase.amount_cents as f64 / 100.0,
        &purchase.ids.hex[..4].to_uppercase()
    )
}

fn pix_expires(e: &Event) -> DateTime<Utc> {
    e.created + Duration::minutes(30)
}

fn boleto_due(e: &Event) -> DateTime<Utc> {
    e.created + Duration::days(3)
}

// ---------------------------------------------------------------------------------------------
// hashtag: the course-checkout simulator
// ---------------------------------------------------------------------------------------------

fn hashtag(e: &Event) -> Value {
    let status = match e.step {
        Step::Approved => "aprovado",
        Step::Refused => "recusado",
        _ => "reembolsado",
    };
    let method = match e.purchase.method {
        Method::Pix => "pix",
        Method::Boleto => "boleto",
        Method::Card => "cartao_credito",
    };
    json!({
        "nome": e.person.name,
        "email": e.person.email,
        "status": status,
        "valor": reais(e.purchase.amount_cents),
        "forma_pagamento": method,
        "parcelas": e.purchase.installments,
    })
}

// ---------------------------------------------------------------------------------------------
// Hotmart webhook 2.0.0
// ---------------------------------------------------------------------------------------------

fn hotmart_transaction(p: &Purchase) -> String {
    format!("HP{}", p.ids.digits)
}

fn hotmart_product(p: &Purchase) -> Value {
    let product = p.product;
    json!({
        "id": product.number,
        "ucode": ucode(product.key, product.number),
        "name": product.name,
        "has_co_production": false,
        "is_physical_product": false,
        "support_email": "suporte@escola-exemplo.com.br",
    })
}

/// A stable UUID-shaped product code from the product's key.
fn ucode(key: &str, number: u32) -> String {
    stable_uuid(&format!("hotmart:{key}:{number}"))
}

/// A UUID-shaped text derived from `material` (stable ids of the catalog's products).
fn stable_uuid(material: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = hex::encode(Sha256::digest(material.as_bytes()));
    format!("{}-{}-4{}-a{}-{}", &d[0..8], &d[8..12], &d[13..16], &d[17..20], &d[20..32])
}

fn hotmart(e: &Event) -> Value {
    let p = e.purchase;
    let (event, status) = match e.step {
        Step::Approved | Step::Renewed => ("PURCHASE_APPROVED", "APPROVED"),
        Step::Refused => ("PURCHASE_CANCELED", "CANCELED"),
        Step::Refunded => ("PURCHASE_REFUNDED", "REFUNDED"),
        Step::Chargeback => ("PURCHASE_CHARGEBACK", "CHARGEBACK"),
        Step::Pending => ("PURCHASE_BILLET_PRINTED", "PRINTED_BILLET"),
        Step::Expired => ("PURCHASE_EXPIRED", "EXPIRED"),
        Step::SubscriptionCanceled => return hotmart_subscription_cancellation(e),
    };
    let mut payment = json!({
        "type": match p.method { Method::Pix => "PIX", Method::Boleto => "BILLET", Method::Card => "CREDIT_CARD" },
        "installments_number": p.installments,
    });
    match p.method {
        Method::Pix if matches!(e.step, Step::Pending | Step::Expired) => {
            payment["pix_code"] = json!(pix_code(p));
            payment["pix_qrcode"] = json!(format!("https://pay.hotmart.com/pix/qr/{}", p.ids.hex));
            payment["pix_expiration_date"] = json!(millis(pix_expires(e)));
        }
        Method::Boleto if matches!(e.step, Step::Pending | Step::Expired) => {
            payment["billet_url"] = json!(format!("https://pay.hotmart.com/billet/{}", hotmart_transaction(p)));
            payment["billet_barcode"] = json!(boleto_line(p));
        }
        _ => {}
    }
    if e.step == Step::Refused {
        payment["refusal_reason"] = json!("Transação não autorizada pelo banco emissor");
    }
    let price = json!({"value": reais(p.amount_cents), "currency_value": "BRL"});
    let mut purchase = json!({
        "transaction": hotmart_transaction(p),
        "status": status,
        "order_date": millis(e.created),
        "price": price,
        "full_price": price,
        "original_offer_price": {"value": reais(p.product.price_cents), "currency_value": "BRL"},
        "payment": payment,
        "offer": {"code": format!("{}x", &p.ids.hex[..7])},
        "checkout_country": {"name": "Brasil", "iso": "BR"},
        "is_funnel": false,
        "business_model": "I",
        "invoice_by": "HOTMART",
    });
    if matches!(e.step, Step::Approved | Step::Renewed | Step::Refunded | Step::Chargeback) {
        purchase["approved_date"] =
            json!(millis(if e.step == Step::Approved || e.step == Step::Renewed { e.at } else { e.created }));
    }
    let mut data = json!({
        "product": hotmart_product(p),
        "buyer": {
            "email": e.person.email,
            "name": e.person.name,
            "first_name": e.person.first_name,
            "last_name": e.person.last_name,
            "checkout_phone": e.person.phone,
            "document": e.person.cpf,
            "document_type": "CPF",
            "address": {"country_iso": "BR", "country": "Brasil"},
        },
        "producer": {"name": "Escola Exemplo Ltda", "legal_nature": "Pessoa Jurídica"},
        "affiliates": [],
        "purchase": purchase,
    });
    if let Some(s) = e.subscription {
        data["purchase"]["recurrence_number"] = json!(s.charge);
        data["purchase"]["date_next_charge"] = json!(millis(s.paid_until));
        data["subscription"] = json!({
            "status": "ACTIVE",
            "plan": {"id": 900_001, "name": "Plano Mensal"},
            "subscriber": {"code": s.code},
        });
    }
    json!({
        "id": e.envelope,
        "creation_date": millis(e.at),
        "event": event,
        "version": "2.0.0",
        "data": data,
    })
}

/// `SUBSCRIPTION_CANCELLATION`: another shape, with the subscriber instead of a buyer.
fn hotmart_subscription_cancellation(e: &Event) -> Value {
    let s = e.subscription.expect("a subscription cancellation has a subscription");
    let p = e.purchase;
    json!({
        "id": e.envelope,
        "creation_date": millis(e.at),
        "event": "SUBSCRIPTION_CANCELLATION",
        "version": "2.0.0",
        "data": {
            "date_next_charge": millis(s.paid_until),
            "product": {"id": p.product.number, "name": p.product.name},
            "actual_recurrence_value": reais(p.amount_cents),
            "subscriber": {
                "code": s.code,
                "name": e.person.name,
                "email": e.person.email,
                "phone": {"dddPhone": "", "phone": "", "dddCell": &e.person.phone[..2], "cell": &e.person.phone[2..]},
            },
            "subscription": {"id": 7_000_000 + u32::from_str_radix(&s.uuid[..4], 16).unwrap_or(0), "plan": {"id": 900_001, "name": "Plano Mensal"}},
            "cancellation_date": millis(e.at),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Kiwify sales webhooks
// ---------------------------------------------------------------------------------------------

fn kiwify(e: &Event) -> Value {
    let p = e.purchase;
    let (event, status) = match e.step {
        Step::Approved => ("order_approved", "paid"),
        Step::Renewed => ("subscription_renewed", "paid"),
        Step::Refused => ("order_rejected", "refused"),
        Step::Refunded => ("order_refunded", "refunded"),
        Step::Chargeback => ("chargeback", "chargedback"),
        Step::Pending if p.method == Method::Boleto => ("billet_created", "waiting_payment"),
        Step::Pending | Step::Expired => ("pix_created", "waiting_payment"),
        Step::SubscriptionCanceled => ("subscription_canceled", "paid"),
    };
    let method = match p.method {
        Method::Pix => "pix",
        Method::Boleto => "boleto",
        Method::Card => "credit_card",
    };
    let card = p.method == Method::Card;
    let waiting = matches!(e.step, Step::Pending | Step::Expired);
    let paid = matches!(
        e.step,
        Step::Approved | Step::Renewed | Step::Refunded | Step::Chargeback | Step::SubscriptionCanceled
    );
    let fee = p.amount_cents * 899 / 10_000 + 249;
    let product_id = stable_uuid(&format!("kiwify:{}", p.product.key));
    let mut body = json!({
        "order_id": p.ids.uuid,
        "order_ref": format!("{}{}", &p.ids.hex[..3].to_uppercase(), &p.ids.digits[..4]),
        "order_status": status,
        "webhook_event_type": event,
        "product_type": "membership",
        "payment_method": method,
        "store_id": "EscolaExemplo01",
        "payment_merchant_id": 10_000_001,
        "installments": p.installments,
        "card_type": if card { json!("mastercard") } else { Value::Null },
        "card_last4digits": if card { json!(&p.ids.digits[10..14]) } else { Value::Null },
        "card_rejection_reason": if e.step == Step::Refused { json!("Cartão recusado pelo banco emissor") } else { Value::Null },
        "boleto_URL": if waiting && p.method == Method::Boleto { json!(format!("https://pay.kiwify.com.br/boleto/{}", p.ids.uuid)) } else { Value::Null },
        "boleto_barcode": if waiting && p.method == Method::Boleto { json!(boleto_line(p)) } else { Value::Null },
        "boleto_expiry_date": if waiting && p.method == Method::Boleto { json!(boleto_due(e).format("%Y-%m-%d").to_string()) } else { Value::Null },
        "pix_code": if waiting && p.method == Method::Pix { json!(pix_code(p)) } else { Value::Null },
        "pix_expiration": if waiting && p.method == Method::Pix { json!(kiwify_time(pix_expires(e))) } else { Value::Null },
        "sale_type": "producer",
        "created_at": kiwify_time(e.created),
        "updated_at": kiwify_time(e.at),
        "approved_date": if paid { json!(kiwify_time(if matches!(e.step, Step::Approved | Step::Renewed) { e.at } else { e.created })) } else { Value::Null },
        "refunded_at": if e.step == Step::Refunded { json!(kiwify_time(e.at)) } else { Value::Null },
        "Product": {"product_id": product_id, "product_name": p.product.name},
        "Customer": {
            "full_name": e.person.name,
            "first_name": e.person.first_name,
            "email": e.person.email,
            "mobile": format!("+55{}", e.person.phone),
            "CPF": e.person.cpf,
            "ip": format!("200.{}.{}.{}", &p.ids.digits[0..2], &p.ids.digits[2..4], &p.ids.digits[4..6]),
        },
        "Commissions": {
            "charge_amount": p.amount_cents,
            "product_base_price": p.product.price_cents,
            "product_base_price_currency": "BRL",
            "kiwify_fee": fee,
            "kiwify_fee_currency": "BRL",
            "settlement_amount": p.amount_cents - fee,
            "settlement_amount_currency": "BRL",
            "currency": "BRL",
            "my_commission": p.amount_cents - fee,
        },
        "TrackingParameters": {
            "src": null, "sck": null, "utm_source": "instagram", "utm_medium": "stories", "utm_campaign": "lancamento",
            "utm_content": null, "utm_term": null, "s1": null, "s2": null, "s3": null,
        },
        "Subscription": null,
        "subscription_id": "",
        "access_url": null,
    });
    if let Some(s) = e.subscription {
        let until = iso_millis(s.paid_until);
        body["subscription_id"] = json!(s.uuid);
        body["Subscription"] = json!({
            "id": s.uuid,
            "start_date": iso_millis(s.started),
            "next_payment": until,
            "status": if e.step == Step::SubscriptionCanceled { "canceled" } else { "active" },
            "plan": {"id": format!("plan-{}", p.product.key), "name": "Plano Mensal", "frequency": "monthly", "qty_charges": 0},
            "charges": {"completed": [], "future": [{"charge_date": until}]},
            "customer_access": {"has_access": true, "active_period": true, "access_until": until},
        });
    }
    body
}

// ---------------------------------------------------------------------------------------------
// generic: Portaria's own format
// ---------------------------------------------------------------------------------------------

fn generic(e: &Event) -> Value {
    let p = e.purchase;
    let event_type = match e.step {
        Step::Approved => "payment.approved",
        Step::Refused => "payment.refused",
        Step::Refunded => "payment.refunded",
        Step::Chargeback => "payment.chargeback",
        Step::Pending => "payment.waiting_payment",
        Step::Expired => "payment.expired",
        Step::Renewed => "subscription.renewed",
        Step::SubscriptionCanceled => "subscription.canceled",
    };
    let order_id = match (e.step, e.subscription) {
        (Step::SubscriptionCanceled, Some(s)) => format!("sub_{}", &s.uuid[..8]),
        _ => format!("ord_{}", p.ids.hex),
    };
    let mut body = json!({
        "type": event_type,
        "occurred_at": rfc3339_local(e.at),
        "customer": {
            "email": e.person.email,
            "name": e.person.name,
            "document": e.person.cpf_formatted(),
            "phone": format!("+55{}", e.person.phone),
        },
        "order": {
            "id": order_id,
            "amount_cents": p.amount_cents,
            "currency": "BRL",
            "payment_method": match p.method { Method::Pix => "pix", Method::Boleto => "boleto", Method::Card => "credit_card" },
            "installments": p.installments,
        },
        "product": {"id": p.product.key, "name": p.product.name},
    });
    let mut payment = serde_json::Map::new();
    if matches!(e.step, Step::Pending | Step::Expired) {
        match p.method {
            Method::Boleto => {
                payment.insert(
                    "boleto_url".into(),
                    json!(format!("https://pagamentos.exemplo.com.br/boleto/{}", p.ids.hex)),
                );
                payment.insert("boleto_barcode".into(), json!(boleto_line(p)));
            }
            _ => {
                payment.insert("pix_code".into(), json!(pix_code(p)));
                payment.insert(
                    "pix_expires_at".into(),
                    json!(pix_expires(e).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                );
            }
        }
    }
    if e.step == Step::Refused {
        payment.insert("refusal_reason".into(), json!("Saldo insuficiente"));
    }
    if !payment.is_empty() {
        body["payment"] = Value::Object(payment);
    }
    if let (Some(s), Step::Renewed | Step::SubscriptionCanceled) = (e.subscription, e.step) {
        body["access_until"] = json!(s.paid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    body
}

// ---------------------------------------------------------------------------------------------
// Eduzz webhook v3
// ---------------------------------------------------------------------------------------------

fn eduzz(e: &Event) -> Value {
    let p = e.purchase;
    if e.step == Step::SubscriptionCanceled {
        return eduzz_contract_canceled(e);
    }
    // A subscription's later charge is a new invoice, paid like the first.
    let (action, status) = match e.step {
        Step::Approved | Step::Renewed => ("invoice_paid", "paid"),
        Step::Refused => ("invoice_refused", "refused"),
        Step::Refunded => ("invoice_refunded", "refunded"),
        Step::Pending => ("invoice_waiting_payment", "waiting_payment"),
        Step::Expired => ("invoice_expired", "expired"),
        Step::Chargeback | Step::SubscriptionCanceled => unreachable!("Eduzz cannot say {:?}", e.step),
    };
    let price = json!({"currency": "BRL", "value": reais(p.amount_cents)});
    let mut data = json!({
        "id": format!("9{}", &p.ids.digits[..7]),
        "status": status,
        "buyer": {
            "name": e.person.name,
            "email": e.person.email,
            "phone": null,
            "phone2": null,
            "cellphone": format!("55{}", e.person.phone),
        },
        "producer": {"id": "100001", "name": "Escola Exemplo Ltda", "email": "contato@escola-exemplo.com.br"},
        "utm": {"source": "instagram", "campaign": "lancamento", "content": "story", "medium": "social"},
        "createdAt": iso_millis(e.created),
        "price": price,
        "paymentMethod": match p.method { Method::Pix => "pix", Method::Boleto => "bankslip", Method::Card => "creditCard" },
        "installments": p.installments,
        "items": [{
            "productId": eduzz_product_id(p),
            "name": p.product.name,
            "price": {"currency": "BRL", "value": reais(p.amount_cents)},
            "refundPeriod": {"durationType": "days", "value": 7},
        }],
    });
    if e.subscription.is_some() {
        data["items"][0]["plan"] = json!("mensal");
    }
    if matches!(e.step, Step::Approved | Step::Renewed) {
        data["paidAt"] = json!(iso_millis(e.at));
    }
    if e.step == Step::Refunded {
        data["refundedAt"] = json!(iso_millis(e.at));
    }
    if matches!(e.step, Step::Pending | Step::Expired) {
        match p.method {
            Method::Boleto => {
                data["bankslipUrl"] = json!(format!("https://eduzz.com/boleto/{}", p.ids.hex));
                data["bankslipCode"] = json!(boleto_line(p));
            }
            _ => data["pixCode"] = json!(pix_code(p)),
        }
    }
    json!({
        "id": format!("evt_{}", e.envelope.replace('-', "")),
        "event": format!("myeduzz.{action}"),
        "data": data,
        "sentDate": iso_millis(e.at),
    })
}

fn eduzz_product_id(p: &Purchase) -> String {
    format!("{}", 200_000 + p.product.number % 10_000)
}

/// The subscription (a "contract") canceled: access until the next due date.
fn eduzz_contract_canceled(e: &Event) -> Value {
    let s = e.subscription.expect("a contract cancellation has a subscription");
    let p = e.purchase;
    let price = json!({"currency": "BRL", "value": reais(p.amount_cents)});
    json!({
        "id": format!("evt_{}", e.envelope.replace('-', "")),
        "event": "myeduzz.contract_updated",
        "sentDate": iso_millis(e.at),
        "data": {
            "producer": {"id": "100001", "name": "Escola Exemplo Ltda", "email": "contato@escola-exemplo.com.br"},
            "products": [{"id": eduzz_product_id(p), "name": p.product.name, "plan": "mensal", "price": price}],
            "contract": {
                "id": format!("{}", 3_000_000 + u32::from_str_radix(&s.uuid[..5], 16).unwrap_or(0)),
                "paymentMethod": "creditCard",
                "status": "canceled",
                "createdAt": iso_millis(s.started),
                "updatedAt": iso_millis(e.at),
                "recurrence": {
                    "nextDue": iso_millis(s.paid_until),
                    "interval": {"type": "month", "value": 1},
                    "currentInstallment": s.charge,
                    "isFinite": false,
                    "price": price,
                },
            },
            "customer": {"name": e.person.name, "email": e.person.email, "phone": format!("+55{}", e.person.phone)},
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Monetizze postback
// ---------------------------------------------------------------------------------------------

/// Date and time as Monetizze writes them: São Paulo local time, `Y-m-d H:i:s`.
fn monetizze_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&sao_paulo()).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The postback as JSON, without `chave_unica` (added when signing, see `sign`).
fn monetizze(e: &Event) -> Value {
    let p = e.purchase;
    let (code, description) = match e.step {
        Step::Pending => (1, "Aguardando pagamento"),
        Step::Approved | Step::Renewed => (2, "Finalizada / Aprovada"),
        Step::Refused | Step::Expired => (3, "Cancelada"),
        Step::Refunded => (4, "Devolvida"),
        Step::Chargeback => (5, "Bloqueada"),
        Step::SubscriptionCanceled => (103, "Assinatura - Cancelada"),
    };
    let method = match p.method {
        Method::Pix => "Pix",
        Method::Boleto => "Boleto",
        Method::Card => "Cartão de crédito",
    };
    let sale_status = match code {
        1 => "Aguardando pagamento",
        2 => "Finalizada",
        3 => "Cancelada",
        4 => "Devolvida",
        5 => "Bloqueada",
        _ => "Finalizada",
    };
    let mut venda = json!({
        "codigo": format!("7{}", &p.ids.digits[..7]),
        "dataInicio": monetizze_time(e.created),
        "formaPagamento": method,
        "status": sale_status,
        "codigo_status": if code <= 6 { code.to_string() } else { "2".into() },
        "valor": format!("{}.{:02}", p.amount_cents / 100, p.amount_cents % 100),
        "parcelas": p.installments,
    });
    if matches!(e.step, Step::Approved | Step::Renewed | Step::Refunded | Step::Chargeback) {
        venda["dataFinalizada"] = json!(monetizze_time(e.at));
    }
    if matches!(e.step, Step::Pending | Step::Expired) {
        match p.method {
            Method::Boleto => {
                venda["linkBoleto"] = json!(format!("https://app.monetizze.com.br/boleto/{}", p.ids.hex));
                venda["linha_digitavel"] = json!(boleto_line(p));
            }
            _ => venda["pix_codigo_qrcode"] = json!(pix_code(p)),
        }
    }
    let mut body = json!({
        "produto": {
            "codigo": format!("{}", 300_000 + p.product.number % 10_000),
            "chave": stable_uuid(&format!("monetizze:{}", p.product.key)).replace('-', ""),
            "nome": p.product.name,
            "categoria": "Educacional, Cursos Técnicos e Profissionalizantes",
        },
        "tipoPostback": {"codigo": 2, "descricao": "Produtor"},
        "tipoEvento": {"codigo": code, "descricao": description},
        "venda": venda,
        "comprador": {
            "nome": e.person.name,
            "email": e.person.email,
            "cnpj_cpf": e.person.cpf,
            "telefone": format!("55{}", e.person.phone),
            "pais": "BR",
        },
    });
    if let Some(s) = e.subscription {
        body["assinatura"] = json!({
            "codigo": format!("A{}", &s.uuid.replace('-', "")[..8].to_uppercase()),
            "status": if e.step == Step::SubscriptionCanceled { "Cancelada" } else { "Ativa" },
            "data_assinatura": monetizze_time(s.started),
            "parcela": s.charge,
        });
        body["plano"] =
            json!({"codigo": "PLMENSAL", "referencia": "mensal", "nome": "Plano Mensal", "periodicidade": "mensal"});
    }
    body
}
