//! The sync pipeline against the simulator: numbers equal what the simulator's own
//! ledger says, later syncs pick up only changes, replays never double-count, and
//! the queue survives lost workers, rate limits and stale completions.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_server::sync::{queue, runner};
use pulseboard_simulator::{defaults, ChargeStatus, DataConfig, SimulatorConfig, StripeLedger};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{expect_error, spawn_app_with_simulator, TestApp, TestUser};

pub fn small_history(days: u32) -> SimulatorConfig {
    SimulatorConfig {
        data: DataConfig {
            history_days: days,
            stripe_daily_signups: 4.0,
            // The data clock at real time (not the hour before): changes made by the
            // test happen now, as they would at Stripe.
            end: chrono::Utc::now().timestamp(),
            ..DataConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

/// A store in `timezone` connected to the simulated Stripe account with a restricted key.
pub async fn stripe_store(app: &TestApp, user: &TestUser, timezone: &str) -> (Uuid, Uuid) {
    let store: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{}/stores", user.org_slug)))
        .json(&json!({ "workspace_id": user.workspace_id, "name": timezone, "currency": "USD", "timezone": timezone }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store_id: Uuid = store["id"]
        .as_str()
        .expect("store created")
        .parse()
        .unwrap();
    let integration: Value = user
        .client
        .post(app.url(&format!("/api/orgs/{}/integrations/stripe/api-key", user.org_slug)))
        .json(&json!({ "store_id": store_id, "fields": { "api_key": defaults::STRIPE_RESTRICTED_KEY } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        store_id,
        integration["id"].as_str().unwrap().parse().unwrap(),
    )
}

pub async fn run_all(app: &TestApp) -> usize {
    runner::drain(&app.app_state, "test-worker", 50)
        .await
        .unwrap()
}

/// Every snapshot of the store: metric → day → value.
async fn snapshots(app: &TestApp, store_id: Uuid) -> BTreeMap<String, BTreeMap<NaiveDate, i64>> {
    snapshots_in(&app.db, store_id).await
}

pub fn day_of(at: i64, tz: Tz) -> NaiveDate {
    DateTime::from_timestamp(at, 0)
        .unwrap()
        .with_timezone(&tz)
        .date_naive()
}

/// The first second of the day after `day`, in `tz`.
pub fn end_of(day: NaiveDate, tz: Tz) -> i64 {
    let next = day.checked_add_days(Days::new(1)).unwrap();
    tz.from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp()
}

/// Monthly amount with the documented rounding (half away from zero).
fn monthly(amount: i64, months: i64) -> i64 {
    (2 * amount + months) / (2 * months)
}

/// What the ledger says each metric was on each day of `days`, in `tz`.
pub fn expected(
    ledger: &StripeLedger,
    tz: Tz,
    days: &[NaiveDate],
) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut add = |metric: &'static str, day: NaiveDate, value: i64| {
        *out.entry(metric).or_default().entry(day).or_default() += value;
    };
    for charge in &ledger.charges {
        let day = day_of(charge.created, tz);
        match charge.status {
            ChargeStatus::Succeeded => {
                add("gross_revenue", day, charge.amount);
                add("net_revenue", day, charge.amount);
                add("successful_charges", day, 1);
                // Stripe's US card pricing: 2.9 % (rounded half up) + 30¢, withheld
                // from the charge; net volume is what is left of the sale.
                let fee = (charge.amount * 29 + 500) / 1000 + 30;
                add("stripe_fees", day, fee);
                add("net_volume", day, charge.amount - fee);
            }
            ChargeStatus::Failed => add("failed_payments", day, 1),
        }
    }
    for refund in &ledger.refunds {
        let day = day_of(refund.created, tz);
        add("refunds", day, refund.amount);
        add("net_revenue", day, -refund.amount);
        // Stripe keeps the fee of a refunded charge: the refund is taken off whole.
        add("net_volume", day, -refund.amount);
    }
    for customer in &ledger.customers {
        add("new_customers", day_of(customer.created, tz), 1);
    }
    for subscription in &ledger.subscriptions {
        let paid = subscription.periods.iter().any(|p| !p.trial);
        if let Some(start) = subscription.trial_start {
            add("trials_started", day_of(start, tz), 1);
            // Converted: a paid period followed the trial.
            if paid {
                add(
                    "trial_conversions",
                    day_of(subscription.trial_end.unwrap(), tz),
                    1,
                );
            }
        }
        // A trial that ended unpaid is not churn.
        if let (Some(ended), true) = (subscription.ended_at, paid) {
            add("churned_subscriptions", day_of(ended, tz), 1);
        }
    }
    // Stocks: the state at the end of each day; MRR movements: each customer's
    // change in MRR from the end of one day to the end of the next.
    let mut customers = MovementBook::default();
    for &day in days {
        let at = end_of(day, tz) - 1;
        let (mut mrr, mut active) = (0, 0);
        let mut levels: BTreeMap<String, i64> = BTreeMap::new();
        for subscription in &ledger.subscriptions {
            let Some(period) = subscription.period_at(at) else {
                continue;
            };
            // What the period's invoice billed: nothing in a trial, less the coupon.
            let billed = period.billed();
            let months = i64::from(period.interval.months(period.interval_count));
            let subscription_mrr = monthly(billed, months);
            mrr += subscription_mrr;
            *levels.entry(subscription.customer.clone()).or_default() += subscription_mrr;
            if billed > 0 {
                active += 1;
            }
        }
        add("mrr", day, mrr);
        add("arr", day, 12 * mrr);
        add("active_subscriptions", day, active);
        if active > 0 {
            add("arpu", day, (2 * mrr + active) / (2 * active));
        }
        customers.day(day, &levels, &mut add);
    }
    out
}

/// Each customer's MRR at the end of a day against the end of the day before, sorted
/// into movements as ChartMogul and Baremetrics define them: written from those
/// definitions here, not by the code that derives them.
#[derive(Default)]
pub struct MovementBook {
    /// Customer → (MRR at the end of the last day, whether they ever paid).
    customers: BTreeMap<String, (i64, bool)>,
}

impl MovementBook {
    /// Books `day`, given every customer's MRR at its end (customers with none may be
    /// left out), through `add(metric, day, value)`.
    pub fn day(
        &mut self,
        day: NaiveDate,
        levels: &BTreeMap<String, i64>,
        add: &mut impl FnMut(&'static str, NaiveDate, i64),
    ) {
        for customer in levels.keys() {
            self.customers.entry(customer.clone()).or_insert((0, false));
        }
        let mut paying = 0;
        for (customer, (before, paid_before)) in self.customers.iter_mut() {
            let level = levels.get(customer).copied().unwrap_or(0);
            let movement = match (*before > 0, level > 0) {
                (false, true) if *paid_before => Some(("mrr_reactivation", level)),
                (false, true) => Some(("mrr_new", level)),
                (true, false) => {
                    add("churned_customers", day, 1);
                    Some(("mrr_churned", -*before))
                }
                (true, true) if level != *before => Some((
                    if level > *before {
                        "mrr_expansion"
                    } else {
                        "mrr_contraction"
                    },
                    level - *before,
                )),
                _ => None,
            };
            if let Some((metric, value)) = movement {
                add(metric, day, value);
                // All kinds in one metric, by its `movement` dimension.
                add("mrr_movements", day, value);
            }
            // What customers paying the day before lost, and their net change.
            if *before > 0 && level < *before {
                add("lost_mrr", day, *before - level);
            }
            if *before > 0 && level != *before {
                add("retained_mrr_change", day, level - *before);
            }
            *paid_before |= level > 0;
            *before = level;
            paying += i64::from(level > 0);
        }
        add("paying_customers", day, paying);
    }
}

/// The metrics derived from MRR events that name their customer, in catalog order.
pub const MOVEMENT_METRICS: [&str; 10] = [
    "mrr_movements",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churned",
    "mrr_reactivation",
    "paying_customers",
    "churned_customers",
    "lost_mrr",
    "retained_mrr_change",
];

/// Metrics a short history may never move.
pub const MAY_STAY_ZERO: &[&str] = &[
    "churned_subscriptions",
    "churned_customers",
    "mrr_churned",
    "mrr_contraction",
    "mrr_expansion",
    "mrr_reactivation",
    "lost_mrr",
    "retained_mrr_change",
    "trial_conversions",
];

pub fn assert_matches_ledger(
    actual: &BTreeMap<String, BTreeMap<NaiveDate, i64>>,
    ledger: &StripeLedger,
    tz: Tz,
    label: &str,
) {
    let first = day_of(ledger.start, tz);
    let last = day_of(ledger.end, tz);
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let expected = expected(ledger, tz, &days);
    for (metric, by_day) in &expected {
        let got = actual
            .get(*metric)
            .unwrap_or_else(|| panic!("{label}: no snapshots of {metric}"));
        let mut mismatches = Vec::new();
        for day in &days {
            let want = by_day.get(day).copied().unwrap_or(0);
            let have = got.get(day).copied().unwrap_or(0);
            if want != have {
                mismatches.push(format!("{day}: ledger {want}, synced {have}"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{label}: {metric} differs on {} of {} days, e.g. {:?}",
            mismatches.len(),
            days.len(),
            &mismatches[..mismatches.len().min(5)]
        );
        let total: i64 = by_day.values().sum();
        assert!(
            total != 0 || MAY_STAY_ZERO.contains(metric),
            "{label}: the ledger has {metric}"
        );
    }
}

async fn jobs(app: &TestApp, user: &TestUser) -> Vec<Value> {
    user.client
        .get(app.url(&format!("/api/orgs/{}/sync-jobs", user.org_slug)))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

async fn event_count(app: &TestApp, integration: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM metric_events WHERE integration_id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub async fn agency(app: &TestApp, user: &TestUser) {
    sqlx::query("UPDATE organizations SET plan = 'agency' WHERE id = $1")
        .bind(user.org_id)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn stripe_numbers_equal_the_ledger_in_three_time_zones_and_follow_changes() {
    let (app, sim) = spawn_app_with_simulator(small_history(100)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    let zones = ["America/New_York", "UTC", "Asia/Kolkata"];
    let mut stores = Vec::new();
    for zone in zones {
        stores.push((zone, stripe_store(&app, &ann, zone).await));
    }
    // Connecting queued the first sync of each; one run does each fully.
    assert_eq!(run_all(&app).await, 3);
    let ledger = sim.stripe_ledger();
    assert!(
        ledger.charges.len() > 100,
        "a meaningful history: {}",
        ledger.charges.len()
    );
    for (zone, (store_id, _)) in &stores {
        let tz: Tz = zone.parse().unwrap();
        assert_matches_ledger(&snapshots(&app, *store_id).await, &ledger, tz, zone);
    }
    let history = jobs(&app, &ann).await;
    assert!(
        history
            .iter()
            .all(|j| j["status"] == "success" && j["sync_type"] == "backfill"),
        "{history:?}"
    );
    let first_records = history[0]["records_synced"].as_i64().unwrap();
    assert!(first_records as usize >= ledger.charges.len());

    // A refund after the sync: the next sync reads only events, and the numbers follow.
    let (_, (store_id, integration)) = stores[0];
    let events_before = event_count(&app, integration).await;
    let charge = ledger
        .charges
        .iter()
        .rev()
        .find(|c| c.status == ChargeStatus::Succeeded && c.amount_refunded == 0)
        .unwrap()
        .id
        .clone();
    sim.refund_stripe_charge(&charge, 1234).unwrap();
    let response = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let again = ann
        .client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "a queued job is returned, not duplicated"
    );
    assert_eq!(run_all(&app).await, 1);
    let latest = &jobs(&app, &ann).await[0];
    assert_eq!(latest["status"], "success");
    assert_eq!(latest["sync_type"], "incremental");
    assert!(
        latest["records_synced"].as_i64().unwrap() < first_records / 10,
        "{latest}"
    );
    let ledger = sim.stripe_ledger();
    let tz: Tz = "America/New_York".parse().unwrap();
    assert_matches_ledger(
        &snapshots(&app, store_id).await,
        &ledger,
        tz,
        "after a refund",
    );
    // The refund added its two events (refunds, net revenue) and its balance
    // transaction one (net volume: a refund carries no fee), and nothing else moved.
    assert_eq!(event_count(&app, integration).await, events_before + 3);

    // Replaying (another sync over the same overlap window) changes nothing.
    let before = snapshots(&app, store_id).await;
    ann.client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(event_count(&app, integration).await, events_before + 3);
    assert_eq!(snapshots(&app, store_id).await, before);
}

/// One integration with a queued job, for the queue tests.
async fn queued_job(app: &TestApp, user: &TestUser) -> Uuid {
    let (_, integration) = stripe_store(app, user, "UTC").await;
    sqlx::query_scalar("SELECT id FROM sync_jobs WHERE integration_id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn job_row(app: &TestApp, id: Uuid) -> (String, i32, Option<String>) {
    job_row_in(&app.db, id).await
}

#[tokio::test]
async fn two_workers_never_share_a_job_and_a_lost_worker_is_fenced_out() {
    let (app, _sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let job_id = queued_job(&app, &ann).await;
    let pool = app.app_state.db.pool();
    let lease = Duration::from_secs(30);

    let (a, b) = tokio::join!(
        queue::claim(pool, "a", lease),
        queue::claim(pool, "b", lease)
    );
    let claimed: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(claimed.len(), 1, "exactly one worker got the job");
    let stale = claimed[0].clone();
    assert_eq!(stale.id, job_id);

    // The worker dies: its lease runs out and the reaper puts the job back.
    sqlx::query(
        "UPDATE sync_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(job_id)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(queue::reap_expired(pool).await.unwrap(), 1);
    assert_eq!(job_row(&app, job_id).await.0, "queued");

    // Another worker completes it, once.
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, _) = job_row(&app, job_id).await;
    assert_eq!((status.as_str(), attempt), ("success", 2));

    // The stale worker's late results are refused.
    let mut conn = pool.acquire().await.unwrap();
    assert!(!queue::heartbeat(&mut *conn, &stale, lease).await.unwrap());
    let recorded = queue::finish(&mut conn, &stale, &queue::Outcome::Retry("late".into()))
        .await
        .unwrap();
    assert!(!recorded);
    assert_eq!(job_row(&app, job_id).await.0, "success");
}

#[tokio::test]
async fn rate_limits_wait_without_spending_attempts_and_server_errors_retry() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let job_id = queued_job(&app, &ann).await;

    // A long Retry-After hands the job back to the queue for later, attempt unspent.
    sim.rate_limit("stripe.customers", 10, Duration::from_secs(120));
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, error) = job_row(&app, job_id).await;
    assert_eq!((status.as_str(), attempt), ("queued", 0), "{error:?}");
    let wait: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM run_after - now())::float8 FROM sync_jobs WHERE id = $1",
    )
    .bind(job_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(wait > 100.0, "{wait}");

    // Server errors are retried inside the run with backoff, then it succeeds.
    sim.clear_faults();
    sim.fail("stripe.charges", 2);
    sqlx::query("UPDATE sync_jobs SET run_after = now() WHERE id = $1")
        .bind(job_id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(job_row(&app, job_id).await.0, "success");
}

#[tokio::test]
async fn a_sync_past_the_plan_cap_stops_cleanly_and_keeps_what_it_stored() {
    let (app, _sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // Almost at the free plan's monthly cap already.
    sqlx::query(
        "INSERT INTO usage_counters (org_id, month, metric_events)
         VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1000000 - 150)",
    )
    .bind(ann.org_id)
    .execute(&app.db)
    .await
    .unwrap();
    let job_id = queued_job(&app, &ann).await;
    assert_eq!(run_all(&app).await, 1);
    let (status, _, error) = job_row(&app, job_id).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("plan allows"));
    let usage: Value = ann
        .client
        .get(app.url("/api/orgs/acme/usage"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["plan"]["id"], "free");
    let used = usage["metric_events_this_month"].as_i64().unwrap();
    assert!(used <= 1_000_000, "{usage}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored,
        used - (1_000_000 - 150),
        "usage counts exactly what was stored"
    );
    let integration: Value = ann
        .client
        .get(app.url("/api/orgs/acme/integrations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(integration[0]["sync_error"]
        .as_str()
        .unwrap()
        .contains("plan"));
}

#[tokio::test]
async fn cron_routes_need_the_secret() {
    let secret = "cron-secret-for-tests";
    let sim = pulseboard_simulator::Simulator::start(small_history(10))
        .await
        .unwrap();
    let app = crate::helpers::spawn_app_with(|c| {
        crate::helpers::use_simulator(c, &sim);
        c.cron_secret = Some(secret.to_owned().into());
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let client = reqwest::Client::new();
    for path in ["/api/cron/enqueue-syncs", "/api/cron/run-syncs"] {
        let missing = client.post(app.url(path)).send().await.unwrap();
        expect_error(missing, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let wrong = client
            .post(app.url(path))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        expect_error(wrong, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let _ = queued_job(&app, &ann).await;
    let ran: Value = client
        .post(app.url("/api/cron/run-syncs"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ran["count"], 1);
    // Just synced: nothing is due, and a second pass adds nothing either.
    for _ in 0..2 {
        let queued: Value = client
            .post(app.url("/api/cron/enqueue-syncs"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(queued["count"], 0);
    }
    sqlx::query("UPDATE integrations SET last_synced_at = now() - interval '1 hour'")
        .execute(&app.db)
        .await
        .unwrap();
    for expected in [1, 0] {
        let queued: Value = client
            .post(app.url("/api/cron/enqueue-syncs"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(queued["count"], expected, "never a duplicate");
    }
}

#[tokio::test]
async fn a_worker_dropped_mid_job_is_replaced_and_nothing_is_counted_twice() {
    let (app, sim) = spawn_app_with_simulator(small_history(60)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, integration) = stripe_store(&app, &ann, "UTC").await;
    let job_id: Uuid = sqlx::query_scalar("SELECT id FROM sync_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();

    // The charges list hangs; the worker is killed while it waits, after it has
    // committed the customers, subscriptions and invoices pages.
    sim.hang("stripe.charges", 1, Duration::from_secs(30));
    let state = app.app_state.clone();
    let worker = tokio::spawn(async move { runner::run_next(&state, "doomed").await });
    while sim.calls("stripe.charges") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.abort();
    let _ = worker.await;
    let (status, _, _) = job_row(&app, job_id).await;
    assert_eq!(status, "running", "the dead worker still holds the lease");
    let cursor: Value = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE integration_id = $1 AND stream = 'stripe.backfill'",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        cursor["list"], "charges",
        "the cursor stands where the committed data ends"
    );
    let customers_listed = sim.calls("stripe.customers");

    // The lease runs out, the reaper requeues, a live worker resumes from the cursor.
    sim.clear_faults();
    sqlx::query("UPDATE sync_jobs SET lease_expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    queue::reap_expired(app.app_state.db.pool()).await.unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(job_row(&app, job_id).await.0, "success");
    assert_eq!(
        sim.calls("stripe.customers"),
        customers_listed,
        "resumed, not restarted"
    );
    assert_matches_ledger(
        &snapshots(&app, store_id).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after a crash",
    );
}

#[tokio::test]
async fn an_access_token_expiring_mid_sync_is_refreshed_once() {
    let (app, sim) = spawn_app_with_simulator(SimulatorConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..small_history(60)
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let started = crate::oauth::start_flow(&app, &ann, "stripe", None).await;
    crate::oauth::visit(&ann.client, &started.callback).await;
    sqlx::query("UPDATE integrations SET expires_at = now() + interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(sim.calls("stripe.token"), 1);
    assert_eq!(run_all(&app).await, 1);
    let job = &jobs(&app, &ann).await[0];
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(
        sim.calls("stripe.token"),
        2,
        "one refresh for a sync of many pages"
    );
    assert!(sim.calls("stripe.invoices") + sim.calls("stripe.charges") > 2);
}

#[tokio::test]
async fn a_failing_list_keeps_the_cursor_at_the_last_committed_page_and_retries() {
    let (app, sim) = spawn_app_with_simulator(small_history(30)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, integration) = stripe_store(&app, &ann, "UTC").await;
    let job_id: Uuid = sqlx::query_scalar("SELECT id FROM sync_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    sim.fail("stripe.invoices", 100);
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, error) = job_row(&app, job_id).await;
    assert_eq!(
        (status.as_str(), attempt),
        ("queued", 1),
        "retried later: {error:?}"
    );
    let invoices: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM raw_records WHERE integration_id = $1 AND object_type = 'invoice'",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(invoices, 0);
    let cursor: Value = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE integration_id = $1 AND stream = 'stripe.backfill'",
    )
    .bind(integration)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(cursor["list"], "invoices");
    let events_cursor: Option<Value> = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE integration_id = $1 AND stream = 'stripe.events'",
    )
    .bind(integration)
    .fetch_optional(&app.db)
    .await
    .unwrap();
    assert!(
        events_cursor.is_none(),
        "the events cursor waits for the whole backfill"
    );

    sim.clear_faults();
    sqlx::query("UPDATE sync_jobs SET run_after = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(job_row(&app, job_id).await.0, "success");
    assert_matches_ledger(
        &snapshots(&app, store_id).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after retry",
    );
}

#[tokio::test]
async fn the_database_restarting_mid_job_ends_in_a_retried_correct_sync() {
    use pulseboard_server::db::embedded::{BinarySearch, EmbeddedPostgres};
    // A PostgreSQL of this test's own, so stopping it disturbs no other test.
    let dir = crate::embedded::data_dir();
    let search = BinarySearch::from_environment(None);
    let mut pg = EmbeddedPostgres::start(dir.path(), &search).await.unwrap();
    let sim = pulseboard_simulator::Simulator::start(small_history(30))
        .await
        .unwrap();
    let url = pg.database_url();
    let app = crate::helpers::spawn_app_with(|c| {
        crate::helpers::use_simulator(c, &sim);
        c.database_url = Some(url.into());
    })
    .await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, _) = stripe_store(&app, &ann, "UTC").await;
    let db = app.app_state.db.pool();
    let job_id: Uuid = sqlx::query_scalar("SELECT id FROM sync_jobs")
        .fetch_one(db)
        .await
        .unwrap();

    // The database goes away while the worker waits on Stripe, and comes back.
    sim.hang("stripe.charges", 1, Duration::from_secs(1));
    let state = app.app_state.clone();
    let worker = tokio::spawn(async move { runner::run_next(&state, "w1").await });
    while sim.calls("stripe.charges") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop().await;
    let _ = tokio::time::timeout(Duration::from_secs(30), worker)
        .await
        .expect("the worker gives up");
    let mut pg = EmbeddedPostgres::start(dir.path(), &search).await.unwrap();

    // Whatever the worker could not record, the lease and the retry take care of.
    sqlx::query("UPDATE sync_jobs SET lease_expires_at = now() - interval '1 second', run_after = now() WHERE status IN ('running', 'queued')")
        .execute(db)
        .await
        .unwrap();
    queue::reap_expired(db).await.unwrap();
    assert_eq!(run_all(&app).await, 1);
    let (status, attempt, _) = job_row_in(db, job_id).await;
    assert_eq!((status.as_str(), attempt), ("success", 2));
    let actual = snapshots_in(db, store_id).await;
    assert_matches_ledger(
        &actual,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after a database restart",
    );
    drop(app);
    pg.stop().await;
}

pub async fn job_row_in(db: &sqlx::PgPool, id: Uuid) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempt, error FROM sync_jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn snapshots_in(
    db: &sqlx::PgPool,
    store_id: Uuid,
) -> BTreeMap<String, BTreeMap<NaiveDate, i64>> {
    let rows: Vec<(String, NaiveDate, i64)> = sqlx::query_as(
        "SELECT d.metric_name, s.captured_on, s.value FROM metric_snapshots s
         JOIN metric_definitions d ON d.id = s.metric_def_id WHERE d.store_id = $1",
    )
    .bind(store_id)
    .fetch_all(db)
    .await
    .unwrap();
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for (metric, day, value) in rows {
        out.entry(metric).or_default().insert(day, value);
    }
    out
}

#[tokio::test]
async fn plans_cap_stores_and_integrations_and_cadence_is_adjustable() {
    let (app, _sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    // The free plan: two stores (sign-up made one), three integrations.
    let (_, integration) = stripe_store(&app, &ann, "UTC").await;
    let third = ann
        .client
        .post(app.url("/api/orgs/acme/stores"))
        .json(&json!({ "workspace_id": ann.workspace_id, "name": "Third", "currency": "USD", "timezone": "UTC" }))
        .send()
        .await
        .unwrap();
    let body = expect_error(third, StatusCode::CONFLICT, "plan_limit").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 stores"),
        "{body}"
    );
    let connected = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/stripe/api-key"))
        .json(&json!({ "store_id": ann.store_id, "fields": { "api_key": defaults::STRIPE_RESTRICTED_KEY } }))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), StatusCode::CREATED);
    // The simulator has one Stripe account; a third connection is another account.
    sqlx::query(
        "INSERT INTO integrations (id, org_id, store_id, provider, auth_kind, external_account_id, account_label, cadence_minutes)
         VALUES (gen_random_uuid(), $1, $2, 'stripe', 'api_key', 'acct_other', 'Other', 15)",
    )
    .bind(ann.org_id)
    .bind(ann.store_id)
    .execute(&app.db)
    .await
    .unwrap();
    let refused = ann
        .client
        .post(app.url("/api/orgs/acme/integrations/stripe/connect"))
        .json(&json!({ "store_id": ann.store_id }))
        .send()
        .await
        .unwrap();
    expect_error(refused, StatusCode::CONFLICT, "plan_limit").await;
    let usage: Value = ann
        .client
        .get(app.url("/api/orgs/acme/usage"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (usage["stores"].as_i64(), usage["integrations"].as_i64()),
        (Some(2), Some(3))
    );

    let patched: Value = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/integrations/{integration}")))
        .json(&json!({ "cadence_minutes": 120 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["cadence_minutes"], 120);
    let invalid = ann
        .client
        .patch(app.url(&format!("/api/orgs/acme/integrations/{integration}")))
        .json(&json!({ "cadence_minutes": 1 }))
        .send()
        .await
        .unwrap();
    expect_error(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_cursor_older_than_stripes_event_retention_starts_a_full_relist() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store_id, integration) = stripe_store(&app, &ann, "UTC").await;
    assert_eq!(run_all(&app).await, 1);
    sqlx::query(
        "UPDATE sync_cursors SET cursor = jsonb_build_object('created', extract(epoch FROM now() - interval '40 days')::bigint)
         WHERE integration_id = $1 AND stream = 'stripe.events'",
    )
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();
    let charges_listed = sim.calls("stripe.charges");
    ann.client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(jobs(&app, &ann).await[0]["sync_type"], "backfill");
    assert!(sim.calls("stripe.charges") > charges_listed);
    assert_matches_ledger(
        &snapshots(&app, store_id).await,
        &sim.stripe_ledger(),
        Tz::UTC,
        "after a re-list",
    );
}

#[tokio::test]
async fn deleting_a_store_deletes_its_metric_events_and_no_others() {
    let (app, _sim) = spawn_app_with_simulator(small_history(10)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    agency(&app, &ann).await;
    let (store_id, integration) = stripe_store(&app, &ann, "UTC").await;
    let (_, kept) = stripe_store(&app, &ann, "Europe/Berlin").await;
    run_all(&app).await;
    assert!(event_count(&app, integration).await > 0);
    let before = event_count(&app, kept).await;
    assert!(before > 0);
    let deleted = ann
        .client
        .delete(app.url(&format!("/api/orgs/acme/stores/{store_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(event_count(&app, integration).await, 0);
    assert_eq!(event_count(&app, kept).await, before);
}

/// What the Shopify ledger says each metric was per local day.
pub fn shopify_expected(
    ledger: &pulseboard_simulator::ShopifyLedger,
    tz: Tz,
) -> BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<&'static str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut add = |metric: &'static str, at: i64, value: i64| {
        *out.entry(metric)
            .or_default()
            .entry(day_of(at, tz))
            .or_default() += value;
    };
    for order in ledger
        .orders
        .iter()
        .filter(|o| !o.test && o.cancelled_at.is_none())
    {
        // Shopify's sales report: sales on the order's day, what refunds give back on
        // the refund's day; net = gross - discounts - returns, total = net +
        // shipping + taxes.
        let placed = order.processed_at;
        add("orders", placed, 1);
        for line in &order.lines {
            let gross = line.unit_price * i64::from(line.quantity);
            add("gross_sales", placed, gross);
            add("discounts", placed, gross - line.discounted_total);
            add("net_sales", placed, line.discounted_total);
            add("total_sales", placed, line.discounted_total);
            add("units_sold", placed, i64::from(line.quantity));
        }
        // Shopify's customer journey: which of the customer's orders this is.
        if let Some(index) = order.customer_order_index {
            let (count, sales) = if index > 1 {
                ("returning_customer_orders", "returning_customer_sales")
            } else {
                ("first_orders", "new_customer_sales")
            };
            add(count, placed, 1);
            add(
                sales,
                placed,
                order.lines.iter().map(|l| l.discounted_total).sum(),
            );
        }
        add("shipping", placed, order.total_shipping);
        add("taxes", placed, order.total_tax);
        add(
            "total_sales",
            placed,
            order.total_shipping + order.total_tax,
        );
        for refund in &order.refunds {
            assert_eq!(refund.returns + refund.shipping + refund.tax, refund.amount);
            add("refunds", refund.created_at, refund.amount);
            add("returns", refund.created_at, refund.returns);
            add("net_sales", refund.created_at, -refund.returns);
            add("shipping", refund.created_at, -refund.shipping);
            add("taxes", refund.created_at, -refund.tax);
            add("total_sales", refund.created_at, -refund.amount);
        }
    }
    for customer in &ledger.customers {
        if customer.number_of_orders >= 1 {
            add("new_customers", customer.created_at, 1);
        }
        if customer.number_of_orders >= 2 {
            add("returning_customers", customer.created_at, 1);
        }
    }
    for checkout in ledger.checkouts.iter().filter(|c| c.completed_at.is_none()) {
        add("abandoned_checkouts", checkout.created_at, 1);
    }
    out
}

#[tokio::test]
async fn shopify_numbers_equal_the_ledger_and_follow_refunds_and_edits() {
    let mut config = small_history(45);
    config.data.shopify_daily_orders = 25.0;
    // Shopify's bucket refills fast here; the throttling itself is tested in the connectors crate.
    config.shopify_bucket = pulseboard_simulator::ThrottleConfig {
        maximum_available: 1000.0,
        restore_rate: 100_000.0,
    };
    let (app, sim) = spawn_app_with_simulator(config).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    sqlx::query("UPDATE stores SET timezone = 'Europe/Berlin' WHERE id = $1")
        .bind(ann.store_id)
        .execute(&app.db)
        .await
        .unwrap();
    let started = crate::oauth::start_flow(&app, &ann, "shopify", Some("acme-coffee")).await;
    crate::oauth::visit(&ann.client, &started.callback).await;
    assert_eq!(run_all(&app).await, 1);
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let shop = "acme-coffee.myshopify.com";

    let check = |label: &'static str,
                 actual: BTreeMap<String, BTreeMap<NaiveDate, i64>>,
                 ledger: pulseboard_simulator::ShopifyLedger| {
        let expected = shopify_expected(&ledger, tz);
        for (metric, by_day) in &expected {
            let got = actual
                .get(*metric)
                .unwrap_or_else(|| panic!("{label}: no snapshots of {metric}"));
            for (day, want) in by_day {
                assert_eq!(
                    got.get(day).copied().unwrap_or(0),
                    *want,
                    "{label}: {metric} on {day}"
                );
            }
            let extra: i64 = got
                .iter()
                .filter(|(d, _)| !by_day.contains_key(d))
                .map(|(_, v)| v)
                .sum();
            assert_eq!(
                extra, 0,
                "{label}: {metric} has values on days the ledger has none"
            );
        }
        assert!(expected["orders"].values().sum::<i64>() > 100);
        // Shopify's identities, day by day, on what the API stored.
        let value = |metric: &str, day: &NaiveDate| {
            actual
                .get(metric)
                .and_then(|m| m.get(day))
                .copied()
                .unwrap_or(0)
        };
        for day in actual["orders"].keys() {
            let net = value("net_sales", day);
            assert_eq!(
                net,
                value("gross_sales", day) - value("discounts", day) - value("returns", day),
                "{label}: net sales on {day}"
            );
            assert_eq!(
                value("total_sales", day),
                net + value("shipping", day) + value("taxes", day),
                "{label}: total sales on {day}"
            );
        }
    };
    check(
        "backfill",
        snapshots(&app, ann.store_id).await,
        sim.shopify_ledger(shop),
    );

    // The returning-customer and repeat-purchase rates over the last 30 days, in
    // basis points rounded half up, from the ledger's orders and customers.
    let ledger = sim.shopify_ledger(shop);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let window = |at: i64| {
        let day = day_of(at, tz);
        day >= today - Days::new(30) && day < today
    };
    let counted: Vec<_> = ledger
        .orders
        .iter()
        .filter(|o| !o.test && o.cancelled_at.is_none() && window(o.processed_at))
        .collect();
    let returning = counted
        .iter()
        .filter(|o| o.customer_order_index.is_some_and(|i| i > 1))
        .count() as i64;
    let bp = |part: i64, whole: i64| (2 * part * 10_000 + whole) / (2 * whole);
    let acquired: Vec<_> = ledger
        .customers
        .iter()
        .filter(|c| c.number_of_orders >= 1 && window(c.created_at))
        .collect();
    let repeat = acquired.iter().filter(|c| c.number_of_orders >= 2).count() as i64;
    assert!(returning > 0 && repeat > 0);
    for (metric, want) in [
        (
            "returning_customer_rate",
            bp(returning, counted.len() as i64),
        ),
        ("repeat_purchase_rate", bp(repeat, acquired.len() as i64)),
    ] {
        let r = crate::metrics::query(
            &app,
            &ann,
            json!({ "metric": format!("computed.{metric}"), "range": "last_30_days", "scope": { "store": ann.store_id } }),
        )
        .await;
        assert_eq!(r["total"].as_i64(), Some(want), "{metric}: {r}");
    }

    // Top products are named by their titles in the shop's catalogue.
    let top = crate::metrics::query(
        &app,
        &ann,
        json!({ "metric": "shopify.gross_sales", "range": "last_30_days", "group_by": "product", "scope": { "store": ann.store_id } }),
    )
    .await;
    let groups = top["groups"].as_array().unwrap();
    assert!(groups.len() >= 3, "{top}");
    for group in groups {
        let product = ledger
            .products
            .iter()
            .find(|p| group["key"] == format!("gid://shopify/Product/{}", p.id))
            .unwrap_or_else(|| panic!("{group} is not a ledger product"));
        assert_eq!(group["label"], product.title.as_str(), "{group}");
    }

    // A refund and an edit after the sync: the next sync fetches just those orders.
    let ledger = sim.shopify_ledger(shop);
    let live: Vec<_> = ledger
        .orders
        .iter()
        .filter(|o| !o.test && o.cancelled_at.is_none() && o.total_refunded == 0)
        .collect();
    sim.refund_shopify_order(shop, live[live.len() - 3].id, 500)
        .unwrap();
    sim.edit_shopify_order(shop, live[live.len() - 5].id)
        .unwrap();
    // An order placed weeks ago, edited now: Shopify's report books the edit on the
    // order's day, and so does the sync (the order's figures are replaced).
    sim.edit_shopify_order(shop, live[live.len() / 3].id)
        .unwrap();
    // A partial return that gives back the shipping too: all but one unit of money.
    let shipped = live[..live.len() - 6]
        .iter()
        .rev()
        .find(|o| o.total_shipping > 0)
        .expect("an order with shipping");
    let refund = sim
        .refund_shopify_order(shop, shipped.id, shipped.total_price - 100)
        .unwrap();
    assert!(refund.shipping > 0 && !refund.full, "{refund:?}");
    let integration: Uuid = sqlx::query_scalar("SELECT id FROM integrations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    ann.client
        .post(app.url(&format!("/api/orgs/acme/integrations/{integration}/sync")))
        .send()
        .await
        .unwrap();
    assert_eq!(run_all(&app).await, 1);
    let job = &jobs(&app, &ann).await[0];
    assert_eq!(job["sync_type"], "incremental");
    assert!(job["records_synced"].as_i64().unwrap() < 100, "{job}");
    check(
        "after a refund and an edit",
        snapshots(&app, ann.store_id).await,
        sim.shopify_ledger(shop),
    );
}

/// The scheduler's advisory lock: how many sessions hold it, and which.
pub async fn scheduler_holders(db: &sqlx::PgPool) -> Vec<i32> {
    // Session-level advisory locks on a bigint key are (classid, objid) = (high, low).
    let key: i64 = 0x7075_6c73_6573_6368;
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = ($1 >> 32)::oid AND objid = ($1 & 4294967295)::oid",
    )
    .bind(key)
    .fetch_all(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn one_scheduler_at_a_time_and_another_takes_over() {
    let sim = pulseboard_simulator::Simulator::start(small_history(10))
        .await
        .unwrap();
    let fast = |c: &mut pulseboard_server::config::Config| {
        crate::helpers::use_simulator(c, &sim);
        c.sync.schedule_every = Duration::from_millis(100);
    };
    let first = crate::helpers::spawn_app_with(fast).await;
    let ann = first.signup("ann@example.com", "Acme").await;
    stripe_store(&first, &ann, "UTC").await;
    // Advisory locks are per database: watch this one's.
    let observer = sqlx::PgPool::connect(&first.database_url).await.unwrap();
    let wait_for_holder = |not: Option<i32>| {
        let observer = observer.clone();
        async move {
            for _ in 0..100 {
                let holders = scheduler_holders(&observer).await;
                if holders.len() == 1 && Some(holders[0]) != not {
                    return holders[0];
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            type AdvisoryLock = (Option<i64>, Option<i64>, Option<i32>, bool);
            let all: Vec<AdvisoryLock> = sqlx::query_as(
                "SELECT classid::bigint, objid::bigint, pid, granted FROM pg_locks WHERE locktype = 'advisory'",
            )
            .fetch_all(&observer)
            .await
            .unwrap();
            panic!("no single new scheduler appeared: {all:?}");
        }
    };
    let leader = wait_for_holder(None).await;

    let url = first.database_url.clone();
    let second = crate::helpers::spawn_app_with(|c| {
        fast(c);
        c.database_url = Some(url.into());
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        scheduler_holders(&observer).await,
        vec![leader],
        "the second process waits"
    );
    // Both processes tick, and the integration still has exactly one live job.
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sync_jobs WHERE status IN ('queued', 'running')")
            .fetch_one(&observer)
            .await
            .unwrap();
    assert_eq!(live, 1);

    // The scheduler's process stops; the other takes over at its next tick.
    drop(first);
    let successor = wait_for_holder(Some(leader)).await;
    assert_ne!(successor, leader);
    drop(second);
}

/// After an upgrade whose provider sync reads or derives more (a higher
/// `sync_version`), an integration's next sync reads everything again, once: the
/// metrics the older version never derived appear for the whole history.
#[tokio::test]
async fn a_newer_provider_sync_reads_everything_again_once() {
    let (app, sim) = spawn_app_with_simulator(small_history(20)).await;
    let ann = app.signup("ann@example.com", "Acme").await;
    let (store, integration) = stripe_store(&app, &ann, "UTC").await;
    assert_eq!(run_all(&app).await, 1);
    let fees = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT sum(metric_value)::bigint FROM metric_events WHERE integration_id = $1 AND metric_name = 'stripe_fees'",
            )
            .bind(integration)
            .fetch_one(&db)
            .await
            .unwrap()
            .unwrap_or(0)
        }
    };
    let synced = fees(&app).await;
    assert!(synced > 0);

    // As the data of a version that derived no fees: none stored, cursors at the end.
    sqlx::query(
        "DELETE FROM metric_events WHERE integration_id = $1 AND source_record_id LIKE 'balance_transaction/%'",
    )
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("DELETE FROM sync_cursors WHERE integration_id = $1 AND stream = 'stripe.balance'")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE integrations SET sync_version = 1 WHERE id = $1")
        .bind(integration)
        .execute(&app.db)
        .await
        .unwrap();
    // Forget the raw balance transactions too, so only a full re-read brings them back.
    sqlx::query(
        "DELETE FROM raw_records WHERE integration_id = $1 AND object_type = 'balance_transaction'",
    )
    .bind(integration)
    .execute(&app.db)
    .await
    .unwrap();

    assert!(app.request_sync(&ann, integration).await.is_success());
    assert_eq!(run_all(&app).await, 1);
    let latest = &jobs(&app, &ann).await[0];
    assert_eq!(latest["sync_type"], "backfill", "{latest}");
    assert_eq!(fees(&app).await, synced, "fees for the whole history again");
    let version: i32 = sqlx::query_scalar("SELECT sync_version FROM integrations WHERE id = $1")
        .bind(integration)
        .fetch_one(&app.db)
        .await
        .unwrap();
    // Stripe's current sync version (3: discount-aware MRR, trials and movements).
    assert_eq!(version, 3);
    let ledger = sim.stripe_ledger();
    assert_matches_ledger(
        &snapshots(&app, store).await,
        &ledger,
        "UTC".parse().unwrap(),
        "after the re-read",
    );

    // Once: the next sync is incremental again.
    assert!(app.request_sync(&ann, integration).await.is_success());
    assert_eq!(run_all(&app).await, 1);
    assert_eq!(jobs(&app, &ann).await[0]["sync_type"], "incremental");
}
