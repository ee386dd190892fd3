// The live pulse's arithmetic (seed 002): today's events folded into a running
// total, revenue per minute over the last hour, the latest sales and which campaign
// brought them. Pure functions over `RevenueEvent`s; the page only draws them.
import type { RevenueEvent } from '../../api/types';

export const MINUTE_MS = 60_000;
/** How many one-minute buckets the velocity covers. */
export const VELOCITY_MINUTES = 60;
export const NO_CAMPAIGN = '(no campaign)';

/**
 * `current` with `incoming` added, oldest first by sequence number. An event already
 * held (the snapshot and the stream overlap, a replay after a reconnect) counts once.
 * Returns `current` itself when nothing is new, so React can skip a render.
 */
export function mergeEvents(current: readonly RevenueEvent[], incoming: readonly RevenueEvent[]): readonly RevenueEvent[] {
  if (incoming.length === 0) return current;
  const seen = new Set(current.map((e) => e.seq));
  const fresh: RevenueEvent[] = [];
  for (const e of incoming) {
    if (seen.has(e.seq)) continue;
    seen.add(e.seq);
    fresh.push(e);
  }
  if (fresh.length === 0) return current;
  const merged = [...current, ...fresh];
  const last = current[current.length - 1];
  // The stream delivers in order; sort only when something arrived out of it.
  if (!last || fresh.some((e) => e.seq < last.seq) || fresh.some((e, i) => i > 0 && e.seq < (fresh[i - 1]?.seq ?? 0))) {
    merged.sort((a, b) => a.seq - b.seq);
  }
  return merged;
}

/** The events of one store that happened at or after `since` (the start of today). */
export function todaysEvents(events: readonly RevenueEvent[], storeId: string | null, since: string | Date): RevenueEvent[] {
  const from = typeof since === 'string' ? Date.parse(since) : since.getTime();
  return events.filter((e) => (!storeId || e.store_id === storeId) && Date.parse(e.occurred_at) >= from);
}

export const isRefund = (e: RevenueEvent) => e.kind === 'refund' || e.amount_minor < 0;

export interface PulseTotals {
  currency: string;
  /** Sales minus refunds, in minor units of `currency`. */
  netMinor: number;
  /** Every money-in event (sale, subscription, renewal, upsell). */
  sales: number;
  refunds: number;
  /** Events in other currencies, which the total leaves out rather than mixes in. */
  otherCurrencies: { currency: string; events: number; netMinor: number }[];
}

/** Today's running total in `currency`, with the count of sales and refunds. */
export function totals(events: readonly RevenueEvent[], currency: string): PulseTotals {
  const out: PulseTotals = { currency, netMinor: 0, sales: 0, refunds: 0, otherCurrencies: [] };
  const others = new Map<string, { currency: string; events: number; netMinor: number }>();
  for (const e of events) {
    if (!sameCurrency(e.currency, currency)) {
      const o = others.get(e.currency.toUpperCase()) ?? { currency: e.currency.toUpperCase(), events: 0, netMinor: 0 };
      o.events += 1;
      o.netMinor += e.amount_minor;
      others.set(o.currency, o);
      continue;
    }
    out.netMinor += e.amount_minor;
    if (isRefund(e)) out.refunds += 1;
    else out.sales += 1;
  }
  out.otherCurrencies = [...others.values()].sort((a, b) => b.events - a.events || a.currency.localeCompare(b.currency));
  return out;
}

function sameCurrency(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/**
 * Net revenue per minute over the last `minutes` minutes before `now`, oldest first:
 * bucket `minutes - 1` holds the events less than a minute old. Buckets count back
 * from `now` (not from the clock's minute), so their sum is exactly the last hour's
 * revenue; an event stamped slightly in the future (clock skew) lands in the newest.
 */
export function perMinute(events: readonly RevenueEvent[], currency: string, now: number, minutes = VELOCITY_MINUTES): number[] {
  const buckets = new Array<number>(minutes).fill(0);
  for (const e of events) {
    if (!sameCurrency(e.currency, currency)) continue;
    const age = Math.max(0, Math.floor((now - Date.parse(e.occurred_at)) / MINUTE_MS));
    if (age >= minutes) continue;
    const i = minutes - 1 - age;
    buckets[i] = (buckets[i] ?? 0) + e.amount_minor;
  }
  return buckets;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The newest `n` events, newest first. */
export function latest(events: readonly RevenueEvent[], n = 20): RevenueEvent[] {
  return events.slice(-n).reverse();
}

export interface CampaignRow {
  /** null: events without a campaign tag, grouped as one row. */
  campaign: string | null;
  label: string;
  netMinor: number;
  sales: number;
  refunds: number;
}

/** Today's revenue and sales per campaign tag, best first; untagged events are one "(no campaign)" row. */
export function campaignBreakdown(events: readonly RevenueEvent[], currency: string): CampaignRow[] {
  const rows = new Map<string, CampaignRow>();
  for (const e of events) {
    if (!sameCurrency(e.currency, currency)) continue;
    const tag = e.campaign?.trim() || null;
    const key = tag ?? '\u0000none';
    const row = rows.get(key) ?? { campaign: tag, label: tag ?? NO_CAMPAIGN, netMinor: 0, sales: 0, refunds: 0 };
    row.netMinor += e.amount_minor;
    if (isRefund(e)) row.refunds += 1;
    else row.sales += 1;
    rows.set(key, row);
  }
  return [...rows.values()].sort(
    (a, b) =>
      b.netMinor - a.netMinor ||
      b.sales - a.sales ||
      // Untagged money last among equals: a named campaign is the news.
      Number(a.campaign === null) - Number(b.campaign === null) ||
      a.label.localeCompare(b.label),
  );
}

/** Decelerating: quick at first, settling on the target. */
export function easeOutCubic(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return 1 - (1 - c) ** 3;
}

/**
 * The value a count-up shows `elapsedMs` into a tween of `durationMs` from `from` to
 * `to`, in whole minor units (a total never shows a fraction of a cent).
 */
export function tweenValue(from: number, to: number, elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0 || elapsedMs >= durationMs) return to;
  if (elapsedMs <= 0) return from;
  return Math.round(from + (to - from) * easeOutCubic(elapsedMs / durationMs));
}

/** The events in `fresh` that are money in (they ring the optional sale sound). */
export function newSales(fresh: readonly RevenueEvent[]): RevenueEvent[] {
  return fresh.filter((e) => !isRefund(e));
}

/**
 * Whether today's snapshot belongs to a day that has ended, so the page should fetch
 * the new day's. The day is taken as 24 hours from its start; on the 25-hour day of a
 * clock change the refetch returns the same day, and the page asks again every half
 * hour until the server's "today" moves on.
 */
export function needsNewDay(todayStartsAt: string, fetchedAt: number, now: number): boolean {
  const boundary = Date.parse(todayStartsAt) + 24 * 60 * MINUTE_MS;
  if (Number.isNaN(boundary) || now < boundary) return false;
  return fetchedAt < boundary || now - fetchedAt >= 30 * MINUTE_MS;
}
