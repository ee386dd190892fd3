//! Metrics computed from two catalog metrics, possibly of different sources:
//! conversion rate is Shopify's orders over GA4's sessions. They are named
//! `computed.<id>` and answered like a provider's own ratios (AOV, ARPU): each part
//! aggregated the natural way over the bucket, then divided, bucket by bucket, in the
//! first store's days. A part whose source is not connected makes the widget say
//! which source to connect.

use pulseboard_connectors::{
    joined, Aggregation, Definition, MetricKind, MetricSpec, MetricUnit, Ratio, Registry,
};

/// The `source` of computed metrics in metric ids (`computed.conversion_rate`).
pub const SOURCE: &str = "computed";

/// One computed metric: `scale × numerator ÷ denominator`.
#[derive(Debug, Clone, Copy)]
pub struct ComputedMetric {
    /// Its description in the catalog; `ratio_of` names the parts' metrics.
    pub spec: MetricSpec,
    pub numerator: Part,
    pub denominator: Part,
    /// Multiplies the numerator first, so a rate keeps two decimals in basis points.
    pub scale: i64,
    /// Which part, if either, is a stock read at the start of each bucket (churn
    /// rates' customers or MRR, LTV's MRR) instead of aggregated over it.
    pub at_start: AtStart,
    /// The denominator, a flow over the period, is made a monthly rate: the numerator
    /// is multiplied by the days of each bucket and the denominator by 30 (LTV).
    pub per_month: bool,
    /// Added after dividing (net revenue retention is 100 % plus a rate).
    pub offset: i64,
}

/// The part of a computed metric read as a stock's level at the start of each bucket
/// (the end of the day before it) rather than aggregated over the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtStart {
    Neither,
    Numerator,
    Denominator,
}

/// Days in a month, for metrics made monthly (`per_month`).
pub const DAYS_PER_MONTH: i64 = 30;

/// A catalog metric by source and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub source: &'static str,
    pub metric: &'static str,
}

const fn part(source: &'static str, metric: &'static str) -> Part {
    Part { source, metric }
}

const fn rate(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    unit: MetricUnit,
    numerator: Part,
    denominator: Part,
    excludes: &'static str,
) -> ComputedMetric {
    ComputedMetric {
        spec: MetricSpec {
            id,
            name,
            description,
            unit,
            aggregation: Aggregation::Avg,
            kind: MetricKind::Flow,
            category: "conversion",
            dimensions: &[],
            ratio_of: Some(Ratio {
                numerator: numerator.metric,
                denominator: denominator.metric,
            }),
            rise_is_bad: false,
            // The formula and the fields are the description's and the parts'; the
            // booking rule is the parts' own, day by day.
            definition: Definition {
                formula: description,
                source_fields: "The two metrics it divides, each as its own catalog entry defines it.",
                booked: "Each part on its own booking rule; the ratio of the two sums over the whole period (not an average of daily ratios).",
                excludes,
            },
        },
        numerator,
        denominator,
        scale: match unit {
            MetricUnit::BasisPoints => 10_000,
            MetricUnit::Percent => 100,
            _ => 1,
        },
        at_start: AtStart::Neither,
        per_month: false,
        offset: 0,
    }
}

