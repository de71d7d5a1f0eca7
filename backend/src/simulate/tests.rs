//! Pure checks of the plans: determinism, and every delivery authenticated and parsed by the very
//! adapter the server runs, with the answer the plan expects. The HTTP round trip, the database and
//! the treatments per customer are in backend/tests/simulate.rs.

use super::*;
use crate::ingest::event::{AuthError, ParseError, Parsed, RequestParts};
use std::collections::HashSet;

fn secrets() -> SourceSecrets {
    SourceSecrets {
        hashtag: Some("tok-Secret &1".into()),
        hotmart: Some("hottok-test".into()),
        kiwify: Some("kiwify-token".into()),
        generic: Some("whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ=".into()),
        eduzz: Some("eduzz-secret".into()),
        monetizze: Some("monetizze & key".into()),
    }
}

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z").unwrap().with_timezone(&Utc)
}

fn a_plan(source: Source, scenario: Scenario, seed: u64, count: usize) -> Plan {
    Plan { source, scenario, seed, count, email: None, at: at() }
}

/// What the adapter says of a delivery: the status the server would answer and the e-mail it reads.
fn adapter_answer(d: &Delivery, secret: &str, now: DateTime<Utc>) -> (u16, Option<String>) {
    let (_, query) = d.path_and_query.split_once('?').unwrap_or((&d.path_and_query, ""));
    let parts = RequestParts {
        headers: d.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
        query: query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.replace("%20", " ").replace("%26", "&"))
            })
            .collect(),
    };
    if let Err(AuthError::Missing(_) | AuthError::Invalid(_)) =
        crate::ingest::sources::authenticate(d.source, secret, &d.body, &parts, now)
    {
        return (401, None);
    }
    match crate::ingest::sources::parse(d.source, &d.body, &parts) {
        Ok(Parsed::Event(e)) => (200, Some(e.customer.email)),
        Ok(Parsed::Ignored(i)) => (200, i.email),
        Err(ParseError::InvalidJson(_)) => (400, None),
        Err(ParseError::Unprocessable(_)) => (422, None),
    }
}

#[test]
fn every_supported_plan_is_authenticated_and_parsed_as_expected() {
    let secrets = secrets();
    let mut played = 0;
    for source in Source::ALL {
        for scenario in Scenario::ALL {
            if !supports(source, scenario) {
                assert!(matches!(plan(&a_plan(source, scenario, 1, 1), &secrets), Err(PlanError::Unsupported(..))));
                continue;
            }
            played += 1;
            let deliveries = plan(&a_plan(source, scenario, 7, 5), &secrets).unwrap();
            assert!(!deliveries.is_empty());
            let secret = super::secret(&secrets, source).unwrap();
            for d in &deliveries {
                let (status, email) = adapter_answer(d, secret, at());
                assert_eq!(status, d.expect.status, "{source:?} {}", d.label);
                if status == 200 {
                    assert_eq!(email, d.customer, "{source:?} {}", d.label);
                }
            }
            let sequences: HashSet<usize> = deliveries.iter().map(|d| d.sequence).collect();
            assert_eq!(sequences.len(), 5, "{source:?} {scenario}");
        }
    }
    // hashtag: random, lifecycle, out-of-order, duplicates, hostile; Eduzz: all but chargeback; the others: all
    assert_eq!(played, 5 + 9 + 9 + 9 + 8 + 9);
}

#[test]
fn the_same_seed_gives_byte_identical_deliveries() {
    for source in Source::ALL {
        for scenario in Scenario::ALL.into_iter().filter(|s| supports(source, *s)) {
            let one = plan(&a_plan(source, scenario, 99, 4), &secrets()).unwrap();
            let two = plan(&a_plan(source, scenario, 99, 4), &secrets()).unwrap();
            assert_eq!(one, two, "{source:?} {scenario}");
            let other = plan(&a_plan(source, scenario, 100, 4), &secrets()).unwrap();
            assert_ne!(
                one.iter().map(|d| &d.body).collect::<Vec<_>>(),
                other.iter().map(|d| &d.body).collect::<Vec<_>>(),
                "{source:?} {scenario}"
            );
        }
    }
}

#[test]
fn bodies_do_not_depend_on_the_secrets() {
    let mut other = secrets();
    other.hotmart = Some("another".into());
    other.generic = Some("whsec_YW5vdGhlci1zZWNyZXQ=".into());
    for source in [Source::Hotmart, Source::Generic] {
        let one = plan(&a_plan(source, Scenario::Lifecycle, 5, 3), &secrets()).unwrap();
        let two = plan(&a_plan(source, Scenario::Lifecycle, 5, 3), &other).unwrap();
        for (a, b) in one.iter().zip(&two) {
            assert_eq!(a.body, b.body);
            assert_ne!(a.headers, b.headers);
            assert!(!String::from_utf8_lossy(&a.body).contains("hottok-test"));
        }
    }
}

