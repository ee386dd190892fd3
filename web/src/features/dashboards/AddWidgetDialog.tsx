import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { DashboardWithWidgets, Granularity, MetricQueryConfig, Preset } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Field, Select } from '../../components/ui/Field';
import { providerName } from '../../lib/providers';
import { useSession } from '../shell/session';

const TYPES = [
  { value: 'kpi_card', label: 'Number (KPI card)', size: 'small' },
  { value: 'line_chart', label: 'Line chart', size: 'medium' },
  { value: 'bar_chart', label: 'Bar chart (vs previous period)', size: 'medium' },
  { value: 'table', label: 'Table', size: 'medium' },
  { value: 'pie_chart', label: 'Pie chart (needs a breakdown)', size: 'medium' },
] as const;

const RANGES: { value: Preset; label: string }[] = [
  { value: 'last_7_days', label: 'Last 7 days' },
  { value: 'last_30_days', label: 'Last 30 days' },
  { value: 'last_90_days', label: 'Last 90 days' },
  { value: 'last_365_days', label: 'Last 365 days' },
  { value: 'month_to_date', label: 'Month to date' },
  { value: 'year_to_date', label: 'Year to date' },
];

const GRANULARITIES: Granularity[] = ['auto', 'day', 'week', 'month'];

/** A metric widget: type, metric from the catalog, range, granularity, breakdown, size, section. */
export function AddWidgetDialog({ open, onClose, dashboard }: { open: boolean; onClose: () => void; dashboard: DashboardWithWidgets }) {
  const { slug, stores, store } = useSession();
  const queryClient = useQueryClient();
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), enabled: open, staleTime: 5 * 60_000 });
  const [type, setType] = useState<string>('kpi_card');
  const [metric, setMetric] = useState('');
  const [title, setTitle] = useState('');
  const [range, setRange] = useState<Preset>('last_30_days');
  const [granularity, setGranularity] = useState<Granularity>('auto');
  const [groupBy, setGroupBy] = useState('');
  const [size, setSize] = useState('small');
  const [section, setSection] = useState('');
  const [storeId, setStoreId] = useState('');

  useEffect(() => {
    if (!open) return;
    setType('kpi_card');
    setTitle('');
    setGroupBy('');
    setSize('small');
    setSection(dashboard.layout.sections[0]?.id ?? '');
    setStoreId(store?.id ?? '');
  }, [open, dashboard.layout.sections, store?.id]);
  useEffect(() => {
    if (!metric && catalog.data?.[0]) setMetric(catalog.data[0].id);
  }, [catalog.data, metric]);

  const entry = catalog.data?.find((c) => c.id === metric);
  const dims = entry?.metric.dimensions ?? [];
  const byProvider = useMemo(() => {
    const m = new Map<string, NonNullable<typeof catalog.data>>();
    for (const c of catalog.data ?? []) m.set(c.provider, [...(m.get(c.provider) ?? []), c]);
    return [...m.entries()];
  }, [catalog.data]);

  const create = useMutation({
    mutationFn: () => {
      const query: MetricQueryConfig = { metric, range, scope: { store: storeId } };
      if (type !== 'kpi_card' && granularity !== 'auto') query.granularity = granularity;
      if (groupBy && type !== 'kpi_card' && type !== 'line_chart') query.group_by = groupBy;
      return api.createWidget(slug, dashboard.id, {
        type,
        title: title.trim() || entry?.metric.name || 'Widget',
        size,
        section: section || undefined,
        query_config: query,
        display_config: {},
      });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.dashboard(slug, dashboard.id) });
      onClose();
    },
  });
  const needsGroup = type === 'pie_chart';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Dialog open={open} onClose={onClose} title="Add a widget" description="Widgets read one metric of one store from the synced data.">
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
        <Labeled label="Type" id="w-type">
          <Select
            id="w-type"
            className="w-full"
            value={type}
            onChange={(e) => {
              setType(e.target.value);
              setSize(TYPES.find((t) => t.value === e.target.value)?.size ?? 'medium');
            }}
          >
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </Select>
        </Labeled>
        <Labeled label="Metric" id="w-metric">
          <Select
            id="w-metric"
            className="w-full"
            value={metric}
            onChange={(e) => {
              setMetric(e.target.value);
              setGroupBy('');
            }}
          >
            {byProvider.map(([provider, entries]) => (
              <optgroup key={provider} label={providerName(provider)}>
                {entries.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.metric.name}
                  </option>
                ))}
              </optgroup>
            ))}
          </Select>
        </Labeled>
        <Field label="Title" className="sm:col-span-2" value={title} onChange={(e) => setTitle(e.target.value)} placeholder={entry?.metric.name ?? ''} help={entry?.metric.description} />
        <Labeled label="Store" id="w-store">
          <Select id="w-store" className="w-full" value={storeId} onChange={(e) => setStoreId(e.target.value)}>
            {stores.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </Select>
        </Labeled>
        <Labeled label="Range" id="w-range">
          <Select id="w-range" className="w-full" value={range} onChange={(e) => setRange(e.target.value as Preset)}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </Select>
        </Labeled>
        {type !== 'kpi_card' && (
          <Labeled label="Granularity" id="w-gran">
            <Select id="w-gran" className="w-full" value={granularity} onChange={(e) => setGranularity(e.target.value as Granularity)}>
              {GRANULARITIES.map((g) => (
                <option key={g} value={g}>
                  {g === 'auto' ? 'Automatic' : `By ${g}`}
                </option>
              ))}
            </Select>
          </Labeled>
        )}
        {(type === 'table' || type === 'bar_chart' || type === 'pie_chart') && (
          <Labeled label={needsGroup ? 'Breakdown' : 'Breakdown (optional)'} id="w-group">
            <Select id="w-group" className="w-full" value={groupBy} onChange={(e) => setGroupBy(e.target.value)} disabled={dims.length === 0}>
              {!needsGroup && <option value="">None</option>}
              {needsGroup && <option value="">Choose…</option>}
              {dims.map((d) => (
                <option key={d} value={d}>
                  By {d}
                </option>
              ))}
            </Select>
          </Labeled>
        )}
        <Labeled label="Size" id="w-size">
          <Select id="w-size" className="w-full" value={size} onChange={(e) => setSize(e.target.value)}>
            <option value="small">Small</option>
            <option value="medium">Medium</option>
            <option value="large">Large</option>
            <option value="full">Full width</option>
          </Select>
        </Labeled>
        {dashboard.layout.sections.length > 1 && (
          <Labeled label="Section" id="w-section">
            <Select id="w-section" className="w-full" value={section} onChange={(e) => setSection(e.target.value)}>
              {dashboard.layout.sections.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.title || s.id}
                </option>
              ))}
            </Select>
          </Labeled>
        )}
        <ErrorAlert error={create.error ?? catalog.error} className="sm:col-span-2" />
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" busy={create.isPending} disabled={!metric || !storeId || (needsGroup && !groupBy)}>
            Add widget
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function Labeled({ label, id, children }: { label: string; id: string; children: React.ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <div className="mt-1">{children}</div>
    </div>
  );
}
