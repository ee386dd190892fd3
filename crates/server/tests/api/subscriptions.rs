//! Subscription analytics against a year of the simulated Stripe account: MRR net of
//! coupons (percent and amount off; once, repeating and forever; one ending in the
//! middle of a quarter; metered usage and prorated seats, which are not recurring;
//! periods with collection paused, whose invoices are void),
//! paying subscriptions without trials, trials and their
//! conversions, ARR, and the MRR movements per customer. The expected numbers are
//! worked out from the simulator's ledger in `sync::expected`, never by the code that
//! derives them.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::LineKind;
use serde_json::json;

use uuid::Uuid;

use crate::{
    helpers::{spawn_app_with_simulator, TestApp, TestUser},
    metrics::query,
    sync::{
        assert_matches_ledger, day_of, expected, run_all, small_history, snapshots_in, stripe_store,
    },
};

const MOVEMENTS: [&str; 5] = [
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churned",
    "mrr_reactivation",
];

#[tokio::test]
async fn a_year_of_subscriptions_matches_the_ledger_and_movements_add_up_to_the_change_in_mrr() {
    let mut config = small_history(365);
    config.data.stripe_daily_signups = 2.0;
    let (app, sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let zone = "America/New_York";
    let tz: Tz = zone.parse().unwrap();
    let (store, _) = stripe_store(&app, &ann, zone).await;
    run_all(&app).await;
    let ledger = sim.stripe_ledger();

    // The year holds every case the definitions have to get right.
    let subs = &ledger.subscriptions;
    assert!(
        subs.iter()
            .any(|s| s.trial_end.is_some() && s.periods.len() > 1),
        "a trial that converted"
    );
    assert!(
        subs.iter()
            .any(|s| s.trial_end.is_some() && s.ended_at == s.trial_end),
        "a trial cancelled unpaid"
    );
    let mid_period_end = subs.iter().any(|s| {
        let Some(end) = s.discount.as_ref().and_then(|d| d.end) else {
            return false;
        };
        s.periods
            .iter()
            .any(|p| p.discount > 0 && p.start < end && end < p.end)
    });
    assert!(
        mid_period_end,
        "a coupon ending in the middle of a discounted period"
    );
    assert!(
        subs.iter()
            .any(|s| s.periods.windows(2).any(|w| w[0].price != w[1].price)),
        "a plan change"
    );
    let mut first_end: HashMap<&str, i64> = HashMap::new();
    let returned = subs.iter().any(|s| {
        let came_back = first_end
            .get(s.customer.as_str())
            .is_some_and(|end| *end <= s.created);
        if let Some(end) = s.ended_at {
            first_end.entry(s.customer.as_str()).or_insert(end);
        }
        came_back
    });
    assert!(returned, "a customer who came back");
    assert!(
        subs.iter().any(|s| s.periods.iter().any(|p| p.paused)),
        "a period with collection paused"
    );
    // Invoices with metered usage and with prorations of seats added mid-period,
    // which are revenue but not recurring revenue.
    for kind in [LineKind::Metered, LineKind::Proration] {
        assert!(
            ledger
                .invoices
                .iter()
                .any(|i| i.lines.iter().any(|l| l.kind == kind)),
            "{kind:?} lines"
        );
    }

    // Every Stripe metric, every day of the year, equals the ledger's (the DST
    // changes of New York included).
    let snapshots = snapshots_in(&app.db, store).await;
    assert_matches_ledger(&snapshots, &ledger, tz, zone);

    // The movements of each day add up to that day's change in MRR.
    let first = day_of(ledger.start, tz);
    let last = day_of(ledger.end, tz);
    let mut previous = 0;
    let mut moved_days = 0;
    for day in first.iter_days().take_while(|d| *d <= last) {
        let on = |metric: &str| {
            snapshots
                .get(metric)
                .and_then(|d| d.get(&day))
                .copied()
                .unwrap_or(0)
        };
        let movements: i64 = MOVEMENTS.iter().map(|m| on(m)).sum();
        let mrr = on("mrr");
        assert_eq!(
            movements,
            mrr - previous,
            "{day}: movements against the change in MRR"
        );
        moved_days += i64::from(movements != 0);
        previous = mrr;
    }
    assert!(moved_days > 200, "{moved_days} days with movements");
    for metric in MOVEMENTS {
        let total: i64 = snapshots[metric].values().map(|v| v.abs()).sum();
        assert!(total > 0, "the year has {metric}");
    }

    // Over the windows a widget offers, the query API sums the same days (movements
    // need the whole history: a customer's first MRR is new only the first time).
    let all_days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let want = expected(&ledger, tz, &all_days);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
    for (range, days) in [
        ("last_7_days", 7),
        ("last_30_days", 30),
        ("last_90_days", 90),
    ] {
        let span = last_days(tz, days);
        let sum = |metric: &str| -> i64 {
            want.get(metric)
                .map_or(0, |by_day: &BTreeMap<NaiveDate, i64>| {
                    span.iter().filter_map(|d| by_day.get(d)).sum()
                })
        };
        for metric in MOVEMENTS.iter().chain(&[
            "trials_started",
            "trial_conversions",
            "churned_customers",
            "lost_mrr",
            "retained_mrr_change",
        ]) {
            let r = query(&app, &ann, json!({ "metric": format!("stripe.{metric}"), "range": range, "scope": { "store": store } })).await;
            assert_eq!(
                r["total"].as_i64().unwrap(),
                sum(metric),
                "{metric} over {range}: {r}"
            );
        }
        // Stocks: the level at the end of the window.
        for metric in ["mrr", "arr", "active_subscriptions", "paying_customers"] {
            let r = query(&app, &ann, json!({ "metric": format!("stripe.{metric}"), "range": range, "scope": { "store": store } })).await;
            assert_eq!(
                r["total"].as_i64().unwrap(),
                want[metric][&yesterday],
                "{metric} over {range}: {r}"
            );
        }
        // The stacked chart's metric: each kind of movement is its own metric's sum.
        let r = query(&app, &ann, json!({ "metric": "stripe.mrr_movements", "range": range, "group_by": "movement", "scope": { "store": store } })).await;
        for group in r["groups"].as_array().unwrap() {
            let kind = group["key"].as_str().unwrap();
            assert_eq!(
                group["total"].as_i64().unwrap(),
                sum(&format!("mrr_{kind}")),
                "{kind} over {range}: {r}"
            );
        }
        assert_eq!(
            r["total"].as_i64().unwrap(),
            sum("mrr_movements"),
            "movements over {range}"
        );
        let rated = assert_subscription_rates(&app, &ann, store, "", &want, &span, range).await;
        assert!(days < 90 || rated, "a quarter with churn");
    }
}

/// Checks a subscription provider's churn rates, net revenue retention, LTV and
/// trial-to-paid rate over `range` (whose days are `span`) against `want`, the
/// ledger's daily values with the MRR movements: each worked out here from its
/// definition. `prefix` starts the ids
/// of a provider other than Stripe (`paddle_`). Says whether the span had churn (and
/// so an LTV to check).
pub async fn assert_subscription_rates(
    app: &TestApp,
    user: &TestUser,
    store: Uuid,
    prefix: &str,
    want: &BTreeMap<&'static str, BTreeMap<NaiveDate, i64>>,
    span: &[NaiveDate],
    range: &str,
) -> bool {
    let sum = |metric: &str| -> i64 {
        want.get(metric)
            .map_or(0, |by_day| span.iter().filter_map(|d| by_day.get(d)).sum())
    };
    // Rates: the period's flow over the level at the end of the day before it, in
    // basis points (half away from zero).
    let before_span = span[0].checked_sub_days(Days::new(1)).unwrap();
    let at_start = |metric: &str| {
        want.get(metric)
            .and_then(|d| d.get(&before_span))
            .copied()
            .unwrap_or(0)
    };
    let rate = |n: i64, d: i64| (d != 0).then(|| (2 * n.abs() * 10_000 + d) / (2 * d) * n.signum());
    let (customers, mrr) = (at_start("paying_customers"), at_start("mrr"));
    let retained = sum("mrr_expansion") + sum("mrr_contraction") + sum("mrr_churned");
    let churned = sum("churned_customers");
    // LTV: ARPU at the start over the monthly customer churn rate, the long way
    // (fractions kept exact): ARPU = mrr / customers; monthly churn = churned /
    // customers × 30 / days; LTV = ARPU / monthly churn, to the nearest minor unit.
    let ltv = (churned > 0 && customers > 0).then(|| {
        let (arpu_num, arpu_den) = (i128::from(mrr), i128::from(customers));
        let (churn_num, churn_den) = (
            i128::from(churned) * 30,
            i128::from(customers) * span.len() as i128,
        );
        let (n, d) = (arpu_num * churn_den, arpu_den * churn_num);
        ((2 * n + d) / (2 * d)) as i64
    });
    for (metric, value) in [
        ("customer_churn_rate", rate(churned, customers)),
        (
            "revenue_churn_rate",
            rate(-(sum("mrr_contraction") + sum("mrr_churned")), mrr),
        ),
        ("net_revenue_churn_rate", rate(-retained, mrr)),
        (
            "net_revenue_retention",
            rate(retained, mrr).map(|r| 10_000 + r),
        ),
        ("ltv", ltv),
        // Trial-to-paid: conversions over trials started.
        (
            "trial_to_paid_rate",
            rate(sum("trial_conversions"), sum("trials_started")),
        ),
    ] {
        let r = query(app, user, json!({ "metric": format!("computed.{prefix}{metric}"), "range": range, "scope": { "store": store } })).await;
        assert_eq!(
            r["total"].as_i64(),
            value,
            "{prefix}{metric} over {range}: {r}"
        );
    }
    ltv.is_some()
}

/// The days of a widget's `last_{days}_days` range in `tz`: the whole days before today.
pub fn last_days(tz: Tz, days: u64) -> Vec<NaiveDate> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
    today
        .checked_sub_days(Days::new(days))
        .unwrap()
        .iter_days()
        .take_while(|d| *d <= yesterday)
        .collect()
}

/// [`assert_subscription_rates`] over the last 7, 30 and 90 days of a store in UTC;
/// `want` must cover every day from the first subscription on.
pub async fn assert_rates_over_windows(
    app: &TestApp,
    user: &TestUser,
    store: Uuid,
    prefix: &str,
    want: &BTreeMap<&'static str, BTreeMap<NaiveDate, i64>>,
) {
    let mut rated = false;
    for days in [7, 30, 90] {
        let span = last_days(Tz::UTC, days);
        let range = format!("last_{days}_days");
        rated |= assert_subscription_rates(app, user, store, prefix, want, &span, &range).await;
    }
    assert!(
        rated,
        "{prefix}: no churn in the last 90 days to check LTV on"
    );
}
