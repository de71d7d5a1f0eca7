//! Configuration from the environment (DESIGN.md section 5). Every problem is one line that says
//! what to set.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Default invite token for staff sign-up (the original spec's value).
pub const DEFAULT_SIGNUP_TOKEN: &str = "uhdfaAADF123";
/// Default `PORTARIA_BIND`.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default `PUBLIC_URL`.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
const DEV_JWT_SECRET: &str = "portaria-dev-only-jwt-secret-do-not-use-in-production";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Shared secrets of the webhook sources. A source whose secret is `None` is disabled.
#[derive(Clone, Default)]
pub struct SourceSecrets {
    pub hashtag: Option<String>,
    pub hotmart: Option<String>,
    pub kiwify: Option<String>,
    pub generic: Option<String>,
    pub eduzz: Option<String>,
    pub monetizze: Option<String>,
}

impl SourceSecrets {
    /// The secrets from their variables (`get` returns trimmed, non-empty values); in dev mode a
    /// source without one gets its dev default. `portaria simulate` reads them the same way.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>, dev: bool) -> SourceSecrets {
        let dev_default = |key: &str, value: &str| get(key).or_else(|| dev.then(|| value.to_string()));
        SourceSecrets {
            hashtag: dev_default("HASHTAG_WEBHOOK_TOKEN", "dev-hashtag-token"),
            hotmart: dev_default("HOTMART_HOTTOK", "dev-hotmart-hottok"),
            kiwify: dev_default("KIWIFY_WEBHOOK_TOKEN", "dev-kiwify-token"),
            generic: dev_default("GENERIC_WEBHOOK_SECRET", "whsec_ZGV2LWdlbmVyaWMtc2VjcmV0LWZvci1sb2NhbC11c2U="),
            eduzz: dev_default("EDUZZ_WEBHOOK_SECRET", "dev-eduzz-secret"),
            monetizze: dev_default("MONETIZZE_POSTBACK_KEY", "dev-monetizze-key"),
        }
    }

    /// Reads the process environment like the server does (`PORTARIA_ENV=dev` gives the dev defaults).
    pub fn from_env() -> SourceSecrets {
        let get = |key: &str| std::env::var(key).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        SourceSecrets::from_lookup(&get, is_dev(get("PORTARIA_ENV").as_deref()))
    }
}

/// Whether `PORTARIA_ENV` asks for the relaxed laptop defaults.
pub fn is_dev(portaria_env: Option<&str>) -> bool {
    matches!(portaria_env.map(str::to_ascii_lowercase).as_deref(), Some("dev" | "development" | "test"))
}

