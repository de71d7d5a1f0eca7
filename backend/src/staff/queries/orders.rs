//! Reads of the orders (the orders report).

use crate::ingest::event::Source;
use crate::models::Order;
use crate::schema::{courses, customers, orders};
use crate::staff::pagination::like_escape;
use crate::treatments::rules::OrderStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// An order with its customer and course.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct OrderRow {
    #[diesel(embed)]
    pub order: Order,
    #[diesel(select_expression = customers::email)]
    pub customer_email: String,
    #[diesel(select_expression = customers::name)]
    pub customer_name: Option<String>,
    #[diesel(select_expression = courses::name.nullable())]
    pub course_name: Option<String>,
}

/// Orders newest first, `limit` of them before `before_id`, narrowed by the filters that are set.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Part of the customer's e-mail, or the order's external id.
    pub text: Option<String>,
    pub source: Option<Source>,
    pub status: Option<OrderStatus>,
    /// Created from (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Created until (exclusive).
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl OrderQuery {
    pub fn list(&self, conn: &mut PgConnection) -> QueryResult<Vec<OrderRow>> {
        let mut q = orders::table
            .inner_join(customers::table)
            .left_join(courses::table)
            .select(OrderRow::as_select())
            .into_boxed();
        if let Some(text) = &self.text {
            let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
            q = q.filter(customers::email.like(pattern).or(orders::external_id.eq(text.clone())));
        }
        if let Some(source) = self.source {
            q = q.filter(orders::source.eq(source));
        }
        if let Some(status) = self.status {
            q = q.filter(orders::status.eq(status));
        }
        if let Some(from) = self.from {
            q = q.filter(orders::created_at.ge(from));
        }
        if let Some(to) = self.to {
            q = q.filter(orders::created_at.lt(to));
        }
        if let Some(id) = self.before_id {
            q = q.filter(orders::id.lt(id));
        }
        q.order(orders::id.desc()).limit(self.limit).load(conn)
    }
}
