import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { Alert as AlertRule, AlertKind, AlertPeriod, AlertRequest } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Skeleton } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { Select } from '../../components/ui/Field';
import { cx } from '../../lib/cx';
import { useSession } from '../shell/session';
import { useProviderName } from '../shell/useProviders';
import { groupCatalog } from '../dashboards/widgetForm';
import { fieldError, formError } from '../settings/parts';
import { blankForm, changeKind, formFromAlert, isProblem, metricInfo, toRequest, type AlertForm, type FormProblem } from './alertForm';
import { COOLDOWNS, KINDS, PERIOD_LABEL, PERIOD_OPTION, describeAlert, isAbsolute, parseTyped, thresholdToApi, thresholdUnit, validPeriods } from './alerts';

const SERVER_FIELDS = ['name', 'metric', 'scope', 'filters', 'kind', 'period', 'threshold', 'compare_days', 'recipient_user_ids', 'recipient_emails', 'slack_channel_id', 'cooldown_minutes', 'dashboard_id'];

/**
 * Creates or edits an alert rule: the metric and store, a sentence-like condition
 * (kind, threshold in the metric's own unit, period, comparison), who hears about it
 * (members, other addresses, a Slack channel), how often at most, and whether it is on.
 */
export function AlertDialog({
  open,
  onClose,
  alert,
  prefill,
  onSaved,
}: {
  open: boolean;
  onClose: () => void;
  /** Edit this rule. */
  alert?: AlertRule | null;
  /** A new rule starting from these values (a dashboard widget's). */
  prefill?: AlertForm | null;
  onSaved?: (alert: AlertRule) => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={alert ? `Edit “${alert.name}”` : 'Create an alert'}
      description="Pulseboard checks the rule every hour and tells you once each time it starts to hold."
      className="w-[min(42rem,calc(100vw-2rem))]"
    >
      <Body alert={alert ?? null} prefill={prefill ?? null} onClose={onClose} onSaved={onSaved} />
    </Dialog>
  );
}

function Body({ alert, prefill, onClose, onSaved }: { alert: AlertRule | null; prefill: AlertForm | null; onClose: () => void; onSaved?: (a: AlertRule) => void }) {
  const { slug, me, store } = useSession();
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), staleTime: 5 * 60_000 });
  const stores = useQuery({ queryKey: keys.stores(slug), queryFn: ({ signal }) => api.stores(slug, signal) });
  const members = useQuery({ queryKey: keys.members(slug), queryFn: ({ signal }) => api.members(slug, signal) });
  const channels = useQuery({ queryKey: keys.slackChannels(slug), queryFn: ({ signal }) => api.slackChannels(slug, signal) });
  const failed = catalog.error ?? stores.error ?? members.error ?? channels.error;
  if (failed) return <ErrorAlert error={failed} />;
  if (!catalog.data || !stores.data || !members.data || !channels.data) {
    return (
      <div className="space-y-3" aria-busy="true">
        <span className="sr-only" role="status">
          Loading
        </span>
        <Skeleton className="h-9 w-full" />
        <Skeleton className="h-24 w-full" />
        <Skeleton className="h-24 w-full" />
      </div>
    );
  }
  if (catalog.data.length === 0) {
    return (
      <Alert tone="info" title="No metrics to watch yet">
        Alerts watch the metrics of connected sources.{' '}
        <Link to="/settings/integrations" className="font-medium underline underline-offset-2">
          Connect Stripe, Shopify or another source
        </Link>{' '}
        and come back after its first sync.
      </Alert>
    );
  }
  const initial = alert
    ? formFromAlert(alert, metricInfo(catalog.data, stores.data, alert.metric, alert.scope))
    : (prefill ?? blankForm(catalog.data[0]?.id ?? '', store?.id ?? stores.data[0]?.id ?? '', me.user.id));
  return (
    <FormView
      alert={alert}
      initial={initial}
      catalog={catalog.data}
      stores={stores.data}
      members={members.data}
      channels={channels.data}
      onClose={onClose}
      onSaved={onSaved}
    />
  );
}

type Loaded<T extends (...a: never[]) => unknown> = Awaited<ReturnType<T>>;

