import { useId } from 'react';
import type { Sentiment } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { cx } from '../../../../lib/cx';

/** The word for a 0–100 score. */
export function sentimentWord(score: number): string {
  if (score >= 80) return 'Very positive';
  if (score >= 60) return 'Positive';
  if (score >= 40) return 'Mixed';
  if (score >= 20) return 'Negative';
  return 'Very negative';
}

function tone(score: number): string {
  if (score >= 60) return 'text-green-700';
  if (score >= 40) return 'text-amber-700';
  return 'text-red-700';
}

/** A half-circle gauge of the 0–100 score, with each signal listed below it (and in
 * the gauge's tooltip) so the combined number can be checked. */
export function SentimentGauge({ sentiment, label }: { sentiment: Sentiment; label: string }) {
  const titleId = useId();
  const score = sentiment.score;
  if (score === null || score === undefined) {
    return <EmptyState title="No reviews or rated tickets in this period" />;
  }
  // The arc runs from 180° (0) to 0° (100) on a circle of radius 40 centred at (50, 50).
  const angle = Math.PI * (1 - score / 100);
  const x = 50 + 40 * Math.cos(angle);
  const y = 50 - 40 * Math.sin(angle);
  const breakdown = sentiment.parts.map((p) => `${p.label}: ${Math.round(p.score)}/100 (${p.count} rated)`).join('\n');
  return (
    <div className="flex h-full flex-col items-center justify-center gap-1">
      <svg viewBox="0 0 100 56" className="w-40 max-w-full" role="img" aria-labelledby={titleId}>
        <title id={titleId}>{`${label}: ${Math.round(score)} out of 100, ${sentimentWord(score).toLowerCase()}.\n${breakdown}`}</title>
        <path d="M10 50 A40 40 0 0 1 90 50" fill="none" stroke="#e5e7eb" strokeWidth="9" strokeLinecap="round" />
        <path d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} fill="none" stroke="currentColor" strokeWidth="9" strokeLinecap="round" className={tone(score)} />
      </svg>
      <p className={cx('-mt-6 text-2xl font-semibold tabular-nums', tone(score))}>{Math.round(score)}</p>
      <p className="text-xs text-gray-600">{sentimentWord(score)} · out of 100</p>
      <ul className="mt-1 w-full space-y-0.5 text-xs text-gray-600">
        {sentiment.parts.map((p) => (
          <li key={p.name} className="flex justify-between gap-2" title={`${p.count} rated; average ${p.average.toFixed(2)}`}>
            <span className="truncate">{p.label}</span>
            <span className="tabular-nums text-gray-900">{Math.round(p.score)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
