import { describe, expect, it } from 'vitest';
import { rangeDays } from './experimentFormat';
import { pagePath } from './HeatmapSummary';
import { sentimentWord } from './SentimentGauge';
import { croQuery, ratingsOf, widgetForm } from '../../widgetForm';

describe('CRO widget settings', () => {
  it('turns the rating choice into the ratings the API filters by', () => {
    expect(ratingsOf('')).toBeUndefined();
    expect(ratingsOf('1-2')).toEqual([1, 2]);
    expect(ratingsOf('4-5')).toEqual([4, 5]);
    expect(ratingsOf('3')).toEqual([3]);
  });

  it('builds each type’s settings with only the fields that type takes', () => {
    const base = { ...widgetForm(null, 'store-1', 's'), range: 'last_7_days' as const };
    expect(croQuery({ ...base, type: 'review_feed', ratings: '1-2', reviewStatus: 'pending' })).toEqual({ scope: { store: 'store-1' }, ratings: [1, 2], status: 'pending' });
    expect(croQuery({ ...base, type: 'review_feed' })).toEqual({ scope: { store: 'store-1' } });
    expect(croQuery({ ...base, type: 'experiment_card', includeEnded: true })).toEqual({ scope: { store: 'store-1' }, include_ended: true });
    expect(croQuery({ ...base, type: 'sentiment_gauge' })).toEqual({ scope: { store: 'store-1' }, range: 'last_7_days' });
  });

  it('reads a saved review feed back into the form', () => {
    const form = widgetForm(
      { id: 'w', dashboard_id: 'd', type: 'review_feed', title: 'Reviews', size: 'medium', created_at: '', updated_at: '', display_config: {}, query_config: { scope: { store: 's1' }, ratings: [2, 1], status: 'published' } },
      'x',
      's',
    );
    expect(form.ratings).toBe('1-2');
    expect(form.reviewStatus).toBe('published');
    expect(form.storeId).toBe('s1');
  });
});

describe('CRO widget formatting', () => {
  it('shows a page by its path', () => {
    expect(pagePath('https://acme-coffee.example/products/house-blend?utm=x')).toBe('/products/house-blend?utm=x');
    expect(pagePath('not a url')).toBe('not a url');
  });

  it('names sentiment bands', () => {
    expect(sentimentWord(85)).toBe('Very positive');
    expect(sentimentWord(50)).toBe('Mixed');
    expect(sentimentWord(5)).toBe('Very negative');
  });

  it('says how long an experiment has run', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    expect(rangeDays('2026-11-22T12:00:00Z', null, now)).toBe('Day 12');
    expect(rangeDays('2026-11-01T00:00:00Z', '2026-11-15T00:00:00Z', now)).toBe('14 days');
    expect(rangeDays(null, null, now)).toBe('');
  });
});

describe('experiment verdicts', () => {
  it('calls a result only at 95 % either way', async () => {
    const { verdict } = await import('./ExperimentCard');
    expect(verdict(0.97).label).toBe('Likely winner');
    expect(verdict(0.5).label).toBe('Too early to call');
    expect(verdict(0.03).label).toBe('Likely loser');
    expect(verdict(null).label).toBe('Not enough data');
  });
});

describe('explain this number', () => {
  it('names the CSV after the metric', async () => {
    const { csvName } = await import('../../ExplainDialog');
    expect(csvName('stripe.net_revenue')).toBe('stripe-net-revenue-records.csv');
  });
});
