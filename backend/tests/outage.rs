//! The database blinks (issue 8, defect 4): every pooled connection killed under the server's feet (what
//! a PostgreSQL restart does to them) costs no request; while the database refuses connections the
//! answer is 503 with `Retry-After` (and /readyz is 503); once it is back, requests succeed again.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use common::*;
use diesel::prelude::*;
use diesel::sql_query;
use portaria::schema::webhook_events;

fn terminate_backends(db: &TestDb) -> usize {
    sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name()
    ))
    .execute(&mut db.admin())
    .unwrap()
}

fn allow_connections(db: &TestDb, allow: bool) {
    sql_query(format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}", db.name())).execute(&mut db.admin()).unwrap();
}

fn body(i: usize) -> String {
    simulator("Ana", &format!("ana{i}@example.com"), "aprovado", 10.0 + i as f64)
}

#[actix_web::test]
async fn killed_connections_cost_no_request() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    // warm the pool with several connections
    let warm: Vec<_> = (0..8).map(|i| test::call_service(&app, webhook("hashtag", &body(i)).to_request())).collect();
    for res in futures_util::future::join_all(warm).await {
        assert_eq!(res.status(), StatusCode::OK);
    }
    for round in 0..3 {
        let killed = terminate_backends(&db);
        assert!(killed > 0, "round {round}: the pool had live connections");
        let requests: Vec<_> = (0..16)
            .map(|i| test::call_service(&app, webhook("hashtag", &body(100 * (round + 1) + i)).to_request()))
            .collect();
        for res in futures_util::future::join_all(requests).await {
            assert_eq!(res.status(), StatusCode::OK, "round {round}: no request fails after the restart");
        }
        let ready = test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
        assert_eq!(ready.status(), StatusCode::OK);
    }
    let recorded: i64 = webhook_events::table.count().get_result(&mut db.conn()).unwrap();
    assert_eq!(recorded, 8 + 3 * 16, "every answered request is on record");
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_with_retry_after_then_recovers() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    assert_eq!(test::call_service(&app, webhook("hashtag", &body(0)).to_request()).await.status(), StatusCode::OK);

    allow_connections(&db, false);
    terminate_backends(&db);
    let res = test::call_service(&app, webhook("hashtag", &body(1)).to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    assert_eq!(json(res).await["error"]["code"], "database_unavailable");
    let ready = test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().get("retry-after").is_some());

    allow_connections(&db, true);
    let res = test::call_service(&app, webhook("hashtag", &body(1)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK, "the retried delivery is processed");
    let ready = test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), StatusCode::OK);
}
