import { describe, expect, it } from 'vitest';
import { funnelSteps, type FunnelRow } from './funnel';

describe('funnel steps', () => {
  it('gives each step its conversion from the previous and the first step, and the drop-off', () => {
    const [sessions, carts, checkouts, orders] = funnelSteps([2000, 300, 120, 60]) as [FunnelRow, FunnelRow, FunnelRow, FunnelRow];
    expect(sessions).toEqual({ width: 100, fromPrevious: null, fromFirst: null, dropped: null });
    expect(carts.fromPrevious).toBeCloseTo(15);
    expect(carts.dropped).toBe(1700);
    expect(checkouts.fromPrevious).toBeCloseTo(40);
    expect(checkouts.fromFirst).toBeCloseTo(6);
    expect(orders.fromPrevious).toBeCloseTo(50);
    expect(orders.fromFirst).toBeCloseTo(3);
    expect(orders.dropped).toBe(60);
    // A small step keeps a visible sliver of bar.
    expect(orders.width).toBe(3);
    expect(funnelSteps([10_000, 1])[1]?.width).toBe(2);
  });
  it('has no conversion over an empty or missing step', () => {
    const [, second, third] = funnelSteps([0, 5, null]) as [FunnelRow, FunnelRow, FunnelRow];
    expect(second.fromPrevious).toBeNull();
    expect(second.fromFirst).toBeNull();
    expect(second.width).toBe(0);
    expect(third.fromPrevious).toBeNull();
    expect(third.dropped).toBeNull();
  });
});
