import { useCallback, useEffect, useRef, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, keys } from '../../api/endpoints';
import { errorMessage } from '../../api/client';
import type { Alert as AlertRule, CompareTo, Layout, Preset } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button, Spinner } from '../../components/ui/Button';
import { Skeleton } from '../../components/ui/Card';
import { Select } from '../../components/ui/Field';
import { Toast } from '../../components/ui/Toast';
import { AlertDialog } from '../alerts/AlertDialog';
import { ExplainDialog } from './ExplainDialog';
import { MetricInfoDialog } from './MetricInfoDialog';
import { formFromWidget, type AlertForm } from '../alerts/alertForm';
import { relativeTime } from '../../lib/format';
import { freshnessOf, oldestSync } from '../../lib/series';
import { useSyncRefresh } from '../integrations/useSync';
import { useLiveDashboard } from '../live/useLive';
import { useSession } from '../shell/session';
import { useNow } from '../shell/useNow';
import { cx } from '../../lib/cx';
import { DashboardGrid, type GridEditing } from './DashboardGrid';
import { AddWidgetDialog, RANGES as WIDGET_RANGES } from './AddWidgetDialog';
import { DashboardSettingsDialog } from './DashboardSettingsDialog';
import { dropWidget, moveWidget, normalize, positionOf } from './layout';
import { ShareDialog } from './ShareDialog';
import { useBuilder } from './useBuilder';

const RANGES: { value: Preset | ''; label: string }[] = [
  { value: '', label: 'Each widget’s range' },
  { value: 'today', label: 'Today' },
  { value: 'yesterday', label: 'Yesterday' },
  ...WIDGET_RANGES,
];

const ALERTABLE = new Set(['kpi_card', 'line_chart', 'bar_chart', 'table', 'pie_chart']);

const COMPARES: { value: CompareTo; label: string; short: string }[] = [
  { value: 'previous_period', label: 'vs previous period', short: 'vs previous period' },
  { value: 'previous_year', label: 'vs previous year', short: 'vs previous year' },
  { value: 'none', label: 'No comparison', short: '' },
];

