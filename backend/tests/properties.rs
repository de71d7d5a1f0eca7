//! Property tests (proptest) of the four source adapters, through their public `parse` and
//! `authenticate` functions, and one end-to-end property of the rules through the real HTTP ingest
//! against PostgreSQL.
//!
//! Adapters: any bytes, any JSON value, and every fixture with fields removed, retyped or replaced
//! by hostile strings (huge, NUL, unicode, markup) and numbers (1e400, -1, 1e20, ...): never a
//! panic, an answer of the right kind (not JSON → `InvalidJson`), deterministic, independent of the
//! JSON's formatting, error messages that never echo a whole input, and authentication that depends
//! on the credential only. Rules: for any interleaving of approvals, refunds, chargebacks and
//! duplicates of the same orders, access is never active after a refund or chargeback of the order,
//! and is active after an approval that nothing reversed.

mod common;

use actix_web::http::StatusCode;
use chrono::Utc;
use common::payloads::{order_event, Step};
use common::{TestDb, EDUZZ_SECRET, GENERIC_SECRET, HASHTAG_TOKEN, HOTTOK, KIWIFY_TOKEN, MONETIZZE_KEY};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use portaria::ingest::event::{AuthError, ParseError, Parsed, RequestParts, Source};
use portaria::ingest::sources::{eduzz, generic, hashtag, hotmart, kiwify, monetizze};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

const SOURCES: [Source; 6] = Source::ALL;

fn parse(source: Source, raw: &[u8], parts: &RequestParts) -> Result<Parsed, ParseError> {
    match source {
        Source::Hashtag => hashtag::parse(raw),
        Source::Hotmart => hotmart::parse(raw),
        Source::Kiwify => kiwify::parse(raw),
        Source::Generic => generic::parse(raw, parts),
        Source::Eduzz => eduzz::parse(raw),
        Source::Monetizze => monetizze::parse(raw, parts),
    }
}

fn authenticate(source: Source, raw: &[u8], parts: &RequestParts) -> Result<(), AuthError> {
    match source {
        Source::Hashtag => hashtag::authenticate(HASHTAG_TOKEN, parts),
        Source::Hotmart => hotmart::authenticate(HOTTOK, raw, parts),
        Source::Kiwify => kiwify::authenticate(KIWIFY_TOKEN, raw, parts),
        Source::Generic => generic::authenticate(GENERIC_SECRET, raw, parts, Utc::now()),
        Source::Eduzz => eduzz::authenticate(EDUZZ_SECRET, raw, parts),
        Source::Monetizze => monetizze::authenticate(MONETIZZE_KEY, raw, parts),
    }
}

// ---- what every answer of an adapter must look like ----------------------------------------------

/// The longest error message an adapter may give: provider values are echoed shortened.
const MAX_MESSAGE_CHARS: usize = 400;

fn is_json_object(raw: &[u8]) -> bool {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    serde_json::from_slice::<Value>(raw).is_ok_and(|v| v.is_object())
}

/// Checks one parse of `raw` by `source`: the kind of answer, its content, and that a second parse
/// says exactly the same (a redelivery must be recognised as such).
fn check_parse(source: Source, raw: &[u8], parts: &RequestParts) -> Result<Option<Parsed>, TestCaseError> {
    let result = parse(source, raw, parts);
    prop_assert_eq!(&result, &parse(source, raw, parts), "parsing is not deterministic");
    // Monetizze also posts forms (`venda[codigo]=...`): those are not JSON, yet postbacks.
    if !(is_json_object(raw) || (source == Source::Monetizze && monetizze::is_form_postback(raw))) {
        prop_assert!(matches!(result, Err(ParseError::InvalidJson(_))), "not a JSON object, yet {:?}", result);
    }
    match result {
        Err(ParseError::InvalidJson(m) | ParseError::Unprocessable(m)) => {
            prop_assert!(!m.trim().is_empty(), "an error without a message");
            prop_assert!(m.chars().count() <= MAX_MESSAGE_CHARS, "a {}-character error message", m.chars().count());
            Ok(None)
        }
        Ok(Parsed::Event(e)) => {
            prop_assert_eq!(e.source, source);
            prop_assert!(!e.dedup_key.is_empty(), "an event without a dedup key");
            let email = &e.customer.email;
            // no e-mail only for a customer sent with a document alone (matched by the ingest service)
            prop_assert!(email.contains('@') || e.customer.by_document_only(), "e-mail {:?}", email);
            prop_assert_eq!(email, &email.trim().to_lowercase(), "e-mail not normalised");
            let order = e.order.as_ref();
            prop_assert!(order.is_some_and(|o| !o.external_id.is_empty()), "an event without an order id");
            Ok(Some(Parsed::Event(e)))
        }
        Ok(Parsed::Ignored(i)) => {
            prop_assert!(!i.reason.as_str().is_empty(), "an ignored event without a reason");
            prop_assert!(i.dedup_key.as_ref().is_none_or(|k| !k.is_empty()), "an empty dedup key");
            Ok(Some(Parsed::Ignored(i)))
        }
    }
}

