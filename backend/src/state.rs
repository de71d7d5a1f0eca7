//! What every handler shares.

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Pool;
use crate::ingest::batch::{self, GroupCommit};
use crate::ingest::process::CourseDefaults;
use crate::ingest::rate_limit::WebhookRateLimit;
use crate::notify::Bus;
use crate::shutdown::Shutdown;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub throttle: Arc<LoginThrottle>,
    /// Signals from LISTEN/NOTIFY (live stream, worker wake-up).
    pub bus: Bus,
    /// Triggered on SIGTERM / SIGINT: live streams end, workers hand back their claims.
    pub shutdown: Shutdown,
    pub rate_limit: Arc<WebhookRateLimit>,
    /// The address the HTTP server listens on, once bound (the Simulador posts to it over loopback).
    pub listening: Arc<OnceLock<SocketAddr>>,
    /// The group-commit writers that accepted webhooks go through (`ingest::batch`).
    pub ingest: Arc<GroupCommit>,
}

impl AppState {
    pub fn new(config: Config, pool: Pool) -> AppState {
        let throttle = Arc::new(LoginThrottle::new(config.login_max_failures, config.login_lockout));
        let rate_limit = Arc::new(WebhookRateLimit::new(config.webhook_rate_limit));
        let ingest = Arc::new(GroupCommit::new(
            pool.clone(),
            CourseDefaults { default_course_name: config.default_course_name.clone() },
            batch::Settings::from_config(&config),
        ));
        AppState {
            config: Arc::new(config),
            pool,
            throttle,
            bus: Bus::new(),
            shutdown: Shutdown::default(),
            rate_limit,
            listening: Arc::default(),
            ingest,
        }
    }
}
