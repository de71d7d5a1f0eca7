//! The audit log of staff actions.

use crate::schema::audit_log;
use diesel::prelude::*;
use serde_json::Value;

pub fn record(
    conn: &mut PgConnection,
    user_id: i64,
    action: &str,
    target_type: &str,
    target_id: i64,
    details: Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::user_id.eq(user_id),
            audit_log::action.eq(action),
            audit_log::target_type.eq(target_type),
            audit_log::target_id.eq(target_id),
            audit_log::details.eq(details),
        ))
        .execute(conn)
        .map(|_| ())
}
