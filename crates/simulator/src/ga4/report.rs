//! Simulated Data API `runReport` (`POST /ga4/data/v1beta/properties/{id}:runReport`)
//! with its request validation, `limit`/`offset` pages, `keepEmptyRows`, `orderBys`
//! and the property's token quotas, and the `/_sim/ga4/properties/{id}/*` controls.
//!
//! Not simulated (answered 400): several date ranges, filters, comparisons, cohorts
//! and metric aggregations.

use std::collections::{BTreeMap, HashMap};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Map, Value};

use super::{
    api::{authenticate, permission_denied},
    endpoints, google_error,
    ledger::{
        date_text, day_of, dedup_users, Cell, Ga4Data, Metrics, View, CHANNELS, COUNTRIES,
        DEVICES, LANDING_PAGES,
    },
    property, Ga4, SimProperty,
};
use crate::common::{
    clock::now,
    lock,
    money::currency_exponent,
    time::{days_from_civil, DAY, HOUR},
};

/// A standard property's quotas.
const TOKENS_PER_DAY: i64 = 200_000;
const TOKENS_PER_HOUR: i64 = 40_000;
const TOKENS_PER_PROJECT_PER_HOUR: i64 = 14_000;
const DEFAULT_LIMIT: usize = 10_000;
const MAX_LIMIT: usize = 250_000;

/// The dimensions the simulator knows.
const DIMENSIONS: &[&str] = &[
    "date",
    "deviceCategory",
    "sessionDefaultChannelGroup",
    "countryId",
    "country",
    "landingPage",
];

/// The metrics the simulator knows, with their type.
const METRICS: &[(&str, &str)] = &[
    ("sessions", "TYPE_INTEGER"),
    ("totalUsers", "TYPE_INTEGER"),
    ("newUsers", "TYPE_INTEGER"),
    ("screenPageViews", "TYPE_INTEGER"),
    ("engagedSessions", "TYPE_INTEGER"),
    ("keyEvents", "TYPE_INTEGER"),
    ("addToCarts", "TYPE_INTEGER"),
    ("checkouts", "TYPE_INTEGER"),
    ("ecommercePurchases", "TYPE_INTEGER"),
    ("purchaseRevenue", "TYPE_CURRENCY"),
];

const REQUEST_FIELDS: &[&str] = &[
    "property",
    "dimensions",
    "metrics",
    "dateRanges",
    "dimensionFilter",
    "metricFilter",
    "offset",
    "limit",
    "metricAggregations",
    "orderBys",
    "currencyCode",
    "cohortSpec",
    "keepEmptyRows",
    "returnPropertyQuota",
    "comparisons",
];

/// A property's token use in the current hour and Pacific day (wall clock).
#[derive(Debug, Default, Clone)]
pub(crate) struct Quota {
    hour: i64,
    hour_used: i64,
    day: i64,
    day_used: i64,
}

impl Quota {
    fn roll(&mut self, t: i64) {
        let hour = t.div_euclid(HOUR);
        if hour != self.hour {
            self.hour = hour;
            self.hour_used = 0;
        }
        // Google's daily quotas refresh at midnight Pacific time (UTC−8 here).
        let day = (t - 8 * HOUR).div_euclid(DAY);
        if day != self.day {
            self.day = day;
            self.day_used = 0;
        }
    }

    fn status(consumed: i64, limit: i64) -> Value {
        json!({ "consumed": consumed, "remaining": (limit - consumed).max(0) })
    }

    fn json(&self, consumed_now: i64) -> Value {
        json!({
            "tokensPerDay": Self::status(self.day_used, TOKENS_PER_DAY),
            "tokensPerHour": Self::status(self.hour_used, TOKENS_PER_HOUR),
            "concurrentRequests": Self::status(0, 10),
            "serverErrorsPerProjectPerHour": Self::status(0, 10),
            "potentiallyThresholdedRequestsPerHour": Self::status(0, 120),
            "tokensPerProjectPerHour": Self::status(consumed_now.min(TOKENS_PER_PROJECT_PER_HOUR), TOKENS_PER_PROJECT_PER_HOUR),
        })
    }
}

