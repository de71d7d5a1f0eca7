//! Portaria: payment webhooks in, course access out, every decision on record.

pub mod app;
pub mod auth;
pub mod body_deadline;
pub mod config;
pub mod db;
pub mod error;
pub mod frontend;
pub mod health;
pub mod healthcheck;
pub mod ingest;
pub mod maintenance;
pub mod metrics;
pub mod models;
pub mod note;
pub mod notify;
pub mod openapi;
pub mod retention;
pub mod schema;
pub mod security_headers;
pub mod server;
pub mod shutdown;
pub mod staff;
pub mod state;
pub mod telemetry;
pub mod treatments;
pub mod vocabulary;
