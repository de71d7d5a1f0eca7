//! Test support: a fresh PostgreSQL database per test, cloned from a migrated template database,
//! dropped when the test ends. Base server: TEST_DATABASE_URL, else DATABASE_URL, else
//! postgres://postgres@127.0.0.1:5432/postgres.
#![allow(dead_code)]

pub mod cluster;
pub mod payloads;
pub mod server;

use diesel::prelude::*;
use diesel::sql_query;
use portaria::config::Config;
use portaria::state::AppState;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

fn base_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The template's name changes whenever a migration changes.
fn template_name() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&f).expect("read migration"));
    }
    format!("portaria_tmpl_{}", &hex::encode(hasher.finalize())[..12])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).expect("migrations dir") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn ensure_template(admin_url: &str) -> String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let name = template_name();
            let mut admin = PgConnection::establish(admin_url).unwrap_or_else(|e| {
                panic!("tests need PostgreSQL at {admin_url}: {e} (set TEST_DATABASE_URL or start PostgreSQL)")
            });
            // One builder at a time across test binaries running in parallel.
            sql_query("SELECT pg_advisory_lock(727274)").execute(&mut admin).expect("lock");
            if !database_exists(&mut admin, &name) {
                let building = format!("{name}_building");
                sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).execute(&mut admin).unwrap();
                sql_query(format!("CREATE DATABASE {building}")).execute(&mut admin).unwrap();
                {
                    let mut conn = PgConnection::establish(&with_database(admin_url, &building)).unwrap();
                    portaria::db::migrate(&mut conn).expect("migrate the template");
                }
                sql_query(format!("ALTER DATABASE {building} RENAME TO {name}")).execute(&mut admin).unwrap();
            }
            sql_query("SELECT pg_advisory_unlock(727274)").execute(&mut admin).expect("unlock");
            name
        })
        .clone()
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Count>(conn)
        .expect("pg_database")
        .n
        > 0
}

impl TestDb {
    pub fn new() -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = with_database(&base_url(), "postgres");
        let template = ensure_template(&admin_url);
        let name = format!(
            "portaria_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        );
        let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
        sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut admin).expect("clone template");
        TestDb { url: with_database(&admin_url, &name), name, admin_url }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("test connection")
    }

    /// The database's name (for the admin statements of fault tests).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection to the server's `postgres` database, outside the test database.
    pub fn admin(&self) -> PgConnection {
        PgConnection::establish(&self.admin_url).expect("admin connection")
    }

    pub fn config(&self) -> Config {
        Config::for_tests(&self.url)
    }

    pub fn state(&self) -> AppState {
        self.state_with(self.config())
    }

    pub fn state_with(&self, config: Config) -> AppState {
        let pool = portaria::db::connect(&self.url, 8).expect("pool");
        AppState::new(config, pool)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
        }
    }
}

/// An initialised in-process app over `state`, with the middleware `portaria serve` puts on every response.
#[macro_export]
macro_rules! app {
    ($state:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .wrap(actix_web::middleware::from_fn(portaria::body_deadline::bound))
                .wrap(actix_web::middleware::from_fn(portaria::security_headers::add))
                .wrap(portaria::telemetry::tracing_logger())
                .wrap(actix_web::middleware::from_fn(portaria::telemetry::request))
                .configure(portaria::app::configure($state)),
        )
        .await
    };
}

pub const INVITE: &str = portaria::config::DEFAULT_SIGNUP_TOKEN;

/// JSON body of a response.
pub async fn json<B: actix_web::body::MessageBody>(res: actix_web::dev::ServiceResponse<B>) -> serde_json::Value {
    let bytes = actix_web::test::read_body(res).await;
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

// ---- webhooks -------------------------------------------------------------------------------

pub const HASHTAG_TOKEN: &str = "test-hashtag-token";
pub const HOTTOK: &str = "test-hotmart-hottok";
pub const KIWIFY_TOKEN: &str = "test-kiwify-token";
pub const GENERIC_SECRET: &str = "whsec_ZmFrZS1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMzJieXQ=";
pub const EDUZZ_SECRET: &str = "test-eduzz-secret";
pub const MONETIZZE_KEY: &str = "test-monetizze-key";

pub fn fixture(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

pub fn kiwify_signature(body: &(impl AsRef<[u8]> + ?Sized)) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(KIWIFY_TOKEN.as_bytes()).unwrap();
    mac.update(body.as_ref());
    hex::encode(mac.finalize().into_bytes())
}

/// What Eduzz sends as `x-signature`: HMAC-SHA256 of the body, hex.
pub fn eduzz_signature(body: &(impl AsRef<[u8]> + ?Sized)) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(EDUZZ_SECRET.as_bytes()).unwrap();
    mac.update(body.as_ref());
    hex::encode(mac.finalize().into_bytes())
}

