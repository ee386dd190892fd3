// The drift check's warning text (crates/server/src/sync/drift.rs): yesterday's
// number by Pulseboard against the provider's own summary, and the records that
// explain the difference. Pure; see drift.test.ts.

import type { DriftCheck } from '../api/types';
import { formatValue } from './format';

const METRIC_NAMES: Record<string, string> = { gross_revenue: 'gross revenue', refunds: 'refunds' };
const SUMMARY: Record<string, string> = { stripe: "Stripe's balance" };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "1 charge missing (ch_1), 1 charge different (ch_2)". */
export function driftRecordsText(check: Pick<DriftCheck, 'records' | 'records_left_out'>): string {
  const groups = new Map<string, { kind: string; how: string; ids: string[] }>();
  for (const r of check.records) {
    const slash = r.record.indexOf('/');
    const kind = slash > 0 ? r.record.slice(0, slash) : 'record';
    const id = r.record.slice(slash + 1);
    const how = r.pulseboard == null ? 'missing' : r.source == null ? 'not in the provider' : 'different';
    const key = `${kind}|${how}`;
    const group = groups.get(key) ?? { kind, how, ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  const parts = [...groups.values()].map(({ kind, how, ids }) => {
    const shown = ids.slice(0, 3).join(', ') + (ids.length > 3 ? ', …' : '');
    return `${plural(ids.length, kind)} ${how} (${shown})`;
  });
  if (check.records_left_out > 0) parts.push(`${check.records_left_out} more`);
  return parts.join(', ');
}

/** "Yesterday Pulseboard's gross revenue was $X; Stripe's balance says $Y: 1 charge missing (ch_…)". */
export function driftWarningText(check: DriftCheck, provider: string, providerName: string, currency: string): string {
  const money = (v: number) => formatValue(v, { format: 'currency', currency });
  const metric = METRIC_NAMES[check.metric] ?? check.metric.replace(/_/g, ' ');
  const summary = SUMMARY[provider] ?? providerName;
  const records = driftRecordsText(check);
  return `On ${check.day} Pulseboard's ${metric} was ${money(check.pulseboard_value)}; ${summary} says ${money(check.source_value)}${records ? `: ${records}` : ''}.`;
}