pub(crate) fn router() -> Router<Ga4> {
    Router::new()
        .route("/ga4/data/v1beta/properties/{call}", post(run_report))
        .route("/_sim/ga4/properties/{id}/quota", post(script_quota))
        .route("/_sim/ga4/properties/{id}/ledger", get(ledger))
}

fn invalid(message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// A parsed `RunReportRequest`.
struct Request {
    start: String,
    end: String,
    dimensions: Vec<String>,
    metrics: Vec<String>,
    /// `(is a dimension, index in its list, descending)`.
    order_bys: Vec<(bool, usize, bool)>,
    limit: usize,
    offset: usize,
    keep_empty_rows: bool,
    return_quota: bool,
}

/// An int64 field, which proto3 JSON writes as a number or a string.
fn int64(body: &Value, name: &str) -> Result<Option<i64>, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| format!("Invalid value at '{name}'")),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| format!("Invalid value at '{name}' ({s})")),
        Some(_) => Err(format!("Invalid value at '{name}'")),
    }
}

fn names(body: &Value, field: &str) -> Result<Vec<String>, String> {
    let Some(list) = body.get(field) else {
        return Ok(vec![]);
    };
    let list = list.as_array().ok_or_else(|| format!("Invalid value at '{field}'"))?;
    list.iter()
        .map(|item| {
            item.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("Every item of '{field}' needs a name"))
        })
        .collect()
}

fn parse_request(body: &Value) -> Result<Request, String> {
    let object = body.as_object().ok_or("Invalid JSON payload received.")?;
    if let Some(unknown) = object.keys().find(|k| !REQUEST_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."
        ));
    }
    for unsupported in ["dimensionFilter", "metricFilter", "metricAggregations", "cohortSpec", "comparisons"] {
        if object.contains_key(unsupported) {
            return Err(format!("{unsupported} is not simulated"));
        }
    }
    let ranges = body
        .get("dateRanges")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or("A date range is required: set dateRanges.")?;
    if ranges.len() > 1 {
        return Err("Only one date range is simulated.".into());
    }
    let range_field = |name: &str| {
        ranges[0]
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("Field dateRanges[0].{name} is required."))
    };
    let dimensions = names(body, "dimensions")?;
    for name in &dimensions {
        if !DIMENSIONS.contains(&name.as_str()) {
            return Err(format!(
                "Field {name} is not a valid dimension. For a list of valid dimensions and metrics, \
                 see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
            ));
        }
        if dimensions.iter().filter(|d| *d == name).count() > 1 {
            return Err(format!("Dimension {name} is duplicated in the request."));
        }
    }
    if dimensions.len() > 9 {
        return Err("Requests are limited to 9 dimensions.".into());
    }
    let metrics = names(body, "metrics")?;
    for name in &metrics {
        if !METRICS.iter().any(|(m, _)| m == name) {
            return Err(format!(
                "Field {name} is not a valid metric. For a list of valid dimensions and metrics, \
                 see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
            ));
        }
        if metrics.iter().filter(|m| *m == name).count() > 1 {
            return Err(format!("Metric {name} is duplicated in the request."));
        }
    }
    if metrics.len() > 10 {
        return Err(format!("Requests are limited to 10 metrics; this one has {}.", metrics.len()));
    }
    if metrics.is_empty() && dimensions.is_empty() {
        return Err("A report needs at least one dimension or metric.".into());
    }
    let mut order_bys = Vec::new();
    for order in body.get("orderBys").and_then(Value::as_array).into_iter().flatten() {
        let desc = order.get("desc").and_then(Value::as_bool).unwrap_or(false);
        if let Some(name) = order.pointer("/dimension/dimensionName").and_then(Value::as_str) {
            let index = dimensions.iter().position(|d| d == name).ok_or_else(|| {
                format!("Dimension {name} in orderBys is not in the request's dimensions.")
            })?;
            order_bys.push((true, index, desc));
        } else if let Some(name) = order.pointer("/metric/metricName").and_then(Value::as_str) {
            let index = metrics.iter().position(|m| m == name).ok_or_else(|| {
                format!("Metric {name} in orderBys is not in the request's metrics.")
            })?;
            order_bys.push((false, index, desc));
        } else {
            return Err("An orderBy names a dimension or a metric.".into());
        }
    }
    let limit = match int64(body, "limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) if n < 0 => return Err("limit must be positive.".into()),
        Some(n) => (n as usize).min(MAX_LIMIT),
    };
    let offset = match int64(body, "offset")? {
        None => 0,
        Some(n) if n < 0 => return Err("offset must not be negative.".into()),
        Some(n) => n as usize,
    };
    Ok(Request {
        start: range_field("startDate")?,
        end: range_field("endDate")?,
        dimensions,
        metrics,
        order_bys,
        limit,
        offset,
        keep_empty_rows: body.get("keepEmptyRows").and_then(Value::as_bool).unwrap_or(false),
        return_quota: body.get("returnPropertyQuota").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A date of a request: `YYYY-MM-DD`, `today`, `yesterday` or `NdaysAgo`, as a day
/// number of the property.
fn resolve_date(text: &str, today: i64) -> Result<i64, String> {
    let bad = || {
        format!("Invalid date: {text}. Dates are YYYY-MM-DD, 'today', 'yesterday' or 'NdaysAgo'.")
    };
    match text {
        "today" => return Ok(today),
        "yesterday" => return Ok(today - 1),
        _ => {}
    }
    if let Some(n) = text.strip_suffix("daysAgo") {
        return n.parse::<i64>().map(|n| today - n).map_err(|_| bad());
    }
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (
                y.parse::<i64>().map_err(|_| bad())?,
                m.parse::<u32>().map_err(|_| bad())?,
                d.parse::<u32>().map_err(|_| bad())?,
            );
            if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                return Err(bad());
            }
            Ok(days_from_civil(y, m, d))
        }
        _ => Err(bad()),
    }
}

