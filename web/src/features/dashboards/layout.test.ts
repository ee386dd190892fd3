import { describe, expect, it } from 'vitest';
import type { Layout } from '../../api/types';
import { arrange, moveToSection, moveWidget, normalize, dropWidget, positionOf, spanClass } from './layout';

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

const two = { columns: 2, sections: [{ id: 'a', title: 'A', widgets: ['1', '2'] }, { id: 'b', title: 'B', widgets: ['3'] }] };
const order = (l: Layout) => l.sections.map((s) => s.widgets ?? []);

describe('moveWidget', () => {
  it('swaps with the neighbour inside a section', () => {
    expect(order(moveWidget(two, '2', -1))).toEqual([['2', '1'], ['3']]);
    expect(order(moveWidget(two, '1', 1))).toEqual([['2', '1'], ['3']]);
  });
  it('crosses into the next section at its start and the previous one at its end', () => {
    expect(order(moveWidget(two, '2', 1))).toEqual([['1'], ['2', '3']]);
    expect(order(moveWidget(two, '3', -1))).toEqual([['1', '2', '3'], []]);
  });
  it('stays put at the very start and end, and leaves the input alone', () => {
    expect(moveWidget(two, '1', -1)).toBe(two);
    expect(moveWidget(two, '3', 1)).toBe(two);
    expect(moveWidget(two, 'nope', 1)).toBe(two);
    moveWidget(two, '2', 1);
    expect(order(two)).toEqual([['1', '2'], ['3']]);
  });
});

describe('positionOf', () => {
  it('knows the first and the last widget', () => {
    expect(positionOf(two, '1')).toEqual({ section: 0, index: 0, first: true, last: false });
    expect(positionOf(two, '3')).toEqual({ section: 1, index: 0, first: false, last: true });
    expect(positionOf(two, 'x')).toBeNull();
  });
});

describe('moveToSection', () => {
  it('appends to the chosen section', () => {
    expect(order(moveToSection(two, '1', 'b'))).toEqual([['2'], ['3', '1']]);
    expect(moveToSection(two, '1', 'zzz')).toBe(two);
  });
});

describe('normalize', () => {
  it('drops unknown and duplicate ids and places missing widgets last', () => {
    const messy = { columns: 3, sections: [{ id: 'a', title: 'A', widgets: ['1', 'gone', '1'] }, { id: 'b', title: 'B', widgets: [] }] };
    const out = normalize(messy, [{ id: '1' }, { id: '2' }]);
    expect(out).toEqual({ columns: 3, sections: [{ id: 'a', title: 'A', widgets: ['1'] }, { id: 'b', title: 'B', widgets: ['2'] }] });
  });
});

describe('dropWidget', () => {
  const three = { columns: 2, sections: [{ id: 'a', title: 'A', widgets: ['1', '2', '3'] }, { id: 'b', title: 'B', widgets: ['4'] }] };
  it('takes the place of the widget it is dropped on, within a section', () => {
    expect(order(dropWidget(three, '1', 'a', '2'))).toEqual([['2', '1', '3'], ['4']]);
    expect(order(dropWidget(three, '1', 'a', '3'))).toEqual([['2', '3', '1'], ['4']]);
    expect(order(dropWidget(three, '3', 'a', '1'))).toEqual([['3', '1', '2'], ['4']]);
  });
  it('goes before the target in another section, or last when dropped on the section', () => {
    expect(order(dropWidget(three, '1', 'b', '4'))).toEqual([['2', '3'], ['1', '4']]);
    expect(order(dropWidget(three, '4', 'a', null))).toEqual([['1', '2', '3', '4'], []]);
  });
  it('returns the same layout when nothing moves or the target is unknown', () => {
    expect(dropWidget(three, '1', 'a', '1')).toBe(three);
    expect(dropWidget(three, '3', 'a', null)).toBe(three);
    expect(dropWidget(three, 'x', 'a', null)).toBe(three);
    expect(dropWidget(three, '1', 'zz', null)).toBe(three);
  });
});
