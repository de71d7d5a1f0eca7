//! Small SQL helpers.

use crate::R;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
pub(crate) struct Num {
    #[diesel(sql_type = BigInt)]
    pub(crate) n: i64,
}

#[derive(QueryableByName)]
pub(crate) struct Txt {
    #[diesel(sql_type = Text)]
    pub(crate) t: String,
}

pub(crate) fn scalar(conn: &mut PgConnection, sql: &str) -> R<i64> {
    sql_query(sql).get_result::<Num>(conn).map(|r| r.n).map_err(|e| format!("{e}: {sql}"))
}

pub(crate) fn text(conn: &mut PgConnection, sql: &str) -> R<String> {
    sql_query(sql).get_result::<Txt>(conn).map(|r| r.t).map_err(|e| format!("{e}: {sql}"))
}
