//! Webhook ingestion: raw body kept, sender authenticated, payload normalised, deduplicated, and the
//! consequences written in one transaction.

pub mod batch;
pub mod bulk;
pub mod event;
pub mod handler;
pub mod identity;
pub mod process;
pub mod rate_limit;
pub mod record;
pub mod service;
pub mod sources;
