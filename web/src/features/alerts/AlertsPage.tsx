import { useCallback, useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { Alert, AlertEvent, AlertTestSent } from '../../api/types';
import { EmptyState } from '../../components/EmptyState/EmptyState';
import { Sparkline } from '../../components/Sparkline/Sparkline';
import { chartColors } from '../../components/palette';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Toast } from '../../components/ui/Toast';
import { cx } from '../../lib/cx';
import { formatForUnit, formatValue, relativeTime } from '../../lib/format';
import { NotFound } from '../shell/Pages';
import { useSession } from '../shell/session';
import { useNow } from '../shell/useNow';
import { ConfirmDialog, ListSkeleton, PageHeader, Section } from '../settings/parts';
import { metricInfo, requestOf, type MetricInfo } from './alertForm';
import { describeAlert, formatWhen, statusBadge } from './alerts';
import { AlertDialog } from './AlertDialog';

type ToastState = { tone: 'success' | 'error'; title: string; body?: string } | null;

/**
 * The organization's alert rules (owners and admins change them; members read), with
 * each one's state, trend and history, and the latest firings of all of them.
 * `?alert=<id>` (the link in alert mails) opens that rule's history and scrolls to it.
 */
export default function AlertsPage() {
  const { slug, canEdit, canManage } = useSession();
  const [params] = useSearchParams();
  const focusId = params.get('alert');
  const now = useNow();
  const alerts = useQuery({ queryKey: keys.alerts(slug), queryFn: ({ signal }) => api.alerts(slug, signal), enabled: canEdit });
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), staleTime: 5 * 60_000, enabled: canEdit });
  const stores = useQuery({ queryKey: keys.stores(slug), queryFn: ({ signal }) => api.stores(slug, signal), enabled: canEdit });
  const events = useQuery({ queryKey: keys.alertEvents(slug), queryFn: ({ signal }) => api.alertEvents(slug, 20, signal), enabled: canEdit });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Alert | null>(null);
  const [deleting, setDeleting] = useState<Alert | null>(null);
  const [toast, setToast] = useState<ToastState>(null);
  const dismissToast = useCallback(() => setToast(null), []);

  const info = (a: Pick<Alert, 'metric' | 'scope'>) => metricInfo(catalog.data, stores.data, a.metric, a.scope);
  const list = alerts.data ?? [];
  const byId = new Map(list.map((a) => [a.id, a]));

  // A mail link names a rule: bring it into view once the list is there.
  useEffect(() => {
    if (!focusId || !alerts.data) return;
    const el = document.querySelector<HTMLElement>(`[data-alert-id="${CSS.escape(focusId)}"]`);
    el?.scrollIntoView({ block: 'center' });
    el?.focus({ preventScroll: true });
  }, [focusId, alerts.data]);

  if (!canEdit) return <NotFound />;

  return (
    <div className="space-y-8">
      <PageHeader
        title="Alerts"
        description="Rules are checked every hour. Each one mails (or posts to Slack) once when it starts to hold, then waits for its cooldown."
        action={
          canManage && list.length > 0 ? (
            <Button onClick={() => setCreating(true)} id="create-alert">
              Create alert
            </Button>
          ) : undefined
        }
      />

      <Section id="rules" title="Rules">
        {/* Descriptions need the metric's name and unit, and the store's currency. */}
        {alerts.isPending || (catalog.isPending && !catalog.isError) || (stores.isPending && !stores.isError) ? (
          <ListSkeleton rows={3} />
        ) : alerts.isError ? (
          <ErrorAlert error={alerts.error} onRetry={() => void alerts.refetch()} />
        ) : list.length === 0 ? (
          <Card className="py-10">
            <EmptyState
              title="No alerts yet"
              description={
                <>
                  An alert watches one metric for you: a day below a value, a drop on last week, a day outside the usual range, today falling behind last week’s
                  pace. When it happens, Pulseboard emails the people you choose or posts to Slack. Create an alert from any KPI or chart on a dashboard (its
                  menu → Create alert), or here.
                </>
              }
              icon={<BellIcon className="size-8 text-gray-400" />}
              action={
                canManage ? (
                  <Button onClick={() => setCreating(true)} id="create-alert">
                    Create alert
                  </Button>
                ) : (
                  <p className="text-xs text-gray-600">Owners and admins of this organization create them.</p>
                )
              }
              className="[&>p:nth-of-type(2)]:max-w-lg [&>p:nth-of-type(2)]:text-sm"
            />
          </Card>
        ) : (
          <Card>
            <ul className="divide-y divide-gray-100" data-testid="alerts">
              {list.map((a) => (
                <AlertRow
                  key={a.id}
                  alert={a}
                  info={info(a)}
                  now={now}
                  highlighted={a.id === focusId}
                  canManage={canManage}
                  onEdit={() => setEditing(a)}
                  onDelete={() => setDeleting(a)}
                  onToast={setToast}
                />
              ))}
            </ul>
          </Card>
        )}
      </Section>

      <Section id="recent" title="Recent firings" description="The last 20 times any rule fired, newest first.">
        {events.isPending ? (
          <ListSkeleton rows={2} />
        ) : events.isError ? (
          <ErrorAlert error={events.error} onRetry={() => void events.refetch()} />
        ) : (events.data ?? []).length === 0 ? (
          <Card className="px-4 py-6 text-center text-sm text-gray-600">Nothing has fired yet. When a rule fires, it is listed here with what it said.</Card>
        ) : (
          <Card>
            <EventList events={events.data ?? []} now={now} alertName={(id) => byId.get(id)?.name ?? 'A deleted rule'} />
          </Card>
        )}
      </Section>

      {canManage && <AlertDialog open={creating} onClose={() => setCreating(false)} />}
      {canManage && <AlertDialog open={editing !== null} alert={editing} onClose={() => setEditing(null)} />}
      <DeleteAlert alert={deleting} onClose={() => setDeleting(null)} />
      {toast && (
        <Toast tone={toast.tone} title={toast.title} onDismiss={dismissToast}>
          {toast.body}
        </Toast>
      )}
    </div>
  );
}

