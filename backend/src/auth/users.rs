//! Staff users in the database.

use crate::schema::users;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A staff user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    #[schema(example = "ana@escola.com.br")]
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView { id: u.id, email: u.email, name: u.name, created_at: u.created_at, last_login_at: u.last_login_at }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
}

pub fn insert(conn: &mut PgConnection, email: &str, name: &str, password_hash: &str) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(NewUser { email, name, password_hash })
        .returning(User::as_returning())
        .get_result(conn)
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).optional()
}

pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

pub fn touch_login(conn: &mut PgConnection, id: i64) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Utc::now()))
        .returning(User::as_returning())
        .get_result(conn)
}
