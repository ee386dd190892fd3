import { describe, expect, it } from 'vitest';
import { inlineSparklines, sparklineDataUri } from './digestPreview';

const mover = (series: (number | null)[], good: boolean) => ({ metric: 'm', name: 'n', store: 's', unit: 'count', good, series });

describe('inlineSparklines', () => {
  it('draws the N-th mover (wins, then losses, then everything) where the mail has cid:spark-N', () => {
    const html = '<img src="cid:spark-1" alt="a"><img src="cid:spark-2" alt="b"><img src=\'cid:spark-3\'>';
    const out = inlineSparklines({ html, wins: [mover([1, 2, 3], true)], losses: [mover([3, 2, 1], false)], everything: [mover([1, null, 1], true)] });
    expect(out).not.toContain('cid:');
    const srcs = [...out.matchAll(/src=["']([^"']+)["']/g)].map((m) => decodeURIComponent(m[1] ?? ''));
    expect(srcs).toHaveLength(3);
    expect(srcs[0]).toContain('#1D9E75');
    expect(srcs[1]).toContain('#DC2626');
    expect(out).toContain('alt="a"');
  });
  it('leaves an empty picture when the mail names more sparklines than the digest lists', () => {
    const out = inlineSparklines({ html: '<img src="cid:spark-4">', wins: [], losses: [], everything: [] });
    expect(out).toBe(`<img src="${sparklineDataUri([], true)}">`);
  });
  it('draws nothing for a series with fewer than two values', () => {
    expect(decodeURIComponent(sparklineDataUri([null, 5], true))).not.toContain('<path');
  });
});
