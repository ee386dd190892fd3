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
    /// How often an integration is synced unless it says otherwise (DESIGN §6).
    pub default_cadence_minutes: u32,
    /// The account the user names before connecting (Shopify's shop domain), when
    /// the provider needs one; [`Provider::parse_account`](crate::Provider::parse_account)
    /// validates it.
    pub account: Option<KeyField>,
    /// Whether the account may instead be picked from a list after consent
    /// ([`Provider::list_accounts`](crate::Provider::list_accounts)): GA4's properties.
    pub account_picker: bool,
    /// Settings of one integration the user may change after connecting (PostHog's
    /// picked events); [`Provider::parse_options`](crate::Provider::parse_options)
    /// validates them. Empty for providers that have none.
    pub options: Vec<OptionField>,
    /// A daily budget of API calls shared by every integration reading the same
    /// account (Clarity's 10 export calls per project and UTC day), which the
    /// server counts across them ([`SyncSink::spend_call`](crate::SyncSink::spend_call))
    /// and shows before a refresh. `None` for providers without one.
    pub call_budget: Option<CallBudget>,
    /// Prefix of the provider's settings: `PULSEBOARD_{env_prefix}_…`.
    #[serde(skip)]
    pub env_prefix: &'static str,
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
        /// Whether the user must name their shop before the flow can start. Kept in
        /// the API for existing clients; [`ProviderInfo::account`] is the general form.
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

/// One per-integration option, so the UI can render its form without knowing the
/// provider. Its value is a string ([`OptionKind::Text`]) or a list of strings
/// ([`OptionKind::List`]); absent means unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionField {
    /// Key of the option in the integration's `options` object.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: OptionKind,
    pub placeholder: &'static str,
    pub help: &'static str,
    /// A JavaScript-compatible regular expression each value must match, for
    /// client-side validation; the provider validates again on the server.
    pub pattern: Option<&'static str>,
}

/// A provider's daily call budget per account: `limit` calls of the `unit` kind per
/// UTC day (the period resets at midnight UTC). Testing a key spends one call too
/// (the server counts it when it records the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallBudget {
    pub limit: u32,
    /// What a call is, for messages ("export calls").
    pub unit: &'static str,
}

/// The shape of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OptionKind {
    /// One string.
    Text,
    /// Up to `max_items` distinct strings.
    List { max_items: u32 },
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
    /// A rate in hundredths of a percent (2.35 % is 235), for rates too small for
    /// whole percents (conversion rates).
    BasisPoints,
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

/// A metric's written definition, in plain words: what the widget's info popover and
/// `GET …/metrics/catalog` show, so a number can be held against the source's own
/// report. It is written in the provider's `catalog.rs`, beside its `derive.rs`, and
/// must say what the derivation does (a test requires every metric to have one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Definition {
    /// How the value is computed ("Σ of successful charges' `amount` − …").
    pub formula: &'static str,
    /// The provider's objects and fields it is read from.
    pub source_fields: &'static str,
    /// When a value counts: the instant it is booked on, as a store-local day.
    pub booked: &'static str,
    /// What is left out, and why (test data, cancelled orders, taxes…).
    pub excludes: &'static str,
}

impl Definition {
    /// Whether every part is written.
    pub fn is_complete(&self) -> bool {
        [self.formula, self.source_fields, self.booked, self.excludes]
            .iter()
            .all(|part| !part.trim().is_empty())
    }
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
    /// Whether a rise is bad news (refunds, churn): the UI colours its deltas the
    /// other way round.
    pub rise_is_bad: bool,
    /// The written definition (formula, source fields, booking rule, exclusions).
    pub definition: Definition,
}

/// The two metrics a ratio metric divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: &'static str,
    pub denominator: &'static str,
}

