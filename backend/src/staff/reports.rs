//! CSV reports, streamed in keyset-paginated batches: constant memory whatever the size.

use super::csv::{self, opt};
use super::customers::SearchParams;
use super::filters::{from_schema, text, to_schema, window, StaffQuery};
use super::pagination;
use super::queries::customers::{self, CustomerQuery};
use super::queries::orders::{OrderQuery, OrderRow};
use super::queries::treatments::TreatmentQuery;
use super::treatments::TreatmentFilter;
use crate::auth::AuthUser;
use crate::db::Pool;
use crate::error::{ApiResult, ErrorBody};
use crate::ingest::event::Source;
use crate::state::AppState;
use crate::treatments::rules::OrderStatus;
use crate::vocabulary::known_value;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use diesel::PgConnection;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

const BATCH: i64 = 500;

/// Fetches the CSV lines after a cursor; returns them and the next cursor (`None`: done).
type Fetch = dyn Fn(&mut PgConnection, Option<Vec<i64>>) -> ApiResult<(String, Option<Vec<i64>>)> + Send + Sync;

/// One batch on the blocking thread pool.
async fn batch(pool: Pool, fetch: Arc<Fetch>, cursor: Option<Vec<i64>>) -> ApiResult<(String, Option<Vec<i64>>)> {
    web::block(move || {
        let mut conn = pool.get()?;
        fetch(&mut conn, cursor)
    })
    .await?
}

/// The first batch is read before answering, so that a database failure is a proper error answer
/// (503) rather than a 200 whose body breaks off; the rest streams batch by batch. The body is pulled
/// by the connection as it writes (actix asks for the next chunk only when the previous one is on its
/// way), so the server holds one batch at a time whatever the size of the report; when the client
/// goes away actix drops the body, and no further batch is read (`Download` logs it).
async fn stream_csv(pool: Pool, filename: &str, header: &[&str], fetch: Arc<Fetch>) -> ApiResult<HttpResponse> {
    let (first, next) = batch(pool.clone(), fetch.clone(), None).await?;
    // A BOM so that spreadsheet programs read the file as UTF-8.
    let head = Bytes::from(format!("\u{feff}{}{first}", csv::record(header)));
    let download = Download { file: filename.to_string(), batches: 1, finished: next.is_none() };
    // state: `Some(cursor)` while there is more to read
    let rows = futures_util::stream::unfold((next, download), move |(state, mut download)| {
        let (pool, fetch) = (pool.clone(), fetch.clone());
        async move {
            let cursor = state?;
            match batch(pool, fetch, Some(cursor)).await {
                Ok((text, next)) => {
                    download.batches += 1;
                    download.finished = next.is_none();
                    Some((Ok::<Bytes, actix_web::Error>(Bytes::from(text)), (next, download)))
                }
                Err(e) => {
                    // The answer has begun: the download breaks off, the cause goes to the log.
                    e.log_unanswered("CSV report: a later batch");
                    download.finished = true;
                    Some((Err(e.into()), (None, download)))
                }
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok::<Bytes, actix_web::Error>(head) }).chain_rows(rows);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body))
}

/// A report being streamed; dropped with the body, it says when the client left before the end.
struct Download {
    file: String,
    batches: usize,
    finished: bool,
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(
                file = self.file.as_str(),
                batches = self.batches,
                "CSV report: the client left before the end; no further batch is read"
            );
        }
    }
}

trait ChainRows: futures_util::Stream + Sized {
    fn chain_rows<S: futures_util::Stream<Item = Self::Item>>(self, rest: S) -> futures_util::stream::Chain<Self, S> {
        futures_util::StreamExt::chain(self, rest)
    }
}
impl<T: futures_util::Stream> ChainRows for T {}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Customers matching the search, as CSV.
#[utoipa::path(
    tag = "reports",
    params(SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV (UTF-8, RFC 4180)", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/reports/customers.csv")]
pub async fn customers_csv(
    state: web::Data<AppState>,
    _auth: AuthUser,
    params: StaffQuery<SearchParams>,
) -> ApiResult<HttpResponse> {
    let query = CustomerQuery { term: customers::term(params.q.as_deref()), after: None, limit: BATCH };
    let fetch: Arc<Fetch> = Arc::new(move |conn, cursor| {
        let rows = CustomerQuery { after: cursor.map(|c| (c[0], c[1])), ..query.clone() }.list(conn)?;
        let next = pagination::next_key(&rows, BATCH, customers::ranked_key);
        let text: String = rows
            .iter()
            .map(|(_, c)| {
                let courses: Vec<String> =
                    c.enrollments.iter().map(|e| format!("{} ({})", e.course_name, e.status)).collect();
                csv::record(&[
                    c.id.to_string(),
                    c.email.clone(),
                    opt(&c.name),
                    opt(&c.document),
                    opt(&c.phone),
                    c.access.to_string(),
                    courses.join("; "),
                    time(c.created_at),
                    time(c.last_activity_at),
                ])
            })
            .collect();
        Ok((text, next))
    });
    let header =
        ["id", "email", "name", "document", "phone", "access", "enrollments", "created_at", "last_activity_at"];
    stream_csv(state.pool.clone(), "clientes.csv", &header, fetch).await
}

