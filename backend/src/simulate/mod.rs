//! The webhook simulator: realistic deliveries of every source, for every scenario, signed as the
//! platforms sign them. [`plan`] is pure and deterministic (the same plan and secrets give
//! byte-identical deliveries); `portaria simulate` ([`cli`], [`send`]) and the app's Simulador send them.
//! docs/SIMULATOR.md describes the scenarios and what each must yield.

pub mod cli;
pub mod data;
mod hostile;
pub mod payloads;
pub mod platform;
mod scenarios;
pub mod send;
pub mod sign;

use crate::config::SourceSecrets;
use crate::ingest::event::Source;
use crate::ingest::process::Outcome;
use crate::treatments::rules::TreatmentKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use scenarios::supports;

/// What a run plays, per customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// The original checkout simulator's mix: approved, refused and refunded purchases.
    Random,
    /// Approved, then refunded.
    Lifecycle,
    /// The refund arrives before the approval.
    OutOfOrder,
    /// The approval delivered three times.
    Duplicates,
    /// A pix generated, then expired unpaid.
    PixExpiry,
    /// A boleto generated, then paid.
    Boleto,
    /// Approved, then charged back.
    Chargeback,
    /// Subscribed, renewed, canceled.
    Subscription,
    /// Bodies no adapter can accept, and missing or wrong credentials.
    Hostile,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Random,
        Scenario::Lifecycle,
        Scenario::OutOfOrder,
        Scenario::Duplicates,
        Scenario::PixExpiry,
        Scenario::Boleto,
        Scenario::Chargeback,
        Scenario::Subscription,
        Scenario::Hostile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Random => "random",
            Scenario::Lifecycle => "lifecycle",
            Scenario::OutOfOrder => "out-of-order",
            Scenario::Duplicates => "duplicates",
            Scenario::PixExpiry => "pix-expiry",
            Scenario::Boleto => "boleto",
            Scenario::Chargeback => "chargeback",
            Scenario::Subscription => "subscription",
            Scenario::Hostile => "hostile",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub source: Source,
    pub scenario: Scenario,
    pub seed: u64,
    /// How many customers play the scenario (each one sequence of deliveries).
    pub count: usize,
    /// Every customer of the run uses this e-mail (the Simulador's customer); `None`: a new person each.
    pub email: Option<String>,
    /// The moment the events are dated around (they happened in the hours before it; pix expiries and
    /// paid periods run after it). The same plan with the same `at` gives the same bytes.
    pub at: DateTime<Utc>,
}

/// The most customers one plan may hold.
pub const MAX_COUNT: usize = 1_000_000;

/// What Portaria must answer to a delivery, and the treatments it must queue (for a customer new
/// to the server, whose product is not mapped yet: its automatic course gives lifetime access).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Expect {
    pub status: u16,
    pub outcome: Outcome,
    pub treatments: Vec<TreatmentKind>,
}

/// One HTTP request to send: `POST {base URL}{path_and_query}` with the headers and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Deliveries of one sequence (one customer's story) must be sent in order, one after the other;
    /// different sequences may go in parallel.
    pub sequence: usize,
    pub source: Source,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The customer's e-mail as Portaria keys it (lower-cased); `None` for hostile bodies.
    pub customer: Option<String>,
    /// What this delivery is, for people ("lifecycle #3: refunded").
    pub label: String,
    pub expect: Expect,
    /// Standard Webhooks message id (generic source; the same on a retry).
    message_id: String,
    auth: Auth,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the {0} source has no secret here: set {1} (the same variable as the server)")]
    NoSecret(Source, &'static str),
    #[error("the {0} source cannot play the {1} scenario (it has no such events)")]
    Unsupported(Source, Scenario),
    #[error("the count must be between 1 and {MAX_COUNT}")]
    Count,
    #[error("the e-mail {0:?} is not an e-mail address")]
    Email(String),
    #[error("{0}")]
    Sign(#[from] sign::SignError),
}

/// The environment variable the server reads each source's secret from.
pub fn secret_variable(source: Source) -> &'static str {
    match source {
        Source::Hashtag => "HASHTAG_WEBHOOK_TOKEN",
        Source::Hotmart => "HOTMART_HOTTOK",
        Source::Kiwify => "KIWIFY_WEBHOOK_TOKEN",
        Source::Generic => "GENERIC_WEBHOOK_SECRET",
        Source::Eduzz => "EDUZZ_WEBHOOK_SECRET",
        Source::Monetizze => "MONETIZZE_POSTBACK_KEY",
    }
}

