//! The drift check (DESIGN §7): after a successful sync, yesterday's totals (the
//! store's day before today, in its time zone) are recomputed from the provider's
//! own summary ([`Pull::source_totals`](pulseboard_connectors::Pull::source_totals):
//! Stripe's balance transactions, Shopify's listing of the day's orders by processing
//! date) and compared with the metric events Pulseboard
//! booked for the same instants, once per integration and day. The records that
//! explain a difference are the source records present on one side only or with
//! other amounts on each.
//!
//! A difference is a **warning** when it is not zero and either above 0.5 % of the
//! provider's value (money) or the metric is a count (any count difference).
//! Provider errors are logged and never fail the sync; the check runs again after
//! the next successful sync.
//!
//! A day with warnings is announced once, by mail to the organization's owners and
//! admins who take alert mail (kind `drift`): the metrics, both totals and the
//! records that explain the difference ([`notify_warnings`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use pulseboard_connectors::{SourceTotal, SyncRequest};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::sink::Target;
use crate::state::AppState;

/// Records kept per check; the rest are counted in `records_left_out`.
const RECORDS_KEPT: usize = 50;
/// Metrics counting things rather than summing money: any difference warns.
const COUNT_METRICS: &[&str] = &["successful_charges", "orders", "new_customers"];

/// Whether a difference is worth a warning (see the module doc).
pub fn is_warning(metric: &str, source: i64, difference: i64) -> bool {
    difference != 0
        && (COUNT_METRICS.contains(&metric)
            || i128::from(difference).abs() * 1000 > i128::from(source).abs() * 5)
}

/// The store-local day before `now` and its instants `[from, to)`.
pub fn yesterday(tz: Tz, now: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let today = now.with_timezone(&tz).date_naive();
    let day = today - Duration::days(1);
    (day, start_of(tz, day), start_of(tz, today))
}

