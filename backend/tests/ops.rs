//! Operations: security headers on every response, `portaria healthcheck` against real servers, and the
//! binary itself (`migrate` without JWT_SECRET, `serve` with the headers wired in).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::TestDb;
use portaria::healthcheck;
use portaria::security_headers::{APP_CSP, DOCS_CSP};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portaria");

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn assert_security_headers(what: &str, headers: &[(String, String)], csp: &str) {
    assert_eq!(header(headers, "content-security-policy"), Some(csp), "{what}: {headers:?}");
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"), "{what}");
}

fn frontend_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portaria-ops-{tag}-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Portaria</title>").unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
    dir
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let db = TestDb::new();
    let dir = frontend_dir("headers");
    let mut config = db.config();
    config.frontend_dir = dir.clone();
    let app = app!(db.state_with(config));
    let cases: [(TestRequest, StatusCode, &str); 10] = [
        (TestRequest::get().uri("/"), StatusCode::OK, APP_CSP),
        (TestRequest::get().uri("/clientes/42"), StatusCode::OK, APP_CSP),
        (TestRequest::get().uri("/assets/app.js"), StatusCode::OK, APP_CSP),
        (TestRequest::get().uri("/assets/missing.js"), StatusCode::NOT_FOUND, APP_CSP),
        (TestRequest::get().uri("/healthz"), StatusCode::OK, APP_CSP),
        (TestRequest::get().uri("/api/customers"), StatusCode::UNAUTHORIZED, APP_CSP),
        (TestRequest::get().uri("/api/no-such-route"), StatusCode::NOT_FOUND, APP_CSP),
        (common::webhook("hashtag", "{").uri("/webhooks/hashtag?token=wrong"), StatusCode::UNAUTHORIZED, APP_CSP),
        (TestRequest::get().uri("/api/openapi.json"), StatusCode::OK, APP_CSP),
        (TestRequest::get().uri("/api/docs/"), StatusCode::OK, DOCS_CSP),
    ];
    for (req, status, csp) in cases {
        let req = req.to_request();
        let what = format!("{} {}", req.method(), req.path());
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), status, "{what}");
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        assert_security_headers(&what, &headers, csp);
    }
    // A JSON error body keeps its JSON content type next to the headers.
    let res = test::call_service(&app, TestRequest::get().uri("/api/customers").to_request()).await;
    assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    std::fs::remove_dir_all(dir).ok();
}

/// A loopback server that answers every connection with `status` and closes.
fn fixed_status_server(status: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
        }
    });
    addr
}

fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap() // dropped: nothing listens there any more
}

#[actix_web::test]
async fn healthcheck_against_real_servers() {
    let db = TestDb::new();
    let state = db.state();
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(portaria::app::configure(state.clone())))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let up = tokio::task::spawn_blocking(move || healthcheck::check(addr, healthcheck::TIMEOUT)).await.unwrap();
    assert!(up.is_ok(), "{up:?}");
    let unavailable = fixed_status_server("503 Service Unavailable");
    let err = tokio::task::spawn_blocking(move || healthcheck::check(unavailable, healthcheck::TIMEOUT)).await.unwrap();
    assert!(err.unwrap_err().to_string().contains("answered 503"));
    let not_http = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Some(Ok(mut conn)) = listener.incoming().next() {
                let _ = conn.write_all(b"SSH-2.0-OpenSSH\r\n");
            }
        });
        addr
    };
    let err = tokio::task::spawn_blocking(move || healthcheck::check(not_http, healthcheck::TIMEOUT)).await.unwrap();
    assert!(err.unwrap_err().to_string().contains("did not answer HTTP"));
    let closed = closed_port();
    let err = tokio::task::spawn_blocking(move || healthcheck::check(closed, healthcheck::TIMEOUT)).await.unwrap();
    assert!(err.unwrap_err().to_string().starts_with("connect to"));
    handle.stop(true).await;
}

/// `GET path` over a plain connection: the status code and the headers.
fn raw_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    (status, headers)
}

fn healthcheck_exit(bind: &str) -> (Option<i32>, String) {
    let out = Command::new(BIN).env_clear().env("PORTARIA_BIND", bind).arg("healthcheck").output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_migrates_without_jwt_secret_and_serves_with_the_headers() {
    let db = TestDb::new();

    // migrate: DATABASE_URL only, production mode.
    let out = Command::new(BIN).env_clear().env("DATABASE_URL", &db.url).arg("migrate").output().unwrap();
    assert!(out.status.success(), "migrate failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied 0 migration(s)"));
    // serve still requires the secret, and says so.
    let out = Command::new(BIN).env_clear().env("DATABASE_URL", &db.url).arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is not set"));

    // serve for real, then probe it with the healthcheck subcommand.
    let addr = closed_port();
    let bind = addr.to_string();
    let dir = frontend_dir("serve");
    let log = std::env::temp_dir().join(format!("portaria-ops-serve-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).unwrap();
    let mut server = Server(
        Command::new(BIN)
            .env_clear()
            .env("DATABASE_URL", &db.url)
            .env("PORTARIA_BIND", &bind)
            .env("JWT_SECRET", "x".repeat(40))
            .env("FRONTEND_DIR", &dir)
            .env("WORKER_CONCURRENCY", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("portaria serve exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        if healthcheck::check(addr, Duration::from_secs(1)).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "portaria serve did not come up: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(healthcheck_exit(&bind).0, Some(0));
    assert_eq!(
        healthcheck_exit(&format!("0.0.0.0:{}", addr.port())).0,
        Some(0),
        "a wildcard bind is probed on loopback"
    );

    for (path, status, csp) in [
        ("/", 200, APP_CSP),
        ("/eventos", 200, APP_CSP),
        ("/api/auth/me", 401, APP_CSP),
        ("/readyz", 200, APP_CSP),
        ("/api/docs/", 200, DOCS_CSP),
    ] {
        let (got, headers) = raw_get(addr, path);
        assert_eq!(got, status, "{path}");
        assert_security_headers(path, &headers, csp);
    }

    drop(server);
    let (code, stderr) = healthcheck_exit(&bind);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("unhealthy: connect to"), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_file(log).ok();
}
