//! The staff API: customers, timelines, events, treatments, reports, stats, live stream, the team and the audit.

pub mod audit;
pub mod audit_queries;
pub mod audit_routes;
pub mod csv;
pub mod customers;
pub mod events;
pub mod filters;
pub mod pagination;
pub mod queries;
pub mod reports;
pub mod stats;
pub mod stream;
pub mod team;
pub mod treatments;
pub mod views;
