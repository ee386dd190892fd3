import { describe, expect, it } from 'vitest';
import {
  callBudgetText,
  wrapLabel,
  deltaPct,
  nextRunText,
  formatBucketLong,
  formatDeltaPct,
  shortLabel,
  formatDuration,
  formatForUnit,
  formatTick,
  formatValue,
  minorDigits,
  relativeTime,
  spanDays,
  trendOf,
} from './format';

describe('formatValue', () => {
  it('formats minor units with the currency of the answer', () => {
    expect(formatValue(22173254, { format: 'currency', currency: 'USD' })).toBe('$221,732.54');
    expect(formatValue(123456, { format: 'currency', currency: 'EUR' })).toBe('€1,234.56');
    expect(formatValue(5000, { format: 'currency', currency: 'JPY' })).toBe('¥5,000');
  });
  it('knows how many minor digits a currency has', () => {
    expect(minorDigits('USD')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
  });
  it('abbreviates for axes', () => {
    expect(formatValue(22173254, { format: 'currency', currency: 'USD', compact: true })).toBe('$221.7K');
    expect(formatValue(1_530_000, { format: 'number', compact: true })).toBe('1.5M');
  });
  it('formats counts and percentages (0–100)', () => {
    expect(formatValue(1753, { format: 'number' })).toBe('1,753');
    expect(formatValue(2.456, { format: 'number' })).toBe('2.46');
    expect(formatValue(12.5, { format: 'percent' })).toBe('12.5%');
  });
  it('formats rates in basis points with two decimals', () => {
    expect(formatValue(235, { format: 'basis_points' })).toBe('2.35%');
    expect(formatValue(10_000, { format: 'basis_points' })).toBe('100%');
    expect(formatValue(7, { format: 'basis_points' })).toBe('0.07%');
  });
  it('shows a dash for missing values', () => {
    expect(formatValue(null, { format: 'number' })).toBe('—');
    expect(formatValue(Number.NaN, { format: 'currency', currency: 'USD' })).toBe('—');
  });
  it('maps API units to formats', () => {
    expect(formatForUnit('currency_minor')).toBe('currency');
    expect(formatForUnit('percent')).toBe('percent');
    expect(formatForUnit('basis_points')).toBe('basis_points');
    expect(formatForUnit('count')).toBe('number');
  });
});

describe('deltas', () => {
  it('computes the change against the previous period', () => {
    expect(deltaPct(110, 100)).toBeCloseTo(10);
    expect(deltaPct(90, 100)).toBeCloseTo(-10);
    expect(deltaPct(5, 0)).toBeNull();
    expect(deltaPct(0, 0)).toBe(0);
    expect(deltaPct(5, null)).toBeNull();
  });
  it('signs the formatted change', () => {
    expect(formatDeltaPct(6)).toBe('+6.0%');
    expect(formatDeltaPct(-2.34)).toBe('−2.3%');
    expect(formatDeltaPct(0.01)).toBe('0.0%');
    expect(formatDeltaPct(null)).toBe('—');
  });
  it('calls tiny changes flat', () => {
    expect(trendOf(0.01)).toBe('flat');
    expect(trendOf(1)).toBe('up');
    expect(trendOf(-1)).toBe('down');
  });
});

describe('dates', () => {
  it('uses MMM D up to 90 days and YYYY-MM beyond', () => {
    const ninety = ['2026-08-23', '2026-11-21'];
    expect(spanDays(ninety)).toBe(90);
    expect(formatTick('2026-11-01', spanDays(ninety))).toBe('Nov 1');
    const year = ['2025-11-22', '2026-11-01'];
    expect(formatTick('2026-11-01', spanDays(year))).toBe('2026-11');
  });
  it('does not shift dates by the browser time zone', () => {
    expect(formatTick('2026-01-01', 30)).toBe('Jan 1');
    expect(formatBucketLong('2026-01-01')).toBe('Thu, Jan 1, 2026');
    expect(formatBucketLong('2026-01-01', 'month')).toBe('January 2026');
    expect(formatBucketLong('2026-11-16', 'week')).toBe('Week of Nov 16, 2026');
  });
  it('says how long ago', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(relativeTime('2026-11-22T11:52:00Z', now)).toBe('8 minutes ago');
    expect(relativeTime('2026-11-22T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2026-11-22T09:00:00Z', now)).toBe('3 hours ago');
    expect(relativeTime(null, now)).toBe('never');
  });
  it('formats durations', () => {
    expect(formatDuration(0.42)).toBe('0.4 s');
    expect(formatDuration(185)).toBe('3 min 5 s');
  });
});

describe('shortLabel', () => {
  it('keeps short labels and cuts long ones to the limit with an ellipsis', () => {
    expect(shortLabel('web', 9)).toBe('web');
    expect(shortLabel('shopify_draft_order', 9)).toBe('shopify_…');
    expect(shortLabel('shopify_draft_order', 9)).toHaveLength(9);
    expect(shortLabel('Everyday Throw Blanket', 10)).toBe('Everyday…');
  });
});

describe('next run', () => {
  it('gives the time alone on the same day, and the date otherwise', () => {
    const now = new Date(2026, 11, 4, 10, 0);
    expect(nextRunText(new Date(2026, 11, 4, 23, 5).toISOString(), now)).toMatch(/^at .*05/);
    expect(nextRunText(new Date(2026, 11, 5, 0, 5).toISOString(), now)).toMatch(/^on .*5 at .*05/);
  });
});

describe('callBudgetText', () => {
  it('says how many calls are left, or when the next one is possible', () => {
    const now = new Date(2026, 11, 4, 22, 0);
    const resets = new Date(2026, 11, 5, 0, 0).toISOString();
    expect(callBudgetText({ limit: 10, remaining: 8, unit: 'export calls', resets_at: resets }, now)).toBe('8 of 10 export calls left today');
    expect(callBudgetText({ limit: 10, remaining: 0, unit: 'export calls', resets_at: resets }, now)).toMatch(/^No export calls left today; next call on Dec 5 at /);
  });
});

describe('wrapLabel', () => {
  it('breaks labels at spaces into two lines, cutting only what cannot fit', () => {
    expect(wrapLabel('Organic Search', 9)).toEqual(['Organic', 'Search']);
    expect(wrapLabel('Organic Social', 9)).toEqual(['Organic', 'Social']);
    expect(wrapLabel('Direct', 9)).toEqual(['Direct']);
    expect(wrapLabel('Paid Search', 9)).toEqual(['Paid', 'Search']);
    expect(wrapLabel('Cross-network traffic', 9)).toEqual(['Cross-ne…', 'traffic']);
    expect(wrapLabel('one two three four', 9)).toEqual(['one two', 'three fo…']);
  });
});
