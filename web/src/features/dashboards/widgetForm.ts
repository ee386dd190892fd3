// The widget dialog's form state, and how the metric picker groups the catalog.
import type { CatalogEntry, Granularity, MetricQueryConfig, Preset, Widget } from '../../api/types';

export type AggregationName = NonNullable<MetricQueryConfig['aggregation']>;

export interface WidgetForm {
  type: string;
  /** False for widgets whose query is not one metric (funnels, providers still to come). */
  metricEditable: boolean;
  metric: string;
  title: string;
  storeId: string;
  range: Preset;
  /** A custom date range the widget already has; kept until another range is picked. */
  customRange: MetricQueryConfig['range'] | null;
  aggregation: AggregationName | '';
  granularity: Granularity;
  groupBy: string;
  size: string;
  section: string;
  invertDelta: boolean;
}

const METRIC_TYPES = new Set(['kpi_card', 'line_chart', 'bar_chart', 'table', 'pie_chart']);

/** A blank form for a new widget, or one filled from an existing widget. */
export function widgetForm(widget: Widget | null | undefined, defaultStore: string, defaultSection: string): WidgetForm {
  if (!widget) {
    return {
      type: 'kpi_card',
      metricEditable: true,
      metric: '',
      title: '',
      storeId: defaultStore,
      range: 'last_30_days',
      customRange: null,
      aggregation: '',
      granularity: 'auto',
      groupBy: '',
      size: 'small',
      section: defaultSection,
      invertDelta: false,
    };
  }
  const q = widget.query_config ?? {};
  const range = q.range;
  const scope = q.scope;
  return {
    type: widget.type,
    metricEditable: METRIC_TYPES.has(widget.type) && typeof q.metric === 'string' && !q.steps,
    metric: q.metric ?? '',
    title: widget.title,
    storeId: scope && 'store' in scope ? scope.store : '',
    range: typeof range === 'string' ? range : 'last_30_days',
    customRange: range && typeof range === 'object' ? range : null,
    aggregation: q.aggregation ?? '',
    granularity: q.granularity ?? 'auto',
    groupBy: q.group_by ?? '',
    size: widget.size,
    section: defaultSection,
    invertDelta: widget.display_config?.invert_delta === true,
  };
}

const CATEGORY: Record<string, string> = { revenue: 'Revenue', payments: 'Payments', customers: 'Customers', subscriptions: 'Subscriptions' };

/** Optgroups for the metric picker: "Stripe · Revenue", in catalog order. */
export function groupCatalog(entries: CatalogEntry[], providerName: (id: string) => string): { label: string; entries: CatalogEntry[] }[] {
  const groups = new Map<string, CatalogEntry[]>();
  for (const c of entries) {
    const category = c.metric.category ? (CATEGORY[c.metric.category] ?? c.metric.category.charAt(0).toUpperCase() + c.metric.category.slice(1).replace(/_/g, ' ')) : 'Other';
    const label = `${providerName(c.provider)} · ${category}`;
    groups.set(label, [...(groups.get(label) ?? []), c]);
  }
  return [...groups.entries()].map(([label, list]) => ({ label, entries: list }));
}
