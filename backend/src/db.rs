//! The connection pool, the embedded migrations and the bridge from async handlers to
//! synchronous diesel (every query runs on actix's blocking thread pool).

use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool as R2d2Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type Pool = R2d2Pool<ConnectionManager<PgConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<PgConnection>>;

/// Opens one connection first so that an unreachable database gives its real reason, then the pool.
pub fn connect(database_url: &str, size: u32) -> Result<Pool, String> {
    PgConnection::establish(database_url).map_err(|e| {
        format!(
            "cannot connect to the database at {}: {}: check DATABASE_URL and that PostgreSQL is running (`make run` starts one)",
            crate::config::redact_url(database_url),
            e.to_string().trim()
        )
    })?;
    R2d2Pool::builder()
        // A broken connection shows up as an error on use and is then discarded; testing each
        // checkout would cost a round trip per request.
        .test_on_check_out(false)
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::<PgConnection>::new(database_url))
        .map_err(|e| format!("cannot build the database pool: {e}"))
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(conn: &mut PgConnection) -> Result<Vec<String>, String> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| format!("migrations failed: {e}"))
}

pub fn has_pending_migrations(conn: &mut PgConnection) -> Result<bool, String> {
    conn.has_pending_migration(MIGRATIONS).map_err(|e| e.to_string())
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &Pool, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

impl From<String> for ApiError {
    fn from(e: String) -> ApiError {
        ApiError::internal(e)
    }
}
