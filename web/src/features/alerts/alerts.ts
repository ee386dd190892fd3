// Pure rules and words of alert rules: which periods each kind allows, how a threshold
// typed in human units (dollars, percent) becomes the API's (cents, basis points) and
// back, a rule described in a sentence, and the status badge. No React here; see
// alerts.test.ts.
import type { Alert, AlertKind, AlertPeriod, AlertStatus, MetricUnit } from '../../api/types';
import { formatForUnit, formatValue, minorDigits } from '../../lib/format';

export const KINDS: { value: AlertKind; label: string }[] = [
  { value: 'below', label: 'drops below' },
  { value: 'above', label: 'goes above' },
  { value: 'pct_change_below', label: 'falls by more than' },
  { value: 'pct_change_above', label: 'rises by more than' },
  { value: 'anomaly', label: 'moves outside its usual range' },
  { value: 'pace', label: 'falls behind last week’s pace' },
];

export const PERIOD_LABEL: Record<AlertPeriod, string> = {
  today: 'today so far',
  yesterday: 'yesterday',
  last_7_days: 'over the last 7 days',
  last_30_days: 'over the last 30 days',
};

/** The period picker's options, short enough for a narrow column. */
export const PERIOD_OPTION: Record<AlertPeriod, string> = {
  today: 'Today so far',
  yesterday: 'Yesterday',
  last_7_days: 'Last 7 days',
  last_30_days: 'Last 30 days',
};

const ALL_PERIODS: AlertPeriod[] = ['yesterday', 'today', 'last_7_days', 'last_30_days'];

/**
 * The periods the server accepts for a kind: pace compares today so far, anomaly judges
 * one whole day (yesterday), a change compares whole periods (so not today).
 */
export function validPeriods(kind: AlertKind): AlertPeriod[] {
  switch (kind) {
    case 'pace':
      return ['today'];
    case 'anomaly':
      return ['yesterday'];
    case 'pct_change_above':
    case 'pct_change_below':
      return ['yesterday', 'last_7_days', 'last_30_days'];
    default:
      return ALL_PERIODS;
  }
}

/** `period` when the kind allows it, else the kind's first valid period. */
export function fitPeriod(kind: AlertKind, period: AlertPeriod): AlertPeriod {
  const valid = validPeriods(kind);
  return valid.includes(period) ? period : (valid[0] ?? 'yesterday');
}

/** Whether the threshold is a value of the metric (the others are percentages or a sensitivity). */
export function isAbsolute(kind: AlertKind): boolean {
  return kind === 'above' || kind === 'below';
}

/** The threshold a kind starts with when nothing better is known. */
export function defaultThreshold(kind: AlertKind): string {
  switch (kind) {
    case 'anomaly':
      return '3';
    case 'pace':
      return '30';
    case 'pct_change_above':
    case 'pct_change_below':
      return '20';
    default:
      return '';
  }
}

/** What one unit of the typed threshold is worth in the API's unit. */
function scale(kind: AlertKind, unit: MetricUnit | string, currency: string | null | undefined): number {
  if (!isAbsolute(kind)) return 1;
  if (unit === 'currency_minor') return 10 ** minorDigits(currency || 'USD');
  if (unit === 'basis_points') return 100;
  return 1;
}

/**
 * A threshold as the user typed it ("1000" dollars, "2.5" %) in the API's unit
 * (100000 cents, 250 basis points). Percent changes, pace and the anomaly
 * sensitivity pass through.
 */
export function thresholdToApi(typed: number, kind: AlertKind, unit: MetricUnit | string, currency?: string | null): number {
  const s = scale(kind, unit, currency);
  return s === 1 ? typed : Math.round(typed * s);
}

/** The API's threshold in the units the user types. */
export function thresholdFromApi(value: number, kind: AlertKind, unit: MetricUnit | string, currency?: string | null): number {
  const s = scale(kind, unit, currency);
  return s === 1 ? value : value / s;
}

/** Parses what was typed in the threshold field ("1,000", "2.5"); null when it is not a number. */
export function parseTyped(text: string): number | null {
  const cleaned = text.replace(/[\s,$€£%]/g, '');
  if (cleaned === '') return null;
  const n = Number(cleaned);
  return Number.isFinite(n) ? n : null;
}

/** The unit to show beside the threshold field. */
export function thresholdUnit(kind: AlertKind, unit: MetricUnit | string, currency?: string | null): string {
  if (kind === 'anomaly') return '× usual spread';
  if (!isAbsolute(kind)) return '%';
  if (unit === 'currency_minor') return currency || 'USD';
  if (unit === 'percent' || unit === 'basis_points') return '%';
  return '';
}

/**
 * A round threshold near a current value, in human units: two significant digits,
 * rounded down for a "drops below" rule and up for a "goes above" one
 * (12,345 → 12,000 or 13,000).
 */
export function niceThreshold(value: number, direction: 'down' | 'up'): number {
  if (!Number.isFinite(value) || value === 0) return 0;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 1);
  // 0.57 / 0.01 is 56.99999…: round the quotient before flooring it.
  const q = Number((value / step).toFixed(9));
  const n = (direction === 'down' ? Math.floor(q) : Math.ceil(q)) * step;
  return Number(n.toPrecision(12));
}

