//! The Simulador (`/api/simulator`, administrators): plans a scenario with [`crate::simulate::plan`]
//! using this server's own source secrets and posts each delivery to this same server over loopback,
//! so the deliveries take the real path (authentication, rate limit, ingest, treatments, events).
//! Off with `SIMULATOR_ENABLED=false` (its routes answer 404 `simulator_off`).

pub mod handlers;
mod queries;

use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::ingest::event::Source;
use crate::ingest::process::Outcome;
use crate::simulate::{self, Plan, Scenario};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use utoipa::ToSchema;

/// The most customers one run may play (each is a few deliveries), so that a run stays short and
/// inside the webhook rate limit.
pub const MAX_COUNT: usize = 50;

/// The largest seed (2^53 − 1): every seed is a whole number a browser's JSON holds exactly, so a seed
/// shown in the app can be sent again.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// What the Simulador can play here.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    /// Every source, whether it is enabled here (has its secret) and the scenarios it can play.
    pub sources: Vec<SourceChoice>,
    /// The most customers one run may play.
    pub max_count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceChoice {
    pub source: Source,
    /// Whether the source has its secret here (a run needs it).
    pub enabled: bool,
    pub scenarios: Vec<Scenario>,
}

/// Whether `source` has its secret here (the same test as the webhook endpoint's).
fn enabled(config: &Config, source: Source) -> bool {
    crate::ingest::service::enabled_source(source.as_str(), &config.sources).is_ok()
}

/// What the server can play: every source and its scenarios.
pub fn catalog(config: &Config) -> Catalog {
    let sources = Source::ALL
        .into_iter()
        .map(|source| SourceChoice {
            source,
            enabled: enabled(config, source),
            scenarios: Scenario::ALL.into_iter().filter(|s| simulate::supports(source, *s)).collect(),
        })
        .collect();
    Catalog { sources, max_count: MAX_COUNT }
}

/// A run to play.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RunBody {
    /// The source to play (one enabled here, see `GET /api/simulator`).
    #[schema(value_type = Source)]
    pub source: String,
    /// The scenario (one the source can play, see `GET /api/simulator`).
    #[schema(value_type = Scenario)]
    pub scenario: String,
    /// The customer every delivery is about; empty or absent: a generated person per customer.
    pub email: Option<String>,
    /// How many customers play the scenario (1 to 50, default 1).
    #[schema(minimum = 1, maximum = 50)]
    pub count: Option<u32>,
    /// The generator's seed (the same seed gives the same people and orders), 0 to 2^53 − 1; absent: a
    /// random one.
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub seed: Option<u64>,
}

/// Checks `body` against what the server can play and turns it into a plan dated `at`.
pub fn plan_of(body: &RunBody, config: &Config, at: DateTime<Utc>, random_seed: u64) -> Result<Plan, ApiError> {
    let source = Source::parse(body.source.trim()).ok_or_else(|| {
        let names: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::unprocessable(
            ErrorCode::UnknownSource,
            format!("No such source {:?}; expected one of {}.", body.source, names.join(", ")),
        )
    })?;
    let scenario = Scenario::parse(body.scenario.trim()).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::unprocessable(
            ErrorCode::UnknownScenario,
            format!("No such scenario {:?}; expected one of {}.", body.scenario, names.join(", ")),
        )
    })?;
    if !simulate::supports(source, scenario) {
        return Err(ApiError::unprocessable(
            ErrorCode::ScenarioUnsupported,
            format!("The {source} source cannot play the {scenario} scenario (it has no such events)."),
        ));
    }
    if !enabled(config, source) {
        return Err(ApiError::conflict(
            ErrorCode::SourceOff,
            format!("The {source} source is not enabled here: set {}.", simulate::secret_variable(source)),
        ));
    }
    let count = body.count.unwrap_or(1) as usize;
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(field_error("count", &format!("The count must be between 1 and {MAX_COUNT}.")));
    }
    let email = body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_lowercase);
    if let Some(email) = &email {
        let valid = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            });
        if !valid {
            return Err(field_error("email", "Not an e-mail address."));
        }
    }
    let seed = body.seed.unwrap_or(random_seed & MAX_SEED);
    if seed > MAX_SEED {
        return Err(field_error("seed", &format!("The seed must be between 0 and {MAX_SEED}.")));
    }
    Ok(Plan { source, scenario, seed, count, email, at })
}

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::unprocessable(ErrorCode::ValidationFailed, message)
        .with_details(serde_json::json!({ "fields": { field: message } }))
}