#[test]
fn customers_are_unique_per_plan_unless_an_e_mail_is_given() {
    let deliveries = plan(&a_plan(Source::Hotmart, Scenario::Lifecycle, 3, 200), &secrets()).unwrap();
    let customers: HashSet<_> = deliveries.iter().map(|d| d.customer.clone()).collect();
    assert_eq!(customers.len(), 200);
    let fixed =
        Plan { email: Some(" Cliente.Teste@Example.com ".into()), ..a_plan(Source::Kiwify, Scenario::Boleto, 3, 4) };
    let deliveries = plan(&fixed, &secrets()).unwrap();
    assert!(deliveries.iter().all(|d| d.customer.as_deref() == Some("cliente.teste@example.com")));
    let bad = Plan { email: Some("sem-arroba".into()), ..fixed };
    assert_eq!(plan(&bad, &secrets()), Err(PlanError::Email("sem-arroba".into())));
}

#[test]
fn one_seed_over_several_scenarios_and_sources_gives_different_customers() {
    let mut stories = HashSet::new();
    let mut customers = HashSet::new();
    for source in Source::ALL {
        for scenario in Scenario::ALL.into_iter().filter(|s| supports(source, *s)) {
            for d in plan(&a_plan(source, scenario, 5, 10), &secrets()).unwrap() {
                if let Some(customer) = d.customer {
                    stories.insert((source, scenario, d.sequence));
                    customers.insert(customer);
                }
            }
        }
    }
    assert_eq!(customers.len(), stories.len());
}

#[test]
fn refusals_and_limits() {
    let mut none = secrets();
    none.kiwify = None;
    assert_eq!(
        plan(&a_plan(Source::Kiwify, Scenario::Random, 1, 1), &none),
        Err(PlanError::NoSecret(Source::Kiwify, "KIWIFY_WEBHOOK_TOKEN"))
    );
    assert_eq!(plan(&a_plan(Source::Hotmart, Scenario::Random, 1, 0), &secrets()), Err(PlanError::Count));
    assert_eq!(
        plan(&a_plan(Source::Hashtag, Scenario::Boleto, 1, 1), &secrets()),
        Err(PlanError::Unsupported(Source::Hashtag, Scenario::Boleto))
    );
    for s in Scenario::ALL {
        assert_eq!(Scenario::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
    }
}

#[test]
fn resigning_refreshes_only_the_generic_timestamp() {
    let later = at() + chrono::Duration::minutes(20);
    let mut deliveries = plan(&a_plan(Source::Generic, Scenario::Lifecycle, 1, 1), &secrets()).unwrap();
    let before = deliveries[0].clone();
    assert_eq!(adapter_answer(&before, super::secret(&secrets(), Source::Generic).unwrap(), later).0, 401);
    resign(&mut deliveries[0], &secrets(), later).unwrap();
    let after = &deliveries[0];
    assert_eq!(after.body, before.body);
    let header = |d: &Delivery, name: &str| d.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(header(after, "webhook-id"), header(&before, "webhook-id"));
    assert_eq!(header(after, "webhook-timestamp"), Some(later.timestamp().to_string()));
    assert_eq!(adapter_answer(after, super::secret(&secrets(), Source::Generic).unwrap(), later).0, 200);
    let mut kiwify = plan(&a_plan(Source::Kiwify, Scenario::Lifecycle, 1, 1), &secrets()).unwrap();
    let unchanged = kiwify[0].clone();
    resign(&mut kiwify[0], &secrets(), later).unwrap();
    assert_eq!(kiwify[0], unchanged);
}

#[test]
fn scenario_expectations_follow_the_rules() {
    use TreatmentKind as T;
    let kinds = |source, scenario| -> Vec<Vec<T>> {
        plan(&a_plan(source, scenario, 1, 1), &secrets()).unwrap().into_iter().map(|d| d.expect.treatments).collect()
    };
    assert_eq!(
        kinds(Source::Hotmart, Scenario::Lifecycle),
        [vec![T::GrantAccess, T::WelcomeMessage], vec![T::RevokeAccess, T::RefundMessage]]
    );
    assert_eq!(kinds(Source::Generic, Scenario::OutOfOrder), [Vec::<T>::new(), vec![]]);
    assert_eq!(kinds(Source::Kiwify, Scenario::PixExpiry), [vec![T::PaymentPendingMessage]]);
    assert_eq!(
        kinds(Source::Hotmart, Scenario::PixExpiry),
        [vec![T::PaymentPendingMessage], vec![T::PaymentExpiredMessage]]
    );
    assert_eq!(
        kinds(Source::Generic, Scenario::Subscription),
        // the renewal extends nothing: the simulated course is for life, and access is never shortened
        [vec![T::GrantAccess, T::WelcomeMessage], vec![], vec![T::RevokeAccess]]
    );
    let duplicates = plan(&a_plan(Source::Hashtag, Scenario::Duplicates, 1, 1), &secrets()).unwrap();
    assert_eq!(
        duplicates.iter().map(|d| d.expect.outcome).collect::<Vec<_>>(),
        [Outcome::Processed, Outcome::Duplicate, Outcome::Duplicate]
    );
    assert_eq!(duplicates[0].body, duplicates[1].body);
}
