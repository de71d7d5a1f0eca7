//! Group commit (issue 13): webhooks queued together are written in one transaction, one savepoint
//! each, in arrival order, and answered only after COMMIT. The tests make a batch deterministic by
//! holding up the writer: a "blocker" webhook whose customer row this test keeps locked (an open
//! transaction inserted the same e-mail), so the writer waits inside its transaction while the
//! webhooks under test queue up behind it; releasing the lock lets the writer take them all at once.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use common::payloads::{order_event, Step};
use common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use portaria::state::AppState;
use std::time::Duration;

/// One writer, no lingering: a batch is exactly what is queued when the writer looks.
fn state(db: &TestDb) -> AppState {
    let mut config = db.config();
    config.ingest_writers = 1;
    config.ingest_batch_wait = Duration::ZERO;
    db.state_with(config)
}

/// Locks the customer row of `email` in an open transaction (the writer's upsert of that customer
/// waits for it) until `release`.
struct Blocker {
    conn: PgConnection,
}

impl Blocker {
    fn hold(db: &TestDb, email: &str) -> Blocker {
        let mut conn = db.conn();
        conn.batch_execute("BEGIN").unwrap();
        sql_query("INSERT INTO customers (email) VALUES ($1)").bind::<Text, _>(email).execute(&mut conn).unwrap();
        Blocker { conn }
    }
    fn release(mut self) {
        self.conn.batch_execute("COMMIT").unwrap();
    }
}

