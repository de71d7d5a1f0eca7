//! CSV reports against a real PostgreSQL: the treatments export is streamed in keyset batches (more than one
//! chunk), every row is right across the batch boundaries, filters apply to every batch, and the
//! formula-injection guard holds.

mod common;

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::test;
use common::*;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A small RFC 4180 reader for the assertions.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

/// The body of a report read frame by frame, as the server streamed it: (chunks, text).
async fn download<S, B>(app: &S, uri: &str, token: &str) -> (usize, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    let res = test::call_service(app, get(uri, token).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    assert_eq!(res.headers().get("content-type").unwrap(), "text/csv; charset=utf-8");
    let mut body = Box::pin(res.into_body());
    let (mut chunks, mut bytes) = (0, Vec::new());
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        let frame = frame.map_err(|e| e.into().to_string()).expect("a body frame");
        chunks += 1;
        bytes.extend_from_slice(&frame);
    }
    (chunks, String::from_utf8(bytes).expect("UTF-8"))
}

#[actix_web::test]
async fn the_treatments_export_streams_every_row_in_batches_with_its_filters() {
    let db = TestDb::new();
    let app = app!(db.state());
    let token = staff_token(&app).await;
    let mut conn = db.conn();
    // 3 customers; 1,234 treatments (the export reads 500 at a time): kinds and statuses alternate, one
    // day apart from 2026-01-01 backwards by the hour, every 100th output a formula and every 7th with commas.
    sql_query(
        "INSERT INTO customers (email, name) VALUES ('ana@example.com', 'Ana'), ('bia@example.org', 'Bia'), \
         ('caio@example.com', 'Caio')",
    )
    .execute(&mut conn)
    .unwrap();
    sql_query(
        "INSERT INTO treatments (kind, status, attempts, run_at, output, payload, customer_id, created_at, updated_at)
         SELECT CASE WHEN g % 3 = 0 THEN 'welcome_message' ELSE 'grant_access' END,
                CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'done' END,
                1, t,
                CASE WHEN g % 100 = 0 THEN '=HYPERLINK(\"http://x\")'
                     WHEN g % 7 = 0 THEN 'linha ' || g || ', com vírgula'
                     ELSE 'linha ' || g END,
                '{}'::jsonb,
                (SELECT id FROM customers ORDER BY id OFFSET g % 3 LIMIT 1), t, t
         FROM (SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour' AS t
               FROM generate_series(1, 1234) AS g) s",
    )
    .execute(&mut conn)
    .unwrap();
    let ids = |conn: &mut PgConnection, filter: &str| -> Vec<i64> {
        sql_query(format!(
            "SELECT t.id FROM treatments t JOIN customers c ON c.id = t.customer_id WHERE {filter} ORDER BY t.id DESC"
        ))
        .load::<Id>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
    };

    // everything: more than one chunk, every id once, newest first, the same as the table
    let (chunks, text) = download(&app, "/api/reports/treatments.csv", &token).await;
    assert!(chunks >= 3, "1,234 rows in batches of 500 come in several chunks, got {chunks}");
    let rows = csv_rows(&text);
    let header = &rows[0];
    assert_eq!(header[..4], ["id", "kind", "status", "customer_email"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let got: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got, ids(&mut conn, "true"), "no row lost or repeated across the batches");
    assert!(rows[1..].iter().all(|r| r.len() == header.len()));
    // each row's cells are its own, on both sides of the batch boundaries
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = Text)]
        output: String,
    }
    let expected: Vec<Row> = sql_query(
        "SELECT t.id, t.kind, t.status, c.email, t.output FROM treatments t JOIN customers c ON c.id = t.customer_id \
         ORDER BY t.id DESC",
    )
    .load(&mut conn)
    .unwrap();
    for (row, want) in rows[1..].iter().zip(&expected) {
        assert_eq!(row[0], want.id.to_string());
        assert_eq!((row[1].as_str(), row[2].as_str(), row[3].as_str()), (&*want.kind, &*want.status, &*want.email));
        let output = &row[col("output")];
        if want.output.starts_with('=') {
            assert_eq!(*output, format!("'{}", want.output), "formula defused");
        } else {
            assert_eq!(*output, want.output, "quoted round trip");
        }
    }

    // filters apply to every batch
    for (query, filter) in [
        ("kind=welcome_message", "t.kind = 'welcome_message'"),
        ("status=pending", "t.status = 'pending'"),
        ("q=example.com", "c.email LIKE '%example.com%'"),
        ("from=2026-01-10&to=2026-02-20", "t.created_at >= '2026-01-10Z' AND t.created_at < '2026-02-21Z'"),
        (
            "kind=grant_access&status=done&q=bia",
            "t.kind = 'grant_access' AND t.status = 'done' AND c.email LIKE '%bia%'",
        ),
    ] {
        let want = ids(&mut conn, filter);
        assert!(want.len() > 100 && want.len() < 1234, "{query}: a real filter ({})", want.len());
        let (_, text) = download(&app, &format!("/api/reports/treatments.csv?{query}"), &token).await;
        let got: Vec<i64> = csv_rows(&text)[1..].iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(got, want, "{query}");
    }
}
