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
  /** Review feed: `''` for every rating, `'5'`…`'1'` for one, `'1-2'` for the critical ones. */
  ratings: string;
  reviewStatus: 'all' | 'published' | 'pending';
  /** Experiment card: show ended experiments too. */
  includeEnded: boolean;
}

/** Types whose query is one metric (the survey summary is one metric grouped by answer). */
export const METRIC_TYPES = new Set(['kpi_card', 'line_chart', 'bar_chart', 'table', 'pie_chart', 'survey_summary']);
/** CRO types whose settings are a store (and a range) rather than a metric. */
export const CRO_TYPES = new Set(['review_feed', 'experiment_card', 'sentiment_gauge', 'heatmap_summary']);
/** CRO types that read a window of metrics. */
export const RANGED_CRO_TYPES = new Set(['sentiment_gauge', 'heatmap_summary']);

/** The review feed's rating filter as the API takes it. */
export function ratingsOf(choice: string): number[] | undefined {
  if (!choice) return undefined;
  if (choice === '1-2') return [1, 2];
  if (choice === '4-5') return [4, 5];
  return [Number(choice)];
}

function ratingChoice(ratings: number[] | undefined): string {
  if (!ratings || ratings.length === 0) return '';
  const key = [...ratings].sort().join('-');
  return key === '1-2' || key === '4-5' || ratings.length === 1 ? (ratings.length === 1 ? String(ratings[0]) : key) : '';
}

/** The settings of a CRO widget from the form. */
export function croQuery(form: WidgetForm): object {
  const query: Record<string, unknown> = { scope: { store: form.storeId } };
  if (RANGED_CRO_TYPES.has(form.type)) query.range = form.customRange ?? form.range;
  if (form.type === 'review_feed') {
    const ratings = ratingsOf(form.ratings);
    if (ratings) query.ratings = ratings;
    if (form.reviewStatus !== 'all') query.status = form.reviewStatus;
  }
  if (form.type === 'experiment_card' && form.includeEnded) query.include_ended = true;
  return query;
}

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
      ratings: '',
      reviewStatus: 'all',
      includeEnded: false,
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
    ratings: ratingChoice(q.ratings),
    reviewStatus: q.status ?? 'all',
    includeEnded: q.include_ended === true,
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
