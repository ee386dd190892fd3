// The alert dialog's form state: blank, from a saved rule, or prefilled from a
// dashboard widget; and the request it becomes. Pure; see alertForm.test.ts.
import type { Alert, AlertKind, AlertPeriod, AlertRequest, Filter, MetricUnit, Scope, Widget, WidgetData } from '../../api/types';
import {
  defaultThreshold,
  fitPeriod,
  isAbsolute,
  niceThreshold,
  parseEmails,
  parseTyped,
  thresholdFromApi,
  thresholdToApi,
} from './alerts';

export interface AlertForm {
  name: string;
  metric: string;
  /** The store the rule watches; '' keeps `scope` as it came (several stores, a workspace). */
  storeId: string;
  scope: Scope | null;
  filters: Filter[];
  kind: AlertKind;
  period: AlertPeriod;
  /** As typed, in human units (dollars, percent). */
  threshold: string;
  compareDays: string;
  recipientUserIds: string[];
  /** Outside addresses, comma- or line-separated. */
  extraEmails: string;
  slackChannelId: string;
  cooldownMinutes: number;
  enabled: boolean;
  dashboardId: string | null;
}

/** What the form needs to know about the chosen metric to convert its threshold. */
export interface UnitInfo {
  unit: MetricUnit | string;
  currency: string | null;
}

/** Typed numbers without float noise: 12.3 rather than 12.299999999. */
function typed(n: number): string {
  return String(Number(n.toPrecision(12)));
}

export function blankForm(metric: string, storeId: string, me: string): AlertForm {
  return {
    name: '',
    metric,
    storeId,
    scope: null,
    filters: [],
    kind: 'below',
    period: 'yesterday',
    threshold: '',
    compareDays: '7',
    recipientUserIds: [me],
    extraEmails: '',
    slackChannelId: '',
    cooldownMinutes: 1440,
    enabled: true,
    dashboardId: null,
  };
}

export function formFromAlert(alert: Alert, units: UnitInfo): AlertForm {
  const scope = alert.scope;
  return {
    name: alert.name,
    metric: alert.metric,
    storeId: 'store' in scope ? scope.store : '',
    scope,
    filters: alert.filters,
    kind: alert.kind,
    period: alert.period,
    threshold: typed(thresholdFromApi(alert.threshold, alert.kind, units.unit, units.currency)),
    compareDays: String(alert.compare_days),
    recipientUserIds: alert.recipient_user_ids,
    extraEmails: alert.recipient_emails.join(', '),
    slackChannelId: alert.slack_channel_id ?? '',
    cooldownMinutes: alert.cooldown_minutes,
    enabled: alert.enabled,
    dashboardId: alert.dashboard_id ?? null,
  };
}

const PERIODS: AlertPeriod[] = ['today', 'yesterday', 'last_7_days', 'last_30_days'];

/**
 * A rule prefilled from a widget: its metric, scope and filters, and a kind that
 * makes sense for it. A KPI card watches its own number: "drops below" a round
 * value under the current one (or "goes above" one over it when a rise is bad
 * news), over the widget's range when a rule can use it. A chart watches the
 * trend: a fall (or rise) of more than 20% on a week earlier.
 */
export function formFromWidget(widget: Widget, data: WidgetData | undefined, dashboardId: string, me: string): AlertForm {
  const q = widget.query_config ?? {};
  const scope = q.scope ?? null;
  const result = data?.state === 'ok' ? data.result : null;
  const riseIsBad = widget.display_config?.invert_delta === true || result?.rise_is_bad === true;
  const base = blankForm(q.metric ?? '', scope && 'store' in scope ? scope.store : '', me);
  const form: AlertForm = { ...base, scope, filters: q.filters ?? [], dashboardId };
  if (widget.type === 'kpi_card') {
    const range = typeof q.range === 'string' ? q.range : null;
    form.kind = riseIsBad ? 'above' : 'below';
    form.period = PERIODS.find((p) => p === range) ?? 'yesterday';
    // The card's total is its range's; for another period the last day is the better guess.
    const current = form.period === range ? result?.total : [...(result?.series ?? [])].reverse().find((p) => p.value !== null && p.value !== undefined)?.value;
    if (result && current !== null && current !== undefined && (form.period === range || result.granularity === 'day')) {
      const human = thresholdFromApi(current, form.kind, result.unit, result.currency);
      form.threshold = typed(niceThreshold(human, riseIsBad ? 'up' : 'down'));
    }
  } else {
    form.kind = riseIsBad ? 'pct_change_above' : 'pct_change_below';
    form.period = 'yesterday';
    form.threshold = defaultThreshold(form.kind);
  }
  return form;
}