fn start_of(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::MIN);
    // Midnight skipped by a DST jump: the first hour that exists.
    (0..48)
        .find_map(|quarter| {
            tz.from_local_datetime(&(local + Duration::minutes(15 * quarter)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// One record that differs: its amount by the provider and by Pulseboard (`None`
/// when that side does not have it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct DriftRecord {
    /// The source record (`charge/ch_…`), as the explain view names it.
    pub record: String,
    pub source: Option<i64>,
    pub pulseboard: Option<i64>,
}

/// The records on which the two sides disagree, largest gap first.
pub fn differing(source: &[(String, i64)], pulseboard: &[(String, i64)]) -> Vec<DriftRecord> {
    let mut sides: BTreeMap<&str, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for (record, value) in source {
        let side = &mut sides.entry(record).or_default().0;
        *side = Some(side.unwrap_or(0) + value);
    }
    for (record, value) in pulseboard {
        let side = &mut sides.entry(record).or_default().1;
        *side = Some(side.unwrap_or(0) + value);
    }
    let mut records: Vec<DriftRecord> = sides
        .into_iter()
        .filter(|(_, (s, p))| s.unwrap_or(0) != p.unwrap_or(0))
        .map(|(record, (source, pulseboard))| DriftRecord {
            record: record.to_owned(),
            source,
            pulseboard,
        })
        .collect();
    records.sort_by_key(|r| {
        std::cmp::Reverse((r.source.unwrap_or(0) - r.pulseboard.unwrap_or(0)).abs())
    });
    records
}

/// Runs yesterday's check for the integration unless it has one already. Never
/// fails: problems are logged.
pub async fn check_after_sync(
    app: &AppState,
    provider: &dyn pulseboard_connectors::Provider,
    request: &SyncRequest<'_>,
    target: &Target,
) {
    if let Err(error) = check(app, provider, request, target).await {
        tracing::warn!(%error, integration_id = %target.integration_id, "drift check failed; the next sync tries again");
    }
}

async fn check(
    app: &AppState,
    provider: &dyn pulseboard_connectors::Provider,
    request: &SyncRequest<'_>,
    target: &Target,
) -> anyhow::Result<()> {
    let (day, from, to) = yesterday(target.timezone, request.now);
    let mut tx = app.db.worker_tx().await?;
    let done: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM drift_checks WHERE integration_id = $1 AND day = $2)",
    )
    .bind(target.integration_id)
    .bind(day)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if done {
        return Ok(());
    }
    let Some(totals) = provider.source_totals(request, from, to).await? else {
        return Ok(());
    };
    let mut tx = app.db.worker_tx().await?;
    let mut warnings = Vec::new();
    for SourceTotal {
        metric,
        value,
        records,
    } in totals
    {
        let booked: Vec<(String, i64)> = sqlx::query_as(
            "SELECT source_record_id, sum(metric_value)::bigint FROM metric_events
             WHERE integration_id = $1 AND metric_name = $2
               AND recorded_at >= $3 AND recorded_at < $4
             GROUP BY source_record_id",
        )
        .bind(target.integration_id)
        .bind(metric)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *tx)
        .await?;
        let ours: i64 = booked.iter().map(|(_, v)| v).sum();
        let difference = ours - value;
        let mut differing = differing(&records, &booked);
        let left_out = differing.len().saturating_sub(RECORDS_KEPT);
        differing.truncate(RECORDS_KEPT);
        sqlx::query(
            "INSERT INTO drift_checks (org_id, store_id, integration_id, day, metric, source_value,
                 pulseboard_value, difference, warning, records, records_left_out)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (integration_id, day, metric) DO UPDATE SET
                 source_value = EXCLUDED.source_value, pulseboard_value = EXCLUDED.pulseboard_value,
                 difference = EXCLUDED.difference, warning = EXCLUDED.warning,
                 records = EXCLUDED.records, records_left_out = EXCLUDED.records_left_out,
                 checked_at = now()",
        )
        .bind(target.org_id)
        .bind(target.store_id)
        .bind(target.integration_id)
        .bind(day)
        .bind(metric)
        .bind(value)
        .bind(ours)
        .bind(difference)
        .bind(is_warning(metric, value, difference))
        .bind(json!(differing))
        .bind(left_out as i32)
        .execute(&mut *tx)
        .await?;
        if is_warning(metric, value, difference) {
            warnings.push(Warning {
                metric,
                source: value,
                ours,
                records: differing,
                left_out,
            });
        }
    }
    if !warnings.is_empty() {
        notify_warnings(app, &mut tx, provider, target, day, &warnings).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A metric whose difference is a warning, for the mail.
struct Warning {
    metric: &'static str,
    source: i64,
    ours: i64,
    records: Vec<DriftRecord>,
    left_out: usize,
}

/// Queues one mail per owner or admin who takes alert mail, in the check's
/// transaction: the check and its announcement commit together, once per day.
async fn notify_warnings(
    app: &AppState,
    conn: &mut sqlx::PgConnection,
    provider: &dyn pulseboard_connectors::Provider,
    target: &Target,
    day: NaiveDate,
    warnings: &[Warning],
) -> sqlx::Result<()> {
    let (label, currency): (String, String) = sqlx::query_as(
        "SELECT i.account_label, s.currency FROM integrations i JOIN stores s ON s.id = i.store_id
         WHERE i.id = $1",
    )
    .bind(target.integration_id)
    .fetch_one(&mut *conn)
    .await?;
    let info = provider.info();
    let (subject, body) = warning_mail(
        info.name,
        &label,
        &currency,
        day,
        warnings,
        |metric| {
            info.metrics
                .iter()
                .find(|spec| spec.id == metric)
                .map(|spec| (spec.name, spec.unit))
        },
        &app.config.link("/settings/integrations"),
    );
    let recipients = crate::db::alerts::members(&mut *conn, target.org_id, None).await?;
    for member in recipients
        .iter()
        .filter(|m| m.alert_mail && matches!(m.role.as_str(), "owner" | "admin"))
    {
        crate::db::outbox::enqueue(
            &mut *conn,
            crate::db::outbox::NewEmail::text(
                target.org_id,
                "drift",
                &member.email,
                &subject,
                &body,
            ),
        )
        .await?;
    }
    Ok(())
}

/// The mail's subject and text: per metric both totals, the difference and the
/// records behind it.
fn warning_mail(
    provider: &str,
    account: &str,
    currency: &str,
    day: NaiveDate,
    warnings: &[Warning],
    spec: impl Fn(&str) -> Option<(&'static str, pulseboard_connectors::MetricUnit)>,
    link: &str,
) -> (String, String) {
    use crate::notify::format;
    let day_words = day.format("%a %-d %b %Y").to_string();
    let names: Vec<&str> = warnings
        .iter()
        .map(|w| spec(w.metric).map_or(w.metric, |(name, _)| name))
        .collect();
    let subject = format!(
        "{provider} and Pulseboard disagree on {day_words}: {}",
        names.join(", ").to_lowercase()
    );
    let mut body = format!(
        "Pulseboard checked {day_words} for {account} against {provider}'s own totals, and they differ.\n"
    );
    for (warning, name) in warnings.iter().zip(&names) {
        let unit =
            spec(warning.metric).map_or(pulseboard_connectors::MetricUnit::Count, |(_, u)| u);
        let show = |v: i64| format::value(unit, Some(currency), v);
        body.push_str(&format!(
            "\n{name}: Pulseboard {}, {provider} {} (difference {}).\n",
            show(warning.ours),
            show(warning.source),
            show(warning.ours - warning.source),
        ));
        for record in &warning.records {
            let side = |v: Option<i64>| v.map_or_else(|| "missing".to_owned(), show);
            body.push_str(&format!(
                "  {}: {provider} {}, Pulseboard {}\n",
                record.record,
                side(record.source),
                side(record.pulseboard),
            ));
        }
        if warning.left_out > 0 {
            body.push_str(&format!("  and {} more records\n", warning.left_out));
        }
    }
    body.push_str(&format!(
        "\nThe integration's page shows the check: {link}\n\
         A sync usually closes a gap like this; if it stays, the records above are where to look.\n"
    ));
    (subject, body)
}

/// One metric's check of one day, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriftCheck {
    /// The store-local day checked.
    pub day: NaiveDate,
    pub metric: String,
    /// The provider's own total for the day (minor units for money).
    pub source_value: i64,
    /// What Pulseboard booked for the same day.
    pub pulseboard_value: i64,
    /// `pulseboard_value - source_value`.
    pub difference: i64,
    /// Above the threshold: not zero, and over 0.5 % of the provider's value or a
    /// count.
    pub warning: bool,
    /// The records explaining the difference, largest first (at most 50).
    pub records: Vec<DriftRecord>,
    /// Differing records beyond those listed.
    pub records_left_out: i32,
    pub checked_at: DateTime<Utc>,
}

type Row = (
    NaiveDate,
    String,
    i64,
    i64,
    i64,
    bool,
    serde_json::Value,
    i32,
    DateTime<Utc>,
);

/// The integration's checks of the last `days` days checked, newest first.
pub async fn recent(
    conn: &mut sqlx::PgConnection,
    org_id: Uuid,
    integration_id: Uuid,
    days: i64,
) -> Result<Vec<DriftCheck>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT day, metric, source_value, pulseboard_value, difference, warning, records,
                records_left_out, checked_at
         FROM drift_checks
         WHERE org_id = $1 AND integration_id = $2
           AND day >= (SELECT max(day) FROM drift_checks WHERE org_id = $1 AND integration_id = $2) - $3::int + 1
         ORDER BY day DESC, metric",
    )
    .bind(org_id)
    .bind(integration_id)
    .bind(days as i32)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                day,
                metric,
                source_value,
                pulseboard_value,
                difference,
                warning,
                records,
                left,
                at,
            )| {
                DriftCheck {
                    day,
                    metric,
                    source_value,
                    pulseboard_value,
                    difference,
                    warning,
                    records: serde_json::from_value(records).unwrap_or_default(),
                    records_left_out: left,
                    checked_at: at,
                }
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_warns_above_half_a_percent_or_for_counts() {
        assert!(!is_warning("gross_revenue", 100_000, 0));
        assert!(!is_warning("gross_revenue", 100_000, 500));
        assert!(is_warning("gross_revenue", 100_000, -501));
        assert!(is_warning("gross_revenue", 0, 1));
        assert!(is_warning("orders", 1_000_000, 1));
    }

    #[test]
    fn the_differing_records_are_those_missing_or_changed_on_one_side() {
        let source = vec![
            ("charge/a".to_owned(), 100),
            ("charge/b".to_owned(), 200),
            ("charge/c".to_owned(), 300),
        ];
        let ours = vec![("charge/a".to_owned(), 100), ("charge/c".to_owned(), 250)];
        let records = differing(&source, &ours);
        assert_eq!(
            records,
            vec![
                DriftRecord {
                    record: "charge/b".into(),
                    source: Some(200),
                    pulseboard: None
                },
                DriftRecord {
                    record: "charge/c".into(),
                    source: Some(300),
                    pulseboard: Some(250)
                },
            ]
        );
    }

    #[test]
    fn yesterday_is_the_stores_day_before() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 03:00 UTC on 5 Dec is 22:00 on 4 Dec in New York (EST, UTC-5).
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 3, 0, 0).unwrap();
        let (day, from, to) = yesterday(tz, now);
        assert_eq!(day, NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 12, 3, 5, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 12, 4, 5, 0, 0).unwrap());
    }
}
