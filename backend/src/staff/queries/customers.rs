//! Reads of the customers: the ranked search, the search's summaries, the profile and the timeline.

use super::events::EventQuery;
use super::treatments::TreatmentQuery;
use super::Window;
use crate::custom_plan::custom_plan;
use crate::models::{Customer, Enrollment};
use crate::schema::{courses, customers, enrollments, orders};
use crate::staff::pagination::like_escape;
use crate::staff::views::{
    AccessBadge, CustomerAccess, CustomerDetail, CustomerSummary, CustomerView, EnrollmentView, OrderView, Timeline,
};
use crate::treatments::rules::EnrollmentStatus;
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use std::collections::HashMap;

diesel::define_sql_function! {
    /// Lower-case and accent-free, as the search column is (migration 1).
    fn portaria_fold(x: Text) -> Text;
}

diesel::define_sql_function! {
    /// Where `needle` starts in `haystack` (1-based), 0 when it is not there: a plain substring test
    /// that no index can answer, so the planner keeps the id-ordered walk it is written for.
    fn strpos(haystack: Text, needle: Text) -> Integer;
}

/// How the search reads the text typed.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Whether `q` (normalised by `term`) is a whole e-mail address or a whole document (CPF: 11 digits,
/// CNPJ: 14): a term that names one customer, so that an exact match is the answer.
pub fn names_one_customer(q: &str) -> bool {
    let is_email = q.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !q.contains(char::is_whitespace);
    let is_document = matches!(q.len(), 11 | 14) && q.chars().all(|c| c.is_ascii_digit());
    is_email || is_document
}

/// Searches customers; rows come with their rank, best rank first, newest first within a rank:
///
/// - rank 0: the e-mail or the document is the term exactly;
/// - rank 1: the e-mail starts with the term;
/// - rank 2: the term is anywhere in the e-mail, the name or the document (accents and case folded).
///
/// Ranks 0 and 1 are read together, in one statement from btree indexes. When the term is a whole
/// e-mail address or document (`names_one_customer`) and some customer has it exactly, rank 2 is not
/// searched: the answer is ranks 0 and 1. The choice depends only on the term and the data, so every
/// page of one search makes the same one and the keyset cursor (rank, id) stays sound.
///
/// Each rank is read `ORDER BY id DESC LIMIT n`, so PostgreSQL can stop after `n` rows instead of
/// ranking every match, and every statement is planned with its values (`custom_plan`: "com" and a
/// rare name need different plans; see docs/PERFORMANCE.md).
pub fn search(
    conn: &mut PgConnection,
    term: &Term,
    limit: i64,
    after: Option<(i64, i64)>,
) -> QueryResult<Vec<(i32, Customer)>> {
    let q = match term {
        Term::All => return rank_two_rows(conn, None, limit, after),
        Term::EmailPrefix(q) | Term::Contains(q) => q,
    };
    let (found, mut out) = exact_and_prefix(conn, q, limit, after)?;
    if matches!(term, Term::EmailPrefix(_)) || out.len() as i64 >= limit {
        return Ok(out);
    }
    if names_one_customer(q) {
        // Whether someone has the term exactly, whatever page this is.
        let exact = match found {
            Some(found) => found,
            None if after.is_some() => exact_match_exists(conn, q)?,
            None => false,
        };
        if exact {
            return Ok(out);
        }
    }
    let wanted = limit - out.len() as i64;
    out.extend(rank_two_rows(conn, Some(q), wanted, after)?);
    Ok(out)
}

/// A customer with its rank.
type Ranked = (i32, Customer);

