//! The CSV import against a real PostgreSQL: a 500-line file with 3 bad lines is previewed (exactly
//! those line numbers, nothing written), refused for real (all or nothing), fixed and imported; a
//! re-import sends no second welcome; BOM, `,` and CRLF variants; the limits; who may import.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use common::*;
use diesel::prelude::*;
use portaria::schema::{audit_log, courses, customers, enrollments, treatments};
use portaria::treatments::executor::PrintExecutor;
use serde_json::Value;
use std::sync::Arc;

macro_rules! call_json {
    ($app:expr, $req:expr) => {{
        let res = test::call_service($app, $req.to_request()).await;
        let status = res.status();
        (status, json(res).await)
    }};
}

fn course(db: &TestDb, slug: &str, name: &str, days: Option<i32>) -> i64 {
    diesel::insert_into(courses::table)
        .values((courses::slug.eq(slug), courses::name.eq(name), courses::access_days.eq(days)))
        .returning(courses::id)
        .get_result(&mut db.conn())
        .unwrap()
}

fn import(token: &str, query: &str, csv: impl Into<Vec<u8>>) -> TestRequest {
    post(&format!("/api/imports/access{query}"), token)
        .insert_header(("Content-Type", "text/csv; charset=utf-8"))
        .set_payload(csv.into())
}

/// 500 customers over two courses; with `bad`, lines 3, 250 and 500 of the file are broken.
fn file(bad: bool) -> String {
    let mut csv = String::from("nome;email;curso;expira_em\n");
    for i in 2..=501u32 {
        let line = match (bad, i) {
            (true, 3) => "Sem Arroba;sem-arroba.example.com;Confeitaria Pro;\n".to_string(),
            (true, 250) => format!("Aluno {i};aluno{i}@example.com;Curso Que Não Existe;\n"),
            (true, 500) => format!("Aluno {i};aluno{i}@example.com;padaria;31/02/2099\n"),
            (_, i) if i % 2 == 0 => format!("Aluno {i};aluno{i}@example.com;Confeitaria Pro;\n"),
            (_, i) => format!("\"Aluno {i}; filho\";Aluno{i}@Example.com;padaria;31/12/2099\n"),
        };
        csv.push_str(&line);
    }
    csv
}

macro_rules! count {
    ($db:expr, $table:expr) => {
        $table.count().get_result::<i64>(&mut $db.conn()).unwrap()
    };
}

fn welcomes(db: &TestDb) -> i64 {
    treatments::table.filter(treatments::kind.eq("welcome_message")).count().get_result(&mut db.conn()).unwrap()
}