/// Polls until `n` webhooks wait in the queue (the writer is busy with the blocker). Bounded.
async fn queued(state: &AppState, n: usize) {
    for _ in 0..2000 {
        if state.ingest.queued() >= n {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{n} webhooks never queued up (queued: {})", state.ingest.queued());
}

/// Polls until a backend of this database waits for a lock (the writer, blocked). Bounded.
async fn writer_waits_for_lock(db: &TestDb) -> i32 {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    for _ in 0..2000 {
        let waiting: Vec<Pid> = sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(db.name())
        .load(&mut db.admin())
        .unwrap();
        if let Some(p) = waiting.first() {
            return p.pid;
        }
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the writer never waited for the blocker's lock");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, bind: &str) -> i64 {
    sql_query(sql).bind::<Text, _>(bind).get_result::<Count>(conn).unwrap().n
}

#[actix_web::test]
async fn a_failing_webhook_does_not_fail_its_batch() {
    let db = TestDb::new();
    // A real failure inside PostgreSQL for one customer: a trigger raising on its e-mail.
    db.conn()
        .batch_execute(
            "CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.email LIKE 'explode%' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; \
             END $$; \
             CREATE TRIGGER explode BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION explode();",
        )
        .unwrap();
    let state = state(&db);
    let app = app!(state.clone());
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let emails = ["good1@example.com", "explode@example.com", "good2@example.com", "good3@example.com"];
    let first = test::call_service(
        &app,
        webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)).to_request(),
    );
    // Sent once the writer is stuck on the blocker, so that they queue behind it.
    let rest =
        async {
            writer_waits_for_lock(&db).await;
            futures_util::future::join_all(emails.iter().map(|e| {
                test::call_service(&app, webhook("hashtag", &simulator("C", e, "aprovado", 9.9)).to_request())
            }))
            .await
        };
    let release = async {
        queued(&state, emails.len()).await;
        blocker.release();
    };
    let (first, rest, ()) = futures_util::join!(first, rest, release);
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(state.ingest.batches(), 2, "the blocker alone, then the four queued webhooks in one batch");
    assert_eq!(state.ingest.isolated(), 1, "the batch of the failing webhook was written again one savepoint each");
    for (email, res) in emails.iter().zip(rest) {
        if email.starts_with("explode") {
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{email}");
        } else {
            assert_eq!(res.status(), StatusCode::OK, "{email}");
            let body = json(res).await;
            assert_eq!(body["outcome"], "processed", "{email}: {body}");
            assert_eq!(body["treatments"].as_array().unwrap().len(), 2, "{email}: {body}");
        }
    }
    let mut conn = db.conn();
    for email in ["good1@example.com", "good2@example.com", "good3@example.com"] {
        let treatments =
            "SELECT count(*) AS n FROM treatments t JOIN customers c ON c.id = t.customer_id WHERE c.email = $1";
        assert_eq!(count(&mut conn, treatments, email), 2, "{email}: its treatments were committed");
    }
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM customers WHERE email = $1", "explode@example.com"), 0);
    let failed = "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1 AND raw_body LIKE '%explode@%'";
    assert_eq!(count(&mut conn, failed, "error"), 1, "the failed webhook is on record with the outcome error");
    let processed = "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1";
    assert_eq!(count(&mut conn, processed, "processed"), 4);
}

#[actix_web::test]
async fn events_of_one_order_in_one_batch_apply_in_arrival_order() {
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let email = "ordem@example.com";
    let approved = order_event("hotmart", Step::Approved, "HP-ORDER-1", email).unwrap();
    let refunded = order_event("hotmart", Step::Refunded, "HP-ORDER-1", email).unwrap();
    let first = test::call_service(
        &app,
        webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)).to_request(),
    );
    // Queued one after the other: approved, then refunded.
    let approve = async {
        writer_waits_for_lock(&db).await;
        test::call_service(&app, webhook("hotmart", &approved).to_request()).await
    };
    let refund = async {
        queued(&state, 1).await;
        test::call_service(&app, webhook("hotmart", &refunded).to_request()).await
    };
    let release = async {
        queued(&state, 2).await;
        blocker.release();
    };
    let (first, approve, refund, ()) = futures_util::join!(first, approve, refund, release);
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(state.ingest.batches(), 2, "both events of the order were written in one batch");
    let approve = json(approve).await;
    let refund = json(refund).await;
    assert_eq!(approve["outcome"], "processed");
    assert_eq!(refund["outcome"], "processed");
    let kinds = |body: &serde_json::Value| -> Vec<String> {
        body["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect()
    };
    assert!(kinds(&approve).contains(&"grant_access".to_string()), "{approve}");
    assert!(kinds(&refund).contains(&"revoke_access".to_string()), "the refund saw the approval: {refund}");
    let mut conn = db.conn();
    let status = "SELECT count(*) AS n FROM orders WHERE external_id = $1 AND status = 'refunded'";
    assert_eq!(count(&mut conn, status, "HP-ORDER-1"), 1, "the refund applied last");
    let revoked = "SELECT count(*) AS n FROM enrollments e JOIN customers c ON c.id = e.customer_id \
                   WHERE c.email = $1 AND e.status = 'revoked'";
    assert_eq!(count(&mut conn, revoked, email), 1);
    assert!(approve["event_id"].as_i64() < refund["event_id"].as_i64(), "events recorded in arrival order");
}

