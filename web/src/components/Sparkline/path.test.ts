import { describe, expect, it } from 'vitest';
import { sparklinePath } from './path';

/** The (x, y) pairs of a path made of M/L commands. */
const points = (d: string) => [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('sparklinePath', () => {
  it('spans the width and puts the highest value at the top, the lowest at the bottom', () => {
    const p = points(sparklinePath([5, 10, 0], 100, 30, 2)!);
    expect(p.map(([x]) => x)).toEqual([0, 50, 100]);
    const [first, high, low] = p.map(([, y]) => y);
    expect(high).toBe(2);
    expect(low).toBe(28);
    expect(first).toBe(15);
  });

  it('bridges gaps but keeps each point at its own position in time', () => {
    const p = points(sparklinePath([1, null, 3, null, 2], 100, 30, 0)!);
    expect(p.map(([x]) => x)).toEqual([0, 50, 100]);
  });

  it('draws a flat series as a level line through the middle', () => {
    const p = points(sparklinePath([7, 7, 7], 60, 20, 2)!);
    expect(p.every(([, y]) => y === 10)).toBe(true);
  });

  it('draws nothing with fewer than two known values', () => {
    expect(sparklinePath([], 100, 30, 2)).toBeNull();
    expect(sparklinePath([null, 4, null], 100, 30, 2)).toBeNull();
  });
});
