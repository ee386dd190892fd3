import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RevenueEvent, Store } from '../../api/types';
import { debounce, dashboardStores } from './refresh';
import { LiveStream, type SourceLike } from './stream';

class FakeSource implements SourceLike {
  readyState = 0;
  onopen: SourceLike['onopen'] = null;
  onerror: SourceLike['onerror'] = null;
  closed = false;
  private handlers: ((ev: MessageEvent<string>) => void)[] = [];
  constructor(readonly url: string) {}
  addEventListener(_type: 'revenue', listener: (ev: MessageEvent<string>) => void) {
    this.handlers.push(listener);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    (this.onopen as ((ev: Event) => void) | null)?.(new Event('open'));
  }
  emit(...seqs: number[]) {
    for (const seq of seqs) {
      const data = JSON.stringify(event(seq));
      for (const h of this.handlers) h({ data } as MessageEvent<string>);
    }
  }
  /** The browser lost the connection and retries by itself (readyState CONNECTING). */
  drop() {
    this.readyState = 0;
    (this.onerror as ((ev: Event) => void) | null)?.(new Event('error'));
  }
  /** The server refused the connection: the browser gives up (readyState CLOSED). */
  refuse() {
    this.readyState = 2;
    (this.onerror as ((ev: Event) => void) | null)?.(new Event('error'));
  }
}

function event(seq: number): RevenueEvent {
  return { seq, store_id: 's1', provider: 'stripe', kind: 'sale', amount_minor: 100, currency: 'USD', campaign: null, occurred_at: '2026-12-04T10:00:00Z' };
}