impl std::fmt::Debug for SourceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, only whether it is set.
        f.debug_struct("SourceSecrets")
            .field("hashtag", &self.hashtag.is_some())
            .field("hotmart", &self.hotmart.is_some())
            .field("kiwify", &self.kiwify.is_some())
            .field("generic", &self.generic.is_some())
            .field("eduzz", &self.eduzz.is_some())
            .field("monetizze", &self.monetizze.is_some())
            .finish()
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub database_pool_size: u32,
    pub bind: String,
    /// `PORTARIA_ENV=dev`: relaxed defaults for a laptop (dev JWT secret, dev webhook tokens).
    pub dev: bool,
    pub jwt_secret: String,
    pub jwt_ttl: Duration,
    pub signup_token: String,
    pub sources: SourceSecrets,
    pub cors_origins: Vec<String>,
    pub frontend_dir: PathBuf,
    pub bcrypt_cost: u32,
    pub worker_concurrency: usize,
    pub worker_max_attempts: i32,
    pub worker_poll: Duration,
    pub worker_lease: Duration,
    pub webhook_body_limit: usize,
    /// Group commit (`ingest::batch`): at most this many webhooks per transaction (`INGEST_BATCH_SIZE`),
    /// a batch waits at most this long for more (`INGEST_BATCH_WAIT_US`, microseconds), with this many writers
    /// (`INGEST_WRITERS`; 0: every webhook in its own transaction, as before the group commit).
    pub ingest_batch_size: usize,
    pub ingest_batch_wait: Duration,
    pub ingest_writers: usize,
    /// Treatments a worker claims at once (`WORKER_BATCH`); their successes are recorded together.
    pub worker_batch: i64,
    /// How long a webhook's body may take to arrive (a stalled sender gets 408).
    pub body_read_timeout: Duration,
    /// Webhook requests per second per source and client address (0: no limit).
    pub webhook_rate_limit: u32,
    /// Days the raw bodies of rejected requests are kept (`None`: forever).
    pub retention_days_rejected: Option<u32>,
    /// Days the raw bodies of accepted requests are kept (`None`: forever).
    pub retention_days_raw: Option<u32>,
    pub default_course_name: String,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs `Authorization: Bearer <token>`; unset, it is open.
    pub metrics_token: Option<String>,
    /// `PUBLIC_URL`: where staff open the app (links in alerts), without a trailing slash.
    pub public_url: String,
    /// `ALERT_WEBHOOK_URL` and the alert thresholds (see `crate::alerts`).
    pub alerts: AlertConfig,
    /// The course-platform channel (`ACCESS_WEBHOOK_URL`, `ACCESS_WEBHOOK_SECRET`, `PLATFORM_TIMEOUT_MS`,
    /// `PLATFORM_HTTP_CONFIG`).
    pub platform: crate::channels::platform::PlatformConfig,
    /// The e-mail channel (`SMTP_URL` set), `None`: no e-mail is sent (the console line still is).
    pub mail: Option<MailConfig>,
    /// `ACCESS_REMINDER_DAYS`: the "access ending soon" reminder goes out this many days before an
    /// enrollment's `expires_at` (0: no reminder).
    pub access_reminder_days: u32,
    /// `PIX_EXPIRY_MINUTES`: a pix still pending after this long gets the payment-expired message.
    pub pix_expiry: Duration,
    /// `BOLETO_EXPIRY_HOURS`: a boleto still pending after this long gets the payment-expired message.
    pub boleto_expiry: Duration,
    /// `SIMULATOR_ENABLED` (default true): the Simulador (`/api/simulator`) signs and posts test
    /// deliveries to this server; `false` in production turns it off (its routes answer 404).
    pub simulator_enabled: bool,
}

/// Alerts to a Slack/Discord/Teams-style incoming webhook (docs/OPERATIONS.md).
#[derive(Clone)]
pub struct AlertConfig {
    /// `ALERT_WEBHOOK_URL`; `None`: no incoming webhook. It is a secret (the URL is the credential).
    pub webhook_url: Option<String>,
    /// `ALERT_HTTP_CONFIG`: the templated calls that deliver an alert (a WhatsApp gateway, ...), checked at
    /// start. Alerts are on when this or `webhook_url` is set; with both, each alert goes to both.
    pub http: Option<crate::alerts::templated::AlertPlan>,
    /// `ALERT_OUTBOX_AGE`: a due treatment waiting longer than this alerts.
    pub outbox_age: Duration,
    /// `ALERT_REJECTIONS`: this many 401s for one source within [`AlertConfig::REJECTIONS_SPAN`] alert.
    pub rejections: u32,
    /// `ALERT_WINDOW`: at most one message per condition (per source, per treatment) within it.
    pub window: Duration,
}

impl AlertConfig {
    /// The span over which rejections are counted.
    pub const REJECTIONS_SPAN: Duration = Duration::from_secs(300);
}

impl std::fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertConfig")
            .field("webhook_url", &self.webhook_url.is_some())
            .field("http", &self.http)
            .field("outbox_age", &self.outbox_age)
            .field("rejections", &self.rejections)
            .field("window", &self.window)
            .finish()
    }
}

