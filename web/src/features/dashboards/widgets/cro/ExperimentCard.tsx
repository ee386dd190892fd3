import type { ExperimentView } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { Badge } from '../../../../components/ui/Card';
import { formatValue, rangeDays } from './experimentFormat';

const STATUS_TONE = { running: 'green', paused: 'amber', ended: 'gray', draft: 'gray' } as const;

type Arm = NonNullable<ExperimentView['control']>;
type Comparison = ExperimentView['treatments'][number];

function pct(rate: number | null | undefined, digits = 2): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(digits)} %`;
}

function lift(value: number | null | undefined): { text: string; tone: string } {
  if (value === null || value === undefined) return { text: '—', tone: 'text-gray-500' };
  const text = `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} %`;
  return { text, tone: value > 0 ? 'text-green-700' : value < 0 ? 'text-red-700' : 'text-gray-700' };
}

/** How sure the numbers are that a treatment wins: ≥ 95 % or ≤ 5 % is a result. */
export function verdict(p: number | null | undefined): { label: string; tone: 'green' | 'red' | 'gray' } {
  if (p === null || p === undefined) return { label: 'Not enough data', tone: 'gray' };
  if (p >= 0.95) return { label: 'Likely winner', tone: 'green' };
  if (p <= 0.05) return { label: 'Likely loser', tone: 'red' };
  return { label: 'Too early to call', tone: 'gray' };
}

function ArmRow({ arm, comparison, currency }: { arm: Arm; comparison?: Comparison; currency: string }) {
  const conversion = lift(comparison?.conversion_lift);
  const p = comparison?.probability_to_beat_control;
  return (
    <tr className="border-t border-gray-100">
      <th scope="row" className="py-1 pr-2 font-normal">
        {arm.name}
        {arm.is_control && !/control/i.test(arm.name) && <span className="ml-1 text-gray-500">(control)</span>}
      </th>
      <td className="py-1 pr-2 text-right">{arm.visitors.toLocaleString()}</td>
      <td className="py-1 pr-2 text-right">{pct(arm.conversion_rate)}</td>
      <td className="py-1 pr-2 text-right">{arm.revenue_per_visitor_minor === null || arm.revenue_per_visitor_minor === undefined ? '—' : formatValue(Math.round(arm.revenue_per_visitor_minor), currency)}</td>
      <td className={`py-1 pr-2 text-right ${conversion.tone}`}>{arm.is_control ? '' : conversion.text}</td>
      <td className="py-1 text-right" title={comparison?.method === 'normal_approximation' ? 'Normal approximation of the two Beta posteriors (very large counts)' : 'Exact Bayesian calculation (Beta posteriors, uniform prior)'}>
        {arm.is_control ? '' : pct(p, 0)}
      </td>
    </tr>
  );
}

/** One experiment: its variants with visitors, conversion, revenue per visitor and,
 * for each treatment, the lift over the control and its chance of beating it, said
 * in plain words under the table. */
function Experiment({ e }: { e: ExperimentView }) {
  const tone = STATUS_TONE[e.status as keyof typeof STATUS_TONE] ?? 'gray';
  const best = [...e.treatments].sort((a, b) => (b.probability_to_beat_control ?? -1) - (a.probability_to_beat_control ?? -1))[0];
  const call = verdict(best?.probability_to_beat_control);
  return (
    <section className="rounded-md border border-gray-100 p-3" aria-label={e.name}>
      <div className="flex flex-wrap items-center gap-2">
        <h4 className="truncate text-sm font-medium text-gray-900">{e.name}</h4>
        <Badge tone={tone}>{e.status.charAt(0).toUpperCase() + e.status.slice(1)}</Badge>
        {best && <Badge tone={call.tone}>{call.label}</Badge>}
        <span className="text-xs text-gray-500">{rangeDays(e.started_at, e.ended_at)}</span>
      </div>
      <table className="mt-2 w-full text-left text-xs">
        <thead className="text-gray-500">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">Variant</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Visitors</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Conversion</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Rev. / visitor</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Lift</th>
            <th scope="col" className="py-1 text-right font-medium">Chance to win</th>
          </tr>
        </thead>
        <tbody className="tabular-nums text-gray-800">
          {e.control && <ArmRow arm={e.control} currency={e.currency} />}
          {e.treatments.map((t) => (
            <ArmRow key={t.treatment.variant_id} arm={t.treatment} comparison={t} currency={e.currency} />
          ))}
        </tbody>
      </table>
      {e.treatments.some((t) => t.sentence) && (
        <ul className="mt-2 space-y-0.5 text-xs text-gray-600">
          {e.treatments.map((t) => t.sentence && <li key={t.treatment.variant_id}>{t.sentence}.</li>)}
        </ul>
      )}
    </section>
  );
}

export function ExperimentCards({ experiments, label }: { experiments: ExperimentView[]; label: string }) {
  if (experiments.length === 0) {
    return <EmptyState title="No running experiments" description="Experiments appear here when they start." />;
  }
  return (
    <div className="h-full space-y-3 overflow-y-auto pr-1" role="group" aria-label={label} tabIndex={0}>
      {experiments.map((e) => (
        <Experiment key={`${e.provider}/${e.id}`} e={e} />
      ))}
    </div>
  );
}
