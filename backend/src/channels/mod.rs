//! Delivery channels (placeholder until the lead's `channels` module lands on main).

pub mod http;
pub mod platform;
pub mod templated;

use crate::treatments::executor::Job;
use crate::treatments::rules::TreatmentKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Retry { error: String, after: Option<std::time::Duration> },
    Permanent { error: String },
}

pub trait Channel: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn handles(&self, kind: TreatmentKind) -> bool;
    fn deliver(&self, job: &Job) -> Result<String, Failure>;
}