fn secret(secrets: &SourceSecrets, source: Source) -> Option<&str> {
    match source {
        Source::Hashtag => secrets.hashtag.as_deref(),
        Source::Hotmart => secrets.hotmart.as_deref(),
        Source::Kiwify => secrets.kiwify.as_deref(),
        Source::Generic => secrets.generic.as_deref(),
        Source::Eduzz => secrets.eduzz.as_deref(),
        Source::Monetizze => secrets.monetizze.as_deref(),
    }
}

/// Every delivery of the plan, signed with `secrets`, in sending order (sequence by sequence).
/// Pure: the same plan and secrets give the same deliveries, byte for byte.
pub fn plan(plan: &Plan, secrets: &SourceSecrets) -> Result<Vec<Delivery>, PlanError> {
    let (source, scenario) = (plan.source, plan.scenario);
    let secret = secret(secrets, source).ok_or(PlanError::NoSecret(source, secret_variable(source)))?;
    if !supports(source, scenario) {
        return Err(PlanError::Unsupported(source, scenario));
    }
    if plan.count == 0 || plan.count > MAX_COUNT {
        return Err(PlanError::Count);
    }
    let mut faker = data::Faker::new(stream_seed(plan.seed, source, scenario));
    let fixed = match &plan.email {
        Some(email) => {
            let email = email.trim();
            let valid = email.len() <= 254
                && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
            if !valid {
                return Err(PlanError::Email(email.to_string()));
            }
            Some(faker.person_with_email(email))
        }
        None => None,
    };
    let mut deliveries = vec![];
    for sequence in 0..plan.count {
        let person = match &fixed {
            Some(person) => person.clone(),
            None => faker.person(),
        };
        for draft in scenarios::sequence(&mut faker, source, scenario, &person, sequence, plan.at) {
            deliveries.push(draft.sign(source, secret, plan.at.timestamp())?);
        }
    }
    Ok(deliveries)
}

/// The generator's seed for one source and scenario: each (seed, source, scenario) has its own people
/// and orders, so that one seed played over several scenarios does not replay one into another.
fn stream_seed(seed: u64, source: Source, scenario: Scenario) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{seed}:{}:{}", source.as_str(), scenario.as_str()).as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"))
}

/// Signs `delivery` again for an attempt at `now`: the Standard Webhooks timestamp must be within
/// five minutes of the server's clock, so a long run signs each generic delivery as it sends it.
/// The body and the message id stay the same (a retry). Other sources are unchanged.
pub fn resign(delivery: &mut Delivery, secrets: &SourceSecrets, now: DateTime<Utc>) -> Result<(), PlanError> {
    if delivery.source != Source::Generic {
        return Ok(());
    }
    let source = delivery.source;
    let secret = secret(secrets, source).ok_or(PlanError::NoSecret(source, secret_variable(source)))?;
    let draft = Draft {
        sequence: delivery.sequence,
        customer: delivery.customer.clone(),
        label: delivery.label.clone(),
        body: std::mem::take(&mut delivery.body),
        message_id: delivery.message_id.clone(),
        auth: delivery.auth,
        expect: delivery.expect.clone(),
    };
    *delivery = draft.sign(source, secret, now.timestamp())?;
    Ok(())
}

/// A well-formed Standard Webhooks secret that is not the server's (`wrong-key-for-the-simulator`).
const WRONG_GENERIC_SECRET: &str = "whsec_d3Jvbmcta2V5LWZvci10aGUtc2ltdWxhdG9y";

/// How a draft is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Valid,
    /// No credential at all.
    Missing,
    /// Signed with another secret.
    Wrong,
}

/// A delivery before signing.
#[derive(Debug, Clone)]
struct Draft {
    sequence: usize,
    customer: Option<String>,
    label: String,
    body: Vec<u8>,
    message_id: String,
    auth: Auth,
    expect: Expect,
}

impl Draft {
    fn sign(self, source: Source, secret: &str, timestamp: i64) -> Result<Delivery, PlanError> {
        let signed = match self.auth {
            Auth::Valid => sign::sign(source, secret, &self.body, &self.message_id, timestamp)?,
            Auth::Wrong => {
                let wrong = match source {
                    Source::Generic => WRONG_GENERIC_SECRET.to_string(),
                    _ => format!("{secret}-wrong"),
                };
                sign::sign(source, &wrong, &self.body, &self.message_id, timestamp)?
            }
            Auth::Missing => sign::Signed {
                path_and_query: format!("/webhooks/{}", source.as_str()),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: None,
            },
        };
        Ok(Delivery {
            sequence: self.sequence,
            source,
            path_and_query: signed.path_and_query,
            headers: signed.headers,
            body: signed.body.unwrap_or(self.body),
            customer: self.customer,
            label: self.label,
            expect: self.expect,
            message_id: self.message_id,
            auth: self.auth,
        })
    }
}

#[cfg(test)]
mod tests;
