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