/// A dimension's value in a cell.
fn value_of(dimension: &str, day: i64, cell: &Cell) -> String {
    match dimension {
        "date" => date_text(day),
        "deviceCategory" => DEVICES[cell.device as usize].0.to_owned(),
        "sessionDefaultChannelGroup" => CHANNELS[cell.channel as usize].0.to_owned(),
        "countryId" => COUNTRIES[cell.country as usize].0.to_owned(),
        "country" => COUNTRIES[cell.country as usize].1.to_owned(),
        "landingPage" => LANDING_PAGES[cell.landing as usize].0.to_owned(),
        _ => String::new(),
    }
}

/// A report row being added up.
#[derive(Default)]
struct Sum {
    m: Metrics,
    cells_with_users: usize,
    cells_with_new_users: usize,
    /// Revenue added up in major units as a float, as GA4 does (with its noise).
    revenue: f64,
}

fn metric_value(name: &str, sum: &Sum, currency: &str) -> Value {
    let m = &sum.m;
    let text = match name {
        "sessions" => m.sessions.to_string(),
        "totalUsers" => dedup_users(m.users, sum.cells_with_users).to_string(),
        "newUsers" => dedup_users(m.new_users, sum.cells_with_new_users).to_string(),
        "screenPageViews" => m.page_views.to_string(),
        "engagedSessions" => m.engaged_sessions.to_string(),
        "keyEvents" => m.key_events.to_string(),
        "addToCarts" => m.add_to_carts.to_string(),
        "checkouts" => m.checkouts.to_string(),
        "ecommercePurchases" => m.purchases.to_string(),
        "purchaseRevenue" if m.purchase_revenue_minor == 0 => "0".to_owned(),
        "purchaseRevenue" => format!("{}", sum.revenue),
        _ => "0".to_owned(),
    };
    let _ = currency;
    json!({ "value": text })
}

/// The view of the data clock and the property's cells for the days asked.
fn with_cells<T>(ga: &Ga4, f: impl FnOnce(&View, &mut Ga4Data) -> T) -> T {
    let mut world = lock(&ga.sim.world);
    let (clock, data) = world.data(Ga4Data::default);
    let view = View {
        seed: clock.data.seed,
        start: clock.start,
        anchor: clock.data.end,
        clock: clock.end,
        daily_orders: clock.data.shopify_daily_orders,
    };
    f(&view, data)
}