/// The same JSON, pretty-printed, means the same (the simulator's dedup key is a digest of the raw
/// body, so only that differs there).
fn check_formatting(source: Source, value: &Value, parsed: &Parsed) -> Result<(), TestCaseError> {
    let pretty = serde_json::to_string_pretty(value).unwrap();
    let again = parse(source, pretty.as_bytes(), &RequestParts::default());
    match (parsed, again) {
        (Parsed::Event(a), Ok(Parsed::Event(mut b))) => {
            if source == Source::Hashtag {
                b.dedup_key = a.dedup_key.clone();
            }
            prop_assert_eq!(a, &b, "the formatting changed the meaning");
        }
        (Parsed::Ignored(a), Ok(Parsed::Ignored(mut b))) => {
            // the simulator's key is the digest of the bytes (an unknown status is keyed the same way)
            if source == Source::Hashtag {
                b.dedup_key = a.dedup_key.clone();
            }
            prop_assert_eq!(a, &b)
        }
        (a, b) => prop_assert!(false, "compact {:?} but pretty {:?}", a, b),
    }
    Ok(())
}

// ---- generators ------------------------------------------------------------------------------

/// Field names the adapters look for, so that random objects reach past the first check.
const KEYS: &[&str] = &[
    "event",
    "data",
    "purchase",
    "transaction",
    "buyer",
    "email",
    "status",
    "nome",
    "valor",
    "parcelas",
    "forma_pagamento",
    "webhook_event_type",
    "order_id",
    "Customer",
    "Product",
    "Commissions",
    "charge_amount",
    "type",
    "customer",
    "order",
    "id",
    "amount_cents",
    "product",
    "product_id",
    "price",
    "value",
    "payment",
    "installments",
    "occurred_at",
    "access_until",
    "creation_date",
    "subscription",
    "recurrence_number",
    "date_next_charge",
    "approved_date",
    "refunded_at",
    "name",
    "ucode",
    "currency",
    "items",
    "productId",
    "contract",
    "sentDate",
    "chave_unica",
    "json",
    "tipoEvento",
    "codigo",
    "venda",
    "comprador",
    "produto",
    "assinatura",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        1 => Just("x".repeat(100_000)),
        1 => Just("\u{0}".into()),
        1 => Just("a\u{0}b@example.com".into()),
        1 => Just(String::new()),
        1 => Just(" \t\n".into()),
        1 => Just("Joã\u{301}o 😀 \u{202e}\u{feff}\u{fffd}".into()),
        1 => Just(format!("{}@example.com", "a".repeat(5_000))),
        1 => Just("<script>alert(1)</script>".into()),
        1 => Just("'; DROP TABLE customers; --".into()),
        1 => Just("9999999999999999999999".into()),
        1 => Just("1e400".into()),
        1 => Just("-1".into()),
        1 => Just("NaN".into()),
        1 => Just("2026-13-45T25:61:61Z".into()),
        1 => prop::sample::select(KEYS).prop_map(str::to_string),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        hostile_string().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_string), 1 => "[a-zA-Z_]{1,12}"], inner),
                0..8
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Numbers that JSON can write but an f64 or i64 cannot hold, or that mean nonsense here.
const RAW_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "-1",
    "-0",
    "0",
    "1e20",
    "-1e20",
    "18446744073709551616",
    "-9223372036854775809",
    "0.000000001",
    "297.999999999999999999",
    "1E+2",
];

