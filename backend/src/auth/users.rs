//! Staff users in the database.

use super::Role;
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
    pub role: Role,
    pub active: bool,
    pub token_version: i32,
    pub updated_at: DateTime<Utc>,
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
    pub role: Role,
    /// A deactivated user cannot sign in and their tokens stop working at once.
    pub active: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id,
            email: u.email,
            name: u.name,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            role: u.role,
            active: u.active,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
    role: Role,
}

/// Creates a staff user: the first account is `admin`, every later one `suporte`. A transaction-level
/// advisory lock serialises concurrent sign-ups, so two first sign-ups cannot both become admin.
pub fn insert(conn: &mut PgConnection, email: &str, name: &str, password_hash: &str) -> QueryResult<User> {
    conn.transaction(|conn| {
        diesel::select(pg_advisory_xact_lock(SIGNUP_LOCK)).execute(conn)?;
        let first = !diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result::<bool>(conn)?;
        let role = if first { Role::Admin } else { Role::Suporte };
        diesel::insert_into(users::table)
            .values(NewUser { email, name, password_hash, role })
            .returning(User::as_returning())
            .get_result(conn)
    })
}

/// The advisory-lock key of sign-ups ("portaria-signup").
const SIGNUP_LOCK: i64 = 0x706f_7274_7369_676e;

diesel::define_sql_function! {
    fn pg_advisory_xact_lock(key: diesel::sql_types::BigInt);
}

/// What a request needs to know about the user behind a token: whether the account still works, its
/// role and the token version (a token issued under an older version no longer works).
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
    pub token_version: i32,
}

pub fn standing(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Standing>> {
    users::table.find(id).select(Standing::as_select()).first(conn).optional()
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

/// Every staff user, active ones first, then by name.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<User>> {
    users::table.order((users::active.desc(), users::name, users::id)).select(User::as_select()).load(conn)
}

/// The advisory-lock key of role and status changes ("portaria-team"): concurrent changes are taken one
/// at a time, so two of them cannot together remove the last active administrator.
const TEAM_LOCK: i64 = 0x706f_7274_7465_616d;

/// Takes the team lock until the end of the current transaction.
pub fn lock_team(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::select(pg_advisory_xact_lock(TEAM_LOCK)).execute(conn).map(|_| ())
}

/// How many active administrators there are besides `id`.
pub fn other_active_admins(conn: &mut PgConnection, id: i64) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin))
        .filter(users::active.eq(true))
        .filter(users::id.ne(id))
        .count()
        .get_result(conn)
}

/// Sets a user's role and status; `end_sessions` bumps the token version (every token issued so far stops
/// working).
pub fn set_role_and_status(
    conn: &mut PgConnection,
    id: i64,
    role: Role,
    active: bool,
    end_sessions: bool,
) -> QueryResult<User> {
    let bump = if end_sessions { 1 } else { 0 };
    diesel::update(users::table.find(id))
        .set((
            users::role.eq(role),
            users::active.eq(active),
            users::token_version.eq(users::token_version + bump),
            users::updated_at.eq(Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)
}

/// Replaces a user's password hash and bumps the token version: every session signed in before ends.
pub fn set_password(conn: &mut PgConnection, id: i64, password_hash: &str) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)
}
