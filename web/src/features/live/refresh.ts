// Which stores a dashboard reads (so a live sale for one of them refreshes it), and
// the debounce that turns a burst of sales into one refetch.
import type { Store, Widget } from '../../api/types';

type Scope = { store: string } | { stores: string[] } | { workspace: string };

function storesOfScope(scope: unknown, stores: readonly Store[]): string[] {
  if (!scope || typeof scope !== 'object') return [];
  const s = scope as Partial<Scope> & Record<string, unknown>;
  if (typeof s.store === 'string') return [s.store];
  if (Array.isArray(s.stores)) return s.stores.filter((x): x is string => typeof x === 'string');
  if (typeof s.workspace === 'string') return stores.filter((st) => st.workspace_id === s.workspace).map((st) => st.id);
  return [];
}

/** The ids of every store the dashboard's widgets (and funnel steps) read. */
export function dashboardStores(widgets: readonly Pick<Widget, 'query_config'>[], stores: readonly Store[]): Set<string> {
  const out = new Set<string>();
  for (const w of widgets) {
    const q = w.query_config ?? {};
    for (const id of storesOfScope(q.scope, stores)) out.add(id);
    for (const step of q.steps ?? []) for (const id of storesOfScope(step.scope, stores)) out.add(id);
  }
  return out;
}

export interface Debounced {
  (): void;
  cancel(): void;
}

/** Runs `fn` once `waitMs` after the last call. */
export function debounce(fn: () => void, waitMs: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const call = (() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, waitMs);
  }) as Debounced;
  call.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return call;
}