fn error_lines(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

#[actix_web::test]
async fn preview_refuse_fix_import_and_reimport() {
    let db = TestDb::new();
    let state = db.state();
    let app = app!(state.clone());
    let admin = staff_token(&app).await;
    course(&db, "confeitaria", "Confeitaria Pro", Some(30));
    course(&db, "padaria", "Padaria Artesanal", None);
    // one customer already known, with an access active for longer than the file says
    let res = test::call_service(
        &app,
        webhook("hashtag", &simulator("Aluno 2", "aluno2@example.com", "aprovado", 10.0)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (customers_before, enrollments_before, treatments_before) =
        (count!(&db, customers::table), count!(&db, enrollments::table), count!(&db, treatments::table));

    // dry run of the bad file: exactly the three bad lines, by their line in the file
    let (status, report) = call_json!(&app, import(&admin, "?dry_run=true", file(true)));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        error_lines(&report),
        [(3, "invalid_email".into()), (250, "unknown_course".into()), (500, "invalid_date".into())]
    );
    assert_eq!(report["errors"][0]["value"], "sem-arroba.example.com");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["imported"], false);
    assert_eq!(report["lines"], 500);
    assert_eq!(report["preview"].as_array().unwrap().len(), 497);
    assert_eq!(report["counts"]["errors"], 3);
    assert_eq!(report["counts"]["new_customers"], 496, "aluno2 exists already");
    assert_eq!(report["counts"]["new_accesses"], 497);
    let second = &report["preview"][1];
    assert_eq!((second["line"].as_u64(), second["email"].as_str()), (Some(4), Some("aluno4@example.com")));
    assert_eq!(
        (second["course_name"].as_str(), second["result"].as_str()),
        (Some("Confeitaria Pro"), Some("new_access"))
    );
    let odd = &report["preview"][2];
    assert_eq!((odd["email"].as_str(), odd["name"].as_str()), (Some("aluno5@example.com"), Some("Aluno 5; filho")));
    assert_eq!(odd["expires_at"], "2100-01-01T02:59:59Z");
    assert_eq!(
        (
            count!(&db, customers::table),
            count!(&db, enrollments::table),
            count!(&db, treatments::table),
            count!(&db, audit_log::table)
        ),
        (customers_before, enrollments_before, treatments_before, 0),
        "a dry run writes nothing"
    );

    // the real import of the bad file: all or nothing
    let (status, body) = call_json!(&app, import(&admin, "", file(true)));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "import_has_errors");
    assert_eq!(error_lines(&body["error"]["details"]).len(), 3);
    assert_eq!(body["error"]["details"]["imported"], false);
    assert_eq!((count!(&db, customers::table), count!(&db, audit_log::table)), (customers_before, 0));

    // fixed: imported
    let (status, report) = call_json!(&app, import(&admin, "?dry_run=false", file(false)));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!((report["imported"].as_bool(), report["dry_run"].as_bool()), (Some(true), Some(false)));
    assert_eq!(report["counts"]["errors"], 0);
    assert_eq!(report["counts"]["new_customers"], 499);
    // aluno2 had the simulator's default course only: a new access to Confeitaria too
    assert_eq!(report["counts"]["new_accesses"], 500);
    assert_eq!(count!(&db, customers::table), customers_before + 499);
    let welcomes_after_import = welcomes(&db);
    assert_eq!(welcomes_after_import, 1 + 500, "one per new access (and the webhook's)");
    let (action, details): (String, Value) =
        audit_log::table.select((audit_log::action, audit_log::details)).first(&mut db.conn()).unwrap();
    assert_eq!(action, "import_access");
    assert_eq!(details["counts"]["new_accesses"], 500);
    // names filled, e-mails lower-cased, lifetime for an empty date on a lifetime course
    let (name, email): (Option<String>, String) = customers::table
        .filter(customers::email.eq("aluno5@example.com"))
        .select((customers::name, customers::email))
        .first(&mut db.conn())
        .unwrap();
    assert_eq!((name.as_deref(), email.as_str()), (Some("Aluno 5; filho"), "aluno5@example.com"));

    // the worker executes them
    let done = worker(&state, Arc::new(PrintExecutor)).drain().unwrap();
    assert!(done >= 1000, "{done}");
    let line: Option<String> = treatments::table
        .filter(treatments::reason.eq("import"))
        .filter(treatments::kind.eq("welcome_message"))
        .order(treatments::id)
        .select(treatments::output)
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(line.as_deref(), Some("Enviar mensagem de boas vindas para o email: aluno2@example.com"));

    // the same file again: everything already active, no second welcome
    let (status, report) = call_json!(&app, import(&admin, "", file(false)));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["counts"]["already_active"], 500, "{}", report["counts"]);
    assert_eq!(report["counts"]["new_customers"], 0);
    assert_eq!(welcomes(&db), welcomes_after_import);

    // a later date for one line extends it, still without a welcome
    let later = "nome,email,curso,expira_em\r\nAluno 5,aluno5@example.com,padaria,2100-06-30\r\n";
    let (status, report) = call_json!(&app, import(&admin, "", later));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["counts"]["extended"], 1);
    assert_eq!(welcomes(&db), welcomes_after_import);
    let kinds: Vec<String> =
        treatments::table.order(treatments::id.desc()).limit(1).select(treatments::kind).load(&mut db.conn()).unwrap();
    assert_eq!(kinds, ["extend_access"]);
}

