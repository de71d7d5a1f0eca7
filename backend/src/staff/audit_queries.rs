//! Reading the audit log: the filters of `GET /api/audit`, the entries as the API shows them, and the
//! query (newest first, keyset by id).

use super::audit::{AuditAction, AuditTarget};
use super::filters::{from_schema, parse_from, parse_to, to_schema};
use crate::error::ApiResult;
use crate::schema::{audit_log, courses, customers, product_mappings, users};
use crate::vocabulary::known_value;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// The staff user who acted (their id).
    #[param(nullable = false, minimum = 1)]
    pub actor: Option<i64>,
    /// The action.
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub action: Option<AuditAction>,
    /// What the action was done to.
    #[param(nullable = false, inline)]
    #[serde(default, deserialize_with = "known_value")]
    pub target_type: Option<AuditTarget>,
    /// The id of the target (with `target_type`, one customer, course, user, ...).
    #[param(nullable = false, minimum = 1)]
    pub target_id: Option<i64>,
    /// Recorded from this time (RFC 3339) or date (YYYY-MM-DD), inclusive.
    #[param(nullable = false, schema_with = from_schema)]
    pub from: Option<String>,
    /// Recorded until this time (exclusive) or date (inclusive).
    #[param(nullable = false, schema_with = to_schema)]
    pub to: Option<String>,
}

/// The staff user who acted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditActor {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// What an action was done to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditTargetView {
    #[serde(rename = "type")]
    pub target_type: AuditTarget,
    pub id: Option<i64>,
    /// A readable name of the target when it has one: a user's or course's name, a customer's e-mail, a
    /// product mapping's source and product id.
    pub label: Option<String>,
}

/// One audited staff action.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// `null` only for an entry whose user no longer exists.
    pub actor: Option<AuditActor>,
    pub action: AuditAction,
    pub target: AuditTargetView,
    /// The reason the staff member gave, when the action asks for one.
    pub reason: Option<String>,
    /// The target before the action (the fields it changed).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The target after the action.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// Anything else recorded (counts, a file name, ...).
    #[schema(value_type = Object)]
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

/// (id, name, e-mail) of the acting user.
type ActorRow = (i64, String, String);

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: i64,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: Option<i64>,
    details: Value,
    created_at: DateTime<Utc>,
    reason: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

/// One page of audit entries, newest first, after `before_id`.
pub fn query(
    conn: &mut PgConnection,
    f: &AuditFilter,
    limit: i64,
    before_id: Option<i64>,
) -> ApiResult<Vec<AuditEntryView>> {
    let from = parse_from(f.from.as_deref())?;
    let to = parse_to(f.to.as_deref())?;
    let mut q = audit_log::table
        .left_join(users::table)
        .select((AuditRow::as_select(), (users::id, users::name, users::email).nullable()))
        .into_boxed();
    if let Some(actor) = f.actor {
        q = q.filter(audit_log::user_id.eq(actor));
    }
    if let Some(action) = f.action {
        q = q.filter(audit_log::action.eq(action));
    }
    if let Some(target_type) = f.target_type {
        q = q.filter(audit_log::target_type.eq(target_type));
    }
    if let Some(target_id) = f.target_id {
        q = q.filter(audit_log::target_id.eq(target_id));
    }
    if let Some(from) = from {
        q = q.filter(audit_log::created_at.ge(from));
    }
    if let Some(to) = to {
        q = q.filter(audit_log::created_at.lt(to));
    }
    if let Some(id) = before_id {
        q = q.filter(audit_log::id.lt(id));
    }
    let rows: Vec<(AuditRow, Option<ActorRow>)> = q.order(audit_log::id.desc()).limit(limit).load(conn)?;
    let labels = target_labels(conn, rows.iter().filter_map(|(r, _)| Some((r.target_type, r.target_id?))))?;
    Ok(rows
        .into_iter()
        .map(|(r, actor)| AuditEntryView {
            id: r.id,
            actor: actor.map(|(id, name, email)| AuditActor { id, name, email }),
            action: r.action,
            target: AuditTargetView {
                target_type: r.target_type,
                id: r.target_id,
                label: r.target_id.and_then(|id| labels.get(&(r.target_type, id)).cloned()),
            },
            reason: r.reason,
            before: r.before,
            after: r.after,
            details: r.details,
            created_at: r.created_at,
        })
        .collect())
}

/// The readable names of the targets of a page (one query per kind of target that has names).
fn target_labels(
    conn: &mut PgConnection,
    targets: impl Iterator<Item = (AuditTarget, i64)>,
) -> QueryResult<HashMap<(AuditTarget, i64), String>> {
    let mut ids: HashMap<AuditTarget, Vec<i64>> = HashMap::new();
    for (kind, id) in targets {
        ids.entry(kind).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (kind, ids) in ids {
        let named: Vec<(i64, String)> = match kind {
            AuditTarget::User => {
                users::table.filter(users::id.eq_any(&ids)).select((users::id, users::name)).load(conn)?
            }
            AuditTarget::Customer => customers::table
                .filter(customers::id.eq_any(&ids))
                .select((customers::id, customers::email))
                .load(conn)?,
            AuditTarget::Course => {
                courses::table.filter(courses::id.eq_any(&ids)).select((courses::id, courses::name)).load(conn)?
            }
            AuditTarget::ProductMapping => product_mappings::table
                .filter(product_mappings::id.eq_any(&ids))
                .select((product_mappings::id, product_mappings::source, product_mappings::external_product_id))
                .load::<(i64, String, String)>(conn)?
                .into_iter()
                .map(|(id, source, product)| (id, format!("{source} · {product}")))
                .collect(),
            AuditTarget::WebhookEvent | AuditTarget::Treatment | AuditTarget::Import => vec![],
        };
        out.extend(named.into_iter().map(|(id, name)| ((kind, id), name)));
    }
    Ok(out)
}
