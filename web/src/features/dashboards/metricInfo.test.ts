import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../api/types';
import { definitionParts, MetricDefinitionList, MetricHelp } from './MetricInfoDialog';

const mrr: CatalogEntry = {
  id: 'stripe.mrr',
  provider: 'stripe',
  metric: {
    id: 'mrr',
    name: 'MRR',
    description: 'Monthly recurring revenue.',
    unit: 'currency_minor',
    aggregation: 'latest',
    kind: 'stock',
    category: 'subscriptions',
    dimensions: [],
    rise_is_bad: false,
    definition: {
      formula: 'Sum of the recurring invoice lines’ `amount`, before discounts.',
      source_fields: 'Stripe invoice lines: `amount`, `period`.',
      booked: 'From the day of `period.start` until `period.end`.',
      excludes: 'Draft & void invoices <b>.',
    },
  },
};

/** The text of the markup, tags removed and entities decoded (the four used here). */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the metric info popover', () => {
  it('shows the four parts under plain headings, in reading order', () => {
    const html = renderToStaticMarkup(createElement(MetricDefinitionList, { entry: mrr }));
    const shown = text(html);
    const order = ['How it’s computed', 'Sum of the recurring invoice lines’ amount , before discounts.', 'Read from', 'Counted on', 'From the day of period.start until period.end .', 'Left out', 'Draft & void invoices <b>.'];
    let at = -1;
    for (const piece of order) {
      const found = shown.indexOf(piece, at + 1);
      expect(found, `${piece} after position ${at} in: ${shown}`).toBeGreaterThan(at);
      at = found;
    }
    // Field names are code; the definition's text is escaped, never markup.
    expect(html).toContain('<code class="rounded bg-gray-100 px-1 py-px font-mono text-[0.8125rem] text-gray-800">period.start</code>');
    expect(html).not.toContain('<b>');
    expect(html.match(/<dt/g)).toHaveLength(4);
  });

  it('leaves blank parts out and says when nothing is written', () => {
    const partial = { ...mrr, metric: { ...mrr.metric, definition: { ...mrr.metric.definition, booked: '  ', excludes: '' } } };
    expect(definitionParts(partial.metric.definition).map((p) => p.heading)).toEqual(['How it’s computed', 'Read from']);
    const blank = { ...mrr, metric: { ...mrr.metric, definition: { formula: '', source_fields: '', booked: '', excludes: '' } } };
    expect(text(renderToStaticMarkup(createElement(MetricDefinitionList, { entry: blank })))).toBe('This metric has no written definition yet.');
    // An older server's catalog without definitions.
    expect(definitionParts(undefined)).toEqual([]);
  });

  it('gives the metric picker the description and the formula', () => {
    const shown = text(renderToStaticMarkup(createElement(MetricHelp, { entry: mrr })));
    expect(shown).toBe('Monthly recurring revenue. How it’s computed: Sum of the recurring invoice lines’ amount , before discounts.');
  });
});
