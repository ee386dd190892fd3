import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { DashboardWithWidgets, Granularity, MetricQueryConfig, Preset, Widget } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Field, Select } from '../../components/ui/Field';
import { useSession } from '../shell/session';
import { MetricHelp } from './MetricInfoDialog';
import { useProviderName } from '../shell/useProviders';
import { CRO_TYPES, croQuery, groupCatalog, METRIC_TYPES, RANGED_CRO_TYPES, widgetForm, type AggregationName, type WidgetForm } from './widgetForm';
import { WidgetPreview } from './WidgetPreview';

const TYPES = [
  { value: 'kpi_card', label: 'Number (KPI card)', size: 'small', group: 'Charts' },
  { value: 'line_chart', label: 'Line chart', size: 'medium', group: 'Charts' },
  { value: 'bar_chart', label: 'Bar chart (vs previous period)', size: 'medium', group: 'Charts' },
  { value: 'table', label: 'Table', size: 'medium', group: 'Charts' },
  { value: 'pie_chart', label: 'Pie chart (needs a breakdown)', size: 'medium', group: 'Charts' },
  { value: 'survey_summary', label: 'Survey answers: share and trend', size: 'medium', group: 'Conversion (CRO)' },
  { value: 'experiment_card', label: 'Experiments: lift and chance to win', size: 'large', group: 'Conversion (CRO)' },
  { value: 'review_feed', label: 'Review feed', size: 'medium', group: 'Conversion (CRO)' },
  { value: 'sentiment_gauge', label: 'Customer sentiment gauge', size: 'small', group: 'Conversion (CRO)' },
  { value: 'heatmap_summary', label: 'Frustration by page and device (Clarity)', size: 'large', group: 'Conversion (CRO)' },
] as const;
const TYPE_GROUPS = ['Charts', 'Conversion (CRO)'] as const;

/** The metric a new survey summary starts on, and the dimension it lists. */
const SURVEY_METRIC = 'knocommerce.attribution';
const SURVEY_GROUP = 'answer';

/** The ranges a widget or a whole dashboard can be set to (the dashboard adds "Today" and "Yesterday"). */
export const RANGES: { value: Preset; label: string }[] = [
  { value: 'last_7_days', label: 'Last 7 days' },
  { value: 'last_30_days', label: 'Last 30 days' },
  { value: 'last_90_days', label: 'Last 90 days' },
  { value: 'last_365_days', label: 'Last 365 days' },
  { value: 'month_to_date', label: 'Month to date' },
  { value: 'last_month', label: 'Last month' },
  { value: 'year_to_date', label: 'Year to date' },
];

const AGGREGATIONS: AggregationName[] = ['sum', 'avg', 'min', 'max', 'count', 'latest'];
const GRANULARITIES: Granularity[] = ['auto', 'day', 'week', 'month'];
export const SIZE_LABELS: Record<string, string> = { small: 'Small', medium: 'Medium', large: 'Large', full: 'Full width' };

/**
 * Adds a metric widget, or configures one (`widget` given): type, metric from the
 * catalog (grouped by provider and category), range, aggregation, granularity,
 * breakdown, display options, title, size and (when adding) section.
 */
