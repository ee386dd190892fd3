//! Workspaces (one per client of an agency) and their members.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{error::DatabaseError, FromRow, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::WorkspaceRole,
    error::{ApiError, ApiResult, ResultExt},
};

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The caller's own role in this workspace, if they are a member of it.
    pub my_role: Option<WorkspaceRole>,
}

const SELECT: &str =
    "SELECT w.id, w.name, w.created_at, workspace_role(w.id) AS my_role FROM workspaces w";

/// The unique constraint on a workspace's name within its organization.
const NAME_KEY: &str = "workspaces_org_id_name_key";

fn name_taken(_: Box<dyn DatabaseError>) -> ApiError {
    ApiError::conflict("name_taken", "a workspace with this name already exists")
}

// A workspace a user belongs to, with their role in it (no doc comment: it would
// become the schema's description in the OpenAPI document).
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct WorkspaceMembership {
    #[serde(skip)]
    pub org_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub role: WorkspaceRole,
}

/// The user's workspaces across their organizations, by name.
pub async fn memberships_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<Vec<WorkspaceMembership>> {
    sqlx::query_as(
        "SELECT w.org_id, w.id AS workspace_id, w.name, wm.role FROM workspace_members wm
         JOIN workspaces w ON w.id = wm.workspace_id WHERE wm.user_id = $1 ORDER BY w.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Workspaces the caller can see (RLS: all of them for owners/admins, their own for others).
pub async fn list(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<Workspace>> {
    sqlx::query_as(&format!("{SELECT} WHERE w.org_id = $1 ORDER BY w.name"))
        .bind(org_id)
        .fetch_all(db)
        .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Workspace>> {
    sqlx::query_as(&format!("{SELECT} WHERE w.org_id = $1 AND w.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn create(db: impl PgExecutor<'_>, org_id: Uuid, name: &str) -> ApiResult<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO workspaces (id, org_id, name) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(org_id)
        .bind(name)
        .execute(db)
        .await
        .on_constraint(NAME_KEY, name_taken)?;
    Ok(id)
}

pub async fn rename(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
    name: &str,
) -> ApiResult<bool> {
    let done = sqlx::query("UPDATE workspaces SET name = $3 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(name)
        .execute(db)
        .await
        .on_constraint(NAME_KEY, name_taken)?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: impl PgExecutor<'_>, org_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM workspaces WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct WorkspaceMember {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: WorkspaceRole,
}

pub async fn list_members(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    workspace_id: Uuid,
) -> sqlx::Result<Vec<WorkspaceMember>> {
    sqlx::query_as(
        "SELECT wm.user_id, u.email, u.name, wm.role FROM workspace_members wm JOIN users u ON u.id = wm.user_id
         WHERE wm.org_id = $1 AND wm.workspace_id = $2 ORDER BY u.name, u.email",
    )
    .bind(org_id)
    .bind(workspace_id)
    .fetch_all(db)
    .await
}

/// Adds or updates a workspace membership. The user must already belong to the
/// organization: the composite foreign key to org_members refuses anyone else.
pub async fn upsert_member(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    workspace_id: Uuid,
    user_id: Uuid,
    role: WorkspaceRole,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO workspace_members (org_id, workspace_id, user_id, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(org_id)
    .bind(workspace_id)
    .bind(user_id)
    .bind(role)
    .execute(db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            ApiError::validation("user_id", "is not a member of this organization")
        }
        _ => e.into(),
    })?;
    Ok(())
}

pub async fn remove_member(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    workspace_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(org_id)
    .bind(workspace_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