#[actix_web::test]
async fn copies_of_one_event_give_exactly_one_processed() {
    let db = TestDb::new();
    let mut config = db.config();
    config.ingest_writers = 2;
    let state = db.state_with(config);
    let app = app!(state.clone());
    let body = simulator("Dup", "dup@example.com", "aprovado", 50.0);
    let answers = futures_util::future::join_all(
        (0..40).map(|_| test::call_service(&app, webhook("hashtag", &body).to_request())),
    )
    .await;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for res in answers {
        assert_eq!(res.status(), StatusCode::OK);
        *outcomes.entry(json(res).await["outcome"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(outcomes.get("processed"), Some(&1), "{outcomes:?}");
    assert_eq!(outcomes.get("duplicate"), Some(&39), "{outcomes:?}");
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1", "processed"), 1);
    let treatments =
        "SELECT count(*) AS n FROM treatments t JOIN customers c ON c.id = t.customer_id WHERE c.email = $1";
    assert_eq!(count(&mut conn, treatments, "dup@example.com"), 2);
}

/// Set-based, whether an event is new is a read of its key, and the event is inserted once, after the
/// rules. A copy that another writer commits in between (here an open transaction that holds an
/// original with the same key, committed while the batch's insert waits for it) makes that insert
/// fail on the unique key: the batch is written again one savepoint per webhook, where the webhook is
/// a duplicate of the copy, with nothing else written for it.
#[actix_web::test]
async fn a_copy_committed_while_a_batch_decides_makes_it_a_duplicate() {
    use portaria::ingest::event::{Parsed, RequestParts, Source};
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    let body = simulator("Corrida", "corrida@example.com", "aprovado", 97.0);
    let Ok(Parsed::Event(event)) =
        portaria::ingest::sources::parse(Source::Hashtag, body.as_bytes(), &RequestParts::default())
    else {
        panic!("the simulator body parses to an event");
    };
    let mut other = db.conn();
    other.batch_execute("BEGIN").unwrap();
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let original = sql_query(
        "INSERT INTO webhook_events (source, raw_body, body_size, outcome, dedup_key) \
         VALUES ('hashtag', $1, 0, 'processed', $2) RETURNING id",
    )
    .bind::<Text, _>(&body)
    .bind::<Text, _>(&event.dedup_key)
    .get_result::<Id>(&mut other)
    .unwrap()
    .id;
    let sent = test::call_service(&app, webhook("hashtag", &body).to_request());
    let commit = async {
        writer_waits_for_lock(&db).await;
        other.batch_execute("COMMIT").unwrap();
    };
    let (res, ()) = futures_util::join!(sent, commit);
    assert_eq!(res.status(), StatusCode::OK);
    let answer = json(res).await;
    assert_eq!(answer["outcome"], "duplicate", "{answer}");
    assert_eq!(answer["duplicate_of"], original, "{answer}");
    assert_eq!(state.ingest.isolated(), 1, "the batch was written again one savepoint per webhook");
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1", "processed"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM orders WHERE external_id <> $1", ""), 0, "no order");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM treatments WHERE kind <> $1", ""), 0, "no treatment");
}

fn allow_connections(db: &TestDb, allow: bool) {
    sql_query(format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}", db.name())).execute(&mut db.admin()).unwrap();
}

fn terminate_backends(db: &TestDb) {
    sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name()
    ))
    .execute(&mut db.admin())
    .unwrap();
}

#[actix_web::test]
async fn a_connection_killed_before_commit_answers_nothing_until_the_batch_commits() {
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let emails: Vec<String> = (0..5).map(|i| format!("vivo{i}@example.com")).collect();
    let first = test::call_service(
        &app,
        webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)).to_request(),
    );
    let rest =
        async {
            writer_waits_for_lock(&db).await;
            futures_util::future::join_all(emails.iter().map(|e| {
                test::call_service(&app, webhook("hashtag", &simulator("V", e, "aprovado", 9.9)).to_request())
            }))
            .await
        };
    let chaos = async {
        // The writer is inside its transaction (waiting for the lock), nothing committed: kill it.
        let pid = writer_waits_for_lock(&db).await;
        queued(&state, emails.len()).await;
        sql_query("SELECT pg_terminate_backend($1)")
            .bind::<diesel::sql_types::Integer, _>(pid)
            .execute(&mut db.admin())
            .unwrap();
        // The writer writes the batch again on a fresh connection, and waits for the lock again.
        writer_waits_for_lock(&db).await;
        blocker.release();
    };
    let (first, rest, ()) = futures_util::join!(first, rest, chaos);
    assert_eq!(first.status(), StatusCode::OK, "the batch was written again on a fresh connection");
    for res in rest {
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut conn = db.conn();
    let events = "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1";
    assert_eq!(count(&mut conn, events, "processed"), 6, "each answered webhook is on record once");
}

