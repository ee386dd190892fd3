import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { cx } from '../../lib/cx';
import { formatValue, type FormatOptions } from '../../lib/format';
import { ChartTooltip } from '../ChartTooltip/ChartTooltip';
import { EmptyState } from '../EmptyState/EmptyState';
import { categoricalColor, chartColors } from '../palette';
import { stackRows, type StackGroup } from './stack';

export interface StackedBarChartProps {
  /** One series per group (a breakdown's values), over the same buckets. */
  groups: StackGroup[];
  label: string;
  format: FormatOptions;
  /** The x-axis label of a bucket (`2026-11-01` → `Nov`). */
  tick: (bucket: string) => string;
  height?: number;
  className?: string;
}

/** MRR movements' colours: gains in greens, contraction amber, churn red. */
const MOVEMENT_COLORS: Record<string, string> = {
  new: '#1D9E75',
  expansion: '#6FCAA8',
  reactivation: '#0C6049',
  contraction: '#D97706',
  churned: chartColors.down,
};

/**
 * A breakdown stacked per bucket: positive values above the axis, negative below
 * (so MRR movements read as gains over losses), with the bucket's net in the tooltip.
 */
export function StackedBarChart({ groups, label, format, tick, height = 240, className }: StackedBarChartProps) {
  const { rows, keys, summary } = stackRows(groups, tick, (v) => formatValue(v, format));
  if (rows.length === 0 || keys.length === 0) {
    return (
      <div className={className} style={{ height }}>
        <EmptyState title="No data for this period" description="Nothing was recorded in this range yet." />
      </div>
    );
  }
  const color = (key: string, i: number) => MOVEMENT_COLORS[key] ?? categoricalColor(i);
  return (
    <div className={cx('w-full', className)} style={{ height }} role="img" aria-label={`${label}: ${summary}`}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} stackOffset="sign" margin={{ top: 8, right: 8, bottom: 0, left: 0 }} barCategoryGap="22%">
          <CartesianGrid vertical={false} stroke={chartColors.grid} strokeDasharray="3 3" />
          <XAxis dataKey="label" tickLine={false} axisLine={false} minTickGap={16} tick={{ fill: chartColors.axis, fontSize: 12 }} dy={4} />
          <YAxis
            tickFormatter={(v: number) => formatValue(v, { ...format, compact: true })}
            tickLine={false}
            axisLine={false}
            width={64}
            tick={{ fill: chartColors.axis, fontSize: 12 }}
          />
          <ReferenceLine y={0} stroke={chartColors.axis} />
          <Tooltip
            cursor={{ fill: chartColors.neutral, fillOpacity: 0.08 }}
            content={({ active, payload }) => {
              const row = payload?.[0]?.payload as (typeof rows)[number] | undefined;
              if (!active || !row) return null;
              const lines = keys
                .map((k, i) => ({ color: color(k.key, i), label: k.label, value: row.values[k.key] ?? 0 }))
                .filter((l) => l.value !== 0)
                .map((l) => ({ ...l, value: formatValue(l.value, format) }));
              return <ChartTooltip title={row.label} rows={lines} footer={`Net ${formatValue(row.net, format)}`} />;
            }}
          />
          <Legend
            itemSorter={null}
            iconType="square"
            iconSize={10}
            wrapperStyle={{ fontSize: 12 }}
            // The names in the text colour: a light series colour would be hard to read.
            formatter={(value: string) => <span style={{ color: chartColors.axis }}>{value}</span>}
          />
          {keys.map((k, i) => (
            <Bar key={k.key} dataKey={(r: (typeof rows)[number]) => r.values[k.key] ?? 0} name={k.label} stackId="stack" fill={color(k.key, i)} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
