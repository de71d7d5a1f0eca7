//! Alerts against a real HTTP server on loopback (an actix server started here records every call):
//! a dead treatment alerts once per window, an old due treatment once, a spike of 401s once naming the
//! source; the test button reaches the server; the settings never show a secret.

mod common;

use actix_web::test::{self, TestRequest};
use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::alerts::Alerter;
use portaria::config::Config;
use serde_json::Value;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

const HOOK_SECRET: &str = "segredo-do-webhook-de-alerta";

/// An incoming-webhook endpoint on a free loopback port, on its own thread: records each JSON body and
/// answers `status`.
struct Hook {
    port: u16,
    calls: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
}

impl Hook {
    fn start() -> Hook {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(200));
        let (c, s) = (calls.clone(), status.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    let (c, s) = (c.clone(), s.clone());
                    App::new().route(
                        "/hook/{secret}",
                        web::post().to(move |body: web::Json<Value>| {
                            let (c, s) = (c.clone(), s.clone());
                            async move {
                                c.lock().unwrap().push(body.into_inner());
                                let status = s.load(Ordering::SeqCst);
                                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("ok")
                            }
                        }),
                    )
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
            })
        });
        Hook { port, calls, status }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook/{HOOK_SECRET}", self.port)
    }

    fn texts(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|c| c["text"].as_str().unwrap_or_default().to_string()).collect()
    }

    fn matching(&self, needle: &str) -> Vec<String> {
        self.texts().into_iter().filter(|t| t.contains(needle)).collect()
    }
}

fn config_with(db: &TestDb, hook: &Hook) -> Config {
    let mut config = db.config();
    config.alerts.webhook_url = Some(hook.url());
    config.public_url = "https://portaria.exemplo.com".into();
    config
}

/// An approved purchase: a customer with pending treatments. Returns the customer id.
async fn purchase(state: &portaria::state::AppState, email: &str) -> i64 {
    let app = app!(state.clone());
    let res =
        test::call_service(&app, webhook("hashtag", &simulator("Ana", email, "aprovado", 10.0)).to_request()).await;
    json(res).await["customer_id"].as_i64().unwrap()
}

fn check(state: &portaria::state::AppState, at: chrono::DateTime<Utc>) -> Vec<portaria::alerts::Sent> {
    let alerter = Alerter::from_config(&state.config).expect("alerts on");
    alerter.check(&mut state.pool.get().unwrap(), at).unwrap()
}

#[actix_web::test]
async fn a_dead_treatment_alerts_once_per_window() {
    let db = TestDb::new();
    let hook = Hook::start();
    let state = db.state_with(config_with(&db, &hook));
    let customer = purchase(&state, "ana@example.com").await;
    let dead: i64 = {
        use portaria::schema::treatments::dsl as t;
        let mut conn = db.conn();
        let id = t::treatments.select(t::id).filter(t::customer_id.eq(customer)).first(&mut conn).unwrap();
        diesel::update(t::treatments.find(id))
            .set((
                t::status.eq("dead"),
                t::attempts.eq(8),
                t::last_error.eq("HTTP 422: aluno inválido"),
                t::updated_at.eq(Utc::now()),
            ))
            .execute(&mut conn)
            .unwrap();
        id
    };
    let now = Utc::now() + Duration::seconds(10);
    let first = check(&state, now);
    assert_eq!(first.iter().filter(|s| s.key == format!("dead:{dead}")).count(), 1, "{first:?}");
    check(&state, now + Duration::seconds(60));
    let alerts = hook.matching("falhou de vez");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains(&format!("#{dead}")) && alerts[0].contains("ana@example.com"), "{}", alerts[0]);
    assert!(alerts[0].contains(&format!("https://portaria.exemplo.com/clientes/{customer}")), "{}", alerts[0]);
    assert!(alerts[0].contains("HTTP 422"));
    // the same JSON for Slack/Teams (`text`) and Discord (`content`)
    let call = hook.calls.lock().unwrap()[0].clone();
    assert_eq!(call["text"], call["content"]);
    // after the window it stays read: a treatment that stays dead is not announced again
    check(&state, now + Duration::minutes(45));
    assert_eq!(hook.matching("falhou de vez").len(), 1);
}