impl MetricSpec {
    #[allow(clippy::too_many_arguments)]
    pub(crate) const fn new(
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
            rise_is_bad: false,
            definition: Definition {
                formula: "",
                source_fields: "",
                booked: "",
                excludes: "",
            },
        }
    }

    /// The metric's written definition: formula, source fields, when a value is
    /// booked, and what is excluded (see [`Definition`]).
    pub(crate) const fn defined(
        mut self,
        formula: &'static str,
        source_fields: &'static str,
        booked: &'static str,
        excludes: &'static str,
    ) -> Self {
        self.definition = Definition {
            formula,
            source_fields,
            booked,
            excludes,
        };
        self
    }

    /// Marks a metric whose rise is bad news.
    pub(crate) const fn bad_when_rising(mut self) -> Self {
        self.rise_is_bad = true;
        self
    }

    pub(crate) const fn ratio(
        mut self,
        numerator: &'static str,
        denominator: &'static str,
    ) -> Self {
        self.ratio_of = Some(Ratio {
            numerator,
            denominator,
        });
        self
    }
}

/// The dimensions of the movement metrics: per customer and day, but the customer
/// itself is not a breakdown.
const MOVEMENT_DIMS: &[&str] = &["currency"];

/// The metrics the server derives from a provider's `mrr` events that name their
/// customer (`MetricEvent::of_customer`; see `sync::movements`), the same for every
/// subscription provider. `customer_mrr` names the source fields of a customer's MRR.
#[rustfmt::skip]
pub(crate) const fn mrr_movement_metrics(customer_mrr: &'static str) -> [MetricSpec; 10] {
    use self::{Aggregation::{Latest, Sum}, MetricKind::{Flow, Stock}, MetricUnit::{Count, CurrencyMinor}};
    use crate::sync::movements as m;
    [
        MetricSpec::new(m::ALL, "MRR movements", "The day's change in MRR by kind (the `movement` dimension): new, expansion, contraction, churned and reactivation; they add up to the change in MRR.", CurrencyMinor, Sum, Flow, "mrr movements", &["currency", "movement"])
            .defined(
                "For each customer and store-local day on which the customer's MRR (see MRR) changed: the change, as one of five kinds: `new` (from nothing, the first time), `reactivation` (from nothing, again), `expansion` (up), `contraction` (down, not to nothing), `churned` (to nothing; the MRR lost). Contraction and churn are negative, so the kinds add up to the change in MRR, in the store's currency.",
                customer_mrr,
                "On the store-local day the customer's MRR changed, at the first change of that day.",
                "Changes that cancel out within one day (the customer ends the day where they began it).",
            ),
        MetricSpec::new(m::NEW, "New MRR", "MRR from customers paying for the first time.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which the customer's MRR (see MRR) went from nothing to more than nothing for the first time: that MRR, in the store's currency.",
                customer_mrr,
                "On the store-local day the customer's MRR changed (a trial converting counts on the day its first paid period starts).",
                "Customers who paid before and came back (reactivation). The movements of a day add up to that day's change in MRR.",
            ),
        MetricSpec::new(m::EXPANSION, "Expansion MRR", "MRR added by paying customers (upgrades, more seats, a coupon ending).", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which a paying customer's MRR rose: the rise, in the store's currency.",
                customer_mrr,
                "On the store-local day the higher amount starts to be billed.",
                "New and reactivated customers (their first MRR is new or reactivation MRR).",
            ),
        MetricSpec::new(m::CONTRACTION, "Contraction MRR", "MRR lost by customers who keep paying less (downgrades, fewer seats, a coupon); negative.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which a paying customer's MRR fell but stayed above nothing: the fall, as a negative amount in the store's currency.",
                customer_mrr,
                "On the store-local day the lower amount starts to be billed.",
                "Customers whose MRR fell to nothing (churned MRR).",
            ),
        MetricSpec::new(m::CHURNED, "Churned MRR", "MRR of customers who stopped paying; negative.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which the customer's MRR fell to nothing: the MRR they had, as a negative amount in the store's currency.",
                customer_mrr,
                "On the store-local day the last paid period ended, or the day dunning ended the subscription; not the day cancellation was requested.",
                "Trials that end without paying (they never had MRR).",
            ),
        MetricSpec::new(m::REACTIVATION, "Reactivation MRR", "MRR from customers who had churned and pay again.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which the customer's MRR went from nothing to more than nothing, when they had paid before: that MRR, in the store's currency.",
                customer_mrr,
                "On the store-local day the customer's MRR came back.",
                "Customers paying for the first time (new MRR).",
            ),
        MetricSpec::new(m::PAYING_CUSTOMERS, "Paying customers", "Customers with MRR at the end of the period.", Count, Latest, Stock, "customers", MOVEMENT_DIMS)
            .defined(
                "Number of customers whose MRR (the sum of their subscriptions', see MRR) is more than nothing at the end of the day.",
                customer_mrr,
                "From the day a customer's MRR becomes more than nothing until the day it falls to nothing; the value shown is the one at the end of the period.",
                "Trialing customers and customers with only one-off payments.",
            ),
        MetricSpec::new(m::CHURNED_CUSTOMERS, "Churned customers", "Customers whose MRR fell to nothing.", Count, Sum, Flow, "customers", MOVEMENT_DIMS).bad_when_rising()
            .defined(
                "Number of times a customer's MRR fell from more than nothing to nothing.",
                customer_mrr,
                "On the store-local day the customer's MRR fell to nothing.",
                "Trials that end without paying, and customers who still pay for another subscription.",
            ),
        MetricSpec::new(m::LOST, "Lost MRR", "MRR lost by customers who were paying: contraction and churn, as a positive amount.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS).bad_when_rising()
            .defined(
                "For each customer and store-local day on which a paying customer's MRR fell: the fall (to nothing for churn), as a positive amount in the store's currency. Contraction MRR plus churned MRR, with the sign turned.",
                customer_mrr,
                "On the store-local day the customer's MRR fell.",
                "New and reactivated customers, and rises (expansion).",
            ),
        MetricSpec::new(m::RETAINED_CHANGE, "Retained MRR change", "The net change in MRR of customers who were already paying: expansion, contraction and churn.", CurrencyMinor, Sum, Flow, "mrr movements", MOVEMENT_DIMS)
            .defined(
                "For each customer and store-local day on which a customer who was paying the day before saw their MRR change: the change (up for expansion, down for contraction and churn), in the store's currency.",
                customer_mrr,
                "On the store-local day the customer's MRR changed.",
                "New customers and reactivations (customers not paying the day before).",
            ),
    ]
}

/// Two const lists as one array: a provider's own metrics followed by shared ones (the
/// MRR movements), or families of computed metrics. `N` is the two lengths added.
pub const fn joined<T: Copy, const N: usize>(own: &[T], shared: &[T]) -> [T; N] {
    assert!(own.len() + shared.len() == N && N > 0);
    let mut out = [if own.is_empty() { shared[0] } else { own[0] }; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < own.len() {
            own[i]
        } else {
            shared[i - own.len()]
        };
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::{shopify::SHOPIFY_METRICS, stripe::STRIPE_METRICS};

    #[test]
    fn metric_ids_are_unique_per_provider() {
        for catalog in [STRIPE_METRICS, SHOPIFY_METRICS] {
            let ids: HashSet<_> = catalog.iter().map(|m| m.id).collect();
            assert_eq!(ids.len(), catalog.len());
        }
        // Metrics whose rise is bad news are drawn red when they go up.
        let bad: HashSet<_> = STRIPE_METRICS
            .iter()
            .chain(SHOPIFY_METRICS)
            .filter(|m| m.rise_is_bad)
            .map(|m| m.id)
            .collect();
        for id in [
            "refunds",
            "failed_payments",
            "churned_subscriptions",
            "stripe_fees",
            "abandoned_checkouts",
        ] {
            assert!(bad.contains(id), "{id} rises as bad news");
        }
        for id in [
            "gross_revenue",
            "net_volume",
            "mrr",
            "orders",
            "gross_sales",
        ] {
            assert!(!bad.contains(id), "{id} rises as good news");
        }
    }

    #[test]
    fn serialises_with_snake_case_units() {
        let json = serde_json::to_value(STRIPE_METRICS[0]).unwrap();
        assert_eq!(json["unit"], "currency_minor");
        assert_eq!(json["aggregation"], "sum");
        assert_eq!(json["kind"], "flow");
        assert_eq!(json["rise_is_bad"], false);
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
