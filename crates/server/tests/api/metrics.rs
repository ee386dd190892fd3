//! The metrics service against the simulator's ledger: totals, series, like-for-like
//! comparisons, group-by and ratios in three time zones; strict validation.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::{ChargeStatus, StripeLedger};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser},
    sync::{agency, end_of, expected, run_all, small_history, stripe_store},
};

pub async fn query(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let response = user
        .client
        .post(app.url(&format!("/api/orgs/{}/metrics/query", user.org_slug)))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{value}");
    value
}

/// Asserts that each of a provider's metrics, day by day over `span`, equals the
/// independent computation `expected` (metric → day → value) the test made from a
/// simulator's ledger; every metric but those in `may_be_empty` must have some value.
#[allow(clippy::too_many_arguments)]
pub async fn assert_daily_series(
    app: &TestApp,
    user: &TestUser,
    store_id: uuid::Uuid,
    provider: &str,
    metrics: &[&str],
    expected: &std::collections::BTreeMap<
        &'static str,
        std::collections::BTreeMap<chrono::NaiveDate, i64>,
    >,
    span: &[chrono::NaiveDate],
    may_be_empty: &[&str],
    label: &str,
) {
    let (from, to) = (span[0], span[span.len() - 1]);
    for metric in metrics {
        let r = query(
            app,
            user,
            json!({
                "metric": format!("{provider}.{metric}"),
                "range": { "custom": { "from": from, "to": to } },
                "granularity": "day",
                "scope": { "store": store_id },
            }),
        )
        .await;
        let series = r["series"].as_array().unwrap();
        assert_eq!(series.len(), span.len(), "{label} {metric}: {r}");
        let mut mismatches = Vec::new();
        let mut total = 0;
        for point in series {
            let d: chrono::NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
            let want = expected
                .get(metric)
                .and_then(|m| m.get(&d))
                .copied()
                .unwrap_or(0);
            total += want.abs();
            if point["value"].as_i64().unwrap_or(0) != want {
                mismatches.push(format!("{d}: ledger {want}, API {}", point["value"]));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{label}: {metric} differs: {:?}",
            &mismatches[..mismatches.len().min(5)]
        );
        assert!(
            total > 0 || may_be_empty.contains(metric),
            "{label}: the ledger has {metric}"
        );
    }
}

fn days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// Ledger sum of a flow over local days.
fn flow(ledger: &StripeLedger, tz: Tz, metric: &str, span: &[NaiveDate]) -> i64 {
    let all = expected(ledger, tz, span);
    span.iter()
        .map(|d| all.get(metric).and_then(|m| m.get(d)).copied().unwrap_or(0))
        .sum()
}

fn level(ledger: &StripeLedger, tz: Tz, metric: &str, day: NaiveDate) -> i64 {
    expected(ledger, tz, &[day])[metric][&day]
}

#[tokio::test]
async fn query_results_equal_the_ledger_in_three_time_zones() {
    let (app, sim) = spawn_app_with_simulator(small_history(100)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    let mut stores = Vec::new();
    for zone in ["America/New_York", "UTC", "Asia/Kolkata"] {
        stores.push((zone, stripe_store(&app, &ann, zone).await.0));
    }
    run_all(&app).await;
    let ledger = sim.stripe_ledger();

    for (zone, store) in &stores {
        let tz: Tz = zone.parse().unwrap();
        let today = Utc::now().with_timezone(&tz).date_naive();
        let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
        let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap();

        // A flow over complete days, with the 30 days before.
        let r = query(&app, &ann, json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "granularity": "day", "scope": { "store": store } })).await;
        let span = days(back(30), yesterday);
        assert_eq!(
            r["total"].as_i64().unwrap(),
            flow(&ledger, tz, "gross_revenue", &span),
            "{zone}"
        );
        assert_eq!(r["currency"], "USD");
        assert_eq!(r["series"].as_array().unwrap().len(), 30);
        let by_day = expected(&ledger, tz, &span);
        for point in r["series"].as_array().unwrap() {
            let day: NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
            let want = by_day
                .get("gross_revenue")
                .and_then(|m| m.get(&day))
                .copied()
                .unwrap_or(0);
            assert_eq!(point["value"].as_i64().unwrap(), want, "{zone} {day}");
        }
        let before = days(back(60), back(31));
        assert_eq!(
            r["previous"]["total"].as_i64().unwrap(),
            flow(&ledger, tz, "gross_revenue", &before),
            "{zone}"
        );
        assert_eq!(
            r["delta"].as_i64().unwrap(),
            r["total"].as_i64().unwrap() - r["previous"]["total"].as_i64().unwrap()
        );
        assert!(r["freshness"][0]["last_synced_at"].is_string());

        // Stripe's fees and net volume, from the balance transactions, over two windows.
        for (metric, range, span) in [
            ("stripe_fees", "last_30_days", days(back(30), yesterday)),
            ("net_volume", "last_30_days", days(back(30), yesterday)),
            ("net_volume", "last_7_days", days(back(7), yesterday)),
        ] {
            let r = query(&app, &ann, json!({ "metric": format!("stripe.{metric}"), "range": range, "scope": { "store": store } })).await;
            let want = flow(&ledger, tz, metric, &span);
            assert_ne!(want, 0, "{zone} {metric}: the ledger has some");
            assert_eq!(
                r["total"].as_i64().unwrap(),
                want,
                "{zone} {metric} {range}"
            );
        }

        // A stock: MRR at the end of the range, weekly buckets ending on the week's last day.
        let r = query(&app, &ann, json!({ "metric": "stripe.mrr", "range": "last_30_days", "granularity": "week", "scope": { "store": store } })).await;
        assert_eq!(r["aggregation"], "latest");
        assert_eq!(
            r["total"].as_i64().unwrap(),
            level(&ledger, tz, "mrr", yesterday),
            "{zone}"
        );
        assert_eq!(
            r["previous"]["total"].as_i64().unwrap(),
            level(&ledger, tz, "mrr", back(31)),
            "{zone}"
        );
        let weeks = r["series"].as_array().unwrap();
        for (i, point) in weeks.iter().enumerate() {
            let last_day = match weeks.get(i + 1) {
                Some(next) => next["bucket"]
                    .as_str()
                    .unwrap()
                    .parse::<NaiveDate>()
                    .unwrap()
                    .pred_opt()
                    .unwrap(),
                None => yesterday,
            };
            assert_eq!(
                point["value"].as_i64().unwrap(),
                level(&ledger, tz, "mrr", last_day),
                "{zone} week of {}",
                point["bucket"]
            );
        }

        // Grouped by plan: the groups add up, and each equals the ledger's subscriptions on that price.
        let r = query(&app, &ann, json!({ "metric": "stripe.mrr", "range": "last_7_days", "group_by": "plan", "scope": { "store": store } })).await;
        let groups = r["groups"].as_array().unwrap();
        assert!(groups.len() >= 3, "{r}");
        let sum: i64 = groups.iter().map(|g| g["total"].as_i64().unwrap()).sum();
        assert_eq!(sum, r["total"].as_i64().unwrap());
        let at = end_of(yesterday, tz) - 1;
        let mut per_plan: BTreeMap<String, i64> = BTreeMap::new();
        for s in &ledger.subscriptions {
            if let Some(p) = s.period_at(at) {
                let months = i64::from(p.interval.months(p.interval_count));
                *per_plan.entry(p.price.clone()).or_default() +=
                    (2 * p.billed() + months) / (2 * months);
            }
        }
        for g in groups {
            assert_eq!(
                g["total"].as_i64().unwrap(),
                per_plan[g["key"].as_str().unwrap()],
                "{zone} {}",
                g["key"]
            );
            // Named by the price's nickname, as the account calls the plan.
            let price = ledger.prices.iter().find(|p| p.id == g["key"]).unwrap();
            assert_eq!(g["label"], price.nickname.as_str(), "{zone} {}", g["key"]);
        }
        assert_eq!(r["group_by"], "plan");

        // A ratio: ARPU is MRR over active subscriptions, rounded.
        let r = query(
            &app,
            &ann,
            json!({ "metric": "stripe.arpu", "range": "last_7_days", "scope": { "store": store } }),
        )
        .await;
        let (mrr, active) = (
            level(&ledger, tz, "mrr", yesterday),
            level(&ledger, tz, "active_subscriptions", yesterday),
        );
        assert_eq!(
            r["total"].as_i64().unwrap(),
            (2 * mrr + active) / (2 * active),
            "{zone}"
        );

        // Month to date compares with the same days and hours of last month.
        let r = query(&app, &ann, json!({ "metric": "stripe.net_revenue", "range": "month_to_date", "scope": { "store": store } })).await;
        let now = Utc::now().timestamp();
        let first = today.with_day(1).unwrap();
        let start = end_of(first.pred_opt().unwrap(), tz);
        let net = |from: i64, to: i64| -> i64 {
            let charges: i64 = ledger
                .charges
                .iter()
                .filter(|c| {
                    c.status == ChargeStatus::Succeeded && c.created >= from && c.created < to
                })
                .map(|c| c.amount)
                .sum();
            let refunds: i64 = ledger
                .refunds
                .iter()
                .filter(|r| r.created >= from && r.created < to)
                .map(|r| r.amount)
                .sum();
            charges - refunds
        };
        assert_eq!(r["total"].as_i64().unwrap(), net(start, now), "{zone}");
        let prev = &r["previous"]["range"];
        let prev_from: NaiveDate = prev["from"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            prev_from,
            first.checked_sub_months(chrono::Months::new(1)).unwrap()
        );
        assert_eq!(prev["until"], r["range"]["until"], "the same time of day");
    }
}

