//! The outbox worker against a real PostgreSQL: crash recovery through leases, two workers never
//! running one treatment twice, retries with backoff until dead, the expiry sweep, LISTEN/NOTIFY.

mod common;

use chrono::{Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::models::Treatment;
use portaria::schema::{courses, customers, enrollments, treatments};
use portaria::treatments::rules::{TreatmentKind, TreatmentReason};
use portaria::treatments::store::{self, NewTreatment};
use portaria::treatments::sweep;
use serde_json::json;
use std::sync::Arc;

fn customer(conn: &mut PgConnection, email: &str) -> i64 {
    diesel::insert_into(customers::table)
        .values(customers::email.eq(email))
        .returning(customers::id)
        .get_result(conn)
        .unwrap()
}

fn course(conn: &mut PgConnection) -> i64 {
    diesel::insert_into(courses::table)
        .values((courses::slug.eq("c"), courses::name.eq("Curso")))
        .returning(courses::id)
        .get_result(conn)
        .unwrap()
}

fn pending(conn: &mut PgConnection, customer_id: i64, n: usize, kind: TreatmentKind) -> Vec<i64> {
    let rows: Vec<NewTreatment> = (0..n)
        .map(|i| NewTreatment {
            kind,
            run_at: Utc::now() - Duration::seconds(1),
            reason: Some(TreatmentReason::Manual),
            payload: json!({"email": format!("cliente{i}@example.com")}),
            event_id: None,
            customer_id,
            course_id: None,
            order_id: None,
        })
        .collect();
    store::insert(conn, &rows).unwrap().into_iter().map(|t| t.id).collect()
}

fn load(conn: &mut PgConnection, id: i64) -> Treatment {
    treatments::table.find(id).select(Treatment::as_select()).first(conn).unwrap()
}

#[test]
fn a_crashed_worker_s_treatment_is_run_again_once_its_lease_expires() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let c = customer(&mut conn, "fulano@email.com");
    let id = pending(&mut conn, c, 1, TreatmentKind::GrantAccess)[0];

    // worker A claims it, then dies mid-treatment (never completes)
    let claimed = store::claim(&mut conn, 10, Duration::seconds(30), Utc::now()).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(load(&mut conn, id).status, "running");

    // while the lease holds, nobody else takes it
    let recording = Arc::new(Recording::default());
    assert_eq!(worker(&state, recording.clone()).drain().unwrap(), 0);

    // the lease expires: worker B runs it to done, as attempt 2
    diesel::update(treatments::table.find(id))
        .set(treatments::lease_until.eq(Utc::now() - Duration::seconds(1)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(worker(&state, recording.clone()).drain().unwrap(), 1);
    let t = load(&mut conn, id);
    assert_eq!(t.status, "done");
    assert_eq!(t.attempts, 2);
    assert_eq!(t.output.as_deref(), Some("Liberar acesso do e-mail: cliente0@example.com"));
    assert_eq!(*recording.runs.lock().unwrap(), [(id, 2)]);

    // worker A coming back to life cannot overwrite the result
    assert!(!store::complete(&mut conn, id, 1, "late").unwrap());
    assert_eq!(load(&mut conn, id).output.as_deref(), Some("Liberar acesso do e-mail: cliente0@example.com"));
}

#[test]
fn two_workers_never_run_a_treatment_twice() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let c = customer(&mut conn, "muitos@example.com");
    let ids = pending(&mut conn, c, 300, TreatmentKind::WelcomeMessage);
    let recording = Arc::new(Recording::default());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let w = worker(&state, recording.clone());
            std::thread::spawn(move || w.drain().unwrap())
        })
        .collect();
    let counts: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 300, "{counts:?}");
    let mut runs: Vec<i64> = recording.runs.lock().unwrap().iter().map(|(id, _)| *id).collect();
    runs.sort();
    assert_eq!(runs, ids, "each treatment executed exactly once");
    let done: i64 = treatments::table.filter(treatments::status.eq("done")).count().get_result(&mut conn).unwrap();
    assert_eq!(done, 300);
}

/// Takes longer than the worker's lease on every treatment.
struct Slow {
    inner: Recording,
    delay: std::time::Duration,
}

impl portaria::treatments::executor::Executor for Slow {
    fn execute(&self, job: &portaria::treatments::executor::Job) -> Result<String, portaria::channels::Failure> {
        std::thread::sleep(self.delay);
        self.inner.execute(job)
    }
}

