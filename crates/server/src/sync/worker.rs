//! A process's sync workers: one pool running up to `slots` jobs at once.
//!
//! The pool talks to the queue in batches. Each step is one short transaction that
//! records the outcome of every job that finished since the last step and claims as
//! many due jobs as there are free slots ([`queue::finish_batch`],
//! [`queue::ClaimCursor`]); each claimed job then runs in its own task, outside any
//! transaction, with its own lease and heartbeat. A pool only ever claims for slots
//! it can start at once, so no claimed job waits behind another while other
//! processes idle.
//!
//! The pool is generic over what running a job means: the server passes
//! `runner::run_claimed`, the queue benchmark a job that does nothing.

use std::{future::Future, time::Duration};

use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::queue::{self, ClaimCursor, ClaimedJob, Outcome};
use crate::db::Database;

/// How a pool runs.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Names the claims (`locked_by`): host, process and pool.
    pub name: String,
    /// Jobs run at once.
    pub slots: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How long an idle pool waits before looking again, when nothing wakes it.
    pub poll_every: Duration,
    /// Stop once the queue has nothing due and every job has finished (the
    /// benchmark); a server's pool waits for more instead.
    pub until_empty: bool,
}

/// A job that ran: `None` as the outcome when it lost its lease (the new owner
/// records the result).
pub struct Ran {
    pub job: ClaimedJob,
    pub outcome: Option<Outcome>,
    pub elapsed: Duration,
}

/// Runs the pool until `shutdown` (or, with `until_empty`, until the queue is
/// drained). `report` sees every run once its outcome is recorded (or dropped:
/// the flag says whether it was recorded). Jobs still running at shutdown are put
/// back in the queue for another process.
pub async fn run<R, F>(
    db: &Database,
    settings: &PoolSettings,
    wakeup: &Notify,
    shutdown: &CancellationToken,
    run_job: R,
    mut report: impl FnMut(&Ran, bool),
) where
    R: Fn(ClaimedJob) -> F,
    F: Future<Output = Ran> + Send + 'static,
{
    let mut running: JoinSet<Ran> = JoinSet::new();
    let mut finished: Vec<Ran> = Vec::new();
    let mut cursor = ClaimCursor::default();
    loop {
        while let Some(done) = running.try_join_next() {
            collect(done, &mut finished);
        }
        // Armed before the step, so a job queued during it still wakes the pool.
        let wakeup = wakeup.notified();
        tokio::pin!(wakeup);
        wakeup.as_mut().enable();

        let stopping = shutdown.is_cancelled();
        let free = if stopping {
            0
        } else {
            settings.slots.saturating_sub(running.len())
        };
        let mut claimed_all = false;
        if !finished.is_empty() || free > 0 {
            match step(db, settings, &mut cursor, &finished, free).await {
                Ok((recorded, claimed)) => {
                    for (ran, recorded) in finished.drain(..).zip(recorded) {
                        report(&ran, recorded);
                    }
                    claimed_all = free > 0 && claimed.len() == free;
                    let idle = claimed.is_empty() && running.is_empty();
                    for job in claimed {
                        running.spawn(run_job(job));
                    }
                    if idle && settings.until_empty {
                        return;
                    }
                }
                Err(error) => {
                    // Outcomes stay in `finished` for the next step; leases outlive a blip.
                    tracing::warn!(%error, pool = %settings.name, "sync queue step failed");
                    if !stopping {
                        tokio::select! {
                            _ = shutdown.cancelled() => {}
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                        continue;
                    }
                }
            }
        }
        if stopping {
            hand_back(db, settings, running).await;
            return;
        }
        if claimed_all {
            // The queue has more: claim again as soon as a slot frees.
            tokio::select! {
                done = running.join_next() => {
                    if let Some(done) = done {
                        collect(done, &mut finished);
                    }
                }
                _ = shutdown.cancelled() => {}
            }
            continue;
        }
        tokio::select! {
            done = running.join_next(), if !running.is_empty() => {
                if let Some(done) = done {
                    collect(done, &mut finished);
                }
            }
            _ = &mut wakeup => {}
            _ = tokio::time::sleep(settings.poll_every) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

/// One transaction: claim for the free slots, record what finished.
async fn step(
    db: &Database,
    settings: &PoolSettings,
    cursor: &mut ClaimCursor,
    finished: &[Ran],
    free: usize,
) -> sqlx::Result<(Vec<bool>, Vec<ClaimedJob>)> {
    let outcomes: Vec<(&ClaimedJob, &Outcome)> = finished
        .iter()
        .filter_map(|ran| ran.outcome.as_ref().map(|outcome| (&ran.job, outcome)))
        .collect();
    let mut tx = db.worker_tx().await?;
    let claimed = cursor
        .claim(&mut tx, &settings.name, settings.lease, free)
        .await?;
    let mut recorded = queue::finish_batch(&mut tx, &outcomes).await?.into_iter();
    tx.commit().await?;
    // A run without an outcome (lost lease) was not recorded.
    let recorded = finished
        .iter()
        .map(|ran| ran.outcome.is_some() && recorded.next().unwrap_or(false))
        .collect();
    Ok((recorded, claimed))
}

fn collect(done: Result<Ran, tokio::task::JoinError>, finished: &mut Vec<Ran>) {
    match done {
        Ok(ran) => finished.push(ran),
        // The job's lease runs out and the scheduler requeues it.
        Err(error) => tracing::error!(%error, "a sync job's task panicked"),
    }
}

/// At shutdown: stops the running jobs and puts them back in the queue, due now, so
/// another process resumes them from their cursors without waiting for the lease.
async fn hand_back(db: &Database, settings: &PoolSettings, mut running: JoinSet<Ran>) {
    if running.is_empty() {
        return;
    }
    running.abort_all();
    while running.join_next().await.is_some() {}
    let released: sqlx::Result<u64> = async {
        let mut tx = db.worker_tx().await?;
        let released = queue::release_by_worker(&mut *tx, &settings.name).await?;
        tx.commit().await?;
        Ok(released)
    }
    .await;
    match released {
        Ok(released) => {
            tracing::info!(released, pool = %settings.name, "handed unfinished sync jobs back to the queue")
        }
        Err(error) => {
            tracing::warn!(%error, "could not hand sync jobs back; their leases will expire")
        }
    }
}
