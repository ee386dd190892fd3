// Pure data shaping for charts: API answers → chart rows, summaries for screen
// readers, freshness across widgets. Tested in series.test.ts.
import type { Freshness, Point, QueryResult, WidgetData } from '../api/types';
import { formatBucketLong, formatValue, formatForUnit, parseBucket, type FormatOptions } from './format';

export interface TimePoint {
  date: string;
  value: number | null;
  /** The same position in the comparison period, when there is one. */
  previous?: number | null;
  /** That position's own date, for the tooltip. */
  previousDate?: string;
}

export interface ComparisonRow {
  label: string;
  current: number | null;
  previous?: number | null;
}

const num = (v: number | null | undefined): number | null => (v === undefined || v === null || !Number.isFinite(v) ? null : v);

/** The current series with the previous period aligned by position (bucket i ↔ bucket i). */
export function toTimeseries(series: Point[], previous?: Point[] | null): TimePoint[] {
  return series.map((p, i) => {
    const row: TimePoint = { date: p.bucket, value: num(p.value) };
    const prev = previous?.[i];
    if (previous) {
      row.previous = prev ? num(prev.value) : null;
      if (prev) row.previousDate = prev.bucket;
    }
    return row;
  });
}

/** Whether a widget colours a rise red and a fall green: its own setting when it has
 * one, else the metric's (`rise_is_bad`: refunds, churned subscriptions). */
export function invertsDelta(display: { invert_delta?: boolean }, result: Pick<QueryResult, 'rise_is_bad'>): boolean {
  return display.invert_delta ?? result.rise_is_bad;
}

export function formatOf(result: Pick<QueryResult, 'unit' | 'currency'>): FormatOptions {
  return { format: formatForUnit(result.unit), currency: result.currency ?? null };
}

/** One row of a breakdown: the dimension's value, what to call it, and its total. */
export interface GroupRow {
  key: string;
  /** The value's readable name (a product's title) where the API gave one, else the value. */
  name: string;
  total: number;
}

/** Group totals, largest first, with the tail folded into "Other" beyond `max` rows. */
export function topGroups(result: QueryResult, max = 6): GroupRow[] {
  const rows = result.groups
    .map((g) => {
      const key = g.key || '(none)';
      return { key, name: g.label || key, total: num(g.total) ?? g.series.reduce((s, p) => s + (num(p.value) ?? 0), 0) };
    })
    .sort((a, b) => b.total - a.total);
  if (rows.length <= max) return rows;
  const head = rows.slice(0, max - 1);
  const rest = rows.slice(max - 1).reduce((s, r) => s + r.total, 0);
  return [...head, { key: 'Other', name: 'Other', total: rest }];
}

/** A breakdown's column heading: the dimension, capitalised ("Product"). */
export function groupHeading(result: Pick<QueryResult, 'group_by'>): string {
  const dimension = (result.group_by ?? '').replace(/_/g, ' ').trim();
  return dimension ? dimension.charAt(0).toUpperCase() + dimension.slice(1) : 'Group';
}

/** A row's hover text: its name, and the raw value when the name differs. */
export function groupTitle(row: GroupRow): string {
  return row.name === row.key ? row.key : `${row.name} (${row.key})`;
}

/** Bars for a bar chart: groups when the query has a group_by, otherwise buckets vs the previous period. */
export function toComparison(result: QueryResult, tick: (bucket: string) => string): ComparisonRow[] {
  if (result.groups.length > 0) {
    return topGroups(result, 8).map((g) => ({ label: g.name, current: g.total }));
  }
  const prev = result.previous?.series;
  return result.series.map((p, i) => {
    const row: ComparisonRow = { label: tick(p.bucket), current: num(p.value) };
    if (prev) row.previous = num(prev[i]?.value);
    return row;
  });
}

/** True when a series has at least one real number in it. */
export function hasData(points: { value: number | null | undefined }[]): boolean {
  return points.some((p) => p.value !== null && p.value !== undefined);
}

/**
 * One sentence a screen reader can use instead of the chart: range, first and last
 * value, high and low.
 */
export function summariseSeries(
  label: string,
  points: TimePoint[],
  fmt: FormatOptions,
  granularity?: string | null,
): string {
  const values = points.filter((p): p is TimePoint & { value: number } => p.value !== null);
  if (values.length === 0) return `${label}: no data for this period.`;
  const first = values[0]!;
  const last = values[values.length - 1]!;
  let high = first;
  let low = first;
  for (const p of values) {
    if (p.value > high.value) high = p;
    if (p.value < low.value) low = p;
  }
  const f = (v: number) => formatValue(v, fmt);
  const d = (s: string) => formatBucketLong(s, granularity);
  return (
    `${label}, ${d(first.date)} to ${d(last.date)}: from ${f(first.value)} to ${f(last.value)}; ` +
    `high ${f(high.value)} (${d(high.date)}), low ${f(low.value)} (${d(low.date)}).`
  );
}

export function summariseComparison(label: string, rows: ComparisonRow[], fmt: FormatOptions): string {
  const real = rows.filter((r) => r.current !== null);
  if (real.length === 0) return `${label}: no data for this period.`;
  const f = (v: number | null | undefined) => formatValue(v, fmt);
  const parts = real
    .slice(0, 12)
    .map((r) => (r.previous !== undefined ? `${r.label} ${f(r.current)} (previous ${f(r.previous)})` : `${r.label} ${f(r.current)}`));
  const more = real.length > 12 ? `, and ${real.length - 12} more` : '';
  return `${label}: ${parts.join(', ')}${more}.`;
}

/** Every freshness entry of every widget, one per integration. */
export function freshnessOf(widgets: WidgetData[]): Freshness[] {
  const byId = new Map<string, Freshness>();
  for (const w of widgets) {
    const results = w.state === 'ok' ? [w.result] : w.state === 'funnel' ? w.steps : [];
    for (const r of results) for (const f of r.freshness) byId.set(f.integration_id, f);
  }
  return [...byId.values()];
}

/** The oldest sync among the integrations behind a dashboard: how stale its numbers may be. */
export function oldestSync(freshness: Freshness[]): string | null {
  let oldest: number | null = null;
  for (const f of freshness) {
    if (!f.last_synced_at) return null;
    const t = new Date(f.last_synced_at).getTime();
    if (oldest === null || t < oldest) oldest = t;
  }
  return oldest === null ? null : new Date(oldest).toISOString();
}

/** The first and last day a series covers, e.g. for "Oct 23 – Nov 21". */
export function rangeLabel(from: string, to: string): string {
  const f = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const a = parseBucket(from);
  const b = parseBucket(to);
  const year = a.getUTCFullYear() !== b.getUTCFullYear();
  const fy = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  return `${(year ? fy : f).format(a)} – ${fy.format(b)}`;
}
