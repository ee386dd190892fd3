import type { QueryResult } from '../../../api/types';
import { formatValue } from '../../../lib/format';
import { formatOf } from '../../../lib/series';

/** Funnel steps as bars relative to the first step, with step-to-step conversion. */
export function FunnelView({ steps, label, height }: { steps: QueryResult[]; label: string; height: number }) {
  const first = steps[0]?.total ?? 0;
  const summary = `${label}: ${steps.map((s) => `${s.name} ${formatValue(s.total, formatOf(s))}`).join(', then ')}.`;
  return (
    <ol className="flex flex-col justify-center gap-3" style={{ height }} role="img" aria-label={summary}>
      {steps.map((s, i) => {
        const total = s.total ?? 0;
        const width = first > 0 ? Math.max(2, Math.min(100, (total / first) * 100)) : 0;
        const prev = i > 0 ? steps[i - 1]?.total ?? null : null;
        const conv = prev && prev > 0 ? (total / prev) * 100 : null;
        return (
          <li key={`${s.metric}-${i}`}>
            <div className="flex items-baseline justify-between text-sm">
              <span className="text-gray-700">
                <span className="mr-1.5 text-xs text-gray-500">{i + 1}</span>
                {s.name}
              </span>
              <span className="font-medium tabular-nums text-gray-900">
                {formatValue(s.total, formatOf(s))}
                {conv !== null && <span className="ml-2 text-xs font-normal text-gray-500">{conv.toFixed(1)}% of step {i}</span>}
              </span>
            </div>
            <div className="mt-1 h-3 rounded bg-gray-100">
              <div className="h-3 rounded bg-brand-500" style={{ width: `${width}%`, opacity: 1 - i * 0.12 }} />
            </div>
          </li>
        );
      })}
    </ol>
  );
}
