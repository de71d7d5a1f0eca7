//! A sender that stalls mid-body (issue 8, defect 5): headers plus half a body, then silence. The read
//! is bounded: 408 `request_timeout`, the connection closed, the request on record. Over real sockets.

mod common;

use common::*;
use diesel::prelude::*;
use portaria::schema::webhook_events;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[actix_web::test]
async fn a_stalled_body_is_408_recorded_and_closed() {
    let db = TestDb::new();
    let mut config = db.config();
    config.body_read_timeout = Duration::from_millis(1500);
    let state = db.state_with(config);
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(portaria::app::configure(state.clone())))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let answer = actix_web::web::block(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let body = simulator("Ana", "ana@example.com", "aprovado", 10.0);
        let head = format!(
            "POST /webhooks/hashtag?token={HASHTAG_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
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
    .unwrap();
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