/// The SMTP connection and the sender (`SMTP_URL`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `MAIL_FROM`,
/// `MAIL_REPLY_TO`, `MAIL_TEMPLATES_DIR`, `SMTP_TIMEOUT_SECONDS`).
#[derive(Clone)]
pub struct MailConfig {
    /// lettre's URL syntax: `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://host:465` (implicit TLS); `user:password@` optional. May hold a password: never log it.
    pub smtp_url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub reply_to: Option<String>,
    pub templates_dir: Option<PathBuf>,
    /// Connect, read and write timeout of every SMTP connection.
    pub timeout: Duration,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .field("templates_dir", &self.templates_dir)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn mail_from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Option<MailConfig>, ConfigError> {
    let Some(smtp_url) = get("SMTP_URL") else { return Ok(None) };
    let scheme_ok = ["smtp://", "smtps://"].iter().any(|p| smtp_url.to_ascii_lowercase().starts_with(p));
    if !scheme_ok || smtp_url.split("://").nth(1).is_none_or(|rest| rest.is_empty() || rest.starts_with(['/', '?'])) {
        return Err(ConfigError(format!(
            "SMTP_URL is malformed: set it to smtp://HOST:PORT (plain), smtp://HOST:587?tls=required (STARTTLS) or smtps://HOST:465, got {:?}",
            redact_url(&smtp_url)
        )));
    }
    let from = get("MAIL_FROM").ok_or_else(|| {
        ConfigError(
            "MAIL_FROM is not set: with SMTP_URL set, set it to the sender, e.g. \"Escola <contato@escola.com.br>\""
                .into(),
        )
    })?;
    let check_address = |key: &str, value: &str| -> Result<(), ConfigError> {
        value.parse::<lettre::message::Mailbox>().map(|_| ()).map_err(|e| {
            ConfigError(format!(
                "{key} is not an e-mail address ({e}): set it to e.g. \"Escola <contato@escola.com.br>\""
            ))
        })
    };
    check_address("MAIL_FROM", &from)?;
    let reply_to = get("MAIL_REPLY_TO");
    if let Some(r) = &reply_to {
        check_address("MAIL_REPLY_TO", r)?;
    }
    Ok(Some(MailConfig {
        smtp_url,
        username: get("SMTP_USERNAME"),
        password: get("SMTP_PASSWORD"),
        from,
        reply_to,
        templates_dir: get("MAIL_TEMPLATES_DIR").map(PathBuf::from),
        timeout: Duration::from_secs(parse(get, "SMTP_TIMEOUT_SECONDS", 15u64, 1..=300)?),
    }))
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("dev", &self.dev)
            .field("sources", &self.sources)
            .field("frontend_dir", &self.frontend_dir)
            .field("mail", &self.mail)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| lookup(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let dev = is_dev(get("PORTARIA_ENV").as_deref());

        let database_url = database_url_from_lookup(&lookup)?;

        let jwt_secret = match get("JWT_SECRET") {
            Some(secret) if secret.len() < 32 && !dev => {
                return Err(ConfigError(
                    "JWT_SECRET is too short: set it to at least 32 random characters (e.g. `openssl rand -hex 32`)".into(),
                ))
            }
            Some(secret) => secret,
            None if dev => DEV_JWT_SECRET.to_string(),
            None => {
                return Err(ConfigError(
                    "JWT_SECRET is not set: set it to at least 32 random characters (e.g. `openssl rand -hex 32`), or PORTARIA_ENV=dev on a laptop".into(),
                ))
            }
        };

        let sources = SourceSecrets::from_lookup(&get, dev);

        Ok(Config {
            database_url,
            database_pool_size: parse(&get, "DATABASE_POOL_SIZE", 10u32, 1..=200)?,
            bind: get("PORTARIA_BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
            dev,
            jwt_secret,
            jwt_ttl: Duration::from_secs(60 * parse(&get, "JWT_TTL_MINUTES", 480u64, 1..=60 * 24 * 30)?),
            signup_token: get("SIGNUP_TOKEN").unwrap_or_else(|| DEFAULT_SIGNUP_TOKEN.into()),
            sources,
            cors_origins: get("CORS_ORIGINS")
                .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
                .unwrap_or_default(),
            frontend_dir: get("FRONTEND_DIR").unwrap_or_else(|| "frontend/dist".into()).into(),
            bcrypt_cost: parse(&get, "BCRYPT_COST", 12u32, 4..=31)?,
            worker_concurrency: parse(&get, "WORKER_CONCURRENCY", 4usize, 0..=64)?,
            worker_max_attempts: parse(&get, "WORKER_MAX_ATTEMPTS", 8i32, 1..=100)?,
            worker_poll: Duration::from_millis(parse(&get, "WORKER_POLL_MS", 5_000u64, 10..=600_000)?),
            worker_lease: Duration::from_secs(parse(&get, "WORKER_LEASE_SECONDS", 60u64, 1..=86_400)?),
            webhook_body_limit: parse(&get, "WEBHOOK_BODY_LIMIT", 256 * 1024usize, 1024..=16 * 1024 * 1024)?,
            ingest_batch_size: parse(&get, "INGEST_BATCH_SIZE", 64usize, 1..=1000)?,
            ingest_batch_wait: Duration::from_micros(parse(&get, "INGEST_BATCH_WAIT_US", 100u64, 0..=100_000)?),
            ingest_writers: parse(&get, "INGEST_WRITERS", 2usize, 0..=16)?,
            worker_batch: parse(&get, "WORKER_BATCH", 20i64, 1..=1000)?,
            body_read_timeout: Duration::from_millis(parse(&get, "BODY_READ_TIMEOUT_MS", 10_000u64, 100..=600_000)?),
            webhook_rate_limit: parse(&get, "WEBHOOK_RATE_LIMIT", 100u32, 0..=1_000_000)?,
            retention_days_rejected: Some(parse(&get, "RETENTION_DAYS_REJECTED", 30u32, 0..=36_500)?)
                .filter(|days| *days > 0),
            retention_days_raw: Some(parse(&get, "RETENTION_DAYS_RAW", 365u32, 0..=36_500)?).filter(|days| *days > 0),
            default_course_name: get("DEFAULT_COURSE_NAME").unwrap_or_else(|| "Curso principal".into()),
            login_max_failures: parse(&get, "LOGIN_MAX_FAILURES", 5u32, 1..=1000)?,
            login_lockout: Duration::from_secs(parse(&get, "LOGIN_LOCKOUT_SECONDS", 900u64, 1..=86_400)?),
            metrics_token: get("METRICS_TOKEN"),
            public_url: public_url(get("PUBLIC_URL"))?,
            alerts: AlertConfig {
                webhook_url: match get("ALERT_WEBHOOK_URL") {
                    Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                        return Err(ConfigError(
                            "ALERT_WEBHOOK_URL is malformed: set it to the https:// URL of an incoming webhook (Slack, Discord, Teams), or leave it unset".into(),
                        ))
                    }
                    url => url,
                },
                http: match get("ALERT_HTTP_CONFIG") {
                    Some(path) => Some(
                        crate::alerts::templated::AlertPlan::load(std::path::Path::new(&path), &get)
                            .map_err(|e| ConfigError(format!("ALERT_HTTP_CONFIG: {e}")))?,
                    ),
                    None => None,
                },
                outbox_age: duration(&get, "ALERT_OUTBOX_AGE", Duration::from_secs(15 * 60))?,
                rejections: parse(&get, "ALERT_REJECTIONS", 20u32, 1..=1_000_000)?,
                window: duration(&get, "ALERT_WINDOW", Duration::from_secs(30 * 60))?,
            },
            platform: {
                let platform = crate::channels::platform::PlatformConfig::from_lookup(&get, &get)?;
                let lease = Duration::from_secs(parse(&get, "WORKER_LEASE_SECONDS", 60u64, 1..=86_400)?);
                if platform.max_delivery() >= lease {
                    return Err(ConfigError(format!(
                        "WORKER_LEASE_SECONDS ({} s) must be longer than the course platform's longest delivery ({} s: PLATFORM_TIMEOUT_MS per call): raise it or lower PLATFORM_TIMEOUT_MS",
                        lease.as_secs(),
                        platform.max_delivery().as_secs_f64()
                    )));
                }
                platform
            },
            mail: mail_from_lookup(&get)?,
            access_reminder_days: parse(&get, "ACCESS_REMINDER_DAYS", 7u32, 0..=365)?,
            pix_expiry: Duration::from_secs(60 * parse(&get, "PIX_EXPIRY_MINUTES", 30u64, 1..=60 * 24 * 30)?),
            boleto_expiry: Duration::from_secs(3600 * parse(&get, "BOLETO_EXPIRY_HOURS", 72u64, 1..=24 * 90)?),
            simulator_enabled: flag(&get, "SIMULATOR_ENABLED", true)?,
        })
    }

    /// A configuration for tests: dev mode, fast bcrypt, every source enabled with known secrets.
    pub fn for_tests(database_url: &str) -> Config {
        let vars: HashMap<&str, &str> = HashMap::from([
            ("DATABASE_URL", database_url),
            ("PORTARIA_ENV", "test"),
            ("BCRYPT_COST", "4"),
            ("HASHTAG_WEBHOOK_TOKEN", "test-hashtag-token"),
            ("HOTMART_HOTTOK", "test-hotmart-hottok"),
            ("KIWIFY_WEBHOOK_TOKEN", "test-kiwify-token"),
            ("GENERIC_WEBHOOK_SECRET", "whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ="),
            ("EDUZZ_WEBHOOK_SECRET", "test-eduzz-secret"),
            ("MONETIZZE_POSTBACK_KEY", "test-monetizze-key"),
            ("WORKER_CONCURRENCY", "0"),
            ("WEBHOOK_RATE_LIMIT", "0"),
        ]);
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).expect("test configuration is valid")
    }
}

