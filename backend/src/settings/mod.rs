//! Configurações: what is on and how (secrets masked), the start-up lines naming the channels, and the
//! "send a test" of each channel. Read from `Config`; no secret value ever leaves this module.

pub mod handlers;

use crate::alerts::{self, send};
use crate::config::{AlertConfig, Config};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ingest::event::Source;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything the Configurações screen shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// Every webhook source: on when its secret is set.
    pub sources: Vec<SourceSetting>,
    pub email: EmailSetting,
    pub platform: PlatformSetting,
    pub alerts: AlertSetting,
    pub worker: WorkerSetting,
    pub retention: RetentionSetting,
    pub rate_limit: RateLimitSetting,
    /// `PUBLIC_URL`: the app's address in alerts.
    pub public_url: String,
    /// `PORTARIA_ENV=dev`: development secrets in use.
    pub dev: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceSetting {
    pub source: Source,
    /// Whether the source's secret is set (the source is enabled); never the secret.
    pub secret_set: bool,
}

/// The e-mail channel (SMTP).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EmailSetting {
    pub enabled: bool,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    /// Whether a password is set; never the password.
    pub password_set: bool,
    pub from: Option<String>,
    pub reply_to: Option<String>,
}

/// The course-platform channel (access webhooks).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct PlatformSetting {
    pub enabled: bool,
    /// The host of `ACCESS_WEBHOOK_URL` (its path may carry a token: never shown).
    pub host: Option<String>,
    /// Whether the signing secret is set; never the secret.
    pub secret_set: bool,
    /// How calls are made (`webhook` or `templated`), when on.
    pub mode: Option<String>,
}

/// Alerts to an incoming webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertSetting {
    pub enabled: bool,
    /// The host of `ALERT_WEBHOOK_URL` (the URL itself is a credential: never shown).
    pub host: Option<String>,
    /// The calls of `ALERT_HTTP_CONFIG`, each as `name: METHOD host` (never a path, query or header);
    /// empty when it is not set.
    pub http_calls: Vec<String>,
    /// `ALERT_OUTBOX_AGE`, in seconds.
    pub outbox_age_seconds: u64,
    /// `ALERT_REJECTIONS`: 401s of one source within `rejections_span_seconds` that alert.
    pub rejections: u32,
    pub rejections_span_seconds: u64,
    /// `ALERT_WINDOW`, in seconds: at most one message per condition within it.
    pub window_seconds: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerSetting {
    /// Worker loops of this process (0: it executes no treatments).
    pub concurrency: usize,
    pub max_attempts: i32,
    pub poll_ms: u64,
    pub lease_seconds: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionSetting {
    /// Days raw bodies of rejected webhooks are kept (`null`: forever).
    pub rejected_days: Option<u32>,
    /// Days raw bodies of accepted webhooks are kept (`null`: forever).
    pub raw_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitSetting {
    /// Webhook requests per second per source and client address (0: no limit).
    pub per_second: u32,
}

crate::vocabulary! {
    /// A channel with a "send a test" (`POST /api/settings/test/{channel}`).
    pub enum TestChannel {
        /// A test alert to `ALERT_WEBHOOK_URL`.
        Alert = "alert",
        /// A test e-mail to the signed-in administrator.
        Email = "email",
        /// A signed test webhook to the course platform.
        Platform = "platform",
    }
}

/// What a test send did. A failed send is an answer too (`ok: false`), never a server error.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub channel: TestChannel,
    /// Whether the other end accepted it.
    pub ok: bool,
    /// The HTTP status the endpoint answered, when it answered.
    pub status: Option<u16>,
    /// What happened, in a line (the answer's start, or why nothing arrived).
    pub detail: String,
}

// ---- the other channels' settings ------------------------------------------------------------------
// The e-mail and course-platform channels land on their own branches. Until they are merged these two
// say "not configured"; at merge, each reads its fields of `Config` (masked as the structs above say).

/// The e-mail channel's settings, or `None` when `SMTP_URL` is not set.
pub fn email_settings(config: &Config) -> Option<EmailSetting> {
    let mail = config.mail.as_ref()?;
    // host and port from the SMTP URL, never its user:password part
    let after_scheme = mail.smtp_url.split_once("://").map_or(mail.smtp_url.as_str(), |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().ok()),
        None => (host_port.to_string(), None),
    };
    let url_user = authority.rsplit_once('@').map(|(user, _)| user.split(':').next().unwrap_or("").to_string());
    Some(EmailSetting {
        enabled: true,
        host: Some(host),
        port,
        username: mail.username.clone().or(url_user.filter(|u| !u.is_empty())),
        password_set: mail.password.is_some() || authority.rsplit_once('@').is_some_and(|(u, _)| u.contains(':')),
        from: Some(mail.from.clone()),
        reply_to: mail.reply_to.clone(),
    })
}

/// The course-platform channel's settings, or `None` when neither `ACCESS_WEBHOOK_URL` nor a templated
/// mode is configured.
pub fn platform_settings(config: &Config) -> Option<PlatformSetting> {
    let p = &config.platform;
    p.enabled().then(|| PlatformSetting {
        enabled: true,
        host: p.webhook_url.as_deref().map(send::host),
        secret_set: p.webhook_secret.is_some(),
        mode: Some(if p.http.is_some() { "templated" } else { "webhook" }.to_string()),
    })
}

pub fn alert_setting(alerts: &AlertConfig) -> AlertSetting {
    AlertSetting {
        enabled: alerts.webhook_url.is_some() || alerts.http.is_some(),
        host: alerts.webhook_url.as_deref().map(send::host),
        http_calls: alerts.http.as_ref().map(|plan| plan.targets()).unwrap_or_default(),
        outbox_age_seconds: alerts.outbox_age.as_secs(),
        rejections: alerts.rejections,
        rejections_span_seconds: AlertConfig::REJECTIONS_SPAN.as_secs(),
        window_seconds: alerts.window.as_secs(),
    }
}

