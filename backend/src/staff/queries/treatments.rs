//! Reads of the treatments.

use super::Window;
use crate::schema::{courses, customers, treatments, users};
use crate::staff::pagination::like_escape;
use crate::staff::views::TreatmentView;
use crate::treatments::rules::TreatmentKind;
use crate::treatments::store::TreatmentStatus;
use diesel::prelude::*;

/// What the status filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Is(TreatmentStatus),
    /// Pending after a failed attempt.
    Failed,
}

/// Treatments created in the window, narrowed by the filters that are set.
#[derive(Debug, Clone, Default)]
pub struct TreatmentQuery {
    /// Part of the customer's e-mail.
    pub text: Option<String>,
    pub kind: Option<TreatmentKind>,
    pub status: Option<StatusFilter>,
    pub customer_id: Option<i64>,
    pub window: Window,
}

impl TreatmentQuery {
    pub fn list(&self, conn: &mut PgConnection) -> QueryResult<Vec<TreatmentView>> {
        let mut q = treatments::table
            .inner_join(customers::table)
            .left_join(courses::table)
            .left_join(users::table)
            .select(TreatmentView::as_select())
            .into_boxed();
        if let Some(text) = &self.text {
            q = q.filter(customers::email.like(format!("%{}%", like_escape(&text.to_lowercase()))));
        }
        if let Some(kind) = self.kind {
            q = q.filter(treatments::kind.eq(kind));
        }
        match self.status {
            Some(StatusFilter::Failed) => {
                q = q
                    .filter(treatments::status.eq(TreatmentStatus::Pending))
                    .filter(treatments::last_error.is_not_null())
            }
            Some(StatusFilter::Is(status)) => q = q.filter(treatments::status.eq(status)),
            None => {}
        }
        if let Some(id) = self.customer_id {
            q = q.filter(treatments::customer_id.eq(id));
        }
        within!(q, self.window, treatments::created_at, treatments::id).load(conn)
    }
}

/// The treatments an event caused, in creation order.
pub fn of_event(conn: &mut PgConnection, event_id: i64) -> QueryResult<Vec<TreatmentView>> {
    treatments::table
        .inner_join(customers::table)
        .left_join(courses::table)
        .left_join(users::table)
        .filter(treatments::event_id.eq(event_id))
        .order(treatments::id)
        .select(TreatmentView::as_select())
        .load(conn)
}

pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<TreatmentView>> {
    treatments::table
        .inner_join(customers::table)
        .left_join(courses::table)
        .left_join(users::table)
        .filter(treatments::id.eq(id))
        .select(TreatmentView::as_select())
        .first(conn)
        .optional()
}

/// The treatments of these ids, in id order (e.g. the ones a staff action just queued).
pub fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<Vec<TreatmentView>> {
    treatments::table
        .inner_join(customers::table)
        .left_join(courses::table)
        .left_join(users::table)
        .filter(treatments::id.eq_any(ids))
        .order(treatments::id)
        .select(TreatmentView::as_select())
        .load(conn)
}