function AlertRow({
  alert: a,
  info,
  now,
  highlighted,
  canManage,
  onEdit,
  onDelete,
  onToast,
}: {
  alert: Alert;
  info: MetricInfo;
  now: Date;
  highlighted: boolean;
  canManage: boolean;
  onEdit: () => void;
  onDelete: () => void;
  onToast: (t: ToastState) => void;
}) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [expanded, setExpanded] = useState(highlighted);
  const [showMethod, setShowMethod] = useState(false);
  useEffect(() => {
    if (highlighted) setExpanded(true);
  }, [highlighted]);
  const fmt = { format: formatForUnit(info.unit), currency: info.currency };
  const badge = statusBadge(a);
  const description = describeAlert(a, { metricName: info.name, unit: info.unit, currency: info.currency, riseIsBad: info.riseIsBad, now });
  const known = a.last_series.filter((v): v is number => v !== null);
  const seriesLabel =
    known.length > 1
      ? `${info.name}, last ${a.last_series.length} days: from ${formatValue(known[0], fmt)} to ${formatValue(known[known.length - 1], fmt)}`
      : `${info.name}: no daily values yet`;

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.alerts(slug) });
  };
  const onError = (title: string) => (e: unknown) => onToast({ tone: 'error', title, body: e instanceof Error ? e.message : undefined });
  const test = useMutation({
    mutationFn: () => api.testAlert(slug, a.id),
    onSuccess: (r: AlertTestSent) =>
      onToast({
        tone: 'success',
        title: `Sample sent to ${r.sent_to}`,
        body: testVerdict(r, fmt),
      }),
    onError: onError('The test could not be sent'),
  });
  const snooze = useMutation({
    mutationFn: (on: boolean) => (on ? api.snoozeAlert(slug, a.id, 24) : api.unsnoozeAlert(slug, a.id)),
    onSuccess: refresh,
    onError: onError('The snooze did not change'),
  });
  const toggle = useMutation({
    mutationFn: () => api.updateAlert(slug, a.id, requestOf(a, { enabled: !a.enabled })),
    onSuccess: refresh,
    onError: onError(a.enabled ? 'The rule could not be disabled' : 'The rule could not be enabled'),
  });
  const snoozed = a.status === 'snoozed';

  return (
    <li
      data-alert-id={a.id}
      data-status={a.status}
      tabIndex={-1}
      className={cx('px-4 py-4 outline-none', highlighted && 'bg-brand-50/50 ring-2 ring-brand-600 ring-inset')}
      aria-labelledby={`alert-${a.id}-name`}
    >
      <div className="flex flex-wrap items-start gap-x-6 gap-y-3">
        <div className="min-w-0 flex-1 basis-72">
          <div className="flex flex-wrap items-center gap-2">
            <h3 id={`alert-${a.id}-name`} className="text-sm font-semibold text-gray-900">
              {a.name}
            </h3>
            <Badge tone={badge.tone} className="whitespace-nowrap">
              {badge.label}
            </Badge>
          </div>
          <p className="mt-0.5 text-sm text-gray-700">
            {description}
            {a.kind === 'anomaly' && a.method && (
              <button
                type="button"
                className="ml-1.5 inline-flex items-center gap-0.5 align-baseline text-xs font-medium text-brand-700 underline underline-offset-2"
                aria-expanded={showMethod}
                aria-controls={`alert-${a.id}-method`}
                title={a.method}
                onClick={() => setShowMethod((s) => !s)}
              >
                How is “usual” decided?
              </button>
            )}
          </p>
          {showMethod && a.method && (
            <p id={`alert-${a.id}-method`} className="mt-1 max-w-prose rounded-md bg-gray-50 px-2.5 py-1.5 text-xs text-gray-700">
              {a.method}
            </p>
          )}
          {badge.reason && <p className={cx('mt-1 text-xs', a.status === 'triggered' ? 'text-red-700' : 'text-amber-800')}>{badge.reason.replace(/^./, (c) => c.toUpperCase())}</p>}
          <p className="mt-1 text-xs text-gray-600">
            {a.last_evaluated_at ? `Checked ${relativeTime(a.last_evaluated_at, now)}` : 'Not checked yet'}
            {' · '}
            {a.last_triggered_at ? <span title={new Date(a.last_triggered_at).toLocaleString()}>last fired {relativeTime(a.last_triggered_at, now)}</span> : 'never fired'}
            {a.dashboard_id && (
              <>
                {' · '}
                <Link to={`/dashboards/${a.dashboard_id}`} className="font-medium text-brand-700 hover:underline">
                  Open dashboard
                </Link>
              </>
            )}
          </p>
        </div>
        <div className="flex shrink-0 items-center gap-4">
          <div className="h-10 w-36" role="img" aria-label={seriesLabel}>
            {known.length > 1 ? (
              <Sparkline values={a.last_series} color={a.status === 'triggered' ? chartColors.down : chartColors.primary} />
            ) : (
              <div className="flex h-full items-center justify-center rounded bg-gray-50 text-xs text-gray-500">No data yet</div>
            )}
          </div>
          <div className="w-40 text-right">
            <p className="text-xs text-gray-600">Last value</p>
            <p className="truncate text-base font-semibold text-gray-900 tabular-nums" title={formatValue(a.last_value, fmt)}>
              {formatValue(a.last_value, fmt)}
            </p>
          </div>
        </div>
      </div>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <Button size="sm" variant="ghost" className="-ml-2.5" aria-expanded={expanded} aria-controls={`alert-${a.id}-history`} onClick={() => setExpanded((e) => !e)}>
          <svg viewBox="0 0 20 20" className={cx('size-4 transition-transform', expanded && 'rotate-90')} fill="currentColor" aria-hidden="true">
            <path fillRule="evenodd" d="M7.2 14.8a.75.75 0 0 1 0-1.06L10.94 10 7.2 6.26a.75.75 0 1 1 1.06-1.06l4.27 4.27a.75.75 0 0 1 0 1.06L8.26 14.8a.75.75 0 0 1-1.06 0Z" clipRule="evenodd" />
          </svg>
          History<span className="sr-only"> of {a.name}</span>
        </Button>
        {canManage && (
          <>
            <span className="flex-1" aria-hidden="true" />
            <Button size="sm" variant="secondary" onClick={onEdit}>
              Edit<span className="sr-only"> {a.name}</span>
            </Button>
            <Button size="sm" variant="secondary" busy={test.isPending} onClick={() => test.mutate()}>
              Send test<span className="sr-only"> of {a.name}</span>
            </Button>
            <Button size="sm" variant="secondary" busy={snooze.isPending} disabled={!a.enabled} onClick={() => snooze.mutate(!snoozed)}>
              {snoozed ? 'Unsnooze' : 'Snooze 24 h'}
              <span className="sr-only"> {a.name}</span>
            </Button>
            <Button size="sm" variant="secondary" busy={toggle.isPending} onClick={() => toggle.mutate()}>
              {a.enabled ? 'Disable' : 'Enable'}
              <span className="sr-only"> {a.name}</span>
            </Button>
            <Button size="sm" variant="danger" onClick={onDelete}>
              Delete<span className="sr-only"> {a.name}</span>
            </Button>
          </>
        )}
      </div>
      {expanded && (
        <div id={`alert-${a.id}-history`} className="mt-3">
          <History alert={a} now={now} />
        </div>
      )}
    </li>
  );
}