#[actix_web::test]
async fn a_failed_alert_is_retried_at_the_next_check_and_then_sent_once() {
    let db = TestDb::new();
    let hook = Hook::start();
    let state = db.state_with(config_with(&db, &hook));
    let customer = purchase(&state, "bia@example.com").await;
    {
        use portaria::schema::treatments::dsl as t;
        diesel::update(t::treatments.filter(t::customer_id.eq(customer)))
            .set((t::status.eq("dead"), t::updated_at.eq(Utc::now())))
            .execute(&mut db.conn())
            .unwrap();
    }
    hook.status.store(500, Ordering::SeqCst);
    let now = Utc::now() + Duration::seconds(10);
    let sent = check(&state, now);
    assert!(!sent.is_empty() && sent.iter().all(|s| !s.ok), "{sent:?}");
    let tried = hook.matching("falhou de vez").len();
    hook.status.store(200, Ordering::SeqCst);
    let sent = check(&state, now + Duration::seconds(60));
    assert!(!sent.is_empty() && sent.iter().all(|s| s.ok), "{sent:?}");
    check(&state, now + Duration::seconds(120));
    assert_eq!(hook.matching("falhou de vez").len(), tried * 2, "retried once, then silent");
}

#[actix_web::test]
async fn an_old_due_treatment_alerts_once_per_window() {
    let db = TestDb::new();
    let hook = Hook::start();
    let mut config = config_with(&db, &hook);
    config.alerts.outbox_age = std::time::Duration::from_secs(600);
    let state = db.state_with(config);
    purchase(&state, "caio@example.com").await;
    // fresh: nothing to say
    assert!(check(&state, Utc::now()).is_empty());
    let later = Utc::now() + Duration::minutes(20);
    let sent = check(&state, later);
    assert_eq!(sent.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["outbox_age"]);
    check(&state, later + Duration::minutes(1));
    check(&state, later + Duration::minutes(29));
    let alerts = hook.matching("na fila há mais de 10 min");
    assert_eq!(alerts.len(), 1, "{:?}", hook.texts());
    assert!(alerts[0].contains("https://portaria.exemplo.com/tratativas?status=pending"), "{}", alerts[0]);
    // a new window, still stuck: one more
    check(&state, later + Duration::minutes(31));
    assert_eq!(hook.matching("na fila há mais de 10 min").len(), 2);
}

#[actix_web::test]
async fn a_spike_of_401s_alerts_once_naming_the_source() {
    let db = TestDb::new();
    let hook = Hook::start();
    let state = db.state_with(config_with(&db, &hook));
    let app = app!(state.clone());
    for _ in 0..20 {
        let req = TestRequest::post()
            .uri("/webhooks/hotmart")
            .insert_header(("X-HOTMART-HOTTOK", "rodado"))
            .set_payload("{}");
        assert_eq!(test::call_service(&app, req.to_request()).await.status().as_u16(), 401);
    }
    for _ in 0..19 {
        let req = TestRequest::post().uri("/webhooks/kiwify?signature=00").set_payload("{}");
        assert_eq!(test::call_service(&app, req.to_request()).await.status().as_u16(), 401);
    }
    let sent = check(&state, Utc::now());
    assert_eq!(sent.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["rejections:hotmart"]);
    check(&state, Utc::now());
    let alerts = hook.matching("recusados com 401");
    assert_eq!(alerts.len(), 1, "{:?}", hook.texts());
    assert!(alerts[0].contains("20 webhooks da fonte hotmart"), "{}", alerts[0]);
    assert!(!alerts[0].contains("kiwify"));
}

