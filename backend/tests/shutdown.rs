//! Graceful shutdown (issue 8, item 9): SIGTERM finishes in-flight requests, ends live streams and
//! hands back treatments a worker claimed but did not start.

mod common;

use common::*;
use diesel::prelude::*;
use portaria::schema::treatments;
use portaria::treatments::executor::{describe, Executor, Job};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Executes one treatment, and the stop signal arrives while it runs.
struct StopsDuringFirst {
    shutdown: portaria::shutdown::Shutdown,
    ran: Mutex<Vec<i64>>,
}

impl Executor for StopsDuringFirst {
    fn execute(&self, job: &Job) -> Result<String, portaria::channels::Failure> {
        self.ran.lock().unwrap().push(job.id);
        self.shutdown.trigger();
        Ok(describe(job))
    }
}

#[actix_web::test]
async fn a_stopping_worker_finishes_the_treatment_in_hand_and_releases_the_rest() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    for i in 0..3 {
        let body = simulator("Ana", &format!("ana{i}@example.com"), "aprovado", 10.0);
        actix_web::test::call_service(&app, webhook("hashtag", &body).to_request()).await;
    }
    let executor = Arc::new(StopsDuringFirst { shutdown: Default::default(), ran: Mutex::default() });
    let mut stopping = worker(&state, executor.clone());
    stopping.shutdown = executor.shutdown.clone();
    let handled = actix_web::web::block(move || stopping.run_batch()).await.unwrap().unwrap();
    assert_eq!(handled, 1, "one executed, then it stopped");
    assert_eq!(executor.ran.lock().unwrap().len(), 1);

    let rows: Vec<(String, i32, Option<chrono::DateTime<chrono::Utc>>)> = treatments::table
        .order(treatments::id)
        .select((treatments::status, treatments::attempts, treatments::lease_until))
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows.iter().filter(|r| r.0 == "done").count(), 1);
    for (status, attempts, lease) in rows.iter().filter(|r| r.0 != "done") {
        assert_eq!((status.as_str(), *attempts, *lease), ("pending", 0, None), "released untouched");
    }
    // another worker (the next replica) takes them at once
    let next = worker(&state, Arc::new(Recording::default()));
    assert_eq!(actix_web::web::block(move || next.drain()).await.unwrap().unwrap(), 5);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 exchange on a fresh connection; returns (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

#[test]
fn sigterm_finishes_in_flight_requests_ends_streams_and_exits_cleanly() {
    let db = TestDb::new();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portaria"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("PORTARIA_ENV", "dev")
        .env("PORTARIA_BIND", addr.to_string())
        .env("HASHTAG_WEBHOOK_TOKEN", HASHTAG_TOKEN)
        .env("BCRYPT_COST", "4")
        .env("FRONTEND_DIR", "/nonexistent")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let ready = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        TcpStream::connect(addr).is_ok()
    });
    assert!(ready, "the server listens");

    let signup = serde_json::json!({"email": "a@escola.com.br", "password": "senha-forte-1", "name": "A", "invite_token": INVITE});
    assert_eq!(
        http(addr, "POST", "/api/auth/signup", &[("Content-Type", "application/json")], &signup.to_string()).0,
        201
    );
    let login = serde_json::json!({"email": "a@escola.com.br", "password": "senha-forte-1"});
    let (_, body) = http(addr, "POST", "/api/auth/login", &[("Content-Type", "application/json")], &login.to_string());
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());

    // a live stream, open
    let mut sse = TcpStream::connect(addr).unwrap();
    sse.write_all(format!("GET /api/stream HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer}\r\n\r\n").as_bytes())
        .unwrap();
    let mut sse = BufReader::new(sse);
    let mut line = String::new();
    sse.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");

    // an in-flight webhook: headers and half the body sent
    let body = simulator("Ana", "ana@example.com", "aprovado", 10.0);
    let mut in_flight = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /webhooks/hashtag?token={HASHTAG_TOKEN} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).unwrap();
    in_flight.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // the in-flight request completes
    in_flight.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"processed\""), "{answer}");

    // the live stream ends (end of stream, not a hang)
    sse.get_mut().set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut rest = Vec::new();
    sse.read_to_end(&mut rest).expect("the stream is closed by the server");

    // the process exits cleanly
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // new connections are refused
    assert!(TcpStream::connect(addr).is_err());
    let running: i64 =
        treatments::table.filter(treatments::status.eq("running")).count().get_result(&mut db.conn()).unwrap();
    assert_eq!(running, 0, "nothing left leased");
}
