//! Customers: search (accent- and case-insensitive, ranked, keyset-paginated), profile, timeline.

use super::events::EventRow;
use super::filters::StaffQuery;
use super::pagination::{self, like_escape, RankedPageParams};
use super::views::*;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::models::{Customer, Enrollment, Order, Treatment};
use crate::schema::{courses, customers, enrollments, orders, treatments, webhook_events};
use crate::state::AppState;
use crate::treatments::rules::EnrollmentStatus;
use actix_web::{get, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

diesel::define_sql_function! {
    /// Lower-case and accent-free, as the search column is (migration 1).
    fn portaria_fold(x: Text) -> Text;
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Any part of the e-mail, name or document (CPF/CNPJ, with or without punctuation).
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
}

/// How the search reads the text typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Term {
    /// Nothing typed: most recent customers first.
    All,
    /// Too short for the trigram index: an e-mail prefix.
    EmailPrefix(String),
    /// Anywhere in e-mail, name or document (already lower-cased; accents are folded in SQL).
    Contains(String),
}

/// Normalises the search text; a CPF typed with punctuation searches its digits.
pub fn term(q: Option<&str>) -> Term {
    let q = q.map(str::trim).unwrap_or_default().to_lowercase();
    if q.is_empty() {
        return Term::All;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let q = if digits.len() >= 3 && q.chars().all(|c| c.is_ascii_digit() || ".-/ ".contains(c)) { digits } else { q };
    if q.chars().count() < 3 {
        Term::EmailPrefix(q)
    } else {
        Term::Contains(q)
    }
}

/// Searches customers; rows come with their rank (0 exact e-mail, 1 e-mail prefix, 2 anywhere),
/// best rank first, newest first within a rank. Each rank is its own `ORDER BY id DESC LIMIT n`
/// query, so PostgreSQL can stop after `n` rows instead of ranking every match (see PERFORMANCE.md).
pub fn search(
    conn: &mut PgConnection,
    term: &Term,
    limit: i64,
    after: Option<(i64, i64)>,
) -> QueryResult<Vec<(i32, Customer)>> {
    let ranks: &[i32] = match term {
        Term::All => &[2],
        Term::EmailPrefix(_) => &[0, 1],
        Term::Contains(_) => &[0, 1, 2],
    };
    // Plan every statement with its values: diesel prepares each query shape once, and a generic
    // plan cannot judge the selectivity of `LIKE $1` ("com" and a rare name need different plans).
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
        let mut out = Vec::new();
        for &rank in ranks {
            let wanted = limit - out.len() as i64;
            let before = match after {
                Some((r, _)) if i64::from(rank) < r => continue,
                Some((r, id)) if i64::from(rank) == r => Some(id),
                _ => None,
            };
            if wanted <= 0 {
                break;
            }
            out.extend(search_rank(conn, term, rank, wanted, before)?.into_iter().map(|c| (rank, c)));
        }
        Ok(out)
    })
}

/// How many of the newest customers a text search scans in id order before it turns to the
/// trigram index (see `search_anywhere`).
const RECENT_WINDOW: i64 = 5000;

/// The customers of one rank, newest first, before `before_id`.
fn search_rank(
    conn: &mut PgConnection,
    term: &Term,
    rank: i32,
    limit: i64,
    before_id: Option<i64>,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table.select(Customer::as_select()).into_boxed();
    query = match (term, rank) {
        (Term::All, _) => query,
        (Term::EmailPrefix(q) | Term::Contains(q), 0) => query.filter(customers::email.eq(q.clone())),
        (Term::EmailPrefix(q) | Term::Contains(q), 1) => {
            query.filter(customers::email.like(format!("{}%", like_escape(q)))).filter(customers::email.ne(q.clone()))
        }
        (Term::EmailPrefix(q) | Term::Contains(q), _) => return search_anywhere(conn, q, limit, before_id),
    };
    if let Some(id) = before_id {
        query = query.filter(customers::id.lt(id));
    }
    query.order(customers::id.desc()).limit(limit).load(conn)
}