#[actix_web::test]
async fn the_test_button_reaches_the_endpoint_and_reports_its_answer() {
    let db = TestDb::new();
    let hook = Hook::start();
    let state = db.state_with(config_with(&db, &hook));
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let support = support_token(&app).await;

    let res = test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let b = json(res).await;
    assert_eq!(
        (b["channel"].as_str(), b["ok"].as_bool(), b["status"].as_u64()),
        (Some("alert"), Some(true), Some(200))
    );
    assert_eq!(hook.matching("alerta de teste").len(), 1);

    // the endpoint refuses: still a 200 answer, ok false, with its status
    hook.status.store(403, Ordering::SeqCst);
    let b = json(test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await).await;
    assert_eq!((b["ok"].as_bool(), b["status"].as_u64()), (Some(false), Some(403)), "{b}");
    assert!(!b.to_string().contains(HOOK_SECRET));

    let code = |res_body: Value| res_body["error"]["code"].as_str().map(str::to_string);
    let res = test::call_service(&app, post("/api/settings/test/fax", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 404);
    let res = test::call_service(&app, post("/api/settings/test/email", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(code(json(res).await).as_deref(), Some("channel_off"));
    let res = test::call_service(&app, post("/api/settings/test/alert", &support).to_request()).await;
    assert_eq!(res.status().as_u16(), 403);

    // nothing listens: ok false with why, never a 5xx
    let mut config = config_with(&db, &hook);
    config.alerts.webhook_url = Some(format!("http://127.0.0.1:9/hook/{HOOK_SECRET}"));
    let app = app!(db.state_with(config));
    let res = test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let b = json(res).await;
    assert_eq!((b["ok"].as_bool(), b["status"].is_null()), (Some(false), true), "{b}");
    assert!(!b.to_string().contains(HOOK_SECRET), "{b}");

    // alerts off: 409
    let app = app!(db.state());
    let res = test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 409);
}

#[actix_web::test]
async fn settings_show_what_is_on_and_never_a_secret() {
    let db = TestDb::new();
    let hook = Hook::start();
    let state = db.state_with(config_with(&db, &hook));
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let support = support_token(&app).await;
    let res = test::call_service(&app, get("/api/settings", &admin).to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let b = json(res).await;
    let shown = b.to_string();
    for secret in [HOOK_SECRET, HASHTAG_TOKEN, HOTTOK, KIWIFY_TOKEN, GENERIC_SECRET, &state.config.jwt_secret] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    assert_eq!(b["alerts"]["enabled"], true);
    assert_eq!(b["alerts"]["host"], format!("127.0.0.1:{}", hook.port));
    assert_eq!(b["alerts"]["window_seconds"], 1800);
    assert_eq!(b["sources"].as_array().unwrap().len(), 6, "hashtag, hotmart, kiwify, generic, eduzz, monetizze");
    assert!(b["sources"].as_array().unwrap().iter().all(|s| s["secret_set"] == true));
    assert_eq!(b["email"]["enabled"], false);
    assert_eq!(b["worker"]["max_attempts"], 8);
    assert_eq!(b["retention"]["rejected_days"], 30);
    let res = test::call_service(&app, get("/api/settings", &support).to_request()).await;
    assert_eq!(res.status().as_u16(), 403);
}

// ---- ALERT_HTTP_CONFIG: alerts through templated calls (a WhatsApp gateway) ----------------------------

const GATEWAY_KEY: &str = "chave-do-gateway-whatsapp";

/// One call the gateway received: the instance in its path, its `apikey` header and its JSON body.
#[derive(Debug, Clone)]
struct GatewayCall {
    instance: String,
    apikey: Option<String>,
    body: Value,
}

/// A WhatsApp-gateway-style endpoint (`POST /message/sendText/{instance}`, `apikey` header, `{number, text}`)
/// on a free loopback port: records each call and answers `status`.
struct Gateway {
    port: u16,
    calls: Arc<Mutex<Vec<GatewayCall>>>,
    status: Arc<AtomicU16>,
}

impl Gateway {
    fn start() -> Gateway {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(201));
        let (c, s) = (calls.clone(), status.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    let (c, s) = (c.clone(), s.clone());
                    App::new().route(
                        "/message/sendText/{instance}",
                        web::post().to(
                            move |req: actix_web::HttpRequest, instance: web::Path<String>, body: web::Json<Value>| {
                                let (c, s) = (c.clone(), s.clone());
                                async move {
                                    let apikey =
                                        req.headers().get("apikey").and_then(|v| v.to_str().ok()).map(str::to_string);
                                    c.lock().unwrap().push(GatewayCall {
                                        instance: instance.into_inner(),
                                        apikey,
                                        body: body.into_inner(),
                                    });
                                    let status = s.load(Ordering::SeqCst);
                                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                                        .json(serde_json::json!({"key": {"id": "3EB0C0FFEE"}, "status": "PENDING"}))
                                }
                            },
                        ),
                    )
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
            })
        });
        Gateway { port, calls, status }
    }

    /// The file of docs/CHANNELS.md's worked example, pointed at this gateway.
    fn plan(&self) -> portaria::alerts::templated::AlertPlan {
        let file = format!(
            r#"
[[alert]]
name = "whatsapp"
method = "POST"
url = "http://127.0.0.1:{}/message/sendText/{{{{ env.ZAP_INSTANCE }}}}"
headers = {{ apikey = "{{{{ env.ZAP_API_KEY }}}}" }}
body = '{{"number": {{{{ env.ALERT_WHATSAPP_NUMBER|tojson }}}}, "text": {{{{ alert.text|tojson }}}}}}'
"#,
            self.port
        );
        let env = |name: &str| match name {
            "ZAP_INSTANCE" => Some("portaria".to_string()),
            "ZAP_API_KEY" => Some(GATEWAY_KEY.to_string()),
            "ALERT_WHATSAPP_NUMBER" => Some("5511999990000".to_string()),
            _ => None,
        };
        portaria::alerts::templated::AlertPlan::parse(&file, false, &env).unwrap()
    }

    fn texts(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|c| c.body["text"].as_str().unwrap_or_default().to_string()).collect()
    }
}

async fn kill_first_treatment(db: &TestDb, customer: i64) -> i64 {
    use portaria::schema::treatments::dsl as t;
    let mut conn = db.conn();
    let id = t::treatments.select(t::id).filter(t::customer_id.eq(customer)).first(&mut conn).unwrap();
    diesel::update(t::treatments.find(id))
        .set((t::status.eq("dead"), t::attempts.eq(8), t::updated_at.eq(Utc::now())))
        .execute(&mut conn)
        .unwrap();
    id
}

