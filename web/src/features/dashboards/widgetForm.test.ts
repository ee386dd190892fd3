import { describe, expect, it } from 'vitest';
import type { CatalogEntry, Widget } from '../../api/types';
import { providerName } from '../../lib/providers';
import { groupCatalog, widgetForm } from './widgetForm';

const widget = (over: Partial<Widget>): Widget => ({
  id: 'w1',
  dashboard_id: 'd1',
  type: 'bar_chart',
  title: 'Revenue',
  size: 'medium',
  query_config: { metric: 'stripe.net_revenue', range: 'last_90_days', scope: { store: 's1' }, group_by: 'country', aggregation: 'sum' },
  display_config: { invert_delta: true },
  created_at: '',
  updated_at: '',
  ...over,
});

describe('widgetForm', () => {
  it('starts a new widget as a small KPI card in the default store and section', () => {
    const f = widgetForm(null, 's1', 'sec');
    expect(f).toMatchObject({ type: 'kpi_card', size: 'small', storeId: 's1', section: 'sec', metric: '', metricEditable: true });
  });
  it('fills every field from an existing widget', () => {
    const f = widgetForm(widget({}), 's9', 'sec');
    expect(f).toMatchObject({
      type: 'bar_chart',
      metric: 'stripe.net_revenue',
      range: 'last_90_days',
      customRange: null,
      storeId: 's1',
      groupBy: 'country',
      aggregation: 'sum',
      granularity: 'auto',
      size: 'medium',
      title: 'Revenue',
      invertDelta: true,
    });
  });
  it('keeps a custom range and a multi-store scope, and locks funnels to title and size', () => {
    const custom = { custom: { from: '2026-01-01', to: '2026-02-01' } } as unknown as NonNullable<Widget['query_config']['range']>;
    const f = widgetForm(widget({ query_config: { metric: 'm', range: custom, scope: { stores: ['a', 'b'] } } }), 's', 'x');
    expect(f.customRange).toEqual(custom);
    expect(f.storeId).toBe('');
    expect(widgetForm(widget({ type: 'funnel', query_config: { steps: [] } }), 's', 'x').metricEditable).toBe(false);
    expect(widgetForm(widget({ type: 'heatmap_summary' }), 's', 'x').metricEditable).toBe(false);
  });
});

describe('groupCatalog', () => {
  const e = (id: string, provider: string, category: string): CatalogEntry => ({
    id,
    provider,
    metric: { id, name: id, description: '', unit: 'count', aggregation: 'sum', kind: 'flow', category, dimensions: [], rise_is_bad: false, definition: { formula: '', source_fields: '', booked: '', excludes: '' } },
  });
  it('groups by provider and category in catalog order', () => {
    const out = groupCatalog([e('a', 'stripe', 'revenue'), e('b', 'stripe', 'customers'), e('c', 'stripe', 'revenue'), e('d', 'shopify', 'orders')], (p) => p.toUpperCase());
    expect(out.map((g) => [g.label, g.entries.map((x) => x.id)])).toEqual([
      ['STRIPE · Revenue', ['a', 'c']],
      ['STRIPE · Customers', ['b']],
      ['SHOPIFY · Orders', ['d']],
    ]);
  });
  it('labels groups with the names from the provider list', () => {
    const providers = [
      { id: 'stripe', name: 'Stripe' },
      { id: 'ga4', name: 'Google Analytics' },
    ];
    const out = groupCatalog([e('a', 'ga4', 'traffic'), e('b', 'stripe', 'subscriptions'), e('c', 'posthog', 'product_usage')], (p) => providerName(p, providers));
    expect(out.map((g) => g.label)).toEqual(['Google Analytics · Traffic', 'Stripe · Subscriptions', 'Posthog · Product usage']);
  });
});
