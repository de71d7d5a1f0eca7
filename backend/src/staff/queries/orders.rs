//! Reads of the orders (the orders report).

use super::Window;
use crate::ingest::event::Source;
use crate::models::Order;
use crate::schema::{courses, customers, orders};
use crate::staff::pagination::like_escape;
use crate::treatments::rules::OrderStatus;
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

/// Orders created in the window, narrowed by the filters that are set.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Part of the customer's e-mail, or the order's external id.
    pub text: Option<String>,
    pub source: Option<Source>,
    pub status: Option<OrderStatus>,
    pub window: Window,
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
        within!(q, self.window, orders::created_at, orders::id).load(conn)
    }
}
