//! Daily call budgets kept per provider account (`provider_call_budgets`): the
//! calls every integration reading one account made on a UTC day. Written by the
//! worker only; members read the counters of their integrations' accounts.

use chrono::NaiveDate;
use sqlx::PgExecutor;

/// Takes one call if fewer than `limit` were made that day: `Some(calls)` with this
/// one included, `None` (nothing changed) when the day's calls are used. Atomic: the
/// row lock of `ON CONFLICT DO UPDATE` makes a concurrent taker wait and see the
/// new count.
pub async fn take(
    db: impl PgExecutor<'_>,
    provider: &str,
    account: &str,
    day: NaiveDate,
    limit: i32,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "INSERT INTO provider_call_budgets AS b (provider, account, day, calls)
         SELECT $1, $2, $3, 1 WHERE $4 > 0
         ON CONFLICT (provider, account, day) DO UPDATE
         SET calls = b.calls + 1, updated_at = now() WHERE b.calls < $4
         RETURNING calls",
    )
    .bind(provider)
    .bind(account)
    .bind(day)
    .bind(limit)
    .fetch_optional(db)
    .await
}

/// Counts a call already made (the connection test), whatever the limit.
pub async fn record(
    db: impl PgExecutor<'_>,
    provider: &str,
    account: &str,
    day: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO provider_call_budgets AS b (provider, account, day, calls) VALUES ($1, $2, $3, 1)
         ON CONFLICT (provider, account, day) DO UPDATE SET calls = b.calls + 1, updated_at = now()",
    )
    .bind(provider)
    .bind(account)
    .bind(day)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the day's calls as all used (the provider refused one).
pub async fn exhaust(
    db: impl PgExecutor<'_>,
    provider: &str,
    account: &str,
    day: NaiveDate,
    limit: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO provider_call_budgets AS b (provider, account, day, calls) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, account, day) DO UPDATE SET calls = greatest(b.calls, $4), updated_at = now()",
    )
    .bind(provider)
    .bind(account)
    .bind(day)
    .bind(limit)
    .execute(db)
    .await?;
    Ok(())
}

/// The calls made on `day` for the account (0 when none).
pub async fn used(
    db: impl PgExecutor<'_>,
    provider: &str,
    account: &str,
    day: NaiveDate,
) -> sqlx::Result<i32> {
    Ok(sqlx::query_scalar(
        "SELECT calls FROM provider_call_budgets WHERE provider = $1 AND account = $2 AND day = $3",
    )
    .bind(provider)
    .bind(account)
    .bind(day)
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}