#[derive(Debug, Clone)]
enum Mutation {
    Remove(Index),
    Replace(Index, Value),
    RawNumber(Index, &'static str),
    /// Every string of the document replaced by this one.
    AllStrings(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Remove),
        3 => (any::<Index>(), json_leaf()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => (any::<Index>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<Index>(), prop::sample::select(RAW_NUMBERS)).prop_map(|(i, n)| Mutation::RawNumber(i, n)),
        1 => hostile_string().prop_map(Mutation::AllStrings),
    ]
}

/// JSON pointers of every value under the root.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn replace_strings(value: &mut Value, with: &str) {
    match value {
        Value::String(s) => *s = with.to_string(),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_strings(v, with)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_strings(v, with)),
        _ => {}
    }
}

const RAW_SENTINEL: &str = "\u{1}raw-number\u{1}";

/// Applies the mutations; returns the body to send and, when it is plain JSON (no raw number
/// spliced in), the value.
fn mutate(fixture: &Value, mutations: &[Mutation]) -> (String, Option<Value>) {
    let mut doc = fixture.clone();
    let mut raw_numbers = vec![];
    for m in mutations {
        let mut all = vec![];
        pointers(&doc, String::new(), &mut all);
        if all.is_empty() {
            continue;
        }
        match m {
            Mutation::Remove(i) => {
                let p = i.get(&all);
                let (parent, key) = p.rsplit_once('/').unwrap();
                match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        let idx: usize = key.parse().unwrap();
                        if idx < items.len() {
                            items.remove(idx);
                        }
                    }
                    _ => {}
                }
            }
            Mutation::Replace(i, v) => *doc.pointer_mut(i.get(&all).as_str()).unwrap() = v.clone(),
            Mutation::RawNumber(i, n) => {
                *doc.pointer_mut(i.get(&all).as_str()).unwrap() = Value::String(RAW_SENTINEL.into());
                raw_numbers.push(*n);
            }
            Mutation::AllStrings(s) => replace_strings(&mut doc, s),
        }
    }
    let mut text = doc.to_string();
    let quoted = serde_json::to_string(RAW_SENTINEL).unwrap();
    if raw_numbers.is_empty() || !text.contains(&quoted) {
        return (text, Some(doc));
    }
    for n in raw_numbers {
        text = text.replacen(&quoted, n, 1);
    }
    (text, None)
}

/// Every fixture of every source, parsed (the simulator's sample list split into its bodies).
fn fixtures() -> &'static HashMap<Source, Vec<Value>> {
    static ALL: OnceLock<HashMap<Source, Vec<Value>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        SOURCES
            .iter()
            .map(|&source| {
                let mut files: Vec<_> = std::fs::read_dir(dir.join(source.as_str()))
                    .expect("fixtures dir")
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect();
                files.sort();
                let mut bodies = vec![];
                for f in files {
                    match serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap() {
                        Value::Array(items) => bodies.extend(items),
                        body => bodies.push(body),
                    }
                }
                assert!(!bodies.is_empty(), "no fixtures for {source:?}");
                (source, bodies)
            })
            .collect()
    })
}

fn any_source() -> impl Strategy<Value = Source> {
    prop::sample::select(SOURCES.to_vec())
}

fn any_parts() -> impl Strategy<Value = RequestParts> {
    let header = prop_oneof![
        Just("webhook-id"),
        Just("webhook-timestamp"),
        Just("webhook-signature"),
        Just("x-hotmart-hottok"),
        Just("x-webhook-token"),
        Just("x-signature")
    ];
    let query = prop_oneof![Just("token"), Just("signature"), Just("hottok")];
    (
        prop::collection::vec((header.prop_map(str::to_string), hostile_string()), 0..4),
        prop::collection::vec((query.prop_map(str::to_string), hostile_string()), 0..3),
    )
        .prop_map(|(headers, query)| RequestParts {
            headers: headers.into_iter().collect(),
            query: query.into_iter().collect(),
        })
}

/// `make soak` (PORTARIA_SOAK=1) runs twenty times as many cases.
fn soak_factor() -> u32 {
    if std::env::var("PORTARIA_SOAK").is_ok_and(|v| !v.is_empty() && v != "0") {
        20
    } else {
        1
    }
}

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its minimal input; there is no lib.rs next to tests/ to keep regressions by.
    ProptestConfig { cases: cases * soak_factor(), failure_persistence: None, ..ProptestConfig::default() }
}

