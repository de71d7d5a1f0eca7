//! Monetizze postback ("Server to Server"): the sale as form fields with bracketed keys
//! (`venda[codigo]=...&comprador[email]=...`, PHP's `$_POST`), often with the whole postback repeated as
//! JSON in a `json` field, or the JSON object as the body. Authenticated by the account's postback key,
//! `chave_unica`, inside the body.

use super::common::{
    at, at_any, datetime_value, ignored, installments, money_lenient, normalize_document, normalize_name,
    normalize_phone, optional_email, parse_json_object, require_email, require_text, secret_matches, shorten, text,
    text_at, unknown_status, unprocessable,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, ProductInfo,
    RequestParts, Source,
};
use crate::note::Note;
use chrono::{DateTime, Utc};
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

/// The `chave_unica` values of the body: of the JSON object, or of the form and of its `json` field
/// (also what the record masks).
pub fn presented_keys(raw: &[u8]) -> Vec<String> {
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

/// Payment methods whose cancellation (code 3) is a refused card; other cancelled sales were left unpaid.
const CARD_METHODS: [&str; 2] = ["credit_card", "debit_card"];

pub fn parse(raw: &[u8], _parts: &RequestParts) -> Result<Parsed, ParseError> {
    let body = decode(raw)?;
    let code_text = event_code(&body)?;
    let event_type = match text_at(&body, &["tipoEvento", "descricao"]) {
        Some(description) => format!("{} {}", shorten(&code_text), shorten(&description)),
        None => shorten(&code_text),
    };
    let Ok(code) = code_text.parse::<u32>() else {
        return Ok(unknown_status(&event_type, None, optional_email(at(&body, &["comprador", "email"]))));
    };
    let sale = Sale { body: &body, code, event_type };
    let kind = match code {
        1 | 104 => EventKind::WaitingPayment,
        2 if sale.installment().is_some_and(|n| n > 1) => EventKind::Renewed,
        2 => EventKind::Approved,
        3 => cancellation_kind(&sale),
        4 => EventKind::Refunded,
        // "Bloqueada": the sale is under dispute and its money held, the closest Monetizze has to a
        // chargeback. Access is revoked as for one, and a later approval of the sale grants nothing.
        5 => EventKind::Chargeback,
        103 => EventKind::SubscriptionCanceled,
        6 => return Ok(sale.ignored(Note::PurchaseComplete)),
        7 => return Ok(sale.cart_abandonment()),
        102 => return Ok(sale.ignored(Note::PaymentLate)),
        8 | 98 | 99 | 101 | 105 | 106 => return Ok(sale.ignored(Note::NotActedUpon)),
        _ => return Ok(sale.unknown()),
    };
    sale.event(kind)
}

/// `tipoEvento.codigo`, else `venda.codigo_status` (the sale's status 1–6 has the same meaning as the
/// event codes 1–6).
fn event_code(body: &Value) -> Result<String, ParseError> {
    text_at(body, &["tipoEvento", "codigo"])
        .or_else(|| text_at(body, &["venda", "codigo_status"]))
        .ok_or_else(|| unprocessable("missing required field `tipoEvento.codigo`"))
}

struct Sale<'a> {
    body: &'a Value,
    code: u32,
    /// `{code} {tipoEvento.descricao}`, e.g. `2 Finalizada / Aprovada`.
    event_type: String,
}