#[tokio::test]
async fn bad_queries_get_a_422_naming_the_field() {
    let (app, _sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let store: Uuid = stripe_store(&app, &ann, "UTC").await.0;
    run_all(&app).await;
    let url = app.url("/api/orgs/acme/metrics/query");
    let base = json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "scope": { "store": store } });
    let cases = [
        (json!({ "metric": "stripe.nope" }), "metric"),
        (json!({ "group_by": "flavour" }), "group_by"),
        (json!({ "aggregation": "median" }), "aggregation"),
        (json!({ "colour": "red" }), "colour"),
        (
            json!({ "range": { "custom": { "from": "2026-02-01", "to": "2026-01-01" } } }),
            "range.custom.to",
        ),
        (json!({ "granularity": "hour" }), "granularity"),
        (
            json!({ "metric": "stripe.mrr", "aggregation": "sum" }),
            "aggregation",
        ),
        (
            json!({ "filters": [{ "dimension": "flavour", "in": ["x"] }] }),
            "filters[0].dimension",
        ),
    ];
    for (change, field) in cases {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = ann.client.post(&url).json(&body).send().await.unwrap();
        let error = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            error["error"]["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field.split('.').next().unwrap()),
            "{field}: {error}"
        );
    }
    let foreign = ann
        .client
        .post(&url)
        .json(&json!({ "metric": "stripe.gross_revenue", "range": "last_7_days", "scope": { "store": Uuid::new_v4() } }))
        .send()
        .await
        .unwrap();
    expect_error(foreign, StatusCode::NOT_FOUND, "not_found").await;

    let catalog: Value = ann
        .client
        .get(app.url("/api/orgs/acme/metrics/catalog"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"stripe.mrr") && !ids.iter().any(|i| i.starts_with("shopify.")),
        "{ids:?}"
    );
    // Each entry carries its written definition, all four parts, for the info popover.
    for entry in catalog.as_array().unwrap() {
        let definition = &entry["metric"]["definition"];
        for part in ["formula", "source_fields", "booked", "excludes"] {
            let text = definition[part].as_str().unwrap_or_default();
            assert!(
                !text.trim().is_empty(),
                "{} {part}: {definition}",
                entry["id"]
            );
        }
    }
    let mrr = catalog
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "stripe.mrr")
        .unwrap();
    let formula = mrr["metric"]["definition"]["formula"].as_str().unwrap();
    assert!(
        formula.contains("invoice line") && formula.contains("less its `discount_amounts`"),
        "MRR says it is read from invoice lines net of their discounts: {formula}"
    );
}

