//! Helpers shared by the adapters' unit tests.

use crate::ingest::event::{IgnoredEvent, ParseError, Parsed, PaymentEvent};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

pub fn expect_event(parsed: Result<Parsed, ParseError>) -> PaymentEvent {
    match parsed {
        Ok(Parsed::Event(event)) => *event,
        other => panic!("expected an event, got {other:?}"),
    }
}

pub fn expect_ignored(parsed: Result<Parsed, ParseError>) -> IgnoredEvent {
    match parsed {
        Ok(Parsed::Ignored(event)) => event,
        other => panic!("expected an ignored event, got {other:?}"),
    }
}

pub fn expect_unprocessable(parsed: Result<Parsed, ParseError>) -> String {
    match parsed {
        Err(ParseError::Unprocessable(message)) => message,
        other => panic!("expected unprocessable, got {other:?}"),
    }
}

/// A JSON body with one JSON pointer replaced (or removed when `value` is `None`).
pub fn edited(raw: &str, pointer: &str, value: Option<Value>) -> String {
    let mut body: Value = serde_json::from_str(raw).unwrap();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let object = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    match value {
        Some(value) => object.insert(key.to_string(), value),
        None => object.remove(key),
    };
    body.to_string()
}

/// `event`, `ignored_event` and `unprocessable_message` over an adapter's `parse(&[u8])`: the body
/// parsed into what the test expects (panicking with what it got otherwise).
macro_rules! parse_helpers {
    ($parse:path) => {
        fn event(raw: &str) -> PaymentEvent {
            expect_event($parse(raw.as_bytes()))
        }

        fn ignored_event(raw: &str) -> crate::ingest::event::IgnoredEvent {
            expect_ignored($parse(raw.as_bytes()))
        }

        fn unprocessable_message(raw: &str) -> String {
            expect_unprocessable($parse(raw.as_bytes()))
        }
    };
}
pub(crate) use parse_helpers;
