//! The catalog in the database: courses with their counts, product mappings, the products seen without
//! one, and the resolution of a webhook's product to its courses. Every change is audited in the
//! caller's transaction.

use super::domain::{self, CourseChanges, MappingChanges, NewCourse, NewMapping};
use super::views::{CourseRef, CourseView, MappingView, UnmappedProduct};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ingest::event::{ProductInfo, Source};
use crate::models::Course;
use crate::schema::{
    courses, enrollments, orders, product_aliases, product_courses, product_mapping_courses, product_mappings,
};
use crate::staff::audit::{self, AuditAction, AuditTarget, Entry};
use crate::treatments::rules::EnrollmentStatus;
use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------------------------------------
// Courses
// ---------------------------------------------------------------------------------------------

/// Per course id: enrollments whose access is on at `now`, and mappings granting it.
fn course_counts(
    conn: &mut PgConnection,
    ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> QueryResult<(HashMap<i64, i64>, HashMap<i64, i64>)> {
    let mut active = enrollments::table
        .filter(enrollments::status.eq(EnrollmentStatus::Active))
        .filter(enrollments::expires_at.is_null().or(enrollments::expires_at.gt(now)))
        .group_by(enrollments::course_id)
        .select((enrollments::course_id, count_star()))
        .into_boxed();
    let mut mapped = product_mapping_courses::table
        .group_by(product_mapping_courses::course_id)
        .select((product_mapping_courses::course_id, count_star()))
        .into_boxed();
    if let Some(ids) = ids {
        active = active.filter(enrollments::course_id.eq_any(ids.to_vec()));
        mapped = mapped.filter(product_mapping_courses::course_id.eq_any(ids.to_vec()));
    }
    Ok((active.load::<(i64, i64)>(conn)?.into_iter().collect(), mapped.load::<(i64, i64)>(conn)?.into_iter().collect()))
}

fn course_view(c: Course, counts: &(HashMap<i64, i64>, HashMap<i64, i64>)) -> CourseView {
    CourseView {
        active_enrollments: counts.0.get(&c.id).copied().unwrap_or(0),
        mappings: counts.1.get(&c.id).copied().unwrap_or(0),
        id: c.id,
        slug: c.slug,
        name: c.name,
        access_days: c.access_days,
        access_url: c.access_url,
        access_webhook_url: c.access_webhook_url,
        active: c.active,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// Every course, by name.
pub fn list_courses(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Vec<CourseView>> {
    let all: Vec<Course> = courses::table.order((courses::name, courses::id)).select(Course::as_select()).load(conn)?;
    let counts = course_counts(conn, None, now)?;
    Ok(all.into_iter().map(|c| course_view(c, &counts)).collect())
}

pub fn find_course(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<Option<CourseView>> {
    let Some(course) = courses::table.find(id).select(Course::as_select()).first(conn).optional()? else {
        return Ok(None);
    };
    let counts = course_counts(conn, Some(&[id]), now)?;
    Ok(Some(course_view(course, &counts)))
}

/// What the audit keeps of a course.
fn course_snapshot(c: &Course) -> Value {
    json!({
        "id": c.id,
        "slug": c.slug,
        "name": c.name,
        "access_days": c.access_days,
        "access_url": c.access_url,
        "access_webhook_url": c.access_webhook_url,
        "active": c.active,
    })
}

/// Inserts the course under a unique slug made from its name; audited.
pub fn create_course(
    conn: &mut PgConnection,
    actor: i64,
    new: &NewCourse,
    now: DateTime<Utc>,
) -> ApiResult<CourseView> {
    let base = domain::base_slug(&new.name);
    // A concurrent insert may take the chosen slug between the read and the write: choose again.
    for _ in 0..5 {
        let taken: BTreeSet<String> = courses::table
            .filter(courses::slug.eq(&base).or(courses::slug.like(format!("{base}-%"))))
            .select(courses::slug)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let slug = domain::unique_slug(&base, &taken);
        let inserted: Option<Course> = diesel::insert_into(courses::table)
            .values((
                courses::slug.eq(&slug),
                courses::name.eq(&new.name),
                courses::access_days.eq(new.access_days),
                courses::access_url.eq(&new.access_url),
                courses::active.eq(new.active),
                courses::created_at.eq(now),
                courses::updated_at.eq(now),
            ))
            .on_conflict(courses::slug)
            .do_nothing()
            .returning(Course::as_returning())
            .get_result(conn)
            .optional()?;
        if let Some(course) = inserted {
            audit::record(
                conn,
                Entry::new(actor, AuditAction::CreateCourse, AuditTarget::Course, Some(course.id))
                    .after(course_snapshot(&course)),
            )?;
            return Ok(course_view(course, &Default::default()));
        }
    }
    Err(ApiError::internal(format!("no free slug for {base:?} after 5 attempts")))
}

#[derive(AsChangeset)]
#[diesel(table_name = courses)]
struct CourseUpdate<'a> {
    name: Option<&'a str>,
    access_days: Option<Option<i32>>,
    access_url: Option<Option<&'a str>>,
    access_webhook_url: Option<Option<&'a str>>,
    active: Option<bool>,
    updated_at: DateTime<Utc>,
}

/// Applies the changes (`None`: no such course). Audited with before and after when something changed.
/// A new duration applies to grants made from now on: existing access ends are not touched.
pub fn update_course(
    conn: &mut PgConnection,
    actor: i64,
    id: i64,
    changes: &CourseChanges,
    now: DateTime<Utc>,
) -> ApiResult<Option<CourseView>> {
    let Some(before) = courses::table.find(id).select(Course::as_select()).for_update().first(conn).optional()? else {
        return Ok(None);
    };
    let update = CourseUpdate {
        name: changes.name.as_deref(),
        access_days: changes.access_days,
        access_url: changes.access_url.as_ref().map(Option::as_deref),
        access_webhook_url: changes.access_webhook_url.as_ref().map(Option::as_deref),
        active: changes.active,
        updated_at: now,
    };
    let (old, new) = (course_snapshot(&before), {
        let mut after = before.clone();
        if let Some(name) = &changes.name {
            after.name = name.clone();
        }
        if let Some(days) = changes.access_days {
            after.access_days = days;
        }
        if let Some(url) = &changes.access_url {
            after.access_url = url.clone();
        }
        if let Some(url) = &changes.access_webhook_url {
            after.access_webhook_url = url.clone();
        }
        if let Some(active) = changes.active {
            after.active = active;
        }
        course_snapshot(&after)
    });
    if old == new {
        return Ok(find_course(conn, id, now)?);
    }
    let course: Course =
        diesel::update(courses::table.find(id)).set(&update).returning(Course::as_returning()).get_result(conn)?;
    audit::record(
        conn,
        Entry::new(actor, AuditAction::UpdateCourse, AuditTarget::Course, Some(id))
            .before(old)
            .after(course_snapshot(&course)),
    )?;
    let counts = course_counts(conn, Some(&[id]), now)?;
    Ok(Some(course_view(course, &counts)))
}

// ---------------------------------------------------------------------------------------------
// Product mappings
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_mappings)]
struct Mapping {
    id: i64,
    source: Source,
    external_product_id: String,
    offer_code: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The courses of each mapping, by course id.
fn mapping_courses(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<HashMap<i64, Vec<CourseRef>>> {
    let rows: Vec<(i64, i64, String, Option<i32>, bool)> = product_mapping_courses::table
        .inner_join(courses::table)
        .filter(product_mapping_courses::mapping_id.eq_any(ids.to_vec()))
        .order((product_mapping_courses::mapping_id, courses::id))
        .select((
            product_mapping_courses::mapping_id,
            courses::id,
            courses::name,
            courses::access_days,
            courses::active,
        ))
        .load(conn)?;
    let mut out: HashMap<i64, Vec<CourseRef>> = HashMap::new();
    for (mapping, id, name, access_days, active) in rows {
        out.entry(mapping).or_default().push(CourseRef { id, name, access_days, active });
    }
    Ok(out)
}

fn mapping_views(conn: &mut PgConnection, mappings: Vec<Mapping>) -> QueryResult<Vec<MappingView>> {
    let ids: Vec<i64> = mappings.iter().map(|m| m.id).collect();
    let mut courses_of = mapping_courses(conn, &ids)?;
    let products: Vec<String> = mappings.iter().map(|m| m.external_product_id.clone()).collect();
    let names: HashMap<(Source, String), Option<String>> = product_courses::table
        .filter(product_courses::external_product_id.eq_any(products))
        .select((product_courses::source, product_courses::external_product_id, product_courses::product_name))
        .load::<(Source, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(source, product, name)| ((source, product), name))
        .collect();
    Ok(mappings
        .into_iter()
        .map(|m| MappingView {
            courses: courses_of.remove(&m.id).unwrap_or_default(),
            product_name: names.get(&(m.source, m.external_product_id.clone())).cloned().flatten(),
            id: m.id,
            source: m.source,
            external_product_id: m.external_product_id,
            offer_code: m.offer_code,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

/// Every mapping, by source, product and offer (the product-wide one first).
pub fn list_mappings(conn: &mut PgConnection) -> QueryResult<Vec<MappingView>> {
    let all: Vec<Mapping> = product_mappings::table
        .order((
            product_mappings::source,
            product_mappings::external_product_id,
            product_mappings::offer_code.asc().nulls_first(),
        ))
        .select(Mapping::as_select())
        .load(conn)?;
    mapping_views(conn, all)
}

pub fn find_mapping(conn: &mut PgConnection, id: i64) -> QueryResult<Option<MappingView>> {
    let found: Option<Mapping> =
        product_mappings::table.find(id).select(Mapping::as_select()).first(conn).optional()?;
    Ok(mapping_views(conn, found.into_iter().collect())?.pop())
}

/// What the audit keeps of a mapping.
fn mapping_snapshot(m: &MappingView) -> Value {
    json!({
        "id": m.id,
        "source": m.source,
        "external_product_id": m.external_product_id,
        "offer_code": m.offer_code,
        "course_ids": m.courses.iter().map(|c| c.id).collect::<Vec<_>>(),
    })
}

/// 404 `course_not_found` naming the ids that are no course.
fn check_courses_exist(conn: &mut PgConnection, ids: &[i64]) -> ApiResult<()> {
    let found: BTreeSet<i64> = courses::table
        .filter(courses::id.eq_any(ids.to_vec()))
        .select(courses::id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let unknown: Vec<i64> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unknown.iter().map(i64::to_string).collect();
    Err(ApiError::not_found(ErrorCode::CourseNotFound, format!("No such course: {}.", list.join(", ")))
        .with_details(json!({ "course_ids": unknown })))
}

fn mapping_exists() -> ApiError {
    ApiError::conflict(
        ErrorCode::MappingExists,
        "A mapping for this source, product and offer already exists; edit that one.",
    )
}

/// `mapping_exists` for a unique violation, the error itself otherwise.
fn conflict_or(e: diesel::result::Error) -> ApiError {
    if db::is_unique_violation(&e) {
        mapping_exists()
    } else {
        e.into()
    }
}

fn set_courses(conn: &mut PgConnection, mapping: i64, course_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(product_mapping_courses::table.filter(product_mapping_courses::mapping_id.eq(mapping)))
        .execute(conn)?;
    let rows: Vec<_> = course_ids
        .iter()
        .map(|c| (product_mapping_courses::mapping_id.eq(mapping), product_mapping_courses::course_id.eq(*c)))
        .collect();
    diesel::insert_into(product_mapping_courses::table).values(rows).execute(conn)?;
    Ok(())
}

/// Inserts the mapping (409 `mapping_exists` for a duplicate, 404 `course_not_found` for an id that is no
/// course); audited.
pub fn create_mapping(
    conn: &mut PgConnection,
    actor: i64,
    new: &NewMapping,
    now: DateTime<Utc>,
) -> ApiResult<MappingView> {
    check_courses_exist(conn, &new.course_ids)?;
    let id: i64 = diesel::insert_into(product_mappings::table)
        .values((
            product_mappings::source.eq(new.source),
            product_mappings::external_product_id.eq(&new.external_product_id),
            product_mappings::offer_code.eq(&new.offer_code),
            product_mappings::created_at.eq(now),
            product_mappings::updated_at.eq(now),
        ))
        .returning(product_mappings::id)
        .get_result(conn)
        .map_err(conflict_or)?;
    set_courses(conn, id, &new.course_ids)?;
    let view = find_mapping(conn, id)?.ok_or_else(|| ApiError::internal("the new mapping vanished"))?;
    audit::record(
        conn,
        Entry::new(actor, AuditAction::CreateProductMapping, AuditTarget::ProductMapping, Some(id))
            .after(mapping_snapshot(&view)),
    )?;
    Ok(view)
}

/// Applies the changes (`None`: no such mapping; 409 when the new offer is mapped already). Audited with
/// before and after when something changed.
pub fn update_mapping(
    conn: &mut PgConnection,
    actor: i64,
    id: i64,
    changes: &MappingChanges,
    now: DateTime<Utc>,
) -> ApiResult<Option<MappingView>> {
    let locked: Option<i64> =
        product_mappings::table.find(id).select(product_mappings::id).for_update().first(conn).optional()?;
    let Some(before) = locked.map(|id| find_mapping(conn, id)).transpose()?.flatten() else { return Ok(None) };
    if let Some(course_ids) = &changes.course_ids {
        check_courses_exist(conn, course_ids)?;
    }
    let same_offer = changes.offer_code.as_ref().is_none_or(|o| *o == before.offer_code);
    let current_ids: Vec<i64> = before.courses.iter().map(|c| c.id).collect();
    let same_courses = changes.course_ids.as_ref().is_none_or(|ids| *ids == current_ids);
    if same_offer && same_courses {
        return Ok(Some(before));
    }
    if let Some(offer) = &changes.offer_code {
        diesel::update(product_mappings::table.find(id))
            .set(product_mappings::offer_code.eq(offer))
            .execute(conn)
            .map_err(conflict_or)?;
    }
    if let Some(course_ids) = &changes.course_ids {
        set_courses(conn, id, course_ids)?;
    }
    diesel::update(product_mappings::table.find(id)).set(product_mappings::updated_at.eq(now)).execute(conn)?;
    let after = find_mapping(conn, id)?.ok_or_else(|| ApiError::internal("the mapping vanished"))?;
    audit::record(
        conn,
        Entry::new(actor, AuditAction::UpdateProductMapping, AuditTarget::ProductMapping, Some(id))
            .before(mapping_snapshot(&before))
            .after(mapping_snapshot(&after)),
    )?;
    Ok(Some(after))
}

/// Deletes the mapping (`false`: no such mapping); its product goes back to its automatic course.
/// Audited with what it was.
pub fn delete_mapping(conn: &mut PgConnection, actor: i64, id: i64) -> ApiResult<bool> {
    let locked: Option<i64> =
        product_mappings::table.find(id).select(product_mappings::id).for_update().first(conn).optional()?;
    let Some(before) = locked.map(|id| find_mapping(conn, id)).transpose()?.flatten() else { return Ok(false) };
    diesel::delete(product_mappings::table.find(id)).execute(conn)?;
    audit::record(
        conn,
        Entry::new(actor, AuditAction::DeleteProductMapping, AuditTarget::ProductMapping, Some(id))
            .before(mapping_snapshot(&before)),
    )?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Products seen without a mapping
// ---------------------------------------------------------------------------------------------

/// Products seen in webhooks (`product_courses`) that no mapping of any offer covers, the most recent first.
pub fn unmapped_products(conn: &mut PgConnection) -> QueryResult<Vec<UnmappedProduct>> {
    type Row = (Source, String, Option<String>, DateTime<Utc>, i64, String);
    let rows: Vec<Row> = product_courses::table
        .inner_join(courses::table)
        .filter(not(exists(
            product_mappings::table
                .filter(product_mappings::source.eq(product_courses::source))
                .filter(product_mappings::external_product_id.eq(product_courses::external_product_id)),
        )))
        .order((product_courses::created_at.desc(), product_courses::id.desc()))
        .select((
            product_courses::source,
            product_courses::external_product_id,
            product_courses::product_name,
            product_courses::created_at,
            courses::id,
            courses::name,
        ))
        .load(conn)?;
    let course_ids: Vec<i64> = rows.iter().map(|r| r.4).collect();
    let orders_of: HashMap<Option<i64>, i64> = orders::table
        .filter(orders::course_id.eq_any(course_ids))
        .group_by(orders::course_id)
        .select((orders::course_id, count_star()))
        .load::<(Option<i64>, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(source, external_product_id, product_name, first_seen, course_id, course_name)| UnmappedProduct {
            orders: orders_of.get(&Some(course_id)).copied().unwrap_or(0),
            source,
            external_product_id,
            product_name,
            first_seen,
            course_id,
            course_name,
        })
        .collect())
}

/// How many products [`unmapped_products`] lists (the dashboard's "produtos sem mapeamento").
pub fn count_unmapped(conn: &mut PgConnection) -> QueryResult<i64> {
    product_courses::table
        .filter(not(exists(
            product_mappings::table
                .filter(product_mappings::source.eq(product_courses::source))
                .filter(product_mappings::external_product_id.eq(product_courses::external_product_id)),
        )))
        .count()
        .get_result(conn)
}

// ---------------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------------

/// The courses a webhook's product grants through its mapping (the offer's own, else the product-wide
/// one), by id; `None` when no mapping applies.
/// The product an event names: one named only by its other id (`by_alias`) is the product last seen
/// with that alias (else the id itself); one that carries both ids has its alias remembered (a read
/// when it is already known, so that concurrent batches take no lock on the alias row).
pub fn known_product(conn: &mut PgConnection, source: Source, product: &ProductInfo) -> QueryResult<ProductInfo> {
    let lookup = |conn: &mut PgConnection, alias: &str| {
        product_aliases::table
            .find((source, alias))
            .select(product_aliases::external_product_id)
            .first::<String>(conn)
            .optional()
    };
    if product.by_alias {
        return Ok(match lookup(conn, &product.external_id)? {
            Some(external_id) => ProductInfo {
                external_id,
                alias: Some(product.external_id.clone()),
                by_alias: false,
                ..product.clone()
            },
            None => product.clone(),
        });
    }
    if let Some(alias) = &product.alias {
        if lookup(conn, alias)?.as_deref() != Some(product.external_id.as_str()) {
            diesel::insert_into(product_aliases::table)
                .values((
                    product_aliases::source.eq(source),
                    product_aliases::alias.eq(alias),
                    product_aliases::external_product_id.eq(&product.external_id),
                ))
                .on_conflict((product_aliases::source, product_aliases::alias))
                .do_update()
                .set((
                    product_aliases::external_product_id.eq(&product.external_id),
                    product_aliases::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        }
    }
    Ok(product.clone())
}

pub fn mapped_courses(
    conn: &mut PgConnection,
    source: Source,
    external_product_id: &str,
    offer_code: Option<&str>,
) -> QueryResult<Option<Vec<Course>>> {
    let candidates: Vec<(i64, Option<String>)> = product_mappings::table
        .filter(product_mappings::source.eq(source))
        .filter(product_mappings::external_product_id.eq(external_product_id))
        .select((product_mappings::id, product_mappings::offer_code))
        .load(conn)?;
    let Some(mapping) = domain::choose_mapping(&candidates, offer_code) else { return Ok(None) };
    let granted: Vec<Course> = product_mapping_courses::table
        .inner_join(courses::table)
        .filter(product_mapping_courses::mapping_id.eq(mapping))
        .order(courses::id)
        .select(Course::as_select())
        .load(conn)?;
    Ok((!granted.is_empty()).then_some(granted))
}
