/** One value of a breakdown with its series, as a query's `groups` return it. */
export interface StackGroup {
  key: string;
  label?: string | null;
  series: { bucket: string; value?: number | null }[];
}

/** The readable names of MRR movement kinds (the `movement` dimension). */
const MOVEMENT_NAMES: Record<string, string> = {
  new: 'New',
  expansion: 'Expansion',
  reactivation: 'Reactivation',
  contraction: 'Contraction',
  churned: 'Churned',
};
/** Gains first (stacked up from the axis), then losses (down from it). */
const MOVEMENT_ORDER = ['new', 'expansion', 'reactivation', 'contraction', 'churned'];

export interface StackRow {
  bucket: string;
  label: string;
  values: Record<string, number>;
  /** The bucket's sum over every group: for MRR movements, the change in MRR. */
  net: number;
}

/**
 * Rows per bucket with each group's value, the groups in stacking order (MRR
 * movements in their usual order, others as given), and a text summary for
 * screen readers.
 */
export function stackRows(groups: StackGroup[], tick: (bucket: string) => string, format: (v: number) => string) {
  const rank = (key: string) => {
    const i = MOVEMENT_ORDER.indexOf(key);
    return i === -1 ? MOVEMENT_ORDER.length : i;
  };
  const ordered = [...groups].sort((a, b) => rank(a.key) - rank(b.key));
  const keys = ordered.map((g) => ({ key: g.key, label: g.label ?? MOVEMENT_NAMES[g.key] ?? g.key }));
  const buckets = [...new Set(ordered.flatMap((g) => g.series.map((p) => p.bucket)))].sort();
  const rows: StackRow[] = buckets.map((bucket) => {
    const values: Record<string, number> = {};
    for (const g of ordered) values[g.key] = g.series.find((p) => p.bucket === bucket)?.value ?? 0;
    const net = Object.values(values).reduce((a, b) => a + b, 0);
    return { bucket, label: tick(bucket), values, net };
  });
  const summary = rows
    .slice(-6)
    .map((r) => `${r.label} net ${format(r.net)} (${keys.map((k) => `${k.label} ${format(r.values[k.key] ?? 0)}`).join(', ')})`)
    .join('; ');
  return { rows, keys, summary: summary || 'no data for this period.' };
}
