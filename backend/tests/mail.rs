//! The e-mail channel against a real SMTP conversation on loopback: lettre talks to an SMTP server
//! started by the test (a small RFC 5321 server below: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), which
//! stores what it accepts and answers `bounce…` recipients with 550 and `later…` ones with 451.

mod common;

use common::*;
use portaria::channels::mail::MailChannel;
use portaria::channels::{Channel, Failure};
use portaria::config::MailConfig;
use portaria::treatments::executor::{Executor, Job};
use portaria::treatments::rules::TreatmentKind;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One message the server accepted: envelope recipients and the raw data.
#[derive(Debug, Clone)]
struct Received {
    rcpt: Vec<String>,
    data: String,
}

struct SmtpServer {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(vec![]));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || session(stream, store));
            }
        });
        SmtpServer { port, received }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn session(stream: TcpStream, store: Arc<Mutex<Vec<Received>>>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut say = |line: &str| out.write_all(format!("{line}\r\n").as_bytes()).is_ok();
    say("220 test.local ESMTP ready");
    let mut rcpt = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_string();
        let verb = command.split([' ', ':']).next().unwrap_or("").to_ascii_uppercase();
        let ok = match verb.as_str() {
            "EHLO" => say("250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8"),
            "HELO" | "NOOP" => say("250 OK"),
            "MAIL" => {
                rcpt.clear();
                say("250 2.1.0 OK")
            }
            "RCPT" => {
                let addr = command.split_once(':').map(|(_, a)| a.trim().trim_matches(['<', '>'])).unwrap_or("");
                if addr.starts_with("bounce") {
                    say(&format!("550 5.1.1 <{addr}>: Recipient address rejected: User unknown"))
                } else if addr.starts_with("later") {
                    say("451 4.3.0 Mailbox busy, try again later")
                } else {
                    rcpt.push(addr.to_string());
                    say("250 2.1.5 OK")
                }
            }
            "DATA" => {
                say("354 End data with <CR><LF>.<CR><LF>");
                let mut data = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                store.lock().unwrap().push(Received { rcpt: std::mem::take(&mut rcpt), data });
                say("250 2.0.0 OK queued")
            }
            "RSET" => {
                rcpt.clear();
                say("250 OK")
            }
            "QUIT" => {
                say("221 Bye");
                return;
            }
            _ => say("502 5.5.2 Command not recognised"),
        };
        if !ok {
            return;
        }
    }
}

/// The decoded parts of a MIME message: (content type, text).
fn parts(data: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for chunk in data.split("\r\n--").skip(1) {
        let Some((headers, body)) = chunk.split_once("\r\n\r\n") else { continue };
        let header = |name: &str| {
            headers
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                .map(|l| l.split_once(':').unwrap().1.trim().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let content_type = header("content-type");
        if content_type.starts_with("multipart") || content_type.is_empty() {
            continue;
        }
        let text = match header("content-transfer-encoding").as_str() {
            "base64" => {
                use base64::Engine;
                let raw: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).unwrap()).unwrap()
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_string(),
        };
        out.push((content_type, text));
    }
    out
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    data.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

fn mail_config(url: String) -> MailConfig {
    MailConfig {
        smtp_url: url,
        username: None,
        password: None,
        from: "Escola Exemplo <contato@escola.com.br>".into(),
        reply_to: Some("suporte@escola.com.br".into()),
        templates_dir: None,
        timeout: Duration::from_secs(2),
    }
}

fn welcome(id: i64, email: &str) -> Job {
    Job {
        id,
        kind: TreatmentKind::WelcomeMessage,
        attempt: 1,
        payload: json!({
            "email": email, "name": "maria souza", "course": "Confeitaria Profissional",
            "access_url": "https://membros.example.com/confeitaria?c=1&x=2", "amount_cents": 123456,
            "expires_at": "2027-12-31",
        }),
    }
}

#[test]
fn the_welcome_arrives_with_both_parts_in_portuguese_and_the_same_message_id_on_a_retry() {
    let server = SmtpServer::start();
    let channel = MailChannel::new(&mail_config(server.url())).unwrap();
    let job = welcome(7, "maria@example.com");
    let note = channel.deliver(&job).unwrap();
    assert!(note.contains("<treatment-7@escola.com.br>") && note.contains("250"), "{note}");
    // A second attempt of the same treatment (say, after a crash before the result was recorded).
    channel.deliver(&Job { attempt: 2, ..job }).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].rcpt, ["maria@example.com"]);
    let data = &got[0].data;
    assert_eq!(header(data, "Message-ID"), Some("<treatment-7@escola.com.br>"));
    assert_eq!(header(&got[1].data, "Message-ID"), header(data, "Message-ID"), "stable across a retry");
    assert!(header(data, "From").unwrap().contains("contato@escola.com.br"));
    assert_eq!(header(data, "Reply-To"), Some("suporte@escola.com.br"));
    assert!(header(data, "Content-Type").unwrap().starts_with("multipart/alternative"), "{data}");
    let parts = parts(data);
    assert_eq!(parts.len(), 2, "{data}");
    let (text_type, text) = &parts[0];
    let (html_type, html) = &parts[1];
    // The HTML escapes every value (`/` as `&#x2f;`, as minijinja's HTML escaping does).
    let html = &html.replace("&#x2f;", "/");
    assert!(text_type.starts_with("text/plain") && html_type.starts_with("text/html"), "{parts:?}");
    for part in [text, html] {
        assert!(part.contains("Olá, Maria!"), "{part}");
        assert!(part.contains("Confeitaria Profissional") && part.contains("R$ 1.234,56"), "{part}");
        assert!(part.contains("31/12/2027"), "{part}");
    }
    assert!(text.contains("https://membros.example.com/confeitaria?c=1&x=2"), "{text}");
    assert!(html.contains("membros.example.com") && html.contains("c=1&amp;x=2"), "{html}");
}

