//! Delivery channels (issue 11): each one delivers some treatment kinds somewhere real.
//! (Placeholder of the shared interface until the lead's `channels` commit lands on main.)

pub mod mail;
pub mod preview;

use crate::treatments::executor::Job;
use crate::treatments::rules::TreatmentKind;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Try again later (`after`: not before this long).
    Retry { error: String, after: Option<std::time::Duration> },
    /// Cannot succeed: the treatment goes to `dead` at once.
    Permanent { error: String },
}

pub trait Channel: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn handles(&self, kind: TreatmentKind) -> bool;
    fn deliver(&self, job: &Job) -> Result<String, Failure>;
}

/// The console line, then every channel that handles the kind. (Stand-in for the lead's `Router` until
/// it lands on main: here a `Failure::Permanent` is an ordinary failure, retried up to the attempts limit.)
pub struct ChannelExecutor {
    pub channels: Vec<Box<dyn Channel>>,
}

impl crate::treatments::executor::Executor for ChannelExecutor {
    fn execute(&self, job: &Job) -> Result<String, String> {
        let mut output = crate::treatments::executor::PrintExecutor.execute(job)?;
        for channel in self.channels.iter().filter(|c| c.handles(job.kind)) {
            match channel.deliver(job) {
                Ok(note) => output = format!("{output}\n{}: {note}", channel.name()),
                Err(Failure::Retry { error, .. } | Failure::Permanent { error }) => {
                    return Err(format!("{}: {error}", channel.name()))
                }
            }
        }
        Ok(output)
    }
}

/// The channels the configuration turns on (the console is always on).
pub fn from_config(config: &crate::config::Config) -> Result<Vec<Box<dyn Channel>>, crate::config::ConfigError> {
    let mut channels: Vec<Box<dyn Channel>> = vec![];
    if let Some(mail) = &config.mail {
        channels.push(Box::new(mail::MailChannel::new(mail)?));
    }
    Ok(channels)
}
