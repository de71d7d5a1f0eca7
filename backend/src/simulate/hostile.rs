//! The hostile corpus (the cases of backend/tests/hostile.rs, plus missing and wrong credentials):
//! authenticated bodies that no adapter can accept, each with the 4xx it must get. Every one is
//! recorded by the server; none may yield a 5xx, and none creates a customer.

use super::data::{Faker, Person};
use super::payloads::{self, Event, Field, Step};
use super::{Auth, Draft, Expect};
use crate::ingest::event::Source;
use crate::ingest::process::Outcome;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

pub(super) fn corpus(
    faker: &mut Faker,
    source: Source,
    person: &Person,
    sequence: usize,
    at: DateTime<Utc>,
) -> Vec<Draft> {
    let product = faker.product(false);
    let purchase = faker.purchase(product);
    let created = at - Duration::minutes(faker.between(10, 600));
    let event = Event {
        step: Step::Approved,
        person,
        purchase: &purchase,
        at: created + Duration::minutes(2),
        created,
        envelope: faker.uuid(),
        subscription: None,
    };
    let valid = payloads::build(source, &event);
    let valid_text = String::from_utf8(payloads::encode(source, &valid)).expect("UTF-8 JSON");
    let with = |field: Field, value: Value| {
        let mut body = valid.clone();
        if let Some(slot) = body.pointer_mut(payloads::pointer(source, field)) {
            *slot = value;
        }
        payloads::encode(source, &body)
    };
    let (bad, unprocessable) = (400u16, 422u16);
    let mut cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty body", vec![], bad),
        ("whitespace", b" \r\n\t ".to_vec(), bad),
        ("invalid UTF-8", b"{\"a\":\"\xff\xfe\"}".to_vec(), bad),
        ("raw NUL", b"\x00".to_vec(), bad),
        ("NUL inside the JSON", valid_text.replacen('{', "{\"x\":\"\x00\",", 1).into_bytes(), bad),
        ("lone surrogate", valid_text.replacen('{', r#"{"x":"\ud800","#, 1).into_bytes(), bad),
        ("10,000-deep nesting", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), bad),
        ("1e400", valid_text.replacen('{', r#"{"x":1e400,"#, 1).into_bytes(), bad),
        ("array at the top", b"[1,2,3]".to_vec(), bad),
        ("string at the top", b"\"aprovado\"".to_vec(), bad),
        ("null at the top", b"null".to_vec(), bad),
        ("number at the top", b"42".to_vec(), bad),
        ("duplicate keys", valid_text.replacen('{', r#"{"dup":1,"dup":2,"#, 1).into_bytes(), bad),
        ("form body", b"nome=Fulano&email=fulano%40email.com&status=aprovado".to_vec(), bad),
        ("truncated JSON", valid_text.as_bytes()[..valid_text.len() / 2].to_vec(), bad),
        ("\\u0000 in the e-mail", with(Field::Email, json!("a\u{0}b@email.com")), unprocessable),
        ("\\u0000 in the name", with(Field::Name, json!("Fulano\u{0}")), unprocessable),
        ("e-mail of 5,000 characters", with(Field::Email, json!(format!("{}@x.com", "a".repeat(5000)))), unprocessable),
        ("e-mail without a domain", with(Field::Email, json!("fulano@")), unprocessable),
        ("e-mail as a number", with(Field::Email, json!(12345)), unprocessable),
        ("e-mail as an object", with(Field::Email, json!({"a": 1})), unprocessable),
        ("name of 100,000 characters", with(Field::Name, json!("x".repeat(100_000))), unprocessable),
        ("negative amount", with(Field::Amount, json!(-297)), unprocessable),
        ("absurd amount", with(Field::Amount, json!(1e20)), unprocessable),
        ("installments 1e20", with(Field::Installments, json!(1e20)), unprocessable),
        ("installments 0", with(Field::Installments, json!(0)), unprocessable),
        ("installments as text", with(Field::Installments, json!("muitas")), unprocessable),
    ];
    if source == Source::Hashtag {
        let mut body = valid.clone();
        body["status"] = json!(["aprovado"]);
        cases.push(("status as an array", payloads::encode(source, &body), unprocessable));
    }
    let mut drafts: Vec<Draft> = cases
        .into_iter()
        .map(|(name, body, status)| Draft {
            sequence,
            customer: None,
            label: format!("hostile #{sequence}: {name}"),
            body,
            message_id: format!("msg_{}", faker.hex(24)),
            auth: Auth::Valid,
            expect: match status {
                // Monetizze's key travels inside the postback: a body that is not one carries none.
                400 if source == Source::Monetizze => {
                    Expect { status: 401, outcome: Outcome::Unauthorized, treatments: vec![] }
                }
                400 => Expect { status, outcome: Outcome::InvalidJson, treatments: vec![] },
                _ => Expect { status, outcome: Outcome::Unprocessable, treatments: vec![] },
            },
        })
        .collect();
    let valid_bytes = valid_text.into_bytes();
    for (name, auth) in [("no credentials", Auth::Missing), ("wrong credentials", Auth::Wrong)] {
        drafts.push(Draft {
            sequence,
            customer: None,
            label: format!("hostile #{sequence}: {name}"),
            body: valid_bytes.clone(),
            message_id: format!("msg_{}", faker.hex(24)),
            auth,
            expect: Expect { status: 401, outcome: Outcome::Unauthorized, treatments: vec![] },
        });
    }
    drafts
}
