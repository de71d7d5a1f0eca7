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
