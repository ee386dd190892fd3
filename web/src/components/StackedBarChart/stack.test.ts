import { describe, expect, it } from 'vitest';
import { stackRows } from './stack';

describe('stackRows', () => {
  const groups = [
    { key: 'churned', series: [{ bucket: '2026-10-01', value: -300 }, { bucket: '2026-11-01', value: -100 }] },
    { key: 'new', series: [{ bucket: '2026-10-01', value: 1000 }, { bucket: '2026-11-01', value: null }] },
    { key: 'expansion', label: null, series: [{ bucket: '2026-11-01', value: 250 }] },
  ];

  it('puts gains before losses and names the movements', () => {
    const { keys } = stackRows(groups, (b) => b, String);
    expect(keys.map((k) => k.label)).toEqual(['New', 'Expansion', 'Churned']);
  });

  it('gives each bucket every group, missing ones as zero, and its net change', () => {
    const { rows } = stackRows(groups, (b) => b.slice(0, 7), String);
    expect(rows.map((r) => r.label)).toEqual(['2026-10', '2026-11']);
    expect(rows[0]?.values).toEqual({ new: 1000, expansion: 0, churned: -300 });
    expect(rows.map((r) => r.net)).toEqual([700, 150]);
  });

  it('keeps the order and names of a breakdown that is not MRR movements', () => {
    const { keys, summary } = stackRows([{ key: 'b', label: 'Beta', series: [] }, { key: 'a', series: [] }], (b) => b, String);
    expect(keys).toEqual([{ key: 'b', label: 'Beta' }, { key: 'a', label: 'a' }]);
    expect(summary).toBe('no data for this period.');
  });
});
