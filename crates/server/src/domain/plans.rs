//! Plans and their caps (seed 000): how many stores and integrations an organization
//! may have, and how many metric events it may store per month. `None` is unlimited.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Plan {
    pub id: &'static str,
    pub name: &'static str,
    pub max_stores: Option<i64>,
    pub max_integrations: Option<i64>,
    pub max_events_per_month: Option<i64>,
}

pub const PLANS: &[Plan] = &[
    Plan {
        id: "free",
        name: "Free",
        max_stores: Some(2),
        max_integrations: Some(3),
        max_events_per_month: Some(1_000_000),
    },
    Plan {
        id: "pro",
        name: "Pro",
        max_stores: Some(10),
        max_integrations: Some(30),
        max_events_per_month: Some(20_000_000),
    },
    Plan {
        id: "agency",
        name: "Agency",
        max_stores: None,
        max_integrations: None,
        max_events_per_month: None,
    },
];

/// The plan with this id; an unknown id (a plan retired since) gets the free caps.
pub fn plan(id: &str) -> Plan {
    PLANS
        .iter()
        .find(|p| p.id == id)
        .copied()
        .unwrap_or(PLANS[0])
}

/// What a plan caps at creation time.
#[derive(Debug, Clone, Copy)]
pub enum Capped {
    Stores,
    Integrations,
}

/// Refuses to add one more store or integration beyond the organization's plan.
/// (Counted as the worker, which sees every row of the org whatever the caller's
/// workspace access.)
pub async fn ensure_room(
    db: &crate::db::Database,
    org_id: uuid::Uuid,
    what: Capped,
) -> crate::error::ApiResult<()> {
    let mut tx = db.worker_tx().await?;
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
        Some(cap) if count >= cap => Err(crate::error::ApiError::conflict(
            "plan_limit",
            format!(
                "the {} plan allows {cap} {noun}; upgrade the plan or remove one first",
                plan.name
            ),
        )),
        _ => Ok(()),
    }
}