impl Sale<'_> {
    fn at(&self, path: &[&str]) -> Option<&Value> {
        at(self.body, path)
    }

    /// The subscription charge this sale is (`assinatura.parcela`), when it is one.
    fn installment(&self) -> Option<u32> {
        text(self.at(&["assinatura", "parcela"])).and_then(|p| p.parse().ok())
    }

    /// `{venda.codigo}:{code}`, plus `:{assinatura.parcela}` for a subscription's charge.
    fn dedup_key(&self, sale_id: &str) -> String {
        match self.installment() {
            Some(n) => format!("{sale_id}:{}:{n}", self.code),
            None => format!("{sale_id}:{}", self.code),
        }
    }

    fn email(&self) -> Option<String> {
        optional_email(self.at(&["comprador", "email"]))
    }

    fn ignored(&self, reason: Note) -> Parsed {
        let key = match text(self.at(&["venda", "codigo"])) {
            Some(sale_id) => self.dedup_key(&sale_id),
            None => format!("{}:{}", self.code, self.email().unwrap_or_default()),
        };
        ignored(&self.event_type, Some(key), self.email(), reason)
    }

    /// A code no rule handles: ignored under the code and its description.
    fn unknown(&self) -> Parsed {
        let key = text(self.at(&["venda", "codigo"])).map(|sale_id| self.dedup_key(&sale_id));
        unknown_status(&self.event_type, key, self.email())
    }

    /// A checkout abandoned: no sale code; the buyer, the product and the time stand in.
    fn cart_abandonment(&self) -> Parsed {
        let product = text(self.at(&["produto", "codigo"])).unwrap_or_default();
        let started = text(self.at(&["venda", "dataInicio"])).unwrap_or_default();
        let key = format!("cart:{}:{product}:{started}", self.email().unwrap_or_default());
        ignored(&self.event_type, Some(key), self.email(), Note::CartAbandoned)
    }

    fn event(&self, kind: EventKind) -> Result<Parsed, ParseError> {
        let sale_id = require_text(self.at(&["venda", "codigo"]), "venda.codigo")?;
        let email = require_email(self.at(&["comprador", "email"]), "comprador.email")?;
        Ok(Parsed::Event(Box::new(PaymentEvent {
            source: Source::Monetizze,
            dedup_key: self.dedup_key(&sale_id),
            event_type: self.event_type.clone(),
            kind,
            occurred_at: self.occurred_at(kind),
            customer: CustomerInfo {
                email,
                name: normalize_name(self.at(&["comprador", "nome"])),
                document: normalize_document(self.at(&["comprador", "cnpj_cpf"])),
                phone: normalize_phone(self.at(&["comprador", "telefone"])),
            },
            order: Some(OrderInfo {
                external_id: sale_id,
                amount_cents: money_lenient(self.at(&["venda", "valor"]), "venda.valor")?,
                // Monetizze sells in reais only.
                currency: Some("BRL".into()),
                payment_method: payment_method(self.at(&["venda", "formaPagamento"])),
                installments: installments(self.at(&["venda", "parcelas"]), "venda.parcelas")?,
                coupon: text(self.at(&["venda", "cupom"])),
            }),
            product: self.product(),
            payment: PaymentDetails {
                boleto_url: text(self.at(&["venda", "linkBoleto"])),
                boleto_barcode: text(self.at(&["venda", "linha_digitavel"])),
                pix_code: text(at_any(self.body, &[&["venda", "pix_codigo_qrcode"], &["pix_codigo_qrcode"]])),
                pix_expires_at: None,
                refusal_reason: None,
            },
            access_until: None,
        })))
    }

    /// Approvals are dated by `venda.dataFinalizada` (the payment's confirmation); pending sales by
    /// `venda.dataInicio`. Both are São Paulo local times (`Y-m-d H:i:s`).
    fn occurred_at(&self, kind: EventKind) -> Option<DateTime<Utc>> {
        match kind {
            EventKind::Approved | EventKind::Renewed => datetime_value(self.at(&["venda", "dataFinalizada"])),
            EventKind::WaitingPayment => datetime_value(self.at(&["venda", "dataInicio"])),
            _ => None,
        }
    }

    /// `produto.codigo` and `produto.nome` (the main item when there are order bumps); the plan
    /// (`venda.plano`, else `plano.codigo`) is the offer code.
    fn product(&self) -> Option<ProductInfo> {
        Some(ProductInfo {
            external_id: text(self.at(&["produto", "codigo"]))?,
            name: normalize_name(self.at(&["produto", "nome"])),
            offer_code: text(at_any(self.body, &[&["venda", "plano"], &["plano", "codigo"]])),
            ..ProductInfo::default()
        })
    }
}

