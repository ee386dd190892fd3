//! The Data Export endpoint, `GET /clarity/export-data/api/v1/project-live-insights`,
//! as Microsoft documents it: a bearer token of a project, `numOfDays` 1–3, up to
//! three of the documented dimensions, 10 calls per project and (UTC) day, then
//! `429` "Exceeded daily limit" (no `Retry-After`); `400`/`401` without an error
//! envelope. The answer is the metric groups of the last `numOfDays` × 24 hours
//! before the data clock, one row per combination of the requested dimensions
//! (keyed by the dimension's name, as in the documentation's example), at most
//! 1000 rows a group, group names spelled as Clarity's responses spell them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::{
    extract::{Query, State},
    http::{
        header::{AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    defaults, endpoints,
    gen::{ClarityCall, ClarityData, ClarityPageView, ClaritySession},
    DAILY_LIMIT,
};
use crate::{
    common::{
        lock,
        time::{date, weekday, DAY},
    },
    provider::Failure,
    AppState,
};

/// The dimensions Clarity documents.
pub(crate) const DIMENSIONS: &[&str] = &[
    "Browser",
    "Device",
    "Country/Region",
    "OS",
    "Source",
    "Medium",
    "Campaign",
    "Channel",
    "URL",
];
/// Rows per metric group Clarity answers at most (there is no pagination).
const MAX_ROWS: usize = 1000;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/clarity/export-data/api/v1/project-live-insights",
        get(export),
    )
}

/// Clarity's answer to a scripted failure: a bare 500 (as observed), or its 429
/// with the scripted `Retry-After`.
pub(crate) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after_secs.to_string())],
            "Exceeded daily limit",
        )
            .into_response(),
    }
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, [(CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

/// `YYYY-MM-DD` of a unix time.
fn day_of(unix: i64) -> String {
    let (y, m, d) = date(unix);
    format!("{y:04}-{m:02}-{d:02}")
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) of a unix time.
pub(crate) fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = date(unix);
    let secs = unix.rem_euclid(DAY);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[weekday(unix) as usize],
        MONTHS[m as usize - 1],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn project_of(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    defaults::CLARITY_TOKENS
        .iter()
        .find(|(t, _)| *t == token)
        .map(|(_, project)| *project)
}

/// The requested dimensions, or why the request is invalid.
fn parse_query(params: &[(String, String)]) -> Result<(i64, Vec<String>), &'static str> {
    let get = |name: &str| {
        let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(v), None) => Ok(Some(v.clone())),
            (None, _) => Ok(None),
            _ => Err("Invalid request parameters"),
        }
    };
    let days = get("numOfDays")?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| (1..=3).contains(n))
        .ok_or("Invalid request parameters")?;
    let mut dimensions = Vec::new();
    for name in ["dimension1", "dimension2", "dimension3"] {
        if let Some(value) = get(name)? {
            if !DIMENSIONS.contains(&value.as_str()) || dimensions.contains(&value) {
                return Err("Invalid request parameters");
            }
            dimensions.push(value);
        }
    }
    if params.iter().any(|(k, _)| k.starts_with("dimension") && !["dimension1", "dimension2", "dimension3"].contains(&k.as_str())) {
        return Err("Invalid request parameters");
    }
    Ok((days, dimensions))
}

