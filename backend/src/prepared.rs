//! Raw SQL that diesel prepares once per connection and then reuses.
//!
//! `diesel::sql_query` is never put in diesel's prepared-statement cache (diesel cannot know that its
//! text never changes), so PostgreSQL parses and plans it on every call: about 0.5–1 ms of its CPU per
//! statement, which was the largest cost of a group-commit batch (`ingest::bulk`). A [`Statement`] has
//! a fixed text and a type of its own (`Tag`, one per statement): diesel caches it under that type as a
//! named prepared statement, and every later call only binds and executes.
//!
//! The text uses PostgreSQL's `$n` placeholders, as with `sql_query`; a placeholder may repeat, and the
//! binds are given in `$n` order with [`Statement::bind`].

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};
use std::marker::PhantomData;

/// One bound value with its SQL type.
trait Bind: Send {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Typed<ST, T>(T, PhantomData<fn() -> ST>);

impl<ST, T> Bind for Typed<ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg> + Send,
{
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.0)
    }
}

/// A statement of fixed text, cached by diesel under `Tag` (a type used for this statement only).
pub struct Statement<Tag> {
    sql: &'static str,
    binds: Vec<Box<dyn Bind>>,
    tag: PhantomData<fn() -> Tag>,
}

impl<Tag: 'static> Statement<Tag> {
    pub fn new(sql: &'static str) -> Self {
        Statement { sql, binds: vec![], tag: PhantomData }
    }

    /// The value of the next placeholder (`$1`, then `$2`, ...).
    pub fn bind<ST, T>(mut self, value: T) -> Self
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg> + Send + 'static,
        ST: 'static,
    {
        self.binds.push(Box::new(Typed::<ST, T>(value, PhantomData)));
        self
    }
}

impl<Tag: 'static> QueryFragment<Pg> for Statement<Tag> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            out.push_sql(&rest[..at]);
            let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
            let bind = n
                .checked_sub(1)
                .and_then(|i| self.binds.get(i))
                .ok_or_else(|| Error::QueryBuilderError(format!("no value bound for ${n}").into()))?;
            bind.push(&mut out)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<Tag: 'static> QueryId for Statement<Tag> {
    type QueryId = Tag;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Tag> Query for Statement<Tag> {
    type SqlType = Untyped;
}

impl<Tag, Conn> RunQueryDsl<Conn> for Statement<Tag> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;
    use diesel::sql_types::{BigInt, Text};

    struct Example;

    #[test]
    fn placeholders_become_binds_in_order_and_repeats_bind_again() {
        let s = Statement::<Example>::new("SELECT $1::text, $2::int8, $1 || 'x', '$' || $2")
            .bind::<Text, _>("a".to_string())
            .bind::<BigInt, _>(7_i64);
        let shown = debug_query::<Pg, _>(&s).to_string();
        assert_eq!(shown, r#"SELECT $1::text, $2::int8, $3 || 'x', '$' || $4 -- binds: ["a", 7, "a", 7]"#);
    }

    #[test]
    fn a_placeholder_without_its_value_is_an_error_not_a_panic() {
        let s = Statement::<Example>::new("SELECT $2").bind::<Text, _>("a".to_string());
        let mut sql = String::new();
        let mut builder = <Pg as diesel::backend::Backend>::QueryBuilder::default();
        let e = s.to_sql(&mut builder, &Pg).map(|_| sql.push_str("built")).unwrap_err();
        assert!(e.to_string().contains("no value bound for $2"), "{e}");
    }
}
