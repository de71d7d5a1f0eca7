//! The team (admin only): list the staff users, change a role, deactivate and reactivate.
//!
//! Rules (plain function [`check_update`]): there is always an active administrator left, and an
//! administrator cannot deactivate or demote themself (another administrator has to). A deactivation
//! bumps the user's token version, so their tokens stop working at once.

use super::audit::{self, AuditAction, AuditTarget, Entry};
use crate::auth::users::{self, User, UserView};
use crate::auth::{AdminUser, Role};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::object_body::ObjectBody;
use crate::state::AppState;
use actix_web::{get, patch, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Every staff user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Active users first, then by name.
    pub items: Vec<UserView>,
}

/// A change to a staff user: either field, or both.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub struct UserUpdate {
    /// The new role.
    #[serde(default)]
    pub role: Option<Role>,
    /// `false` deactivates the user (their tokens stop working at once), `true` reactivates them.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A user's role and status, before or after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    fn is_active_admin(self) -> bool {
        self.role == Role::Admin && self.active
    }
}

/// The standing after `change`, or the reason it is refused. `other_active_admins` counts the active
/// administrators besides the target.
pub fn check_update(
    actor: i64,
    target: i64,
    now: Standing,
    change: UserUpdate,
    other_active_admins: i64,
) -> ApiResult<Standing> {
    let next = Standing { role: change.role.unwrap_or(now.role), active: change.active.unwrap_or(now.active) };
    let removes_an_admin = now.is_active_admin() && !next.is_active_admin();
    if removes_an_admin && other_active_admins == 0 {
        return Err(ApiError::conflict(
            ErrorCode::LastAdmin,
            "This is the last active administrator: make another user an administrator first.",
        ));
    }
    if removes_an_admin && actor == target {
        return Err(ApiError::conflict(
            ErrorCode::CannotChangeSelf,
            "You cannot deactivate your own account or remove your own administrator role; ask another administrator.",
        ));
    }
    Ok(next)
}

/// Applies `change` to user `id` on behalf of `actor`, audited, in one transaction.
pub fn update_user(conn: &mut PgConnection, actor: i64, id: i64, change: UserUpdate) -> ApiResult<User> {
    conn.transaction(|conn| {
        users::lock_team(conn)?;
        // The actor may have lost the role since the request was authenticated: read it again under the lock.
        let actor_standing = users::standing(conn, actor)?;
        if !actor_standing.is_some_and(|s| s.active && s.role == Role::Admin) {
            return Err(ApiError::forbidden(ErrorCode::Forbidden, "Only an administrator may do this."));
        }
        let user = users::find(conn, id)?
            .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, format!("No staff user with id {id}.")))?;
        let now = Standing { role: user.role, active: user.active };
        let next = check_update(actor, id, now, change, users::other_active_admins(conn, id)?)?;
        if next == now {
            // nothing to change (no field, nulls, or the values it already has): no write, no audit
            return Ok(user);
        }
        let deactivated = now.active && !next.active;
        let updated = users::set_role_and_status(conn, id, next.role, next.active, deactivated)?;
        audit::record(
            conn,
            Entry::new(actor, AuditAction::UpdateUser, AuditTarget::User, Some(id))
                .before(json!({ "role": now.role, "active": now.active }))
                .after(json!({ "role": next.role, "active": next.active })),
        )?;
        Ok(updated)
    })
}

/// The staff users (admin only).
#[utoipa::path(
    tag = "team",
    operation_id = "list_users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every staff user", body = UserList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[get("/api/users")]
pub async fn list(state: web::Data<AppState>, _admin: AdminUser) -> ApiResult<web::Json<UserList>> {
    db::run(&state.pool, |conn| {
        let items = users::list(conn)?.into_iter().map(UserView::from).collect();
        Ok(web::Json(UserList { items }))
    })
    .await
}

/// Changes a staff user's role, deactivates or reactivates them (admin only). A deactivated user's tokens
/// stop working at once; a reactivated user signs in again.
#[utoipa::path(
    tag = "team",
    operation_id = "update_user",
    params(("id" = i64, Path, description = "Staff user id")),
    request_body = UserUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user, changed", body = UserView),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `BODY_READ_TIMEOUT_MS` (`request_timeout`)", body = ErrorBody),
        (status = 409, description = "It would leave no active administrator (`last_admin`), or an administrator deactivating or demoting themself (`cannot_change_self`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not sent as application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "An unknown role or a field of the wrong type (`validation_failed`); a body that changes nothing is 200 with the user as it is", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry (`database_unavailable`)", body = ErrorBody),
    )
)]
#[patch("/api/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
    body: ObjectBody<UserUpdate>,
) -> ApiResult<web::Json<UserView>> {
    let (actor, id, change) = (admin.id, id.into_inner(), body.0);
    let user = db::run(&state.pool, move |conn| update_user(conn, actor, id, change)).await?;
    log::info!("staff user {id} updated by {actor}: role {}, active {}", user.role, user.active);
    Ok(web::Json(user.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: Standing = Standing { role: Role::Admin, active: true };
    const SUPORTE: Standing = Standing { role: Role::Suporte, active: true };

    fn code(r: ApiResult<Standing>) -> String {
        r.err().map(|e| e.code.to_string()).unwrap_or_else(|| "ok".into())
    }

    fn change(role: Option<Role>, active: Option<bool>) -> UserUpdate {
        UserUpdate { role, active }
    }

    #[test]
    fn an_admin_changes_other_users() {
        let next = check_update(1, 2, SUPORTE, change(Some(Role::Admin), None), 1).unwrap();
        assert_eq!(next, ADMIN);
        let next = check_update(1, 2, ADMIN, change(None, Some(false)), 1).unwrap();
        assert_eq!(next, Standing { role: Role::Admin, active: false });
        let next = check_update(1, 2, Standing { role: Role::Suporte, active: false }, change(None, Some(true)), 1);
        assert_eq!(next.unwrap(), SUPORTE);
        // demoting an inactive admin removes no active admin
        let inactive_admin = Standing { role: Role::Admin, active: false };
        assert_eq!(code(check_update(1, 2, inactive_admin, change(Some(Role::Suporte), None), 0)), "ok");
    }

    #[test]
    fn there_is_always_an_active_admin() {
        assert_eq!(code(check_update(1, 1, ADMIN, change(Some(Role::Suporte), None), 0)), "last_admin");
        assert_eq!(code(check_update(1, 1, ADMIN, change(None, Some(false)), 0)), "last_admin");
        assert_eq!(code(check_update(1, 2, ADMIN, change(None, Some(false)), 0)), "last_admin");
    }

    #[test]
    fn an_admin_cannot_remove_themself() {
        assert_eq!(code(check_update(1, 1, ADMIN, change(Some(Role::Suporte), None), 1)), "cannot_change_self");
        assert_eq!(code(check_update(1, 1, ADMIN, change(None, Some(false)), 1)), "cannot_change_self");
        // what changes nothing is fine
        assert_eq!(code(check_update(1, 1, ADMIN, change(Some(Role::Admin), Some(true)), 0)), "ok");
    }

    #[test]
    fn an_empty_change_changes_nothing() {
        assert_eq!(check_update(1, 2, SUPORTE, change(None, None), 1).unwrap(), SUPORTE);
        assert_eq!(check_update(1, 1, ADMIN, change(None, None), 0).unwrap(), ADMIN);
    }
}
