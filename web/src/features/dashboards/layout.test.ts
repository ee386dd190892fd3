import { describe, expect, it } from 'vitest';
import { arrange, spanClass } from './layout';

describe('arrange', () => {
  it('follows the layout and appends unplaced widgets to the last section', () => {
    const layout = { columns: 2, sections: [{ id: 'a', title: 'A', widgets: ['2', '1'] }, { id: 'b', title: 'B', widgets: ['9'] }] };
    const out = arrange(layout, [{ id: '1' }, { id: '2' }, { id: '3' }]);
    expect(out.map((s) => s.widgets.map((w) => w.id))).toEqual([['2', '1'], ['3']]);
  });
});

describe('spanClass', () => {
  it('gives small widgets a quarter row in two columns and a third in three', () => {
    expect(spanClass(2, 'small')).toContain('lg:col-span-3');
    expect(spanClass(3, 'small')).toContain('lg:col-span-4');
    expect(spanClass(3, 'large')).toContain('lg:col-span-8');
    expect(spanClass(7, 'weird')).toContain('lg:col-span-6');
  });
});
