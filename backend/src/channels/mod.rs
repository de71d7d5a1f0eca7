//! Delivery channels: where a treatment really happens besides the console line. E-mail to the buyer,
//! the course platform, ... each a [`Channel`] chosen by configuration; the [`Router`] is the worker's
//! executor: it always prints (and stores) the console line, then runs every configured channel that
//! handles the treatment's kind.
//!
//! Delivery is at least once: a channel that succeeded and then lost its result (a crash before the
//! commit) runs again on the next attempt, so every channel sends a stable id per treatment (the e-mail's
//! `Message-ID`, the platform webhook's `webhook-id`) for the receiver to recognise a repeat.

pub mod http;
pub mod mail;
pub mod platform;
pub mod preview;
pub mod templated;

use crate::config::Config;
use crate::db::Pool;
use crate::treatments::executor::{describe, Executor, Job};
use crate::treatments::rules::TreatmentKind;
use std::sync::Arc;
use std::time::Duration;

/// Why a delivery did not happen, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A timeout, a connection failure, a 5xx or a 429: try again after the backoff, or after `after`
    /// when the receiver said when (`Retry-After`), whichever is later.
    Retry { error: String, after: Option<Duration> },
    /// The receiver refused for good (a 4xx other than 429, an unknown recipient): no retry; the
    /// treatment is `dead` at once with the answer kept.
    Permanent { error: String },
}

impl Failure {
    pub fn retry(error: impl Into<String>) -> Failure {
        Failure::Retry { error: error.into(), after: None }
    }
    pub fn retry_after(error: impl Into<String>, after: Option<Duration>) -> Failure {
        Failure::Retry { error: error.into(), after }
    }
    pub fn permanent(error: impl Into<String>) -> Failure {
        Failure::Permanent { error: error.into() }
    }
    /// The error as recorded on the treatment (`last_error`).
    pub fn error(&self) -> &str {
        match self {
            Failure::Retry { error, .. } | Failure::Permanent { error } => error,
        }
    }
    pub fn is_permanent(&self) -> bool {
        matches!(self, Failure::Permanent { .. })
    }
    /// The same failure with its error prefixed by the channel's name.
    fn within(self, channel: &str) -> Failure {
        match self {
            Failure::Retry { error, after } => Failure::Retry { error: format!("{channel}: {error}"), after },
            Failure::Permanent { error } => Failure::Permanent { error: format!("{channel}: {error}") },
        }
    }
}

/// One way a treatment really happens (e-mail, the course platform, ...).
pub trait Channel: Send + Sync + 'static {
    /// A short stable name: `email`, `platform`, ... (shown in the output and in Configurações).
    fn name(&self) -> &'static str;
    /// Whether this channel delivers treatments of this kind.
    fn handles(&self, kind: TreatmentKind) -> bool;
    /// Delivers one treatment; `Ok` is a short note of what was done (recorded with the output).
    /// Blocking: the worker runs it on a blocking thread. Must time out on its own.
    fn deliver(&self, job: &Job) -> Result<String, Failure>;
}

/// Why a configured channel cannot start (a malformed URL, a missing sender address, ...).
#[derive(Debug, thiserror::Error)]
#[error("channel {channel}: {message}")]
pub struct ChannelError {
    pub channel: &'static str,
    pub message: String,
}

/// The channels the configuration turns on, each logged at start as on or off. None by default:
/// then every treatment is the console line alone.
pub fn configured(config: &Config, pool: &Pool) -> Result<Vec<Arc<dyn Channel>>, ChannelError> {
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(mail) = &config.mail {
        let channel = mail::MailChannel::new(mail).map_err(|e| ChannelError { channel: "email", message: e.0 })?;
        channels.push(Arc::new(channel));
    }
    if config.platform.enabled() {
        channels.push(Arc::new(platform::PlatformChannel::new(config.platform.clone(), pool.clone())));
    }
    Ok(channels)
}

/// The worker's executor: the console line always, then every configured channel for the kind.
#[derive(Clone, Default)]
pub struct Router {
    channels: Vec<Arc<dyn Channel>>,
}

impl Router {
    pub fn new(channels: Vec<Arc<dyn Channel>>) -> Router {
        Router { channels }
    }
    /// The names of the configured channels.
    pub fn channel_names(&self) -> Vec<&'static str> {
        self.channels.iter().map(|c| c.name()).collect()
    }
}

impl Executor for Router {
    fn execute(&self, job: &Job) -> Result<String, Failure> {
        if job.email().is_empty() {
            return Err(Failure::permanent("the treatment has no e-mail"));
        }
        let line = describe(job);
        println!("{line}");
        let mut output = line;
        for channel in self.channels.iter().filter(|c| c.handles(job.kind)) {
            let note = channel.deliver(job).map_err(|f| f.within(channel.name()))?;
            output.push_str(&format!("\n{}: {note}", channel.name()));
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    struct Recorder {
        kinds: &'static [TreatmentKind],
        answer: Result<String, Failure>,
        seen: Mutex<Vec<i64>>,
    }

    impl Channel for Recorder {
        fn name(&self) -> &'static str {
            "test"
        }
        fn handles(&self, kind: TreatmentKind) -> bool {
            self.kinds.contains(&kind)
        }
        fn deliver(&self, job: &Job) -> Result<String, Failure> {
            self.seen.lock().unwrap().push(job.id);
            self.answer.clone()
        }
    }

    fn job(kind: TreatmentKind) -> Job {
        Job { id: 7, kind, attempt: 1, payload: json!({"email": "a@b.co"}) }
    }

    #[test]
    fn the_console_line_alone_without_channels() {
        assert_eq!(
            Router::default().execute(&job(TreatmentKind::GrantAccess)).unwrap(),
            "Liberar acesso do e-mail: a@b.co"
        );
        assert!(Router::default()
            .execute(&Job { payload: json!({}), ..job(TreatmentKind::GrantAccess) })
            .unwrap_err()
            .is_permanent());
    }

    #[test]
    fn a_channel_runs_for_its_kinds_and_its_failure_names_it() {
        let ok = Arc::new(Recorder {
            kinds: &[TreatmentKind::WelcomeMessage],
            answer: Ok("enviado".into()),
            seen: Mutex::default(),
        });
        let router = Router::new(vec![ok.clone()]);
        assert_eq!(router.execute(&job(TreatmentKind::GrantAccess)).unwrap(), "Liberar acesso do e-mail: a@b.co");
        assert!(ok.seen.lock().unwrap().is_empty());
        let out = router.execute(&job(TreatmentKind::WelcomeMessage)).unwrap();
        assert!(out.ends_with("\ntest: enviado"), "{out}");
        assert_eq!(*ok.seen.lock().unwrap(), vec![7]);

        let failing = Router::new(vec![Arc::new(Recorder {
            kinds: &[TreatmentKind::GrantAccess],
            answer: Err(Failure::retry_after("HTTP 503", Some(Duration::from_secs(30)))),
            seen: Mutex::default(),
        })]);
        assert_eq!(
            failing.execute(&job(TreatmentKind::GrantAccess)).unwrap_err(),
            Failure::Retry { error: "test: HTTP 503".into(), after: Some(Duration::from_secs(30)) }
        );
    }
}
