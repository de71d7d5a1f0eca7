//! A sender that stalls mid-body (issue 8, defect 5): headers plus half a body, then silence. The read
//! is bounded: 408 `request_timeout`, the connection closed, a webhook on record. Over real sockets.

mod common;

use common::*;
use diesel::prelude::*;
use portaria::schema::webhook_events;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A real server with the middleware of `portaria serve` and a 1.5 s body deadline.
fn start(db: &TestDb) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let mut config = db.config();
    config.body_read_timeout = Duration::from_millis(1500);
    let state = db.state_with(config);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(portaria::body_deadline::bound))
            .configure(portaria::app::configure(state.clone()))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

/// Sends the head and half of `body`, then waits for the answer until the server closes.
async fn stall(addr: std::net::SocketAddr, path: String, body: String) -> String {
    stall_with(addr, "POST", path, String::new(), body).await
}

/// [`stall`] with another method and extra header lines (each ending in CRLF).
async fn stall_with(
    addr: std::net::SocketAddr,
    method: &'static str,
    path: String,
    headers: String,
    body: String,
) -> String {
    actix_web::web::block(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
        // then silence: the server must answer and close the connection (read_to_string returns at
        // end-of-stream; the read timeout only keeps a broken server from hanging the test)
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the server closes the connection");
        answer
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn a_stalled_body_is_408_recorded_and_closed() {
    let db = TestDb::new();
    let (addr, handle) = start(&db);
    let path = format!("/webhooks/hashtag?token={HASHTAG_TOKEN}");
    let answer = stall(addr, path, simulator("Ana", "ana@example.com", "aprovado", 10.0)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");

    let (outcome, truncated_body): (String, String) = webhook_events::table
        .select((webhook_events::outcome, webhook_events::raw_body))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(outcome, "request_timeout");
    assert!(!truncated_body.is_empty(), "what arrived is kept");
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_stalled_staff_api_body_is_408_and_closed() {
    let db = TestDb::new();
    let (addr, handle) = start(&db);
    let login = serde_json::json!({"email": "ana@example.com", "password": "senha-forte-1"}).to_string();
    let answer = stall(addr, "/api/auth/login".into(), login).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_stalled_body_of_a_signed_in_route_is_408_and_closed() {
    let db = TestDb::new();
    let (addr, handle) = start(&db);
    let admin = {
        let mut conn = db.conn();
        portaria::auth::users::insert(&mut conn, "dona@example.com", "Dona", "$2b$04$unused").unwrap()
    };
    let secret = db.config().jwt_secret;
    let jwt = portaria::auth::jwt::issue(admin.id, &admin.email, 0, &secret, 600, chrono::Utc::now().timestamp());
    let auth = format!("Authorization: Bearer {}\r\n", jwt.unwrap());
    let change = serde_json::json!({"current_password": "senha-forte-1", "new_password": "outra-senha-1"});
    let routes = [
        ("POST", "/api/auth/password".to_string(), change),
        ("PATCH", format!("/api/users/{}", admin.id), serde_json::json!({"active": true})),
    ];
    for (method, path, body) in routes {
        let answer = stall_with(addr, method, path.clone(), auth.clone(), body.to_string()).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{method} {path}: {answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }
    handle.stop(false).await;
}