/// A subscription provider's rate over the period of a flow (`numerator`, its sign turned when
/// `negated`) over a stock's level at the period's start, in basis points, plus
/// `offset` (net revenue retention).
const fn churn(
    (source, id, name): (&'static str, &'static str, &'static str),
    description: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    (negated, offset): (bool, i64),
    excludes: &'static str,
) -> ComputedMetric {
    let mut metric = rate(
        id,
        name,
        description,
        MetricUnit::BasisPoints,
        part(source, numerator),
        part(source, denominator),
        excludes,
    );
    metric.spec.category = "subscriptions";
    metric.spec.definition.booked = "The numerator on each day of the period as its own metric books it; the denominator is the level at the end of the day before the period (before each bucket, for a chart).";
    metric.spec.rise_is_bad = negated || offset == 0;
    metric.at_start = AtStart::Denominator;
    metric.offset = offset;
    if negated {
        metric.scale = -10_000;
    }
    metric
}

/// Customer lifetime value as Baremetrics and ChartMogul state it: average revenue per
/// paying customer over the monthly customer churn rate, both at the period's start.
/// As ARPU = MRR ÷ customers and the churn rate = churned ÷ customers × 30 ÷ days,
/// the customers cancel: MRR at the start × days ÷ (30 × churned customers).
const fn lifetime_value(
    (source, id, name): (&'static str, &'static str, &'static str),
    description: &'static str,
) -> ComputedMetric {
    let mut metric = rate(
        id,
        name,
        description,
        MetricUnit::CurrencyMinor,
        part(source, "mrr"),
        part(source, "churned_customers"),
        "No value for a period without a churned customer (an unbounded lifetime). Trials that end unpaid are not churn. Not discounted for the time value of money or gross margin; MRR is as the provider's MRR metric defines it.",
    );
    metric.spec.category = "subscriptions";
    metric.spec.definition.booked = "MRR is its level at the end of the day before the period (before each bucket, for a chart); churned customers are counted on the day each churn happens; days are the period's (or bucket's) store-local days, a day in progress counting whole.";
    metric.at_start = AtStart::Numerator;
    metric.per_month = true;
    metric
}

/// The churn rates, net revenue retention, trial-to-paid rate and LTV of one
/// subscription provider, from the trials and MRR movements it derives (see `catalog::mrr_movement_metrics`). Stripe's ids
/// are plain (`customer_churn_rate`); another provider's start with its id
/// (`paddle_customer_churn_rate`) and its name ends with the provider's.
macro_rules! subscription_rates {
    ($source:literal, $provider:literal, $id:literal, $name:literal) => {
        [
            churn(
                ($source, concat!($id, "customer_churn_rate"), concat!("Customer churn rate", $name)),
                concat!($provider, " churned customers over the period divided by paying customers at its start: the share of paying customers whose MRR fell to nothing."),
                "churned_customers",
                "paying_customers",
                (false, 0),
                "Trials that end unpaid (never paying). A customer who churns and comes back within the period counts as churned once per churn, and customers who start paying during the period add to neither part.",
            ),
            churn(
                ($source, concat!($id, "revenue_churn_rate"), concat!("Gross MRR churn rate", $name)),
                concat!($provider, " lost MRR (contraction and churn) over the period divided by MRR at its start."),
                "lost_mrr",
                "mrr",
                (false, 0),
                "Expansion and reactivation, which the net rate counts; MRR of customers who started paying during the period.",
            ),
            churn(
                ($source, concat!($id, "net_revenue_churn_rate"), concat!("Net MRR churn rate", $name)),
                concat!($provider, " MRR lost by customers paying before (contraction and churn) less what they added (expansion), over the period, divided by MRR at its start; negative when expansion outweighs losses."),
                "retained_mrr_change",
                "mrr",
                (true, 0),
                "New customers and reactivations (customers not paying the day before).",
            ),
            churn(
                ($source, concat!($id, "net_revenue_retention"), concat!("Net revenue retention", $name)),
                concat!("100 % plus the change in ", $provider, " MRR of customers already paying (expansion, contraction, churn) over the period, divided by MRR at its start: above 100 % when existing customers grow."),
                "retained_mrr_change",
                "mrr",
                (false, 10_000),
                "New customers and reactivations (customers not paying the day before), as ChartMogul and Baremetrics leave them out.",
            ),
            {
                let mut metric = rate(
                    concat!($id, "trial_to_paid_rate"),
                    concat!("Trial-to-paid rate", $name),
                    concat!($provider, " trial conversions divided by trials started: the share of free trials that became paying subscriptions."),
                    MetricUnit::BasisPoints,
                    part($source, "trial_conversions"),
                    part($source, "trials_started"),
                    "Conversions are counted on the day a trial ends and trials on the day one starts, so over a short period the two are not the same trials; trials still running count as started, not converted.",
                );
                metric.spec.category = "subscriptions";
                metric
            },
            lifetime_value(
                ($source, concat!($id, "ltv"), concat!("Customer lifetime value (LTV)", $name)),
                concat!("Average MRR per paying ", $provider, " customer divided by the monthly customer churn rate, both taken at the period's start: ARPU ÷ (churned customers over the period ÷ paying customers at its start × 30 ÷ days in the period), which is MRR at the start × days ÷ (30 × churned customers). The revenue a customer brings before churning if today's ARPU and churn held."),
            ),
        ]
    };
}

const STRIPE_RATES: [ComputedMetric; 6] = subscription_rates!("stripe", "Stripe", "", "");
const LEMONSQUEEZY_RATES: [ComputedMetric; 6] = subscription_rates!(
    "lemonsqueezy",
    "LemonSqueezy",
    "lemonsqueezy_",
    " (LemonSqueezy)"
);
const PADDLE_RATES: [ComputedMetric; 6] =
    subscription_rates!("paddle", "Paddle", "paddle_", " (Paddle)");

/// Every computed metric: the cross-source ones, then each subscription provider's
/// rates.
pub const COMPUTED: &[ComputedMetric] = &ALL;

const ALL: [ComputedMetric; CROSS_SOURCE.len() + 18] = joined(
    CROSS_SOURCE,
    &joined::<_, 18>(
        &STRIPE_RATES,
        &joined::<_, 12>(&LEMONSQUEEZY_RATES, &PADDLE_RATES),
    ),
);

/// The computed metrics that are not a subscription provider's rates.
const CROSS_SOURCE: &[ComputedMetric] = &[
    rate(
        "conversion_rate",
        "Conversion rate",
        "Shopify orders divided by GA4 sessions, per store-local day: the share of visits that ended in an order.",
        MetricUnit::BasisPoints,
        part("shopify", "orders"),
        part("ga4", "sessions"),
        "Days without GA4 sessions add nothing to either part; orders Shopify counts nothing for (test, cancelled) are left out as in Shopify orders.",
    ),
    rate(
        "revenue_per_session",
        "Revenue per session",
        "Shopify net sales divided by GA4 sessions.",
        MetricUnit::CurrencyMinor,
        part("shopify", "net_sales"),
        part("ga4", "sessions"),
        "Days without GA4 sessions add nothing to either part; refunds lower net sales on the day they happen.",
    ),
    rate(
        "returning_customer_rate",
        "Returning customer rate",
        "Shopify orders from returning customers divided by Shopify orders: the share of orders placed by a customer who had ordered before.",
        MetricUnit::BasisPoints,
        part("shopify", "returning_customer_orders"),
        part("shopify", "orders"),
        "Guest orders count as orders but never as returning; test and cancelled orders are in neither part, as in Shopify orders.",
    ),
    rate(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "Shopify customers with two or more orders divided by customers with at least one, both by the day Shopify created the customer: of the customers acquired in the period, the share who have ordered again since.",
        MetricUnit::BasisPoints,
        part("shopify", "returning_customers"),
        part("shopify", "new_customers"),
        "Guests (no customer record). Shopify's order count includes test and cancelled orders, so a cancelled second order still makes a repeat purchase.",
    ),
    rate(
        "add_to_cart_rate",
        "Add-to-cart rate",
        "GA4 add-to-cart events divided by GA4 sessions.",
        MetricUnit::BasisPoints,
        part("ga4", "add_to_carts"),
        part("ga4", "sessions"),
        "Days without GA4 sessions add nothing to either part.",
    ),
    rate(
        "checkout_completion_rate",
        "Checkout completion rate",
        "Shopify orders divided by GA4 checkouts started: how many started checkouts were paid.",
        MetricUnit::BasisPoints,
        part("shopify", "orders"),
        part("ga4", "checkouts"),
        "Orders placed without a checkout GA4 tracked (point of sale, draft orders) count in the numerator all the same.",
    ),
    rate(
        "signup_to_paid_rate",
        "Signup-to-paid rate",
        "New Stripe customers divided by PostHog `signed_up` events: the share of signups that became paying customers.",
        MetricUnit::BasisPoints,
        part("stripe", "new_customers"),
        part("posthog", "signed_up"),
        "Customers created without a payment still count as new Stripe customers; signups are only PostHog's `signed_up` events.",
    ),
    rate(
        "response_rate",
        "Survey response rate",
        "KnoCommerce surveyed orders divided by Shopify orders, per store-local day: the share of orders whose customer answered the post-purchase survey.",
        MetricUnit::BasisPoints,
        part("knocommerce", "surveyed_orders"),
        part("shopify", "orders"),
        "Orders Shopify counts nothing for (test, cancelled) are left out of the denominator.",
    ),
];

/// The computed metric with this id, when this build offers both of its parts.
pub fn find(providers: &Registry, id: &str) -> Option<&'static ComputedMetric> {
    COMPUTED
        .iter()
        .find(|c| c.spec.id == id)
        .filter(|c| c.offered(providers))
}

impl ComputedMetric {
    /// Whether this build has the providers and metrics of both parts.
    pub fn offered(&self, providers: &Registry) -> bool {
        [self.numerator, self.denominator].iter().all(|p| {
            providers
                .get(p.source)
                .is_some_and(|provider| provider.info().metrics.iter().any(|m| m.id == p.metric))
        })
    }

    /// The sources whose data it divides.
    pub fn sources(&self) -> [&'static str; 2] {
        [self.numerator.source, self.denominator.source]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_keep_two_decimals_and_ids_are_unique() {
        let ids: std::collections::BTreeSet<_> = COMPUTED.iter().map(|c| c.spec.id).collect();
        assert_eq!(ids.len(), COMPUTED.len());
        let conversion = COMPUTED
            .iter()
            .find(|c| c.spec.id == "conversion_rate")
            .unwrap();
        assert_eq!(conversion.scale, 10_000);
        assert_eq!(conversion.sources(), ["shopify", "ga4"]);
    }

    #[test]
    fn every_computed_metric_has_a_written_definition() {
        for computed in COMPUTED {
            let definition = &computed.spec.definition;
            assert!(
                definition.is_complete(),
                "{} lacks part of its definition: {definition:?}",
                computed.spec.id
            );
        }
    }

    #[test]
    fn a_metric_is_offered_only_when_both_parts_exist() {
        let registry = Registry::from_config(&Default::default()).unwrap();
        let conversion = COMPUTED
            .iter()
            .find(|c| c.spec.id == "conversion_rate")
            .unwrap();
        let has_ga4 = registry.get("ga4").is_some();
        assert_eq!(conversion.offered(&registry), has_ga4);
        assert_eq!(find(&registry, "conversion_rate").is_some(), has_ga4);
        assert!(find(&registry, "no_such_rate").is_none());
    }
}
