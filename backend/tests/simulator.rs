//! The Simulador endpoint against the real `portaria serve` binary and a real database: an
//! administrator plays a lifecycle for one e-mail, the deliveries go to the server's own webhook
//! endpoint over loopback, and the customer ends with the grant then the revoke on record; a
//! `suporte` is refused; `SIMULATOR_ENABLED=false` turns the routes off.

mod common;

use common::cluster::free_port;
use common::server::{Server, Stdout};
use common::*;
use diesel::prelude::*;
use portaria::channels::http::Client;
use portaria::schema::{audit_log, customers, treatments, webhook_events};
use serde_json::{json, Value};
use std::time::Duration;

fn start(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let mut vars = vec![("WORKER_CONCURRENCY", "0")];
    vars.extend_from_slice(extra);
    let mut server = Server::spawn(&db.url, free_port(), &Stdout::default(), &vars);
    assert!(server.wait_ready(Duration::from_secs(60)), "the server is ready");
    server
}

/// A request to the server: (status, JSON body).
fn call(server: &Server, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{path}", server.base()));
    if let Some(token) = token {
        req = req.header("Authorization", token);
    }
    if body.is_some() {
        req = req.header("Content-Type", "application/json");
    }
    let req = req.body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default()).unwrap();
    let answer = Client::new(Duration::from_secs(60)).send(req).expect("the server answers");
    (answer.status, serde_json::from_str(&answer.body).unwrap_or(Value::Null))
}

/// Signs up and logs in a staff user over HTTP; the first of a database is its administrator.
fn token(server: &Server, email: &str) -> String {
    let signup = json!({"email": email, "password": "senha-forte-1", "name": "Equipe", "invite_token": INVITE});
    let (status, _) = call(server, "POST", "/api/auth/signup", None, Some(signup));
    assert!(status == 201 || status == 200, "signup {status}");
    let (status, body) =
        call(server, "POST", "/api/auth/login", None, Some(json!({"email": email, "password": "senha-forte-1"})));
    assert_eq!(status, 200);
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

#[test]
fn an_administrator_plays_a_lifecycle_and_the_customer_is_granted_then_revoked() {
    let db = TestDb::new();
    // The default webhook rate limit stays on: the loopback sender is paced under it.
    let server = start(&db, &[]);
    let admin = token(&server, "admin@escola.com.br");
    let support = token(&server, "suporte@escola.com.br");

    let (status, catalog) = call(&server, "GET", "/api/simulator", Some(&admin), None);
    assert_eq!(status, 200, "{catalog}");
    let kiwify = catalog["sources"].as_array().unwrap().iter().find(|s| s["source"] == "kiwify").unwrap();
    assert_eq!(kiwify["enabled"], true);
    assert!(kiwify["scenarios"].as_array().unwrap().contains(&json!("lifecycle")));

    let body = json!({"source": "kiwify", "scenario": "lifecycle", "email": "Maria.Teste@Exemplo.com.br", "seed": 7});
    let (status, run) = call(&server, "POST", "/api/simulator/runs", Some(&admin), Some(body.clone()));
    assert_eq!(status, 200, "{run}");
    let steps: Vec<(&str, u64, &str)> = run["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["step"].as_str().unwrap(), d["status"].as_u64().unwrap(), d["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("approved", 200, "processed"), ("refunded", 200, "processed")]);
    assert_eq!(run["unexpected"], 0);
    let customer = &run["customers"][0];
    assert_eq!(customer["email"], "maria.teste@exemplo.com.br");
    let id = customer["id"].as_i64().expect("the customer exists");

    // On record: the customer's events came in through the webhook endpoint and queued the
    // grant, then the revoke.
    let mut conn = db.conn();
    let email: String = customers::table.find(id).select(customers::email).first(&mut conn).unwrap();
    assert_eq!(email, "maria.teste@exemplo.com.br");
    let kinds: Vec<String> = treatments::table
        .filter(treatments::customer_id.eq(id))
        .order(treatments::id)
        .select(treatments::kind)
        .load(&mut conn)
        .unwrap();
    let grant = kinds.iter().position(|k| k == "grant_access").expect("a grant");
    let revoke = kinds.iter().position(|k| k == "revoke_access").expect("a revoke");
    assert!(grant < revoke, "{kinds:?}");
    let events: Vec<(String, Option<String>)> = webhook_events::table
        .filter(webhook_events::customer_id.eq(id))
        .select((webhook_events::outcome, webhook_events::remote_addr))
        .load(&mut conn)
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|(outcome, addr)| outcome == "processed" && addr.as_deref() == Some("127.0.0.1")));
    // The run is audited, on the customer, by the administrator.
    let audited: Vec<(String, Option<i64>, Value)> = audit_log::table
        .filter(audit_log::action.eq("run_simulator"))
        .select((audit_log::target_type, audit_log::target_id, audit_log::details))
        .load(&mut conn)
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!((audited[0].0.as_str(), audited[0].1), ("customer", Some(id)));
    assert_eq!(audited[0].2["scenario"], "lifecycle");
    assert_eq!(audited[0].2["sent"], 2);

    // The same seed and e-mail again: the same deliveries, now duplicates.
    let (status, again) = call(&server, "POST", "/api/simulator/runs", Some(&admin), Some(body));
    assert_eq!(status, 200);
    assert!(again["deliveries"].as_array().unwrap().iter().all(|d| d["outcome"] == "duplicate"), "{again}");

    // A suporte is refused, and nothing is sent.
    let (status, refused) = call(
        &server,
        "POST",
        "/api/simulator/runs",
        Some(&support),
        Some(json!({"source": "kiwify", "scenario": "lifecycle", "email": "outra@exemplo.com.br"})),
    );
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(call(&server, "GET", "/api/simulator", Some(&support), None).0, 403);
    let outra: i64 =
        customers::table.filter(customers::email.eq("outra@exemplo.com.br")).count().get_result(&mut conn).unwrap();
    assert_eq!(outra, 0);
}

#[test]
fn many_customers_stay_under_the_rate_limit() {
    let db = TestDb::new();
    // A low limit: fifty customers of two deliveries each are paced under it, none turned away.
    let server = start(&db, &[("WEBHOOK_RATE_LIMIT", "50")]);
    let admin = token(&server, "admin@escola.com.br");
    let body = json!({"source": "hotmart", "scenario": "lifecycle", "count": 50});
    let (status, run) = call(&server, "POST", "/api/simulator/runs", Some(&admin), Some(body));
    assert_eq!(status, 200, "{run}");
    let deliveries = run["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 100);
    assert!(deliveries.iter().all(|d| d["status"] == 200 && d["outcome"] == "processed"), "{run}");
    assert_eq!(run["customers"].as_array().unwrap().len(), 50);
    assert!(run["customers"].as_array().unwrap().iter().all(|c| c["id"].is_i64()));
}

#[test]
fn turned_off_the_simulator_answers_404() {
    let db = TestDb::new();
    let server = start(&db, &[("SIMULATOR_ENABLED", "false")]);
    let admin = token(&server, "admin@escola.com.br");
    let (status, body) = call(
        &server,
        "POST",
        "/api/simulator/runs",
        Some(&admin),
        Some(json!({"source": "kiwify", "scenario": "lifecycle"})),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("simulator_off")));
    assert_eq!(call(&server, "GET", "/api/simulator", Some(&admin), None).0, 404);
    let events: i64 = webhook_events::table.count().get_result(&mut db.conn()).unwrap();
    assert_eq!(events, 0);
}
