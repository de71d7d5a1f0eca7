//! Treatments: what to do for a customer (rules), doing it (executor), reliably (worker, sweep).

pub mod executor;
pub mod rules;
pub mod store;
pub mod sweep;
pub mod worker;