export default function DashboardPage() {
  const { id = '' } = useParams();
  const { slug, canEdit, canManage, me } = useSession();
  const [params, setParams] = useSearchParams();
  const now = useNow();
  const [sharing, setSharing] = useState(false);
  const [adding, setAdding] = useState(false);
  const [configuring, setConfiguring] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [editMode, setEditMode] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const focusAfter = useRef<{ widgetId: string; action: string } | null>(null);
  const [alertFrom, setAlertFrom] = useState<AlertForm | null>(null);
  const [alertSaved, setAlertSaved] = useState<AlertRule | null>(null);
  const dismissSaved = useCallback(() => setAlertSaved(null), []);

  const range = (RANGES.find((r) => r.value === params.get('range'))?.value ?? '') as Preset | '';
  const compare = (COMPARES.find((c) => c.value === params.get('compare'))?.value ?? 'previous_period') as CompareTo;
  const setParam = (key: string, value: string, fallback: string) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value === fallback) next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );
  };

  const dashboard = useQuery({ queryKey: keys.dashboard(slug, id), queryFn: ({ signal }) => api.dashboard(slug, id, signal) });
  const data = useQuery({
    queryKey: keys.dashboardData(slug, id, range, compare),
    queryFn: ({ signal }) => api.dashboardData(slug, id, { range: range || null, compare_to: compare }, signal),
    placeholderData: keepPreviousData,
    // Asked for with the layout, not after it: the data call answers 404 by itself.
  });
  const sync = useSyncRefresh(slug);
  // A sale arriving by webhook refreshes the numbers (KPI cards) without a reload.
  useLiveDashboard(slug, id, dashboard.data?.widgets);
  const builder = useBuilder(slug, id);
  const { removeWidget, remove } = builder;
  const editing = canEdit && editMode;
  useEffect(() => setEditMode(false), [id]);

  // Keyboard users keep their place: after a move the same button has focus again
  // (the widget may have changed section, which mounts it anew).
  const layout = dashboard.data?.layout;
  useEffect(() => {
    const want = focusAfter.current;
    if (!want || !layout) return;
    focusAfter.current = null;
    const bar = document.querySelector(`[data-widget-id="${want.widgetId}"]`);
    const target = bar?.querySelector<HTMLButtonElement>(`[data-action="${want.action}"]:not(:disabled)`) ?? bar?.querySelector<HTMLButtonElement>('[data-action]:not(:disabled)');
    target?.focus();
  }, [layout]);

  const widgetTitle = (widgetId: string) => dashboard.data?.widgets.find((w) => w.id === widgetId)?.title ?? 'Widget';
  const gridEditing: GridEditing | undefined =
    editing && dashboard.data
      ? {
          onMove: (widgetId, step) => {
            const d = dashboard.data;
            if (!d) return;
            const current = normalize(d.layout, d.widgets);
            const next: Layout = moveWidget(current, widgetId, step);
            if (next === current) return;
            focusAfter.current = { widgetId, action: step < 0 ? 'back' : 'forward' };
            const pos = positionOf(next, widgetId);
            const section = pos ? next.sections[pos.section] : undefined;
            setAnnouncement(
              pos && section ? `${widgetTitle(widgetId)} moved to position ${pos.index + 1} of ${section.widgets?.length ?? 0}${section.title ? ` in ${section.title}` : ''}.` : '',
            );
            builder.saveLayout.mutate(next);
          },
          onDrop: (widgetId, sectionId, targetId) => {
            const d = dashboard.data;
            if (!d) return;
            const current = normalize(d.layout, d.widgets);
            const next = dropWidget(current, widgetId, sectionId, targetId);
            if (next === current) return;
            const pos = positionOf(next, widgetId);
            const section = pos ? next.sections[pos.section] : undefined;
            setAnnouncement(pos && section ? `${widgetTitle(widgetId)} moved to position ${pos.index + 1} of ${section.widgets?.length ?? 0}${section.title ? ` in ${section.title}` : ''}.` : '');
            builder.saveLayout.mutate(next);
          },
          onConfigure: (widgetId) => setConfiguring(widgetId),
          onResize: (widgetId, size) => {
            builder.resize.mutate({ widgetId, size });
            setAnnouncement(`${widgetTitle(widgetId)} is now ${size === 'full' ? 'full width' : size}.`);
          },
          onRemove: (widgetId) => {
            const title = widgetTitle(widgetId);
            if (!window.confirm(`Remove “${title}” from the dashboard?`)) return;
            removeWidget.mutate(widgetId, {
              onSuccess: () => {
                setAnnouncement(`${title} removed.`);
                document.getElementById('builder-add')?.focus();
              },
            });
          },
        }
      : undefined;
  const setColumns = (columns: 1 | 2 | 3) => {
    const d = dashboard.data;
    if (!d || d.layout.columns === columns) return;
    builder.saveLayout.mutate({ ...normalize(d.layout, d.widgets), columns });
    setAnnouncement(`${columns} ${columns === 1 ? 'column' : 'columns'}.`);
  };
  // Owners and admins write alert rules; one metric per rule, so funnels and widgets
  // still waiting for their provider have no "Create alert".
  const createAlert =
    canManage && dashboard.data
      ? {
          can: (widgetId: string) => {
            const w = dashboard.data?.widgets.find((x) => x.id === widgetId);
            return Boolean(w && ALERTABLE.has(w.type) && typeof w.query_config?.metric === 'string' && !w.query_config.steps);
          },
          create: (widgetId: string) => {
            const w = dashboard.data?.widgets.find((x) => x.id === widgetId);
            if (!w) return;
            // The number on screen is for the dashboard's range when one is chosen: watch that.
            const shown = range ? { ...w, query_config: { ...w.query_config, range } } : w;
            setAlertFrom(formFromWidget(shown, data.data?.widgets.find((d) => d.widget_id === widgetId), id, me.user.id));
          },
        }
      : undefined;
  // Any member may see the records behind a metric widget's number (for the range shown).
  const [explaining, setExplaining] = useState<{ title: string; query: object; bucket?: string } | null>(null);
  // Only sums over a period are made of records: not levels (MRR) or ratios (AOV).
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), staleTime: 5 * 60_000 });
  const explain = dashboard.data
    ? {
        can: (widgetId: string) => {
          const w = dashboard.data?.widgets.find((x) => x.id === widgetId);
          if (!w || !ALERTABLE.has(w.type) || typeof w.query_config?.metric !== 'string' || w.query_config.steps) return false;
          const metric = catalog.data?.find((c) => c.id === w.query_config.metric)?.metric;
          const aggregation = w.query_config.aggregation ?? metric?.aggregation;
          return !metric || (metric.kind !== 'stock' && !metric.ratio_of && aggregation === 'sum');
        },
        open: (widgetId: string, bucket?: string) => {
          const w = dashboard.data?.widgets.find((x) => x.id === widgetId);
          if (!w) return;
          const query: Record<string, unknown> = { ...w.query_config, ...(range ? { range } : {}) };
          delete query.group_by;
          delete query.compare_to;
          // A chart point is a bucket of the chart's own granularity; the total has none.
          if (!bucket) delete query.granularity;
          setExplaining({ title: w.title, query, bucket });
        },
      }
    : undefined;
  // Any member may read how a metric widget's number is computed.
  const [about, setAbout] = useState<string | null>(null);
  const aboutMetric = dashboard.data
    ? {
        can: (widgetId: string) => {
          const w = dashboard.data?.widgets.find((x) => x.id === widgetId);
          return Boolean(w && ALERTABLE.has(w.type) && typeof w.query_config?.metric === 'string' && !w.query_config.steps);
        },
        open: (widgetId: string) => {
          const metric = dashboard.data?.widgets.find((x) => x.id === widgetId)?.query_config?.metric;
          if (typeof metric === 'string') setAbout(metric);
        },
      }
    : undefined;
  const configured = configuring ? (dashboard.data?.widgets.find((w) => w.id === configuring) ?? null) : null;

  if (dashboard.isError) {
    return (
      <div className="space-y-4">
        <Link to="/" className="text-sm text-brand-700 hover:underline">
          ← Dashboards
        </Link>
        <ErrorAlert error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      </div>
    );
  }

  const freshness = data.data ? freshnessOf(data.data.widgets) : [];
  const oldest = oldestSync(freshness);
  const neverSynced = freshness.some((f) => !f.last_synced_at);
  const compareLabel = COMPARES.find((c) => c.value === compare)?.short ?? '';

  return (
    <div>
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div className="min-w-0">
          <Link to="/" className="text-sm text-gray-500 hover:text-gray-800">
            ← Dashboards
          </Link>
          {dashboard.data ? (
            <>
              <h1 className="mt-1 truncate text-2xl font-semibold tracking-tight text-gray-900">{dashboard.data.name}</h1>
              <p className="mt-0.5 h-5 truncate text-sm text-gray-500">{dashboard.data.description}</p>
            </>
          ) : (
            <>
              <Skeleton className="mt-2 h-7 w-64" />
              <Skeleton className="mt-1.5 h-4 w-96 max-w-full" />
            </>
          )}
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <label className="sr-only" htmlFor="range">
            Time range
          </label>
          <Select id="range" value={range} onChange={(e) => setParam('range', e.target.value, '')} className="pr-9">
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </Select>
          <label className="sr-only" htmlFor="compare">
            Comparison
          </label>
          <Select id="compare" value={compare} onChange={(e) => setParam('compare', e.target.value, 'previous_period')} className="pr-9">
            {COMPARES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </Select>
          {canEdit && !editing && (
            <Button variant="secondary" onClick={() => setAdding(true)} disabled={!dashboard.data}>
              Add widget
            </Button>
          )}
          {canManage && (
            <Button variant="secondary" onClick={() => setSharing(true)} disabled={!dashboard.data}>
              Share
            </Button>
          )}
          {canEdit && (
            <Button
              variant={editing ? 'primary' : 'secondary'}
              aria-pressed={editing}
              onClick={() => setEditMode((e) => !e)}
              disabled={!dashboard.data}
            >
              {editing ? 'Done' : 'Edit'}
            </Button>
          )}
        </div>
      </div>

      {editing && dashboard.data && (
        <div
          role="region"
          aria-label="Dashboard builder"
          className="mt-4 flex flex-wrap items-center gap-x-4 gap-y-2 rounded-lg border border-brand-200 bg-brand-50/60 px-3 py-2"
        >
          <fieldset className="flex items-center gap-2">
            <legend className="float-left mr-2 text-sm font-medium text-gray-800">Columns</legend>
            <div className="flex rounded-md bg-white shadow-xs ring-1 ring-gray-300 ring-inset">
              {([1, 2, 3] as const).map((c) => (
                <label
                  key={c}
                  className={cx(
                    'relative flex h-8 w-9 cursor-pointer items-center justify-center text-sm font-medium first:rounded-l-md last:rounded-r-md has-focus-visible:outline-2 has-focus-visible:outline-brand-500',
                    dashboard.data?.layout.columns === c ? 'bg-brand-700 text-white' : 'text-gray-700 hover:bg-gray-50',
                  )}
                >
                  <input
                    type="radio"
                    name="columns"
                    value={c}
                    className="absolute inset-0 size-full cursor-pointer appearance-none opacity-0"
                    checked={dashboard.data?.layout.columns === c}
                    onChange={() => setColumns(c)}
                    aria-label={`${c} ${c === 1 ? 'column' : 'columns'}`}
                  />
                  <span aria-hidden="true">{c}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div className="flex flex-wrap items-center gap-2">
            <Button id="builder-add" size="sm" onClick={() => setAdding(true)}>
              Add widget
            </Button>
            <Button size="sm" variant="secondary" onClick={() => setSettingsOpen(true)}>
              Name &amp; visibility
            </Button>
            <Button size="sm" variant="secondary" busy={builder.duplicate.isPending} onClick={() => builder.duplicate.mutate()}>
              Duplicate
            </Button>
            <Button
              size="sm"
              variant="danger"
              busy={remove.isPending}
              onClick={() => {
                if (window.confirm('Delete this dashboard? Its widgets and share links go with it.')) remove.mutate();
              }}
            >
              Delete dashboard
            </Button>
          </div>
          <p className="text-xs text-gray-600 lg:ml-auto">
            {builder.saveLayout.isPending || builder.resize.isPending ? (
              <span className="inline-flex items-center gap-1.5">
                <Spinner className="size-3 text-brand-600" /> Saving…
              </span>
            ) : (
              'Drag widgets or use their arrows. Changes save as you make them.'
            )}
          </p>
        </div>
      )}
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>

      <div className="mt-3 flex h-6 items-center gap-2 text-sm text-gray-500" aria-live="polite">
        {sync.syncing ? (
          <span className="inline-flex items-center gap-1.5">
            <Spinner className="size-3.5 text-brand-600" /> Syncing…
          </span>
        ) : freshness.length > 0 ? (
          <>
            <span title={oldest ?? undefined}>{neverSynced ? 'Waiting for the first sync' : `Last synced ${relativeTime(oldest, now)}`}</span>
            {/* Viewers are read-only: a sync is a write. */}
            {canEdit && (
              <>
                <span aria-hidden="true">·</span>
                <button
                  type="button"
                  className="font-medium text-brand-700 hover:underline"
                  onClick={() => sync.refresh(freshness.map((f) => f.integration_id))}
                >
                  Refresh
                </button>
              </>
            )}
          </>
        ) : null}
        {data.isFetching && !data.isPending && !sync.syncing && <Spinner className="size-3.5 text-gray-400" />}
      </div>
      {(sync.error || sync.failure) && (
        <Alert tone="error" className="mt-2">
          {sync.failure ?? (sync.error instanceof Error ? sync.error.message : 'The sync could not start.')}
        </Alert>
      )}
      {builder.error ? (
        <Alert tone="error" className="mt-2" onDismiss={builder.clearError}>
          {errorMessage(builder.error).replace(/^./, (c) => c.toUpperCase())}
        </Alert>
      ) : null}
      {data.isError && <ErrorAlert error={data.error} className="mt-2" onRetry={() => void data.refetch()} />}

      <div className="mt-4">
        {dashboard.data ? (
          dashboard.data.widgets.length === 0 ? (
            <div className="rounded-lg border border-dashed border-gray-300 p-10 text-center text-sm text-gray-500">
              <p>This dashboard has no widgets yet.</p>
              {canEdit && (
                <Button className="mt-3" onClick={() => setAdding(true)}>
                  Add a widget
                </Button>
              )}
            </div>
          ) : (
            <DashboardGrid
              layout={dashboard.data.layout}
              widgets={dashboard.data.widgets}
              data={data.data?.widgets}
              loading={data.isPending || data.isFetching}
              stale={data.isPlaceholderData}
              compareLabel={compareLabel}
              onRemove={
                canEdit
                  ? (widgetId) => {
                      if (window.confirm('Remove this widget from the dashboard?')) removeWidget.mutate(widgetId);
                    }
                  : undefined
              }
              editing={gridEditing}
              onCreateAlert={createAlert}
              onExplain={explain}
              onAbout={aboutMetric}
            />
          )
        ) : (
          <GridSkeleton />
        )}
      </div>
      {dashboard.data && <ShareDialog open={sharing} onClose={() => setSharing(false)} dashboard={dashboard.data} />}
      {dashboard.data && <AddWidgetDialog open={adding} onClose={() => setAdding(false)} dashboard={dashboard.data} />}
      {dashboard.data && (
        <AddWidgetDialog open={configured !== null} onClose={() => setConfiguring(null)} dashboard={dashboard.data} widget={configured} />
      )}
      <ExplainDialog slug={slug} title={explaining?.title ?? ''} query={explaining?.query ?? null} bucket={explaining?.bucket} onClose={() => setExplaining(null)} />
      <MetricInfoDialog slug={slug} metric={about} onClose={() => setAbout(null)} />
      {canManage && <AlertDialog open={alertFrom !== null} prefill={alertFrom} onClose={() => setAlertFrom(null)} onSaved={setAlertSaved} />}
      {alertSaved && (
        <Toast title={`Alert “${alertSaved.name}” created`} onDismiss={dismissSaved}>
          Pulseboard checks it every hour.{' '}
          <Link to={`/alerts?alert=${alertSaved.id}`} className="font-medium underline underline-offset-2">
            See it on the Alerts page
          </Link>
        </Toast>
      )}
      {dashboard.data && canEdit && (
        <DashboardSettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} dashboard={dashboard.data} update={builder.update} />
      )}
    </div>
  );
}

function GridSkeleton() {
  return (
    <div className="space-y-8" aria-busy="true">
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2 lg:grid-cols-4">
        {Array.from({ length: 4 }, (_, i) => (
          <Skeleton key={i} className="h-44 rounded-lg" />
        ))}
      </div>
      <Skeleton className="h-80 rounded-lg" />
    </div>
  );
}
