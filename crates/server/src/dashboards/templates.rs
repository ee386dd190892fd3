//! Built-in dashboard templates, instantiated for one store in one call.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

/// The built-in templates' ids, for the OpenAPI document (requests name a template
/// by this string; an unknown one is a 422 naming `template`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateId {
    SaasRevenue,
    StoreOverview,
    CroOverview,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateInfo {
    #[schema(value_type = TemplateId)]
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Providers whose metrics it shows.
    pub providers: &'static [&'static str],
}

pub const TEMPLATES: &[TemplateInfo] = &[
    TemplateInfo {
        id: "saas_revenue",
        name: "SaaS Revenue",
        description: "MRR and its movements, revenue, subscriptions and churn from Stripe.",
        providers: &["stripe"],
    },
    TemplateInfo {
        id: "store_overview",
        name: "Store Overview",
        description: "Sales, orders, average order value, customers and products from Shopify.",
        providers: &["shopify"],
    },
    TemplateInfo {
        id: "cro_overview",
        name: "CRO Overview",
        description: "Conversion across sources: Shopify orders over GA4 sessions, the checkout funnel, traffic by channel and Clarity engagement; Intelligems, KnoCommerce, Judge.me and Gorgias as they arrive.",
        providers: &["shopify", "ga4", "clarity"],
    },
];

/// One widget of a template: type, title, size, query, display.
pub struct TemplateWidget {
    pub section: usize,
    pub kind: &'static str,
    pub title: &'static str,
    pub size: &'static str,
    pub query: Value,
    pub display: Value,
}

fn metric(metric: &str, range: &str, store: Uuid, extra: Value) -> Value {
    let mut q = json!({ "metric": metric, "range": range, "scope": { "store": store } });
    if let (Some(q), Some(extra)) = (q.as_object_mut(), extra.as_object()) {
        q.extend(extra.clone());
    }
    q
}

fn w(
    section: usize,
    kind: &'static str,
    title: &'static str,
    size: &'static str,
    query: Value,
) -> TemplateWidget {
    TemplateWidget {
        section,
        kind,
        title,
        size,
        query,
        display: json!({}),
    }
}

