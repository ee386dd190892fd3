//! The live revenue stream (DESIGN §11): `GET /api/orgs/{org}/live` as server-sent
//! events. Each instance LISTENs once for `pulseboard_live` pings (at most one per
//! processed batch, carrying the organization and its newest sequence number) and
//! fans them out in-process; each stream then reads its organization's new rows
//! by sequence, as its user (row-level security applies). Reading by sequence is
//! what makes resumption exact (`Last-Event-ID`: nothing lost, nothing repeated) and
//! lets several `serve` processes on one database all stream every event.

use std::{convert::Infallible, time::Duration};

use axum::response::sse::Event;
use futures_util::{stream, Stream, StreamExt};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::{self, Bypass, Database};

/// Updates are sent in batches about this far apart (seed 002's debounce).
pub const BATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Without a ping, a stream still looks for new rows this often (a ping lost while
/// the listener reconnects costs at most this much delay, never an event).
const FALLBACK_POLL: Duration = Duration::from_secs(20);
/// Events per read; a stream far behind catches up in several reads.
const PAGE: i64 = 500;

/// What the live stream needs of the application (implemented by `AppState`), so
/// this module does not depend on the state that holds its hub.
pub trait LiveState: Clone + Send + Sync + 'static {
    fn database(&self) -> &Database;
    fn hub(&self) -> &LiveHub;
}

/// In-process fan-out of the database's wake-up pings: organization ids.
pub struct LiveHub {
    sender: broadcast::Sender<Uuid>,
}

impl Default for LiveHub {
    fn default() -> Self {
        // A slow stream that lags just reads again: the rows, not the pings, are the truth.
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }
}

impl LiveHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.sender.subscribe()
    }

    pub fn publish(&self, org_id: Uuid) {
        let _ = self.sender.send(org_id);
    }
}

/// LISTENs for pings on a connection of its own and publishes them to the hub;
/// reconnects with a pause if the connection drops.
pub async fn listen<S: LiveState>(state: S, shutdown: CancellationToken) {
    loop {
        let listened = async {
            let mut listener = PgListener::connect_with(state.database().pool()).await?;
            listener.listen("pulseboard_live").await?;
            loop {
                let ping = listener.recv().await?;
                if let Some(org) = ping
                    .payload()
                    .split(':')
                    .next()
                    .and_then(|o| o.parse().ok())
                {
                    state.hub().publish(org);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            result = listened => {
                if let Err(error) = result {
                    tracing::warn!(%error, "live listener lost its connection; reconnecting");
                }
                // Everyone re-reads once, in case a ping was missed.
                state.hub().publish(Uuid::nil());
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Who reads a stream, which decides how its rows are read.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// A member: as that user, so row-level security applies; every store they see.
    User(Uuid),
    /// A Pulse share link's anonymous viewer: as the worker role, bounded by the
    /// link's organization and store, and only while the link is live (a revoked
    /// link ends the stream at its next read).
    Share { share_id: Uuid, store_id: Uuid },
}

struct Cursor<S> {
    state: S,
    pings: broadcast::Receiver<Uuid>,
    org_id: Uuid,
    reader: Reader,
    after: i64,
    first: bool,
}

/// One page of events after `after`; `None` when a share link is no longer live.
async fn read_page(
    db: &Database,
    org_id: Uuid,
    reader: Reader,
    after: i64,
) -> Result<Option<Vec<db::webhooks::RevenueEvent>>, sqlx::Error> {
    match reader {
        Reader::User(user_id) => {
            let mut tx = db.user_tx(user_id).await?;
            let rows = db::webhooks::revenue_after(&mut *tx, org_id, None, after, PAGE).await?;
            tx.commit().await?;
            Ok(Some(rows))
        }
        Reader::Share { share_id, store_id } => {
            let mut tx = db.bypass_tx(Bypass::PublicShare).await?;
            if !db::pulse_shares::is_live(&mut *tx, org_id, share_id).await? {
                tx.commit().await?;
                return Ok(None);
            }
            let rows =
                db::webhooks::revenue_after(&mut *tx, org_id, Some(store_id), after, PAGE).await?;
            tx.commit().await?;
            Ok(Some(rows))
        }
    }
}

/// Waits for a ping for this organization (or a lag, or the fallback poll).
async fn wait_for_ping(pings: &mut broadcast::Receiver<Uuid>, org_id: Uuid) -> bool {
    let wait = async {
        loop {
            match pings.recv().await {
                Ok(org) if org == org_id || org.is_nil() => return true,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    tokio::time::timeout(FALLBACK_POLL, wait)
        .await
        .unwrap_or(true)
}

/// The organization's revenue events after `after`, as `reader` may see them,
/// followed by the next ones as they arrive, in batches.
pub fn stream<S: LiveState>(
    state: S,
    org_id: Uuid,
    reader: Reader,
    after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let pings = state.hub().subscribe();
    let cursor = Cursor {
        state,
        pings,
        org_id,
        reader,
        after,
        first: true,
    };
    stream::unfold(cursor, |mut c| async move {
        if !c.first {
            if !wait_for_ping(&mut c.pings, c.org_id).await {
                return None;
            }
            // Let the rest of the batch arrive, then drop the pings it caused.
            tokio::time::sleep(BATCH_INTERVAL).await;
            while c.pings.try_recv().is_ok() {}
        }
        c.first = false;
        let mut events = Vec::new();
        loop {
            match read_page(c.state.database(), c.org_id, c.reader, c.after).await {
                // The share link was revoked or expired: the stream ends.
                Ok(None) => return None,
                Ok(Some(rows)) => {
                    let full = rows.len() as i64 == PAGE;
                    for row in rows {
                        c.after = row.seq;
                        events.push(Ok(Event::default()
                            .id(row.seq.to_string())
                            .event("revenue")
                            .json_data(&row)
                            .expect("a revenue event serialises")));
                    }
                    if !full {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "live stream read failed; retrying at the next ping");
                    break;
                }
            }
        }
        Some((stream::iter(events), c))
    })
    .flatten()
}