#[actix_web::test]
async fn bom_commas_crlf_and_file_problems() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let id = course(&db, "confeitaria", "Confeitaria Pro", Some(30));

    // BOM, commas, CRLF, quoted fields, columns in another order, a course by id and by slug, both date forms
    let csv = format!(
        "\u{FEFF}email,nome,curso,expira_em\r\nana@example.com,\"Souza, Ana\",{id},2099-01-31\r\n\r\nbia@example.com,Bia,confeitaria,31/01/2099\r\nbia@example.com,Bia,Confeitaria Pro,\r\n"
    );
    let (status, report) = call_json!(&app, import(&admin, "?dry_run=true", csv.clone()));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(error_lines(&report), [(5, "duplicate_line".into())], "line numbers count the blank line");
    assert_eq!(report["errors"][0]["value"], "4");
    assert_eq!(report["preview"][0]["name"], "Souza, Ana");
    let fixed = csv.replace("bia@example.com,Bia,Confeitaria Pro,\r\n", "");
    let (status, report) = call_json!(&app, import(&admin, "", fixed));
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["counts"]["new_accesses"], 2);

    // no file at all is refused, dry run or not
    for query in ["?dry_run=true", ""] {
        let (status, body) = call_json!(&app, import(&admin, query, "  \n".as_bytes().to_vec()));
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
        );
        assert_eq!(body["error"]["details"]["fields"]["file"], "is empty");
    }
    // the file itself
    for (body, line, code) in [
        (&b"\xEF\xBB\xBF\r\n"[..], 1, "missing_header"),
        (&b"name;mail;course;expires\nA;a@x.com;c;\n"[..], 1, "invalid_header"),
        (&b"nome;email;curso;expira_em\nJo\xe3o;joao@example.com;confeitaria;\n"[..], 2, "invalid_encoding"),
        (&b"nome;email;curso;expira_em\nAna;ana2@example.com\n"[..], 2, "wrong_column_count"),
        (&b"nome;email;curso;expira_em\nAna;ana2@example.com;confeitaria;01/01/2001\n"[..], 2, "past_date"),
        (&b"nome;email;curso;expira_em\nAna;ana2@example.com;;\n"[..], 2, "missing_course"),
    ] {
        let (status, report) = call_json!(&app, import(&admin, "?dry_run=true", body.to_vec()));
        // a wrong header is no import file: refused even in a dry run, with the report in the details
        let (expected, report) = if line == 1 {
            (StatusCode::UNPROCESSABLE_ENTITY, report["error"]["details"].clone())
        } else {
            (StatusCode::OK, report)
        };
        assert_eq!(status, expected, "{report}");
        assert_eq!(error_lines(&report), [(line, code.to_string())], "{}", String::from_utf8_lossy(body));
    }
}

#[actix_web::test]
async fn limits_and_who_may_import() {
    let db = TestDb::new();
    let app = app!(db.state());
    let admin = staff_token(&app).await;
    let support = staff_token(&app).await;
    course(&db, "confeitaria", "Confeitaria Pro", Some(30));
    let small = "nome;email;curso;expira_em\nAna;ana@example.com;confeitaria;\n";

    let (status, body) = call_json!(&app, import(&support, "?dry_run=true", small));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let res =
        test::call_service(&app, TestRequest::post().uri("/api/imports/access").set_payload(small).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = call_json!(&app, import(&admin, "?dry_run=sim", small));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));

    // over 5 MiB
    let huge = format!("nome;email;curso;expira_em\n{}", "x".repeat(5 * 1024 * 1024));
    let (status, body) = call_json!(&app, import(&admin, "?dry_run=true", huge));
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    // over 50,000 lines
    let mut many = String::from("nome;email;curso;expira_em\n");
    for i in 0..50_001 {
        many.push_str(&format!(";a{i}@x.co;confeitaria;\n"));
    }
    let (status, body) = call_json!(&app, import(&admin, "?dry_run=true", many));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"]["message"].as_str().unwrap().contains("50000"));
    assert_eq!(count!(&db, customers::table), 0);
}