/// Sections (titles) and widgets of a template for `store`.
pub fn build(id: &str, store: Uuid) -> Option<(Vec<&'static str>, Vec<TemplateWidget>, u8)> {
    let none = json!({});
    Some(match id {
        "saas_revenue" => (
            vec!["Recurring revenue", "Trends"],
            vec![
                w(
                    0,
                    "kpi_card",
                    "MRR",
                    "small",
                    metric("stripe.mrr", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Net revenue",
                    "small",
                    metric("stripe.net_revenue", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Active subscriptions",
                    "small",
                    metric(
                        "stripe.active_subscriptions",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    0,
                    "kpi_card",
                    "ARPU",
                    "small",
                    metric("stripe.arpu", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Net revenue retention",
                    "small",
                    metric(
                        "computed.net_revenue_retention",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                // Over a quarter: a month of a small account may have no churn, and
                // without churn there is no lifetime to speak of.
                w(
                    0,
                    "kpi_card",
                    "LTV",
                    "small",
                    metric(
                        "computed.ltv",
                        "last_90_days",
                        store,
                        json!({ "granularity": "week" }),
                    ),
                ),
                w(
                    0,
                    "kpi_card",
                    "Customer churn rate",
                    "small",
                    metric(
                        "computed.customer_churn_rate",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    0,
                    "kpi_card",
                    "Churned subscriptions",
                    "small",
                    metric(
                        "stripe.churned_subscriptions",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    1,
                    "line_chart",
                    "MRR over the year",
                    "large",
                    metric(
                        "stripe.mrr",
                        "last_365_days",
                        store,
                        json!({ "granularity": "month" }),
                    ),
                ),
                TemplateWidget {
                    section: 1,
                    kind: "bar_chart",
                    title: "MRR movements by month",
                    size: "large",
                    query: metric(
                        "stripe.mrr_movements",
                        "last_365_days",
                        store,
                        json!({ "granularity": "month", "group_by": "movement" }),
                    ),
                    // New, expansion and reactivation above the axis; contraction and
                    // churn below it: each month's bars add up to its change in MRR.
                    display: json!({ "stacked": true }),
                },
                w(
                    1,
                    "bar_chart",
                    "Net revenue by week",
                    "medium",
                    metric(
                        "stripe.net_revenue",
                        "last_90_days",
                        store,
                        json!({ "granularity": "week" }),
                    ),
                ),
                w(
                    1,
                    "line_chart",
                    "New customers",
                    "medium",
                    metric(
                        "stripe.new_customers",
                        "last_90_days",
                        store,
                        json!({ "granularity": "week" }),
                    ),
                ),
                w(
                    1,
                    "table",
                    "MRR by plan",
                    "medium",
                    metric(
                        "stripe.mrr",
                        "last_30_days",
                        store,
                        json!({ "group_by": "plan" }),
                    ),
                ),
            ],
            2,
        ),
        "store_overview" => (
            vec!["Sales", "Breakdowns"],
            vec![
                w(
                    0,
                    "kpi_card",
                    "Net sales",
                    "small",
                    metric("shopify.net_sales", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Orders",
                    "small",
                    metric("shopify.orders", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Average order value",
                    "small",
                    metric("shopify.aov", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Returning customer rate",
                    "small",
                    metric(
                        "computed.returning_customer_rate",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    0,
                    "line_chart",
                    "Net sales by day",
                    "large",
                    metric(
                        "shopify.net_sales",
                        "last_90_days",
                        store,
                        json!({ "granularity": "day" }),
                    ),
                ),
                w(
                    1,
                    "bar_chart",
                    "Orders by channel",
                    "medium",
                    metric(
                        "shopify.orders",
                        "last_30_days",
                        store,
                        json!({ "group_by": "channel" }),
                    ),
                ),
                w(
                    1,
                    "pie_chart",
                    "Net sales by country",
                    "medium",
                    metric(
                        "shopify.net_sales",
                        "last_30_days",
                        store,
                        json!({ "group_by": "country" }),
                    ),
                ),
                w(
                    1,
                    "table",
                    "Top products",
                    "medium",
                    metric(
                        "shopify.gross_sales",
                        "last_30_days",
                        store,
                        json!({ "group_by": "product" }),
                    ),
                ),
                w(
                    1,
                    "kpi_card",
                    "Refunds",
                    "small",
                    metric("shopify.refunds", "last_30_days", store, none.clone()),
                ),
                w(
                    1,
                    "kpi_card",
                    "Abandoned checkouts",
                    "small",
                    metric(
                        "shopify.abandoned_checkouts",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
            ],
            3,
        ),
        "cro_overview" => (
            vec!["Conversion", "Behaviour, experiments and voice of customer"],
            vec![
                w(
                    0,
                    "kpi_card",
                    "Conversion rate",
                    "small",
                    metric(
                        "computed.conversion_rate",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    0,
                    "kpi_card",
                    "Orders",
                    "small",
                    metric("shopify.orders", "last_30_days", store, none.clone()),
                ),
                w(
                    0,
                    "kpi_card",
                    "Revenue per session",
                    "small",
                    metric(
                        "computed.revenue_per_session",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    0,
                    "funnel",
                    "Checkout funnel",
                    "large",
                    json!({ "steps": [
                        metric("ga4.sessions", "last_30_days", store, none.clone()),
                        metric("ga4.add_to_carts", "last_30_days", store, none.clone()),
                        metric("ga4.checkouts", "last_30_days", store, none.clone()),
                        metric("shopify.orders", "last_30_days", store, none.clone()),
                    ]}),
                ),
                w(
                    0,
                    "bar_chart",
                    "Sessions by channel",
                    "medium",
                    metric(
                        "ga4.sessions",
                        "last_30_days",
                        store,
                        json!({ "group_by": "channel" }),
                    ),
                ),
                w(
                    0,
                    "kpi_card",
                    "Abandoned checkouts",
                    "small",
                    metric(
                        "shopify.abandoned_checkouts",
                        "last_30_days",
                        store,
                        none.clone(),
                    ),
                ),
                w(
                    1,
                    "kpi_card",
                    "Scroll depth (Clarity)",
                    "small",
                    metric("clarity.scroll_depth", "last_30_days", store, none.clone()),
                ),
                w(
                    1,
                    "kpi_card",
                    "Rage clicks (Clarity)",
                    "small",
                    metric("clarity.rage_clicks", "last_30_days", store, none.clone()),
                ),
                w(
                    1,
                    "bar_chart",
                    "Dead clicks by device (Clarity)",
                    "medium",
                    metric(
                        "clarity.dead_clicks",
                        "last_30_days",
                        store,
                        json!({ "group_by": "device" }),
                    ),
                ),
                w(
                    1,
                    "heatmap_summary",
                    "Where visitors struggle (Clarity)",
                    "large",
                    json!({ "scope": { "store": store }, "range": "last_30_days" }),
                ),
                w(
                    1,
                    "experiment_card",
                    "Running experiments (Intelligems)",
                    "large",
                    json!({ "scope": { "store": store } }),
                ),
                w(
                    1,
                    "survey_summary",
                    "How did you hear about us? (KnoCommerce)",
                    "medium",
                    metric(
                        "knocommerce.attribution",
                        "last_30_days",
                        store,
                        json!({ "group_by": "answer", "granularity": "week" }),
                    ),
                ),
                w(
                    1,
                    "review_feed",
                    "Latest reviews (Judge.me)",
                    "medium",
                    json!({ "scope": { "store": store }, "limit": 6 }),
                ),
                w(
                    1,
                    "sentiment_gauge",
                    "Customer sentiment (Judge.me and Gorgias)",
                    "small",
                    json!({ "scope": { "store": store }, "range": "last_30_days" }),
                ),
            ],
            2,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod template_id_tests {
    use super::*;

    #[test]
    fn the_documented_ids_are_exactly_the_listed_templates() {
        let listed: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
        let documented: Vec<String> = [
            TemplateId::SaasRevenue,
            TemplateId::StoreOverview,
            TemplateId::CroOverview,
        ]
        .iter()
        .map(|id| {
            serde_json::to_value(id)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
        assert_eq!(listed, documented);
        for id in listed {
            assert!(build(id, Uuid::nil()).is_some(), "{id} builds");
        }
    }
}
