//! The live revenue stream (DESIGN §11): `GET /api/orgs/{org}/live` as server-sent
//! events. Each instance LISTENs once for `pulseboard_live` pings (at most one per
//! processed batch, carrying the organization and its newest sequence number). For
//! every organization with open streams the instance keeps one *feed*: a task that,
//! woken by the pings (at most once per [`BATCH_INTERVAL`]), reads the
//! organization's new rows by sequence once, as the worker role, checks in the same
//! transaction which of its viewers may still see them (members still members, share
//! links still live), and fans the batch out in-process over a bounded
//! `tokio::sync::broadcast` to that organization's streams only.
//!
//! A stream joins its organization's feed *before* reading what it missed from the
//! database as its own reader (its user, row-level security applying; or the share
//! link's store): every row the feed publishes afterwards was committed after the
//! join, and rows become visible in sequence order (DESIGN §11), so the stream
//! continues from its catch-up read without a gap, dropping the repeats by number.
//! Reading by sequence is what makes resumption exact (`Last-Event-ID`) and lets
//! several `serve` processes on one database all stream every event. A stream that
//! falls more than [`FEED_CAPACITY`] batches behind is ended; the browser reconnects
//! with `Last-Event-ID` and catches up from the database.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::body::Bytes;
use futures_util::{stream, Stream, StreamExt};
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::{self, webhooks::RevenueEvent, Bypass, Database};

/// Updates are sent in batches at least this far apart (seed 002's debounce).
pub const BATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Without a ping, a feed still looks for new rows this often (a ping lost while
/// the listener reconnects costs at most this much delay, never an event).
const FALLBACK_POLL: Duration = Duration::from_secs(20);
/// Events per read; a stream far behind catches up in several reads.
const PAGE: i64 = 500;
/// Pages a feed reads per wake-up before letting its streams send (it goes on at once).
const PAGES_PER_WAKE: usize = 8;
/// Batches a stream may fall behind its feed before it is ended (bounded memory for
/// slow clients; the browser resumes with `Last-Event-ID`).
pub const FEED_CAPACITY: usize = 32;
/// How long a new stream waits for its feed's starting point.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A stream with nothing to send for this long sends a comment, so proxies and load
/// balancers keep the connection open and the browser knows it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// The heartbeat: an SSE comment line.
const HEARTBEAT_FRAME: &[u8] = b":\n\n";

/// What the live stream needs of the application (implemented by `AppState`), so
/// this module does not depend on the state that holds its hub.
pub trait LiveState: Clone + Send + Sync + 'static {
    fn database(&self) -> &Database;
    fn hub(&self) -> &LiveHub;
}

/// Who reads a stream, which decides how its rows are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// A member: as that user, so row-level security applies; every store they see.
    User(Uuid),
    /// A Pulse share link's anonymous viewer: as the worker role, bounded by the
    /// link's organization and store, and only while the link is live (a revoked
    /// link ends the stream at its next batch).
    Share { share_id: Uuid, store_id: Uuid },
}

/// One read of a feed: new events of the organization, and for each viewer of the
/// feed at the time of the read whether it may still see them.
pub struct Batch {
    events: Vec<Shared>,
    /// Every event of the batch, SSE-encoded once for all the feed's streams: a
    /// stream that may see all of them writes this one buffer (one write per batch
    /// and client, no copy); the others write the slices they may see.
    encoded: Bytes,
    verdicts: HashMap<Reader, bool>,
}

/// An event as the feed shares it: its slice of the batch's encoding.
struct Shared {
    seq: i64,
    store_id: Uuid,
    frame: Bytes,
}

/// Appends one revenue event as an SSE message (`id:` its sequence number, `event:
/// revenue`, `data:` the event as one line of JSON).
fn encode(row: &RevenueEvent, out: &mut Vec<u8>) {
    use std::io::Write;
    write!(out, "id: {}\nevent: revenue\ndata: ", row.seq).expect("writing to a Vec");
    serde_json::to_writer(&mut *out, row).expect("a revenue event serialises");
    out.extend_from_slice(b"\n\n");
}

