import type { ReactNode } from 'react';
import { cx } from '../../lib/cx';
import { deltaPct as computeDelta, formatDeltaPct, formatValue, trendOf, type ValueFormat } from '../../lib/format';
import { Sparkline } from '../Sparkline/Sparkline';
import { Skeleton } from '../ui/Card';
import { chartColors, trendClasses } from '../palette';

export interface MetricCardProps {
  title: string;
  value: number | null | undefined;
  prevValue?: number | null;
  format: ValueFormat;
  /** ISO code of a `currency` value (given in minor units). */
  currency?: string | null;
  /** The last 30 days (or the widget's buckets), oldest first. */
  sparkline?: (number | null)[];
  /** The server's delta, when it has one; otherwise computed from value and prevValue. */
  deltaPct?: number | null;
  /** For metrics where a rise is bad (refunds, churn). */
  invertDelta?: boolean;
  /** "vs previous period". */
  comparisonLabel?: string;
  /** Shown under the title: "Oct 23 – Nov 21, 2026". */
  subtitle?: string;
  /** A small control beside the title (the widget's "About this metric" button). */
  titleAction?: ReactNode;
  className?: string;
}

/** Seed 000's MetricCard: the big number, a green/red delta vs the previous period, a sparkline. */
export function MetricCard({
  title,
  value,
  prevValue,
  format,
  currency,
  sparkline = [],
  deltaPct,
  invertDelta = false,
  comparisonLabel = 'vs previous period',
  subtitle,
  titleAction,
  className,
}: MetricCardProps) {
  const fmt = { format, currency: currency ?? null };
  const delta = deltaPct ?? computeDelta(value, prevValue);
  const trend = trendOf(delta);
  const good = trend === 'flat' ? 'flat' : (trend === 'up') !== invertDelta ? 'up' : 'down';
  const hasPrev = prevValue !== undefined && prevValue !== null;
  const hasLine = sparkline.filter((v) => v !== null).length > 1;
  const formatted = formatValue(value, fmt);
  const summary =
    `${title}: ${formatted}` +
    (delta !== null && hasPrev ? `, ${formatDeltaPct(delta)} ${comparisonLabel} (${formatValue(prevValue, fmt)})` : '') +
    (hasLine
      ? `. Trend over ${sparkline.length} points from ${formatValue(sparkline.find((v) => v !== null), fmt)} to ${formatValue(
          [...sparkline].reverse().find((v) => v !== null),
          fmt,
        )}.`
      : '.');

  return (
    <div className={cx('flex h-full flex-col', className)}>
      <div className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <div className="flex min-w-0 items-center gap-1">
            <h3 className="truncate text-sm font-medium text-gray-600">{title}</h3>
            {titleAction}
          </div>
          {subtitle && <p className="truncate text-xs text-gray-500">{subtitle}</p>}
        </div>
        {delta !== null && hasPrev && (
          <span
            className={cx('inline-flex shrink-0 items-center gap-0.5 rounded-full px-1.5 py-0.5 text-xs font-medium tabular-nums ring-1 ring-inset', trendClasses[good])}
            title={`${comparisonLabel}: ${formatValue(prevValue, fmt)}`}
          >
            <TrendArrow trend={trend} />
            {formatDeltaPct(delta)}
          </span>
        )}
      </div>
      <p className="mt-1 truncate text-2xl font-semibold tracking-tight text-gray-900 tabular-nums" title={formatted}>
        {formatted}
      </p>
      <p className="h-4 truncate text-xs text-gray-500">{hasPrev ? `${comparisonLabel}: ${formatValue(prevValue, fmt)}` : ''}</p>
      <div className="mt-auto h-10 pt-1" role="img" aria-label={summary}>
        {hasLine && <Sparkline values={sparkline} color={chartColors.primary} />}
      </div>
    </div>
  );
}

function TrendArrow({ trend }: { trend: 'up' | 'down' | 'flat' }) {
  if (trend === 'flat') return null;
  return (
    <svg viewBox="0 0 12 12" className={cx('size-3', trend === 'down' && 'rotate-180')} fill="currentColor" aria-hidden="true">
      <path d="M6 2.5 10 8H2z" />
    </svg>
  );
}

/** The same box as a loaded card, so nothing moves when the numbers arrive. */
export function MetricCardSkeleton({ className }: { className?: string }) {
  return (
    <div className={cx('flex h-full flex-col', className)} aria-busy="true">
      <Skeleton className="h-4 w-24" />
      <Skeleton className="mt-2 h-7 w-36" />
      <Skeleton className="mt-1.5 h-3 w-28" />
      <Skeleton className="mt-auto h-8 w-full" />
    </div>
  );
}
