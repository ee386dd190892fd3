//! Seasonality and generation speed on the default two-year history.

use std::time::Instant;

use pulseboard_simulator::{DataConfig, SimulatorConfig};

use crate::helpers::{config, start, DAY, END, SHOP};

fn weekday(unix: i64) -> i64 {
    (unix.div_euclid(DAY) + 3).rem_euclid(7)
}

/// Month 1–12 of a timestamp (civil-from-days).
fn month(unix: i64) -> u32 {
    let z = unix.div_euclid(DAY) + 719_468;
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    if mp < 10 {
        mp as u32 + 3
    } else {
        mp as u32 - 9
    }
}

/// Average per day of `times` over days matching `day`.
fn daily_average(times: &[i64], start: i64, end: i64, day: impl Fn(i64) -> bool) -> f64 {
    let days = (start.div_euclid(DAY)..end.div_euclid(DAY))
        .filter(|d| day(d * DAY))
        .count() as f64;
    let events = times.iter().filter(|t| day(**t)).count() as f64;
    events / days
}

#[tokio::test]
async fn default_history_generates_quickly() {
    let sim = start(SimulatorConfig::default()).await;
    let begun = Instant::now();
    let stripe = sim.stripe_ledger();
    let stripe_time = begun.elapsed();
    let begun = Instant::now();
    let shop = sim.shopify_ledger(SHOP);
    let shop_time = begun.elapsed();
    println!(
        "730 days: stripe {stripe_time:?} ({} charges, {} invoices), shop {shop_time:?} ({} orders, {} checkouts)",
        stripe.charges.len(),
        stripe.invoices.len(),
        shop.orders.len(),
        shop.checkouts.len()
    );
    assert_eq!(stripe.end, DataConfig::default().end);
    assert!(stripe_time.as_secs_f64() < 3.0 && shop_time.as_secs_f64() < 3.0);
}

#[tokio::test]
async fn weekends_and_holidays_differ() {
    let sim = start(config(730)).await;
    let shop = sim.shopify_ledger(SHOP);
    let stripe = sim.stripe_ledger();
    let start = END - 730 * DAY;
    let orders: Vec<i64> = shop.orders.iter().map(|o| o.created_at).collect();
    let signups: Vec<i64> = stripe.customers.iter().map(|c| c.created).collect();
    let weekend = |t: i64| weekday(t) >= 5;
    let weekday_ = |t: i64| weekday(t) < 5;

    let shop_weekend = daily_average(&orders, start, END, weekend);
    let shop_weekday = daily_average(&orders, start, END, weekday_);
    assert!(
        shop_weekend > shop_weekday * 1.15,
        "{shop_weekend} vs {shop_weekday}"
    );
    let saas_weekend = daily_average(&signups, start, END, weekend);
    let saas_weekday = daily_average(&signups, start, END, weekday_);
    assert!(
        saas_weekend < saas_weekday * 0.7,
        "{saas_weekend} vs {saas_weekday}"
    );

    let holidays = |t: i64| month(t) >= 11;
    let february = |t: i64| month(t) == 2;
    let shop_holidays = daily_average(&orders, start, END, holidays);
    let shop_february = daily_average(&orders, start, END, february);
    assert!(
        shop_holidays > shop_february * 1.4,
        "{shop_holidays} vs {shop_february}"
    );
    let saas_holidays = daily_average(&signups, start, END, holidays);
    let saas_february = daily_average(&signups, start, END, february);
    assert!(
        saas_holidays > saas_february,
        "{saas_holidays} vs {saas_february}"
    );

    // Growth: the last quarter is busier than the first.
    let first = orders.iter().filter(|t| **t < start + 90 * DAY).count();
    let last = orders.iter().filter(|t| **t >= END - 90 * DAY).count();
    assert!(last as f64 > first as f64 * 1.5, "{first} → {last}");
}
