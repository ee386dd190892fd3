/** One funnel step as drawn: its bar width relative to the first step (0–100), its
 * conversion from the previous and from the first step in percent, and how many
 * dropped since the previous step. Missing or zero bases give `null`. */
export interface FunnelRow {
  width: number;
  fromPrevious: number | null;
  fromFirst: number | null;
  dropped: number | null;
}

export function funnelSteps(totals: (number | null | undefined)[]): FunnelRow[] {
  const first = totals[0] ?? null;
  return totals.map((raw, i) => {
    const total = raw ?? null;
    const prev = i > 0 ? totals[i - 1] ?? null : null;
    const share = (base: number | null) => (total !== null && base !== null && base > 0 ? (total / base) * 100 : null);
    const fromFirst = share(first);
    return {
      width: fromFirst === null ? 0 : Math.max(2, Math.min(100, fromFirst)),
      fromPrevious: i === 0 ? null : share(prev),
      fromFirst: i === 0 ? null : fromFirst,
      dropped: i === 0 || total === null || prev === null ? null : prev - total,
    };
  });
}
