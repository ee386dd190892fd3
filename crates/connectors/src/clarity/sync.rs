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
//! past that. The `clarity.budget` cursor, `{"day": "YYYY-MM-DD", "calls": n}`,
//! counts the calls of the current UTC day. Before each call the sync commits the
//! count with that call included, and only then calls: a call is never made without
//! being counted, even if the worker dies right after it (a crash can only
//! over-count). A call that would go past the limit (`PULSEBOARD_CLARITY_DAILY_CALLS`,
//! 10 by default) is not made: the sync ends with `RateLimited` until just after the
//! next midnight UTC, which the server turns into a snoozed job. Scheduled syncs,
//! manual refreshes and retries all go through this, and the server runs one job
//! per integration at a time, each of its writes fenced by its lease.
//!
//! The connection test (one call) happens before the integration and its cursors
//! exist: a first sync, finding no budget cursor, assumes that call was made today.
//! A 429 from Clarity itself (another tool spent the project's calls) marks the day
//! as spent; one with a `Retry-After` is honoured as given instead.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    config::CLARITY_DAILY_LIMIT,
    derive::{Breakdown, BREAKDOWNS, EXPORT_OBJECT},
    ClarityProvider,
};
use crate::{
    support::error::{next_try, OAuthError},
    support::http::retry_after,
    sync::{Pull, RawRecord, SyncError, SyncKind, SyncPage, SyncRequest, SyncSink},
    ExposeSecret,
};

pub(crate) const BUDGET_STREAM: &str = "clarity.budget";
/// How long after midnight UTC a refused sync tries again, for clock skew.
const RESET_MARGIN: Duration = Duration::minutes(5);
/// The window each call asks for.
const NUM_OF_DAYS: u8 = 1;

/// The calls spent on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub day: NaiveDate,
    pub calls: u32,
}

impl Budget {
    /// Today's budget from the stored cursor: a cursor of another day starts at 0;
    /// no cursor (or one that cannot be read) means the integration was just
    /// connected, and its connection test spent one call today.
    pub fn from_cursor(cursor: Option<&Value>, now: DateTime<Utc>) -> Self {
        let today = now.date_naive();
        let stored = cursor.and_then(|c| {
            let day = c.get("day")?.as_str()?.parse::<NaiveDate>().ok()?;
            let calls = u32::try_from(c.get("calls")?.as_u64()?).ok()?;
            Some(Budget { day, calls })
        });
        match stored {
            Some(b) if b.day == today => b,
            Some(_) => Budget { day: today, calls: 0 },
            None => Budget { day: today, calls: 1 },
        }
    }

    pub fn cursor(&self) -> Value {
        json!({ "day": self.day.to_string(), "calls": self.calls })
    }

    /// Takes one call, or says how long until the budget resets.
    pub fn take(&mut self, limit: u32, now: DateTime<Utc>) -> Result<(), std::time::Duration> {
        if self.calls >= limit {
            return Err(until_reset(now));
        }
        self.calls += 1;
        Ok(())
    }
}

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
        budget: &mut Budget,
        breakdown: &Breakdown,
    ) -> Result<(), SyncError> {
        let limit = self.config.daily_calls;
        // The token first: a sync that cannot get one spends nothing.
        let token = req.tokens.access_token().await?;
        let token = token.expose_secret();
        if let Err(wait) = budget.take(limit, req.now) {
            return Err(spent(budget.calls, limit, req.now, wait).into());
        }
        // Counted before it is made.
        sink.commit(SyncPage {
            stream: BUDGET_STREAM.into(),
            records: vec![],
            cursor: Some(budget.cursor()),
            clear: vec![],
        })
        .await?;
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
                budget.calls = budget.calls.max(limit);
                sink.commit(SyncPage {
                    stream: BUDGET_STREAM.into(),
                    records: vec![],
                    cursor: Some(budget.cursor()),
                    clear: vec![],
                })
                .await?;
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
            stream: BUDGET_STREAM.into(),
            records: vec![record],
            cursor: None,
            clear: vec![],
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
        let stored = req.cursors.get(BUDGET_STREAM);
        let kind = if stored.is_some() {
            SyncKind::Incremental
        } else {
            SyncKind::Backfill
        };
        let mut budget = Budget::from_cursor(stored, req.now);
        for breakdown in &BREAKDOWNS {
            self.fetch(req, sink, &mut budget, breakdown).await?;
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
    fn a_new_day_starts_from_zero_and_the_first_sync_counts_the_connection_test() {
        let now = at("2026-03-02T10:00:00Z");
        assert_eq!(Budget::from_cursor(None, now).calls, 1);
        let yesterday = json!({ "day": "2026-03-01", "calls": 10 });
        assert_eq!(Budget::from_cursor(Some(&yesterday), now).calls, 0);
        let today = json!({ "day": "2026-03-02", "calls": 7 });
        let budget = Budget::from_cursor(Some(&today), now);
        assert_eq!(budget.calls, 7);
        assert_eq!(budget.cursor(), today);
    }

    #[test]
    fn the_budget_refuses_past_the_limit_until_after_midnight() {
        let now = at("2026-03-02T22:00:00Z");
        let mut budget = Budget { day: now.date_naive(), calls: 8 };
        assert!(budget.take(10, now).is_ok());
        assert!(budget.take(10, now).is_ok());
        let wait = budget.take(10, now).unwrap_err();
        assert_eq!(budget.calls, 10);
        assert_eq!(wait.as_secs(), 2 * 3600 + 5 * 60);
        // A lower configured limit is honoured too.
        let mut budget = Budget { day: now.date_naive(), calls: 4 };
        assert!(budget.take(4, now).is_err());
    }
}
