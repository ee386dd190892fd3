import { describe, expect, it } from 'vitest';
import type { RevenueEvent } from '../../api/types';
import {
  campaignBreakdown,
  latest,
  mergeEvents,
  needsNewDay,
  NO_CAMPAIGN,
  perMinute,
  sum,
  todaysEvents,
  totals,
  tweenValue,
} from './pulse';

const NOW = Date.parse('2026-12-04T15:30:00Z');
const STORE = 'store-1';

let nextSeq = 1;
function ev(partial: Partial<RevenueEvent> & { minutesAgo?: number } = {}): RevenueEvent {
  const { minutesAgo = 5, ...rest } = partial;
  return {
    seq: nextSeq++,
    store_id: STORE,
    provider: 'stripe',
    kind: 'sale',
    amount_minor: 1000,
    currency: 'USD',
    campaign: null,
    occurred_at: new Date(NOW - minutesAgo * 60_000).toISOString(),
    ...rest,
  };
}

describe('mergeEvents', () => {
  it('keeps one copy of an event the snapshot and the stream both delivered', () => {
    const a = ev({ seq: 1 });
    const b = ev({ seq: 2 });
    const c = ev({ seq: 3 });
    const merged = mergeEvents([a, b], [b, c, c]);
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('orders by sequence when a replay arrives out of order', () => {
    const merged = mergeEvents([ev({ seq: 5 })], [ev({ seq: 7 }), ev({ seq: 6 }), ev({ seq: 4 })]);
    expect(merged.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
  });

  it('returns the same array when nothing is new, so the page does not re-render', () => {
    const current = [ev({ seq: 1 }), ev({ seq: 2 })];
    expect(mergeEvents(current, [current[1] as RevenueEvent])).toBe(current);
    expect(mergeEvents(current, [])).toBe(current);
  });
});

describe('todaysEvents', () => {
  it("keeps the chosen store's events from the start of today", () => {
    const start = new Date(NOW - 60 * 60_000).toISOString();
    const today = ev({ minutesAgo: 10 });
    const yesterday = ev({ minutesAgo: 120 });
    const otherStore = ev({ minutesAgo: 10, store_id: 'store-2' });
    expect(todaysEvents([today, yesterday, otherStore], STORE, start)).toEqual([today]);
    expect(todaysEvents([today, yesterday, otherStore], null, start)).toEqual([today, otherStore]);
  });
});

describe('totals', () => {
  it('nets refunds against sales and counts each', () => {
    const t = totals(
      [ev({ amount_minor: 4900 }), ev({ kind: 'subscription', amount_minor: 2900 }), ev({ kind: 'refund', amount_minor: -900 })],
      'USD',
    );
    expect(t).toMatchObject({ netMinor: 6900, sales: 2, refunds: 1, otherCurrencies: [] });
  });

  it('leaves other currencies out of the total instead of adding euros to dollars', () => {
    const t = totals([ev({ amount_minor: 1000 }), ev({ amount_minor: 500, currency: 'eur' }), ev({ amount_minor: 700, currency: 'EUR' })], 'usd');
    expect(t.netMinor).toBe(1000);
    expect(t.sales).toBe(1);
    expect(t.otherCurrencies).toEqual([{ currency: 'EUR', events: 2, netMinor: 1200 }]);
  });

  it('is zero for a quiet day', () => {
    expect(totals([], 'USD')).toMatchObject({ netMinor: 0, sales: 0, refunds: 0 });
  });
});

describe('perMinute', () => {
  it('has 60 buckets, oldest first, counting back from now', () => {
    const buckets = perMinute([ev({ minutesAgo: 0.2, amount_minor: 100 }), ev({ minutesAgo: 0.9, amount_minor: 50 }), ev({ minutesAgo: 59.5, amount_minor: 7 })], 'USD', NOW);
    expect(buckets).toHaveLength(60);
    expect(buckets[59]).toBe(150);
    expect(buckets[0]).toBe(7);
    expect(sum(buckets)).toBe(157);
  });

  it('drops what is an hour old or more, and moves with the clock', () => {
    const e = ev({ minutesAgo: 30, amount_minor: 100 });
    expect(perMinute([e], 'USD', NOW)[29]).toBe(100);
    expect(sum(perMinute([e, ev({ minutesAgo: 60, amount_minor: 5 })], 'USD', NOW))).toBe(100);
    // 31 minutes later the same sale has left the window.
    expect(sum(perMinute([e], 'USD', NOW + 31 * 60_000))).toBe(0);
  });

  it('puts a sale stamped a little in the future (clock skew) in the newest bucket', () => {
    const buckets = perMinute([ev({ minutesAgo: -0.5, amount_minor: 300 })], 'USD', NOW);
    expect(buckets[59]).toBe(300);
  });

  it('counts refunds against the minute they happened in', () => {
    const buckets = perMinute([ev({ minutesAgo: 2, amount_minor: 1000 }), ev({ minutesAgo: 2, kind: 'refund', amount_minor: -400 })], 'USD', NOW);
    expect(buckets[57]).toBe(600);
  });
});

describe('latest', () => {
  it('lists the newest first and at most n', () => {
    const events = Array.from({ length: 25 }, (_, i) => ev({ seq: 100 + i }));
    const feed = latest(events, 20);
    expect(feed).toHaveLength(20);
    expect(feed[0]?.seq).toBe(124);
    expect(feed[19]?.seq).toBe(105);
  });
});

describe('campaignBreakdown', () => {
  it('ranks campaigns by revenue and groups untagged sales as one row', () => {
    const rows = campaignBreakdown(
      [
        ev({ campaign: 'launch-hn', amount_minor: 4900 }),
        ev({ campaign: 'launch-hn', amount_minor: 4900 }),
        ev({ campaign: 'newsletter', amount_minor: 12_000 }),
        ev({ campaign: null, amount_minor: 1000 }),
        ev({ campaign: '  ', amount_minor: 500 }),
        ev({ campaign: 'launch-hn', kind: 'refund', amount_minor: -4900 }),
      ],
      'USD',
    );
    expect(rows.map((r) => [r.label, r.netMinor, r.sales, r.refunds])).toEqual([
      ['newsletter', 12_000, 1, 0],
      ['launch-hn', 4900, 2, 1],
      [NO_CAMPAIGN, 1500, 2, 0],
    ]);
    expect(rows[2]?.campaign).toBeNull();
  });

  it('puts named campaigns before untagged money when they tie', () => {
    const rows = campaignBreakdown([ev({ campaign: null, amount_minor: 100 }), ev({ campaign: 'x', amount_minor: 100 })], 'USD');
    expect(rows.map((r) => r.label)).toEqual(['x', NO_CAMPAIGN]);
  });
});

describe('tweenValue', () => {
  it('starts at the old total, ends exactly on the new one, in whole cents', () => {
    expect(tweenValue(1000, 5900, 0, 600)).toBe(1000);
    expect(tweenValue(1000, 5900, 600, 600)).toBe(5900);
    expect(tweenValue(1000, 5900, 10_000, 600)).toBe(5900);
    const mid = tweenValue(1000, 5900, 300, 600);
    expect(Number.isInteger(mid)).toBe(true);
    // Eased: past the halfway mark at half time.
    expect(mid).toBeGreaterThan(3450);
    expect(mid).toBeLessThan(5900);
  });

  it('counts down too (a refund), and jumps with no duration (reduced motion)', () => {
    const down = tweenValue(5000, 4000, 200, 600);
    expect(down).toBeLessThan(5000);
    expect(down).toBeGreaterThan(4000);
    expect(tweenValue(1000, 2000, 0, 0)).toBe(2000);
  });

  it('never overshoots along the way', () => {
    let previous = 0;
    for (let t = 0; t <= 600; t += 16) {
      const v = tweenValue(0, 10_000, t, 600);
      expect(v).toBeGreaterThanOrEqual(previous);
      expect(v).toBeLessThanOrEqual(10_000);
      previous = v;
    }
  });
});

describe('needsNewDay', () => {
  const start = '2026-12-04T05:00:00Z'; // midnight in New York
  const boundary = Date.parse('2026-12-05T05:00:00Z');

  it('waits until the day is over', () => {
    expect(needsNewDay(start, Date.parse(start) + 1000, boundary - 1)).toBe(false);
  });

  it("asks for the new day once when today's snapshot is from before midnight", () => {
    expect(needsNewDay(start, boundary - 60_000, boundary + 1)).toBe(true);
    // Fetched after midnight and still the same day (a 25-hour day): not at once again…
    expect(needsNewDay(start, boundary + 1000, boundary + 60_000)).toBe(false);
    // …but again half an hour on.
    expect(needsNewDay(start, boundary + 1000, boundary + 31 * 60_000)).toBe(true);
  });
});