let sources: FakeSource[];
function makeStream() {
  return new LiveStream({
    url: (after) => (after === null ? '/live' : `/live?after=${after}`),
    open: (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    lingerMs: 1000,
    coalesceMs: 10,
  });
}
const last = () => sources[sources.length - 1] as FakeSource;
const seqsOf = (calls: RevenueEvent[][]) => calls.flat().map((e) => e.seq);

beforeEach(() => {
  sources = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LiveStream', () => {
  it('opens once for every subscriber, after the snapshot it was given, and batches events', async () => {
    const stream = makeStream();
    const a: RevenueEvent[][] = [];
    const b: RevenueEvent[][] = [];
    stream.subscribe((e) => a.push(e), 41);
    stream.subscribe((e) => b.push(e));
    expect(sources.map((s) => s.url)).toEqual(['/live?after=41']);
    expect(stream.status).toBe('connecting');
    last().open();
    expect(stream.status).toBe('live');
    last().emit(42, 43);
    await vi.advanceTimersByTimeAsync(20);
    expect(a).toHaveLength(1);
    expect(seqsOf(a)).toEqual([42, 43]);
    expect(seqsOf(b)).toEqual([42, 43]);
  });

  it('shows Reconnecting while the browser retries, and nothing is delivered twice when it resumes', async () => {
    const stream = makeStream();
    const got: RevenueEvent[][] = [];
    stream.subscribe((e) => got.push(e), 0);
    last().open();
    last().emit(1, 2);
    last().drop();
    expect(stream.status).toBe('reconnecting');
    // The browser reconnects with Last-Event-ID; a server repeating itself is ignored.
    last().open();
    expect(stream.status).toBe('live');
    last().emit(2, 3);
    await vi.advanceTimersByTimeAsync(20);
    expect(seqsOf(got)).toEqual([1, 2, 3]);
    expect(sources).toHaveLength(1);
  });

  it('reopens a refused connection itself, after the last event received, backing off', async () => {
    const stream = makeStream();
    const got: RevenueEvent[][] = [];
    stream.subscribe((e) => got.push(e), 10);
    last().open();
    last().emit(11, 12);
    last().refuse();
    expect(stream.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(999);
    expect(sources).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(last().url).toBe('/live?after=12');
    last().refuse();
    await vi.advanceTimersByTimeAsync(1999);
    expect(sources).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sources).toHaveLength(3);
    last().open();
    last().emit(13);
    await vi.advanceTimersByTimeAsync(20);
    expect(seqsOf(got)).toEqual([11, 12, 13]);
    expect(stream.status).toBe('live');
  });

  it('pauses by closing the connection and resumes where it stopped', async () => {
    const stream = makeStream();
    const got: RevenueEvent[][] = [];
    stream.subscribe((e) => got.push(e), 5);
    last().open();
    last().emit(6);
    stream.pause();
    expect(stream.status).toBe('paused');
    expect(sources[0]?.closed).toBe(true);
    stream.resume();
    expect(last().url).toBe('/live?after=6');
    last().open();
    last().emit(7);
    await vi.advanceTimersByTimeAsync(20);
    expect(seqsOf(got)).toEqual([6, 7]);
  });

  it('hands a late subscriber what the open stream already received after its snapshot', async () => {
    const stream = makeStream();
    stream.subscribe(() => {}, 0);
    last().open();
    last().emit(1, 2, 3);
    await vi.advanceTimersByTimeAsync(20);
    const late: RevenueEvent[][] = [];
    stream.subscribe((e) => late.push(e), 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(seqsOf(late)).toEqual([2, 3]);
    expect(sources).toHaveLength(1);
  });

  it('starts again further back when the open stream began after what a new subscriber needs', async () => {
    const stream = makeStream();
    const early: RevenueEvent[][] = [];
    // A dashboard opened the stream "from now": where that was is unknown here.
    stream.subscribe((e) => early.push(e));
    last().open();
    last().emit(8, 9);
    await vi.advanceTimersByTimeAsync(20);
    const pulse: RevenueEvent[][] = [];
    stream.subscribe((e) => pulse.push(e), 6);
    expect(sources[0]?.closed).toBe(true);
    expect(last().url).toBe('/live?after=6');
    last().open();
    last().emit(7, 8, 9, 10);
    await vi.advanceTimersByTimeAsync(20);
    expect(seqsOf(pulse)).toEqual([7, 8, 9, 10]);
    // The dashboard does not see 8 and 9 again (7 is older than anything it had: skipped too).
    expect(seqsOf(early)).toEqual([8, 9, 10]);
  });

  it('closes a while after the last subscriber leaves, not on a quick page change', async () => {
    const stream = makeStream();
    const off = stream.subscribe(() => {}, 0);
    last().open();
    off();
    await vi.advanceTimersByTimeAsync(500);
    const again = stream.subscribe(() => {}, 0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sources).toHaveLength(1);
    expect(sources[0]?.closed).toBe(false);
    again();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sources[0]?.closed).toBe(true);
    expect(stream.status).toBe('idle');
  });

  it('ignores a malformed message', async () => {
    const stream = makeStream();
    const got: RevenueEvent[][] = [];
    stream.subscribe((e) => got.push(e), 0);
    const s = last();
    s.open();
    (s as unknown as { handlers: ((ev: MessageEvent<string>) => void)[] }).handlers.forEach((h) => h({ data: '{not json' } as MessageEvent<string>));
    s.emit(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(seqsOf(got)).toEqual([1]);
  });
});

describe('dashboardStores', () => {
  const stores = [
    { id: 'a', workspace_id: 'w1' },
    { id: 'b', workspace_id: 'w1' },
    { id: 'c', workspace_id: 'w2' },
  ] as Store[];

  it('collects stores from single, multi-store, workspace and funnel-step scopes', () => {
    const widgets = [
      { query_config: { scope: { store: 'a' } } },
      { query_config: { scope: { workspace: 'w2' } } },
      { query_config: { steps: [{ scope: { stores: ['b'] } }] } },
      { query_config: {} },
    ] as never[];
    expect([...dashboardStores(widgets, stores)].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('debounce', () => {
  it('runs once after a burst', async () => {
    const fn = vi.fn();
    const d = debounce(fn, 1000);
    d();
    await vi.advanceTimersByTimeAsync(600);
    d();
    d();
    await vi.advanceTimersByTimeAsync(999);
    expect(fn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(1);
    d();
    d.cancel();
    await vi.advanceTimersByTimeAsync(2000);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
