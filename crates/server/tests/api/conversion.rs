//! Computed metrics across sources: conversion rate = Shopify orders ÷ GA4 sessions,
//! per store-local day, checked against both simulators' ledgers over a window that
//! spans the most recent change of daylight saving time in the store's zone.

use chrono::{Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_simulator::{defaults, DataConfig, SimulatorConfig, ThrottleConfig};
use serde_json::{json, Value};

use crate::{
    ga4,
    helpers::spawn_app_with_simulator,
    metrics::query,
    oauth::{start_flow, visit},
    sync::{run_all, shopify_expected},
};

/// GA4's first sync reaches this far back.
const GA4_BACKFILL_DAYS: i64 = 90;

/// The last day before which `tz` changed its UTC offset, searching back from `today`.
fn last_offset_change(tz: Tz, today: NaiveDate) -> Option<NaiveDate> {
    let offset = |day: NaiveDate| {
        tz.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
            .offset()
            .fix()
    };
    (1..400)
        .map(|back| today - Duration::days(back))
        .find(|day| offset(*day) != offset(*day + Duration::days(1)))
}

/// `scale × numerator ÷ denominator`, rounded half away from zero, as the catalog
/// defines a rate in basis points.
fn basis_points(numerator: i64, denominator: i64) -> Option<i64> {
    (denominator != 0).then(|| (20_000 * numerator + denominator) / (2 * denominator))
}

#[tokio::test]
async fn conversion_rate_is_orders_over_sessions_per_store_day_across_a_dst_change() {
    let zone = "America/New_York";
    let tz: Tz = zone.parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let change = last_offset_change(tz, today).expect("New York changes its clocks twice a year");
    // The window: a week either side of the change when GA4's backfill reaches it,
    // else the last two weeks (then no change lies inside it; the day arithmetic is
    // still checked).
    let (from, to) = if (today - change).num_days() <= GA4_BACKFILL_DAYS - 10 {
        (
            change - Duration::days(7),
            (change + Duration::days(7)).min(today - Duration::days(1)),
        )
    } else {
        (today - Duration::days(15), today - Duration::days(1))
    };
    let history = (today - from).num_days() as u32 + 3;
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig {
        data: DataConfig {
            history_days: history,
            shopify_daily_orders: 30.0,
            ..DataConfig::default()
        },
        shopify_bucket: ThrottleConfig {
            maximum_available: 1000.0,
            restore_rate: 100_000.0,
        },
        ..SimulatorConfig::default()
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    sqlx::query("UPDATE stores SET timezone = $2, currency = 'USD' WHERE id = $1")
        .bind(ann.store_id)
        .bind(zone)
        .execute(&app.db)
        .await
        .unwrap();

    let started = start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    visit(&ann.client, &started.callback).await;
    assert_eq!(run_all(&app).await, 1);

    // Until GA4 is connected, the CRO Overview's rate says which source is missing.
    let board: Value = ann
        .client
        .post(app.url("/api/orgs/acme/dashboards/from-template"))
        .json(&json!({ "template": "cro_overview", "store_id": ann.store_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let widget_state = |data: &Value, title: &str| -> Value {
        let widgets = board["widgets"].as_array().unwrap();
        let id = widgets.iter().find(|w| w["title"] == title).unwrap()["id"].clone();
        data["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["widget_id"] == id)
            .unwrap()
            .clone()
    };
    let data_url = app.url(&format!(
        "/api/orgs/acme/dashboards/{}/data",
        board["id"].as_str().unwrap()
    ));
    let data: Value = ann
        .client
        .get(&data_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rate = widget_state(&data, "Conversion rate");
    assert_eq!(rate["state"], "not_connected", "{rate}");
    assert_eq!(rate["provider"], "ga4");

    ga4::connect(&app, &ann, defaults::GA4_PROPERTY_ID).await;
    assert_eq!(run_all(&app).await, 1);
    let data: Value = ann
        .client
        .get(&data_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(widget_state(&data, "Conversion rate")["state"], "ok");
    assert_eq!(widget_state(&data, "Checkout funnel")["state"], "funnel");

    let result = query(
        &app,
        &ann,
        json!({ "metric": "computed.conversion_rate", "granularity": "day", "compare_to": "none",
                "range": { "custom": { "from": from, "to": to } }, "scope": { "store": ann.store_id } }),
    )
    .await;
    assert_eq!(result["unit"], "basis_points");
    let sources: Vec<&str> = result["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["provider"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"shopify") && sources.contains(&"ga4"),
        "{sources:?}"
    );

    // Independently: orders per New York day from Shopify's ledger, sessions per day
    // from GA4's (its property is in New York too).
    let orders = shopify_expected(&sim.shopify_ledger("acme-coffee.myshopify.com"), tz)
        .remove("orders")
        .unwrap_or_default();
    let ledger = ga4::ledger(&sim, defaults::GA4_PROPERTY_ID, from, to).await;
    let mut sessions = std::collections::BTreeMap::new();
    for day in ledger["days"].as_array().unwrap() {
        let date = NaiveDate::parse_from_str(day["date"].as_str().unwrap(), "%Y%m%d").unwrap();
        let total: i64 = day["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sessions"].as_i64().unwrap())
            .sum();
        sessions.insert(date, total);
    }
    let series = result["series"].as_array().unwrap();
    assert_eq!(series.len() as i64, (to - from).num_days() + 1);
    let (mut all_orders, mut all_sessions) = (0, 0);
    for point in series {
        let day = NaiveDate::parse_from_str(&point["bucket"].as_str().unwrap()[..10], "%Y-%m-%d")
            .unwrap();
        let (o, s) = (
            orders.get(&day).copied().unwrap_or(0),
            sessions.get(&day).copied().unwrap_or(0),
        );
        assert!(s > 0, "GA4 has sessions on {day}");
        assert_eq!(
            point["value"].as_i64(),
            basis_points(o, s),
            "{day}: {o} orders / {s} sessions"
        );
        all_orders += o;
        all_sessions += s;
    }
    assert!(all_orders > 100, "{all_orders} orders");
    assert_eq!(
        result["total"].as_i64(),
        basis_points(all_orders, all_sessions)
    );
}
