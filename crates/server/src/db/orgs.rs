//! Organizations, their members and their audit log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{Currency, DisplayName, OrgRole, OrgSlug, TimeZone},
    error::{ApiError, ApiResult},
};

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Org {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub plan: String,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An organization together with the caller's role in it.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Membership {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub org: Org,
    pub role: OrgRole,
}

const ORG_COLUMNS: &str = "o.id, o.name, o.slug, o.plan, o.trial_ends_at, o.created_at";

/// The organization by id (background work, as the worker role).
pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Org>> {
    sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The organization with this slug if the caller belongs to it (RLS hides the rest).
pub async fn find_by_slug(
    db: impl PgExecutor<'_>,
    slug: &str,
) -> sqlx::Result<Option<(Org, OrgRole)>> {
    let row: Option<Membership> = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS}, org_role(o.id) AS role FROM organizations o WHERE o.slug = $1"
    ))
    .bind(slug)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|m| (m.org, m.role)))
}

/// The caller's organizations with their role in each.
pub async fn list_mine(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Membership>> {
    sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS}, m.role FROM organizations o
         JOIN org_members m ON m.org_id = o.id AND m.user_id = app_user_id()
         ORDER BY o.name"
    ))
    .fetch_all(db)
    .await
}

/// What a new organization starts with (seed 000's "org connects N integrations" is
/// an org with one default workspace and one default store).
pub struct NewOrg<'a> {
    pub name: &'a DisplayName,
    /// An explicit slug must be free; without one, a slug is derived from the name.
    pub slug: Option<&'a OrgSlug>,
    pub owner: Uuid,
    pub store_name: &'a DisplayName,
    pub currency: Currency,
    pub timezone: TimeZone,
}

/// Ids of what [`create_org`] made.
pub struct CreatedOrg {
    pub org_id: Uuid,
    pub slug: String,
    pub workspace_id: Uuid,
    pub store_id: Uuid,
}

/// Bootstraps an organization with its owner, default workspace and default store,
/// and records it in the new organization's audit log.
/// Runs as the worker role: the creator is not a member until this commits.
pub async fn create_org(conn: &mut PgConnection, new: NewOrg<'_>) -> ApiResult<CreatedOrg> {
    let org_id = Uuid::new_v4();
    let base = new
        .slug
        .cloned()
        .unwrap_or_else(|| OrgSlug::from_name(new.name.as_str()));
    let mut slug = None;
    for attempt in 0..50u32 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            base.with_suffix(attempt + 1)
        };
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO organizations (id, name, slug, created_by, trial_ends_at)
             VALUES ($1, $2, $3, $4, now() + interval '14 days')
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(org_id)
        .bind(new.name.as_str())
        .bind(candidate.as_str())
        .bind(new.owner)
        .fetch_optional(&mut *conn)
        .await?;
        if inserted.is_some() {
            slug = Some(candidate);
            break;
        }
        if new.slug.is_some() {
            return Err(ApiError::conflict(
                "slug_taken",
                format!("the slug `{}` is already taken", base.as_str()),
            ));
        }
    }
    let slug = slug.ok_or_else(|| {
        ApiError::conflict("slug_taken", "could not find a free slug; choose one")
    })?;

    sqlx::query("INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(org_id)
        .bind(new.owner)
        .execute(&mut *conn)
        .await?;
    let workspace_id = Uuid::new_v4();
    sqlx::query("INSERT INTO workspaces (id, org_id, name) VALUES ($1, $2, 'Default')")
        .bind(workspace_id)
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO workspace_members (org_id, workspace_id, user_id, role) VALUES ($1, $2, $3, 'admin')")
        .bind(org_id)
        .bind(workspace_id)
        .bind(new.owner)
        .execute(&mut *conn)
        .await?;
    let store_id = Uuid::new_v4();
    sqlx::query("INSERT INTO stores (id, org_id, workspace_id, name, currency, timezone) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(store_id)
        .bind(org_id)
        .bind(workspace_id)
        .bind(new.store_name.as_str())
        .bind(new.currency.code())
        .bind(new.timezone.name())
        .execute(&mut *conn)
        .await?;
    audit(
        &mut *conn,
        org_id,
        new.owner,
        "org.created",
        "organization",
        &org_id.to_string(),
        serde_json::json!({ "slug": slug.as_str() }),
    )
    .await?;
    Ok(CreatedOrg {
        org_id,
        slug: slug.as_str().to_string(),
        workspace_id,
        store_id,
    })
}

pub async fn rename(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    name: &DisplayName,
) -> sqlx::Result<Org> {
    sqlx::query_as(&format!(
        "UPDATE organizations o SET name = $2 WHERE o.id = $1 RETURNING {ORG_COLUMNS}"
    ))
    .bind(org_id)
    .bind(name.as_str())
    .fetch_one(db)
    .await
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: OrgRole,
    pub joined_at: DateTime<Utc>,
}

const MEMBER_SELECT: &str =
    "SELECT m.user_id, u.email, u.name, m.role, m.created_at AS joined_at FROM org_members m JOIN users u ON u.id = m.user_id";

pub async fn list_members(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as(&format!(
        "{MEMBER_SELECT} WHERE m.org_id = $1 ORDER BY u.name, u.email"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn find_member(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<Member>> {
    sqlx::query_as(&format!(
        "{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2"
    ))
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub async fn set_member_role(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    role: OrgRole,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn remove_member(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The emails of the organization's owners and admins, in order.
pub async fn admin_emails(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT u.email FROM org_members m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.role IN ('owner', 'admin') ORDER BY u.email",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// Whether someone with this email is already a member of the organization.
pub async fn has_member_with_email(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    email: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email = $2)",
    )
    .bind(org_id)
    .bind(email)
    .fetch_one(db)
    .await
}

/// The organization's plan id.
pub async fn plan(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT plan FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_one(db)
        .await
}

/// Adds a member (used when an invite is accepted; worker role).
pub async fn add_member(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_id: Uuid,
    role: OrgRole,
) -> sqlx::Result<bool> {
    let done = sqlx::query("INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn audit(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    actor: Uuid,
    action: &str,
    target_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (org_id, actor_user_id, action, target_type, target_id, details)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(actor)
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(details)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn list_audit(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "SELECT id, actor_user_id, action, target_type, target_id, details, created_at
         FROM audit_log WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Puts the organization with this slug on a plan (the operator's `pulseboard plan`
/// and the demo's seeding: self-hosted Pulseboard has no billing). Returns whether
/// the organization exists. Runs as the worker role: no member is acting.
pub async fn set_plan(db: &super::Database, slug: &str, plan: &str) -> sqlx::Result<bool> {
    let mut tx = db.worker_tx().await?;
    let updated = sqlx::query("UPDATE organizations SET plan = $2 WHERE slug = $1")
        .bind(slug)
        .bind(plan)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(updated == 1)
}

/// Of `user_ids`, those who are members of the organization (as the worker: the
/// live hub checks every stream of an organization in one read).
pub async fn members_among(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    user_ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT user_id FROM org_members WHERE org_id = $1 AND user_id = ANY($2)")
        .bind(org_id)
        .bind(user_ids)
        .fetch_all(db)
        .await
}

/// Whether the transaction's user is a member of the organization (row-level
/// security's own test).
pub async fn is_member(db: impl PgExecutor<'_>, org_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT is_org_member($1)")
        .bind(org_id)
        .fetch_one(db)
        .await
}
