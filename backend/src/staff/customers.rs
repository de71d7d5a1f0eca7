//! Customers: search (accent- and case-insensitive, ranked, keyset-paginated), profile, timeline.
//! The reads are in `queries::customers`.

use super::filters::StaffQuery;
use super::pagination::{self, RankedPageParams};
use super::queries::customers::{self as query, ranked_key, term, CustomerQuery};
use super::views::*;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Any part of the e-mail, name or document (CPF/CNPJ, with or without punctuation).
    #[param(nullable = false, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
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
    let (limit, after) = page.keyset()?;
    let query = CustomerQuery { term: term(params.q.as_deref()), after, limit };
    db::run(&state.pool, move |conn| {
        let rows = query.list(conn)?;
        let next_cursor = pagination::next(&rows, limit, ranked_key);
        Ok(web::Json(Page { items: rows.into_iter().map(|(_, c)| c).collect(), next_cursor }))
    })
    .await
}

fn no_customer(id: i64) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("No customer with id {id}."))
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
    db::run(&state.pool, move |conn| query::detail(conn, id)?.map(web::Json).ok_or_else(|| no_customer(id))).await
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
    db::run(&state.pool, move |conn| query::timeline(conn, id)?.map(web::Json).ok_or_else(|| no_customer(id))).await
}
