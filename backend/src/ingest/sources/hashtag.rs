//! The course-checkout simulator of the original spec: flat JSON
//! `{nome, email, status, valor, forma_pagamento, parcelas}`, authenticated by a shared token.

use super::common::{
    at, installments, lower_text, money_strict, normalize_name, parse_json_object, require_email, require_text,
    secret_matches, sha256_hex, shorten, unprocessable,
};
use crate::ingest::event::{
    AuthError, CustomerInfo, EventKind, OrderInfo, ParseError, Parsed, PaymentDetails, PaymentEvent, RequestParts,
    Source,
};

pub const TOKEN_QUERY: &str = "token";
pub const TOKEN_HEADER: &str = "x-webhook-token";

/// The token may come as `?token=` or as the `X-Webhook-Token` header; exact, case-sensitive match.
pub fn authenticate(secret: &str, parts: &RequestParts) -> Result<(), AuthError> {
    let presented: Vec<&str> = [parts.query(TOKEN_QUERY), parts.header(TOKEN_HEADER)]
        .into_iter()
        .flatten()
        .filter(|t| !t.is_empty())
        .collect();
    if presented.is_empty() {
        return Err(AuthError::Missing(
            "no webhook token: send it as `?token=` or the `X-Webhook-Token` header".into(),
        ));
    }
    if presented.iter().any(|token| secret_matches(secret, token)) {
        Ok(())
    } else {
        Err(AuthError::Invalid("the webhook token does not match".into()))
    }
}

pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    let body = parse_json_object(raw)?;
    let status = require_text(at(&body, &["status"]), "status")?;
    let kind = status_kind(&status)?;
    let email = require_email(at(&body, &["email"]), "email")?;
    let order = order(&body, &email)?;
    Ok(Parsed::Event(Box::new(PaymentEvent {
        source: Source::Hashtag,
        dedup_key: sha256_hex(raw),
        event_type: status,
        kind,
        occurred_at: None,
        customer: CustomerInfo { email, name: normalize_name(at(&body, &["nome"])), document: None, phone: None },
        order: Some(order),
        product: None,
        payment: PaymentDetails::default(),
        access_until: None,
    })))
}

fn status_kind(status: &str) -> Result<EventKind, ParseError> {
    match status.trim().to_lowercase().as_str() {
        "aprovado" => Ok(EventKind::Approved),
        "recusado" => Ok(EventKind::Refused),
        "reembolsado" => Ok(EventKind::Refunded),
        _ => Err(unprocessable(format!(
            "unknown `status` value `{}`: expected aprovado, recusado or reembolsado",
            shorten(status)
        ))),
    }
}

fn order(body: &serde_json::Value, email: &str) -> Result<OrderInfo, ParseError> {
    let amount_cents = money_strict(at(body, &["valor"]), "valor")?;
    let payment_method = lower_text(at(body, &["forma_pagamento"]));
    let installments = installments(at(body, &["parcelas"]), "parcelas")?;
    Ok(OrderInfo {
        external_id: order_id(email, amount_cents, payment_method.as_deref(), installments),
        amount_cents,
        currency: Some("BRL".into()),
        payment_method,
        installments,
        coupon: None,
    })
}