/// Rows encoded into one buffer, with each row's slice of it.
fn encode_all(rows: &[RevenueEvent]) -> (Bytes, Vec<Shared>) {
    let mut buffer = Vec::with_capacity(rows.len() * 512);
    let mut ends = Vec::with_capacity(rows.len());
    for row in rows {
        let start = buffer.len();
        encode(row, &mut buffer);
        ends.push((start, buffer.len()));
    }
    let encoded = Bytes::from(buffer);
    let events = rows
        .iter()
        .zip(ends)
        .map(|(row, (start, end))| Shared {
            seq: row.seq,
            store_id: row.store_id,
            frame: encoded.slice(start..end),
        })
        .collect();
    (encoded, events)
}

/// The feed of one organization on this instance.
struct Feed {
    org_id: Uuid,
    sender: broadcast::Sender<Arc<Batch>>,
    wake: Notify,
    /// Set once the feed knows where it starts (the organization's newest sequence).
    ready: watch::Sender<bool>,
    /// The streams reading this feed, by reader (a count: one user, several tabs).
    readers: Mutex<HashMap<Reader, usize>>,
}

/// The organizations with open streams on this instance, and their feeds.
#[derive(Default)]
pub struct LiveHub {
    feeds: Mutex<HashMap<Uuid, Arc<Feed>>>,
}

impl LiveHub {
    /// A ping for an organization (the nil id: every feed reads once, in case a ping
    /// was missed).
    pub fn publish(&self, org_id: Uuid) {
        let feeds = self.feeds.lock().expect("live hub lock");
        if org_id.is_nil() {
            feeds.values().for_each(|f| f.wake.notify_one());
        } else if let Some(feed) = feeds.get(&org_id) {
            feed.wake.notify_one();
        }
    }

    /// Organizations with a feed on this instance.
    pub fn feeds(&self) -> usize {
        self.feeds.lock().expect("live hub lock").len()
    }

    /// Subscribes `reader` to the organization's feed, starting the feed if it is
    /// the first.
    fn join<S: LiveState>(&self, state: &S, org_id: Uuid, reader: Reader) -> Membership {
        let mut feeds = self.feeds.lock().expect("live hub lock");
        let feed = feeds
            .entry(org_id)
            .or_insert_with(|| {
                let (sender, _) = broadcast::channel(FEED_CAPACITY);
                let feed = Arc::new(Feed {
                    org_id,
                    sender,
                    wake: Notify::new(),
                    ready: watch::channel(false).0,
                    readers: Mutex::new(HashMap::new()),
                });
                tokio::spawn(run_feed(state.clone(), feed.clone()));
                feed
            })
            .clone();
        *feed
            .readers
            .lock()
            .expect("feed readers lock")
            .entry(reader)
            .or_default() += 1;
        let batches = feed.sender.subscribe();
        Membership {
            feed,
            reader,
            batches,
        }
    }

    /// Removes the feed if nobody reads it any more; true when it was removed.
    fn retire(&self, feed: &Arc<Feed>) -> bool {
        let mut feeds = self.feeds.lock().expect("live hub lock");
        if !feed.readers.lock().expect("feed readers lock").is_empty() {
            return false;
        }
        if feeds
            .get(&feed.org_id)
            .is_some_and(|f| Arc::ptr_eq(f, feed))
        {
            feeds.remove(&feed.org_id);
        }
        true
    }
}

/// A stream's place in its organization's feed; leaving it (drop) unregisters.
struct Membership {
    feed: Arc<Feed>,
    reader: Reader,
    batches: broadcast::Receiver<Arc<Batch>>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut readers = self.feed.readers.lock().expect("feed readers lock");
        if let Some(n) = readers.get_mut(&self.reader) {
            *n -= 1;
            if *n == 0 {
                readers.remove(&self.reader);
            }
        }
        if readers.is_empty() {
            // Let the feed notice it is idle and end.
            self.feed.wake.notify_one();
        }
    }
}

