// Pure formatting: money in minor units with an ISO code, counts, percentages, dates
// of metric buckets and relative times. No React here; see format.test.ts.

export type ValueFormat = 'number' | 'currency' | 'percent' | 'basis_points';

export interface FormatOptions {
  format: ValueFormat;
  /** ISO 4217 code, for `currency`. */
  currency?: string | null;
  /** Short form for axes: 12.3K, $1.2M. */
  compact?: boolean;
  locale?: string;
}

const DEFAULT_LOCALE = 'en-US';
const cache = new Map<string, Intl.NumberFormat>();

function nf(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, options);
    cache.set(key, f);
  }
  return f;
}

/** How many minor units a currency's major unit has: USD 2, JPY 0, KWD 3. */
export function minorDigits(currency: string, locale = DEFAULT_LOCALE): number {
  try {
    return nf(locale, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Converts an amount in minor units (cents) to major units (dollars). */
export function fromMinor(amount: number, currency: string, locale = DEFAULT_LOCALE): number {
  return amount / 10 ** minorDigits(currency, locale);
}

export function formatValue(value: number | null | undefined, opts: FormatOptions): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const locale = opts.locale ?? DEFAULT_LOCALE;
  switch (opts.format) {
    case 'currency': {
      const currency = opts.currency || 'USD';
      const major = fromMinor(value, currency, locale);
      try {
        if (opts.compact) {
          return nf(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(major);
        }
        return nf(locale, { style: 'currency', currency }).format(major);
      } catch {
        return `${nf(locale, { maximumFractionDigits: 2 }).format(major)} ${currency}`;
      }
    }
    case 'percent':
      // Metric values in percent are 0–100.
      return nf(locale, { style: 'percent', maximumFractionDigits: 1 }).format(value / 100);
    case 'basis_points':
      // Rates in hundredths of a percent: 235 is 2.35 %.
      return nf(locale, { style: 'percent', maximumFractionDigits: 2 }).format(value / 10_000);
    case 'number':
    default:
      if (opts.compact) return nf(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(value);
      return nf(locale, { maximumFractionDigits: Math.abs(value) < 100 ? 2 : 0 }).format(value);
  }
}

/** A signed percentage change, e.g. "+6.0%", "−2.3%", "0.0%". `pct` is in percent (6 = 6%). */
export function formatDeltaPct(pct: number | null | undefined, locale = DEFAULT_LOCALE): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '—';
  const body = nf(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Math.abs(pct));
  if (Number(body) === 0 || body === '0.0') return `${body}%`;
  return `${pct > 0 ? '+' : '−'}${body}%`;
}

/** The percentage change from `previous` to `current`, or null when it is undefined. */
export function deltaPct(current: number | null | undefined, previous: number | null | undefined): number | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  if (previous === 0) return current === 0 ? 0 : null;
  return ((current - previous) / Math.abs(previous)) * 100;
}

export type Trend = 'up' | 'down' | 'flat';

export function trendOf(pct: number | null | undefined): Trend {
  if (pct === null || pct === undefined || !Number.isFinite(pct) || Math.abs(pct) < 0.05) return 'flat';
  return pct > 0 ? 'up' : 'down';
}

/** The unit a metric's API answer uses, as a display format. */
export function formatForUnit(unit: string | null | undefined): ValueFormat {
  if (unit === 'currency_minor') return 'currency';
  if (unit === 'percent') return 'percent';
  if (unit === 'basis_points') return 'basis_points';
  return 'number';
}

// ---- dates of metric buckets ------------------------------------------------------

/** Parses a bucket ("2026-11-21" or an RFC 3339 time) as a UTC instant. */
export function parseBucket(bucket: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(bucket) ? new Date(`${bucket}T00:00:00Z`) : new Date(bucket);
}

const DAY_MS = 86_400_000;

/** Days between the first and last bucket. */
export function spanDays(buckets: string[]): number {
  if (buckets.length < 2) return 0;
  const first = parseBucket(buckets[0] ?? '').getTime();
  const last = parseBucket(buckets[buckets.length - 1] ?? '').getTime();
  return Math.round(Math.abs(last - first) / DAY_MS);
}

/**
 * The x-axis tick for a bucket: `MMM D` (Nov 21) when the whole range spans at most
 * 90 days, `YYYY-MM` (2026-11) beyond.
 */
export function formatTick(bucket: string, span: number, locale = DEFAULT_LOCALE): string {
  const d = parseBucket(bucket);
  if (Number.isNaN(d.getTime())) return bucket;
  if (span <= 90) {
    return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(d);
  }
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The exact date (or period) of a bucket, for tooltips. */
export function formatBucketLong(bucket: string, granularity?: string | null, locale = DEFAULT_LOCALE): string {
  const d = parseBucket(bucket);
  if (Number.isNaN(d.getTime())) return bucket;
  const utc = { timeZone: 'UTC' } as const;
  switch (granularity) {
    case 'month':
      return new Intl.DateTimeFormat(locale, { ...utc, month: 'long', year: 'numeric' }).format(d);
    case 'week':
      return `Week of ${new Intl.DateTimeFormat(locale, { ...utc, month: 'short', day: 'numeric', year: 'numeric' }).format(d)}`;
    case 'hour':
      return new Intl.DateTimeFormat(locale, {
        ...utc,
        weekday: 'short',
        month: 'short',
        day: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
      }).format(d);
    default:
      return new Intl.DateTimeFormat(locale, { ...utc, weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' }).format(d);
  }
}

/** "just now", "8 minutes ago", "3 hours ago", "2 days ago". */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return 'never';
  const seconds = Math.round((now.getTime() - t) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  const days = Math.round(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** A duration in seconds as "0.4 s", "12 s", "3 min 5 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return s ? `${m} min ${s} s` : `${m} min`;
}

/** A label cut to `max` characters with an ellipsis (axis ticks; tooltips show it whole). */
export function shortLabel(label: string, max = 12): string {
  return label.length <= max ? label : `${label.slice(0, max - 1).trimEnd()}…`;
}

/** A category label broken into at most `lines` lines of about `max` characters, at
 * spaces, for axis ticks under narrow bars ("Organic Search" → ["Organic",
 * "Search"]): words stay whole where they fit, and what does not fit is cut with "…"
 * on the last line, so two labels that start alike still read apart. */
export function wrapLabel(label: string, max: number, lines = 2): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of label.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= max || !line) {
      line = next;
    } else {
      out.push(line);
      line = word;
    }
  }
  if (line) out.push(line);
  if (out.length <= lines) return out.map((l) => shortLabel(l, max));
  // The last line holds the rest, cut to fit.
  return [...out.slice(0, lines - 1), out.slice(lines - 1).join(' ')].map((l) => shortLabel(l, max));
}

/** Where a provider's daily call budget stands, for the text beside a refresh
 * button: "8 of 10 export calls left today", or when none is left, when the next
 * call is possible ("No export calls left today; next call at 01:00"). */
export function callBudgetText(
  budget: { limit: number; remaining: number; unit: string; resets_at: string },
  now: Date = new Date(),
): string {
  if (budget.remaining <= 0) return `No ${budget.unit} left today; next call ${nextRunText(budget.resets_at, now)}`;
  return `${budget.remaining} of ${budget.limit} ${budget.unit} left today`;
}

/** When a waiting job runs next, in the viewer's clock: "at 00:05" the same day as
 * `now`, else with its date ("on Dec 5 at 00:05"). */
export function nextRunText(at: string, now: Date = new Date()): string {
  const when = new Date(at);
  const time = when.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return when.toDateString() === now.toDateString()
    ? `at ${time}`
    : `on ${when.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} at ${time}`;
}