/// Ranks 0 and 1 in one statement (a `UNION ALL` of two btree lookups, each newest first and at most
/// `limit`), after the cursor, best rank first; with it, whether some customer has `q` exactly as
/// e-mail or document (`None` when no row came back to tell).
fn exact_and_prefix(
    conn: &mut PgConnection,
    q: &str,
    limit: i64,
    after: Option<(i64, i64)>,
) -> QueryResult<(Option<bool>, Vec<Ranked>)> {
    // The id below which each rank is read: nothing of a rank before the cursor's.
    let below = |rank: i64| match after {
        Some((r, _)) if rank < r => 0,
        Some((r, id)) if rank == r => id,
        _ => i64::MAX,
    };
    let exact_customers = diesel::alias!(customers as exact_customers);
    let exact = || customers::email.eq(q.to_string()).or(customers::document.eq(q.to_string()));
    let found = || {
        diesel::dsl::exists(
            exact_customers.select(exact_customers.field(customers::id)).filter(
                exact_customers
                    .field(customers::email)
                    .eq(q.to_string())
                    .or(exact_customers.field(customers::document).eq(q.to_string())),
            ),
        )
    };
    let rank0 = customers::table
        .select((found(), 0.into_sql::<Integer>(), Customer::as_select()))
        .filter(exact())
        .filter(customers::id.lt(below(0)))
        .order(customers::id.desc())
        .limit(limit);
    let rank1 = customers::table
        .select((found(), 1.into_sql::<Integer>(), Customer::as_select()))
        .filter(customers::email.like(format!("{}%", like_escape(q))))
        .filter(customers::email.ne(q.to_string()))
        .filter(customers::document.is_distinct_from(q.to_string()))
        .filter(customers::id.lt(below(1)))
        .order(customers::id.desc())
        .limit(limit);
    let mut rows: Vec<(bool, i32, Customer)> = custom_plan(rank0.union_all(rank1)).load(conn)?;
    rows.sort_by_key(|(_, rank, c)| (*rank, std::cmp::Reverse(c.id)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let found = rows.first().map(|r| r.0);
    Ok((found, rows.into_iter().map(|(_, rank, c)| (rank, c)).collect()))
}

/// Whether some customer's e-mail or document is `q` exactly (the two btree indexes).
fn exact_match_exists(conn: &mut PgConnection, q: &str) -> QueryResult<bool> {
    let exact = customers::table.select(customers::id).filter(customers::email.eq(q).or(customers::document.eq(q)));
    diesel::select(diesel::dsl::exists(exact)).get_result(conn)
}

/// Rank 2 (every customer when `q` is `None`), `limit` of them after the cursor, with their rank.
fn rank_two_rows(
    conn: &mut PgConnection,
    q: Option<&str>,
    limit: i64,
    after: Option<(i64, i64)>,
) -> QueryResult<Vec<(i32, Customer)>> {
    let before = match after {
        Some((2, id)) => Some(id),
        Some((r, _)) if r > 2 => return Ok(vec![]),
        _ => None,
    };
    let rows = match q {
        None => {
            let mut query = customers::table.select(Customer::as_select()).into_boxed();
            if let Some(id) = before {
                query = query.filter(customers::id.lt(id));
            }
            query.order(customers::id.desc()).limit(limit).load(conn)?
        }
        Some(q) => search_anywhere(conn, q, limit, before)?,
    };
    Ok(rows.into_iter().map(|c| (2, c)).collect())
}

/// How many of the newest customer ids a text search walks in id order first (see `search_anywhere`).
const FIRST_WINDOW: i64 = 5000;
/// How much wider the second window is than the first.
const WIDEN: i64 = 10;

/// Rank 2: `q` anywhere in e-mail, name or document (but not the rows of ranks 0 and 1).
///
/// A frequent term ("maria") is found fastest by walking the newest customers in id order; a rare
/// one ("zzqxj", a piece of an e-mail) through the trigram index. Neither may cost an unbounded walk
/// or an unbounded sort, so the customers before `before_id` are read in windows of ids, newest
/// first, each one only when the newer ones held less than `limit` matches:
///
/// 1. the newest `FIRST_WINDOW` ids, walked in id order (bounded: at most 5,000 rows);
/// 2. when the first window showed the term to be frequent (at least a quarter of a page in it, so
///    a walk should stop within a third of the next window): the next ones, down to `WIDEN` times as
///    far back (about 50,000 customers), walked in id order, and then, if the page is still not
///    full, the rest through the trigram index;
/// 3. otherwise (a rare term): everything older than the first window at once, through the trigram
///    index. The index finds every match of the table whatever the id range asked (the range is
///    checked on the rows it found), so reading the older ids as two windows would scan it twice
///    for nothing; the matches are reduced to the page by a top-N sort, whose memory is the page.
///
/// Through the index, `ORDER BY id + 0` keeps the planner off the primary-key walk. The windows are
/// ranges of ids below the newest one (no `OFFSET` to count them out). Walking and the index return
/// the same rows (the newest matches of the window), so the windows change only the cost, never the
/// answer or the pagination.
fn search_anywhere(conn: &mut PgConnection, q: &str, limit: i64, before_id: Option<i64>) -> QueryResult<Vec<Customer>> {
    let before = before_id.unwrap_or(i64::MAX);
    let newest = customers::table
        .select(customers::id)
        .filter(customers::id.lt(before))
        .order(customers::id.desc())
        .first::<i64>(conn)
        .optional()?;
    let Some(newest) = newest else { return Ok(vec![]) };
    let floor = newest - FIRST_WINDOW;
    let mut rows = walk(conn, q, Some(floor), newest + 1, limit)?;
    if rows.len() as i64 >= limit || floor < 1 {
        return Ok(rows);
    }
    let wanted = limit - rows.len() as i64;
    if 4 * rows.len() as i64 >= limit {
        let floor2 = newest - WIDEN * FIRST_WINDOW;
        rows.extend(walk(conn, q, Some(floor2), floor + 1, wanted)?);
        if rows.len() as i64 >= limit || floor2 < 1 {
            return Ok(rows);
        }
        let wanted = limit - rows.len() as i64;
        rows.extend(indexed(conn, q, floor2, wanted)?);
    } else {
        rows.extend(indexed(conn, q, floor, wanted)?);
    }
    Ok(rows)
}

/// The rank-2 rows with `above < id < below`, newest first, by walking the primary key.
///
/// The substring test comes first, in a `CASE`: PostgreSQL orders a row's separate conditions by their
/// cost, which put the two cheap rank-0/1 exclusions before `strpos` on every row walked; inside the
/// `CASE` they are tested only on the few rows that contain the term (a fifth less time per row).
fn walk(conn: &mut PgConnection, q: &str, above: Option<i64>, below: i64, limit: i64) -> QueryResult<Vec<Customer>> {
    let contains = strpos(customers::search_text, portaria_fold(q.to_string())).gt(0);
    let mut query = customers::table
        .select(Customer::as_select())
        .filter(diesel::dsl::case_when(contains, not_ranked_higher(q)).otherwise(false))
        .filter(customers::id.lt(below))
        .into_boxed();
    if let Some(above) = above {
        query = query.filter(customers::id.gt(above));
    }
    custom_plan(query.order(customers::id.desc()).limit(limit)).load(conn)
}

/// The rank-2 rows with `id <= upto`, newest first, through the trigram index.
fn indexed(conn: &mut PgConnection, q: &str, upto: i64, limit: i64) -> QueryResult<Vec<Customer>> {
    let query = customers::table
        .select(Customer::as_select())
        .filter(customers::search_text.like(portaria_fold(format!("%{}%", like_escape(q)))))
        .filter(not_ranked_higher(q))
        .filter(customers::id.le(upto));
    custom_plan(query.order((customers::id + 0i64).desc()).limit(limit)).load(conn)
}

/// Not in ranks 0 and 1 for `q`: the e-mail does not start with it and the document is not it.
fn not_ranked_higher(q: &str) -> NotRankedHigher {
    not_ranked_higher_than(format!("{}%", like_escape(q)), q.to_string())
}

#[diesel::dsl::auto_type]
fn not_ranked_higher_than(prefix: String, q: String) -> _ {
    customers::email.not_like(prefix).and(customers::document.is_distinct_from(q))
}

type NotRankedHigher = not_ranked_higher_than;

/// Customers found by the search, best rank first, `limit` of them after the (rank, id) `after`.
#[derive(Debug, Clone)]
pub struct CustomerQuery {
    pub term: Term,
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

impl CustomerQuery {
    /// The summaries with their rank (the cursor is the rank and the id: `ranked_key`).
    pub fn list(&self, conn: &mut PgConnection) -> QueryResult<Vec<(i32, CustomerSummary)>> {
        let rows = search(conn, &self.term, self.limit, self.after)?;
        let ids: Vec<i64> = rows.iter().map(|(_, c)| c.id).collect();
        let mut badges: HashMap<i64, Vec<AccessBadge>> = HashMap::new();
        for row in enrollments_of(conn, &ids)? {
            badges.entry(row.enrollment.customer_id).or_default().push(row.into());
        }
        Ok(rows
            .into_iter()
            .map(|(rank, c)| {
                let enrollments = badges.remove(&c.id).unwrap_or_default();
                (rank, summary(c, enrollments))
            })
            .collect())
    }
}

/// The keyset position of a ranked summary.
pub fn ranked_key((rank, c): &(i32, CustomerSummary)) -> Vec<i64> {
    vec![i64::from(*rank), c.id]
}

fn summary(c: Customer, enrollments: Vec<AccessBadge>) -> CustomerSummary {
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
}

/// An enrollment with its course's name.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = enrollments, check_for_backend(diesel::pg::Pg))]
pub struct EnrollmentRow {
    #[diesel(embed)]
    pub enrollment: Enrollment,
    #[diesel(select_expression = courses::name)]
    pub course_name: String,
}

/// The enrollments of some customers with their courses, in creation order.
fn enrollments_of(conn: &mut PgConnection, customer_ids: &[i64]) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .inner_join(courses::table)
        .filter(enrollments::customer_id.eq_any(customer_ids))
        .order(enrollments::id)
        .select(EnrollmentRow::as_select())
        .load(conn)
}

impl From<EnrollmentRow> for AccessBadge {
    fn from(EnrollmentRow { enrollment: e, course_name }: EnrollmentRow) -> AccessBadge {
        AccessBadge {
            course_id: e.course_id,
            course_name,
            status: effective_status(e.status, e.expires_at),
            expires_at: e.expires_at,
        }
    }
}

impl From<EnrollmentRow> for EnrollmentView {
    fn from(EnrollmentRow { enrollment: e, course_name }: EnrollmentRow) -> EnrollmentView {
        EnrollmentView {
            status: effective_status(e.status, e.expires_at),
            id: e.id,
            course_id: e.course_id,
            course_name,
            granted_at: e.granted_at,
            revoked_at: e.revoked_at,
            expires_at: e.expires_at,
            order_id: e.order_id,
        }
    }
}

/// An active enrollment whose time has passed reads as expired even before the sweep runs.
pub fn effective_status(status: EnrollmentStatus, expires_at: Option<chrono::DateTime<Utc>>) -> EnrollmentStatus {
    match expires_at {
        Some(t) if status == EnrollmentStatus::Active && t <= Utc::now() => EnrollmentStatus::Expired,
        _ => status,
    }
}

/// The overall access state of a customer from their enrollments.
pub fn overall_access(badges: &[AccessBadge]) -> CustomerAccess {
    [
        (EnrollmentStatus::Active, CustomerAccess::Active),
        (EnrollmentStatus::Expired, CustomerAccess::Expired),
        (EnrollmentStatus::Revoked, CustomerAccess::Revoked),
    ]
    .into_iter()
    .find(|(status, _)| badges.iter().any(|b| b.status == *status))
    .map_or(CustomerAccess::None, |(_, access)| access)
}

/// A customer's profile, enrollments (access state) and orders, newest order first.
pub fn detail(conn: &mut PgConnection, id: i64) -> QueryResult<Option<CustomerDetail>> {
    let customer: Option<CustomerView> =
        customers::table.find(id).select(CustomerView::as_select()).first(conn).optional()?;
    let Some(customer) = customer else { return Ok(None) };
    let enrollments = enrollments_of(conn, &[id])?.into_iter().map(EnrollmentView::from).collect();
    let orders = orders::table
        .left_join(courses::table)
        .filter(orders::customer_id.eq(id))
        .order(orders::id.desc())
        .select(OrderView::as_select())
        .load(conn)?;
    Ok(Some(CustomerDetail { customer, enrollments, orders }))
}

/// How many of the newest events, and of the newest treatments, a timeline shows.
const TIMELINE_LIMIT: i64 = 1000;

/// Every webhook and every treatment of a customer (the newest `TIMELINE_LIMIT` of each), oldest first.
pub fn timeline(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Timeline>> {
    let exists: bool = diesel::select(diesel::dsl::exists(customers::table.find(id))).get_result(conn)?;
    if !exists {
        return Ok(None);
    }
    let window = Window::newest(TIMELINE_LIMIT);
    let events = EventQuery { customer_id: Some(id), window, ..Default::default() }.list(conn)?;
    let treatments = TreatmentQuery { customer_id: Some(id), window, ..Default::default() }.list(conn)?;
    Ok(Some(Timeline::new(events, treatments)))
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
    fn terms_that_name_one_customer() {
        for q in ["fulano@email.com", "a@b.co", "12345678909", "12345678000190"] {
            assert!(names_one_customer(q), "{q}");
        }
        for q in [
            "fulano@",
            "@email.com",
            "fulano@email",
            "fulano@email.",
            "a b@c.com",
            "1234567890",
            "123456789012",
            "maria",
        ] {
            assert!(!names_one_customer(q), "{q}");
        }
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
