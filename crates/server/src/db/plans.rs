//! Plan caps checked against what an organization has.

use uuid::Uuid;

use super::{Bypass, Database};
use crate::{
    domain::plans::plan,
    error::{ApiError, ApiResult},
};

/// What a plan caps at creation time.
#[derive(Debug, Clone, Copy)]
pub enum Capped {
    Stores,
    Integrations,
}

/// Refuses to add one more store or integration beyond the organization's plan.
/// (Counted as the worker, which sees every row of the org whatever the caller's
/// workspace access.)
pub async fn ensure_room(db: &Database, org_id: Uuid, what: Capped) -> ApiResult<()> {
    let mut tx = db.bypass_tx(Bypass::PlanCaps).await?;
    let (plan_id, count): (String, i64) = sqlx::query_as(match what {
        Capped::Stores => {
            "SELECT o.plan, (SELECT count(*) FROM stores s WHERE s.org_id = o.id) FROM organizations o WHERE o.id = $1"
        }
        Capped::Integrations => {
            "SELECT o.plan, (SELECT count(*) FROM integrations i WHERE i.org_id = o.id AND i.status <> 'disconnected')
             FROM organizations o WHERE o.id = $1"
        }
    })
    .bind(org_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let plan = plan(&plan_id);
    let (cap, noun) = match what {
        Capped::Stores => (plan.max_stores, "stores"),
        Capped::Integrations => (plan.max_integrations, "connected integrations"),
    };
    match cap {
        Some(cap) if count >= cap => Err(ApiError::conflict(
            "plan_limit",
            format!(
                "the {} plan allows {cap} {noun}; upgrade the plan or remove one first",
                plan.name
            ),
        )),
        _ => Ok(()),
    }
}