/// What a run sent and what the server answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunAnswer {
    pub source: Source,
    pub scenario: Scenario,
    /// The seed played (send it again for the same people and orders).
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub seed: u64,
    pub count: usize,
    /// Every delivery, in sending order.
    pub deliveries: Vec<DeliveryAnswer>,
    /// The customers the deliveries are about, in order of first appearance, with their id once the
    /// server has them (open `/customers/{id}` for the timeline).
    pub customers: Vec<SimulatedCustomer>,
    /// Deliveries whose answer differs from what a new customer gets.
    pub unexpected: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAnswer {
    /// Which customer of the run (0-based).
    pub sequence: usize,
    /// The step sent, in English (`approved`, `refunded`, `pix generated`, `approved (redelivered)`, ...).
    pub step: String,
    /// The customer's e-mail (none for a body no adapter can read).
    pub customer: Option<String>,
    /// The HTTP status answered; none when the server could not be reached.
    pub status: Option<u16>,
    /// `processed`, `duplicate` or `ignored` for a 200; the error code otherwise; `no_answer` when
    /// the server could not be reached.
    pub outcome: String,
    pub expected_status: u16,
    pub expected_outcome: Outcome,
    /// Whether the answer is the one a customer new to the server gets.
    pub as_expected: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulatedCustomer {
    pub email: String,
    pub id: Option<i64>,
}

/// The sequence and the step of a planned delivery's label (`lifecycle #3: refunded`).
pub fn split_label(label: &str) -> (usize, String) {
    let (head, step) = label.split_once(": ").unwrap_or(("", label));
    let sequence = head.rsplit_once('#').and_then(|(_, n)| n.parse().ok()).unwrap_or(0);
    (sequence, step.to_string())
}

/// The address to reach this server at over loopback, from the address it listens on: an
/// unspecified address (`0.0.0.0`, `::`) is reached on the loopback address of its family.
pub fn loopback_url(listening: SocketAddr) -> String {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listening.port()))
}

