import { useEffect, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { CompareTo, Preset } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button, Spinner } from '../../components/ui/Button';
import { Skeleton } from '../../components/ui/Card';
import { Select } from '../../components/ui/Field';
import { relativeTime } from '../../lib/format';
import { freshnessOf, oldestSync } from '../../lib/series';
import { useSyncRefresh } from '../integrations/useSync';
import { useSession } from '../shell/session';
import { DashboardGrid } from './DashboardGrid';
import { AddWidgetDialog } from './AddWidgetDialog';
import { ShareDialog } from './ShareDialog';

const RANGES: { value: Preset | ''; label: string }[] = [
  { value: '', label: 'Each widget’s range' },
  { value: 'today', label: 'Today' },
  { value: 'last_7_days', label: 'Last 7 days' },
  { value: 'last_30_days', label: 'Last 30 days' },
  { value: 'last_90_days', label: 'Last 90 days' },
  { value: 'last_365_days', label: 'Last 365 days' },
  { value: 'month_to_date', label: 'Month to date' },
  { value: 'last_month', label: 'Last month' },
  { value: 'year_to_date', label: 'Year to date' },
];

const COMPARES: { value: CompareTo; label: string; short: string }[] = [
  { value: 'previous_period', label: 'vs previous period', short: 'vs previous period' },
  { value: 'previous_year', label: 'vs previous year', short: 'vs previous year' },
  { value: 'none', label: 'No comparison', short: '' },
];

/** Re-renders every 30 s so "8 minutes ago" stays true. */
function useNow(intervalMs = 30_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export default function DashboardPage() {
  const { id = '' } = useParams();
  const { slug, canEdit, canManage } = useSession();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const now = useNow();
  const [sharing, setSharing] = useState(false);
  const [adding, setAdding] = useState(false);

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
    enabled: dashboard.isSuccess,
  });
  const sync = useSyncRefresh(slug);
  const removeWidget = useMutation({
    mutationFn: (widgetId: string) => api.deleteWidget(slug, id, widgetId),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.dashboard(slug, id) }),
  });
  const remove = useMutation({
    mutationFn: () => api.deleteDashboard(slug, id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) });
      void navigate('/', { replace: true });
    },
  });

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
          {canEdit && (
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
              variant="ghost"
              className="text-red-700 hover:bg-red-50"
              busy={remove.isPending}
              onClick={() => {
                if (window.confirm('Delete this dashboard? Its widgets and share links go with it.')) remove.mutate();
              }}
            >
              Delete
            </Button>
          )}
        </div>
      </div>

      <div className="mt-3 flex h-6 items-center gap-2 text-sm text-gray-500" aria-live="polite">
        {sync.syncing ? (
          <span className="inline-flex items-center gap-1.5">
            <Spinner className="size-3.5 text-brand-600" /> Syncing…
          </span>
        ) : freshness.length > 0 ? (
          <>
            <span title={oldest ?? undefined}>{neverSynced ? 'Waiting for the first sync' : `Last synced ${relativeTime(oldest, now)}`}</span>
            <span aria-hidden="true">·</span>
            <button
              type="button"
              className="font-medium text-brand-700 hover:underline"
              onClick={() => sync.refresh(freshness.map((f) => f.integration_id))}
            >
              Refresh
            </button>
          </>
        ) : null}
        {data.isFetching && !data.isPending && !sync.syncing && <Spinner className="size-3.5 text-gray-400" />}
      </div>
      {(sync.error || sync.failure) && (
        <Alert tone="error" className="mt-2">
          {sync.failure ?? (sync.error instanceof Error ? sync.error.message : 'The sync could not start.')}
        </Alert>
      )}
      {(remove.error ?? removeWidget.error) && <ErrorAlert error={remove.error ?? removeWidget.error} className="mt-2" />}
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
            />
          )
        ) : (
          <GridSkeleton />
        )}
      </div>
      {dashboard.data && <ShareDialog open={sharing} onClose={() => setSharing(false)} dashboard={dashboard.data} />}
      {dashboard.data && <AddWidgetDialog open={adding} onClose={() => setAdding(false)} dashboard={dashboard.data} />}
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
