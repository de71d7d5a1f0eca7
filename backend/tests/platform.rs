//! The course-platform channel against a real HTTP server on loopback (actix, started by the test,
//! recording every call): signed access webhooks, retries with the same `webhook-id`, permanent 4xx,
//! Retry-After, and the templated mode's find → create → enrol.

mod common;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::channels::platform::{PlatformChannel, PlatformConfig};
use portaria::channels::templated::HttpPlan;
use portaria::channels::{Channel, Router};
use portaria::ingest::event::RequestParts;
use portaria::ingest::sources::generic;
use portaria::models::Treatment;
use portaria::schema::{courses, customers, treatments};
use portaria::treatments::rules::{TreatmentKind, TreatmentReason};
use portaria::treatments::store::{self, NewTreatment};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

const SECRET: &str = "whsec_cGxhdGZvcm0tc2VjcmV0LWZvci10aGUtdGVzdHM=";

#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Status, headers and body of one answer.
type Scripted = (u16, Vec<(&'static str, String)>, String);

/// Answers, in order, per path; once a path's queue is empty it answers 200 `{}`.
#[derive(Default)]
struct Platform {
    calls: Mutex<Vec<Call>>,
    script: Mutex<HashMap<String, VecDeque<Scripted>>>,
}

impl Platform {
    fn answer(&self, path: &str, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
        self.script.lock().unwrap().entry(path.into()).or_default().push_back((status, headers, body.into()));
    }
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// Starts the recording server on a free loopback port; returns its base URL.
fn serve(platform: Arc<Platform>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let data = web::Data::from(platform);
            let server = HttpServer::new(move || {
                App::new().app_data(data.clone()).default_service(web::to(
                    |req: HttpRequest, body: web::Bytes, p: web::Data<Platform>| async move {
                        let path = req.uri().to_string();
                        p.calls.lock().unwrap().push(Call {
                            method: req.method().to_string(),
                            path: path.clone(),
                            headers: req
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect(),
                            body: body.to_vec(),
                        });
                        let key = req.path().to_string();
                        let next = p.script.lock().unwrap().get_mut(&key).and_then(VecDeque::pop_front);
                        let (status, headers, body) = next.unwrap_or((200, vec![], "{}".into()));
                        let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                        for (k, v) in headers {
                            res.insert_header((k, v));
                        }
                        res.content_type("application/json").body(body)
                    },
                ))
            })
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

struct Setup {
    db: TestDb,
    state: portaria::state::AppState,
    course_id: i64,
    customer_id: i64,
}

fn setup(webhook_url: Option<&str>) -> Setup {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = db.conn();
    let customer_id = diesel::insert_into(customers::table)
        .values((
            customers::email.eq("ana@example.com"),
            customers::name.eq("Ana Souza"),
            customers::document.eq("12345678909"),
            customers::phone.eq("+5511999990000"),
        ))
        .returning(customers::id)
        .get_result(&mut conn)
        .unwrap();
    let course_id = diesel::insert_into(courses::table)
        .values((
            courses::slug.eq("confeitaria"),
            courses::name.eq("Confeitaria"),
            courses::access_webhook_url.eq(webhook_url),
        ))
        .returning(courses::id)
        .get_result(&mut conn)
        .unwrap();
    Setup { db, state, course_id, customer_id }
}

impl Setup {
    fn treatment(&self, kind: TreatmentKind, reason: TreatmentReason) -> i64 {
        let row = NewTreatment {
            kind,
            run_at: Utc::now() - Duration::seconds(1),
            reason: Some(reason),
            payload: json!({"email": "ana@example.com", "course_id": self.course_id, "expires_at": "2027-01-31"}),
            event_id: None,
            customer_id: self.customer_id,
            course_id: Some(self.course_id),
            order_id: None,
        };
        store::insert(&mut self.db.conn(), &[row]).unwrap()[0].id
    }

    fn worker(&self, config: PlatformConfig) -> portaria::treatments::worker::Worker {
        let channel: Arc<dyn Channel> = Arc::new(PlatformChannel::new(config, self.state.pool.clone()));
        worker(&self.state, Arc::new(Router::new(vec![channel])))
    }

    fn load(&self, id: i64) -> Treatment {
        treatments::table.find(id).select(Treatment::as_select()).first(&mut self.db.conn()).unwrap()
    }

    fn due_now(&self, id: i64) {
        diesel::update(treatments::table.find(id))
            .set(treatments::run_at.eq(Utc::now()))
            .execute(&mut self.db.conn())
            .unwrap();
    }
}

fn webhooks(url: Option<String>) -> PlatformConfig {
    PlatformConfig {
        webhook_url: url,
        webhook_secret: Some(SECRET.into()),
        timeout: std::time::Duration::from_secs(3),
        ..PlatformConfig::default()
    }
}

/// Verifies the call's signature as a platform would (the generic source's scheme).
fn verify(call: &Call) -> Value {
    let parts = RequestParts { headers: call.headers.clone(), query: Default::default() };
    generic::authenticate(SECRET, &call.body, &parts, Utc::now()).expect("a valid Standard Webhooks signature");
    serde_json::from_slice(&call.body).unwrap()
}

#[test]
fn grant_and_revoke_arrive_signed_at_the_course_s_own_url() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    let s = setup(Some(&format!("{base}/curso/hooks")));
    let grant = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    let w = s.worker(webhooks(Some(format!("{base}/fallback"))));
    assert_eq!(w.drain().unwrap(), 1);
    let revoke = s.treatment(TreatmentKind::RevokeAccess, TreatmentReason::PaymentRefunded);
    assert_eq!(w.drain().unwrap(), 1);

    let calls = platform.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| c.method == "POST" && c.path == "/curso/hooks"), "the course's URL wins");
    let body = verify(&calls[0]);
    assert_eq!(calls[0].headers["webhook-id"], format!("trt_{grant}"));
    assert_eq!(
        body,
        json!({"type": "access.granted", "id": format!("trt_{grant}"),
               "customer": {"email": "ana@example.com", "name": "Ana Souza", "document": "12345678909", "phone": "+5511999990000"},
               "course": {"id": s.course_id, "name": "Confeitaria", "external_id": "confeitaria"},
               "expires_at": "2027-01-31", "reason": "payment_approved"})
    );
    let body = verify(&calls[1]);
    assert_eq!((body["type"].as_str(), body["reason"].as_str()), (Some("access.revoked"), Some("payment_refunded")));
    assert_eq!(calls[1].headers["webhook-id"], format!("trt_{revoke}"));
    for id in [grant, revoke] {
        let t = s.load(id);
        assert_eq!(t.status, "done");
        assert!(t.output.unwrap().contains("platform: Plataforma: webhook"), "the note is on the output");
    }
}

#[test]
fn a_500_is_retried_with_the_same_webhook_id_and_ends_done() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    platform.answer("/hooks", 500, vec![], "upstream down");
    let s = setup(None);
    let id = s.treatment(TreatmentKind::ExtendAccess, TreatmentReason::SubscriptionRenewed);
    let w = s.worker(webhooks(Some(format!("{base}/hooks"))));
    w.drain().unwrap();
    let t = s.load(id);
    assert_eq!(t.status, "pending");
    assert!(t.last_error.as_deref().unwrap().contains("HTTP 500: upstream down"), "{:?}", t.last_error);
    s.due_now(id);
    w.drain().unwrap();
    assert_eq!(s.load(id).status, "done");
    let calls = platform.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].headers["webhook-id"], calls[1].headers["webhook-id"], "the same id on every attempt");
    assert_eq!(verify(&calls[1])["type"], "access.extended");
}