/// Treatments matching the filters, as CSV.
#[utoipa::path(
    tag = "reports",
    params(TreatmentFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV (UTF-8, RFC 4180)", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid filter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/reports/treatments.csv")]
pub async fn treatments_csv(
    state: web::Data<AppState>,
    _auth: AuthUser,
    f: StaffQuery<TreatmentFilter>,
) -> ApiResult<HttpResponse> {
    let query = f.into_inner().query(BATCH, None)?;
    let fetch: Arc<Fetch> = Arc::new(move |conn, cursor| {
        let rows = TreatmentQuery { window: query.window.before(cursor.map(|c| c[0])), ..query.clone() }.list(conn)?;
        let next = pagination::next_key(&rows, BATCH, |t| vec![t.id]);
        let text: String = rows
            .iter()
            .map(|t| {
                csv::record(&[
                    t.id.to_string(),
                    t.kind.to_string(),
                    t.status.to_string(),
                    t.customer_email.clone(),
                    opt(&t.course_name),
                    t.attempts.to_string(),
                    opt(&t.output),
                    opt(&t.last_error),
                    opt(&t.reason),
                    opt(&t.event_id),
                    time(t.created_at),
                    t.done_at.map(time).unwrap_or_default(),
                ])
            })
            .collect();
        Ok((text, next))
    });
    let header = [
        "id",
        "kind",
        "status",
        "customer_email",
        "course",
        "attempts",
        "output",
        "last_error",
        "reason",
        "event_id",
        "created_at",
        "done_at",
    ];
    stream_csv(state.pool.clone(), "tratativas.csv", &header, fetch).await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Part of the customer's e-mail, or the order's external id.
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// The source .
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub source: Option<Source>,
    /// The order's status .
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub status: Option<OrderStatus>,
    /// Created from this time (RFC 3339) or date (YYYY-MM-DD), inclusive.
    #[param(nullable = false, schema_with = from_schema)]
    pub from: Option<String>,
    /// Created until this time (exclusive) or date (inclusive).
    #[param(nullable = false, schema_with = to_schema)]
    pub to: Option<String>,
}

impl OrderFilter {
    /// The query of the report (all pages): the filters checked, empty text ignored.
    pub fn query(self) -> ApiResult<OrderQuery> {
        Ok(OrderQuery {
            window: window(self.from.as_deref(), self.to.as_deref(), BATCH, None)?,
            text: text(self.q),
            source: self.source,
            status: self.status,
        })
    }
}

/// Orders matching the filters, as CSV (amounts in integer cents).
#[utoipa::path(
    tag = "reports",
    params(OrderFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV (UTF-8, RFC 4180)", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid filter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/reports/orders.csv")]
pub async fn orders_csv(
    state: web::Data<AppState>,
    _auth: AuthUser,
    f: StaffQuery<OrderFilter>,
) -> ApiResult<HttpResponse> {
    let query = f.into_inner().query()?;
    let fetch: Arc<Fetch> = Arc::new(move |conn, cursor| {
        let rows = OrderQuery { window: query.window.before(cursor.map(|c| c[0])), ..query.clone() }.list(conn)?;
        let next = pagination::next_key(&rows, BATCH, |r| vec![r.order.id]);
        let text: String = rows
            .iter()
            .map(|OrderRow { order: o, customer_email, customer_name, course_name }| {
                csv::record(&[
                    o.id.to_string(),
                    o.source.to_string(),
                    o.external_id.clone(),
                    customer_email.clone(),
                    opt(customer_name),
                    opt(course_name),
                    o.status.to_string(),
                    opt(&o.amount_cents),
                    opt(&o.currency),
                    opt(&o.payment_method),
                    opt(&o.installments),
                    time(o.created_at),
                    time(o.updated_at),
                ])
            })
            .collect();
        Ok((text, next))
    });
    let header = [
        "id",
        "source",
        "external_id",
        "customer_email",
        "customer_name",
        "course",
        "status",
        "amount_cents",
        "currency",
        "payment_method",
        "installments",
        "created_at",
        "updated_at",
    ];
    stream_csv(state.pool.clone(), "pedidos.csv", &header, fetch).await
}
