import { formatValue as formatMetric } from '../../../../lib/format';

/** Money in minor units of `currency`. */
export function formatValue(minor: number, currency: string): string {
  return formatMetric(minor, { format: 'currency', currency });
}

/** "Day 12" for a running experiment, "14 days" for an ended one, "" before it starts. */
export function rangeDays(startedAt: string | null | undefined, endedAt: string | null | undefined, now: Date = new Date()): string {
  if (!startedAt) return '';
  const end = endedAt ? new Date(endedAt) : now;
  const days = Math.max(1, Math.ceil((end.getTime() - new Date(startedAt).getTime()) / 86_400_000));
  return endedAt ? `${days} day${days === 1 ? '' : 's'}` : `Day ${days}`;
}