async fn run_report(
    State(ga): State<Ga4>,
    headers: HeaderMap,
    Path(call): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = ga.sim.faults.enter(endpoints::GA4_RUN_REPORT).await {
        return response;
    }
    if let Err(response) = authenticate(&ga, &headers) {
        return response;
    }
    let Some(id) = call.strip_suffix(":runReport") else {
        return google_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Method not found.");
    };
    let Some(p) = property(id).filter(|p| p.readable) else {
        return permission_denied();
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let request = match parse_request(&body) {
        Ok(request) => request,
        Err(message) => return invalid(&message),
    };

    let t = now();
    {
        let mut store = lock(&ga.store);
        let quota = store.quotas.entry(id.to_owned()).or_default();
        quota.roll(t);
        if quota.day_used >= TOKENS_PER_DAY {
            return google_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Exhausted property tokens per day. Refer to \
                 https://developers.google.com/analytics/devguides/reporting/data/v1/quotas",
            );
        }
        if quota.hour_used >= TOKENS_PER_HOUR {
            return google_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Exhausted property tokens per hour. Refer to \
                 https://developers.google.com/analytics/devguides/reporting/data/v1/quotas",
            );
        }
    }

    let rows = match build_rows(&ga, id, &p, &request) {
        Ok(rows) => rows,
        Err(message) => return invalid(&message),
    };
    let row_count = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(request.offset)
        .take(request.limit)
        .collect();
    // Bigger results cost more tokens.
    let cost = 1 + (row_count as i64) / 50;
    let quota = {
        let mut store = lock(&ga.store);
        let quota = store.quotas.entry(id.to_owned()).or_default();
        quota.hour_used += cost;
        quota.day_used += cost;
        quota.json(cost)
    };
    let mut out = Map::new();
    out.insert(
        "dimensionHeaders".into(),
        json!(request.dimensions.iter().map(|d| json!({ "name": d })).collect::<Vec<_>>()),
    );
    out.insert(
        "metricHeaders".into(),
        json!(request
            .metrics
            .iter()
            .map(|m| {
                let kind = METRICS.iter().find(|(n, _)| n == m).map_or("TYPE_INTEGER", |(_, t)| t);
                json!({ "name": m, "type": kind })
            })
            .collect::<Vec<_>>()),
    );
    // proto3 JSON leaves out empty lists and zeros.
    if !page.is_empty() {
        out.insert("rows".into(), json!(page));
    }
    if row_count > 0 {
        out.insert("rowCount".into(), json!(row_count));
    }
    out.insert(
        "metadata".into(),
        json!({ "currencyCode": p.currency, "timeZone": p.time_zone }),
    );
    if request.return_quota {
        out.insert("propertyQuota".into(), quota);
    }
    out.insert("kind".into(), json!("analyticsData#runReport"));
    Json(Value::Object(out)).into_response()
}

/// Every row of the report, ordered.
fn build_rows(ga: &Ga4, id: &str, p: &SimProperty, request: &Request) -> Result<Vec<Value>, String> {
    let scale = 10f64.powi(currency_exponent(p.currency) as i32);
    let sums: BTreeMap<Vec<String>, Sum> = with_cells(ga, |view, data| {
        let today = day_of(view.clock - 1, p);
        let start = resolve_date(&request.start, today)?;
        let end = resolve_date(&request.end, today)?;
        if start > end {
            return Err("The date range's startDate must not be after its endDate.".to_owned());
        }
        let mut sums: BTreeMap<Vec<String>, Sum> = BTreeMap::new();
        for day in start..=end.min(today) {
            for cell in data.cells(view, id, p, day) {
                let key = request
                    .dimensions
                    .iter()
                    .map(|d| value_of(d, day, &cell))
                    .collect();
                let sum = sums.entry(key).or_default();
                let m = &mut sum.m;
                let c = &cell.m;
                m.sessions += c.sessions;
                m.users += c.users;
                m.new_users += c.new_users;
                m.page_views += c.page_views;
                m.engaged_sessions += c.engaged_sessions;
                m.key_events += c.key_events;
                m.add_to_carts += c.add_to_carts;
                m.checkouts += c.checkouts;
                m.purchases += c.purchases;
                m.purchase_revenue_minor += c.purchase_revenue_minor;
                sum.revenue += c.purchase_revenue_minor as f64 / scale;
                sum.cells_with_users += usize::from(c.users > 0);
                sum.cells_with_new_users += usize::from(c.new_users > 0);
            }
        }
        Ok(sums)
    })?;
    let mut rows: Vec<(Vec<String>, Vec<Value>)> = sums
        .into_iter()
        .filter(|(_, sum)| request.keep_empty_rows || !sum.m.is_zero())
        .map(|(key, sum)| {
            let metrics = request
                .metrics
                .iter()
                .map(|m| metric_value(m, &sum, p.currency))
                .collect();
            (key, metrics)
        })
        .collect();
    for &(is_dimension, index, desc) in request.order_bys.iter().rev() {
        rows.sort_by(|a, b| {
            let order = if is_dimension {
                a.0[index].cmp(&b.0[index])
            } else {
                let number = |row: &(Vec<String>, Vec<Value>)| {
                    row.1[index]["value"].as_str().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
                };
                number(a).total_cmp(&number(b))
            };
            if desc {
                order.reverse()
            } else {
                order
            }
        });
    }
    Ok(rows
        .into_iter()
        .map(|(key, metrics)| {
            json!({
                "dimensionValues": key.iter().map(|v| json!({ "value": v })).collect::<Vec<_>>(),
                "metricValues": metrics,
            })
        })
        .collect())
}