/// The settings of `config`, secrets masked.
pub fn settings(config: &Config) -> Settings {
    let s = &config.sources;
    let sources = Source::ALL
        .into_iter()
        .map(|source| {
            let secret = match source {
                Source::Hashtag => &s.hashtag,
                Source::Hotmart => &s.hotmart,
                Source::Kiwify => &s.kiwify,
                Source::Generic => &s.generic,
                Source::Eduzz => &s.eduzz,
                Source::Monetizze => &s.monetizze,
            };
            SourceSetting { source, secret_set: secret.is_some() }
        })
        .collect();
    Settings {
        sources,
        email: email_settings(config).unwrap_or_default(),
        platform: platform_settings(config).unwrap_or_default(),
        alerts: alert_setting(&config.alerts),
        worker: WorkerSetting {
            concurrency: config.worker_concurrency,
            max_attempts: config.worker_max_attempts,
            poll_ms: config.worker_poll.as_millis() as u64,
            lease_seconds: config.worker_lease.as_secs(),
        },
        retention: RetentionSetting {
            rejected_days: config.retention_days_rejected,
            raw_days: config.retention_days_raw,
        },
        rate_limit: RateLimitSetting { per_second: config.webhook_rate_limit },
        public_url: config.public_url.clone(),
        dev: config.dev,
    }
}

/// One line per channel for the start-up log: `e-mail: ligado (smtp.exemplo.com:587)` / `e-mail: desligado`.
pub fn channel_lines(config: &Config) -> Vec<String> {
    let line = |name: &str, on: Option<String>| match on {
        Some(how) => format!("{name}: ligado ({how})"),
        None => format!("{name}: desligado"),
    };
    let email = email_settings(config).filter(|e| e.enabled).map(|e| match (e.host, e.port) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (host, _) => host.unwrap_or_else(|| "SMTP".into()),
    });
    let platform =
        platform_settings(config).filter(|p| p.enabled).map(|p| p.host.or(p.mode).unwrap_or_else(|| "ligada".into()));
    let alerts = match (config.alerts.webhook_url.as_deref().map(send::host), &config.alerts.http) {
        (Some(host), Some(_)) => Some(format!("{host} e chamadas configuradas")),
        (Some(host), None) => Some(host),
        (None, Some(_)) => Some("chamadas configuradas".into()),
        (None, None) => None,
    };
    vec![line("e-mail", email), line("plataforma do curso", platform), line("alertas", alerts)]
}

/// Sends a test through `channel` now. Blocking (it waits for the other end). 409 `channel_off` when
/// the channel is not configured.
pub fn test(config: &Config, channel: TestChannel, admin_email: &str) -> ApiResult<TestResult> {
    let off = |what: &str| {
        ApiError::conflict(ErrorCode::ChannelOff, format!("The {what} channel is not configured on this server."))
    };
    match channel {
        TestChannel::Alert => {
            let alerter = alerts::Alerter::from_config(config).ok_or_else(|| off("alert"))?;
            let report = alerter.test(admin_email);
            Ok(TestResult { channel, ok: report.ok, status: report.status, detail: report.detail })
        }
        // At merge: a test e-mail to `admin_email` through the e-mail `Channel` (`deliver` of a sample job).
        // The welcome message with sample data, to the signed-in administrator.
        TestChannel::Email => {
            use crate::channels::{mail, Channel};
            let mail_config = config.mail.as_ref().ok_or_else(|| off("e-mail"))?;
            let sender = mail::MailChannel::new(mail_config).map_err(|e| ApiError::internal(e.0))?;
            let kind = crate::treatments::rules::TreatmentKind::WelcomeMessage;
            let mut payload = mail::sample_payload(kind);
            payload["email"] = serde_json::json!(admin_email);
            let job = crate::treatments::executor::Job { id: 0, kind, attempt: 1, payload };
            Ok(match sender.deliver(&job) {
                Ok(note) => TestResult { channel, ok: true, status: None, detail: note },
                Err(failure) => TestResult { channel, ok: false, status: None, detail: failure.error().to_string() },
            })
        }
        // A signed `access.test` webhook to ACCESS_WEBHOOK_URL.
        TestChannel::Platform => {
            platform_settings(config).filter(|p| p.enabled).ok_or_else(|| off("course-platform"))?;
            Ok(match crate::channels::platform::send_test(&config.platform, admin_email) {
                Ok(note) => TestResult { channel, ok: true, status: None, detail: note },
                Err(failure) => TestResult { channel, ok: false, status: None, detail: failure.error().to_string() },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_never_show_a_secret() {
        let mut config = Config::for_tests("postgres://u:dbsenha@h/db");
        config.alerts.webhook_url = Some("https://hooks.slack.com/services/T0/B0/segredo".into());
        let shown = serde_json::to_string(&settings(&config)).unwrap();
        for secret in ["segredo", "test-hashtag-token", "test-hotmart-hottok", "dbsenha", &config.jwt_secret] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("hooks.slack.com"));
    }

    #[test]
    fn start_up_lines_name_every_channel() {
        let mut config = Config::for_tests("postgres://u@h/db");
        assert_eq!(
            channel_lines(&config),
            ["e-mail: desligado", "plataforma do curso: desligado", "alertas: desligado"]
        );
        config.alerts.webhook_url = Some("https://discord.com/api/webhooks/1/abc".into());
        assert_eq!(channel_lines(&config)[2], "alertas: ligado (discord.com)");
    }
}
