import { describe, expect, it } from 'vitest';
import type { QueryResult, WidgetData } from '../api/types';
import {
  hasData,
  invertsDelta,
  oldestSync,
  freshnessOf,
  rangeLabel,
  summariseComparison,
  summariseSeries,
  toComparison,
  toTimeseries,
  topGroups,
  groupHeading,
  groupTitle,
} from './series';

function result(partial: Partial<QueryResult>): QueryResult {
  return {
    aggregation: 'sum',
    currency: 'USD',
    freshness: [],
    granularity: 'day',
    groups: [],
    metric: 'stripe.net_revenue',
    name: 'Net revenue',
    range: { from: '2026-11-01', to: '2026-11-03' },
    rise_is_bad: false,
    series: [],
    timezone: 'UTC',
    unit: 'currency_minor',
    ...partial,
  };
}

describe('toTimeseries', () => {
  it('aligns the previous period by position', () => {
    const rows = toTimeseries(
      [
        { bucket: '2026-11-01', value: 100 },
        { bucket: '2026-11-02', value: null },
      ],
      [{ bucket: '2026-10-01', value: 90 }],
    );
    expect(rows).toEqual([
      { date: '2026-11-01', value: 100, previous: 90, previousDate: '2026-10-01' },
      { date: '2026-11-02', value: null, previous: null },
    ]);
  });
  it('leaves previous out when there is no comparison', () => {
    expect(toTimeseries([{ bucket: '2026-11-01', value: 1 }])).toEqual([{ date: '2026-11-01', value: 1 }]);
  });
});

describe('groups', () => {
  const grouped = result({
    groups: ['a', 'b', 'c', 'd'].map((key, i) => ({ key, total: (i + 1) * 10, series: [] })),
  });
  it('sorts groups and folds the tail into Other', () => {
    expect(topGroups(grouped, 3)).toEqual([
      { key: 'd', name: 'd', total: 40 },
      { key: 'c', name: 'c', total: 30 },
      { key: 'Other', name: 'Other', total: 30 },
    ]);
  });
  it('names groups by their labels and keeps the value for the hover text', () => {
    const named = result({
      group_by: 'product',
      groups: [
        { key: 'gid://shopify/Product/7', label: 'Ethiopia Yirgacheffe', total: 50, series: [] },
        { key: 'gid://shopify/Product/9', label: null, total: 20, series: [] },
      ],
    });
    const [first, second] = topGroups(named);
    expect([first?.name, second?.name]).toEqual(['Ethiopia Yirgacheffe', 'gid://shopify/Product/9']);
    expect(first && groupTitle(first)).toBe('Ethiopia Yirgacheffe (gid://shopify/Product/7)');
    expect(second && groupTitle(second)).toBe('gid://shopify/Product/9');
    expect(toComparison(named, (b) => b)[0]?.label).toBe('Ethiopia Yirgacheffe');
    expect(groupHeading(named)).toBe('Product');
    expect(groupHeading(result({ group_by: 'utm_source' }))).toBe('Utm source');
    expect(groupHeading(result({}))).toBe('Group');
  });
  it('bars groups when the query is grouped, buckets otherwise', () => {
    expect(toComparison(grouped, (b) => b)[0]).toEqual({ label: 'd', current: 40 });
    const plain = result({
      series: [{ bucket: '2026-11-01', value: 5 }],
      previous: { range: { from: '2026-10-01', to: '2026-10-01' }, series: [{ bucket: '2026-10-01', value: 4 }] },
    });
    expect(toComparison(plain, () => 'Nov 1')).toEqual([{ label: 'Nov 1', current: 5, previous: 4 }]);
  });
});

describe('invertsDelta', () => {
  it('colours a rise red for metrics whose rise is bad news', () => {
    expect(invertsDelta({}, result({ metric: 'stripe.refunds', rise_is_bad: true }))).toBe(true);
    expect(invertsDelta({}, result({}))).toBe(false);
  });
  it('lets the widget’s own setting win either way', () => {
    expect(invertsDelta({ invert_delta: false }, result({ rise_is_bad: true }))).toBe(false);
    expect(invertsDelta({ invert_delta: true }, result({ rise_is_bad: false }))).toBe(true);
  });
});

describe('summaries', () => {
  it('names range, first, last, high and low', () => {
    const s = summariseSeries(
      'MRR',
      [
        { date: '2026-11-01', value: 1000 },
        { date: '2026-11-02', value: 3000 },
        { date: '2026-11-03', value: 2000 },
      ],
      { format: 'currency', currency: 'USD' },
    );
    expect(s).toBe(
      'MRR, Sun, Nov 1, 2026 to Tue, Nov 3, 2026: from $10.00 to $20.00; high $30.00 (Mon, Nov 2, 2026), low $10.00 (Sun, Nov 1, 2026).',
    );
  });
  it('says when there is nothing', () => {
    expect(summariseSeries('MRR', [{ date: '2026-11-01', value: null }], { format: 'number' })).toBe('MRR: no data for this period.');
    expect(hasData([{ value: null }])).toBe(false);
  });
  it('summarises bars with their previous values', () => {
    expect(summariseComparison('Orders', [{ label: 'Nov 1', current: 3, previous: 2 }], { format: 'number' })).toBe(
      'Orders: Nov 1 3 (previous 2).',
    );
  });
});

describe('freshness', () => {
  const f = (id: string, at: string | null) => ({
    integration_id: id,
    provider: 'stripe',
    account_label: 'Acme',
    status: 'active',
    last_synced_at: at,
  });
  it('collects one entry per integration and finds the oldest sync', () => {
    const widgets: WidgetData[] = [
      { state: 'ok', widget_id: 'w1', result: result({ freshness: [f('i1', '2026-11-22T10:00:00Z')] }) },
      { state: 'ok', widget_id: 'w2', result: result({ freshness: [f('i1', '2026-11-22T10:00:00Z'), f('i2', '2026-11-22T09:00:00Z')] }) },
      { state: 'not_connected', widget_id: 'w3', provider: 'shopify' },
    ];
    const all = freshnessOf(widgets);
    expect(all).toHaveLength(2);
    expect(oldestSync(all)).toBe('2026-11-22T09:00:00.000Z');
  });
  it('has no sync time when an integration never synced', () => {
    expect(oldestSync([f('i1', null)])).toBeNull();
  });
});

describe('rangeLabel', () => {
  it('shows the year once unless the range crosses one', () => {
    expect(rangeLabel('2026-10-23', '2026-11-21')).toBe('Oct 23 – Nov 21, 2026');
    expect(rangeLabel('2025-11-22', '2026-11-21')).toBe('Nov 22, 2025 – Nov 21, 2026');
  });
});
