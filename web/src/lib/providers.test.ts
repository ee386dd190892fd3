import { describe, expect, it } from 'vitest';
import type { WidgetData, WidgetTypeInfo } from '../api/types';
import { awaitingProvider, isCompact, providerName } from './providers';

// As the server lists them (`GET /api/providers`, `GET /api/widget-types`).
const providers = [
  { id: 'stripe', name: 'Stripe' },
  { id: 'ga4', name: 'Google Analytics' },
  { id: 'judgeme', name: 'Judge.me' },
];
const widgetTypes: WidgetTypeInfo[] = [
  { type: 'kpi_card', awaiting_provider: null },
  { type: 'line_chart', awaiting_provider: null },
  { type: 'review_feed', awaiting_provider: 'Judge.me' },
  { type: 'heatmap_summary', awaiting_provider: 'Microsoft Clarity' },
];

describe('providerName', () => {
  it('uses the name the server gives', () => {
    expect(providerName('ga4', providers)).toBe('Google Analytics');
    expect(providerName('judgeme', providers)).toBe('Judge.me');
  });
  it('capitalises the id before the list loads, on public pages and for ids the list lacks', () => {
    expect(providerName('shopify')).toBe('Shopify');
    expect(providerName('ga4', undefined)).toBe('Ga4');
    expect(providerName('posthog', providers)).toBe('Posthog');
    expect(providerName('', providers)).toBe('');
  });
});

describe('awaitingProvider', () => {
  it('names the provider a widget type waits for', () => {
    expect(awaitingProvider('review_feed', widgetTypes)).toBe('Judge.me');
    expect(awaitingProvider('heatmap_summary', widgetTypes)).toBe('Microsoft Clarity');
  });
  it('is null for working types, unknown types and before the list loads', () => {
    expect(awaitingProvider('line_chart', widgetTypes)).toBeNull();
    expect(awaitingProvider('sparkle_chart', widgetTypes)).toBeNull();
    expect(awaitingProvider('review_feed', undefined)).toBeNull();
  });
});

describe('isCompact', () => {
  it('keeps KPI cards and widgets still waiting for their provider short', () => {
    expect(isCompact({ type: 'kpi_card' }, undefined)).toBe(true);
    expect(isCompact({ type: 'review_feed' }, widgetTypes)).toBe(true);
    expect(isCompact({ type: 'line_chart' }, widgetTypes)).toBe(false);
  });
  it('follows the data when the widget-type list is missing', () => {
    const unavailable: WidgetData = { state: 'unavailable', widget_id: 'w1', provider: 'Microsoft Clarity', message: 'Soon.' };
    const notConnected: WidgetData = { state: 'not_connected', widget_id: 'w2', provider: 'shopify' };
    expect(isCompact({ type: 'heatmap_summary' }, undefined)).toBe(false);
    expect(isCompact({ type: 'heatmap_summary' }, undefined, unavailable)).toBe(true);
    expect(isCompact({ type: 'line_chart' }, undefined, notConnected)).toBe(false);
  });
});
