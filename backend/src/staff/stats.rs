//! Dashboard numbers: today, totals, breakdowns, and the last 30 days day by day.

use crate::auth::AuthUser;
use crate::db;
use crate::error::{ApiResult, ErrorBody};
use crate::ingest::process::Outcome;
use crate::schema::{customers, enrollments, treatments, webhook_events};
use crate::state::AppState;
use crate::treatments::rules::{EnrollmentStatus, TreatmentKind};
use crate::treatments::store::TreatmentStatus;
use actix_web::{get, web};
use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Date, Text, Timestamptz};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

diesel::define_sql_function! {
    /// The calendar day of `ts` in the time zone `tz` (migration 2).
    fn portaria_day(ts: Timestamptz, tz: Text) -> Date;
}

/// The dashboard's time zone: days start at midnight in Brazil.
pub const TIMEZONE: &str = "America/Sao_Paulo";
const DAYS: u64 = 30;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Today {
    pub events: i64,
    pub processed: i64,
    pub rejected: i64,
    pub treatments_done: i64,
    pub treatments_pending: i64,
    pub treatments_dead: i64,
    pub new_customers: i64,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Totals {
    pub customers: i64,
    pub active_enrollments: i64,
    pub events: i64,
    pub treatments: i64,
    /// Products seen in webhooks that no mapping covers (`GET /api/products?unmapped=true`).
    pub unmapped_products: i64,
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Day {
    /// YYYY-MM-DD (America/Sao_Paulo)
    pub day: String,
    pub events: i64,
    pub processed: i64,
    pub rejected: i64,
    pub treatments: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub today: Today,
    pub totals: Totals,
    /// Events of the last 30 days per outcome.
    pub events_by_outcome: BTreeMap<Outcome, i64>,
    /// Treatments of the last 30 days per kind.
    pub treatments_by_kind: BTreeMap<TreatmentKind, i64>,
    /// Treatments of the last 30 days per status.
    pub treatments_by_status: BTreeMap<TreatmentStatus, i64>,
    /// The last 30 days, oldest first, every day present.
    pub daily: Vec<Day>,
}

/// Folds per-day counts (labelled `all`, `processed` or `rejected`) into the 30-day series
/// (missing days are zero).
pub fn daily_series(
    today: NaiveDate,
    events: &[(NaiveDate, String, i64)],
    treatments: &[(NaiveDate, i64)],
) -> Vec<Day> {
    let first = today.checked_sub_days(Days::new(DAYS - 1)).unwrap_or(today);
    let mut days: BTreeMap<NaiveDate, Day> = (0..DAYS)
        .filter_map(|i| first.checked_add_days(Days::new(i)))
        .map(|d| (d, Day { day: d.format("%Y-%m-%d").to_string(), ..Day::default() }))
        .collect();
    for (d, label, n) in events {
        if let Some(day) = days.get_mut(d) {
            match label.as_str() {
                "all" => day.events += n,
                "processed" => day.processed += n,
                _ => day.rejected += n,
            }
        }
    }
    for (d, n) in treatments {
        if let Some(day) = days.get_mut(d) {
            day.treatments += n;
        }
    }
    days.into_values().collect()
}

fn compute(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Stats> {
    let today: NaiveDate = diesel::select(portaria_day(now, TIMEZONE)).get_result(conn)?;
    let since = now - chrono::Duration::days(DAYS as i64 + 1);
    let tz = || TIMEZONE.to_string();

    // Grouping by a function of a column is beyond diesel's group-by checks: the day expression is
    // a literal (built from constants only, no input).
    let event_day = || sql::<Date>(&format!("portaria_day(webhook_events.received_at, '{TIMEZONE}')"));
    let all: Vec<(NaiveDate, i64)> = webhook_events::table
        .filter(webhook_events::received_at.ge(since))
        .group_by(event_day())
        .select((event_day(), count_star()))
        .load(conn)?;
    let of = |conn: &mut PgConnection, outcomes: &[Outcome]| -> QueryResult<Vec<(NaiveDate, i64)>> {
        webhook_events::table
            .filter(webhook_events::received_at.ge(since))
            .filter(webhook_events::outcome.eq_any(outcomes.to_vec()))
            .group_by(event_day())
            .select((event_day(), count_star()))
            .load(conn)
    };
    let label = |rows: Vec<(NaiveDate, i64)>, label: &'static str| {
        rows.into_iter().map(move |(d, n)| (d, label.to_string(), n))
    };
    // (day, "all" | "processed" | "rejected", count)
    let events: Vec<(NaiveDate, String, i64)> = label(all, "all")
        .chain(label(of(conn, &[Outcome::Processed])?, "processed"))
        .chain(label(of(conn, &Outcome::REJECTED)?, "rejected"))
        .collect();
    let outcomes: Vec<(Outcome, i64)> = webhook_events::table
        .filter(webhook_events::received_at.ge(since))
        .group_by(webhook_events::outcome)
        .select((webhook_events::outcome, count_star()))
        .load(conn)?;
    let treatment_day = || sql::<Date>(&format!("portaria_day(treatments.created_at, '{TIMEZONE}')"));
    let treatment_days: Vec<(NaiveDate, i64)> = treatments::table
        .filter(treatments::created_at.ge(since))
        .group_by(treatment_day())
        .select((treatment_day(), count_star()))
        .load(conn)?;
    let by_kind_status: Vec<(TreatmentKind, TreatmentStatus, i64)> = treatments::table
        .filter(treatments::created_at.ge(since))
        .group_by((treatments::kind, treatments::status))
        .select((treatments::kind, treatments::status, count_star()))
        .load(conn)?;
    let treatments_today: Vec<(TreatmentStatus, i64)> = treatments::table
        .filter(portaria_day(treatments::created_at, tz()).eq(today))
        .group_by(treatments::status)
        .select((treatments::status, count_star()))
        .load(conn)?;
    let new_customers: i64 =
        customers::table.filter(portaria_day(customers::created_at, tz()).eq(today)).count().get_result(conn)?;

    let events_by_outcome: BTreeMap<Outcome, i64> = outcomes.into_iter().collect();
    let mut t = Today { new_customers, ..Today::default() };
    for (day, label, n) in &events {
        if *day == today {
            match label.as_str() {
                "all" => t.events += n,
                "processed" => t.processed += n,
                _ => t.rejected += n,
            }
        }
    }
    let today_by_status: HashMap<TreatmentStatus, i64> = treatments_today.into_iter().collect();
    let today_of = |s: TreatmentStatus| today_by_status.get(&s).copied().unwrap_or(0);
    t.treatments_done = today_of(TreatmentStatus::Done);
    t.treatments_pending = today_of(TreatmentStatus::Pending) + today_of(TreatmentStatus::Running);
    t.treatments_dead = today_of(TreatmentStatus::Dead);

    let mut treatments_by_kind = BTreeMap::new();
    let mut treatments_by_status = BTreeMap::new();
    for (kind, status, n) in by_kind_status {
        *treatments_by_kind.entry(kind).or_insert(0) += n;
        *treatments_by_status.entry(status).or_insert(0) += n;
    }
    let totals = Totals {
        customers: customers::table.count().get_result(conn)?,
        active_enrollments: enrollments::table
            .filter(enrollments::status.eq(EnrollmentStatus::Active))
            .count()
            .get_result(conn)?,
        events: webhook_events::table.count().get_result(conn)?,
        treatments: treatments::table.count().get_result(conn)?,
        unmapped_products: crate::catalog::queries::count_unmapped(conn)?,
    };
    Ok(Stats {
        daily: daily_series(today, &events, &treatment_days),
        today: t,
        totals,
        events_by_outcome,
        treatments_by_kind,
        treatments_by_status,
    })
}

/// Counts for the dashboard (days in America/Sao_Paulo).
#[utoipa::path(
    tag = "stats",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The numbers", body = Stats),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/stats")]
pub async fn stats(state: web::Data<AppState>, _auth: AuthUser) -> ApiResult<web::Json<Stats>> {
    db::run(&state.pool, |conn| Ok(web::Json(compute(conn, Utc::now())?))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_every_day_present() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let events = vec![
            (d("2026-11-23"), "all".to_string(), 6),
            (d("2026-11-23"), "processed".to_string(), 3),
            (d("2026-11-23"), "rejected".to_string(), 1),
            (d("2026-10-01"), "all".to_string(), 9), // older than 30 days: not in the series
        ];
        let series = daily_series(today, &events, &[(d("2026-11-22"), 4)]);
        assert_eq!(series.len(), 30);
        assert_eq!(series[0].day, "2026-10-25");
        let last = series.last().unwrap();
        assert_eq!((last.day.as_str(), last.events, last.processed, last.rejected), ("2026-11-23", 6, 3, 1));
        assert_eq!(series[28].treatments, 4);
        assert_eq!(series.iter().map(|d| d.events).sum::<i64>(), 6);
    }
}