/// Rank 2: `q` anywhere in e-mail, name or document (but not an e-mail prefix: rank 1).
///
/// A frequent term ("maria") is found fastest by walking the newest customers in id order; a rare
/// one ("joao silva") through the trigram index and a sort. The planner cannot tell them apart
/// reliably, so: first the newest `RECENT_WINDOW` customers in id order (bounded cost); if they
/// hold a full page, those are exactly the newest matches; otherwise the older ones through the
/// index (`ORDER BY id + 0` keeps the planner off the primary-key walk there).
fn search_anywhere(conn: &mut PgConnection, q: &str, limit: i64, before_id: Option<i64>) -> QueryResult<Vec<Customer>> {
    let pattern = format!("%{}%", like_escape(q));
    let not_prefix = format!("{}%", like_escape(q));
    let matching = || {
        customers::table
            .select(Customer::as_select())
            .filter(customers::email.not_like(not_prefix.clone()))
            .into_boxed()
    };
    let before = before_id.unwrap_or(i64::MAX);
    let window_floor: Option<i64> = customers::table
        .select(customers::id)
        .filter(customers::id.lt(before))
        .order(customers::id.desc())
        .offset(RECENT_WINDOW)
        .first(conn)
        .optional()?;
    // `search_text || ''` keeps the trigram index out of this bounded walk (its plan flipped
    // between runs otherwise).
    let mut recent = matching()
        .filter(customers::search_text.concat("").like(portaria_fold(pattern.clone())))
        .filter(customers::id.lt(before));
    if let Some(floor) = window_floor {
        recent = recent.filter(customers::id.gt(floor));
    }
    let mut rows: Vec<Customer> = recent.order(customers::id.desc()).limit(limit).load(conn)?;
    if let (Some(floor), true) = (window_floor, (rows.len() as i64) < limit) {
        let older: Vec<Customer> = matching()
            .filter(customers::search_text.like(portaria_fold(pattern.clone())))
            .filter(customers::id.le(floor))
            .order((customers::id + 0i64).desc())
            .limit(limit - rows.len() as i64)
            .load(conn)?;
        rows.extend(older);
    }
    Ok(rows)
}

/// The enrollments of some customers, with course names.
fn badges(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<HashMap<i64, Vec<AccessBadge>>> {
    let rows: Vec<(Enrollment, String)> = enrollments::table
        .inner_join(courses::table)
        .filter(enrollments::customer_id.eq_any(ids))
        .order(enrollments::id)
        .select((Enrollment::as_select(), courses::name))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<AccessBadge>> = HashMap::new();
    for (e, course_name) in rows {
        map.entry(e.customer_id).or_default().push(AccessBadge {
            course_id: e.course_id,
            course_name,
            status: effective_status(e.status, e.expires_at),
            expires_at: e.expires_at,
        });
    }
    Ok(map)
}

/// An active enrollment whose time has passed reads as expired even before the sweep runs.
pub fn effective_status(status: EnrollmentStatus, expires_at: Option<chrono::DateTime<Utc>>) -> EnrollmentStatus {
    match expires_at {
        Some(t) if status == EnrollmentStatus::Active && t <= Utc::now() => EnrollmentStatus::Expired,
        _ => status,
    }
}

/// The overall access state of a customer from their enrollments.
pub fn overall_access(badges: &[AccessBadge]) -> String {
    [EnrollmentStatus::Active, EnrollmentStatus::Expired, EnrollmentStatus::Revoked]
        .into_iter()
        .find(|s| badges.iter().any(|b| b.status == *s))
        .map_or("none", EnrollmentStatus::as_str)
        .to_string()
}

pub fn summaries(conn: &mut PgConnection, customers: Vec<Customer>) -> QueryResult<Vec<CustomerSummary>> {
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let mut badges = badges(conn, &ids)?;
    Ok(customers
        .into_iter()
        .map(|c| {
            let enrollments = badges.remove(&c.id).unwrap_or_default();
            CustomerSummary {
                access: overall_access(&enrollments),
                enrollments,
                id: c.id,
                email: c.email,
                name: c.name,
                document: c.document,
                phone: c.phone,
                created_at: c.created_at,
                last_activity_at: c.last_activity_at,
            }
        })
        .collect())
}

/// Searches customers by any part of the e-mail, name or document.
#[utoipa::path(
    tag = "customers",
    operation_id = "search_customers",
    params(SearchParams, RankedPageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching customers, best first", body = Page<CustomerSummary>),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/customers")]
pub async fn list(
    state: web::Data<AppState>,
    _auth: AuthUser,
    params: StaffQuery<SearchParams>,
    page: StaffQuery<RankedPageParams>,
) -> ApiResult<web::Json<Page<CustomerSummary>>> {
    let limit = pagination::limit(page.limit)?;
    let after = match &page.cursor {
        Some(c) => pagination::decode(c, 2).map(|p| Some((p[0], p[1])))?,
        None => None,
    };
    let term = term(params.q.as_deref());
    db::run(&state.pool, move |conn| {
        let rows = search(conn, &term, limit, after)?;
        let next = pagination::next(&rows, limit, |(rank, c)| vec![i64::from(*rank), c.id]);
        let items = summaries(conn, rows.into_iter().map(|(_, c)| c).collect())?;
        Ok(web::Json(Page { items, next_cursor: next }))
    })
    .await
}