/** What the rule would conclude now, in the words of the test's answer. */
function testVerdict(r: AlertTestSent, fmt: { format: ReturnType<typeof formatForUnit>; currency: string | null }): string {
  // The reason usually states the value already.
  const value = r.value !== null && r.value !== undefined && !r.status_reason ? ` The value is ${formatValue(r.value, fmt)}.` : '';
  const verdict =
    r.status === 'triggered' ? 'Right now the rule holds: it would fire.' : r.status === 'waiting' ? 'Right now it is waiting for data.' : 'Right now the rule does not hold.';
  const reason = r.status_reason ? ` ${r.status_reason.replace(/^./, (c) => c.toUpperCase())}${/[.!?]$/.test(r.status_reason) ? '' : '.'}` : '';
  return `${verdict}${reason}${value}`;
}

function History({ alert, now }: { alert: Alert; now: Date }) {
  const { slug } = useSession();
  const history = useQuery({ queryKey: keys.alertHistory(slug, alert.id), queryFn: ({ signal }) => api.alertHistory(slug, alert.id, signal) });
  if (history.isPending) return <p className="text-xs text-gray-600">Loading history…</p>;
  if (history.isError) return <ErrorAlert error={history.error} onRetry={() => void history.refetch()} />;
  if (history.data.length === 0) return <p className="rounded-md bg-gray-50 px-3 py-2 text-xs text-gray-600">This rule has not fired yet.</p>;
  return (
    <div className="rounded-md border border-gray-200">
      <EventList events={history.data} now={now} />
    </div>
  );
}

