import { describe, expect, it } from 'vitest';
import type { Alert, Widget, WidgetData } from '../../api/types';
import { changeKind, blankForm, formFromAlert, formFromWidget, isProblem, toRequest } from './alertForm';
import {
  describeAlert,
  fitPeriod,
  nextDigestAt,
  niceThreshold,
  parseEmails,
  parseTyped,
  statusBadge,
  thresholdFromApi,
  thresholdToApi,
  thresholdUnit,
  validPeriods,
} from './alerts';

const rule = (over: Partial<Alert>) => ({ kind: 'below' as const, period: 'yesterday' as const, threshold: 100000, compare_days: 7, ...over });

describe('describeAlert', () => {
  const money = { metricName: 'Gross revenue', unit: 'currency_minor', currency: 'USD' };
  it('says an absolute rule with the threshold in the metric’s money', () => {
    expect(describeAlert(rule({}), money)).toBe('Gross revenue yesterday below $1,000.00');
    expect(describeAlert(rule({ kind: 'above', period: 'last_7_days', threshold: 250000 }), money)).toBe('Gross revenue over the last 7 days above $2,500.00');
  });
  it('formats counts, percent and basis-point thresholds in their units', () => {
    expect(describeAlert(rule({ kind: 'above', period: 'today', threshold: 1200 }), { metricName: 'Orders', unit: 'count' })).toBe('Orders today so far above 1,200');
    expect(describeAlert(rule({ threshold: 250 }), { metricName: 'Conversion rate', unit: 'basis_points' })).toBe('Conversion rate yesterday below 2.5%');
    expect(describeAlert(rule({ threshold: 40 }), { metricName: 'Bounce rate', unit: 'percent' })).toBe('Bounce rate yesterday below 40%');
  });
  it('says a change rule with its percentage and comparison', () => {
    expect(describeAlert(rule({ kind: 'pct_change_below', threshold: 20 }), money)).toBe('Gross revenue yesterday down more than 20% on a week earlier');
    expect(describeAlert(rule({ kind: 'pct_change_above', threshold: 12.5, compare_days: 1 }), money)).toBe('Gross revenue yesterday up more than 12.5% on the day before');
    expect(describeAlert(rule({ kind: 'pct_change_below', period: 'last_30_days', threshold: 10, compare_days: 30 }), money)).toBe(
      'Gross revenue over the last 30 days down more than 10% on 30 days earlier',
    );
  });
  it('names the weekday a pace rule compares with, and flips for bad-news metrics', () => {
    const tuesday = new Date('2026-12-01T15:00:00Z');
    expect(describeAlert(rule({ kind: 'pace', period: 'today', threshold: 30 }), { metricName: 'Net revenue', unit: 'currency_minor', now: tuesday })).toBe(
      'Net revenue today more than 30% behind last Tuesday’s pace',
    );
    expect(describeAlert(rule({ kind: 'pace', period: 'today', threshold: 50 }), { metricName: 'Refunds', unit: 'count', riseIsBad: true, now: tuesday })).toBe(
      'Refunds today more than 50% ahead of last Tuesday’s pace',
    );
  });
  it('names the filters a rule carries from its widget', () => {
    expect(describeAlert({ ...rule({}), filters: [{ dimension: 'billing_country', in: ['US', 'CA'] }] }, money)).toBe(
      'Gross revenue (billing country: US or CA) yesterday below $1,000.00',
    );
  });
  it('says an anomaly rule without numbers unless its sensitivity is unusual', () => {
    expect(describeAlert(rule({ kind: 'anomaly', threshold: 3 }), { metricName: 'Orders', unit: 'count' })).toBe('Orders yesterday outside the usual range');
    expect(describeAlert(rule({ kind: 'anomaly', threshold: 4.5 }), { metricName: 'Orders', unit: 'count' })).toBe('Orders yesterday outside the usual range (sensitivity 4.5)');
  });
});