/// Random queries (seeded): never a 5xx or an SQL error, never another org's data.
#[tokio::test]
async fn random_queries_never_fail_badly_or_cross_orgs() {
    use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
    let (app, _sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let bob = app.signup("bob@example.com", "Other").await;
    let (a_store, a_integration) = stripe_store(&app, &ann, "America/New_York").await;
    let (b_store, _) = stripe_store(&app, &bob, "UTC").await;
    run_all(&app).await;

    let metrics = [
        "stripe.gross_revenue",
        "stripe.mrr",
        "stripe.arpu",
        "stripe.refunds",
        "stripe.active_subscriptions",
        "stripe.new_customers",
        "shopify.orders",
        "shopify.aov",
        "nope",
        "stripe.",
        ".mrr",
        "stripe.mrr.x",
    ];
    let aggregations = [
        json!("sum"),
        json!("avg"),
        json!("min"),
        json!("max"),
        json!("count"),
        json!("latest"),
        json!("median"),
        json!(3),
    ];
    let ranges = [
        json!("last_7_days"),
        json!("last_30_days"),
        json!("last_90_days"),
        json!("last_365_days"),
        json!("this_month"),
        json!("last_month"),
        json!("month_to_date"),
        json!("year_to_date"),
        json!("today"),
        json!("yesterday"),
        json!({ "custom": { "from": "2026-01-01", "to": "2026-02-01" } }),
        json!({ "custom": { "from": "2026-03-01", "to": "2026-01-01" } }),
        json!({ "custom": { "from": "1999-01-01", "to": "2026-01-01" } }),
        json!({ "custom": { "from": "2030-01-01", "to": "2030-01-02" } }),
        json!({ "custom": { "from": "not a date", "to": "2026-01-01" } }),
        json!(null),
    ];
    let granularities = [
        json!("hour"),
        json!("day"),
        json!("week"),
        json!("month"),
        json!("auto"),
        json!("minute"),
    ];
    let dimensions = [
        "plan",
        "interval",
        "currency",
        "country",
        "channel",
        "'; DROP TABLE stores; --",
        "product",
    ];
    let compares = [
        json!("previous_period"),
        json!("previous_year"),
        json!("none"),
        json!("last_decade"),
    ];
    let scopes = [
        json!({ "store": a_store }),
        json!({ "store": b_store }),
        json!({ "stores": [a_store, b_store] }),
        json!({ "stores": [a_store] }),
        json!({ "workspace": ann.workspace_id }),
        json!({ "workspace": bob.workspace_id }),
        json!({ "store": uuid::Uuid::new_v4() }),
        json!({ "stores": [] }),
        json!({ "galaxy": 1 }),
    ];
    let mut rng = StdRng::seed_from_u64(20261122);
    let url = app.url("/api/orgs/acme/metrics/query");
    let mut answered = 0;
    for _ in 0..300 {
        // Mostly valid values, so that the answers, not just the refusals, are exercised.
        let mut q = json!({
            "metric": if rng.gen_bool(0.8) { metrics[rng.gen_range(0..6)] } else { metrics.choose(&mut rng).unwrap() },
            "range": if rng.gen_bool(0.8) { ranges[rng.gen_range(0..9)].clone() } else { ranges.choose(&mut rng).unwrap().clone() },
            "scope": if rng.gen_bool(0.6) { scopes[0].clone() } else { scopes.choose(&mut rng).unwrap().clone() },
        });
        if rng.gen_bool(0.5) {
            q["aggregation"] = aggregations.choose(&mut rng).unwrap().clone();
        }
        if rng.gen_bool(0.5) {
            q["granularity"] = granularities.choose(&mut rng).unwrap().clone();
        }
        if rng.gen_bool(0.4) {
            q["group_by"] = json!(dimensions.choose(&mut rng).unwrap());
        }
        if rng.gen_bool(0.4) {
            q["compare_to"] = compares.choose(&mut rng).unwrap().clone();
        }
        if rng.gen_bool(0.3) {
            q["filters"] = json!([{ "dimension": dimensions.choose(&mut rng).unwrap(), "in": ["USD", "price_1SimProMonthly", "x'y"] }]);
        }
        let response = ann.client.post(&url).json(&q).send().await.unwrap();
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|_| panic!("JSON for {q}"));
        assert!(
            [
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
                StatusCode::NOT_FOUND,
                StatusCode::UNPROCESSABLE_ENTITY
            ]
            .contains(&status),
            "{q} → {status} {body}"
        );
        let touches_b = q["scope"].to_string().contains(&b_store.to_string())
            || q["scope"]
                .to_string()
                .contains(&bob.workspace_id.to_string());
        if status == StatusCode::OK {
            answered += 1;
            assert!(!touches_b, "another org's scope answered: {q} → {body}");
            for fresh in body["freshness"].as_array().unwrap() {
                assert_eq!(fresh["integration_id"], a_integration.to_string(), "{q}");
            }
        }
    }
    assert!(
        answered > 30,
        "the generator reaches valid queries ({answered})"
    );
    // The odd dimension name did no harm.
    let stores: i64 = sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(stores >= 4);
}

