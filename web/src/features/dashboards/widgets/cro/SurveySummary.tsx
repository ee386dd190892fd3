import type { QueryResult } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { Sparkline } from '../../../../components/Sparkline/Sparkline';

/** The answers of a survey question: each with its share of the responses and its
 * trend over the window (a sparkline of its responses per bucket). */
export function SurveySummary({ result, label }: { result: QueryResult; label: string }) {
  const total = result.total ?? 0;
  const answers = result.groups.slice(0, 6);
  if (total === 0 || answers.length === 0) {
    return <EmptyState title="No survey responses in this period" />;
  }
  return (
    <div className="flex h-full flex-col">
      <p className="text-xs text-gray-500">{total.toLocaleString()} responses</p>
      <ul className="mt-2 flex-1 space-y-2 overflow-y-auto pr-1" aria-label={label} tabIndex={0}>
        {answers.map((g) => {
          const share = ((g.total ?? 0) / total) * 100;
          const name = g.label ?? g.key;
          return (
            <li key={g.key}>
              <div className="flex items-baseline justify-between gap-2 text-sm">
                <span className="truncate text-gray-800">{name}</span>
                <span className="flex items-center gap-2">
                  <span className="h-4 w-14" title={`${name}: responses per ${result.granularity}`}>
                    <Sparkline values={g.series.map((p) => p.value ?? null)} color="#4f46e5" />
                  </span>
                  <span className="w-12 text-right font-medium tabular-nums text-gray-900">{share.toFixed(share < 10 ? 1 : 0)} %</span>
                </span>
              </div>
              <div className="mt-1 h-1.5 rounded-full bg-gray-100" aria-hidden="true">
                <div className="h-1.5 rounded-full bg-brand-600" style={{ width: `${share}%` }} />
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