export function AddWidgetDialog({
  open,
  onClose,
  dashboard,
  widget,
}: {
  open: boolean;
  onClose: () => void;
  dashboard: DashboardWithWidgets;
  /** Configure this widget instead of adding one. */
  widget?: Widget | null;
}) {
  const { slug, stores, store } = useSession();
  const queryClient = useQueryClient();
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), enabled: open, staleTime: 5 * 60_000 });
  const editing = Boolean(widget);
  const [form, setForm] = useState<WidgetForm>(() => widgetForm(widget, store?.id ?? '', dashboard.layout.sections[0]?.id ?? ''));
  const set = <K extends keyof WidgetForm>(key: K, value: WidgetForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  useEffect(() => {
    if (open) setForm(widgetForm(widget, store?.id ?? '', dashboard.layout.sections[0]?.id ?? ''));
    // Only when the dialog opens or switches widget: later cache refreshes must not wipe the user's edits.
  }, [open, widget?.id]);
  // A new widget starts on the catalog's first metric (checked against the latest form,
  // which the effect above may just have refilled from the widget being configured).
  const first = catalog.data?.[0]?.id;
  useEffect(() => {
    if (open && first) setForm((f) => (f.metricEditable && !f.metric ? { ...f, metric: first } : f));
  }, [open, first]);

  const entry = catalog.data?.find((c) => c.id === form.metric);
  const dims = entry?.metric.dimensions ?? [];
  const providerName = useProviderName();
  const groups = useMemo(() => groupCatalog(catalog.data ?? [], providerName), [catalog.data, providerName]);
  const { type } = form;
  const knownType = TYPES.some((t) => t.value === type);
  const cro = CRO_TYPES.has(type);
  const previewQuery = useMemo(() => (cro ? croQuery(form) : metricQuery(form, widget, store?.id ?? '')), [cro, form, widget, store?.id]);

  const save = useMutation({
    mutationFn: async () => {
      const title = form.title.trim() || entry?.metric.name || widget?.title || 'Widget';
      const display_config = { ...(widget?.display_config ?? {}), invert_delta: form.invertDelta || undefined };
      if (!form.metricEditable && !cro) {
        return api.updateWidget(slug, dashboard.id, widget!.id, { title, size: form.size, display_config });
      }
      const query = previewQuery;
      if (widget) return api.updateWidget(slug, dashboard.id, widget.id, { title, size: form.size, query_config: query, display_config });
      return api.createWidget(slug, dashboard.id, {
        type,
        title,
        size: form.size,
        section: form.section || undefined,
        query_config: query,
        display_config,
      });
    },
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.dashboard(slug, dashboard.id) }),
        queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) }),
      ]);
      onClose();
    },
  });
  const { reset } = save;
  useEffect(() => {
    if (open) reset();
  }, [open, reset]);

  const needsGroup = type === 'pie_chart' || type === 'survey_summary';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const action = editing ? 'Save widget' : 'Add widget';
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={editing ? `Configure “${widget?.title ?? ''}”` : 'Add a widget'}
      description={
        cro
          ? 'This widget shows what its provider synced for one store: reviews, experiments, sentiment or Clarity’s frustration signals.'
          : form.metricEditable
            ? 'Widgets read one metric of one store from the synced data.'
            : 'This widget’s data comes from its provider; you can change its title and size.'
      }
    >
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2" aria-label={editing ? 'Widget settings' : 'New widget'}>
        <Labeled label="Type" id="w-type" help={editing ? 'To change the type, add a new widget.' : undefined}>
          <Select
            id="w-type"
            className="w-full"
            value={type}
            disabled={editing}
            aria-describedby={editing ? 'w-type-help' : undefined}
            onChange={(e) => {
              const next = e.target.value;
              const survey = next === 'survey_summary' && catalog.data?.some((c) => c.id === SURVEY_METRIC);
              setForm((f) => ({
                ...f,
                type: next,
                metricEditable: METRIC_TYPES.has(next),
                metric: survey ? SURVEY_METRIC : f.metric || (first ?? ''),
                groupBy: survey ? SURVEY_GROUP : next === 'survey_summary' ? '' : f.groupBy,
                size: TYPES.find((t) => t.value === next)?.size ?? 'medium',
              }));
            }}
          >
            {!knownType && <option value={type}>{type.replace(/_/g, ' ')}</option>}
            {TYPE_GROUPS.map((g) => (
              <optgroup key={g} label={g}>
                {TYPES.filter((t) => t.group === g).map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </optgroup>
            ))}
          </Select>
        </Labeled>
        {form.metricEditable && (
          <Labeled label="Metric" id="w-metric">
            <Select
              id="w-metric"
              className="w-full"
              value={form.metric}
              onChange={(e) => setForm((f) => ({ ...f, metric: e.target.value, groupBy: '', aggregation: '' }))}
            >
              {form.metric && !entry && <option value={form.metric}>{form.metric}</option>}
              {groups.map((g) => (
                <optgroup key={g.label} label={g.label}>
                  {g.entries.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.metric.name}
                    </option>
                  ))}
                </optgroup>
              ))}
            </Select>
          </Labeled>
        )}
        <Field
          label="Title"
          className="sm:col-span-2"
          value={form.title}
          onChange={(e) => set('title', e.target.value)}
          placeholder={entry?.metric.name ?? widget?.title ?? ''}
          help={entry ? <MetricHelp entry={entry} /> : undefined}
          maxLength={120}
        />
        {form.metricEditable && (
          <>
            <Labeled label="Store" id="w-store">
              <Select id="w-store" className="w-full" value={form.storeId} onChange={(e) => set('storeId', e.target.value)}>
                {!form.storeId && <option value="">As configured (several stores)</option>}
                {stores.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </Select>
            </Labeled>
            <Labeled label="Range" id="w-range">
              <Select
                id="w-range"
                className="w-full"
                value={form.customRange ? 'custom' : form.range}
                onChange={(e) => setForm((f) => ({ ...f, range: e.target.value as Preset, customRange: null }))}
              >
                {form.customRange && <option value="custom">Custom dates</option>}
                {RANGES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </Select>
            </Labeled>
            <Labeled label="Aggregation" id="w-agg">
              <Select id="w-agg" className="w-full" value={form.aggregation} onChange={(e) => set('aggregation', e.target.value as AggregationName | '')}>
                <option value="">Default{entry ? ` (${entry.metric.aggregation})` : ''}</option>
                {AGGREGATIONS.map((a) => (
                  <option key={a} value={a}>
                    {a === 'avg' ? 'Average' : a === 'latest' ? 'Latest value' : a.charAt(0).toUpperCase() + a.slice(1)}
                  </option>
                ))}
              </Select>
            </Labeled>
            {type !== 'kpi_card' && (
              <Labeled label="Granularity" id="w-gran">
                <Select id="w-gran" className="w-full" value={form.granularity} onChange={(e) => set('granularity', e.target.value as Granularity)}>
                  {GRANULARITIES.map((g) => (
                    <option key={g} value={g}>
                      {g === 'auto' ? 'Automatic' : `By ${g}`}
                    </option>
                  ))}
                </Select>
              </Labeled>
            )}
            {(type === 'table' || type === 'bar_chart' || type === 'pie_chart' || type === 'survey_summary') && (
              <Labeled label={needsGroup ? 'Breakdown' : 'Breakdown (optional)'} id="w-group">
                <Select id="w-group" className="w-full" value={form.groupBy} onChange={(e) => set('groupBy', e.target.value)} disabled={dims.length === 0}>
                  {!needsGroup && <option value="">None</option>}
                  {needsGroup && <option value="">Choose…</option>}
                  {form.groupBy && !dims.includes(form.groupBy) && <option value={form.groupBy}>By {form.groupBy}</option>}
                  {dims.map((d) => (
                    <option key={d} value={d}>
                      By {d}
                    </option>
                  ))}
                </Select>
              </Labeled>
            )}
          </>
        )}
        {cro && (
          <>
            <Labeled label="Store" id="w-store">
              <Select id="w-store" className="w-full" value={form.storeId} onChange={(e) => set('storeId', e.target.value)}>
                {!form.storeId && <option value="">Choose…</option>}
                {stores.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </Select>
            </Labeled>
            {RANGED_CRO_TYPES.has(type) && (
              <Labeled label="Range" id="w-range">
                <Select id="w-range" className="w-full" value={form.customRange ? 'custom' : form.range} onChange={(e) => setForm((f) => ({ ...f, range: e.target.value as Preset, customRange: null }))}>
                  {form.customRange && <option value="custom">Custom dates</option>}
                  {RANGES.map((r) => (
                    <option key={r.value} value={r.value}>
                      {r.label}
                    </option>
                  ))}
                </Select>
              </Labeled>
            )}
            {type === 'review_feed' && (
              <>
                <Labeled label="Ratings" id="w-ratings">
                  <Select id="w-ratings" className="w-full" value={form.ratings} onChange={(e) => set('ratings', e.target.value)}>
                    <option value="">All ratings</option>
                    <option value="4-5">4 and 5 stars</option>
                    <option value="1-2">Critical: 1 and 2 stars</option>
                    {[5, 4, 3, 2, 1].map((r) => (
                      <option key={r} value={String(r)}>
                        {r} star{r === 1 ? '' : 's'} only
                      </option>
                    ))}
                  </Select>
                </Labeled>
                <Labeled label="Reviews" id="w-status">
                  <Select id="w-status" className="w-full" value={form.reviewStatus} onChange={(e) => set('reviewStatus', e.target.value as WidgetForm['reviewStatus'])}>
                    <option value="all">Published and pending</option>
                    <option value="published">Published only</option>
                    <option value="pending">Pending moderation only</option>
                  </Select>
                </Labeled>
              </>
            )}
            {type === 'experiment_card' && (
              <div className="flex items-start gap-2 sm:col-span-2">
                <input id="w-ended" type="checkbox" className="mt-0.5 size-4 rounded border-gray-300 accent-brand-700" checked={form.includeEnded} onChange={(e) => set('includeEnded', e.target.checked)} />
                <label htmlFor="w-ended" className="text-sm text-gray-800">
                  Show ended experiments too
                </label>
              </div>
            )}
          </>
        )}
        <Labeled label="Size" id="w-size">
          <Select id="w-size" className="w-full" value={form.size} onChange={(e) => set('size', e.target.value)}>
            {Object.entries(SIZE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Labeled>
        {!editing && dashboard.layout.sections.length > 1 && (
          <Labeled label="Section" id="w-section">
            <Select id="w-section" className="w-full" value={form.section} onChange={(e) => set('section', e.target.value)}>
              {dashboard.layout.sections.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.title || s.id}
                </option>
              ))}
            </Select>
          </Labeled>
        )}
        {(type === 'kpi_card' || type === 'line_chart' || type === 'bar_chart') && (
          <div className="flex items-start gap-2 sm:col-span-2">
            <input
              id="w-invert"
              type="checkbox"
              className="mt-0.5 size-4 rounded border-gray-300 accent-brand-700"
              checked={form.invertDelta}
              onChange={(e) => set('invertDelta', e.target.checked)}
            />
            <label htmlFor="w-invert" className="text-sm text-gray-800">
              A rise is bad news <span className="text-gray-500">(shows increases in red, as for refunds or churn)</span>
            </label>
          </div>
        )}
        {(cro || form.metricEditable) && (form.storeId || editing) && (
          <WidgetPreview slug={slug} type={type} title={form.title.trim() || entry?.metric.name || TYPES.find((t) => t.value === type)?.label || 'Preview'} query={previewQuery} enabled={open && (cro ? Boolean(form.storeId) : Boolean(form.metric) && !(needsGroup && !form.groupBy))} />
        )}
        <ErrorAlert error={save.error ?? catalog.error} className="sm:col-span-2" />
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" busy={save.isPending} disabled={(form.metricEditable && (!form.metric || (!form.storeId && !editing))) || (needsGroup && form.metricEditable && !form.groupBy) || (cro && !form.storeId)}>
            {action}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A metric widget's query from the form (keeping settings the form does not edit). */
function metricQuery(form: WidgetForm, widget: Widget | null | undefined, defaultStore: string): MetricQueryConfig {
  const { type } = form;
  const query: MetricQueryConfig = {
    ...(widget?.query_config ?? {}),
    metric: form.metric,
    range: form.customRange ?? form.range,
    scope: form.storeId ? { store: form.storeId } : (widget?.query_config.scope ?? { store: defaultStore }),
  };
  delete query.granularity;
  delete query.group_by;
  delete query.aggregation;
  if (type !== 'kpi_card' && form.granularity !== 'auto') query.granularity = form.granularity;
  if (form.groupBy && type !== 'kpi_card' && type !== 'line_chart') query.group_by = form.groupBy;
  if (form.aggregation) query.aggregation = form.aggregation;
  return query;
}

function Labeled({ label, id, help, children }: { label: string; id: string; help?: string; children: React.ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <div className="mt-1">{children}</div>
      {help && (
        <p id={`${id}-help`} className="mt-1 text-xs text-gray-500">
          {help}
        </p>
      )}
    </div>
  );
}
