//! What a provider is and offers, as data the server can list and the UI can
//! render: how to authenticate and which metrics exist.

use serde::Serialize;

/// Static description of a provider, serialised for `GET /api/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// Stable identifier used in URLs and the database (`stripe`, `shopify`).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Grouping in the UI (`payments`, `commerce`, `analytics`, ...).
    pub category: &'static str,
    /// The primary way to connect.
    pub auth: AuthKind,
    /// A second way to connect with user-supplied keys, when the primary one is
    /// OAuth and the provider also accepts keys (Stripe restricted keys).
    pub api_key: Option<Vec<KeyField>>,
    /// Whether this server has the app credentials the OAuth flow needs; when
    /// false the UI should hide the "Connect" button (and offer keys if any).
    pub oauth_configured: bool,
    /// Metrics this provider can compute.
    pub metrics: &'static [MetricSpec],
}

/// How a provider authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum AuthKind {
    /// An OAuth 2 authorization-code flow.
    #[serde(rename = "oauth2")]
    OAuth2 {
        /// Scopes requested on the authorize URL.
        scopes: Vec<String>,
        /// Whether the provider supports PKCE (then pass a challenge).
        pkce: bool,
        /// Whether the user must name their shop before the flow can start.
        needs_shop_domain: bool,
    },
    /// Fields the user fills in (API keys, project ids, domains).
    #[serde(rename = "api_key")]
    ApiKey { fields: Vec<KeyField> },
}

/// One input of an API-key connection form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyField {
    /// Key of the field in the map passed to `Provider::test_api_key`.
    pub name: &'static str,
    pub label: &'static str,
    /// Secret fields are encrypted at rest and never shown again.
    pub secret: bool,
    pub placeholder: &'static str,
    pub help: &'static str,
    /// A JavaScript-compatible regular expression for client-side validation; the
    /// provider validates again on the server.
    pub pattern: Option<&'static str>,
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricUnit {
    /// Money in the currency's minor unit (cents), in the account's currency.
    CurrencyMinor,
    Count,
    /// A percentage, 0–100.
    Percent,
}

/// How values of a metric combine over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Sum,
    /// The last value of the period (stocks such as MRR).
    Latest,
    Avg,
}

/// Whether a metric measures a flow over time or a stock at a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Flow,
    Stock,
}

/// One metric of a provider's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MetricSpec {
    /// Stable id, unique within the provider (`gross_revenue`).
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub unit: MetricUnit,
    /// The default aggregation over a period.
    pub aggregation: Aggregation,
    pub kind: MetricKind,
    /// Grouping in the UI (`revenue`, `customers`, ...).
    pub category: &'static str,
    /// Dimensions the metric can be broken down by.
    pub dimensions: &'static [&'static str],
    /// A metric computed as `numerator / denominator` of two others of the same
    /// provider (AOV, ARPU) instead of from events of its own.
    pub ratio_of: Option<Ratio>,
}

/// The two metrics a ratio metric divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: &'static str,
    pub denominator: &'static str,
}

impl MetricSpec {
    #[allow(clippy::too_many_arguments)]
    const fn new(
        id: &'static str,
        name: &'static str,
        description: &'static str,
        unit: MetricUnit,
        aggregation: Aggregation,
        kind: MetricKind,
        category: &'static str,
        dimensions: &'static [&'static str],
    ) -> Self {
        Self {
            id,
            name,
            description,
            unit,
            aggregation,
            kind,
            category,
            dimensions,
            ratio_of: None,
        }
    }

    const fn ratio(mut self, numerator: &'static str, denominator: &'static str) -> Self {
        self.ratio_of = Some(Ratio {
            numerator,
            denominator,
        });
        self
    }
}

use Aggregation::{Avg, Latest, Sum};
use MetricKind::{Flow, Stock};
use MetricUnit::{Count, CurrencyMinor};

const STRIPE_PAYMENT_DIMS: &[&str] = &["currency", "country"];
const STRIPE_SUBSCRIPTION_DIMS: &[&str] = &["plan", "interval"];