#[test]
fn a_550_is_permanent_with_the_server_answer_and_a_451_is_retried() {
    let server = SmtpServer::start();
    let channel = MailChannel::new(&mail_config(server.url())).unwrap();
    match channel.deliver(&welcome(8, "bounce@example.com")) {
        Err(Failure::Permanent { error }) => {
            assert!(error.contains("550") || error.contains("User unknown"), "{error}");
            assert!(error.contains("Recipient address rejected"), "{error}");
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    match channel.deliver(&welcome(9, "later@example.com")) {
        Err(Failure::Retry { error, .. }) => assert!(error.contains("try again later"), "{error}"),
        other => panic!("expected a retry, got {other:?}"),
    }
    assert!(server.messages().is_empty());
}

#[test]
fn connection_failures_and_silent_servers_are_retried_within_the_timeout() {
    // Nothing listens on the port.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let channel = MailChannel::new(&mail_config(format!("smtp://127.0.0.1:{closed}"))).unwrap();
    assert!(matches!(channel.deliver(&welcome(10, "a@example.com")), Err(Failure::Retry { .. })));
    // A server that accepts and never greets: the timeout ends the attempt.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _held: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
    });
    let mut config = mail_config(format!("smtp://127.0.0.1:{port}"));
    config.timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let result = MailChannel::new(&config).unwrap().deliver(&welcome(11, "a@example.com"));
    assert!(matches!(result, Err(Failure::Retry { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn a_refund_revocation_sends_nothing_more_and_an_expiry_sends_the_notice() {
    let server = SmtpServer::start();
    let channel = MailChannel::new(&mail_config(server.url())).unwrap();
    let revoke = |id, reason: &str| Job {
        id,
        kind: TreatmentKind::RevokeAccess,
        attempt: 1,
        payload: json!({"email": "ana@example.com", "name": "Ana", "course": "Curso", "reason": reason}),
    };
    channel.deliver(&revoke(20, "payment_refunded")).unwrap();
    assert!(server.messages().is_empty());
    channel.deliver(&revoke(21, "expired")).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert!(parts(&got[0].data)[0].1.contains("O período de acesso ao curso Curso terminou"));
}

#[actix_web::test]
async fn a_paid_webhook_ends_as_a_welcome_e_mail_and_without_smtp_only_the_console_line() {
    use actix_web::test::{call_service, init_service};
    use diesel::prelude::*;
    use portaria::schema::treatments;
    let server = SmtpServer::start();
    let db = TestDb::new();
    let mut config = db.config();
    config.mail = Some(mail_config(server.url()));
    let state = db.state_with(config.clone());
    let app = init_service(actix_web::App::new().configure(portaria::app::configure(state.clone()))).await;
    let res = call_service(
        &app,
        webhook("hashtag", &simulator("Ana Lima", "ana@example.com", "aprovado", 1234.5)).to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let channels = portaria::channels::configured(&config, &state.pool).unwrap();
    let executor = Arc::new(portaria::channels::Router::new(channels));
    worker(&state, executor).drain().unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1, "one welcome");
    assert_eq!(got[0].rcpt, ["ana@example.com"]);
    let text = &parts(&got[0].data)[0].1;
    assert!(text.contains("Olá, Ana!") && text.contains("R$ 1.234,50"), "{text}");
    let mut conn = db.conn();
    let outputs: Vec<(String, Option<String>)> =
        treatments::table.select((treatments::kind, treatments::output)).order(treatments::id).load(&mut conn).unwrap();
    let welcome = outputs.iter().find(|(k, _)| k == "welcome_message").unwrap().1.clone().unwrap();
    assert!(welcome.starts_with("Enviar mensagem de boas vindas para o email: ana@example.com"), "{welcome}");
    assert!(welcome.contains("email: e-mail sent to ana@example.com"), "{welcome}");

    // SMTP_URL unset: no channel, the console line is still written.
    let off = portaria::channels::configured(&db.config(), &state.pool).unwrap();
    assert!(off.is_empty());
    let line = portaria::channels::Router::new(off).execute(&welcome_job()).unwrap();
    assert_eq!(line, "Enviar mensagem de boas vindas para o email: bia@example.com");
    assert_eq!(server.messages().len(), 1, "nothing more sent");
}

fn welcome_job() -> Job {
    Job { id: 99, kind: TreatmentKind::WelcomeMessage, attempt: 1, payload: json!({"email": "bia@example.com"}) }
}

#[test]
fn the_sweep_reminds_once_per_end_of_access_and_times_out_pending_payments_once() {
    use chrono::{Duration as D, Utc};
    use diesel::prelude::*;
    use portaria::schema::{courses, customers, enrollments, orders, treatments};
    use portaria::treatments::sweep::{self, Settings};
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = Utc::now();
    let customer: i64 = diesel::insert_into(customers::table)
        .values((customers::email.eq("ana@example.com"), customers::name.eq("Ana")))
        .returning(customers::id)
        .get_result(&mut conn)
        .unwrap();
    let course: i64 = diesel::insert_into(courses::table)
        .values((courses::slug.eq("c"), courses::name.eq("Curso"), courses::access_url.eq("https://m.example/c")))
        .returning(courses::id)
        .get_result(&mut conn)
        .unwrap();
    let enrollment: i64 = diesel::insert_into(enrollments::table)
        .values((
            enrollments::customer_id.eq(customer),
            enrollments::course_id.eq(course),
            enrollments::status.eq("active"),
            enrollments::granted_at.eq(now - D::days(300)),
            enrollments::expires_at.eq(now + D::days(5)),
        ))
        .returning(enrollments::id)
        .get_result(&mut conn)
        .unwrap();
    let settings = Settings::default();
    assert_eq!(sweep::queue_access_reminders(&mut conn, now, 7).unwrap(), [enrollment]);
    assert!(sweep::queue_access_reminders(&mut conn, now, 7).unwrap().is_empty(), "once");
    assert!(sweep::queue_access_reminders(&mut conn, now, 0).unwrap().is_empty(), "0 = off");
    // An extension is a new end of access: a new reminder when it comes near.
    diesel::update(enrollments::table.find(enrollment))
        .set(enrollments::expires_at.eq(now + D::days(30)))
        .execute(&mut conn)
        .unwrap();
    assert!(sweep::queue_access_reminders(&mut conn, now, 7).unwrap().is_empty(), "not yet");
    assert_eq!(sweep::queue_access_reminders(&mut conn, now + D::days(24), 7).unwrap(), [enrollment]);
    let payloads: Vec<serde_json::Value> = treatments::table
        .filter(treatments::kind.eq("access_reminder_message"))
        .select(treatments::payload)
        .load(&mut conn)
        .unwrap();
    assert_eq!(payloads.len(), 2);
    assert_eq!(payloads[0]["access_url"], "https://m.example/c");

    let order = |conn: &mut PgConnection, id: &str, method: &str, age: D| -> i64 {
        diesel::insert_into(orders::table)
            .values((
                orders::source.eq("kiwify"),
                orders::external_id.eq(id),
                orders::customer_id.eq(customer),
                orders::course_id.eq(course),
                orders::status.eq("waiting_payment"),
                orders::amount_cents.eq(9990i64),
                orders::payment_method.eq(method),
                orders::updated_at.eq(now - age),
            ))
            .returning(orders::id)
            .get_result(conn)
            .unwrap()
    };
    let old_pix = order(&mut conn, "p1", "pix", D::minutes(31));
    order(&mut conn, "p2", "pix", D::minutes(10));
    let old_boleto = order(&mut conn, "b1", "boleto", D::hours(73));
    order(&mut conn, "b2", "boleto", D::hours(5));
    order(&mut conn, "c1", "credit_card", D::days(10));
    let mut timed_out = sweep::queue_payment_timeouts(&mut conn, now, &settings).unwrap();
    timed_out.sort();
    assert_eq!(timed_out, [old_pix, old_boleto]);
    assert!(sweep::queue_payment_timeouts(&mut conn, now, &settings).unwrap().is_empty(), "once");
    let expired: Vec<(Option<i64>, Option<String>)> = treatments::table
        .filter(treatments::kind.eq("payment_expired_message"))
        .select((treatments::order_id, treatments::reason))
        .load(&mut conn)
        .unwrap();
    assert_eq!(expired.len(), 2);
    assert!(expired.iter().all(|(_, r)| r.as_deref() == Some("payment_expired")));
    let status: String = orders::table.find(old_pix).select(orders::status).get_result(&mut conn).unwrap();
    assert_eq!(status, "waiting_payment", "a later approval still grants");
}

#[actix_web::test]
async fn configuracoes_sends_a_test_e_mail_to_the_signed_in_admin() {
    use actix_web::test::{call_service, init_service};
    let server = SmtpServer::start();
    let db = TestDb::new();
    let mut config = db.config();
    config.mail = Some(mail_config(server.url()));
    let state = db.state_with(config);
    let app = init_service(actix_web::App::new().configure(portaria::app::configure(state.clone()))).await;
    let admin = staff_token(&app).await;
    let res = call_service(&app, post("/api/settings/test/email", &admin).to_request()).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["ok"], true, "{body}");
    let got = server.messages();
    assert_eq!(got.len(), 1, "one test e-mail");
    assert!(got[0].rcpt[0].starts_with("staff") && got[0].rcpt[0].ends_with("@escola.com.br"), "{:?}", got[0].rcpt);
    let settings = json(call_service(&app, common::get("/api/settings", &admin).to_request()).await).await;
    assert_eq!(settings["email"]["enabled"], true, "{settings}");
}

#[actix_web::test]
async fn the_preview_frame_opens_with_its_ticket_under_its_own_policy_and_nothing_else_opens_it() {
    use actix_web::test::{call_service, read_body, TestRequest};
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    let preview =
        json(call_service(&app, common::get("/api/mail/templates/welcome_message/preview", &admin).to_request()).await)
            .await;
    let frame_url = preview["frame_url"].as_str().unwrap().to_string();
    assert!(frame_url.starts_with("/api/mail/templates/welcome_message/frame?ticket="), "{frame_url}");

    // the frame: no Bearer header, the ticket only; the HTML part with its inline styles, under the narrow policy
    let res = call_service(&app, TestRequest::get().uri(&frame_url).to_request()).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert_eq!(csp, portaria::security_headers::PREVIEW_CSP);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    assert_eq!(html, preview["html"].as_str().unwrap());
    assert!(html.contains("Maria") && html.contains("Confeitaria Profissional") && html.contains("R$ 1.234,56"));
    assert!(html.contains("style=\""), "the inline styles are kept");

    // the same ticket for another kind, a tampered one, none: 401 (with the narrow policy, so the frame shows it)
    let ticket = frame_url.split_once("ticket=").unwrap().1;
    let (expires, mac) = ticket.split_once('.').unwrap();
    let later = expires.parse::<i64>().unwrap() + 3600;
    for uri in [
        format!("/api/mail/templates/refund_message/frame?ticket={ticket}"),
        format!("/api/mail/templates/welcome_message/frame?ticket={later}.{mac}"),
        "/api/mail/templates/welcome_message/frame".to_string(),
    ] {
        let res = call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status(), 401, "{uri}");
        assert_eq!(res.headers().get("content-security-policy").unwrap(), portaria::security_headers::PREVIEW_CSP);
        assert_eq!(json(res).await["error"]["code"], "invalid_token", "{uri}");
    }
    // an expired ticket (issued long ago with the server's secret)
    let old = portaria::channels::preview::issue_ticket(
        &state.config.jwt_secret,
        TreatmentKind::WelcomeMessage,
        chrono::Utc::now().timestamp() - 3600,
    );
    let res = call_service(
        &app,
        TestRequest::get().uri(&format!("/api/mail/templates/welcome_message/frame?ticket={old}")).to_request(),
    )
    .await;
    assert_eq!(res.status(), 401);
    // the JSON preview itself stays under the app's policy
    let res = call_service(&app, common::get("/api/mail/templates/welcome_message/preview", &admin).to_request()).await;
    assert_eq!(res.headers().get("content-security-policy").unwrap(), portaria::security_headers::APP_CSP);
}

/// Exactly one payment-expired message per order, whichever comes first: the sweep's boleto timeout or the
/// platform's `expired` (real webhooks through the app, the real sweep, one database).
#[actix_web::test]
async fn the_payment_expired_message_goes_out_once_per_order_whoever_comes_first() {
    use actix_web::test::call_service;
    use chrono::{Duration as D, Utc};
    use diesel::prelude::*;
    use portaria::schema::{orders, treatments};
    use portaria::treatments::sweep::{self, Settings};
    let db = TestDb::new();
    let app = app!(db.state());
    let mut conn = db.conn();
    let settings = Settings::default();
    let hotmart = |fixture_name: &str, transaction: &str| {
        let mut body: serde_json::Value = serde_json::from_str(&fixture(fixture_name)).unwrap();
        body["data"]["purchase"]["transaction"] = transaction.into();
        body.to_string()
    };
    let order_of = |conn: &mut PgConnection, transaction: &str| -> i64 {
        orders::table.filter(orders::external_id.eq(transaction)).select(orders::id).first(conn).unwrap()
    };
    let expiry_messages = |conn: &mut PgConnection, order: i64| -> i64 {
        treatments::table
            .filter(treatments::order_id.eq(order))
            .filter(treatments::kind.eq("payment_expired_message"))
            .count()
            .get_result(conn)
            .unwrap()
    };
    let age = |conn: &mut PgConnection, order: i64| {
        diesel::update(orders::table.find(order))
            .set(orders::updated_at.eq(Utc::now() - D::hours(73)))
            .execute(conn)
            .unwrap();
    };

    // 1. The timeout first: the boleto stays pending past BOLETO_EXPIRY_HOURS, the sweep sends the message;
    //    the platform's `expired` then records the status and sends nothing more.
    let res =
        call_service(&app, webhook("hotmart", &hotmart("hotmart/billet_printed.json", "HP-T1")).to_request()).await;
    assert_eq!(json(res).await["treatments"][0]["kind"], "payment_pending_message");
    let first = order_of(&mut conn, "HP-T1");
    age(&mut conn, first);
    assert_eq!(sweep::queue_payment_timeouts(&mut conn, Utc::now(), &settings).unwrap(), [first]);
    assert_eq!(expiry_messages(&mut conn, first), 1);
    let res =
        call_service(&app, webhook("hotmart", &hotmart("hotmart/purchase_expired.json", "HP-T1")).to_request()).await;
    assert_eq!(res.status(), 200);
    let answer = json(res).await;
    assert_eq!(answer["outcome"], "processed", "{answer}");
    assert_eq!(answer["treatments"], serde_json::json!([]), "no second message: {answer}");
    assert_eq!(answer["note"], "order_already_in_state", "{answer}");
    let status: String = orders::table.find(first).select(orders::status).get_result(&mut conn).unwrap();
    assert_eq!(status, "expired", "the platform's word is recorded");
    assert_eq!(expiry_messages(&mut conn, first), 1);

    // 2. The platform first: its `expired` sends the message and marks the order, so the sweep never sends it,
    //    even when the order is waiting again (a new boleto for the same order) and old enough.
    call_service(&app, webhook("hotmart", &hotmart("hotmart/billet_printed.json", "HP-T2")).to_request()).await;
    let res =
        call_service(&app, webhook("hotmart", &hotmart("hotmart/purchase_expired.json", "HP-T2")).to_request()).await;
    assert_eq!(json(res).await["treatments"][0]["kind"], "payment_expired_message");
    let second = order_of(&mut conn, "HP-T2");
    let marked: Option<chrono::DateTime<Utc>> =
        orders::table.find(second).select(orders::payment_timeout_at).get_result(&mut conn).unwrap();
    assert!(marked.is_some(), "the expiry marks the order");
    diesel::update(orders::table.find(second)).set(orders::status.eq("waiting_payment")).execute(&mut conn).unwrap();
    age(&mut conn, second);
    assert!(sweep::queue_payment_timeouts(&mut conn, Utc::now(), &settings).unwrap().is_empty());
    // an order whose message was planned before the mark existed: its treatment is enough
    diesel::update(orders::table.find(second))
        .set(orders::payment_timeout_at.eq(None::<chrono::DateTime<Utc>>))
        .execute(&mut conn)
        .unwrap();
    assert!(sweep::queue_payment_timeouts(&mut conn, Utc::now(), &settings).unwrap().is_empty());
    assert_eq!(expiry_messages(&mut conn, second), 1);

    // 3. A later approval still grants as usual after the timeout message.
    let res =
        call_service(&app, webhook("hotmart", &hotmart("hotmart/purchase_approved.json", "HP-T1")).to_request()).await;
    let kinds: Vec<String> =
        json(res).await["treatments"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().into()).collect();
    assert_eq!(kinds, ["grant_access", "welcome_message"]);
}