/// What `portaria migrate` needs, and nothing more: `DATABASE_URL` (no JWT secret, no webhook secrets).
pub fn database_url_from_env() -> Result<String, ConfigError> {
    database_url_from_lookup(|key| std::env::var(key).ok())
}

/// `DATABASE_URL` through `lookup`, checked.
pub fn database_url_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let url = lookup("DATABASE_URL").map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or_else(|| {
        ConfigError(
            "DATABASE_URL is not set: set it to postgres://USER@HOST:PORT/DATABASE (or run `make run`, which finds or starts a database)".into(),
        )
    })?;
    validate_database_url(&url)?;
    Ok(url)
}

fn validate_database_url(url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "DATABASE_URL is malformed (it must start with postgres:// or postgresql://): set it to postgres://USER@HOST:PORT/DATABASE, got {:?}",
                redact_url(url)
            ))
        })?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() && !rest.contains("host=") {
        return Err(ConfigError(
            "DATABASE_URL is malformed (no host): set it to postgres://USER@HOST:PORT/DATABASE".into(),
        ));
    }
    Ok(())
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `PUBLIC_URL`, checked, without a trailing slash.
fn public_url(raw: Option<String>) -> Result<String, ConfigError> {
    let url = raw.unwrap_or_else(|| DEFAULT_PUBLIC_URL.into());
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError(format!(
            "PUBLIC_URL is malformed ({url:?}): set it to the address staff open the app at, e.g. https://portaria.exemplo.com"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A span like `30s`, `10m`, `2h` (a bare number is minutes), from 10 seconds to 7 days.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim().to_ascii_lowercase();
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw.as_str(), "m"),
    };
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (10..=7 * 86_400).contains(&seconds).then(|| Duration::from_secs(seconds))
}

