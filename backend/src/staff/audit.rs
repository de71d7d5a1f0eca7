//! The audit log of staff actions: who did what to which target, why, and the target before and after.

use crate::schema::audit_log;
use diesel::prelude::*;
use serde_json::Value;

crate::vocabulary! {
    /// A staff action recorded in the audit log (`audit_log.action`).
    pub enum AuditAction {
        ReplayEvent = "replay_event",
        RetryTreatment = "retry_treatment",
        GrantAccess = "grant_access",
        ExtendAccess = "extend_access",
        RevokeAccess = "revoke_access",
        ResendWelcome = "resend_welcome",
        ImportAccess = "import_access",
        BulkExtend = "bulk_extend",
        BulkRevoke = "bulk_revoke",
        CreateCourse = "create_course",
        UpdateCourse = "update_course",
        CreateProductMapping = "create_product_mapping",
        UpdateProductMapping = "update_product_mapping",
        DeleteProductMapping = "delete_product_mapping",
        UpdateUser = "update_user",
        ChangePassword = "change_password",
        RunSimulator = "run_simulator",
    }
}

crate::vocabulary! {
    /// What an audited action was done to (`audit_log.target_type`).
    pub enum AuditTarget {
        WebhookEvent = "webhook_event",
        Treatment = "treatment",
        Customer = "customer",
        Course = "course",
        ProductMapping = "product_mapping",
        User = "user",
        Import = "import",
    }
}

/// One audit entry, built with [`Entry::new`] and the optional parts, written by [`record`].
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: i64,
    pub action: AuditAction,
    pub target_type: AuditTarget,
    pub target_id: Option<i64>,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub details: Value,
}

impl Entry {
    pub fn new(actor: i64, action: AuditAction, target_type: AuditTarget, target_id: Option<i64>) -> Entry {
        Entry {
            actor,
            action,
            target_type,
            target_id,
            reason: None,
            before: None,
            after: None,
            details: Value::Object(Default::default()),
        }
    }
    /// The reason the staff member gave.
    pub fn reason(mut self, reason: impl Into<String>) -> Entry {
        self.reason = Some(reason.into());
        self
    }
    /// The target as it was before the action.
    pub fn before(mut self, before: Value) -> Entry {
        self.before = Some(before);
        self
    }
    /// The target as the action left it.
    pub fn after(mut self, after: Value) -> Entry {
        self.after = Some(after);
        self
    }
    /// Anything else worth keeping (counts, the file name of an import, ...).
    pub fn details(mut self, details: Value) -> Entry {
        self.details = details;
        self
    }
}

/// Writes the entry; call it in the transaction of the action, so the action and its record land together.
pub fn record(conn: &mut PgConnection, entry: Entry) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::user_id.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::reason.eq(entry.reason),
            audit_log::before.eq(entry.before),
            audit_log::after.eq(entry.after),
            audit_log::details.eq(entry.details),
        ))
        .execute(conn)
        .map(|_| ())
}