function EventList({ events, now, alertName }: { events: AlertEvent[]; now: Date; alertName?: (id: string) => string }) {
  return (
    <ul className="divide-y divide-gray-100" data-testid={alertName ? 'recent-events' : 'alert-history'}>
      {events.map((e) => (
        <li key={e.id} className="flex flex-wrap items-baseline gap-x-4 gap-y-1 px-4 py-2.5 text-sm">
          <time dateTime={e.fired_at} title={new Date(e.fired_at).toLocaleString()} className="w-32 shrink-0 text-xs text-gray-600 tabular-nums">
            {formatWhen(e.fired_at)}
            <span className="sr-only"> ({relativeTime(e.fired_at, now)})</span>
          </time>
          <div className="min-w-0 flex-1 basis-64">
            {alertName && <p className="font-medium text-gray-900">{alertName(e.alert_id)}</p>}
            <p className="text-gray-700">{e.message}</p>
          </div>
          <span className="text-xs text-gray-600">{e.recipients === 1 ? 'Sent to 1 recipient' : `Sent to ${e.recipients} recipients`}</span>
        </li>
      ))}
    </ul>
  );
}

function DeleteAlert({ alert, onClose }: { alert: Alert | null; onClose: () => void }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteAlert(slug, id),
    onSuccess: async () => {
      void queryClient.invalidateQueries({ queryKey: keys.alertEvents(slug) });
      await queryClient.invalidateQueries({ queryKey: keys.alerts(slug) });
      onClose();
      // The row and its Delete button (where the dialog would give focus back) are
      // gone: keep focus on the page, once the dialog has closed.
      // The dialog gives focus back on its own schedule: try again until it has.
      for (const delay of [0, 60, 250, 1000]) {
        window.setTimeout(() => {
          const button = document.getElementById('create-alert');
          if (button && document.activeElement !== button && !document.querySelector('[role="dialog"]')) {
            button.focus();
          }
        }, delay);
      }
    },
  });
  return (
    <ConfirmDialog
      open={alert !== null}
      title={`Delete “${alert?.name ?? 'alert'}”?`}
      description="Nobody hears from this rule again, and its history goes with it. To pause it instead, disable or snooze it."
      confirmLabel="Delete alert"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => alert && remove.mutate(alert.id)}
      onClose={() => {
        remove.reset();
        onClose();
      }}
    />
  );
}

export function BellIcon({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" className={className} fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M14.86 17.08a23.85 23.85 0 0 0 5.45-1.31A8.97 8.97 0 0 1 18 9.75V9A6 6 0 0 0 6 9v.75a8.97 8.97 0 0 1-2.31 6.02c1.73.64 3.56 1.08 5.45 1.31m5.72 0a24.26 24.26 0 0 1-5.72 0m5.72 0a3 3 0 1 1-5.72 0" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
