//! What the Simulador reads and writes: the customers a run made, and its audit entry.

use crate::schema::customers;
use crate::staff::audit::{self, AuditAction, AuditTarget, Entry};
use diesel::prelude::*;
use std::collections::HashMap;

/// The ids of the run's customers (by lower-cased e-mail), and the run's audit entry, together.
pub fn finish_run(
    conn: &mut PgConnection,
    actor: i64,
    emails: &[String],
    details: serde_json::Value,
) -> QueryResult<HashMap<String, i64>> {
    conn.transaction(|conn| {
        let ids = customer_ids(conn, emails)?;
        let single = match emails {
            [email] => ids.get(email).copied(),
            _ => None,
        };
        record_run(conn, actor, single, details)?;
        Ok(ids)
    })
}

/// The ids of the customers with these (lower-cased) e-mails.
fn customer_ids(conn: &mut PgConnection, emails: &[String]) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = customers::table
        .filter(customers::email.eq_any(emails))
        .select((customers::email, customers::id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Records the run in the audit log: the customer when the run was about one, the run in `details`.
fn record_run(
    conn: &mut PgConnection,
    actor: i64,
    customer: Option<i64>,
    details: serde_json::Value,
) -> QueryResult<()> {
    audit::record(conn, Entry::new(actor, AuditAction::RunSimulator, AuditTarget::Customer, customer).details(details))
}