fn duration(get: &impl Fn(&str) -> Option<String>, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    match get(key) {
        None => Ok(default),
        Some(raw) => parse_duration(&raw).ok_or_else(|| {
            ConfigError(format!(
                "{key} is invalid ({raw:?}): set it to a span like 30s, 10m or 2h (from 10 seconds to 7 days)"
            ))
        }),
    }
}

/// A yes/no variable: `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), `default` when unset.
fn flag(get: &impl Fn(&str) -> Option<String>, key: &str, default: bool) -> Result<bool, ConfigError> {
    match get(key).map(|raw| raw.to_ascii_lowercase()) {
        None => Ok(default),
        Some(raw) => match raw.as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError(format!("{key} is invalid ({raw:?}): set it to true or false"))),
        },
    }
}

fn parse<T>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match get(key) {
        None => Ok(default),
        Some(raw) => match raw.parse::<T>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(ConfigError(format!(
                "{key} is invalid ({raw:?}): set it to a whole number from {} to {}",
                range.start(),
                range.end()
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_simulator_is_on_unless_turned_off() {
        let base = [("DATABASE_URL", "postgres://localhost/p"), ("PORTARIA_ENV", "dev")];
        assert!(load(&base).unwrap().simulator_enabled);
        for (raw, on) in [("false", false), ("0", false), ("OFF", false), ("true", true), ("yes", true)] {
            let config = load(&[base[0], base[1], ("SIMULATOR_ENABLED", raw)]).unwrap();
            assert_eq!(config.simulator_enabled, on, "{raw}");
        }
        let err = load(&[base[0], base[1], ("SIMULATOR_ENABLED", "maybe")]).unwrap_err();
        assert!(err.0.starts_with("SIMULATOR_ENABLED is invalid"), "{err}");
    }

    #[test]
    fn missing_database_url_says_what_to_set() {
        let err = load(&[("PORTARIA_ENV", "dev")]).unwrap_err();
        assert!(err.0.starts_with("DATABASE_URL is not set"), "{err}");
    }

    #[test]
    fn malformed_database_url_is_refused_without_leaking_the_password() {
        let err = load(&[("DATABASE_URL", "mysql://u:hunter2@h/db"), ("PORTARIA_ENV", "dev")]).unwrap_err();
        assert!(err.0.contains("DATABASE_URL is malformed"), "{err}");
        assert!(!err.0.contains("hunter2"), "{err}");
        let err = load(&[("DATABASE_URL", "postgres:///db"), ("PORTARIA_ENV", "dev")]).unwrap_err();
        assert!(err.0.contains("no host"), "{err}");
    }

    #[test]
    fn migrate_needs_only_the_database_url() {
        // Production mode, no JWT_SECRET, no webhook secrets: the server refuses, migrate does not.
        let vars: HashMap<String, String> =
            HashMap::from([("DATABASE_URL".into(), " postgres://u@localhost/db ".into())]);
        let lookup = |k: &str| vars.get(k).cloned();
        assert!(Config::from_lookup(lookup).unwrap_err().0.starts_with("JWT_SECRET is not set"));
        assert_eq!(database_url_from_lookup(lookup).unwrap(), "postgres://u@localhost/db");
        // and it checks the URL the same way
        let err = database_url_from_lookup(|_| None).unwrap_err();
        assert!(err.0.starts_with("DATABASE_URL is not set"), "{err}");
        let err = database_url_from_lookup(|_| Some("mysql://u:hunter2@h/db".into())).unwrap_err();
        assert!(err.0.contains("DATABASE_URL is malformed") && !err.0.contains("hunter2"), "{err}");
    }

    #[test]
    fn jwt_secret_is_required_outside_dev() {
        let err = load(&[("DATABASE_URL", "postgres://u@localhost/db")]).unwrap_err();
        assert!(err.0.starts_with("JWT_SECRET is not set"), "{err}");
        let err = load(&[("DATABASE_URL", "postgres://u@localhost/db"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(err.0.starts_with("JWT_SECRET is too short"), "{err}");
        let ok = load(&[("DATABASE_URL", "postgres://u@localhost/db"), ("PORTARIA_ENV", "dev")]).unwrap();
        assert!(ok.dev);
        assert!(!ok.jwt_secret.is_empty());
    }

    #[test]
    fn defaults_and_sources() {
        let prod = load(&[("DATABASE_URL", "postgres://u@localhost/db"), ("JWT_SECRET", &"x".repeat(32))]).unwrap();
        assert_eq!(prod.bind, "127.0.0.1:8080");
        assert_eq!(prod.signup_token, DEFAULT_SIGNUP_TOKEN);
        assert_eq!(prod.bcrypt_cost, 12);
        assert!(prod.sources.hashtag.is_none(), "sources are disabled without a secret outside dev");
        assert!(prod.cors_origins.is_empty());
        let dev = load(&[("DATABASE_URL", "postgres://u@localhost/db"), ("PORTARIA_ENV", "dev")]).unwrap();
        assert!(dev.sources.hashtag.is_some() && dev.sources.generic.is_some());
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        let err =
            load(&[("DATABASE_URL", "postgres://u@h/db"), ("PORTARIA_ENV", "dev"), ("BCRYPT_COST", "99")]).unwrap_err();
        assert!(err.0.starts_with("BCRYPT_COST is invalid"), "{err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config::for_tests("postgres://u@h/db");
        let shown = format!("{c:?}");
        assert!(!shown.contains("test-hashtag-token") && !shown.contains(&c.jwt_secret));
    }

    #[test]
    fn alert_settings() {
        let base = [("DATABASE_URL", "postgres://u@h/db"), ("PORTARIA_ENV", "dev")];
        let c = load(&base).unwrap();
        assert!(c.alerts.webhook_url.is_none());
        assert_eq!(c.alerts.outbox_age, Duration::from_secs(900));
        assert_eq!(c.alerts.window, Duration::from_secs(1800));
        assert_eq!(c.alerts.rejections, 20);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        let c = load(&[
            base[0],
            base[1],
            ("ALERT_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/segredo"),
            ("ALERT_OUTBOX_AGE", "10m"),
            ("ALERT_WINDOW", "1h"),
            ("PUBLIC_URL", "https://portaria.exemplo.com/"),
        ])
        .unwrap();
        assert_eq!(c.alerts.outbox_age, Duration::from_secs(600));
        assert_eq!(c.alerts.window, Duration::from_secs(3600));
        assert_eq!(c.public_url, "https://portaria.exemplo.com");
        assert!(!format!("{c:?}").contains("segredo"));
        let err = load(&[base[0], base[1], ("ALERT_OUTBOX_AGE", "dez")]).unwrap_err();
        assert!(err.0.starts_with("ALERT_OUTBOX_AGE is invalid"), "{err}");
        let err = load(&[base[0], base[1], ("ALERT_WEBHOOK_URL", "hooks.slack.com")]).unwrap_err();
        assert!(err.0.starts_with("ALERT_WEBHOOK_URL is malformed"), "{err}");
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("15"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1s"), None);
        assert_eq!(parse_duration("5d"), None);
    }

    #[test]
    fn alert_http_config_is_read_and_checked_at_start() {
        let path = std::env::temp_dir().join(format!("portaria-alert-http-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[[alert]]\nname = 'zap'\nurl = 'https://zap.example.com/message/sendText/x'\nheaders = { apikey = '{{ env.ZAP_KEY }}' }\nbody = '{\"text\": {{ alert.text|tojson }}}'\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let base = [("DATABASE_URL", "postgres://u@h/db"), ("PORTARIA_ENV", "dev"), ("ALERT_HTTP_CONFIG", file)];
        let err = load(&base).unwrap_err();
        assert!(err.0.starts_with("ALERT_HTTP_CONFIG: ") && err.0.contains("set ZAP_KEY"), "{err}");
        let c = load(&[base[0], base[1], base[2], ("ZAP_KEY", "chave-zap")]).unwrap();
        assert!(c.alerts.webhook_url.is_none());
        assert_eq!(c.alerts.http.as_ref().unwrap().targets(), ["zap: POST zap.example.com"]);
        assert!(!format!("{c:?}").contains("chave-zap"));
        std::fs::remove_file(&path).unwrap();
        let err = load(&[base[0], base[1], ("ALERT_HTTP_CONFIG", "/nonexistent/alertas.toml")]).unwrap_err();
        assert!(err.0.starts_with("ALERT_HTTP_CONFIG: cannot read"), "{err}");
    }

    #[test]
    fn mail_is_off_without_smtp_url_and_needs_mail_from_with_it() {
        let base = [("DATABASE_URL", "postgres://u@h/db"), ("PORTARIA_ENV", "dev")];
        let off = load(&base).unwrap();
        assert!(off.mail.is_none());
        assert_eq!(
            (off.access_reminder_days, off.pix_expiry.as_secs(), off.boleto_expiry.as_secs()),
            (7, 1800, 72 * 3600)
        );
        assert!(Config::for_tests("postgres://u@h/db").mail.is_none());
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            load(&vars)
        };
        let err = with(&[("SMTP_URL", "smtp://u:hunter2@mail.local:587")]).unwrap_err();
        assert!(err.0.starts_with("MAIL_FROM is not set"), "{err}");
        let err = with(&[("SMTP_URL", "http://u:hunter2@mail.local"), ("MAIL_FROM", "a@b.co")]).unwrap_err();
        assert!(err.0.starts_with("SMTP_URL is malformed") && !err.0.contains("hunter2"), "{err}");
        let err = with(&[("SMTP_URL", "smtp://mail.local"), ("MAIL_FROM", "not an address")]).unwrap_err();
        assert!(err.0.starts_with("MAIL_FROM is not an e-mail address"), "{err}");
        let ok = with(&[
            ("SMTP_URL", "smtps://u:hunter2@mail.local:465"),
            ("SMTP_PASSWORD", "sekret-pw"),
            ("MAIL_FROM", "Escola <contato@escola.com.br>"),
            ("MAIL_REPLY_TO", "suporte@escola.com.br"),
        ])
        .unwrap();
        let mail = ok.mail.as_ref().unwrap();
        assert_eq!(mail.reply_to.as_deref(), Some("suporte@escola.com.br"));
        let shown = format!("{ok:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("sekret-pw"), "{shown}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