pub fn find(conn: &mut PgConnection, id: i64) -> ApiResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, format!("No customer with id {id}.")))
}

/// A customer's profile, enrollments (access state) and orders.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer",
    params(("id" = i64, Path, description = "Customer id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The customer", body = CustomerDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/customers/{id}")]
pub async fn detail(
    state: web::Data<AppState>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<CustomerDetail>> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        let c = find(conn, id)?;
        let enrollments: Vec<(Enrollment, String)> = enrollments::table
            .inner_join(courses::table)
            .filter(enrollments::customer_id.eq(id))
            .order(enrollments::id)
            .select((Enrollment::as_select(), courses::name))
            .load(conn)?;
        let orders: Vec<(Order, Option<String>)> = orders::table
            .left_join(courses::table)
            .filter(orders::customer_id.eq(id))
            .order(orders::id.desc())
            .select((Order::as_select(), courses::name.nullable()))
            .load(conn)?;
        Ok(web::Json(CustomerDetail {
            customer: CustomerView {
                id: c.id,
                email: c.email,
                name: c.name,
                document: c.document,
                phone: c.phone,
                created_at: c.created_at,
                updated_at: c.updated_at,
                last_activity_at: c.last_activity_at,
            },
            enrollments: enrollments
                .into_iter()
                .map(|(e, course_name)| EnrollmentView {
                    status: effective_status(e.status, e.expires_at),
                    id: e.id,
                    course_id: e.course_id,
                    course_name,
                    granted_at: e.granted_at,
                    revoked_at: e.revoked_at,
                    expires_at: e.expires_at,
                    order_id: e.order_id,
                })
                .collect(),
            orders: orders
                .into_iter()
                .map(|(o, course_name)| OrderView {
                    id: o.id,
                    source: o.source,
                    external_id: o.external_id,
                    status: o.status,
                    amount_cents: o.amount_cents,
                    currency: o.currency,
                    payment_method: o.payment_method,
                    installments: o.installments,
                    course_name,
                    created_at: o.created_at,
                    updated_at: o.updated_at,
                })
                .collect(),
        }))
    })
    .await
}

/// Every webhook and every treatment of a customer, oldest first.
#[utoipa::path(
    tag = "customers",
    operation_id = "customer_timeline",
    params(("id" = i64, Path, description = "Customer id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/customers/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Timeline>> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        let c = find(conn, id)?;
        let events: Vec<EventRow> = webhook_events::table
            .filter(webhook_events::customer_id.eq(id))
            .order(webhook_events::id.desc())
            .limit(1000)
            .select(EventRow::as_select())
            .load(conn)?;
        let ts: Vec<(Treatment, String, Option<String>)> = treatments::table
            .inner_join(customers::table)
            .left_join(courses::table)
            .filter(treatments::customer_id.eq(id))
            .order(treatments::id.desc())
            .limit(1000)
            .select((Treatment::as_select(), customers::email, courses::name.nullable()))
            .load(conn)?;
        let ts = with_actors(conn, ts)?;
        let mut items: Vec<TimelineItem> = events
            .into_iter()
            .map(|e| TimelineItem::Event { at: e.received_at, event: e.view(Some(c.email.clone())) })
            .chain(ts.into_iter().map(|t| TimelineItem::Treatment { at: t.created_at, treatment: t }))
            .collect();
        items.sort_by_key(TimelineItem::sort_key);
        Ok(web::Json(Timeline { items }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        assert_eq!(term(None), Term::All);
        assert_eq!(term(Some("   ")), Term::All);
        assert_eq!(term(Some("Jo")), Term::EmailPrefix("jo".into()));
        assert_eq!(term(Some(" João ")), Term::Contains("joão".into()));
        assert_eq!(term(Some("123.456.789-09")), Term::Contains("12345678909".into()));
        assert_eq!(term(Some("Fulano@Email.com")), Term::Contains("fulano@email.com".into()));
    }

    #[test]
    fn overall_access_prefers_active() {
        let b = |s: &str| AccessBadge {
            course_id: 1,
            course_name: "c".into(),
            status: EnrollmentStatus::parse(s).unwrap(),
            expires_at: None,
        };
        assert_eq!(overall_access(&[]), "none");
        assert_eq!(overall_access(&[b("revoked"), b("active")]), "active");
        assert_eq!(overall_access(&[b("revoked"), b("expired")]), "expired");
        assert_eq!(overall_access(&[b("revoked")]), "revoked");
    }
}
