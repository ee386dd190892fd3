//! Pulling Clarity exports under a daily call budget.
//!
//! **The plan.** A sync makes two calls, `numOfDays=1` each: Device × Browser ×
//! Country/Region (the site-wide metrics) and URL (the page metrics). Each answer is
//! stored whole as one raw record for its fetch day (see `derive.rs`), so a daily
//! sync spends 2 of the project's 10 calls and a refresh on the same day replaces
//! that day's numbers rather than adding to them. (`numOfDays=3` would give one
//! 72-hour total that cannot be split into days without three times the calls.)
//!
//! **The budget.** Clarity allows 10 calls per project and (UTC) day and answers 429
//! past that, whichever integration (or other tool) made them. The provider declares
//! a [`CallBudget`](crate::CallBudget) (`PULSEBOARD_CLARITY_DAILY_CALLS`, 10 by
//! default) and, before each call, asks the server to count it
//! ([`SyncSink::spend_call`]): the server keeps one counter per project (the
//! account) and day for every integration reading it, taken atomically and fenced by
//! the job's lease, so a call is never made without being counted, even if the
//! worker dies right after it (a crash can only over-count), and two integrations
//! of one project never make an eleventh call between them. A call the budget
//! refuses is not made: the sync ends with `RateLimited` until just after the next
//! midnight UTC, which the server turns into a snoozed job. Scheduled syncs, manual
//! refreshes and retries all go through this.
//!
//! The connection test (one call) happens before the integration exists; the server
//! counts it against the project's budget when it records the connection. A 429
//! from Clarity itself (another tool spent the project's calls) marks the day as
//! spent; one with a `Retry-After` is honoured as given instead.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::{
    config::CLARITY_DAILY_LIMIT,
    derive::{Breakdown, BREAKDOWNS, EXPORT_OBJECT},
    ClarityProvider,
};
use crate::{
    support::error::{next_try, OAuthError},
    support::http::retry_after,
    sync::{Pull, RawRecord, Spend, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

/// The stream of the export records; its cursor names the last day fetched.
pub(crate) const EXPORTS_STREAM: &str = "clarity.exports";
/// Where the budget was kept per integration before it was kept per project.
const OLD_BUDGET_STREAM: &str = "clarity.budget";
/// How long after midnight UTC a refused sync tries again, for clock skew.
const RESET_MARGIN: Duration = Duration::minutes(5);
/// The window each call asks for.
const NUM_OF_DAYS: u8 = 1;

/// From `now` to just after the next midnight UTC.
pub fn until_reset(now: DateTime<Utc>) -> std::time::Duration {
    let next = (now.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN).and_utc() + RESET_MARGIN;
    (next - now).to_std().unwrap_or_default()
}

/// The daily budget is spent: the sync monitor's words and the wait.
fn spent(calls: u32, limit: u32, now: DateTime<Utc>, wait: std::time::Duration) -> OAuthError {
    OAuthError::limit_reached(
        format!(
            "Clarity: {calls} of {limit} export calls used today; next call {}",
            next_try(now, wait)
        ),
        wait,
    )
}

impl ClarityProvider {
    /// One budgeted export call and the commit of its answer.
    async fn fetch(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
        breakdown: &Breakdown,
    ) -> Result<(), SyncError> {
        // The token first: a sync that cannot get one spends nothing.
        let token = req.tokens.access_token().await?;
        let token = token.expose_secret();
        // Counted before it is made, for the whole project.
        if let Spend::Exhausted { used, limit } = sink.spend_call().await? {
            return Err(spent(used, limit, req.now, until_reset(req.now)).into());
        }
        let dimensions: Vec<&str> = breakdown.dimensions.iter().map(|(clarity, _)| *clarity).collect();
        let response = self.export_call(token, NUM_OF_DAYS, &dimensions).await?;
        match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                // A revoked or expired token: only a person can fix that.
                return Err(OAuthError::InvalidGrant(format!(
                    "Clarity refused the Data Export token ({}); generate a new one and reconnect",
                    response.status
                ))
                .into());
            }
            StatusCode::TOO_MANY_REQUESTS => {
                if let Some(wait) = retry_after(&response.headers) {
                    return Err(OAuthError::limit_reached(
                        format!("Clarity answered 429 (too many requests); next call {}", next_try(req.now, wait)),
                        wait,
                    )
                    .into());
                }
                // Clarity's daily limit: the project's calls are spent (by us or by
                // another tool); none is made until the next day.
                sink.exhaust_calls().await?;
                return Err(OAuthError::limit_reached(
                    format!(
                        "Clarity: the project's {CLARITY_DAILY_LIMIT} export calls for today are used (Clarity refused one); next call {}",
                        next_try(req.now, until_reset(req.now))
                    ),
                    until_reset(req.now),
                )
                .into());
            }
            _ => {}
        }
        let response = response.success(&[token])?;
        let export = Self::parse_export(&response, req.now)?;
        let fetch_day = export.fetched_at.date_naive();
        let record = RawRecord {
            object_type: EXPORT_OBJECT.into(),
            external_id: format!("{fetch_day}/{}", breakdown.name),
            updated_at: Some(export.fetched_at),
            payload: json!({
                "fetched_at": export.fetched_at.to_rfc3339(),
                "num_of_days": NUM_OF_DAYS,
                "breakdown": breakdown.name,
                "dimensions": dimensions,
                "response": export.response,
            }),
        };
        sink.commit(SyncPage {
            stream: EXPORTS_STREAM.into(),
            records: vec![record],
            cursor: Some(json!({ "fetched": fetch_day.to_string() })),
            clear: vec![OLD_BUDGET_STREAM.into()],
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Pull for ClarityProvider {
    async fn sync(
        &self,
        req: &SyncRequest<'_>,
        sink: &mut dyn SyncSink,
    ) -> Result<SyncKind, SyncError> {
        let kind = if req.cursors.contains_key(EXPORTS_STREAM) {
            SyncKind::Incremental
        } else {
            SyncKind::Backfill
        };
        for breakdown in &BREAKDOWNS {
            self.fetch(req, sink, breakdown).await?;
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_spent_budget_waits_until_after_midnight_and_says_so() {
        let now = at("2026-03-02T22:00:00Z");
        let wait = until_reset(now);
        assert_eq!(wait.as_secs(), 2 * 3600 + 5 * 60);
        assert_eq!(
            spent(10, 10, now, wait).to_string(),
            "Clarity: 10 of 10 export calls used today; next call after 00:05 UTC"
        );
    }
}