/// `POST /_sim/ga4/properties/{id}/quota`: sets what is left of the current hour's
/// or day's tokens, or resets both.
async fn script_quota(State(ga): State<Ga4>, Path(id): Path<String>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut store = lock(&ga.store);
    let quota = store.quotas.entry(id).or_default();
    quota.roll(now());
    if body.get("reset").and_then(Value::as_bool) == Some(true) {
        quota.hour_used = 0;
        quota.day_used = 0;
    }
    if let Some(left) = body.get("tokens_per_hour_remaining").and_then(Value::as_i64) {
        quota.hour_used = TOKENS_PER_HOUR - left.clamp(0, TOKENS_PER_HOUR);
    }
    if let Some(left) = body.get("tokens_per_day_remaining").and_then(Value::as_i64) {
        quota.day_used = TOKENS_PER_DAY - left.clamp(0, TOKENS_PER_DAY);
    }
    Json(quota.json(0)).into_response()
}

/// `GET /_sim/ga4/properties/{id}/ledger?from=YYYY-MM-DD&to=YYYY-MM-DD`: the cells
/// of each day as the data clock shows them (cells with nothing are left out).
async fn ledger(
    State(ga): State<Ga4>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(p) = property(&id) else {
        return (StatusCode::NOT_FOUND, Json(json!({ "error": "no such property" }))).into_response();
    };
    let days = with_cells(&ga, |view, data| {
        let today = day_of(view.clock - 1, &p);
        let from = resolve_date(params.get("from").map_or("89daysAgo", String::as_str), today)?;
        let to = resolve_date(params.get("to").map_or("today", String::as_str), today)?;
        Ok::<_, String>(
            (from..=to)
                .map(|day| {
                    let cells: Vec<Value> = data
                        .cells(view, &id, &p, day)
                        .into_iter()
                        .filter(|c| !c.m.is_zero())
                        .map(|c| {
                            let mut cell = serde_json::to_value(c.m).unwrap_or_default();
                            cell["device"] = json!(DEVICES[c.device as usize].0);
                            cell["channel"] = json!(CHANNELS[c.channel as usize].0);
                            cell["country"] = json!(COUNTRIES[c.country as usize].0);
                            cell["country_name"] = json!(COUNTRIES[c.country as usize].1);
                            cell["landing_page"] = json!(LANDING_PAGES[c.landing as usize].0);
                            cell
                        })
                        .collect();
                    json!({ "date": date_text(day), "cells": cells })
                })
                .collect::<Vec<_>>(),
        )
    });
    match days {
        Ok(days) => Json(json!({
            "property": id,
            "time_zone": p.time_zone,
            "currency": p.currency,
            "users_rule": "a row adding up more than one cell with users counts sum - floor(sum / 25)",
            "days": days,
        }))
        .into_response(),
        Err(message) => invalid(&message),
    }
}
