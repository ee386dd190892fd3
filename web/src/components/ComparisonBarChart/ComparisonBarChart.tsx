import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { cx } from '../../lib/cx';
import { deltaPct, formatDeltaPct, formatValue, wrapLabel, type FormatOptions } from '../../lib/format';
import { hasData, summariseComparison, type ComparisonRow } from '../../lib/series';
import { ChartTooltip } from '../ChartTooltip/ChartTooltip';
import { EmptyState } from '../EmptyState/EmptyState';
import { chartColors } from '../palette';

export interface ComparisonBarChartProps {
  data: ComparisonRow[];
  label: string;
  format: FormatOptions;
  height?: number;
  currentLabel?: string;
  previousLabel?: string;
  empty?: ReactNode;
  className?: string;
  /** Bars are categories (a breakdown), not times: every bar keeps its label, shortened to fit. */
  categorical?: boolean;
}

/** Seed 000's ComparisonBarChart: this period beside the previous one; hover shows both and the % change. */
export function ComparisonBarChart({
  data,
  label,
  format,
  height = 240,
  currentLabel = 'This period',
  previousLabel = 'Previous period',
  empty,
  className,
  categorical = false,
}: ComparisonBarChartProps) {
  const withPrevious = data.some((r) => r.previous !== undefined);
  // Category labels under narrow bars wrap onto two lines rather than all being cut.
  const perLine = Math.max(6, Math.floor(54 / Math.max(data.length, 1)));
  const twoLines = data.some((r) => wrapLabel(String(r.label), perLine).length > 1);
  if (!hasData(data.map((r) => ({ value: r.current })))) {
    return (
      <div className={className} style={{ height }}>
        {empty ?? <EmptyState title="No data for this period" description="Nothing was recorded in this range yet." />}
      </div>
    );
  }
  return (
    <div className={cx('w-full', className)} style={{ height }} role="img" aria-label={summariseComparison(label, data, format)}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} barGap={2} barCategoryGap="22%">
          <CartesianGrid vertical={false} stroke={chartColors.grid} strokeDasharray="3 3" />
          <XAxis
            dataKey="label"
            tickLine={false}
            axisLine={false}
            minTickGap={16}
            interval={categorical ? 0 : 'preserveEnd'}
            height={categorical && twoLines ? 40 : 30}
            tick={
              categorical
                ? ({ x, y, payload }: { x?: number | string; y?: number | string; payload?: { value?: unknown } }) => (
                    <text x={Number(x)} y={Number(y) + 4} textAnchor="middle" fill={chartColors.axis} fontSize={12}>
                      {wrapLabel(String(payload?.value ?? ''), perLine).map((line, i) => (
                        <tspan key={i} x={Number(x)} dy={i === 0 ? '0.71em' : '1.15em'}>
                          {line}
                        </tspan>
                      ))}
                    </text>
                  )
                : { fill: chartColors.axis, fontSize: 12 }
            }
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
            cursor={{ fill: chartColors.neutral, fillOpacity: 0.08 }}
            content={({ active, payload }) => {
              const row = payload?.[0]?.payload as ComparisonRow | undefined;
              if (!active || !row) return null;
              const rows: { color: string; label: string; value: string; dashed?: boolean }[] = [{ color: chartColors.primary, label: currentLabel, value: formatValue(row.current, format) }];
              if (withPrevious) rows.push({ color: chartColors.neutral, label: previousLabel, value: formatValue(row.previous, format) });
              const d = withPrevious ? deltaPct(row.current, row.previous) : null;
              return <ChartTooltip title={row.label} rows={rows} footer={d !== null ? `${formatDeltaPct(d)} change` : undefined} />;
            }}
          />
          {withPrevious && (
            <Bar dataKey="previous" name={previousLabel} fill={chartColors.neutral} fillOpacity={0.35} radius={[3, 3, 0, 0]} isAnimationActive={false} />
          )}
          <Bar dataKey="current" name={currentLabel} fill={chartColors.primary} radius={[3, 3, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
