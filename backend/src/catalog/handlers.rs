//! HTTP handlers of /api/courses and /api/products: any staff member reads, an admin changes.

use super::views::{
    CourseCreate, CourseList, CoursePatch, CourseView, MappingCreate, MappingPatch, MappingView, ObjectBody,
    ProductList,
};
use super::{domain, queries};
use crate::auth::{AdminUser, AuthUser};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::staff::filters::StaffQuery;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::Utc;
use diesel::Connection;
use serde::Deserialize;
use utoipa::IntoParams;

fn no_course() -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, "No such course.")
}

fn no_mapping() -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, "No such product mapping.")
}

/// The catalog's courses, each with its active enrollments and mappings.
#[utoipa::path(
    tag = "catalog",
    operation_id = "list_courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every course, by name", body = CourseList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/courses")]
pub async fn list_courses(state: web::Data<AppState>, _auth: AuthUser) -> ApiResult<web::Json<CourseList>> {
    db::run(&state.pool, |conn| Ok(web::Json(CourseList { items: queries::list_courses(conn, Utc::now())? }))).await
}

/// Creates a course (admin). Its slug is made from the name, unique.
#[utoipa::path(
    tag = "catalog",
    operation_id = "create_course",
    request_body = CourseCreate,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CourseView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Invalid name, access_days or access_url, a field missing, or a body that is not a JSON object (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/courses")]
pub async fn create_course(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: ObjectBody<CourseCreate>,
) -> ApiResult<HttpResponse> {
    let new = domain::new_course(&body)?;
    let course = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| queries::create_course(conn, admin.id, &new, Utc::now()))
    })
    .await?;
    Ok(HttpResponse::Created().json(course))
}

/// One course, with its counts.
#[utoipa::path(
    tag = "catalog",
    operation_id = "get_course",
    params(("id" = i64, Path, description = "Course id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course", body = CourseView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/courses/{id}")]
pub async fn get_course(
    state: web::Data<AppState>,
    _auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<CourseView>> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| queries::find_course(conn, id, Utc::now())?.map(web::Json).ok_or_else(no_course))
        .await
}

/// Changes a course (admin): only the fields sent. `access_days: null` sets lifetime access. A new
/// duration applies to grants made from now on; the end of an access already granted does not move.
#[utoipa::path(
    tag = "catalog",
    operation_id = "update_course",
    params(("id" = i64, Path, description = "Course id")),
    request_body = CoursePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course as changed", body = CourseView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Invalid name, access_days, access_url or access_webhook_url (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[patch("/api/courses/{id}")]
pub async fn update_course(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
    body: ObjectBody<CoursePatch>,
) -> ApiResult<web::Json<CourseView>> {
    let (id, changes) = (id.into_inner(), domain::course_changes(&body)?);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| queries::update_course(conn, admin.id, id, &changes, Utc::now()))?
            .map(web::Json)
            .ok_or_else(no_course)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// `true`: the products seen in webhooks that no mapping covers, instead of the mappings.
    #[serde(default)]
    pub unmapped: Option<bool>,
}

/// The product mappings, or (`unmapped=true`) the products seen in webhooks without one.
#[utoipa::path(
    tag = "catalog",
    operation_id = "list_products",
    params(ProductQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The mappings (`kind: mappings`) or the unmapped products (`kind: unmapped`)", body = ProductList),
        (status = 400, description = "`unmapped` is not `true` or `false` (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    _auth: AuthUser,
    q: StaffQuery<ProductQuery>,
) -> ApiResult<web::Json<ProductList>> {
    let unmapped = q.unmapped.unwrap_or(false);
    db::run(&state.pool, move |conn| {
        Ok(web::Json(if unmapped {
            ProductList::Unmapped { items: queries::unmapped_products(conn)? }
        } else {
            ProductList::Mappings { items: queries::list_mappings(conn)? }
        }))
    })
    .await
}

/// Maps a product (optionally one offer or plan of it) to one or more courses (admin). From then on
/// its webhooks grant, renew and revoke every one of these courses, each with its own duration.
#[utoipa::path(
    tag = "catalog",
    operation_id = "create_product_mapping",
    request_body = MappingCreate,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = MappingView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "This source, product and offer are mapped already (`mapping_exists`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 404, description = "An id of `course_ids` is no course (`course_not_found`; `details.course_ids`: the unknown ids)", body = ErrorBody),
        (status = 422, description = "Unknown source, invalid product id or offer code, no course or over 50 (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[post("/api/products")]
pub async fn create_mapping(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: ObjectBody<MappingCreate>,
) -> ApiResult<HttpResponse> {
    let new = domain::new_mapping(&body)?;
    let mapping = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| queries::create_mapping(conn, admin.id, &new, Utc::now()))
    })
    .await?;
    Ok(HttpResponse::Created().json(mapping))
}

/// Changes a mapping's offer code or courses (admin): only the fields sent.
#[utoipa::path(
    tag = "catalog",
    operation_id = "update_product_mapping",
    params(("id" = i64, Path, description = "Mapping id")),
    request_body = MappingPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The mapping as changed", body = MappingView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such mapping (`not_found`), or an id of `course_ids` is no course (`course_not_found`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "The new offer of this product is mapped already (`mapping_exists`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Invalid offer code, no course or over 50 (`validation_failed`, `details.fields`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[patch("/api/products/{id}")]
pub async fn update_mapping(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
    body: ObjectBody<MappingPatch>,
) -> ApiResult<web::Json<MappingView>> {
    let (id, changes) = (id.into_inner(), domain::mapping_changes(&body)?);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| queries::update_mapping(conn, admin.id, id, &changes, Utc::now()))?
            .map(web::Json)
            .ok_or_else(no_mapping)
    })
    .await
}

/// Deletes a mapping (admin): the product's webhooks go back to its automatic course.
#[utoipa::path(
    tag = "catalog",
    operation_id = "delete_product_mapping",
    params(("id" = i64, Path, description = "Mapping id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such mapping", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[delete("/api/products/{id}")]
pub async fn delete_mapping(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let deleted =
        db::run(&state.pool, move |conn| conn.transaction(|conn| queries::delete_mapping(conn, admin.id, id))).await?;
    if !deleted {
        return Err(no_mapping());
    }
    Ok(HttpResponse::NoContent().finish())
}