#[actix_web::test]
async fn an_outage_answers_503_to_every_waiting_webhook_and_keeps_none() {
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let emails: Vec<String> = (0..5).map(|i| format!("fora{i}@example.com")).collect();
    let first = test::call_service(
        &app,
        webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)).to_request(),
    );
    let rest =
        async {
            writer_waits_for_lock(&db).await;
            futures_util::future::join_all(emails.iter().map(|e| {
                test::call_service(&app, webhook("hashtag", &simulator("F", e, "aprovado", 9.9)).to_request())
            }))
            .await
        };
    let outage = async {
        writer_waits_for_lock(&db).await;
        queued(&state, emails.len()).await;
        allow_connections(&db, false);
        terminate_backends(&db);
    };
    let (first, rest, ()) = futures_util::join!(first, rest, outage);
    drop(blocker);
    for res in std::iter::once(first).chain(rest) {
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get("retry-after").unwrap(), "5");
        assert_eq!(json(res).await["error"]["code"], "database_unavailable");
    }
    allow_connections(&db, true);
    let mut conn = db.conn();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM webhook_events WHERE outcome <> $1", "x"),
        0,
        "nothing was kept"
    );
    // Back: the retried deliveries are processed.
    let res =
        test::call_service(&app, webhook("hashtag", &simulator("F", &emails[0], "aprovado", 9.9)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn independent_webhooks_of_a_batch_are_written_set_based_with_the_same_decisions() {
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    // Before the batch: an approved Hotmart order (its refund comes in the batch).
    let approved = order_event("hotmart", Step::Approved, "HP-SET-1", "antes@example.com").unwrap();
    let res = test::call_service(&app, webhook("hotmart", &approved).to_request()).await;
    assert_eq!(json(res).await["outcome"], "processed");
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let refunded = order_event("hotmart", Step::Refunded, "HP-SET-1", "antes@example.com").unwrap();
    let first = test::call_service(
        &app,
        webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)).to_request(),
    );
    let rest = async {
        writer_waits_for_lock(&db).await;
        futures_util::join!(
            test::call_service(&app, webhook("hotmart", &refunded).to_request()),
            test::call_service(
                &app,
                webhook("hashtag", &simulator("Nova", "nova@example.com", "aprovado", 97.0)).to_request()
            ),
            test::call_service(
                &app,
                webhook("hashtag", &simulator("Recusa", "recusa@example.com", "recusado", 97.0)).to_request()
            ),
        )
    };
    let release = async {
        queued(&state, 3).await;
        blocker.release();
    };
    let (first, (refund, new, refused), ()) = futures_util::join!(first, rest, release);
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(state.ingest.batches(), 3, "the first webhook, the blocker, then the three in one batch");
    assert_eq!(state.ingest.isolated(), 0, "no batch was written again one savepoint each");
    assert_eq!(state.ingest.set_based(), 5, "every webhook was written set-based");
    let kinds = |body: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> =
            body["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    let refund = json(refund).await;
    let new = json(new).await;
    let refused = json(refused).await;
    assert_eq!(kinds(&refund), ["refund_message", "revoke_access"], "{refund}");
    assert_eq!(kinds(&new), ["grant_access", "welcome_message"], "{new}");
    assert_eq!(kinds(&refused), ["refused_message"], "{refused}");
    let mut conn = db.conn();
    let refunded_order = "SELECT count(*) AS n FROM orders WHERE external_id = $1 AND status = 'refunded'";
    assert_eq!(count(&mut conn, refunded_order, "HP-SET-1"), 1);
    let enrollment = |status: &str| {
        format!(
            "SELECT count(*) AS n FROM enrollments e JOIN customers c ON c.id = e.customer_id \
             WHERE c.email = $1 AND e.status = '{status}'"
        )
    };
    assert_eq!(count(&mut conn, &enrollment("revoked"), "antes@example.com"), 1);
    assert_eq!(count(&mut conn, &enrollment("active"), "nova@example.com"), 1);
    assert_eq!(count(&mut conn, &enrollment("active"), "recusa@example.com"), 0);
    let linked = "SELECT count(*) AS n FROM webhook_events WHERE outcome = $1 AND customer_id IS NOT NULL \
                  AND order_id IS NOT NULL AND latency_ms IS NOT NULL";
    assert_eq!(count(&mut conn, linked, "processed"), 5, "every event points at its customer and order");
}

/// `body` with the JSON value at `pointer` replaced.
fn edited(raw: &str, pointer: &str, value: serde_json::Value) -> String {
    let mut body: serde_json::Value = serde_json::from_str(raw).unwrap();
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
    body.to_string()
}

#[actix_web::test]
async fn the_set_based_path_keeps_order_details_renews_to_access_until_and_announces_an_expiry_once() {
    use chrono::{DateTime, Duration as D, DurationRound, Utc};
    use portaria::schema::{courses, customers, enrollments, orders, treatments};
    let db = TestDb::new();
    let state = state(&db);
    let app = app!(state.clone());
    let mut conn = db.conn();
    let call = |req: test::TestRequest| test::call_service(&app, req.to_request());
    let order_of = |conn: &mut PgConnection, transaction: &str| -> (i64, String, Option<DateTime<Utc>>) {
        orders::table
            .filter(orders::external_id.eq(transaction))
            .select((orders::id, orders::status, orders::payment_timeout_at))
            .first(conn)
            .unwrap()
    };
    let expiry_messages = |conn: &mut PgConnection, order: i64| -> i64 {
        treatments::table
            .filter(treatments::order_id.eq(order))
            .filter(treatments::kind.eq("payment_expired_message"))
            .count()
            .get_result(conn)
            .unwrap()
    };

    // Before the batch (one batch each): someone's purchase creates a Hotmart product's course (it then
    // has 7 days of access), a subscription's first charge of it, two pending boletos (the first one's payment-expired message already sent by the sweep),
    // and a Kiwify customer with an e-mail and a CPF.
    let renewal = fixture("hotmart/purchase_approved_renewal.json");
    let other = edited(&renewal, "/data/buyer/email", "outra.pessoa@example.com".into());
    let other = edited(&other, "/data/purchase/transaction", "HP-OTHER".into());
    let other = edited(&other, "/data/purchase/recurrence_number", 1.into());
    assert_eq!(json(call(webhook("hotmart", &other)).await).await["outcome"], "processed");
    diesel::update(courses::table).set(courses::access_days.eq(7)).execute(&mut conn).unwrap();
    let first = edited(&renewal, "/data/purchase/transaction", "HP-FIRST".into());
    let first = edited(&first, "/data/purchase/recurrence_number", 1.into());
    assert_eq!(json(call(webhook("hotmart", &first)).await).await["outcome"], "processed");
    let billet = |transaction: &str, email: &str| {
        let body = edited(&fixture("hotmart/billet_printed.json"), "/data/purchase/transaction", transaction.into());
        edited(&body, "/data/buyer/email", email.into())
    };
    let expired = |transaction: &str, email: &str| {
        let body = edited(&fixture("hotmart/purchase_expired.json"), "/data/purchase/transaction", transaction.into());
        edited(&body, "/data/buyer/email", email.into())
    };
    for (transaction, email) in [("HP-T1", "t1@example.com"), ("HP-T2", "t2@example.com")] {
        assert_eq!(json(call(webhook("hotmart", &billet(transaction, email))).await).await["outcome"], "processed");
    }
    let (t1, _, _) = order_of(&mut conn, "HP-T1");
    diesel::update(orders::table.find(t1)).set(orders::payment_timeout_at.eq(Utc::now())).execute(&mut conn).unwrap();
    let inner = |path: &str| -> serde_json::Value {
        let body: serde_json::Value = serde_json::from_str(&fixture(path)).unwrap();
        body["order"].clone()
    };
    let wrapped = |order: &serde_json::Value| {
        let order = serde_json::to_string_pretty(order).unwrap();
        let body = format!(
            "{{\"url\": \"https://portaria.example.com/webhooks/kiwify\", \"signature\": \"{}\", \"order\": {order}}}",
            kiwify_signature(&order)
        );
        test::TestRequest::post().uri("/webhooks/kiwify").set_payload(body)
    };
    let known = json(call(wrapped(&inner("kiwify/wrapped_order_approved.json"))).await).await;
    assert_eq!(known["outcome"], "processed", "{known}");

    // The batch: a Kiwify approval with a coupon and an offer, the subscription's renewal (Hotmart's next
    // charge date), the platform's expiry of both boletos — four independent webhooks, written
    // set-based — and, beside it, a refund whose customer came by CPF only (identified first, so it
    // goes one by one).
    let blocker = Blocker::hold(&db, "blocker@example.com");
    let mut approval: serde_json::Value = serde_json::from_str(&fixture("kiwify/order_approved.json")).unwrap();
    approval["coupon_code"] = "BLACK10".into();
    approval["Product"]["product_offer_id"] = "oferta-anual".into();
    approval["Customer"]["email"] = "kiwi@example.com".into();
    let next_charge = Utc::now().duration_trunc(D::milliseconds(1)).unwrap() + D::days(40);
    let renewed = edited(&renewal, "/data/purchase/date_next_charge", next_charge.timestamp_millis().into());
    let first_call = call(webhook("hashtag", &simulator("B", "blocker@example.com", "aprovado", 1.0)));
    let rest = async {
        writer_waits_for_lock(&db).await;
        futures_util::join!(
            call(webhook("kiwify", &approval.to_string())),
            call(webhook("hotmart", &renewed)),
            call(webhook("hotmart", &expired("HP-T1", "t1@example.com"))),
            call(webhook("hotmart", &expired("HP-T2", "t2@example.com"))),
            call(wrapped(&inner("kiwify/wrapped_order_refunded_cpf_only.json"))),
        )
    };
    let release = async {
        queued(&state, 4).await;
        blocker.release();
    };
    let (first_res, (approval, renewal, expired1, expired2, cpf_refund), ()) =
        futures_util::join!(first_call, rest, release);
    assert_eq!(first_res.status(), StatusCode::OK);
    assert_eq!(state.ingest.batches(), 7, "five webhooks before, the blocker, then the four in one batch");
    assert_eq!(state.ingest.isolated(), 0, "no batch was written again one savepoint each");
    let kinds = |body: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> =
            body["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    let (approval, renewal, expired1, expired2, cpf_refund) =
        (json(approval).await, json(renewal).await, json(expired1).await, json(expired2).await, json(cpf_refund).await);

    // approval time, coupon and offer kept
    assert_eq!(kinds(&approval), ["grant_access", "welcome_message"], "{approval}");
    let (approved_at, coupon, offer): (Option<DateTime<Utc>>, Option<String>, Option<String>) = orders::table
        .inner_join(customers::table)
        .filter(customers::email.eq("kiwi@example.com"))
        .select((orders::approved_at, orders::coupon, orders::offer_code))
        .first(&mut conn)
        .unwrap();
    assert_eq!(approved_at, Some(DateTime::parse_from_rfc3339("2026-01-01T13:02:00Z").unwrap().with_timezone(&Utc)));
    assert_eq!((coupon.as_deref(), offer.as_deref()), (Some("BLACK10"), Some("oferta-anual")));

    // the renewal extends access to the next charge date (not 7 days) and the order keeps it
    assert_eq!(kinds(&renewal), ["extend_access"], "{renewal}");
    let expires_at: Option<DateTime<Utc>> = enrollments::table
        .filter(enrollments::customer_id.eq(renewal["customer_id"].as_i64().unwrap()))
        .select(enrollments::expires_at)
        .first(&mut conn)
        .unwrap();
    assert_eq!(expires_at, Some(next_charge));
    let (access_until, renewed_approved_at): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = orders::table
        .filter(orders::external_id.eq("HP1760000000002"))
        .select((orders::access_until, orders::approved_at))
        .first(&mut conn)
        .unwrap();
    assert_eq!(access_until, Some(next_charge));
    assert!(renewed_approved_at.is_some());

    // one payment-expired message per order: none after the sweep's, one (and the mark) otherwise
    assert!(kinds(&expired1).is_empty(), "{expired1}");
    assert_eq!(kinds(&expired2), ["payment_expired_message"], "{expired2}");
    let (t1, t1_status, _) = order_of(&mut conn, "HP-T1");
    let (t2, t2_status, t2_mark) = order_of(&mut conn, "HP-T2");
    assert_eq!((t1_status.as_str(), t2_status.as_str()), ("expired", "expired"));
    assert_eq!((expiry_messages(&mut conn, t1), expiry_messages(&mut conn, t2)), (0, 1));
    assert!(t2_mark.is_some(), "the message planned marks the order");

    // the CPF-only refund is the known customer's
    assert_eq!(cpf_refund["outcome"], "processed", "{cpf_refund}");
    assert_eq!(cpf_refund["customer_id"], known["customer_id"]);
    assert_eq!(kinds(&cpf_refund), ["refund_message", "revoke_access"]);
}
