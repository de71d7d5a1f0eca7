//! Limits and retention (issue 8, item 8): the webhook rate limit per source and client address
//! (429 + Retry-After, counted in aggregate), and the retention of raw bodies (rows and decisions kept).

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chrono::{Duration, Utc};
use common::*;
use diesel::prelude::*;
use portaria::retention::{self, Retention};
use portaria::schema::{treatments, webhook_events, webhook_rate_limited};

#[actix_web::test]
async fn a_flood_is_429_with_retry_after_and_counted_in_aggregate() {
    let db = TestDb::new();
    let mut config = db.config();
    config.webhook_rate_limit = 2;
    let state = db.state_with(config);
    let app = app!(state.clone());
    let mut statuses = vec![];
    for i in 0..40 {
        let body = simulator("Ana", &format!("ana{i}@example.com"), "aprovado", 10.0);
        let req = webhook("hashtag", &body).peer_addr("203.0.113.7:5000".parse().unwrap()).to_request();
        let res = test::call_service(&app, req).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().get("retry-after").is_some());
            assert_eq!(json(res).await["error"]["code"], "too_many_requests");
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    assert!(accepted >= 4, "the burst passes: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited > 0, "{statuses:?}");
    // another sender is not affected
    let other = webhook("hashtag", &simulator("Bia", "bia@example.com", "aprovado", 1.0))
        .peer_addr("198.51.100.9:5000".parse().unwrap())
        .to_request();
    assert_eq!(test::call_service(&app, other).await.status(), StatusCode::OK);

    // no row per turned-away request; one aggregate row per sender and minute
    let events: i64 = webhook_events::table.count().get_result(&mut db.conn()).unwrap();
    assert_eq!(events as usize, accepted + 1);
    portaria::maintenance::flush(&state.pool, &state.rate_limit).await;
    let rows: Vec<(String, String, i64)> = webhook_rate_limited::table
        .select((webhook_rate_limited::source, webhook_rate_limited::remote_addr, webhook_rate_limited::requests))
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(rows, [("hashtag".to_string(), "203.0.113.7".to_string(), limited as i64)]);
}

#[actix_web::test]
async fn retention_empties_old_raw_bodies_and_keeps_rows_and_decisions() {
    let db = TestDb::new();
    let app = app!(db.state());
    let approved = simulator("Ana", "ana@example.com", "aprovado", 10.0);
    let ok = json(test::call_service(&app, webhook("hashtag", &approved).to_request()).await).await;
    let bad = json(test::call_service(&app, webhook("hashtag", "not json").to_request()).await).await;
    let recent_bad = json(test::call_service(&app, webhook("hashtag", "still not json").to_request()).await).await;
    let (ok, bad, recent_bad) = (
        ok["event_id"].as_i64().unwrap(),
        bad["error"]["details"]["event_id"].as_i64().unwrap(),
        recent_bad["error"]["details"]["event_id"].as_i64().unwrap(),
    );
    let mut conn = db.conn();
    let age = |id: i64, days: i64, conn: &mut PgConnection| {
        diesel::update(webhook_events::table.find(id))
            .set(webhook_events::received_at.eq(Utc::now() - Duration::days(days)))
            .execute(conn)
            .unwrap();
    };
    age(ok, 40, &mut conn);
    age(bad, 40, &mut conn);
    let retention = Retention { rejected_days: Some(30), accepted_days: Some(365) };
    assert_eq!(retention::purge(&mut conn, retention, Utc::now()).unwrap(), 1, "only the old rejected body");
    let body = |id: i64, conn: &mut PgConnection| -> (String, bool, String) {
        let (raw, purged, outcome): (String, Option<chrono::DateTime<Utc>>, String) = webhook_events::table
            .find(id)
            .select((webhook_events::raw_body, webhook_events::raw_body_purged_at, webhook_events::outcome))
            .first(conn)
            .unwrap();
        (raw, purged.is_some(), outcome)
    };
    assert_eq!(body(bad, &mut conn), (String::new(), true, "invalid_json".to_string()));
    assert_eq!(body(recent_bad, &mut conn), ("still not json".to_string(), false, "invalid_json".to_string()));
    assert!(!body(ok, &mut conn).0.is_empty(), "accepted bodies are kept longer");

    age(ok, 400, &mut conn);
    assert_eq!(retention::purge(&mut conn, retention, Utc::now()).unwrap(), 1);
    assert_eq!(body(ok, &mut conn), (String::new(), true, "processed".to_string()));
    let decisions: i64 = treatments::table.filter(treatments::event_id.eq(ok)).count().get_result(&mut conn).unwrap();
    assert_eq!(decisions, 2, "the treatments of a purged event stay");
    // staff see when the body went, and a purged event cannot be replayed
    let token = staff_token(&app).await;
    let detail = json(test::call_service(&app, get(&format!("/api/events/{bad}"), &token).to_request()).await).await;
    assert!(detail["raw_body_purged_at"].is_string(), "{detail}");
    assert_eq!(detail["raw_body"], "");
    let replay = test::call_service(&app, post(&format!("/api/events/{ok}/replay"), &token).to_request()).await;
    assert_eq!(replay.status(), StatusCode::CONFLICT);
    assert_eq!(json(replay).await["error"]["code"], "not_replayable");
    // nothing is purged twice; no retention configured purges nothing
    assert_eq!(retention::purge(&mut conn, retention, Utc::now()).unwrap(), 0);
    assert_eq!(retention::purge(&mut conn, Retention::default(), Utc::now() + Duration::days(9999)).unwrap(), 0);
}