#[tokio::test]
async fn months_years_hours_and_previous_year_agree_with_the_ledger() {
    let (app, sim) = spawn_app_with_simulator(small_history(500)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, _) = stripe_store(&app, &ann, "America/New_York").await;
    run_all(&app).await;
    let ledger = sim.stripe_ledger();
    let tz: Tz = "America/New_York".parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap();

    // A year by month (crossing both DST changes), compared with the year before.
    let r = query(
        &app,
        &ann,
        json!({ "metric": "stripe.gross_revenue", "range": "last_365_days", "granularity": "month",
        "compare_to": "previous_year", "scope": { "store": store } }),
    )
    .await;
    let span = days(back(365), back(1));
    assert_eq!(
        r["total"].as_i64().unwrap(),
        flow(&ledger, tz, "gross_revenue", &span)
    );
    let series = r["series"].as_array().unwrap();
    // One bucket per calendar month the window touches: 13 (a partial first month,
    // eleven whole ones, this month so far), or 12 when yesterday ended a month.
    let month_index = |d: NaiveDate| d.year() * 12 + d.month() as i32;
    let months = (month_index(back(1)) - month_index(back(365)) + 1) as usize;
    assert_eq!(
        series.len(),
        months,
        "one bucket per month of {} – {}",
        back(365),
        back(1)
    );
    for (i, point) in series.iter().enumerate() {
        let from: NaiveDate = point["bucket"].as_str().unwrap().parse().unwrap();
        let to = match series.get(i + 1) {
            Some(next) => next["bucket"]
                .as_str()
                .unwrap()
                .parse::<NaiveDate>()
                .unwrap()
                .pred_opt()
                .unwrap(),
            None => back(1),
        };
        assert_eq!(
            point["value"].as_i64().unwrap(),
            flow(&ledger, tz, "gross_revenue", &days(from, to)),
            "month of {from}"
        );
    }
    let prev_from: NaiveDate = r["previous"]["range"]["from"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let prev_to: NaiveDate = r["previous"]["range"]["to"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        prev_from,
        back(365)
            .checked_sub_months(chrono::Months::new(12))
            .unwrap()
    );
    assert_eq!(
        r["previous"]["total"].as_i64().unwrap(),
        flow(&ledger, tz, "gross_revenue", &days(prev_from, prev_to))
    );

    // Today by the hour, from the raw events, until now.
    let r = query(
        &app,
        &ann,
        json!({ "metric": "stripe.successful_charges", "range": "today", "granularity": "hour",
        "scope": { "store": store } }),
    )
    .await;
    let start = end_of(back(1), tz);
    let now = Utc::now().timestamp();
    let charges = ledger
        .charges
        .iter()
        .filter(|c| c.status == ChargeStatus::Succeeded && c.created >= start && c.created < now);
    assert_eq!(r["total"].as_i64().unwrap(), charges.clone().count() as i64);
    let series = r["series"].as_array().unwrap();
    for point in series {
        let hour = chrono::NaiveDateTime::parse_from_str(
            point["bucket"].as_str().unwrap(),
            "%Y-%m-%dT%H:%M",
        )
        .unwrap();
        let want = charges
            .clone()
            .filter(|c| {
                let local = chrono::DateTime::from_timestamp(c.created, 0)
                    .unwrap()
                    .with_timezone(&tz)
                    .naive_local();
                local >= hour && local < hour + chrono::Duration::hours(1)
            })
            .count() as i64;
        assert_eq!(point["value"].as_i64().unwrap(), want, "{hour}");
    }
}