#[test]
fn a_422_is_dead_at_once_with_the_platform_s_answer() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    let long = format!("{{\"error\": \"CPF inválido\", \"detail\": \"{}\"}}", "x".repeat(2000));
    platform.answer("/hooks", 422, vec![], &long);
    let s = setup(None);
    let id = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    s.worker(webhooks(Some(format!("{base}/hooks")))).drain().unwrap();
    let t = s.load(id);
    assert_eq!((t.status.as_str(), t.attempts), ("dead", 1));
    let error = t.last_error.unwrap();
    assert!(error.contains("HTTP 422: {\"error\": \"CPF inválido\""), "{error}");
    assert!(error.chars().count() < 700, "an excerpt, not the whole body: {}", error.len());
    assert_eq!(platform.calls().len(), 1);
}

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    platform.answer("/hooks", 429, vec![("retry-after", "120".into())], "slow down");
    let s = setup(None);
    let id = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    s.worker(webhooks(Some(format!("{base}/hooks")))).drain().unwrap();
    let t = s.load(id);
    assert_eq!(t.status, "pending");
    let wait = (t.run_at - Utc::now()).num_seconds();
    assert!((110..=125).contains(&wait), "run_at follows Retry-After: {wait} s");
}

#[test]
fn the_templated_mode_finds_creates_and_enrols_with_a_captured_id() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    platform.answer("/api/v1/students", 200, vec![], r#"{"data": []}"#);
    platform.answer("/api/v1/students", 201, vec![], r#"{"id": 77, "email": "ana@example.com"}"#);
    let file = format!(
        r#"
[[grant]]
name = "find"
method = "GET"
url = "{base}/api/v1/students?cpf={{{{ customer.document|urlencode }}}}"
headers = {{ Authorization = "Bearer {{{{ env.PLATAFORMA_TOKEN }}}}" }}
capture = {{ student_id = "/data/0/id" }}

[[grant]]
name = "create"
when = "not vars.student_id"
url = "{base}/api/v1/students"
headers = {{ Authorization = "Bearer {{{{ env.PLATAFORMA_TOKEN }}}}" }}
body = '{{"full_name": {{{{ customer.name|tojson }}}}, "email": {{{{ customer.email|tojson }}}}, "cpf": {{{{ customer.document|tojson }}}}}}'
capture = {{ student_id = "/id" }}

[[grant]]
name = "enrol"
url = "{base}/api/v1/students/{{{{ vars.student_id }}}}/enrollments"
headers = {{ Authorization = "Bearer {{{{ env.PLATAFORMA_TOKEN }}}}" }}
body = '{{"course": {{{{ course.external_id|tojson }}}}, "expires_at": {{{{ expires_at|tojson }}}}}}'
"#
    );
    let plan = HttpPlan::parse(&file, false, &|k| (k == "PLATAFORMA_TOKEN").then(|| "tok-123".into())).unwrap();
    let s = setup(None);
    let id = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    let config =
        PlatformConfig { timeout: std::time::Duration::from_secs(3), http: Some(plan), ..PlatformConfig::default() };
    s.worker(config).drain().unwrap();
    let t = s.load(id);
    assert_eq!(t.status, "done", "{:?}", t.last_error);
    assert!(t.output.unwrap().contains("find HTTP 200, create HTTP 201, enrol HTTP 200"));
    let calls = platform.calls();
    let seen: Vec<(String, String)> = calls.iter().map(|c| (c.method.clone(), c.path.clone())).collect();
    assert_eq!(
        seen,
        [
            ("GET".to_string(), "/api/v1/students?cpf=12345678909".to_string()),
            ("POST".into(), "/api/v1/students".into()),
            ("POST".into(), "/api/v1/students/77/enrollments".into()),
        ]
    );
    assert!(calls.iter().all(|c| c.headers["authorization"] == "Bearer tok-123"));
    let created: Value = serde_json::from_slice(&calls[1].body).unwrap();
    assert_eq!(created, json!({"full_name": "Ana Souza", "email": "ana@example.com", "cpf": "12345678909"}));
    let enrolled: Value = serde_json::from_slice(&calls[2].body).unwrap();
    assert_eq!(enrolled, json!({"course": "confeitaria", "expires_at": "2027-01-31"}));
}

#[test]
fn a_revocation_never_overtakes_a_grant_waiting_for_its_retry() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    platform.answer("/hooks", 500, vec![], "upstream down");
    let s = setup(None);
    let w = s.worker(webhooks(Some(format!("{base}/hooks"))));
    let grant = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    w.drain().unwrap();
    assert_eq!(s.load(grant).status, "pending", "the grant failed and waits for its retry");

    // The refund arrives meanwhile: its revocation waits behind the grant, and a message does not.
    let revoke = s.treatment(TreatmentKind::RevokeAccess, TreatmentReason::PaymentRefunded);
    let message = s.treatment(TreatmentKind::RefundMessage, TreatmentReason::PaymentRefunded);
    w.drain().unwrap();
    assert_eq!(s.load(revoke).status, "pending");
    assert_eq!(s.load(revoke).attempts, 0, "never claimed while the grant is under way");
    assert_eq!(s.load(message).status, "done", "other kinds are not held back");
    assert_eq!(platform.calls().len(), 1);

    s.due_now(grant);
    w.drain().unwrap();
    assert_eq!((s.load(grant).status.as_str(), s.load(revoke).status.as_str()), ("done", "done"));
    let kinds: Vec<String> = platform.calls().iter().map(|c| verify(c)["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["access.granted", "access.granted", "access.revoked"], "the platform sees them in order");
}

#[test]
fn a_revocation_scheduled_for_later_does_not_hold_back_a_new_grant() {
    let platform = Arc::new(Platform::default());
    let base = serve(platform.clone());
    let s = setup(None);
    let w = s.worker(webhooks(Some(format!("{base}/hooks"))));
    let scheduled = s.treatment(TreatmentKind::RevokeAccess, TreatmentReason::SubscriptionCanceled);
    diesel::update(treatments::table.find(scheduled))
        .set(treatments::run_at.eq(Utc::now() + Duration::days(20)))
        .execute(&mut s.db.conn())
        .unwrap();
    let grant = s.treatment(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved);
    w.drain().unwrap();
    assert_eq!((s.load(scheduled).status.as_str(), s.load(grant).status.as_str()), ("pending", "done"));
}