export interface DescribeContext {
  metricName: string;
  unit: MetricUnit | string;
  currency?: string | null;
  /** Pace rules watch for a lead instead of a lag when a rise is bad news. */
  riseIsBad?: boolean;
  now?: Date;
  locale?: string;
}

type RuleShape = Pick<Alert, 'kind' | 'period' | 'threshold' | 'compare_days'> & { filters?: Alert['filters'] };

/** " (country: US or CA)" for a rule narrowed by filters, "" otherwise. */
function filtersText(filters: Alert['filters'] | undefined): string {
  if (!filters?.length) return '';
  return ` (${filters.map((f) => `${f.dimension.replace(/_/g, ' ')}: ${f.in.join(' or ')}`).join('; ')})`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(2)));
}

function comparedWith(days: number): string {
  if (days === 1) return 'the day before';
  if (days === 7) return 'a week earlier';
  return `${days} days earlier`;
}

/**
 * A rule in plain words: "Gross revenue yesterday below $1,000.00", "Net revenue
 * today more than 30% behind last Tuesday's pace", "Orders yesterday outside the
 * usual range".
 */
export function describeAlert(rule: RuleShape, ctx: DescribeContext): string {
  const metric = `${ctx.metricName}${filtersText(rule.filters)}`;
  const period = PERIOD_LABEL[rule.period] ?? rule.period;
  const fmt = { format: formatForUnit(ctx.unit), currency: ctx.currency ?? null, locale: ctx.locale };
  switch (rule.kind) {
    case 'above':
      return `${metric} ${period} above ${formatValue(rule.threshold, fmt)}`;
    case 'below':
      return `${metric} ${period} below ${formatValue(rule.threshold, fmt)}`;
    case 'pct_change_above':
      return `${metric} ${period} up more than ${trim(rule.threshold)}% on ${comparedWith(rule.compare_days)}`;
    case 'pct_change_below':
      return `${metric} ${period} down more than ${trim(rule.threshold)}% on ${comparedWith(rule.compare_days)}`;
    case 'pace': {
      const weekday = (ctx.now ?? new Date()).toLocaleDateString(ctx.locale ?? 'en-US', { weekday: 'long' });
      return `${metric} today more than ${trim(rule.threshold)}% ${ctx.riseIsBad ? 'ahead of' : 'behind'} last ${weekday}’s pace`;
    }
    case 'anomaly':
      return `${metric} ${period} outside the usual range${rule.threshold !== 3 ? ` (sensitivity ${trim(rule.threshold)})` : ''}`;
    default:
      return `${metric} ${period}`;
  }
}

export type Tone = 'gray' | 'green' | 'red' | 'amber' | 'blue';

/** The badge of a rule: its words, colour, and the reason to show beside it. */
export function statusBadge(
  alert: Pick<Alert, 'status' | 'status_reason' | 'snoozed_until'>,
  opts: { locale?: string; timeZone?: string } = {},
): { label: string; tone: Tone; reason: string | null } {
  const status: AlertStatus = alert.status;
  switch (status) {
    case 'ok':
      return { label: 'OK', tone: 'green', reason: null };
    case 'triggered':
      return { label: 'Triggered', tone: 'red', reason: alert.status_reason ?? null };
    case 'snoozed':
      return { label: alert.snoozed_until ? `Snoozed until ${formatWhen(alert.snoozed_until, opts)}` : 'Snoozed', tone: 'blue', reason: null };
    case 'waiting':
      return { label: 'Waiting for data', tone: 'amber', reason: alert.status_reason ?? null };
    case 'disabled':
      return { label: 'Disabled', tone: 'gray', reason: null };
    case 'pending':
    default:
      return { label: 'Not checked yet', tone: 'gray', reason: null };
  }
}

/** "Dec 5, 09:41" in the viewer's clock (or `timeZone`). */
export function formatWhen(iso: string, opts: { locale?: string; timeZone?: string } = {}): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(opts.locale ?? 'en-US', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZone: opts.timeZone,
  });
}

/** The next Monday 09:00 UTC strictly after `now`: when the weekly digest goes out. */
export function nextDigestAt(now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 9, 0, 0));
  const daysToMonday = (8 - d.getUTCDay()) % 7;
  d.setUTCDate(d.getUTCDate() + daysToMonday);
  if (d.getTime() <= now.getTime()) d.setUTCDate(d.getUTCDate() + 7);
  return d;
}

/** Extra recipients typed as a list: split on commas, semicolons and white space. */
export function parseEmails(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}

export const COOLDOWNS: { minutes: number; label: string }[] = [
  { minutes: 60, label: '1 hour' },
  { minutes: 360, label: '6 hours' },
  { minutes: 720, label: '12 hours' },
  { minutes: 1440, label: '24 hours' },
  { minutes: 4320, label: '3 days' },
  { minutes: 10080, label: '7 days' },
];
