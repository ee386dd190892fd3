import { describe, expect, it } from 'vitest';
import type { DriftCheck } from '../api/types';
import { driftRecordsText, driftWarningText } from './drift';

const check = (over: Partial<DriftCheck>): DriftCheck => ({
  day: '2026-12-03',
  metric: 'gross_revenue',
  source_value: 125000,
  pulseboard_value: 120100,
  difference: -4900,
  warning: true,
  records: [{ record: 'charge/ch_1', source: 4900, pulseboard: null }],
  records_left_out: 0,
  checked_at: '2026-12-04T10:00:00Z',
  ...over,
});

describe('drift warning', () => {
  it("names the day, both numbers and the missing charge", () => {
    expect(driftWarningText(check({}), 'stripe', 'Stripe', 'USD')).toBe(
      "On 2026-12-03 Pulseboard's gross revenue was $1,201.00; Stripe's balance says $1,250.00: 1 charge missing (ch_1).",
    );
  });

  it('groups records by kind and how they differ', () => {
    const records = [
      { record: 'charge/ch_1', source: 100, pulseboard: null },
      { record: 'charge/ch_2', source: 100, pulseboard: null },
      { record: 'refund/re_1', source: 50, pulseboard: 70 },
    ];
    expect(driftRecordsText({ records, records_left_out: 2 })).toBe(
      '2 charges missing (ch_1, ch_2), 1 refund different (re_1), 2 more',
    );
  });
});
