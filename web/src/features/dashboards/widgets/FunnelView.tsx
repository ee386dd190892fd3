import type { QueryResult } from '../../../api/types';
import { formatValue } from '../../../lib/format';
import { formatOf } from '../../../lib/series';
import { funnelSteps } from './funnel';

/** Funnel steps as bars relative to the first step, each with its conversion from the
 * previous and the first step and the drop-off since the previous one. */
export function FunnelView({ steps, label, height }: { steps: QueryResult[]; label: string; height: number }) {
  const rows = funnelSteps(steps.map((s) => s.total)).map((row, i) => ({ ...row, step: steps[i] as QueryResult }));
  const pct = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)}%`);
  const summary = `${label}: ${rows
    .map(({ step: s, fromPrevious }, i) => {
      const count = formatValue(s.total, formatOf(s));
      return i === 0 ? `${s.name} ${count}` : `${s.name} ${count} (${pct(fromPrevious)} of the step before)`;
    })
    .join(', then ')}.`;
  return (
    // A picture summarised by its label (role="img"), so its rows are plain boxes, not list items.
    <div className="flex flex-col justify-center gap-2.5" style={{ height }} role="img" aria-label={summary}>
      {rows.map((r, i) => {
        const s = r.step;
        return (
          <div key={`${s.metric}-${i}`} data-funnel-step={i + 1}>
            <div className="flex items-baseline justify-between gap-3 text-sm">
              <span className="min-w-0 truncate text-gray-700">
                <span className="mr-1.5 text-xs text-gray-500">{i + 1}</span>
                {s.name}
              </span>
              <span className="shrink-0 font-medium tabular-nums text-gray-900">{formatValue(s.total, formatOf(s))}</span>
            </div>
            <div className="mt-1 h-3 rounded bg-gray-100">
              <div className="h-3 rounded bg-brand-500" style={{ width: `${r.width}%`, opacity: 1 - i * 0.12 }} />
            </div>
            {i > 0 && (
              <div className="mt-0.5 flex justify-between text-xs tabular-nums text-gray-500">
                <span>
                  {pct(r.fromPrevious)} of step {i}
                  {i > 1 && ` · ${pct(r.fromFirst)} of step 1`}
                </span>
                {r.dropped !== null && r.dropped > 0 && <span>−{formatValue(r.dropped, formatOf(s))} dropped</span>}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
