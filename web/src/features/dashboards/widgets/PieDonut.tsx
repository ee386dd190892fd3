import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import { ChartTooltip } from '../../../components/ChartTooltip/ChartTooltip';
import { categoricalColor } from '../../../components/palette';
import { formatValue, type FormatOptions } from '../../../lib/format';
import { groupTitle, type GroupRow } from '../../../lib/series';

/** Shares of a total, largest first, with a legend that carries the numbers. */
export function PieDonut({ rows, label, format, height }: { rows: GroupRow[]; label: string; format: FormatOptions; height: number }) {
  const sum = rows.reduce((s, r) => s + Math.max(r.total, 0), 0);
  const pct = (v: number) => (sum > 0 ? `${((v / sum) * 100).toFixed(1)}%` : '—');
  const summary = `${label}: ${rows.map((r) => `${r.name} ${formatValue(r.total, format)} (${pct(r.total)})`).join(', ')}.`;
  return (
    <div className="flex w-full items-center gap-4" style={{ height }}>
      <div className="h-full w-1/2 min-w-32" role="img" aria-label={summary}>
        <ResponsiveContainer width="100%" height="100%">
          <PieChart>
            <Pie data={rows} dataKey="total" nameKey="name" innerRadius="58%" outerRadius="88%" paddingAngle={1} stroke="#fff" isAnimationActive={false}>
              {rows.map((r, i) => (
                <Cell key={r.key} fill={categoricalColor(i)} />
              ))}
            </Pie>
            <Tooltip
              content={({ active, payload }) => {
                const row = payload?.[0]?.payload as GroupRow | undefined;
                if (!active || !row) return null;
                return <ChartTooltip title={row.name} rows={[{ color: categoricalColor(rows.indexOf(row)), label: pct(row.total), value: formatValue(row.total, format) }]} />;
              }}
            />
          </PieChart>
        </ResponsiveContainer>
      </div>
      <ul className="w-1/2 space-y-1.5 text-sm">
        {rows.map((r, i) => (
          <li key={r.key} className="flex items-center gap-2">
            <span className="size-2.5 shrink-0 rounded-sm" style={{ background: categoricalColor(i) }} aria-hidden="true" />
            <span className="min-w-0 flex-1 truncate text-gray-700" title={groupTitle(r)}>
              {r.name}
            </span>
            <span className="tabular-nums text-gray-500">{pct(r.total)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