/// The loopback URL when only the configured `PORTARIA_BIND` is known (`host:port`).
pub fn loopback_url_of_bind(bind: &str) -> String {
    match bind.parse::<SocketAddr>() {
        Ok(addr) => loopback_url(addr),
        Err(_) => format!("http://{bind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::for_tests("postgres://localhost/unused")
    }

    fn body(source: &str, scenario: &str) -> RunBody {
        RunBody { source: source.into(), scenario: scenario.into(), email: None, count: None, seed: None }
    }

    fn at() -> DateTime<Utc> {
        "2026-12-02T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_valid_body_becomes_a_plan_with_defaults() {
        let plan = plan_of(&body("kiwify", "lifecycle"), &config(), at(), 7).unwrap();
        assert_eq!((plan.source, plan.scenario, plan.count, plan.seed), (Source::Kiwify, Scenario::Lifecycle, 1, 7));
        assert_eq!(plan.email, None);
        let mut b = body(" hotmart ", "chargeback");
        b.email = Some("  Ana.Silva@Exemplo.com.br ".into());
        b.count = Some(50);
        b.seed = Some(MAX_SEED + 1);
        let e = plan_of(&b, &config(), Utc::now(), 7).unwrap_err();
        assert_eq!(e.details.unwrap()["fields"]["seed"], "The seed must be between 0 and 9007199254740991.");
        assert!(plan_of(&body("kiwify", "lifecycle"), &config(), Utc::now(), u64::MAX).unwrap().seed <= MAX_SEED);
        b.seed = Some(42);
        let plan = plan_of(&b, &config(), at(), 7).unwrap();
        assert_eq!((plan.count, plan.seed), (50, 42));
        assert_eq!(plan.email.as_deref(), Some("ana.silva@exemplo.com.br"));
        b.email = Some("   ".into());
        assert_eq!(plan_of(&b, &config(), at(), 7).unwrap().email, None);
    }

    #[test]
    fn bad_bodies_get_their_own_codes() {
        let code = |b: &RunBody, c: &Config| plan_of(b, c, at(), 1).unwrap_err();
        let e = code(&body("paypal", "lifecycle"), &config());
        assert_eq!((e.status.as_u16(), e.code), (422, ErrorCode::UnknownSource));
        let e = code(&body("kiwify", "lottery"), &config());
        assert_eq!((e.status.as_u16(), e.code), (422, ErrorCode::UnknownScenario));
        let unsupported = Source::ALL
            .into_iter()
            .flat_map(|s| Scenario::ALL.into_iter().map(move |c| (s, c)))
            .find(|(s, c)| !simulate::supports(*s, *c));
        if let Some((s, c)) = unsupported {
            let e = code(&body(s.as_str(), c.as_str()), &config());
            assert_eq!((e.status.as_u16(), e.code), (422, ErrorCode::ScenarioUnsupported));
        }
        let mut off = config();
        off.sources.kiwify = None;
        let e = code(&body("kiwify", "lifecycle"), &off);
        assert_eq!((e.status.as_u16(), e.code), (409, ErrorCode::SourceOff));
        assert!(e.message.contains("KIWIFY_WEBHOOK_TOKEN"), "{}", e.message);
        for count in [0, 51] {
            let mut b = body("kiwify", "lifecycle");
            b.count = Some(count);
            let e = code(&b, &config());
            assert_eq!((e.status.as_u16(), e.code), (422, ErrorCode::ValidationFailed), "{count}");
            assert!(e.details.unwrap()["fields"]["count"].is_string());
        }
        for email in ["ana", "ana@exemplo", "@exemplo.com", "ana silva@exemplo.com", "ana@.com"] {
            let mut b = body("kiwify", "lifecycle");
            b.email = Some(email.into());
            let e = code(&b, &config());
            assert_eq!((e.status.as_u16(), e.code), (422, ErrorCode::ValidationFailed), "{email}");
        }
    }

    #[test]
    fn the_catalog_lists_every_source_with_what_it_can_play() {
        let mut c = config();
        c.sources.generic = None;
        let catalog = catalog(&c);
        assert_eq!(catalog.sources.len(), Source::ALL.len());
        for choice in &catalog.sources {
            assert_eq!(choice.enabled, choice.source != Source::Generic);
            assert!(choice.scenarios.contains(&Scenario::Lifecycle), "{}", choice.source);
            assert!(choice.scenarios.iter().all(|s| simulate::supports(choice.source, *s)));
        }
        assert_eq!(catalog.max_count, MAX_COUNT);
    }

    #[test]
    fn labels_split_into_sequence_and_step() {
        assert_eq!(split_label("lifecycle #3: refunded"), (3, "refunded".to_string()));
        assert_eq!(split_label("out-of-order #0: approved (late)"), (0, "approved (late)".to_string()));
        assert_eq!(split_label("odd"), (0, "odd".to_string()));
    }

    #[test]
    fn loopback_reaches_an_unspecified_address_on_its_family() {
        assert_eq!(loopback_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(loopback_url("[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(loopback_url("10.0.0.5:80".parse().unwrap()), "http://10.0.0.5:80");
        assert_eq!(loopback_url_of_bind("0.0.0.0:9000"), "http://127.0.0.1:9000");
        assert_eq!(loopback_url_of_bind("localhost:9000"), "http://localhost:9000");
    }
}
