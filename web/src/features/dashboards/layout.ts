// How widgets sit in a dashboard's grid: 12 tracks on wide screens, a column is
// 12 / columns tracks; widget sizes span part of, one or several columns.
import type { Layout } from '../../api/types';

type Columns = 1 | 2 | 3;
type Size = 'small' | 'medium' | 'large' | 'full';

// Literal class names so Tailwind sees them.
const SPANS: Record<Columns, Record<Size, string>> = {
  1: { small: 'md:col-span-1 lg:col-span-4', medium: 'md:col-span-2 lg:col-span-12', large: 'md:col-span-2 lg:col-span-12', full: 'md:col-span-2 lg:col-span-12' },
  2: { small: 'md:col-span-1 lg:col-span-3', medium: 'md:col-span-1 lg:col-span-6', large: 'md:col-span-2 lg:col-span-12', full: 'md:col-span-2 lg:col-span-12' },
  3: { small: 'md:col-span-1 lg:col-span-4', medium: 'md:col-span-1 lg:col-span-4', large: 'md:col-span-2 lg:col-span-8', full: 'md:col-span-2 lg:col-span-12' },
};

export function spanClass(columns: number, size: string): string {
  const c = (columns === 1 || columns === 3 ? columns : 2) as Columns;
  const s = (['small', 'medium', 'large', 'full'].includes(size) ? size : 'medium') as Size;
  return SPANS[c][s];
}

/** Sections in order with their widgets resolved; widgets the layout does not place go last. */
export function arrange<W extends { id: string }>(layout: Layout, widgets: W[]): { id: string; title: string; widgets: W[] }[] {
  const byId = new Map(widgets.map((w) => [w.id, w]));
  const placed = new Set<string>();
  const sections = layout.sections.map((s) => ({
    id: s.id,
    title: s.title,
    widgets: (s.widgets ?? []).flatMap((id) => {
      const w = byId.get(id);
      if (!w || placed.has(id)) return [];
      placed.add(id);
      return [w];
    }),
  }));
  const rest = widgets.filter((w) => !placed.has(w.id));
  if (rest.length > 0) {
    if (sections.length === 0) sections.push({ id: 'rest', title: '', widgets: rest });
    else sections[sections.length - 1]!.widgets.push(...rest);
  }
  return sections;
}

/** The layout with every widget placed exactly once (what the server asks of a saved layout). */
export function normalize(layout: Layout, widgets: { id: string }[]): Layout {
  const sections = arrange(layout, widgets);
  const byId = new Map(layout.sections.map((s) => [s.id, s]));
  return {
    columns: layout.columns,
    sections: sections.map((s) => ({ ...(byId.get(s.id) ?? { title: s.title }), id: s.id === 'rest' && !byId.has('rest') ? 'main' : s.id, widgets: s.widgets.map((w) => w.id) })),
  };
}

/** Where a widget sits: section index, index in the section, and whether it can move each way. */
export function positionOf(layout: Layout, widgetId: string): { section: number; index: number; first: boolean; last: boolean } | null {
  const sections = layout.sections;
  for (let s = 0; s < sections.length; s += 1) {
    const list = sections[s]!.widgets ?? [];
    const i = list.indexOf(widgetId);
    if (i >= 0) {
      return { section: s, index: i, first: s === 0 && i === 0, last: s === sections.length - 1 && i === list.length - 1 };
    }
  }
  return null;
}

/**
 * Moves a widget one place earlier (-1) or later (+1) in reading order. At the edge
 * of a section it crosses into the neighbouring one (end of the previous section,
 * start of the next). Returns the same layout when it cannot move.
 */
export function moveWidget(layout: Layout, widgetId: string, step: -1 | 1): Layout {
  const pos = positionOf(layout, widgetId);
  if (!pos) return layout;
  const sections = layout.sections.map((s) => ({ ...s, widgets: [...(s.widgets ?? [])] }));
  const here = sections[pos.section]!.widgets;
  const target = pos.index + step;
  if (target >= 0 && target < here.length) {
    here.splice(pos.index, 1);
    here.splice(target, 0, widgetId);
    return { ...layout, sections };
  }
  const next = pos.section + step;
  if (next < 0 || next >= sections.length) return layout;
  here.splice(pos.index, 1);
  const there = sections[next]!.widgets;
  if (step < 0) there.push(widgetId);
  else there.unshift(widgetId);
  return { ...layout, sections };
}

/** Moves a widget to the end of another section. */
export function moveToSection(layout: Layout, widgetId: string, sectionId: string): Layout {
  if (!layout.sections.some((s) => s.id === sectionId)) return layout;
  return {
    ...layout,
    sections: layout.sections.map((s) => {
      const rest = (s.widgets ?? []).filter((id) => id !== widgetId);
      return { ...s, widgets: s.id === sectionId ? [...rest, widgetId] : rest };
    }),
  };
}

export const SIZES = ['small', 'medium', 'large', 'full'] as const;

export function withColumns(layout: Layout, columns: 1 | 2 | 3): Layout {
  return { ...layout, columns };
}

/**
 * Drag and drop: a widget dropped on another takes its place, the other moving
 * towards where the dragged one came from (after it when dragged forward within a
 * section, before it otherwise); dropped on a section (`targetId` null) it goes last.
 * Returns the same layout when nothing changes.
 */
export function dropWidget(layout: Layout, widgetId: string, sectionId: string, targetId: string | null): Layout {
  const from = positionOf(layout, widgetId);
  if (widgetId === targetId || !from || !layout.sections.some((s) => s.id === sectionId)) return layout;
  const to = targetId === null ? null : positionOf(layout, targetId);
  const after = to !== null && to.section === from.section && from.index < to.index;
  const sections = layout.sections.map((s) => ({ ...s, widgets: (s.widgets ?? []).filter((id) => id !== widgetId) }));
  const target = sections.find((s) => s.id === sectionId)!;
  const at = targetId === null ? -1 : target.widgets.indexOf(targetId);
  if (at < 0) target.widgets.push(widgetId);
  else target.widgets.splice(after ? at + 1 : at, 0, widgetId);
  const same = sections.every((s, i) => JSON.stringify(s.widgets) === JSON.stringify(layout.sections[i]!.widgets ?? []));
  return same ? layout : { ...layout, sections };
}
