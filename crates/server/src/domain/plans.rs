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