/// The simulator sends no order id. The approval and the later refund of one purchase carry the same
/// e-mail, amount, method and installments, so a digest of those stands in for it.
pub fn order_id(
    email: &str,
    amount_cents: Option<i64>,
    payment_method: Option<&str>,
    installments: Option<i32>,
) -> String {
    let amount = amount_cents.map(|c| c.to_string()).unwrap_or_default();
    let installments = installments.map(|n| n.to_string()).unwrap_or_default();
    let material = format!("{email}|{amount}|{}|{installments}", payment_method.unwrap_or_default());
    let digest = sha256_hex(material.as_bytes());
    format!("hs_{}", &digest[..24])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sources::test_support::*;
    use serde_json::Value;

    const APPROVED: &str = include_str!("../../../tests/fixtures/hashtag/approved.json");
    const REFUNDED: &str = include_str!("../../../tests/fixtures/hashtag/refunded.json");
    const REFUSED: &str = include_str!("../../../tests/fixtures/hashtag/refused.json");
    const SIMULATOR_20: &str = include_str!("../../../tests/fixtures/hashtag/simulator-20.json");

    fn event(raw: &[u8]) -> PaymentEvent {
        expect_event(parse(raw))
    }

    fn unprocessable_message(raw: &str) -> String {
        expect_unprocessable(parse(raw.as_bytes()))
    }

    fn parts(query: &[(&str, &str)], headers: &[(&str, &str)]) -> RequestParts {
        RequestParts {
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn approved_fixture() {
        let e = event(APPROVED.as_bytes());
        assert_eq!(e.source, Source::Hashtag);
        assert_eq!(e.kind, EventKind::Approved);
        assert_eq!(e.event_type, "aprovado");
        assert_eq!(e.dedup_key, sha256_hex(APPROVED.as_bytes()));
        assert_eq!(e.customer.email, "beatriz.teste@example.com");
        assert_eq!(e.customer.name.as_deref(), Some("Beatriz Teste Gonçalves"));
        let order = e.order.unwrap();
        assert_eq!(order.amount_cents, Some(29700));
        assert_eq!(order.currency.as_deref(), Some("BRL"));
        assert_eq!(order.payment_method.as_deref(), Some("cartao_credito"));
        assert_eq!(order.installments, Some(3));
        assert!(order.external_id.starts_with("hs_") && order.external_id.len() == 27);
        assert_eq!(e.product, None);
    }

    #[test]
    fn refund_shares_the_order_of_the_approval_but_not_the_dedup_key() {
        let approved = event(APPROVED.as_bytes());
        let refunded = event(REFUNDED.as_bytes());
        assert_eq!(refunded.kind, EventKind::Refunded);
        assert_eq!(approved.order.unwrap().external_id, refunded.order.unwrap().external_id);
        assert_ne!(approved.dedup_key, refunded.dedup_key);
    }

    #[test]
    fn refused_fixture() {
        let e = event(REFUSED.as_bytes());
        assert_eq!(e.kind, EventKind::Refused);
        assert_eq!(e.order.unwrap().payment_method.as_deref(), Some("boleto"));
    }

    #[test]
    fn all_twenty_simulator_bodies() {
        let bodies: Vec<Value> = serde_json::from_str(SIMULATOR_20).unwrap();
        assert_eq!(bodies.len(), 20);
        let mut keys = std::collections::HashSet::new();
        for body in &bodies {
            let raw = serde_json::to_vec(body).unwrap();
            let e = event(&raw);
            let expected_kind = match body["status"].as_str().unwrap() {
                "aprovado" => EventKind::Approved,
                "recusado" => EventKind::Refused,
                "reembolsado" => EventKind::Refunded,
                other => panic!("unexpected status {other}"),
            };
            assert_eq!(e.kind, expected_kind);
            assert_eq!(e.customer.email, body["email"].as_str().unwrap().to_lowercase());
            assert_eq!(e.customer.name.as_deref(), body["nome"].as_str());
            let order = e.order.unwrap();
            assert_eq!(order.amount_cents, Some(body["valor"].as_i64().unwrap() * 100));
            assert_eq!(order.installments, Some(body["parcelas"].as_i64().unwrap() as i32));
            assert!(keys.insert(e.dedup_key));
        }
    }

    #[test]
    fn status_spellings_and_valor_forms() {
        let raw = |status: &str, valor: &str| {
            format!(
                r#"{{"nome":"Íris Araújo","email":" Iris.Araujo46@Example.COM ","status":"{status}","valor":{valor},"forma_pagamento":"PIX"}}"#
            )
        };
        assert_eq!(event(raw(" APROVADO ", "297").as_bytes()).kind, EventKind::Approved);
        assert_eq!(event(raw("Reembolsado", "297").as_bytes()).event_type, "Reembolsado");
        for (valor, cents) in
            [("297", 29700), ("197.5", 19750), (r#""197.00""#, 19700), (r#""1.234,56""#, 123456), (r#""197,5""#, 19750)]
        {
            let e = event(raw("aprovado", valor).as_bytes());
            assert_eq!(e.order.as_ref().unwrap().amount_cents, Some(cents), "{valor}");
            assert_eq!(e.customer.email, "iris.araujo46@example.com");
            assert_eq!(e.order.unwrap().payment_method.as_deref(), Some("pix"));
        }
    }

    #[test]
    fn parcelas_may_be_missing_null_or_text_and_are_bounded() {
        let base = r#""nome":"A","email":"a@example.com","status":"aprovado","valor":10"#;
        let installments = |extra: &str| event(format!("{{{base}{extra}}}").as_bytes()).order.unwrap().installments;
        assert_eq!(installments(""), None);
        assert_eq!(installments(r#","parcelas":null"#), None);
        assert_eq!(installments(r#","parcelas":"4""#), Some(4));
        for bad in [r#","parcelas":"várias""#, r#","parcelas":0"#, r#","parcelas":1e20"#, r#","parcelas":-2"#] {
            let message = unprocessable_message(&format!("{{{base}{bad}}}"));
            assert!(message.contains("`parcelas`"), "{message}");
        }
    }

    #[test]
    fn order_id_ignores_status_and_name_but_not_the_purchase() {
        let a = order_id("a@example.com", Some(100), Some("pix"), Some(1));
        assert_eq!(a, order_id("a@example.com", Some(100), Some("pix"), Some(1)));
        assert_ne!(a, order_id("a@example.com", Some(101), Some("pix"), Some(1)));
        assert_ne!(a, order_id("a@example.com", Some(100), Some("pix"), Some(2)));
        assert_eq!(order_id("a@example.com", None, None, None).len(), 27);
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse(b"status=aprovado"), Err(ParseError::InvalidJson(_))));
        assert!(matches!(parse(br#"[{"status":"aprovado"}]"#), Err(ParseError::InvalidJson(_))));
        assert!(unprocessable_message(r#"{"status":"aprovado","valor":1}"#).contains("`email`"));
        assert!(unprocessable_message(r#"{"email":"a@example.com"}"#).contains("`status`"));
        assert!(unprocessable_message(r#"{"email":"a@example.com","status":"pendente"}"#).contains("pendente"));
        assert!(unprocessable_message(r#"{"email":"sem-arroba","status":"aprovado"}"#).contains("`email`"));
        assert!(unprocessable_message(r#"{"email":"a@example.com","status":"aprovado","valor":"muito"}"#)
            .contains("`valor`"));
    }

    #[test]
    fn token_in_query_or_header() {
        let secret = "tok-Secret-1";
        assert_eq!(authenticate(secret, &parts(&[("token", "tok-Secret-1")], &[])), Ok(()));
        assert_eq!(authenticate(secret, &parts(&[], &[("x-webhook-token", "tok-Secret-1")])), Ok(()));
        assert_eq!(authenticate(secret, &parts(&[("token", "wrong")], &[("x-webhook-token", "tok-Secret-1")])), Ok(()));
        assert!(matches!(authenticate(secret, &parts(&[], &[])), Err(AuthError::Missing(_))));
        assert!(matches!(authenticate(secret, &parts(&[("token", "")], &[])), Err(AuthError::Missing(_))));
        for wrong in ["tok-secret-1", "tok-Secret-1 ", "tok-Secret", "x"] {
            match authenticate(secret, &parts(&[("token", wrong)], &[])) {
                Err(AuthError::Invalid(message)) => assert!(!message.contains(secret)),
                other => panic!("{wrong}: {other:?}"),
            }
        }
        assert!(matches!(
            authenticate("", &parts(&[("token", "")], &[("x-webhook-token", "a")])),
            Err(AuthError::Invalid(_))
        ));
    }
}