function FormView({
  alert,
  initial,
  catalog,
  stores,
  members,
  channels,
  onClose,
  onSaved,
}: {
  alert: AlertRule | null;
  initial: AlertForm;
  catalog: Loaded<typeof api.catalog>;
  stores: Loaded<typeof api.stores>;
  members: Loaded<typeof api.members>;
  channels: Loaded<typeof api.slackChannels>;
  onClose: () => void;
  onSaved?: (a: AlertRule) => void;
}) {
  const { slug, me } = useSession();
  const queryClient = useQueryClient();
  const providerName = useProviderName();
  const [form, setForm] = useState<AlertForm>(initial);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const save = useMutation({
    mutationFn: (request: AlertRequest) => (alert ? api.updateAlert(slug, alert.id, request) : api.createAlert(slug, request)),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.alerts(slug) });
      onSaved?.(saved);
      onClose();
    },
  });
  const set = <K extends keyof AlertForm>(key: K, value: AlertForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    // An edit answers the last refusal: its message goes until the next save.
    if (problem?.field === key) setProblem(null);
    if (save.error) save.reset();
  };
  const groups = useMemo(() => groupCatalog(catalog, providerName), [catalog, providerName]);
  const scope = form.storeId ? { store: form.storeId } : form.scope;
  const info = metricInfo(catalog, stores, form.metric, scope);
  const entry = catalog.find((c) => c.id === form.metric);
  const unit = thresholdUnit(form.kind, info.unit, info.currency);
  const typed = parseTyped(form.threshold);
  const description = describeAlert(
    {
      kind: form.kind,
      period: form.period,
      threshold: typed === null ? 0 : thresholdToApi(typed, form.kind, info.unit, info.currency),
      compare_days: Number(form.compareDays) || 7,
      filters: form.filters,
    },
    { metricName: info.name, unit: info.unit, currency: info.currency, riseIsBad: info.riseIsBad },
  );
  const eligible = members.filter((m) => m.role !== 'viewer');
  const pct = form.kind === 'pct_change_above' || form.kind === 'pct_change_below';

  const err = (field: string) => (problem?.field === field ? problem.message : null) ?? fieldError(save.error, field);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const request = toRequest(form, info, description);
    // What the form itself can tell is shown next to its field before anything is sent.
    if (isProblem(request)) {
      setProblem(request);
      save.reset();
      document.getElementById(`a-${request.field === 'compare_days' ? 'compare' : request.field === 'scope' ? 'store' : request.field}`)?.focus();
      return;
    }
    setProblem(null);
    save.mutate(request);
  };

  return (
    <form onSubmit={submit} noValidate className="space-y-5" aria-label={alert ? 'Alert settings' : 'New alert'}>
      <div className="grid gap-3 sm:grid-cols-2">
        <Labeled label="Metric" id="a-metric" error={err('metric')} help={entry?.metric.description}>
          <Select
            id="a-metric"
            autoFocus
            className="w-full"
            value={form.metric}
            onChange={(e) => set('metric', e.target.value)}
            aria-invalid={err('metric') ? true : undefined}
            aria-describedby={err('metric') || entry?.metric.description ? 'a-metric-help' : undefined}
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
        <Labeled label="Store" id="a-store" error={err('scope')}>
          <Select id="a-store" className="w-full" value={form.storeId} onChange={(e) => set('storeId', e.target.value)} aria-invalid={err('scope') ? true : undefined}>
            {!form.storeId && <option value="">{form.dashboardId ? 'As on the dashboard (several stores)' : 'Several stores, as saved'}</option>}
            {stores.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {s.currency}
              </option>
            ))}
          </Select>
        </Labeled>
      </div>

      <fieldset className="rounded-lg border border-gray-200 p-3">
        <legend className="px-1 text-sm font-semibold text-gray-900">Alert me when {info.name || 'the metric'}…</legend>
        <div className="grid gap-3 sm:grid-cols-[minmax(0,1.4fr)_minmax(0,1fr)_minmax(0,1fr)]">
          <Labeled label="Condition" id="a-kind" error={err('kind')}>
            <Select id="a-kind" className="w-full" value={form.kind} onChange={(e) => setForm((f) => changeKind(f, e.target.value as AlertKind))}>
              {KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </Select>
          </Labeled>
          <Labeled
            label={form.kind === 'anomaly' ? 'Sensitivity' : 'Threshold'}
            id="a-threshold"
            error={err('threshold')}
            help={form.kind === 'anomaly' ? '3 is usual; higher fires less often.' : form.kind === 'pace' ? 'Percent behind the same time last week.' : undefined}
          >
            <div className="relative">
              <input
                id="a-threshold"
                inputMode="decimal"
                autoComplete="off"
                value={form.threshold}
                onChange={(e) => set('threshold', e.target.value)}
                aria-invalid={err('threshold') ? true : undefined}
                aria-describedby={cx(err('threshold') || form.kind === 'anomaly' || form.kind === 'pace' ? 'a-threshold-help' : undefined, unit ? 'a-threshold-unit' : undefined) || undefined}
                placeholder={isAbsolute(form.kind) ? 'e.g. 1000' : ''}
                className={cx(
                  'block h-9 w-full rounded-md border-0 bg-white px-3 py-1.5 text-sm text-gray-900 shadow-xs ring-1 ring-gray-300 ring-inset placeholder:text-gray-400 focus:ring-2 focus:ring-brand-600 focus:outline-none focus:ring-inset aria-[invalid=true]:ring-red-400',
                  unit && (unit.length > 3 ? 'pr-28' : 'pr-12'),
                )}
              />
              {unit && (
                <span id="a-threshold-unit" className="pointer-events-none absolute inset-y-0 right-3 flex items-center text-xs text-gray-600">
                  {unit}
                </span>
              )}
            </div>
          </Labeled>
          <Labeled label="Period" id="a-period" error={err('period')}>
            <Select id="a-period" className="w-full" value={form.period} onChange={(e) => set('period', e.target.value as AlertPeriod)} disabled={validPeriods(form.kind).length === 1}>
              {validPeriods(form.kind).map((p) => (
                <option key={p} value={p}>
                  {PERIOD_OPTION[p]}
                </option>
              ))}
            </Select>
          </Labeled>
          {pct && (
            <Labeled label="Compared with (days earlier)" id="a-compare" error={err('compare_days')} className="sm:col-span-2">
              <input
                id="a-compare"
                type="number"
                min={1}
                max={365}
                value={form.compareDays}
                onChange={(e) => set('compareDays', e.target.value)}
                aria-invalid={err('compare_days') ? true : undefined}
                aria-describedby={err('compare_days') ? 'a-compare-help' : undefined}
                className="block h-9 w-28 rounded-md border-0 bg-white px-3 py-1.5 text-sm text-gray-900 shadow-xs ring-1 ring-gray-300 ring-inset focus:ring-2 focus:ring-brand-600 focus:outline-none focus:ring-inset aria-[invalid=true]:ring-red-400"
              />
            </Labeled>
          )}
        </div>
        <p className="mt-3 rounded-md bg-gray-50 px-3 py-2 text-sm text-gray-800" data-testid="alert-sentence">
          <span className="text-gray-600">Alert when: </span>
          {typed === null && isAbsolute(form.kind) ? `${info.name} ${PERIOD_LABEL[form.period]} ${form.kind === 'above' ? 'above' : 'below'} …` : description}
        </p>
      </fieldset>

      <Labeled label="Name" id="a-name" error={err('name')} help="Shown in the mail subject and on the Alerts page.">
        <input
          id="a-name"
          maxLength={100}
          value={form.name}
          onChange={(e) => set('name', e.target.value)}
          placeholder={description}
          aria-invalid={err('name') ? true : undefined}
          aria-describedby="a-name-help"
          className="block h-9 w-full rounded-md border-0 bg-white px-3 py-1.5 text-sm text-gray-900 shadow-xs ring-1 ring-gray-300 ring-inset placeholder:text-gray-500 focus:ring-2 focus:ring-brand-600 focus:outline-none focus:ring-inset aria-[invalid=true]:ring-red-400"
        />
      </Labeled>

      <fieldset aria-describedby={err('recipient_user_ids') ? 'a-recipients-error' : undefined}>
        <legend className="text-sm font-semibold text-gray-900">Email</legend>
        <ul className="mt-2 grid gap-1.5 sm:grid-cols-2">
          {eligible.map((m) => {
            const id = `a-member-${m.user_id}`;
            return (
              <li key={m.user_id} className="flex min-w-0 items-start gap-2">
                <input
                  id={id}
                  type="checkbox"
                  className="mt-0.5 size-4 shrink-0 rounded border-gray-300 accent-brand-700"
                  checked={form.recipientUserIds.includes(m.user_id)}
                  onChange={(e) =>
                    set('recipientUserIds', e.target.checked ? [...form.recipientUserIds, m.user_id] : form.recipientUserIds.filter((x) => x !== m.user_id))
                  }
                />
                <label htmlFor={id} className="min-w-0 text-sm text-gray-800">
                  <span className="block truncate">
                    {m.name}
                    {m.user_id === me.user.id && <span className="text-gray-500"> (you)</span>}
                  </span>
                  <span className="block truncate text-xs text-gray-500">{m.email}</span>
                </label>
              </li>
            );
          })}
        </ul>
        {err('recipient_user_ids') && (
          <p id="a-recipients-error" className="mt-1 text-xs text-red-700">
            {err('recipient_user_ids')}
          </p>
        )}
        <Labeled label="Other addresses" id="a-emails" error={err('recipient_emails')} help="Separate addresses with commas; up to 20." className="mt-3">
          <input
            id="a-emails"
            type="text"
            autoComplete="off"
            value={form.extraEmails}
            onChange={(e) => set('extraEmails', e.target.value)}
            placeholder="finance@example.com"
            aria-invalid={err('recipient_emails') ? true : undefined}
            aria-describedby="a-emails-help"
            className="block h-9 w-full rounded-md border-0 bg-white px-3 py-1.5 text-sm text-gray-900 shadow-xs ring-1 ring-gray-300 ring-inset placeholder:text-gray-500 focus:ring-2 focus:ring-brand-600 focus:outline-none focus:ring-inset aria-[invalid=true]:ring-red-400"
          />
        </Labeled>
      </fieldset>

      <div className="grid gap-3 sm:grid-cols-2">
        <Labeled
          label="Slack channel"
          id="a-slack"
          error={err('slack_channel_id')}
          help={
            channels.length === 0 ? (
              <>
                No channels yet: <Link to="/settings/slack" className="font-medium text-brand-700 underline underline-offset-2">add one in Settings → Slack</Link>.
              </>
            ) : (
              <Link to="/settings/slack" className="font-medium text-brand-700 underline underline-offset-2">
                Manage Slack channels
              </Link>
            )
          }
        >
          <Select id="a-slack" className="w-full" value={form.slackChannelId} onChange={(e) => set('slackChannelId', e.target.value)} aria-describedby="a-slack-help">
            <option value="">No Slack message</option>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
                {c.disabled_at ? ' (disabled by Slack)' : ''}
              </option>
            ))}
          </Select>
        </Labeled>
        <Labeled label="At most one message every" id="a-cooldown" error={err('cooldown_minutes')}>
          <Select id="a-cooldown" className="w-full" value={String(form.cooldownMinutes)} onChange={(e) => set('cooldownMinutes', Number(e.target.value))}>
            {!COOLDOWNS.some((c) => c.minutes === form.cooldownMinutes) && <option value={form.cooldownMinutes}>{form.cooldownMinutes} minutes</option>}
            {COOLDOWNS.map((c) => (
              <option key={c.minutes} value={c.minutes}>
                {c.label}
              </option>
            ))}
          </Select>
        </Labeled>
      </div>

      <div className="flex items-start gap-2">
        <input id="a-enabled" type="checkbox" className="mt-0.5 size-4 rounded border-gray-300 accent-brand-700" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
        <label htmlFor="a-enabled" className="text-sm text-gray-800">
          Enabled <span className="text-gray-500">(checked every hour; turn off to keep the rule without hearing from it)</span>
        </label>
      </div>

      <ErrorAlert error={formError(save.error, SERVER_FIELDS)} />
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" busy={save.isPending}>
          {alert ? 'Save alert' : 'Create alert'}
        </Button>
      </div>
    </form>
  );
}

function Labeled({ label, id, help, error, className, children }: { label: string; id: string; help?: ReactNode; error?: string | null; className?: string; children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <div className="mt-1">{children}</div>
      {(error || help) && (
        <p id={`${id}-help`} className={cx('mt-1 text-xs', error ? 'text-red-700' : 'text-gray-500')}>
          {error || help}
        </p>
      )}
    </div>
  );
}