/** A new kind keeps the period when it can, and a threshold that means the same thing. */
export function changeKind(form: AlertForm, kind: AlertKind): AlertForm {
  const sameMeaning = isAbsolute(kind) === isAbsolute(form.kind) && (kind === 'anomaly') === (form.kind === 'anomaly');
  return { ...form, kind, period: fitPeriod(kind, form.period), threshold: sameMeaning ? form.threshold : defaultThreshold(kind) };
}

export type FormProblem = { field: 'name' | 'metric' | 'threshold' | 'compare_days' | 'scope'; message: string };

/** The request the form sends, or what is missing before it can be sent. */
export function toRequest(form: AlertForm, units: UnitInfo, fallbackName: string): AlertRequest | FormProblem {
  if (!form.metric) return { field: 'metric', message: 'Choose a metric.' };
  const scope: Scope | null = form.storeId ? { store: form.storeId } : form.scope;
  if (!scope) return { field: 'scope', message: 'Choose a store.' };
  const n = parseTyped(form.threshold);
  if (n === null) return { field: 'threshold', message: 'Enter a number.' };
  const compareDays = Number(form.compareDays);
  const pct = form.kind === 'pct_change_above' || form.kind === 'pct_change_below';
  if (pct && (!Number.isInteger(compareDays) || compareDays < 1 || compareDays > 365)) {
    return { field: 'compare_days', message: 'Between 1 and 365 days.' };
  }
  return {
    name: (form.name.trim() || fallbackName).slice(0, 100),
    metric: form.metric,
    scope,
    filters: form.filters,
    kind: form.kind,
    period: fitPeriod(form.kind, form.period),
    threshold: thresholdToApi(n, form.kind, units.unit, units.currency),
    compare_days: pct ? compareDays : null,
    recipient_user_ids: form.recipientUserIds,
    recipient_emails: parseEmails(form.extraEmails),
    slack_channel_id: form.slackChannelId || null,
    cooldown_minutes: form.cooldownMinutes,
    enabled: form.enabled,
    dashboard_id: form.dashboardId,
  };
}

export function isProblem(r: AlertRequest | FormProblem): r is FormProblem {
  return 'message' in r && 'field' in r && !('metric' in r);
}

/** A metric's name and unit from the catalog, and the currency of the stores a scope names. */
export interface MetricInfo extends UnitInfo {
  name: string;
  riseIsBad: boolean;
}

export function metricInfo(
  catalog: { id: string; metric: { name: string; unit: string; rise_is_bad?: boolean } }[] | undefined,
  stores: { id: string; currency: string; workspace_id: string }[] | undefined,
  metric: string,
  scope: Scope | null,
): MetricInfo {
  const entry = catalog?.find((c) => c.id === metric);
  const list = stores ?? [];
  const store =
    scope && 'store' in scope
      ? list.find((s) => s.id === scope.store)
      : scope && 'stores' in scope
        ? list.find((s) => scope.stores.includes(s.id))
        : scope && 'workspace' in scope
          ? list.find((s) => s.workspace_id === scope.workspace)
          : undefined;
  return {
    name: entry?.metric.name ?? metric,
    unit: entry?.metric.unit ?? 'count',
    currency: store?.currency ?? null,
    riseIsBad: entry?.metric.rise_is_bad === true,
  };
}

/** A saved rule as the request that saves it again unchanged (to flip `enabled`). */
export function requestOf(alert: Alert, change: Partial<AlertRequest> = {}): AlertRequest {
  return {
    name: alert.name,
    metric: alert.metric,
    scope: alert.scope,
    filters: alert.filters,
    kind: alert.kind,
    period: alert.period,
    threshold: alert.threshold,
    compare_days: alert.compare_days,
    recipient_user_ids: alert.recipient_user_ids,
    recipient_emails: alert.recipient_emails,
    slack_channel_id: alert.slack_channel_id ?? null,
    cooldown_minutes: alert.cooldown_minutes,
    enabled: alert.enabled,
    dashboard_id: alert.dashboard_id ?? null,
    ...change,
  };
}
