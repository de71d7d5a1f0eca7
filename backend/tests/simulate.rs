//! The simulator against the real `portaria serve` binary and a real database: every scenario of every
//! source, sent over HTTP, gets the answers the plan expects, and leaves on record, per customer and
//! per event, the treatments the rules say. Then the `portaria simulate` command itself, end to end.

mod common;

use common::cluster::free_port;
use common::server::{Server, Stdout};
use common::*;
use diesel::prelude::*;
use portaria::config::SourceSecrets;
use portaria::ingest::event::Source;
use portaria::schema::{customers, enrollments, orders, treatments, webhook_events};
use portaria::simulate::send::{self, Options};
use portaria::simulate::{plan, supports, Delivery, Plan, Scenario};
use std::collections::BTreeMap;
use std::time::Duration;

fn secrets() -> SourceSecrets {
    SourceSecrets {
        hashtag: Some(HASHTAG_TOKEN.into()),
        hotmart: Some(HOTTOK.into()),
        kiwify: Some(KIWIFY_TOKEN.into()),
        generic: Some(GENERIC_SECRET.into()),
        // Server::spawn runs in dev mode without these variables: the dev defaults.
        eduzz: Some("dev-eduzz-secret".into()),
        monetizze: Some("dev-monetizze-key".into()),
    }
}

fn start(db: &TestDb) -> Server {
    let port = free_port();
    let mut server =
        Server::spawn(&db.url, port, &Stdout::default(), &[("WORKER_CONCURRENCY", "0"), ("WEBHOOK_RATE_LIMIT", "0")]);
    assert!(server.wait_ready(Duration::from_secs(60)), "the server is ready");
    server
}

/// What the database holds for one customer: per event (in arrival order) its outcome and the kinds
/// of the treatments it queued.
fn history(db: &TestDb, email: &str) -> Vec<(String, Vec<String>)> {
    let mut conn = db.conn();
    let customer: i64 = customers::table
        .filter(customers::email.eq(email))
        .select(customers::id)
        .first(&mut conn)
        .unwrap_or_else(|e| panic!("customer {email}: {e}"));
    let events: Vec<(i64, String)> = webhook_events::table
        .filter(webhook_events::customer_id.eq(customer))
        .order(webhook_events::id)
        .select((webhook_events::id, webhook_events::outcome))
        .load(&mut conn)
        .unwrap();
    events
        .into_iter()
        .map(|(id, outcome)| {
            let kinds: Vec<String> = treatments::table
                .filter(treatments::event_id.eq(id))
                .order(treatments::id)
                .select(treatments::kind)
                .load(&mut conn)
                .unwrap();
            (outcome, kinds)
        })
        .collect()
}

#[test]
fn every_scenario_of_every_source_yields_the_treatments_the_rules_say() {
    let db = TestDb::new();
    let server = start(&db);
    let at = chrono::Utc::now();
    let options = Options {
        url: server.base(),
        concurrency: 4,
        rate: None,
        timeout: Duration::from_secs(30),
        max_attempts_429: 3,
    };
    let mut played = 0;
    for source in Source::ALL {
        for scenario in Scenario::ALL.into_iter().filter(|s| supports(source, *s)) {
            played += 1;
            let the_plan = Plan { source, scenario, seed: 2026, count: 3, email: None, at };
            let deliveries = plan(&the_plan, &secrets()).unwrap();
            let hostile_before: i64 = webhook_events::table
                .filter(webhook_events::customer_id.is_null())
                .count()
                .get_result(&mut db.conn())
                .unwrap();
            let report = send::send_all(deliveries.clone(), &secrets(), &options, &|_| {});
            assert_eq!(report.sent, deliveries.len(), "{source} {scenario}");
            assert_eq!(
                (report.failures(), report.server_errors()),
                (0, 0),
                "{source} {scenario}: {:?}",
                report.answers
            );
            assert_eq!(report.unexpected_count, 0, "{source} {scenario}: {:?}", report.unexpected);

            // Per customer, per event: the outcome and the treatments the plan expects.
            let mut by_customer: BTreeMap<&str, Vec<&Delivery>> = BTreeMap::new();
            for d in &deliveries {
                if let Some(customer) = &d.customer {
                    by_customer.entry(customer).or_default().push(d);
                }
            }
            for (customer, planned) in &by_customer {
                let expected: Vec<(String, Vec<String>)> = planned
                    .iter()
                    .map(|d| {
                        (
                            d.expect.outcome.as_str().to_string(),
                            d.expect.treatments.iter().map(|k| k.as_str().to_string()).collect(),
                        )
                    })
                    .collect();
                assert_eq!(history(&db, customer), expected, "{source} {scenario}: {customer}");
                scenario_facts(&db, source, scenario, customer, at);
            }

            // Hostile bodies: every one on record with its rejection, no customer made of them.
            let hostile = deliveries.iter().filter(|d| d.customer.is_none()).count() as i64;
            let hostile_after: i64 = webhook_events::table
                .filter(webhook_events::customer_id.is_null())
                .count()
                .get_result(&mut db.conn())
                .unwrap();
            assert_eq!(hostile_after - hostile_before, hostile, "{source} {scenario}: every hostile body recorded");
            if scenario == Scenario::Hostile {
                assert!(hostile >= 29, "{source}: the whole corpus");
                let outcomes: Vec<String> = webhook_events::table
                    .filter(webhook_events::customer_id.is_null())
                    .filter(webhook_events::source.eq(source.as_str()))
                    .select(webhook_events::outcome)
                    .load(&mut db.conn())
                    .unwrap();
                assert!(outcomes
                    .iter()
                    .all(|o| ["invalid_json", "unprocessable", "unauthorized"].contains(&o.as_str())));
            }
        }
    }
    assert_eq!(played, 5 + 9 + 9 + 9 + 8 + 9);
}

