import type { ExperimentView } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { Badge } from '../../../../components/ui/Card';
import { formatValue, rangeDays } from './experimentFormat';

const STATUS_TONE = { running: 'green', paused: 'amber', ended: 'gray', draft: 'gray' } as const;

/** One experiment: its variants with visitors, conversion, revenue per visitor and
 * (for treatments) the lift and the chance of beating the control, in plain words. */
function Experiment({ e }: { e: ExperimentView }) {
  const tone = STATUS_TONE[e.status as keyof typeof STATUS_TONE] ?? 'gray';
  return (
    <section className="rounded-md border border-gray-100 p-3" aria-label={e.name}>
      <div className="flex flex-wrap items-center gap-2">
        <h4 className="truncate text-sm font-medium text-gray-900">{e.name}</h4>
        <Badge tone={tone}>{e.status.charAt(0).toUpperCase() + e.status.slice(1)}</Badge>
        <span className="text-xs text-gray-500">{rangeDays(e.started_at, e.ended_at)}</span>
      </div>
      <table className="mt-2 w-full text-left text-xs">
        <thead className="text-gray-500">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">Variant</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Visitors</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Conversion</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Revenue / visitor</th>
          </tr>
        </thead>
        <tbody className="tabular-nums text-gray-800">
          {e.variants.map((v) => (
            <tr key={v.id} className="border-t border-gray-100">
              <th scope="row" className="py-1 pr-2 font-normal">
                {v.name}
                {v.is_control && <span className="ml-1 text-gray-500">(control)</span>}
              </th>
              <td className="py-1 pr-2 text-right">{v.visitors.toLocaleString()}</td>
              <td className="py-1 pr-2 text-right">{v.visitors > 0 ? `${((v.orders / v.visitors) * 100).toFixed(2)} %` : '—'}</td>
              <td className="py-1 pr-2 text-right">{v.visitors > 0 ? formatValue(Math.round(v.revenue_minor / v.visitors), e.currency) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ExperimentCards({ experiments, label }: { experiments: ExperimentView[]; label: string }) {
  if (experiments.length === 0) {
    return <EmptyState title="No running experiments" description="Experiments appear here when they start." />;
  }
  return (
    <div className="h-full space-y-3 overflow-y-auto pr-1" role="group" aria-label={label}>
      {experiments.map((e) => (
        <Experiment key={`${e.provider}/${e.id}`} e={e} />
      ))}
    </div>
  );
}
