//! The connection pool, the embedded migrations and the bridge from async handlers to
//! synchronous diesel (every query runs on actix's blocking thread pool).

use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool as R2d2Pool, PooledConnection, R2D2Connection};
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type Pool = R2d2Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// A database failure off the HTTP path: at startup, in migrations, in the background loops (worker,
/// LISTEN, sweeps). Handlers get `ApiError`s instead.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "cannot connect to the database at {url}: {reason}: check DATABASE_URL and that PostgreSQL is running (`make run` starts one)"
    )]
    Connect { url: String, reason: String },
    #[error("cannot build the database pool: {0}")]
    BuildPool(#[source] diesel::r2d2::PoolError),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] DieselError),
    #[error("migrations failed: {0}")]
    Migrations(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DbError {
    /// A connection could not be opened (the URL is shown without its password).
    pub fn connect(database_url: &str, e: &ConnectionError) -> DbError {
        DbError::Connect { url: crate::config::redact_url(database_url), reason: e.to_string().trim().to_string() }
    }
}

/// How long a request waits for a connection before it is answered 503 (the database is down or
/// every connection is busy).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens PostgreSQL connections for the pool and decides which ones to throw away.
///
/// Checking every connection on checkout would cost a round trip per request, and checking none lets a
/// database restart turn every idle connection into one failed request. So the pool keeps an *epoch*:
/// a connection made in the current epoch is handed out unchecked; when any request meets a dead
/// connection it bumps the epoch, and every older connection is pinged once at its next checkout (the
/// dead ones are replaced). Steady state: no extra round trip; after a restart: no failed request.
#[derive(Debug)]
pub struct Manager {
    url: String,
    epoch: Arc<AtomicU64>,
}

/// A pooled connection: derefs to `PgConnection`.
pub struct Conn {
    conn: PgConnection,
    /// The epoch in which this connection was last known good.
    epoch: u64,
    pool_epoch: Arc<AtomicU64>,
    broken: bool,
}

impl Manager {
    pub fn new(database_url: &str) -> Manager {
        Manager { url: database_url.to_string(), epoch: Arc::new(AtomicU64::new(0)) }
    }
}

impl Conn {
    /// This connection failed at the connection level: drop it, and have every connection older than
    /// now checked before its next use (they are likely dead too).
    pub fn mark_broken(&mut self) {
        self.broken = true;
        self.pool_epoch.fetch_add(1, Ordering::SeqCst);
    }
}

impl Deref for Conn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Conn, ConnectionError> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        Ok(Conn { conn: PgConnection::establish(&self.url)?, epoch, pool_epoch: self.epoch.clone(), broken: false })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectionError> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        if conn.epoch == epoch {
            return Ok(());
        }
        conn.conn.ping().map_err(ConnectionError::CouldntSetupConfiguration)?;
        conn.epoch = epoch;
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || std::thread::panicking() || R2D2Connection::is_broken(&mut conn.conn)
    }
}

/// Opens one connection first so that an unreachable database gives its real reason, then the pool.
pub fn connect(database_url: &str, size: u32) -> Result<Pool, DbError> {
    PgConnection::establish(database_url).map_err(|e| DbError::connect(database_url, &e))?;
    R2d2Pool::builder()
        // Cheap: only connections older than the last connection failure are pinged (see `Manager`).
        .test_on_check_out(true)
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .build(Manager::new(database_url))
        .map_err(DbError::BuildPool)
}

/// Whether a diesel error means the connection itself failed (the server restarted, the network
/// dropped), as opposed to a problem with the statement.
pub fn is_connection_failure(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            [
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "could not receive data",
                "could not send data",
                "connection to server",
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        _ => false,
    }
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(DbError::Migrations)
}

pub fn has_pending_migrations(conn: &mut PgConnection) -> Result<bool, DbError> {
    conn.has_pending_migration(MIGRATIONS).map_err(DbError::Migrations)
}

/// Runs `f` with a pooled connection on the blocking thread pool. When the connection turns out to be
/// dead (a database restart), `f` runs once more on a good connection — nothing of the failed attempt
/// was committed — so a restart costs no request; while the database stays unreachable the answer is a
/// 503 with `Retry-After`.
pub async fn run<T, F>(pool: &Pool, mut f: F) -> ApiResult<T>
where
    F: FnMut(&mut PgConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut attempt = || -> ApiResult<T> {
            let mut conn = pool.get()?;
            let result = f(&mut conn);
            if result.as_ref().is_err_and(ApiError::is_database_unavailable) {
                conn.mark_broken();
            }
            result
        };
        match attempt() {
            Err(e) if e.is_database_unavailable() => {
                let cause = e.cause.as_deref().unwrap_or("unavailable");
                log::warn!("database connection lost ({cause}); retrying once on a fresh connection");
                attempt()
            }
            other => other,
        }
    })
    .await?
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Query(e) => e.into(),
            DbError::Pool(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}