#[test]
fn a_channel_slower_than_the_lease_never_runs_a_treatment_twice() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let c = customer(&mut conn, "lento@example.com");
    let ids = pending(&mut conn, c, 3, TreatmentKind::GrantAccess);
    // each execution takes 700 ms under a 300 ms lease; one worker claims the whole batch, and the
    // other keeps polling: the treatment in hand is kept by its heartbeat, the ones waiting behind
    // it are taken over once their lease expires — and then skipped by the first worker.
    let slow = Arc::new(Slow { inner: Recording::default(), delay: std::time::Duration::from_millis(700) });
    let handles: Vec<_> = (0..2)
        .map(|n| {
            let mut w = worker(&state, slow.clone());
            w.lease = Duration::milliseconds(300);
            let pool = state.pool.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(n * 50));
                let started = std::time::Instant::now();
                while started.elapsed() < std::time::Duration::from_secs(10) {
                    w.run_batch().unwrap();
                    let mut conn = pool.get().unwrap();
                    let open: i64 = treatments::table
                        .filter(treatments::status.ne("done"))
                        .count()
                        .get_result(&mut **conn)
                        .unwrap();
                    if open == 0 {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut runs: Vec<i64> = slow.inner.runs.lock().unwrap().iter().map(|(id, _)| *id).collect();
    runs.sort();
    assert_eq!(runs, ids, "each treatment executed exactly once");
    for id in ids {
        assert_eq!(load(&mut conn, id).status, "done");
    }
}

#[test]
fn failures_retry_with_backoff_then_die() {
    let db = TestDb::new();
    let mut config = db.config();
    config.worker_max_attempts = 3;
    let state = db.state_with(config);
    let mut conn = db.conn();
    let c = customer(&mut conn, "falha@example.com");
    let id = pending(&mut conn, c, 1, TreatmentKind::RefusedMessage)[0];
    let failing = Arc::new(Recording { fail_kinds: vec![TreatmentKind::RefusedMessage], ..Default::default() });
    let w = worker(&state, failing.clone());

    assert_eq!(w.drain().unwrap(), 1);
    let t = load(&mut conn, id);
    assert_eq!((t.status.as_str(), t.attempts), ("pending", 1));
    assert_eq!(t.last_error.as_deref(), Some("channel unavailable"));
    assert!(t.run_at > Utc::now() + Duration::seconds(2), "backed off: {}", t.run_at);
    assert_eq!(w.drain().unwrap(), 0, "not due yet");

    for attempt in 2..=3 {
        diesel::update(treatments::table.find(id)).set(treatments::run_at.eq(Utc::now())).execute(&mut conn).unwrap();
        assert_eq!(w.drain().unwrap(), 1);
        let t = load(&mut conn, id);
        assert_eq!(t.attempts, attempt);
    }
    let t = load(&mut conn, id);
    assert_eq!(t.status, "dead");
    assert_eq!(failing.runs.lock().unwrap().len(), 3);
    diesel::update(treatments::table.find(id)).set(treatments::run_at.eq(Utc::now())).execute(&mut conn).unwrap();
    assert_eq!(w.drain().unwrap(), 0, "dead treatments stay dead");
}

#[test]
fn the_sweep_revokes_expired_access_once() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let c = customer(&mut conn, "expirou@example.com");
    let course_id = course(&mut conn);
    let granted = Utc::now() - Duration::days(31);
    diesel::insert_into(enrollments::table)
        .values((
            enrollments::customer_id.eq(c),
            enrollments::course_id.eq(course_id),
            enrollments::status.eq("active"),
            enrollments::granted_at.eq(granted),
            enrollments::expires_at.eq(Utc::now() - Duration::minutes(1)),
        ))
        .execute(&mut conn)
        .unwrap();
    let swept = sweep::revoke_expired(&mut conn, Utc::now()).unwrap();
    assert_eq!(swept.len(), 1);
    let status: String = enrollments::table.select(enrollments::status).first(&mut conn).unwrap();
    assert_eq!(status, "expired");
    let ts: Vec<Treatment> = treatments::table.select(Treatment::as_select()).load(&mut conn).unwrap();
    assert_eq!(ts.len(), 1);
    assert_eq!((ts[0].kind, ts[0].reason), (TreatmentKind::RevokeAccess, Some(TreatmentReason::Expired)));
    assert_eq!(sweep::revoke_expired(&mut conn, Utc::now()).unwrap().len(), 0, "once");
    worker(&state, Arc::new(portaria::treatments::executor::PrintExecutor)).drain().unwrap();
    assert_eq!(load(&mut conn, ts[0].id).output.as_deref(), Some("Tirar acesso do e-mail: expirou@example.com"));
}

#[test]
fn the_sweep_does_not_double_a_scheduled_revoke() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let c = customer(&mut conn, "assinante@example.com");
    let course_id = course(&mut conn);
    let end = Utc::now() - Duration::seconds(5);
    diesel::insert_into(enrollments::table)
        .values((
            enrollments::customer_id.eq(c),
            enrollments::course_id.eq(course_id),
            enrollments::status.eq("active"),
            enrollments::granted_at.eq(Utc::now() - Duration::days(40)),
            enrollments::expires_at.eq(end),
        ))
        .execute(&mut conn)
        .unwrap();
    store::insert(
        &mut conn,
        &[NewTreatment {
            kind: TreatmentKind::RevokeAccess,
            run_at: end,
            reason: Some(TreatmentReason::SubscriptionCanceledEndOfPeriod),
            payload: json!({"email": "assinante@example.com"}),
            event_id: None,
            customer_id: c,
            course_id: Some(course_id),
            order_id: None,
        }],
    )
    .unwrap();
    assert_eq!(sweep::revoke_expired(&mut conn, Utc::now()).unwrap().len(), 1);
    let n: i64 = treatments::table.count().get_result(&mut conn).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn notifications_reach_the_bus() {
    let db = TestDb::new();
    let bus = portaria::notify::Bus::new();
    let mut rx = bus.subscribe();
    portaria::notify::spawn_listener(db.url.clone(), bus.clone());
    let mut conn = db.conn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // the listener may not be listening yet: send until it hears
    loop {
        portaria::notify::send(&mut conn, portaria::notify::Signal::Event(42)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        match rx.try_recv() {
            Ok(signal) => {
                assert_eq!(signal, portaria::notify::Signal::Event(42));
                break;
            }
            Err(_) if std::time::Instant::now() < deadline => continue,
            Err(e) => panic!("no notification: {e}"),
        }
    }
}

#[actix_web::test]
async fn a_new_webhook_wakes_the_worker_through_notify() {
    use actix_web::test::{call_service, init_service};
    let db = TestDb::new();
    let state = db.state();
    portaria::notify::spawn_listener(db.url.clone(), state.bus.clone());
    // A poll of one minute: only the NOTIFY wake-up can run the treatments within the deadline.
    portaria::treatments::worker::spawn(
        worker(&state, Arc::new(Recording::default())),
        state.bus.clone(),
        2,
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(60),
        portaria::treatments::sweep::Settings::default(),
    );
    let app = init_service(actix_web::App::new().configure(portaria::app::configure(state.clone()))).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // the listener connects
    let res =
        call_service(&app, webhook("hashtag", &simulator("Ana", "ana@example.com", "aprovado", 1.0)).to_request())
            .await;
    assert_eq!(res.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let done: i64 =
            treatments::table.filter(treatments::status.eq("done")).count().get_result(&mut db.conn()).unwrap();
        if done == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the worker was not woken ({done} done)");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Answers every treatment with one fixed failure.
struct Failing(portaria::channels::Failure);

impl portaria::treatments::executor::Executor for Failing {
    fn execute(&self, _: &portaria::treatments::executor::Job) -> Result<String, portaria::channels::Failure> {
        Err(self.0.clone())
    }
}

#[test]
fn a_permanent_failure_is_dead_at_once_and_a_retry_after_is_honoured() {
    use portaria::channels::Failure;
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let c = customer(&mut conn, "recusa@example.com");
    let ids = pending(&mut conn, c, 2, TreatmentKind::GrantAccess);

    let refused = worker(&state, Arc::new(Failing(Failure::permanent("platform: HTTP 422: {\"error\":\"bad cpf\"}"))));
    assert_eq!(refused.run_batch().unwrap(), 2);
    let t = load(&mut conn, ids[0]);
    assert_eq!((t.status.as_str(), t.attempts), ("dead", 1), "no retry for a refusal");
    assert_eq!(t.last_error.as_deref(), Some("platform: HTTP 422: {\"error\":\"bad cpf\"}"));

    let later = pending(&mut conn, c, 1, TreatmentKind::GrantAccess)[0];
    let busy = Failure::retry_after("platform: HTTP 429", Some(std::time::Duration::from_secs(600)));
    assert_eq!(worker(&state, Arc::new(Failing(busy))).run_batch().unwrap(), 1);
    let t = load(&mut conn, later);
    assert_eq!((t.status.as_str(), t.attempts), ("pending", 1));
    assert!(t.run_at >= Utc::now() + Duration::seconds(590), "Retry-After honoured: {}", t.run_at);
}

/// One claim of 20, in a transaction that then counts the entries the scans of this transaction read
/// from `indexes` (`pg_stat_get_xact_tuples_returned`): how many were claimed, and that count.
fn claim_counting_index_entries(conn: &mut PgConnection, indexes: &[&str]) -> (usize, i64) {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let claimed = store::claim(conn, 20, Duration::seconds(60), Utc::now())?;
        let read: Read = diesel::sql_query(
            "SELECT sum(pg_stat_get_xact_tuples_returned(i::regclass))::int8 AS n FROM unnest($1::text[]) AS i",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(indexes)
        .get_result(conn)?;
        Ok((claimed.len(), read.n))
    })
    .unwrap()
}

/// The claim's check that an earlier access change of the same customer and course is not under way
/// reads that customer's treatments, whatever the statistics say. Measured in stop 20: with the
/// statistics taken while the queue was empty (autovacuum off, or a burst before autoanalyze), the
/// planner answered that check by scanning the whole `treatments_due` index for every candidate, so
/// each claim read the backlog once per row (6 s a claim with 130,000 pending; the drain never ended).
#[test]
fn a_claim_reads_each_candidate_s_own_treatments_even_on_stale_statistics() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let course_id = course(&mut conn);
    // Statistics of a quiet queue: treatments done, none due.
    let someone = customer(&mut conn, "antes@example.com");
    diesel::sql_query(
        "INSERT INTO treatments (kind, reason, payload, customer_id, course_id, status, done_at) \
         SELECT 'welcome_message', 'payment_approved', '{}'::jsonb, $1, $2, 'done', now() FROM generate_series(1, 5000)",
    )
    .bind::<diesel::sql_types::BigInt, _>(someone)
    .bind::<diesel::sql_types::BigInt, _>(course_id)
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("VACUUM ANALYZE treatments").execute(&mut conn).unwrap();
    let backlog = 3000;
    diesel::sql_query(
        "WITH c AS (INSERT INTO customers (email) SELECT 'fila' || g || '@example.com' FROM generate_series(1, $1) g \
                    RETURNING id) \
         INSERT INTO treatments (kind, reason, payload, customer_id, course_id, run_at) \
         SELECT 'grant_access', 'payment_approved', '{}'::jsonb, c.id, $2, now() - interval '1 second' FROM c",
    )
    .bind::<diesel::sql_types::Integer, _>(backlog)
    .bind::<diesel::sql_types::BigInt, _>(course_id)
    .execute(&mut conn)
    .unwrap();
    let (claimed, read) = claim_counting_index_entries(&mut conn, &["treatments_due"]);
    assert_eq!(claimed, 20);
    assert!(read < i64::from(backlog), "one claim read {read} entries of treatments_due for a backlog of {backlog}");
}

/// A claim walks the due treatments in `run_at` order and stops at its limit, whatever the statistics
/// say. Measured in stop 21's `make bench`: with the statistics of a queue almost all done (1,508
/// pending estimated; the bench empties the table between runs, which keeps them) and 258,402 due,
/// the planner gathered every due treatment (a bitmap of `treatments_due` and `treatments_status`),
/// ran the ordering check on each and sorted them all to keep 20: 0.8 s a claim, and the drain of the
/// backlog ran at a third of its speed. Without the claim's planner settings this test reads 80,000
/// index entries for one claim.
#[test]
fn a_claim_walks_the_due_treatments_in_order_even_on_stale_statistics() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let course_id = course(&mut conn);
    let queue = |conn: &mut PgConnection, n: i32, status: &str| {
        diesel::sql_query(
            "WITH c AS (INSERT INTO customers (email) \
                        SELECT $3 || '-' || g || '-' || random() || '@example.com' FROM generate_series(1, $1) g \
                        RETURNING id) \
             INSERT INTO treatments (kind, reason, payload, customer_id, course_id, status, run_at) \
             SELECT 'grant_access', 'payment_approved', '{}'::jsonb, c.id, $2, $3, now() - interval '1 second' FROM c",
        )
        .bind::<diesel::sql_types::Integer, _>(n)
        .bind::<diesel::sql_types::BigInt, _>(course_id)
        .bind::<diesel::sql_types::Text, _>(status)
        .execute(conn)
        .unwrap();
    };
    // Statistics of a small queue: a few due among many done.
    queue(&mut conn, 100, "pending");
    queue(&mut conn, 20000, "done");
    diesel::sql_query("VACUUM ANALYZE treatments").execute(&mut conn).unwrap();
    // Emptied as the bench empties it between runs: the column statistics stay.
    diesel::sql_query("TRUNCATE treatments").execute(&mut conn).unwrap();
    // Then a burst, before any autoanalyze.
    let backlog = 40000;
    queue(&mut conn, backlog, "pending");
    let (claimed, read) = claim_counting_index_entries(&mut conn, &["treatments_due", "treatments_status"]);
    assert_eq!(claimed, 20);
    assert!(read < 1000, "one claim read {read} index entries for a backlog of {}", backlog);
}