/// Standard Webhooks signature headers for `body`, signed now.
pub fn generic_headers(
    msg_id: &str,
    body: &(impl AsRef<[u8]> + ?Sized),
    timestamp: i64,
) -> Vec<(&'static str, String)> {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(GENERIC_SECRET.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body.as_ref());
    let sig = b64.encode(mac.finalize().into_bytes());
    vec![
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", format!("v1,{sig}")),
    ]
}

/// A correctly authenticated request for `source` with `body` (no Content-Type, like the simulator).
pub fn webhook(source: &str, body: &(impl AsRef<[u8]> + ?Sized)) -> actix_web::test::TestRequest {
    let body = body.as_ref();
    let req = actix_web::test::TestRequest::post().set_payload(body.to_vec());
    match source {
        "hashtag" => req.uri(&format!("/webhooks/hashtag?token={HASHTAG_TOKEN}")),
        "hotmart" => req.uri("/webhooks/hotmart").insert_header(("X-HOTMART-HOTTOK", HOTTOK)),
        "kiwify" => req.uri(&format!("/webhooks/kiwify?signature={}", kiwify_signature(body))),
        "generic" => {
            let id = format!("msg_{}", hex::encode(Sha256::digest(body)));
            generic_headers(&id, body, chrono::Utc::now().timestamp())
                .into_iter()
                .fold(req.uri("/webhooks/generic"), |r, h| r.insert_header(h))
        }
        "eduzz" => req.uri("/webhooks/eduzz").insert_header(("x-signature", eduzz_signature(body))),
        other => req.uri(&format!("/webhooks/{other}")),
    }
}

// ---- worker ---------------------------------------------------------------------------------

/// An executor that records every execution and succeeds with the default line.
#[derive(Default)]
pub struct Recording {
    pub runs: std::sync::Mutex<Vec<(i64, i32)>>,
    pub fail_kinds: Vec<portaria::treatments::rules::TreatmentKind>,
}

impl portaria::treatments::executor::Executor for Recording {
    fn execute(&self, job: &portaria::treatments::executor::Job) -> Result<String, portaria::channels::Failure> {
        self.runs.lock().unwrap().push((job.id, job.attempt));
        if self.fail_kinds.contains(&job.kind) {
            return Err(portaria::channels::Failure::retry("channel unavailable"));
        }
        Ok(portaria::treatments::executor::describe(job))
    }
}

pub fn worker(
    state: &AppState,
    executor: std::sync::Arc<dyn portaria::treatments::executor::Executor>,
) -> portaria::treatments::worker::Worker {
    portaria::treatments::worker::Worker {
        pool: state.pool.clone(),
        executor,
        max_attempts: state.config.worker_max_attempts,
        lease: chrono::Duration::seconds(60),
        batch: 10,
        shutdown: Default::default(),
    }
}

// ---- staff ----------------------------------------------------------------------------------

/// Signs up and logs in a staff user on `app`; returns the bearer header value.
pub async fn staff_token<S, B>(app: &S) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    use actix_web::test::{call_service, TestRequest};
    let email = format!("staff{}@escola.com.br", rand::random::<u32>());
    let signup =
        serde_json::json!({"email": email, "password": "senha-forte-1", "name": "Equipe", "invite_token": INVITE});
    call_service(app, TestRequest::post().uri("/api/auth/signup").set_json(signup).to_request()).await;
    let login = serde_json::json!({"email": email, "password": "senha-forte-1"});
    let res = call_service(app, TestRequest::post().uri("/api/auth/login").set_json(login).to_request()).await;
    let body = json(res).await;
    format!("Bearer {}", body["access_token"].as_str().expect("token"))
}

/// A `suporte` user's bearer header: the first account of a database is its admin, so this signs up a
/// throwaway account first (harmless when an admin already exists) and then the support user.
pub async fn support_token<S, B>(app: &S) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let _first = staff_token(app).await;
    staff_token(app).await
}

/// A GET with the bearer token.
pub fn get(uri: &str, token: &str) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::get().uri(uri).insert_header(("Authorization", token.to_string()))
}

/// A POST with the bearer token.
pub fn post(uri: &str, token: &str) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::post().uri(uri).insert_header(("Authorization", token.to_string()))
}

/// A hashtag (simulator) body.
pub fn simulator(name: &str, email: &str, status: &str, valor: f64) -> String {
    serde_json::json!({"nome": name, "email": email, "status": status, "valor": valor, "forma_pagamento": "pix", "parcelas": 1})
        .to_string()
}