/// Code 3, "Cancelada", is an unpaid boleto or pix, or a refused card: a refusal when paid by card,
/// an expiry when a boleto or pix was left unpaid, a cancellation otherwise.
fn cancellation_kind(sale: &Sale) -> EventKind {
    match payment_method(sale.at(&["venda", "formaPagamento"])).as_deref() {
        Some(method) if CARD_METHODS.contains(&method) => EventKind::Refused,
        Some("boleto" | "pix") => EventKind::Expired,
        _ => EventKind::Canceled,
    }
}

/// `formaPagamento` in the app's vocabulary: `Cartão de crédito` → `credit_card`, `Boleto` → `boleto`,
/// `Pix` → `pix`, `Débito online` → `debit_card`, `Grátis` → `free`; anything else lower-cased.
pub fn payment_method(value: Option<&Value>) -> Option<String> {
    let raw = text(value)?.to_lowercase();
    let plain: String = raw
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect();
    Some(
        if plain.contains("cartao") || plain.contains("credit") {
            "credit_card"
        } else if plain.contains("boleto") {
            "boleto"
        } else if plain.contains("pix") {
            "pix"
        } else if plain.contains("debito") {
            "debit_card"
        } else if plain.contains("gratis") {
            "free"
        } else {
            return Some(raw);
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::IgnoredEvent;
    use crate::ingest::sources::test_support::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/monetizze/", $name, ".json"))
        };
    }
    const APPROVED_FORM: &str = include_str!("../../../tests/fixtures/monetizze/approved.form");
    const PENDING_FORM: &str = include_str!("../../../tests/fixtures/monetizze/pending_boleto.form");
    const KEY: &str = "test-monetizze-key";

    fn parts() -> RequestParts {
        RequestParts::default()
    }

    fn event(raw: &str) -> PaymentEvent {
        expect_event(parse(raw.as_bytes(), &parts()))
    }

    fn ignored_event(raw: &str) -> IgnoredEvent {
        expect_ignored(parse(raw.as_bytes(), &parts()))
    }

    fn unprocessable_message(raw: &str) -> String {
        expect_unprocessable(parse(raw.as_bytes(), &parts()))
    }

    #[test]
    fn forms_become_nested_objects() {
        let raw = b"chave_unica=k&venda%5Bcodigo%5D=70000001&venda[valor]=197.00&comprador[nome]=Jo%C3%A3o+da+Silva&tipoEvento[codigo]=2";
        let body = decode(raw).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"chave_unica": "k", "venda": {"codigo": "70000001", "valor": "197.00"},
                "comprador": {"nome": "João da Silva"}, "tipoEvento": {"codigo": "2"}})
        );
        assert!(is_form_postback(raw));
        for not_a_postback in [&b"not json"[..], b"", b"a=1&b[c]=2", b"[]", b"\xff\xfe"] {
            assert!(!is_form_postback(not_a_postback));
            assert!(matches!(decode(not_a_postback), Err(ParseError::InvalidJson(_))), "{not_a_postback:?}");
        }
        let nul = decode(b"chave_unica=k&venda[codigo]=1%00");
        assert!(matches!(nul, Err(ParseError::Unprocessable(m)) if m.contains("venda.codigo")));
    }

    #[test]
    fn the_three_shapes_give_the_same_event() {
        let json = event(fixture!("approved"));
        let form_with_json = event(APPROVED_FORM);
        assert_eq!(form_with_json, json, "the `json` field wins");
        let bare_form = event(&APPROVED_FORM[..APPROVED_FORM.find("&json=").unwrap()]);
        assert_eq!(bare_form, json, "the bracketed fields alone say the same");
        assert_eq!(event(PENDING_FORM), event(fixture!("pending_boleto")));
    }

    #[test]
    fn approved_sale() {
        let e = event(fixture!("approved"));
        assert_eq!(e.source, Source::Monetizze);
        assert_eq!((e.kind, e.event_type.as_str()), (EventKind::Approved, "2 Finalizada / Aprovada"));
        assert_eq!(e.dedup_key, "70000001:2");
        assert_eq!(e.occurred_at, Some(utc("2026-01-01T13:03:00Z")), "dataFinalizada in São Paulo time");
        assert_eq!(
            e.customer,
            CustomerInfo {
                email: "carlos.teste@example.com".into(),
                name: Some("Carlos Teste Lima".into()),
                document: Some("11144477735".into()),
                phone: Some("5511955554444".into()),
            }
        );
        assert_eq!(
            e.order.unwrap(),
            OrderInfo {
                external_id: "70000001".into(),
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
                external_id: "300001".into(),
                name: Some("Curso Exemplo de Confeitaria".into()),
                offer_code: Some("35553".into()),
                ..ProductInfo::default()
            }
        );
    }

    #[test]
    fn every_event_code_maps_to_its_kind() {
        let cases = [
            (fixture!("pending_boleto"), EventKind::WaitingPayment, "70000002:1"),
            (fixture!("canceled_boleto"), EventKind::Expired, "70000002:3"),
            (fixture!("canceled_card"), EventKind::Refused, "70000003:3"),
            (fixture!("refunded"), EventKind::Refunded, "70000001:4"),
            (fixture!("blocked"), EventKind::Chargeback, "70000001:5"),
            (fixture!("subscription_renewal"), EventKind::Renewed, "70000010:2:2"),
            (fixture!("subscription_canceled"), EventKind::SubscriptionCanceled, "70000010:103:3"),
            (fixture!("subscription_waiting_payment"), EventKind::WaitingPayment, "70000010:104:3"),
        ];
        for (raw, kind, key) in cases {
            let e = event(raw);
            assert_eq!((e.kind, e.dedup_key.as_str()), (kind, key), "{}", e.event_type);
        }
        let boleto = event(fixture!("pending_boleto"));
        assert_eq!(boleto.payment.boleto_url.as_deref(), Some("https://pay.example.com/boleto/70000002"));
        assert!(boleto.payment.boleto_barcode.as_deref().unwrap().starts_with("23793.38128"));
        assert_eq!(boleto.customer.document.as_deref(), Some("52998224725"));
        assert_eq!(boleto.order.unwrap().payment_method.as_deref(), Some("boleto"));
        let pix = edited(fixture!("canceled_boleto"), "/venda/formaPagamento", Some("Pix".into()));
        assert_eq!(event(&pix).kind, EventKind::Expired);
        let other = edited(fixture!("canceled_boleto"), "/venda/formaPagamento", Some("Outra".into()));
        assert_eq!(event(&other).kind, EventKind::Canceled);
        let renewal = event(fixture!("subscription_renewal"));
        assert_eq!(renewal.product.unwrap().offer_code.as_deref(), Some("41001"));
    }

    #[test]
    fn ignored_codes_keep_their_reason_and_a_key() {
        let cases = [
            (fixture!("complete"), Note::PurchaseComplete, "70000001:6"),
            (fixture!("subscription_active"), Note::NotActedUpon, "70000010:101:2"),
            (fixture!("subscription_overdue"), Note::PaymentLate, "70000010:102:3"),
            (
                fixture!("cart_abandonment"),
                Note::CartAbandoned,
                "cart:fernanda.teste@example.com:300001:2026-01-02 09:40:00",
            ),
        ];
        for (raw, reason, key) in cases {
            let e = ignored_event(raw);
            assert_eq!((e.reason, e.dedup_key.as_deref()), (reason, Some(key)), "{}", e.event_type);
        }
        let hidden = edited(fixture!("complete"), "/tipoEvento", Some(serde_json::json!({"codigo": 98})));
        assert_eq!(ignored_event(&hidden).reason, Note::NotActedUpon);
    }

    #[test]
    fn the_sale_status_stands_in_for_a_missing_event_code() {
        let no_event = edited(fixture!("refunded"), "/tipoEvento", None);
        assert_eq!(event(&no_event).kind, EventKind::Refunded);
        let neither = edited(&edited(fixture!("refunded"), "/tipoEvento", None), "/venda/codigo_status", None);
        assert!(unprocessable_message(&neither).contains("tipoEvento.codigo"));
    }

    #[test]
    fn payment_methods() {
        let method = |s: &str| payment_method(Some(&serde_json::json!(s)));
        assert_eq!(method("Cartão de crédito").as_deref(), Some("credit_card"));
        assert_eq!(method("CARTAO DE CREDITO").as_deref(), Some("credit_card"));
        assert_eq!(method("Boleto").as_deref(), Some("boleto"));
        assert_eq!(method("Pix").as_deref(), Some("pix"));
        assert_eq!(method("Débito online").as_deref(), Some("debit_card"));
        assert_eq!(method("Grátis").as_deref(), Some("free"));
        assert_eq!(method("PayPal").as_deref(), Some("paypal"));
    }

    #[test]
    fn the_key_is_compared_and_read_from_every_shape() {
        for raw in [fixture!("approved"), APPROVED_FORM, PENDING_FORM] {
            assert_eq!(authenticate(KEY, raw.as_bytes(), &parts()), Ok(()));
            assert!(matches!(authenticate("other-key", raw.as_bytes(), &parts()), Err(AuthError::Invalid(_))));
            assert!(matches!(authenticate("", raw.as_bytes(), &parts()), Err(AuthError::Invalid(_))));
        }
        // only inside the `json` field
        let json_only = format!("json={}", urlencode(fixture!("approved")));
        assert_eq!(authenticate(KEY, json_only.as_bytes(), &parts()), Ok(()));
        let keyless = edited(fixture!("approved"), "/chave_unica", None);
        assert!(matches!(authenticate(KEY, keyless.as_bytes(), &parts()), Err(AuthError::Missing(_))));
        let wrong = edited(fixture!("approved"), "/chave_unica", Some("test-monetizze-kez".into()));
        match authenticate(KEY, wrong.as_bytes(), &parts()) {
            Err(AuthError::Invalid(message)) => assert!(!message.contains(KEY)),
            other => panic!("{other:?}"),
        }
        assert_eq!(presented_keys(APPROVED_FORM.as_bytes()), [KEY, KEY], "the `json` field's and the form's");
    }

    fn urlencode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn unknown_codes_are_ignored_under_their_name() {
        let removed = serde_json::json!({"codigo": 9, "descricao": "Removido"});
        let e = ignored_event(&edited(fixture!("approved"), "/tipoEvento", Some(removed)));
        assert_eq!((e.event_type.as_str(), e.reason), ("9 Removido", Note::UnknownStatus));
        assert_eq!(
            (e.dedup_key.as_deref(), e.email.as_deref()),
            (Some("70000001:9"), Some("carlos.teste@example.com"))
        );
        let word = edited(fixture!("approved"), "/tipoEvento", Some(serde_json::json!({"codigo": "removido"})));
        assert_eq!(ignored_event(&word).event_type, "removido");
    }

    #[test]
    fn rejections() {
        let no_email = edited(fixture!("approved"), "/comprador/email", None);
        assert!(unprocessable_message(&no_email).contains("comprador.email"));
        let no_sale = edited(fixture!("approved"), "/venda/codigo", None);
        assert!(unprocessable_message(&no_sale).contains("venda.codigo"));
        let bad_json_field = "chave_unica=k&json=%7Bnope";
        assert!(
            matches!(parse(bad_json_field.as_bytes(), &parts()), Err(ParseError::InvalidJson(m)) if m.contains("`json`"))
        );
    }
}
