import { useId, type ReactNode } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { cx } from '../../lib/cx';
import { formatBucketLong, formatDeltaPct, deltaPct, formatTick, formatValue, spanDays, type FormatOptions } from '../../lib/format';
import { hasData, summariseSeries, type TimePoint } from '../../lib/series';
import { ChartTooltip } from '../ChartTooltip/ChartTooltip';
import { EmptyState } from '../EmptyState/EmptyState';
import { chartColors } from '../palette';

export interface TimeseriesChartProps {
  /** Oldest first; `previous` (the comparison period at the same position) is drawn dashed. */
  data: TimePoint[];
  label: string;
  format: FormatOptions;
  granularity?: string | null;
  /** Pixel height of the plot. */
  height?: number;
  /** What to show when there is no data (default: a plain "No data for this period"). */
  empty?: ReactNode;
  previousLabel?: string;
  className?: string;
  /** Called with a point's bucket when it is clicked ("the records behind this point"). */
  onPointSelect?: (bucket: string) => void;
}

/** Seed 000's TimeseriesChart: an area with a soft gradient, ticks `MMM D` up to 90 days, `YYYY-MM` beyond. */
export function TimeseriesChart({
  data,
  label,
  format,
  granularity,
  height = 240,
  empty,
  previousLabel = 'Previous period',
  className,
  onPointSelect,
}: TimeseriesChartProps) {
  const gradientId = useId().replace(/:/g, '');
  const span = spanDays(data.map((d) => d.date));
  const showPrevious = data.some((d) => d.previous !== undefined && d.previous !== null);
  const single = data.length === 1;
  if (!hasData(data)) {
    return (
      <div className={className} style={{ height }}>
        {empty ?? <EmptyState title="No data for this period" description="Nothing was recorded in this range yet." />}
      </div>
    );
  }
  return (
    <div className={cx('w-full', className)} style={{ height }} role="img" aria-label={summariseSeries(label, data, format, granularity)}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart
          data={data}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
          className={onPointSelect ? 'cursor-pointer' : undefined}
          onClick={
            onPointSelect
              ? (state) => {
                  const index = Number(state?.activeTooltipIndex);
                  const point = Number.isInteger(index) ? data[index] : undefined;
                  if (point) onPointSelect(point.date);
                }
              : undefined
          }
        >
          <defs>
            <linearGradient id={gradientId} x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={chartColors.primary} stopOpacity={0.28} />
              <stop offset="100%" stopColor={chartColors.primary} stopOpacity={0.02} />
            </linearGradient>
          </defs>
          <CartesianGrid vertical={false} stroke={chartColors.grid} strokeDasharray="3 3" />
          <XAxis
            dataKey="date"
            tickFormatter={(d: string) => formatTick(d, span)}
            tickLine={false}
            axisLine={false}
            minTickGap={28}
            tick={{ fill: chartColors.axis, fontSize: 12 }}
            dy={4}
          />
          <YAxis
            tickFormatter={(v: number) => formatValue(v, { ...format, compact: true })}
            tickLine={false}
            axisLine={false}
            width={64}
            tick={{ fill: chartColors.axis, fontSize: 12 }}
          />
          <Tooltip
            cursor={{ stroke: chartColors.neutral, strokeOpacity: 0.4 }}
            content={({ active, payload }) => {
              const row = payload?.[0]?.payload as TimePoint | undefined;
              if (!active || !row) return null;
              const rows: { color: string; label: string; value: string; dashed?: boolean }[] = [{ color: chartColors.primary, label, value: formatValue(row.value, format) }];
              if (showPrevious) {
                rows.push({
                  color: chartColors.neutral,
                  label: row.previousDate ? formatBucketLong(row.previousDate, granularity) : previousLabel,
                  value: formatValue(row.previous, format),
                });
              }
              const d = showPrevious ? deltaPct(row.value, row.previous) : null;
              return (
                <ChartTooltip
                  title={formatBucketLong(row.date, granularity)}
                  rows={showPrevious ? rows.map((r, i) => (i === 1 ? { ...r, dashed: true } : r)) : rows}
                  footer={[d !== null ? `${formatDeltaPct(d)} vs ${previousLabel.toLowerCase()}` : null, onPointSelect ? 'Click for the records behind this point' : null].filter(Boolean).join(' · ') || undefined}
                />
              );
            }}
          />
          {showPrevious && (
            <Line
              type="monotone"
              dataKey="previous"
              stroke={chartColors.neutral}
              strokeOpacity={0.7}
              strokeWidth={1.5}
              strokeDasharray="4 4"
              dot={single ? { r: 3, strokeWidth: 0, fill: chartColors.neutral } : false}
              activeDot={false}
              isAnimationActive={false}
              connectNulls
            />
          )}
          <Area
            type="monotone"
            dataKey="value"
            stroke={chartColors.primary}
            strokeWidth={2}
            fill={`url(#${gradientId})`}
            // One bucket (a dashboard set to Yesterday) has no line to draw: show its point.
            dot={single ? { r: 4, strokeWidth: 2, stroke: '#fff', fill: chartColors.primary } : false}
            activeDot={{ r: 4, strokeWidth: 2, stroke: '#fff', fill: chartColors.primary }}
            connectNulls
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
