//! A query of diesel's typed DSL that PostgreSQL plans with its bound values every time.
//!
//! Diesel keeps a prepared statement per query text, and after five executions PostgreSQL may switch
//! it to a generic plan, made without the values. That is right for the ingest path, whose plans do
//! not depend on the values, and wrong for the customer search: `LIKE $1` is a 2-row lookup for a rare
//! term and a million rows for `com`, and only the value tells. [`custom_plan`] marks a query as not to
//! be cached: diesel then sends it as an unnamed statement, which PostgreSQL plans with the values
//! bound (no transaction and no `SET LOCAL plan_cache_mode` needed, so no extra round trips).

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query`, planned with its values on every execution.
pub fn custom_plan<Q>(query: Q) -> CustomPlan<Q> {
    CustomPlan(query)
}

#[derive(Debug, Clone)]
pub struct CustomPlan<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for CustomPlan<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q: Query> Query for CustomPlan<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for CustomPlan<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, Conn> RunQueryDsl<Conn> for CustomPlan<Q> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::customers;
    use diesel::debug_query;
    use diesel::prelude::*;

    fn query() -> impl QueryFragment<Pg> + Clone {
        customers::table.select(customers::id).filter(customers::email.like("maria%"))
    }

    #[test]
    fn the_sql_is_the_query_s_own() {
        assert_eq!(debug_query::<Pg, _>(&custom_plan(query())).to_string(), debug_query::<Pg, _>(&query()).to_string());
    }

    #[test]
    fn it_is_never_cached() {
        assert!(query().is_safe_to_cache_prepared(&Pg).expect("walk"), "diesel caches the plain query");
        assert!(!custom_plan(query()).is_safe_to_cache_prepared(&Pg).expect("walk"), "but not this one");
    }
}