#[actix_web::test]
async fn alerts_reach_a_whatsapp_gateway_through_templated_calls_once_per_window() {
    let db = TestDb::new();
    let gateway = Gateway::start();
    let mut config = db.config();
    config.alerts.http = Some(gateway.plan());
    config.public_url = "https://portaria.exemplo.com".into();
    let state = db.state_with(config);
    let customer = purchase(&state, "cida@example.com").await;
    let dead = kill_first_treatment(&db, customer).await;

    // the gateway refuses first (a 500): not sent, retried at the next check
    gateway.status.store(500, Ordering::SeqCst);
    let now = Utc::now() + Duration::seconds(10);
    let sent = check(&state, now);
    assert_eq!(sent, [portaria::alerts::Sent { key: format!("dead:{dead}@http"), ok: false }]);
    gateway.status.store(201, Ordering::SeqCst);
    let sent = check(&state, now + Duration::seconds(60));
    assert_eq!(sent, [portaria::alerts::Sent { key: format!("dead:{dead}@http"), ok: true }]);
    assert!(check(&state, now + Duration::seconds(120)).is_empty(), "once per window");
    let calls = gateway.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "the failed try and the delivery: {calls:?}");
    let call = &calls[1];
    assert_eq!(call.instance, "portaria");
    assert_eq!(call.apikey.as_deref(), Some(GATEWAY_KEY));
    assert_eq!(call.body["number"], "5511999990000");
    let text = call.body["text"].as_str().unwrap();
    assert!(text.contains(&format!("#{dead}")) && text.contains("cida@example.com"), "{text}");
    assert!(text.contains(&format!("https://portaria.exemplo.com/clientes/{customer}")), "{text}");
}

#[actix_web::test]
async fn with_both_destinations_a_failed_one_is_retried_alone() {
    let db = TestDb::new();
    let hook = Hook::start();
    let gateway = Gateway::start();
    let mut config = config_with(&db, &hook);
    config.alerts.http = Some(gateway.plan());
    let state = db.state_with(config);
    let customer = purchase(&state, "duda@example.com").await;
    let dead = kill_first_treatment(&db, customer).await;
    hook.status.store(503, Ordering::SeqCst);
    let now = Utc::now() + Duration::seconds(10);
    let mut sent = check(&state, now);
    sent.sort_by(|a, b| a.key.cmp(&b.key));
    let key = format!("dead:{dead}");
    assert_eq!(
        sent,
        [
            portaria::alerts::Sent { key: key.clone(), ok: false },
            portaria::alerts::Sent { key: format!("{key}@http"), ok: true }
        ]
    );
    hook.status.store(200, Ordering::SeqCst);
    let sent = check(&state, now + Duration::seconds(60));
    assert_eq!(sent, [portaria::alerts::Sent { key, ok: true }], "only the webhook again");
    assert_eq!(gateway.texts().iter().filter(|t| t.contains("falhou de vez")).count(), 1, "no repeat on WhatsApp");
    assert_eq!(hook.matching("falhou de vez").len(), 2, "the failed try and the delivery");
}

#[actix_web::test]
async fn configuracoes_shows_the_templated_calls_masked_and_tests_them() {
    let db = TestDb::new();
    let gateway = Gateway::start();
    let mut config = db.config();
    config.alerts.http = Some(gateway.plan());
    let state = db.state_with(config);
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let b = json(test::call_service(&app, get("/api/settings", &admin).to_request()).await).await;
    assert_eq!(b["alerts"]["enabled"], true, "{b}");
    assert!(b["alerts"]["host"].is_null(), "{b}");
    assert_eq!(b["alerts"]["http_calls"], serde_json::json!([format!("whatsapp: POST 127.0.0.1:{}", gateway.port)]));
    let shown = b.to_string();
    for secret in [GATEWAY_KEY, "5511999990000", "sendText"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }

    let b = json(test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await).await;
    assert_eq!((b["ok"].as_bool(), b["status"].is_null()), (Some(true), true), "{b}");
    assert_eq!(b["detail"], "whatsapp HTTP 201", "{b}");
    assert_eq!(gateway.texts().iter().filter(|t| t.contains("alerta de teste")).count(), 1);
    // the gateway refuses the key: ok false, its answer (never the key or the URL)
    gateway.status.store(401, Ordering::SeqCst);
    let b = json(test::call_service(&app, post("/api/settings/test/alert", &admin).to_request()).await).await;
    assert_eq!(b["ok"], false, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("401"), "{b}");
    assert!(!b.to_string().contains(GATEWAY_KEY) && !b.to_string().contains("sendText"), "{b}");
}