describe('thresholds in human units', () => {
  it('turns typed dollars into cents and back', () => {
    expect(thresholdToApi(1000, 'below', 'currency_minor', 'USD')).toBe(100000);
    expect(thresholdToApi(10.01, 'above', 'currency_minor', 'USD')).toBe(1001);
    expect(thresholdFromApi(100000, 'below', 'currency_minor', 'USD')).toBe(1000);
  });
  it('knows currencies without minor units and with three', () => {
    expect(thresholdToApi(5000, 'below', 'currency_minor', 'JPY')).toBe(5000);
    expect(thresholdToApi(1.5, 'below', 'currency_minor', 'KWD')).toBe(1500);
    expect(thresholdFromApi(1500, 'below', 'currency_minor', 'KWD')).toBe(1.5);
  });
  it('turns a typed percentage of a basis-point metric into basis points and back', () => {
    expect(thresholdToApi(2.5, 'below', 'basis_points')).toBe(250);
    expect(thresholdFromApi(235, 'above', 'basis_points')).toBe(2.35);
  });
  it('leaves counts, percent metrics, percentage changes and the sensitivity as typed', () => {
    expect(thresholdToApi(42, 'above', 'count')).toBe(42);
    expect(thresholdToApi(40, 'below', 'percent')).toBe(40);
    expect(thresholdToApi(30, 'pct_change_below', 'currency_minor', 'USD')).toBe(30);
    expect(thresholdToApi(30, 'pace', 'currency_minor', 'USD')).toBe(30);
    expect(thresholdToApi(3, 'anomaly', 'basis_points')).toBe(3);
    expect(thresholdFromApi(30, 'pct_change_above', 'currency_minor', 'USD')).toBe(30);
  });
  it('shows the unit beside the field', () => {
    expect(thresholdUnit('below', 'currency_minor', 'EUR')).toBe('EUR');
    expect(thresholdUnit('above', 'basis_points')).toBe('%');
    expect(thresholdUnit('above', 'count')).toBe('');
    expect(thresholdUnit('pct_change_below', 'count')).toBe('%');
    expect(thresholdUnit('anomaly', 'count')).toBe('× usual spread');
  });
  it('reads what people type', () => {
    expect(parseTyped('1,000')).toBe(1000);
    expect(parseTyped(' $2.50 ')).toBe(2.5);
    expect(parseTyped('')).toBeNull();
    expect(parseTyped('abc')).toBeNull();
  });
  it('rounds a suggestion to two significant digits, away from triggering at once', () => {
    expect(niceThreshold(12345, 'down')).toBe(12000);
    expect(niceThreshold(12345, 'up')).toBe(13000);
    expect(niceThreshold(987.6, 'down')).toBe(980);
    expect(niceThreshold(0.57, 'down')).toBe(0.57);
    expect(niceThreshold(0, 'down')).toBe(0);
  });
});

describe('periods per kind', () => {
  it('allows only today for pace, only yesterday for anomaly, no today for changes', () => {
    expect(validPeriods('pace')).toEqual(['today']);
    expect(validPeriods('anomaly')).toEqual(['yesterday']);
    expect(validPeriods('pct_change_above')).not.toContain('today');
    expect(validPeriods('pct_change_below')).toEqual(['yesterday', 'last_7_days', 'last_30_days']);
    expect(validPeriods('above')).toEqual(['yesterday', 'today', 'last_7_days', 'last_30_days']);
  });
  it('keeps a valid period and replaces an invalid one', () => {
    expect(fitPeriod('below', 'last_7_days')).toBe('last_7_days');
    expect(fitPeriod('pace', 'yesterday')).toBe('today');
    expect(fitPeriod('pct_change_below', 'today')).toBe('yesterday');
    expect(fitPeriod('anomaly', 'last_30_days')).toBe('yesterday');
  });
});

describe('statusBadge', () => {
  it('names each state and carries the reason where there is one', () => {
    expect(statusBadge({ status: 'ok' })).toEqual({ label: 'OK', tone: 'green', reason: null });
    expect(statusBadge({ status: 'pending' }).label).toBe('Not checked yet');
    expect(statusBadge({ status: 'waiting', status_reason: 'Stripe has not finished its first sync' })).toEqual({
      label: 'Waiting for data',
      tone: 'amber',
      reason: 'Stripe has not finished its first sync',
    });
    expect(statusBadge({ status: 'snoozed', snoozed_until: '2026-12-05T09:41:00Z' }, { timeZone: 'UTC' }).label).toBe('Snoozed until Dec 5, 09:41');
    expect(statusBadge({ status: 'disabled' }).tone).toBe('gray');
    expect(statusBadge({ status: 'triggered' }).tone).toBe('red');
  });
});

describe('nextDigestAt', () => {
  it('is the coming Monday at 09:00 UTC', () => {
    expect(nextDigestAt(new Date('2026-12-04T07:00:00Z')).toISOString()).toBe('2026-12-07T09:00:00.000Z');
    expect(nextDigestAt(new Date('2026-12-07T08:59:00Z')).toISOString()).toBe('2026-12-07T09:00:00.000Z');
    expect(nextDigestAt(new Date('2026-12-07T09:00:00Z')).toISOString()).toBe('2026-12-14T09:00:00.000Z');
    expect(nextDigestAt(new Date('2026-12-06T23:00:00Z')).toISOString()).toBe('2026-12-07T09:00:00.000Z');
  });
});

describe('parseEmails', () => {
  it('splits on commas, semicolons and spaces and drops repeats', () => {
    expect(parseEmails('a@x.com, b@x.com;c@x.com\n a@x.com ')).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    expect(parseEmails('  ')).toEqual([]);
  });
});

const kpi = (over: Partial<Widget> = {}): Widget => ({
  id: 'w1',
  dashboard_id: 'd1',
  type: 'kpi_card',
  title: 'Net revenue',
  size: 'small',
  query_config: { metric: 'stripe.net_revenue', range: 'last_30_days', scope: { store: 's1' }, filters: [{ dimension: 'country', in: ['US'] }] },
  display_config: {},
  created_at: '',
  updated_at: '',
  ...over,
});