/// Stripe's metrics.
#[rustfmt::skip]
pub const STRIPE_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_revenue", "Gross revenue", "Succeeded charges before refunds and fees.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("refunds", "Refunds", "Amount refunded.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("net_revenue", "Net revenue", "Gross revenue minus refunds.", CurrencyMinor, Sum, Flow, "revenue", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("successful_charges", "Successful charges", "Number of succeeded charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("failed_payments", "Failed payments", "Number of failed charges.", Count, Sum, Flow, "payments", STRIPE_PAYMENT_DIMS),
    MetricSpec::new("new_customers", "New customers", "Customers created.", Count, Sum, Flow, "customers", &["country"]),
    MetricSpec::new("active_subscriptions", "Active subscriptions", "Subscriptions active or trialing at the end of the period.", Count, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS),
    MetricSpec::new("mrr", "MRR", "Monthly recurring revenue of active subscriptions, normalised to a month.", CurrencyMinor, Latest, Stock, "subscriptions", STRIPE_SUBSCRIPTION_DIMS),
    MetricSpec::new("churned_subscriptions", "Churned subscriptions", "Subscriptions cancelled in the period.", Count, Sum, Flow, "subscriptions", STRIPE_SUBSCRIPTION_DIMS),
    MetricSpec::new("arpu", "ARPU", "MRR divided by active subscriptions (per paying customer when each has one).", CurrencyMinor, Latest, Stock, "subscriptions", &[]).ratio("mrr", "active_subscriptions"),
];

const SHOPIFY_SALES_DIMS: &[&str] = &["channel", "country", "product"];
const SHOPIFY_ORDER_DIMS: &[&str] = &["channel", "country"];

/// Shopify's metrics.
#[rustfmt::skip]
pub const SHOPIFY_METRICS: &[MetricSpec] = &[
    MetricSpec::new("gross_sales", "Gross sales", "Line-item prices times quantities, before discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS),
    MetricSpec::new("net_sales", "Net sales", "Gross sales minus discounts and returns.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_SALES_DIMS),
    MetricSpec::new("orders", "Orders", "Orders placed.", Count, Sum, Flow, "orders", SHOPIFY_ORDER_DIMS),
    MetricSpec::new("aov", "Average order value", "Net sales divided by orders.", CurrencyMinor, Avg, Flow, "orders", SHOPIFY_ORDER_DIMS).ratio("net_sales", "orders"),
    MetricSpec::new("units_sold", "Units sold", "Quantity of items sold.", Count, Sum, Flow, "orders", SHOPIFY_SALES_DIMS),
    MetricSpec::new("refunds", "Refunds", "Amount refunded, shipping and tax included.", CurrencyMinor, Sum, Flow, "sales", SHOPIFY_ORDER_DIMS),
    MetricSpec::new("new_customers", "New customers", "Customers who have ordered, counted when Shopify created them (at their first order or checkout).", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("returning_customers", "Returning customers", "Customers who have ordered more than once, counted when Shopify created them.", Count, Sum, Flow, "customers", &[]),
    MetricSpec::new("abandoned_checkouts", "Abandoned checkouts", "Checkouts started but not completed.", Count, Sum, Flow, "orders", &["country"]),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn metric_ids_are_unique_per_provider() {
        for catalog in [STRIPE_METRICS, SHOPIFY_METRICS] {
            let ids: HashSet<_> = catalog.iter().map(|m| m.id).collect();
            assert_eq!(ids.len(), catalog.len());
        }
        assert_eq!(STRIPE_METRICS.len(), 10);
        assert_eq!(SHOPIFY_METRICS.len(), 9);
    }

    #[test]
    fn serialises_with_snake_case_units() {
        let json = serde_json::to_value(STRIPE_METRICS[0]).unwrap();
        assert_eq!(json["unit"], "currency_minor");
        assert_eq!(json["aggregation"], "sum");
        assert_eq!(json["kind"], "flow");
        assert_eq!(
            json["dimensions"],
            serde_json::json!(["currency", "country"])
        );
        let auth = serde_json::to_value(AuthKind::OAuth2 {
            scopes: vec!["read_only".into()],
            pkce: false,
            needs_shop_domain: false,
        })
        .unwrap();
        assert_eq!(auth["type"], "oauth2");
    }
}