/// The feed's task: finds its starting point, then reads once per wake-up (at most
/// once per [`BATCH_INTERVAL`]) and broadcasts; ends when its last stream leaves.
async fn run_feed<S: LiveState>(state: S, feed: Arc<Feed>) {
    let db = state.database();
    let mut after = loop {
        let start = async {
            let mut tx = db.worker_tx().await?;
            let seq = db::webhooks::last_seq(&mut *tx, feed.org_id).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(seq)
        };
        match start.await {
            Ok(seq) => break seq,
            Err(error) => {
                tracing::warn!(%error, "live feed could not start; retrying");
                if state.hub().retire(&feed) {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    feed.ready.send_replace(true);
    let mut last_read: Option<Instant> = None;
    loop {
        let _ = tokio::time::timeout(FALLBACK_POLL, feed.wake.notified()).await;
        if state.hub().retire(&feed) {
            return;
        }
        // Let the rest of a burst arrive: one read, and one batch, per interval.
        if let Some(wait) = last_read.map(|at| BATCH_INTERVAL.saturating_sub(at.elapsed())) {
            tokio::time::sleep(wait).await;
        }
        last_read = Some(Instant::now());
        match read_feed(db, &feed, after).await {
            Ok((batch, more)) => {
                if let Some(last) = batch.events.last() {
                    after = last.seq;
                    let _ = feed.sender.send(Arc::new(batch));
                }
                if more {
                    feed.wake.notify_one();
                }
            }
            Err(error) => {
                tracing::warn!(%error, "live feed read failed; retrying at the next ping");
            }
        }
    }
}

/// The organization's events after `after` (up to [`PAGES_PER_WAKE`] pages; `true`
/// when there may be more) and, when there are any, which of the feed's readers may
/// see them: one transaction for every stream of the organization on this instance.
async fn read_feed(db: &Database, feed: &Feed, after: i64) -> sqlx::Result<(Batch, bool)> {
    let mut tx = db.worker_tx().await?;
    let mut events: Vec<RevenueEvent> = Vec::new();
    let mut more = false;
    for _ in 0..PAGES_PER_WAKE {
        let from = events.last().map_or(after, |e| e.seq);
        let page = db::webhooks::revenue_after(&mut *tx, feed.org_id, None, from, PAGE).await?;
        more = page.len() as i64 == PAGE;
        events.extend(page);
        if !more {
            break;
        }
    }
    let mut verdicts = HashMap::new();
    if !events.is_empty() {
        let readers: Vec<Reader> = feed
            .readers
            .lock()
            .expect("feed readers lock")
            .keys()
            .copied()
            .collect();
        let users: Vec<Uuid> = readers
            .iter()
            .filter_map(|r| match r {
                Reader::User(id) => Some(*id),
                Reader::Share { .. } => None,
            })
            .collect();
        let shares: Vec<Uuid> = readers
            .iter()
            .filter_map(|r| match r {
                Reader::Share { share_id, .. } => Some(*share_id),
                Reader::User(_) => None,
            })
            .collect();
        let members = if users.is_empty() {
            Vec::new()
        } else {
            db::orgs::members_among(&mut *tx, feed.org_id, &users).await?
        };
        let live = if shares.is_empty() {
            Vec::new()
        } else {
            db::pulse_shares::live_among(&mut *tx, feed.org_id, &shares).await?
        };
        for reader in readers {
            let allowed = match reader {
                Reader::User(id) => members.contains(&id),
                Reader::Share { share_id, .. } => live.contains(&share_id),
            };
            verdicts.insert(reader, allowed);
        }
    }
    tx.commit().await?;
    let (encoded, events) = encode_all(&events);
    Ok((
        Batch {
            events,
            encoded,
            verdicts,
        },
        more,
    ))
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

/// One page of events after `after` as the stream's own reader (its catch-up read);
/// `None` when the reader may no longer see the organization's events.
async fn read_page(
    db: &Database,
    org_id: Uuid,
    reader: Reader,
    after: i64,
) -> Result<Option<Vec<RevenueEvent>>, sqlx::Error> {
    match reader {
        Reader::User(user_id) => {
            let mut tx = db.user_tx(user_id).await?;
            if !db::orgs::is_member(&mut *tx, org_id).await? {
                tx.commit().await?;
                return Ok(None);
            }
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

/// Whether the reader may still see the organization (a stream that joined its feed
/// after a batch's check asks for itself).
async fn still_allowed(db: &Database, org_id: Uuid, reader: Reader) -> sqlx::Result<bool> {
    Ok(read_page(db, org_id, reader, i64::MAX).await?.is_some())
}

enum Phase {
    /// Not yet joined: join the feed, then read what was missed.
    Start,
    Live(Membership),
}

struct Cursor<S> {
    state: S,
    org_id: Uuid,
    reader: Reader,
    after: i64,
    phase: Phase,
}

/// The organization's revenue events after `after`, as `reader` may see them,
/// followed by the next ones as they arrive, in batches: the body of a
/// `text/event-stream` response, SSE-encoded, with a heartbeat comment after
/// [`HEARTBEAT`] without events.
pub fn stream<S: LiveState>(
    state: S,
    org_id: Uuid,
    reader: Reader,
    after: i64,
) -> impl Stream<Item = Bytes> {
    let cursor = Cursor {
        state,
        org_id,
        reader,
        after,
        phase: Phase::Start,
    };
    stream::unfold(cursor, |mut c| async move {
        let membership = match std::mem::replace(&mut c.phase, Phase::Start) {
            Phase::Live(membership) => membership,
            Phase::Start => {
                // Join first, so nothing committed after the catch-up read is missed.
                let membership = c.state.hub().join(&c.state, c.org_id, c.reader);
                let mut ready = membership.feed.ready.subscribe();
                if tokio::time::timeout(JOIN_TIMEOUT, ready.wait_for(|r| *r))
                    .await
                    .map_or(true, |r| r.is_err())
                {
                    tracing::warn!("live feed did not start; the browser will reconnect");
                    return None;
                }
                let mut events = Vec::new();
                loop {
                    match read_page(c.state.database(), c.org_id, c.reader, c.after).await {
                        // No longer a member, or the share link was revoked or expired.
                        Ok(None) => return None,
                        Ok(Some(rows)) => {
                            let full = rows.len() as i64 == PAGE;
                            if let Some(last) = rows.last() {
                                c.after = last.seq;
                                events.push(encode_all(&rows).0);
                            }
                            if !full {
                                break;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "live stream read failed; the browser will reconnect");
                            return None;
                        }
                    }
                }
                c.phase = Phase::Live(membership);
                return Some((stream::iter(events), c));
            }
        };
        let mut membership = membership;
        let quiet_until = tokio::time::Instant::now() + HEARTBEAT;
        loop {
            let batch =
                match tokio::time::timeout_at(quiet_until, membership.batches.recv()).await {
                    Ok(Ok(batch)) => batch,
                    // Too far behind (or the feed is gone): end; the browser resumes
                    // from its last event id and catches up from the database.
                    Ok(Err(_)) => return None,
                    Err(_) => {
                        c.phase = Phase::Live(membership);
                        let heartbeat = Bytes::from_static(HEARTBEAT_FRAME);
                        return Some((stream::iter(vec![heartbeat]), c));
                    }
                };
            let allowed = match batch.verdicts.get(&c.reader) {
                Some(allowed) => *allowed,
                None => still_allowed(c.state.database(), c.org_id, c.reader)
                    .await
                    .unwrap_or(false),
            };
            if !allowed {
                return None;
            }
            let store = match c.reader {
                Reader::Share { store_id, .. } => Some(store_id),
                Reader::User(_) => None,
            };
            let visible = |e: &&Shared| e.seq > c.after && store.is_none_or(|s| e.store_id == s);
            let events: Vec<Bytes> = if batch.events.iter().all(|e| visible(&e)) {
                vec![batch.encoded.clone()]
            } else {
                batch
                    .events
                    .iter()
                    .filter(visible)
                    .map(|e| e.frame.clone())
                    .collect()
            };
            if let Some(last) = batch.events.last() {
                c.after = c.after.max(last.seq);
            }
            if events.is_empty() {
                continue;
            }
            c.phase = Phase::Live(membership);
            return Some((stream::iter(events), c));
        }
    })
    .flatten()
}
