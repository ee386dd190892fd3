//! "Show the records behind this number" against the Stripe simulator's ledger: the
//! charges behind gross revenue are exactly the ledger's succeeded charges of the
//! window, with their amounts and links, and add up to the number the widget shows;
//! net revenue's records add up to its number too; ratios and levels are refused; the
//! CSV carries the same rows and the total.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::ChargeStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{expect_error, spawn_app_with_simulator},
    metrics::query,
    sync::{day_of, run_all, small_history, stripe_store},
};

#[tokio::test]
async fn the_records_behind_revenue_are_the_ledgers_charges_and_add_up_to_the_number() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let zone = "America/New_York";
    let (store, _) = stripe_store(&app, &ann, zone).await;
    assert_eq!(run_all(&app).await, 1);
    let ledger = sim.stripe_ledger();
    let explain = |body: Value| {
        ann.client
            .post(app.url("/api/orgs/acme/metrics/explain"))
            .json(&body)
            .send()
    };
    let body = |metric: &str| json!({ "metric": metric, "range": "last_30_days", "scope": { "store": store } });

    // Gross revenue: the succeeded charges of the last 30 complete New York days.
    let tz: Tz = zone.parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let (from, to) = (today - Days::new(30), today - Days::new(1));
    let want: BTreeMap<String, i64> = ledger
        .charges
        .iter()
        .filter(|c| matches!(c.status, ChargeStatus::Succeeded))
        .filter(|c| (from..=to).contains(&day_of(c.created, tz)))
        .map(|c| (c.id.clone(), c.amount))
        .collect();
    assert!(want.len() > 20, "a meaningful window");
    let response = explain(body("stripe.gross_revenue")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let explained: Value = response.json().await.unwrap();
    let got: BTreeMap<String, i64> = explained["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["object_type"], "charge", "{r}");
            let id = r["external_id"].as_str().unwrap();
            let url = r["url"].as_str().unwrap();
            assert!(
                url.starts_with("https://dashboard.stripe.com/")
                    && url.ends_with(&format!("/payments/{id}")),
                "{url}"
            );
            (id.to_owned(), r["amount"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, want);
    let shown = query(&app, &ann, body("stripe.gross_revenue")).await;
    assert_eq!(
        explained["total"], shown["total"],
        "the records add up to the number shown"
    );
    assert_eq!(
        explained["total"].as_i64().unwrap(),
        want.values().sum::<i64>()
    );
    assert_eq!(
        explained["record_count"].as_u64().unwrap() as usize,
        want.len()
    );
    assert_eq!(explained["truncated"], false);
    // Amounts are listed largest first.
    let amounts: Vec<i64> = explained["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap().abs())
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]));

    // Net revenue (refunds subtract) adds up to its number as well.
    let net: Value = explain(body("stripe.net_revenue"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = query(&app, &ann, body("stripe.net_revenue")).await;
    assert_eq!(net["total"], shown["total"]);
    let sum: i64 = net["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(json!(sum), shown["total"]);

    // The CSV: the same rows and the total.
    let csv = ann
        .client
        .post(app.url("/api/orgs/acme/metrics/explain"))
        .header("Accept", "text/csv")
        .json(&body("stripe.gross_revenue"))
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "provider,object_type,external_id,occurred_at,amount,url"
    );
    assert_eq!(lines.len(), want.len() + 2);
    assert_eq!(
        *lines.last().unwrap(),
        format!("total,,,,{},", want.values().sum::<i64>())
    );

    // A chart point: each day's records are the ledger's charges of that New York
    // day and add up to the point the series shows; a week's point is its days'.
    let by_day = |day: chrono::NaiveDate| -> BTreeMap<String, i64> {
        want.iter()
            .filter(|(id, _)| {
                let charge = ledger.charges.iter().find(|c| &c.id == *id).unwrap();
                day_of(charge.created, tz) == day
            })
            .map(|(id, amount)| (id.clone(), *amount))
            .collect()
    };
    let daily = json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "granularity": "day", "scope": { "store": store } });
    let series = query(&app, &ann, daily.clone()).await;
    let points = series["series"].as_array().unwrap();
    assert_eq!(points.len(), 30);
    let point = |bucket: String, body: Value| {
        ann.client
            .post(app.url(&format!("/api/orgs/acme/metrics/explain?bucket={bucket}")))
            .json(&body)
            .send()
    };
    for p in points.iter().step_by(7) {
        let bucket = p["bucket"].as_str().unwrap().to_owned();
        let explained: Value = point(bucket.clone(), daily.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(explained["bucket"], json!(bucket));
        assert_eq!(explained["total"], p["value"], "{bucket}: the point shown");
        let ids: BTreeMap<String, i64> = explained["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["external_id"].as_str().unwrap().to_owned(),
                    r["amount"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ids, by_day(bucket.parse().unwrap()), "{bucket}");
    }
    let weekly = json!({ "metric": "stripe.gross_revenue", "range": "last_30_days", "granularity": "week", "scope": { "store": store } });
    let weeks = query(&app, &ann, weekly.clone()).await;
    let mut weeks_total = 0;
    for p in weeks["series"].as_array().unwrap() {
        let explained: Value = point(p["bucket"].as_str().unwrap().to_owned(), weekly.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(explained["total"], p["value"], "week of {}", p["bucket"]);
        weeks_total += explained["total"].as_i64().unwrap();
    }
    assert_eq!(
        weeks_total,
        want.values().sum::<i64>(),
        "the first week is clipped to the window, as the series clips it"
    );
    // Not a point of this series: a day outside the window, a Tuesday of a weekly
    // series, a malformed bucket.
    let outside = (from - Days::new(1)).to_string();
    // (After the first day: the first bucket starts at the window's first day.)
    let tuesday = from
        .iter_days()
        .skip(1)
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Tue)
        .unwrap()
        .to_string();
    for (bucket, body) in [
        (outside, daily.clone()),
        (tuesday, weekly.clone()),
        ("yesterday".to_owned(), daily.clone()),
    ] {
        let refused = point(bucket.clone(), body).await.unwrap();
        let error = expect_error(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["field"], "bucket", "{bucket}");
    }

    // A level (MRR) and a ratio are not sums of records.
    for metric in ["stripe.mrr", "stripe.arpu"] {
        let refused = explain(body(metric)).await.unwrap();
        let error = expect_error(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["field"], "metric", "{metric}");
    }
}

/// Every sum on the demo's dashboards (SaaS Revenue on Stripe, Store Overview on
/// Shopify) is explained by records that add up to the number the widget shows
/// (levels and ratios are refused, never wrong).
#[tokio::test]
async fn the_records_behind_every_sum_on_the_template_dashboards_add_up_to_it() {
    let mut config = small_history(40);
    config.data.shopify_daily_orders = 15.0;
    config.shopify_bucket = pulseboard_simulator::ThrottleConfig {
        maximum_available: 1000.0,
        restore_rate: 100_000.0,
    };
    let (app, _sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    crate::sync::agency(&app, &ann).await;
    let (store, _) = stripe_store(&app, &ann, "America/New_York").await;
    let started = crate::oauth::start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    crate::oauth::visit(&ann.client, &started.callback).await;
    assert_eq!(run_all(&app).await, 2);

    let (explained, refused) = explain_every_sum(&app, &ann, "saas_revenue", store).await;
    assert!(explained >= 4, "SaaS Revenue: {explained} sums explained");
    assert!(
        refused >= 2,
        "the levels (MRR, active subscriptions) are refused"
    );
    let (explained, refused) = explain_every_sum(&app, &ann, "store_overview", ann.store_id).await;
    assert!(explained >= 6, "Store Overview: {explained} sums explained");
    assert!(
        refused >= 2,
        "AOV and the returning customer rate are refused"
    );
}

/// Creates `template` for `store`, loads its data and explains each metric widget:
/// a sum's records must add up to the widget's number. Returns (explained, refused).
async fn explain_every_sum(
    app: &crate::helpers::TestApp,
    user: &crate::helpers::TestUser,
    template: &str,
    store: uuid::Uuid,
) -> (usize, usize) {
    let org = &user.org_slug;
    let created: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{org}/dashboards/from-template")))
        .json(&json!({ "template": template, "store_id": store }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let data: Value = user
        .client
        .get(app.url(&format!("/api/orgs/{org}/dashboards/{id}/data")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (mut explained, mut refused) = (0, 0);
    for widget in created["widgets"].as_array().unwrap() {
        let config = &widget["query_config"];
        if config["metric"].as_str().is_none() {
            continue;
        }
        let shown = data["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["widget_id"] == widget["id"])
            .unwrap();
        assert_eq!(shown["state"], "ok", "{template}: {shown}");
        let response = user
            .client
            .post(app.url(&format!("/api/orgs/{org}/metrics/explain")))
            .json(config)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
            refused += 1;
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "{config}");
        let records: Value = response.json().await.unwrap();
        assert_eq!(
            records["total"], shown["result"]["total"],
            "{template}: {}: the records and the widget disagree",
            widget["title"]
        );
        explained += 1;
    }
    (explained, refused)
}