// ---- the adapter properties ----------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes at all, with any headers and query: no panic, and not JSON means `InvalidJson`.
    #[test]
    fn any_bytes_never_panic(source in any_source(), raw in prop::collection::vec(any::<u8>(), 0..600), parts in any_parts()) {
        check_parse(source, &raw, &parts)?;
        check_parse(source, &raw, &RequestParts::default())?;
        let _ = authenticate(source, &raw, &parts);
    }

    /// Any JSON value (objects with the adapters' own field names, deeply nested, hostile strings).
    #[test]
    fn any_json_never_panics(source in any_source(), value in json_value()) {
        let raw = value.to_string();
        if let Some(parsed) = check_parse(source, raw.as_bytes(), &RequestParts::default())? {
            check_formatting(source, &value, &parsed)?;
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Each fixture with one to four fields removed, retyped, replaced by hostile strings or by
    /// numbers out of range: no panic, a well-formed answer, and formatting does not matter.
    #[test]
    fn mutated_fixtures_never_panic(
        source in any_source(),
        pick in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let fixture = pick.get(&fixtures()[&source]);
        let (raw, value) = mutate(fixture, &mutations);
        let parsed = check_parse(source, raw.as_bytes(), &RequestParts::default())?;
        if let (Some(parsed), Some(value)) = (parsed, value) {
            check_formatting(source, &value, &parsed)?;
        }
    }
}

/// 10,000-deep nestings and a 1 MB e-mail: no stack overflow, no panic, a well-formed answer.
#[test]
fn deep_and_huge_bodies_never_panic() {
    let mut bodies = vec![];
    for depth in [127, 128, 129, 1_000, 10_000] {
        bodies.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        bodies.push(format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
        bodies.push(format!("{{\"email\":{}\"a@b.co\"{}}}", "[".repeat(depth), "]".repeat(depth)));
    }
    bodies.push(format!("{{\"email\":\"{}@example.com\",\"status\":\"aprovado\",\"valor\":1}}", "a".repeat(1 << 20)));
    for source in SOURCES {
        for body in &bodies {
            if let Err(e) = check_parse(source, body.as_bytes(), &RequestParts::default()) {
                panic!("{source:?}, a body of {} bytes: {e}", body.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Authentication looks at the credential only: over any bytes, the right one passes, a wrong
    /// one is `Invalid`, none is `Missing`.
    #[test]
    fn authentication_depends_on_the_credential_only(
        raw in prop::collection::vec(any::<u8>(), 0..600),
        wrong in "[a-zA-Z0-9_-]{1,40}",
    ) {
        let parts = |headers: &[(&str, String)], query: &[(&str, String)]| RequestParts {
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        };
        let now = Utc::now().timestamp();
        let generic_ok = |raw: &[u8]| {
            let sig = generic::sign(GENERIC_SECRET, "msg_1", now, raw).unwrap();
            parts(&[("webhook-id", "msg_1".into()), ("webhook-timestamp", now.to_string()), ("webhook-signature", sig)], &[])
        };
        let right: [(Source, RequestParts); 5] = [
            (Source::Hashtag, parts(&[], &[("token", HASHTAG_TOKEN.into())])),
            (Source::Hotmart, parts(&[("x-hotmart-hottok", HOTTOK.into())], &[])),
            (Source::Kiwify, parts(&[], &[("signature", kiwify::sign(KIWIFY_TOKEN, &raw))])),
            (Source::Generic, generic_ok(&raw)),
            (Source::Eduzz, parts(&[("x-signature", eduzz::sign(EDUZZ_SECRET, &raw))], &[])),
        ];
        for (source, p) in &right {
            prop_assert_eq!(authenticate(*source, &raw, p), Ok(()), "{:?}", source);
        }
        if wrong == HASHTAG_TOKEN || wrong == HOTTOK || wrong == EDUZZ_SECRET {
            return Ok(());
        }
        let wrong_sig = generic::sign(GENERIC_SECRET, "msg_1", now, wrong.as_bytes()).unwrap();
        let wrong_parts: [(Source, RequestParts); 5] = [
            (Source::Hashtag, parts(&[], &[("token", wrong.clone())])),
            (Source::Hotmart, parts(&[("x-hotmart-hottok", wrong.clone())], &[])),
            (Source::Kiwify, parts(&[], &[("signature", kiwify::sign(&wrong, &raw))])),
            (Source::Generic, parts(&[("webhook-id", "msg_1".into()), ("webhook-timestamp", now.to_string()), ("webhook-signature", wrong_sig)], &[])),
            (Source::Eduzz, parts(&[("x-signature", eduzz::sign(&wrong, &raw))], &[])),
        ];
        for (source, p) in &wrong_parts {
            if *source == Source::Generic && raw == wrong.as_bytes() {
                continue;
            }
            prop_assert!(matches!(authenticate(*source, &raw, p), Err(AuthError::Invalid(_))), "{:?}", source);
        }
        // No credential at all (Hotmart would also read a `hottok` field of a JSON body). Monetizze's
        // key is in the body only: its tests are in tests/sources.rs and the adapter's unit tests.
        for source in SOURCES.into_iter().filter(|s| *s != Source::Hotmart || serde_json::from_slice::<Value>(&raw).is_err()) {
            prop_assert!(matches!(authenticate(source, &raw, &RequestParts::default()), Err(AuthError::Missing(_))), "{:?}", source);
        }
    }
}

// ---- the rules, end to end -------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Kind {
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Whether the customer with `email` has access to any course right now.
fn access_active(conn: &mut PgConnection, email: &str) -> bool {
    diesel::sql_query(
        "SELECT count(*) AS n FROM enrollments e JOIN customers c ON c.id = e.customer_id \
         WHERE c.email = $1 AND e.status = 'active' AND (e.expires_at IS NULL OR e.expires_at > now())",
    )
    .bind::<Text, _>(email)
    .get_result::<Count>(conn)
    .unwrap()
    .n > 0
}

/// The last access action queued for the customer (`grant_access` or `revoke_access`), if any.
fn last_access_action(conn: &mut PgConnection, email: &str) -> Option<String> {
    diesel::sql_query(
        "SELECT t.kind FROM treatments t JOIN customers c ON c.id = t.customer_id \
         WHERE c.email = $1 AND t.kind IN ('grant_access', 'revoke_access') ORDER BY t.id DESC LIMIT 1",
    )
    .bind::<Text, _>(email)
    .get_result::<Kind>(conn)
    .optional()
    .unwrap()
    .map(|k| k.kind)
}

/// One order of the case: its source and how many times each event is delivered.
#[derive(Debug, Clone)]
struct OrderPlan {
    source: &'static str,
    approved: usize,
    refunded: usize,
    chargeback: usize,
}

fn order_plan() -> impl Strategy<Value = OrderPlan> {
    (prop::sample::select(vec!["hotmart", "kiwify"]), 1..=2usize, 0..=2usize, 0..=2usize)
        .prop_map(|(source, approved, refunded, chargeback)| OrderPlan { source, approved, refunded, chargeback })
}

/// Orders and one interleaving of all their deliveries (copies are redeliveries).
fn case() -> impl Strategy<Value = (Vec<OrderPlan>, Vec<(usize, Step)>)> {
    prop::collection::vec(order_plan(), 1..=3).prop_flat_map(|orders| {
        let mut deliveries = vec![];
        for (i, o) in orders.iter().enumerate() {
            deliveries.extend(std::iter::repeat_n((i, Step::Approved), o.approved));
            deliveries.extend(std::iter::repeat_n((i, Step::Refunded), o.refunded));
            deliveries.extend(std::iter::repeat_n((i, Step::Chargeback), o.chargeback));
        }
        (Just(orders), Just(deliveries).prop_shuffle())
    })
}

/// Whatever the order of arrival of approvals, refunds, chargebacks and their redeliveries (Hotmart
/// and Kiwify, which carry order ids), access is never active once a refund or chargeback of the
/// order was accepted, and is active after an accepted approval that nothing reversed.
#[test]
fn access_is_never_active_after_a_refund_or_chargeback_of_the_same_order() {
    static CASE: AtomicU64 = AtomicU64::new(0);
    let db = TestDb::new();
    let state = db.state();
    let run: u32 = rand::random();
    let mut runner =
        TestRunner::new(Config { cases: 24 * soak_factor(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&case(), |(orders, deliveries)| {
        let case = CASE.fetch_add(1, Ordering::SeqCst);
        let ids: Vec<(String, String)> = (0..orders.len())
            .map(|i| (format!("PROP{run:08X}C{case}O{i}"), format!("prop{run:08x}.c{case}.o{i}@example.com")))
            .collect();
        let state = state.clone();
        let mut conn = db.conn();
        actix_web::rt::System::new().block_on(async move {
            let app = app!(state);
            let mut reversed = vec![false; orders.len()];
            let mut approved = vec![false; orders.len()];
            for (step_no, (i, step)) in deliveries.iter().enumerate() {
                let (order_id, email) = &ids[*i];
                let body =
                    order_event(orders[*i].source, *step, order_id, email).expect("hotmart and kiwify have every step");
                let res =
                    actix_web::test::call_service(&app, common::webhook(orders[*i].source, &body).to_request()).await;
                prop_assert_eq!(res.status(), StatusCode::OK, "delivery {} ({:?} of order {})", step_no, step, i);
                if step.reverses() {
                    reversed[*i] = true;
                } else {
                    approved[*i] = true;
                }
                for (j, (_, email)) in ids.iter().enumerate() {
                    let active = access_active(&mut conn, email);
                    let last = last_access_action(&mut conn, email);
                    if reversed[j] {
                        prop_assert!(
                            !active,
                            "order {} was reversed, yet access is active (after delivery {})",
                            j,
                            step_no
                        );
                        prop_assert!(
                            last.as_deref() != Some("grant_access"),
                            "order {}: the last access action is a grant",
                            j
                        );
                    } else if approved[j] {
                        prop_assert!(active, "order {} was approved and never reversed, yet access is off", j);
                        prop_assert_eq!(last.as_deref(), Some("grant_access"), "order {}", j);
                    } else {
                        prop_assert!(!active && last.is_none(), "order {} has seen nothing, yet has access", j);
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// One simulator delivery: approved or refunded, with the random amount, installments and method the
/// public simulator sends.
fn simulator_delivery() -> impl Strategy<Value = (bool, u32, u8, &'static str)> {
    (
        prop::bool::weighted(0.6),
        1..200_000u32,
        1..=12u8,
        prop::sample::select(vec!["pix", "boleto", "cartao_credito", "Cartão de Crédito"]),
    )
}

/// The seed's rule, customer-level: after a simulator refund the customer has no access, whatever the
/// amounts of the approvals and refunds and in any order; after an approval the customer has access.
#[test]
fn simulator_refunds_take_the_customers_access_whatever_the_amounts() {
    static CASE: AtomicU64 = AtomicU64::new(0);
    let db = TestDb::new();
    let state = db.state();
    let run: u32 = rand::random();
    let mut runner =
        TestRunner::new(Config { cases: 24 * soak_factor(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&prop::collection::vec(simulator_delivery(), 1..8), |deliveries| {
        let case = CASE.fetch_add(1, Ordering::SeqCst);
        let email = format!("Sim{run:08x}.C{case}@Example.com");
        let state = state.clone();
        let mut conn = db.conn();
        actix_web::rt::System::new().block_on(async move {
            let app = app!(state);
            for (n, (approve, cents, installments, method)) in deliveries.iter().enumerate() {
                let body = serde_json::json!({
                    "nome": "Cliente Simulado",
                    "email": email,
                    "status": if *approve { "aprovado" } else { "reembolsado" },
                    // distinct purchases (an identical approval of a refunded purchase grants nothing)
                    "valor": f64::from(*cents + 200_000 * n as u32) / 100.0,
                    "forma_pagamento": method,
                    "parcelas": installments,
                    "n": n,
                })
                .to_string();
                let res = actix_web::test::call_service(&app, common::webhook("hashtag", &body).to_request()).await;
                prop_assert_eq!(res.status(), StatusCode::OK, "delivery {}", n);
                let active = access_active(&mut conn, &email.to_lowercase());
                if *approve {
                    prop_assert!(active, "after approval {}, access is on", n);
                } else {
                    prop_assert!(!active, "after refund {}, access is off", n);
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