/// Beyond the treatments: the state each scenario must leave.
fn scenario_facts(db: &TestDb, source: Source, scenario: Scenario, email: &str, at: chrono::DateTime<chrono::Utc>) {
    let mut conn = db.conn();
    let customer: i64 =
        customers::table.filter(customers::email.eq(email)).select(customers::id).first(&mut conn).unwrap();
    let access: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = enrollments::table
        .filter(enrollments::customer_id.eq(customer))
        .select((enrollments::status, enrollments::expires_at))
        .load(&mut conn)
        .unwrap();
    let statuses: Vec<String> = orders::table
        .filter(orders::customer_id.eq(customer))
        .order(orders::id)
        .select(orders::status)
        .load(&mut conn)
        .unwrap();
    let context = format!("{source} {scenario}: {email}: access {access:?}, orders {statuses:?}");
    match scenario {
        Scenario::Lifecycle | Scenario::Chargeback => {
            assert_eq!(access.len(), 1, "{context}");
            assert_eq!(access[0].0, "revoked", "{context}");
        }
        Scenario::OutOfOrder => {
            assert!(access.is_empty(), "no access was ever granted: {context}");
            assert_eq!(statuses, ["refunded"], "the refund is on record: {context}");
        }
        Scenario::Duplicates | Scenario::Boleto => {
            assert_eq!(access.len(), 1, "{context}");
            assert_eq!(access[0], ("active".to_string(), None), "{context}");
            assert_eq!(statuses, ["approved"], "{context}");
        }
        Scenario::PixExpiry => {
            assert!(access.is_empty(), "{context}");
            let expected = if source == Source::Kiwify { "waiting_payment" } else { "expired" };
            assert_eq!(statuses, [expected], "{context}");
        }
        Scenario::Subscription if source == Source::Monetizze => {
            // Monetizze's cancellation (code 103) gives no end of the paid period: access ends now.
            assert_eq!(access.len(), 1, "{context}");
            assert_eq!(access[0].0, "revoked", "{context}");
        }
        Scenario::Subscription if source != Source::Hotmart => {
            // Access stays on until the paid period ends, when the scheduled revocation runs.
            assert_eq!(access.len(), 1, "{context}");
            let (status, expires_at) = &access[0];
            assert_eq!(status, "active", "{context}");
            assert!(expires_at.is_some_and(|t| t > at + chrono::Duration::days(20)), "{context}");
            let revoke_at: chrono::DateTime<chrono::Utc> = treatments::table
                .filter(treatments::customer_id.eq(customer))
                .filter(treatments::kind.eq("revoke_access"))
                .select(treatments::run_at)
                .first(&mut conn)
                .unwrap();
            assert_eq!(Some(revoke_at), *expires_at, "{context}");
        }
        _ => {}
    }
}

#[test]
fn the_simulate_command_end_to_end() {
    let db = TestDb::new();
    let server = start(&db);
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portaria"))
            .arg("simulate")
            .args(["--url", url])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HASHTAG_WEBHOOK_TOKEN", HASHTAG_TOKEN)
            .env("HOTMART_HOTTOK", HOTTOK)
            .env("KIWIFY_WEBHOOK_TOKEN", KIWIFY_TOKEN)
            .env("GENERIC_WEBHOOK_SECRET", GENERIC_SECRET)
            .output()
            .expect("run portaria simulate")
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let out = run(
        &["--source", "generic", "--scenario", "lifecycle", "--count", "5", "--seed", "7", "--rate", "200"],
        &server.base(),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("generic lifecycle x5 (seed 7"), "{stdout}");
    assert!(stdout.contains("sent 10 in"), "{stdout}");
    assert!(stdout.contains("200  processed                10"), "{stdout}");
    assert!(stdout.contains("latency: p50 ") && stdout.contains(", max "), "{stdout}");
    let customers: i64 = customers::table.count().get_result(&mut db.conn()).unwrap();
    assert_eq!(customers, 5);

    // The same seed again: the same bytes, all duplicates, still a success (no 5xx).
    let again = run(&["--source", "generic", "--scenario", "lifecycle", "--count", "5", "--seed", "7"], &server.base());
    let stdout = text(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(stdout.contains("200  duplicate                10"), "{stdout}");

    // Nobody listening: exit 1, with one line saying so.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let refused = run(&["--source", "hotmart", "--count", "2"], &closed);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("without an answer"), "{}", text(&refused.stderr));

    // A usage error: exit 2, one line.
    let usage = run(&["--source", "hashtag", "--scenario", "boleto"], &server.base());
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(text(&usage.stderr).lines().count(), 1, "{}", text(&usage.stderr));

    // No secret in the environment (and not dev): exit 2 naming the variable.
    let no_secret = std::process::Command::new(env!("CARGO_BIN_EXE_portaria"))
        .args(["simulate", "--url", &server.base(), "--source", "kiwify"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(no_secret.status.code(), Some(2));
    assert!(text(&no_secret.stderr).contains("KIWIFY_WEBHOOK_TOKEN"), "{}", text(&no_secret.stderr));
}