const ok = (total: number, over: Record<string, unknown> = {}): WidgetData =>
  ({
    widget_id: 'w1',
    state: 'ok',
    result: {
      metric: 'stripe.net_revenue',
      name: 'Net revenue',
      unit: 'currency_minor',
      currency: 'USD',
      total,
      granularity: 'day',
      series: [
        { bucket: '2026-12-02', value: 40000 },
        { bucket: '2026-12-03', value: 51234 },
      ],
      rise_is_bad: false,
      groups: [],
      freshness: [],
      range: { from: '2026-11-04', to: '2026-12-03' },
      timezone: 'UTC',
      ...over,
    },
  }) as unknown as WidgetData;

describe('formFromWidget', () => {
  it('prefills a KPI card: metric, scope, filters, its range, "drops below" a round value under the current one', () => {
    const f = formFromWidget(kpi(), ok(1234567), 'd1', 'me');
    expect(f).toMatchObject({
      metric: 'stripe.net_revenue',
      storeId: 's1',
      filters: [{ dimension: 'country', in: ['US'] }],
      kind: 'below',
      period: 'last_30_days',
      threshold: '12000',
      dashboardId: 'd1',
      recipientUserIds: ['me'],
    });
  });
  it('uses the last day for a range no rule has, and "goes above" for bad-news metrics', () => {
    const f = formFromWidget(kpi({ query_config: { metric: 'stripe.refunds', range: 'last_90_days', scope: { store: 's1' } } }), ok(999999, { rise_is_bad: true }), 'd1', 'me');
    expect(f).toMatchObject({ kind: 'above', period: 'yesterday', threshold: '520' });
  });
  it('watches a chart’s trend: a fall of more than 20% on a week earlier', () => {
    const f = formFromWidget(kpi({ type: 'line_chart' }), ok(1), 'd1', 'me');
    expect(f).toMatchObject({ kind: 'pct_change_below', period: 'yesterday', threshold: '20', compareDays: '7' });
  });
  it('keeps a scope of several stores as it is', () => {
    const f = formFromWidget(kpi({ query_config: { metric: 'stripe.mrr', range: 'last_30_days', scope: { stores: ['a', 'b'] } } }), undefined, 'd1', 'me');
    expect(f.storeId).toBe('');
    expect(f.scope).toEqual({ stores: ['a', 'b'] });
    expect(f.threshold).toBe('');
  });
});

describe('toRequest', () => {
  const usd = { unit: 'currency_minor', currency: 'USD' };
  it('sends the threshold in minor units and the rest as the API names it', () => {
    const form = { ...blankForm('stripe.gross_revenue', 's1', 'u1'), threshold: '1,000', extraEmails: 'cfo@example.com' };
    const r = toRequest(form, usd, 'Gross revenue yesterday below $1,000.00');
    expect(isProblem(r)).toBe(false);
    expect(r).toMatchObject({
      name: 'Gross revenue yesterday below $1,000.00',
      metric: 'stripe.gross_revenue',
      scope: { store: 's1' },
      kind: 'below',
      period: 'yesterday',
      threshold: 100000,
      compare_days: null,
      recipient_user_ids: ['u1'],
      recipient_emails: ['cfo@example.com'],
      slack_channel_id: null,
      cooldown_minutes: 1440,
      enabled: true,
    });
  });
  it('says what is missing', () => {
    expect(toRequest({ ...blankForm('m', 's1', 'u1'), threshold: '' }, usd, 'x')).toEqual({ field: 'threshold', message: 'Enter a number.' });
    expect(toRequest({ ...blankForm('', 's1', 'u1'), threshold: '1' }, usd, 'x')).toMatchObject({ field: 'metric' });
    expect(toRequest({ ...blankForm('m', 's1', 'u1'), kind: 'pct_change_below', threshold: '5', compareDays: '0' }, usd, 'x')).toMatchObject({ field: 'compare_days' });
  });
  it('round-trips a saved rule through the form', () => {
    const saved = { ...rule({ kind: 'above', threshold: 123456 }), name: 'Big day', metric: 'm', scope: { store: 's1' }, filters: [], recipient_user_ids: ['u1'], recipient_emails: [], cooldown_minutes: 60, enabled: false } as unknown as Alert;
    const form = formFromAlert(saved, usd);
    expect(form.threshold).toBe('1234.56');
    expect(toRequest(form, usd, 'x')).toMatchObject({ name: 'Big day', threshold: 123456, kind: 'above', cooldown_minutes: 60, enabled: false });
  });
  it('resets the threshold when the kind changes what it means', () => {
    const f = { ...blankForm('m', 's1', 'u1'), threshold: '1000' };
    expect(changeKind(f, 'above').threshold).toBe('1000');
    expect(changeKind(f, 'pace')).toMatchObject({ threshold: '30', period: 'today' });
    expect(changeKind(f, 'anomaly')).toMatchObject({ threshold: '3', period: 'yesterday' });
  });
});