async fn export(
    State(sim): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let scripted = sim.faults.enter(endpoints::CLARITY_EXPORT).await;
    let world = &mut *lock(&sim.world);
    let end = world.end();
    let (clock, data) = world.data(ClarityData::default);
    let project = project_of(&headers);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut call = ClarityCall {
        at: end,
        day: day_of(end),
        project: project.map(str::to_owned),
        num_of_days: param("numOfDays"),
        dimensions: ["dimension1", "dimension2", "dimension3"]
            .iter()
            .filter_map(|n| param(n))
            .collect(),
        status: 200,
    };
    if let Err(response) = scripted {
        return answer(&mut call, data, response);
    }
    let Some(project) = project else {
        return answer(&mut call, data, plain(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    if data.calls_on(project, &call.day) >= DAILY_LIMIT {
        return answer(
            &mut call,
            data,
            plain(StatusCode::TOO_MANY_REQUESTS, "Exceeded daily limit"),
        );
    }
    let (days, dimensions) = match parse_query(&params) {
        Ok(parsed) => parsed,
        Err(message) => return answer(&mut call, data, plain(StatusCode::BAD_REQUEST, message)),
    };
    if std::mem::take(&mut data.malformed_next) {
        let body = json!({ "metrics": "the simulator was told to answer the wrong shape" });
        return answer(&mut call, data, Json(body).into_response());
    }
    let sessions: Vec<&ClaritySession> = data
        .project(clock, project)
        .sessions
        .iter()
        .filter(|s| s.start >= end - days * DAY && s.start < end)
        .collect();
    let body = insights(&sessions, &dimensions);
    let response = ([(DATE, http_date(end))], Json(body)).into_response();
    answer(&mut call, data, response)
}

/// Records the call with the status it is answered with.
fn answer(call: &mut ClarityCall, data: &mut ClarityData, response: Response) -> Response {
    call.status = response.status().as_u16();
    data.calls.push(call.clone());
    response
}

/// A dimension's value for one page view of a session.
fn dimension(session: &ClaritySession, page: &ClarityPageView, name: &str) -> String {
    match name {
        "Device" => session.device.clone(),
        "Browser" => session.browser.clone(),
        "Country/Region" => session.country.clone(),
        "URL" => page.url.clone(),
        "OS" => match (session.device.as_str(), session.browser.as_str()) {
            (_, "Safari") => "iOS".into(),
            ("PC", _) => "Windows".into(),
            _ => "Android".into(),
        },
        "Channel" | "Source" | "Medium" | "Campaign" => "Direct".into(),
        _ => String::new(),
    }
}

/// What one combination of dimension values adds up to: per session, or per page
/// view when the breakdown is by URL (a session counts on each page it viewed).
#[derive(Default)]
struct Cell {
    sessions: BTreeSet<u64>,
    bots: BTreeSet<u64>,
    users: BTreeSet<u64>,
    page_views: i64,
    total_seconds: i64,
    active_seconds: i64,
    scroll_depth: i64,
    /// Per frustration signal: (sessions with it, page views with it, count).
    signals: [(BTreeSet<u64>, i64, i64); 4],
}

/// Rounded to four decimals, as Clarity's averages come.
fn avg(sum: i64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (sum as f64 / n as f64 * 10_000.0).round() / 10_000.0
}

fn pct(part: usize, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (part as f64 / n as f64 * 10_000.0).round() / 100.0
}

/// The metric groups of some sessions, broken down by `dimensions`.
pub(crate) fn insights(sessions: &[&ClaritySession], dimensions: &[String]) -> Value {
    let by_page = dimensions.iter().any(|d| d == "URL");
    let signals: [fn(&ClarityPageView) -> i64; 4] = [
        |p| p.dead_clicks,
        |p| p.rage_clicks,
        |p| p.quickbacks,
        |p| p.excessive_scrolls,
    ];
    let mut cells: BTreeMap<Vec<String>, Cell> = BTreeMap::new();
    for session in sessions {
        // Per page view when broken down by URL; else the session as a whole (its
        // values do not depend on the page, so its first stands for all).
        let units: Vec<&[ClarityPageView]> = if by_page {
            session.pages.chunks(1).collect()
        } else {
            vec![&session.pages[..]]
        };
        for pages in units {
            let key: Vec<String> = dimensions
                .iter()
                .map(|d| dimension(session, &pages[0], d))
                .collect();
            let cell = cells.entry(key).or_default();
            cell.sessions.insert(session.id);
            if session.bot {
                cell.bots.insert(session.id);
            }
            cell.users.insert(session.user);
            cell.page_views += pages.len() as i64;
            cell.total_seconds += session.total_seconds;
            cell.active_seconds += pages.iter().map(|p| p.active_seconds).sum::<i64>();
            cell.scroll_depth += pages.iter().map(|p| p.scroll_depth).max().unwrap_or(0);
            for (signal, metric) in cell.signals.iter_mut().zip(signals) {
                let count: i64 = pages.iter().map(metric).sum();
                let views = pages.iter().filter(|p| metric(p) > 0).count() as i64;
                if count > 0 {
                    signal.0.insert(session.id);
                }
                signal.1 += views;
                signal.2 += count;
            }
        }
    }
    // The busiest combinations first, at most MAX_ROWS of them.
    let mut ordered: Vec<(&Vec<String>, &Cell)> = cells.iter().collect();
    ordered.sort_by(|a, b| b.1.sessions.len().cmp(&a.1.sessions.len()).then(a.0.cmp(b.0)));
    ordered.truncate(MAX_ROWS);
    let with_dims = |key: &[String], mut row: serde_json::Map<String, Value>| {
        for (name, value) in dimensions.iter().zip(key) {
            row.insert(name.clone(), Value::String(value.clone()));
        }
        Value::Object(row)
    };
    let rows = |f: &dyn Fn(&Cell) -> Value| -> Vec<Value> {
        ordered
            .iter()
            .map(|(key, cell)| match f(cell) {
                Value::Object(row) => with_dims(key, row),
                other => other,
            })
            .collect()
    };
    let mut groups = vec![
        json!({ "metricName": "Traffic", "information": rows(&|c| json!({
            "totalSessionCount": c.sessions.len().to_string(),
            "totalBotSessionCount": c.bots.len().to_string(),
            "distantUserCount": c.users.len().to_string(),
            "PagesPerSessionPercentage": avg(c.page_views, c.sessions.len()),
        })) }),
        json!({ "metricName": "ScrollDepth", "information": rows(&|c| json!({
            "averageScrollDepth": avg(c.scroll_depth, c.sessions.len()),
        })) }),
        json!({ "metricName": "EngagementTime", "information": rows(&|c| json!({
            "totalTime": avg(c.total_seconds, c.sessions.len()).round().to_string(),
            "activeTime": avg(c.active_seconds, c.sessions.len()),
        })) }),
    ];
    let names = ["DeadClickCount", "RageClickCount", "QuickbackClick", "ExcessiveScroll"];
    for (i, name) in names.iter().enumerate() {
        groups.push(json!({ "metricName": name, "information": rows(&|c| {
            let (with, views, count) = &c.signals[i];
            let n = c.sessions.len();
            json!({
                "sessionsCount": n.to_string(),
                "sessionsWithMetricPercentage": pct(with.len(), n),
                "sessionsWithoutMetricPercentage": pct(n - with.len(), n),
                "pagesViews": views.to_string(),
                "subTotal": count.to_string(),
            })
        }) }));
    }
    // Groups Pulseboard does not read, present in Clarity's answers all the same.
    groups.push(json!({ "metricName": "ScriptErrorCount", "information": rows(&|c| json!({
        "sessionsCount": c.sessions.len().to_string(),
        "sessionsWithMetricPercentage": 0,
        "sessionsWithoutMetricPercentage": 100,
        "pagesViews": "0",
        "subTotal": "0",
    })) }));
    if !by_page {
        let mut visits: HashMap<&str, usize> = HashMap::new();
        for session in sessions {
            for page in &session.pages {
                *visits.entry(page.url.as_str()).or_default() += 1;
            }
        }
        let mut popular: Vec<(&str, usize)> = visits.into_iter().collect();
        popular.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rows: Vec<Value> = popular
            .iter()
            .take(10)
            .map(|(url, n)| json!({ "url": url, "visitsCount": n.to_string() }))
            .collect();
        groups.push(json!({ "metricName": "PopularPages", "information": rows }));
    }
    Value::Array(groups)
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use serde_json::Value;

    use super::*;
    use crate::{common::time::days_from_civil, DataConfig, Simulator, SimulatorConfig};

    /// 2025-10-01T06:30:00Z.
    const END: i64 = 1_759_300_200;

    async fn sim() -> crate::SimulatorHandle {
        Simulator::start(SimulatorConfig {
            data: DataConfig {
                history_days: 10,
                end: END,
                ..DataConfig::default()
            },
            ..SimulatorConfig::default()
        })
        .await
        .unwrap()
    }

    async fn get(
        sim: &crate::SimulatorHandle,
        token: Option<&str>,
        query: &str,
    ) -> reqwest::Response {
        let url = format!(
            "{}/clarity/export-data/api/v1/project-live-insights?{query}",
            sim.base_url()
        );
        let mut request = reqwest::Client::new().get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            http_date(days_from_civil(2025, 10, 1) * DAY),
            "Wed, 01 Oct 2025 00:00:00 GMT"
        );
    }

    #[tokio::test]
    async fn requests_are_checked_and_the_project_gets_ten_calls_a_day() {
        let sim = sim().await;
        let token = defaults::CLARITY_API_TOKEN;
        let unauthorised = get(&sim, Some("eyJx.eyJy.nope"), "numOfDays=1").await;
        assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(get(&sim, None, "numOfDays=1").await.status(), StatusCode::UNAUTHORIZED);
        for bad in [
            "numOfDays=4",
            "numOfDays=0",
            "dimension1=Device",
            "numOfDays=1&dimension1=Planet",
            "numOfDays=1&dimension1=Device&dimension2=Device",
            "numOfDays=1&dimension4=Device",
        ] {
            let response = get(&sim, Some(token), bad).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        // Six refused requests counted; four more answer, the eleventh is refused.
        for _ in 0..4 {
            let ok = get(&sim, Some(token), "numOfDays=1&dimension1=Device").await;
            assert_eq!(ok.status(), StatusCode::OK);
            assert_eq!(ok.headers()["date"], http_date(END));
        }
        let refused = get(&sim, Some(token), "numOfDays=1").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().get("retry-after").is_none());
        assert_eq!(refused.text().await.unwrap(), "Exceeded daily limit");
        // Another project has its own limit; the next day this one has ten again.
        let other = get(&sim, Some(defaults::CLARITY_OTHER_PROJECT_TOKEN), "numOfDays=3").await;
        assert_eq!(other.status(), StatusCode::OK);
        sim.advance_to(END + DAY);
        assert_eq!(get(&sim, Some(token), "numOfDays=1").await.status(), StatusCode::OK);
        assert_eq!(sim.calls(endpoints::CLARITY_EXPORT), 15);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn an_export_adds_up_to_the_ledger_of_its_window() {
        let sim = sim().await;
        let token = defaults::CLARITY_API_TOKEN;
        let ledger: Value = reqwest::get(format!("{}/_sim/clarity/ledger", sim.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sessions = ledger["projects"]["acme-coffee"]["sessions"].as_array().unwrap();
        let in_window: Vec<&Value> = sessions
            .iter()
            .filter(|s| s["start"].as_i64().unwrap() >= END - DAY)
            .collect();
        assert!(in_window.len() > 80, "{}", in_window.len());

        let body: Value = get(&sim, Some(token), "numOfDays=1&dimension1=Device&dimension2=Browser&dimension3=Country/Region")
            .await
            .json()
            .await
            .unwrap();
        let group = |name: &str| {
            body.as_array()
                .unwrap()
                .iter()
                .find(|g| g["metricName"] == name)
                .unwrap()["information"]
                .as_array()
                .unwrap()
                .clone()
        };
        let number = |v: &Value| v.as_str().map_or_else(|| v.as_f64().unwrap(), |s| s.parse().unwrap());
        let sessions: f64 = group("Traffic").iter().map(|r| number(&r["totalSessionCount"])).sum();
        assert_eq!(sessions as usize, in_window.len());
        let dead: f64 = group("DeadClickCount").iter().map(|r| number(&r["subTotal"])).sum();
        let want: i64 = in_window
            .iter()
            .flat_map(|s| s["pages"].as_array().unwrap())
            .map(|p| p["dead_clicks"].as_i64().unwrap())
            .sum();
        assert_eq!(dead as i64, want);
        assert!(group("Traffic").iter().all(|r| r["Device"].is_string() && r["Country/Region"].is_string()));

        // By URL, a session counts on every page it viewed.
        let pages: Value = get(&sim, Some(token), "numOfDays=1&dimension1=URL").await.json().await.unwrap();
        let traffic = pages.as_array().unwrap().iter().find(|g| g["metricName"] == "Traffic").unwrap();
        let page_sessions: f64 = traffic["information"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| number(&r["totalSessionCount"]))
            .sum();
        let views: usize = in_window.iter().map(|s| s["pages"].as_array().unwrap().len()).sum();
        assert_eq!(page_sessions as usize, views);

        // The malformed switch affects one answer.
        let switched = reqwest::Client::new()
            .post(format!("{}/_sim/clarity/malformed", sim.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(switched.status(), StatusCode::NO_CONTENT);
        let wrong: Value = get(&sim, Some(token), "numOfDays=1").await.json().await.unwrap();
        assert!(wrong.is_object());
        let right: Value = get(&sim, Some(token), "numOfDays=1").await.json().await.unwrap();
        assert!(right.is_array());
        sim.shutdown().await;
    }
}
