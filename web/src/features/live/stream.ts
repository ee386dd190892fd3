// One server-sent event stream per organization, shared by every part of the app
// that wants live revenue (the Pulse page, KPI cards refreshing on a sale). The
// server numbers events per organization and resumes a reconnecting browser from
// its `Last-Event-ID`; this class adds what the browser's EventSource does not:
// reopening after a refused connection (the browser gives up on those), a pause,
// and a short replay for a page that subscribes after the stream opened.
import type { RevenueEvent } from '../../api/types';

export type LiveStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'paused';

/** The part of `EventSource` used here (a fake one in tests). */
export interface SourceLike {
  readonly readyState: number;
  onopen: ((this: never, ev: Event) => unknown) | null;
  onerror: ((this: never, ev: Event) => unknown) | null;
  addEventListener(type: 'revenue', listener: (ev: MessageEvent<string>) => void): void;
  close(): void;
}

export type Listener = (events: RevenueEvent[]) => void;

export interface StreamOptions {
  /** The stream's URL, starting after sequence number `after` (null: from now). */
  url: (after: number | null) => string;
  open: (url: string) => SourceLike;
  /** How long the stream stays open after its last subscriber leaves (page to page). */
  lingerMs?: number;
  /** Events arriving this close together reach subscribers as one batch. */
  coalesceMs?: number;
}

const CLOSED = 2;
/** Recent events kept for a subscriber that arrives late (the Pulse page after a dashboard). */
const REPLAY_LIMIT = 2000;
const MAX_RETRY_MS = 30_000;

export class LiveStream {
  status: LiveStatus = 'idle';
  private source: SourceLike | null = null;
  /** Each subscriber with the newest sequence number it has been given. */
  private readonly listeners = new Map<Listener, number>();
  private readonly statusListeners = new Set<() => void>();
  /** The newest sequence number received. */
  private position: number | null = null;
  /**
   * `replay` holds every event received after this sequence number; null when the
   * connection started from the server's newest, a point unknown here.
   */
  private replayFrom: number | null = null;
  private replay: RevenueEvent[] = [];
  private pending: RevenueEvent[] = [];
  private paused = false;
  private retryMs = 1000;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly lingerMs: number;
  private readonly coalesceMs: number;

  constructor(private readonly options: StreamOptions) {
    this.lingerMs = options.lingerMs ?? 5000;
    this.coalesceMs = options.coalesceMs ?? 50;
  }

  /**
   * Calls `listener` with each batch of new events. With `after` (a snapshot's
   * `last_seq`), every event after it arrives, including ones the stream received
   * before this call. A subscriber never gets the same event twice, even when the
   * connection starts again further back for someone else.
   */
  subscribe(listener: Listener, after?: number | null): () => void {
    this.listeners.set(listener, after ?? -1);
    if (this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    const wanted = after ?? null;
    if (wanted !== null && (this.source || this.retryTimer) && this.replayFrom !== null && this.replayFrom <= wanted) {
      // The open connection covers everything after `wanted`: hand over what already came.
      if (this.replay.some((e) => e.seq > wanted)) queueMicrotask(() => this.deliver(listener, this.replay));
    } else if (wanted !== null && (this.source || this.retryTimer)) {
      // It started later than this subscriber needs: start again from there.
      this.connect(this.position === null ? wanted : Math.min(wanted, this.position), true);
    } else if (!this.source && !this.retryTimer && !this.paused) {
      this.connect(wanted ?? this.position, this.position === null);
    }
    return () => this.unsubscribe(listener);
  }

  /** Subscribes to status changes (for `useSyncExternalStore`). */
  onStatus = (fn: () => void): (() => void) => {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  };

  getStatus = (): LiveStatus => this.status;

  /** Stops receiving; `resume` picks up after the last event received, so nothing is lost. */
  pause() {
    if (this.paused) return;
    this.paused = true;
    this.disconnect();
    this.setStatus('paused');
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    if (this.listeners.size > 0) this.connect(this.position ?? this.replayFrom, false);
    else this.setStatus('idle');
  }

  private unsubscribe(listener: Listener) {
    this.listeners.delete(listener);
    if (this.listeners.size > 0 || this.closeTimer) return;
    this.closeTimer = setTimeout(() => {
      this.closeTimer = null;
      if (this.listeners.size > 0) return;
      this.disconnect();
      this.position = null;
      this.replayFrom = null;
      this.replay = [];
      this.paused = false;
      this.setStatus('idle');
    }, this.lingerMs);
  }

  /** Opens the stream after `after`; `fresh`: a new starting point, not a resumption. */
  private connect(after: number | null, fresh: boolean) {
    this.disconnect();
    if (fresh) {
      this.replay = [];
      this.replayFrom = after;
    }
    if (this.status !== 'reconnecting') this.setStatus('connecting');
    const source = this.options.open(this.options.url(after));
    this.source = source;
    source.onopen = () => {
      if (this.source !== source) return;
      this.retryMs = 1000;
      this.setStatus('live');
    };
    source.onerror = () => {
      if (this.source !== source) return;
      this.setStatus('reconnecting');
      if (source.readyState === CLOSED) {
        // Refused (a 5xx, a proxy's 502): the browser will not retry; we do, from
        // the last event received.
        source.close();
        this.source = null;
        const delay = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          if (!this.paused && this.listeners.size > 0) this.connect(this.position ?? this.replayFrom, false);
        }, delay);
      }
      // Otherwise the browser reconnects by itself, sending Last-Event-ID.
    };
    source.addEventListener('revenue', (message) => {
      if (this.source !== source) return;
      let event: RevenueEvent;
      try {
        event = JSON.parse(message.data) as RevenueEvent;
      } catch {
        return;
      }
      if (typeof event?.seq !== 'number') return;
      if (this.status !== 'live') this.setStatus('live');
      this.position = this.position === null ? event.seq : Math.max(this.position, event.seq);
      // A connection started further back repeats events: keep one copy (subscribers'
      // marks decide who still needs it).
      if (!this.replay.some((e) => e.seq === event.seq)) {
        this.replay.push(event);
        if (this.replay.length > REPLAY_LIMIT) {
          const dropped = this.replay.splice(0, this.replay.length - REPLAY_LIMIT);
          this.replayFrom = dropped[dropped.length - 1]?.seq ?? this.replayFrom;
        }
      }
      this.pending.push(event);
      this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
    });
  }

  private flush() {
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    for (const listener of [...this.listeners.keys()]) this.deliver(listener, batch);
  }

  /** Gives `listener` the events of `batch` it has not had yet. */
  private deliver(listener: Listener, batch: readonly RevenueEvent[]) {
    const mark = this.listeners.get(listener);
    if (mark === undefined) return;
    let high = mark;
    const fresh: RevenueEvent[] = [];
    for (const e of [...batch].sort((x, y) => x.seq - y.seq)) {
      if (e.seq <= high) continue;
      fresh.push(e);
      high = e.seq;
    }
    if (fresh.length === 0) return;
    this.listeners.set(listener, high);
    listener(fresh);
  }

  private disconnect() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.source) {
      this.source.onopen = null;
      this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  private setStatus(status: LiveStatus) {
    if (this.status === status) return;
    this.status = status;
    for (const fn of [...this.statusListeners]) fn();
  }
}
