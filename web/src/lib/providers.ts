// What the server says about providers and widget types, turned into what the UI
// shows. The lists come from `GET /api/providers` (signed in) and
// `GET /api/widget-types` (public); the hooks that load them are in
// features/shell/useProviders.ts. Tested in providers.test.ts.
import type { Provider, WidgetData, WidgetTypeInfo } from '../api/types';

/** A provider's display name from the provider list; the capitalised id while the
 * list is not loaded, on public pages (no list), or for an id the list lacks. */
export function providerName(id: string, providers?: readonly Pick<Provider, 'id' | 'name'>[] | null): string {
  const known = providers?.find((p) => p.id === id)?.name;
  if (known) return known;
  return id ? id.charAt(0).toUpperCase() + id.slice(1) : id;
}

/** The provider a widget type waits for (`review_feed` → `Judge.me`), or null for the
 * types that work today, for unknown types and while the list is not loaded. */
export function awaitingProvider(type: string, widgetTypes?: readonly WidgetTypeInfo[] | null): string | null {
  return widgetTypes?.find((t) => t.type === type)?.awaiting_provider ?? null;
}

/** Whether a widget's card is the short kind: KPI cards, and widgets whose provider
 * has not arrived yet (nothing to plot). Heights are fixed per kind, the same loading
 * and loaded, so nothing jumps; a widget whose data says its provider is unavailable
 * counts too, should the widget-type list be missing. */
export function isCompact(
  widget: { type: string },
  widgetTypes: readonly WidgetTypeInfo[] | null | undefined,
  data?: WidgetData,
): boolean {
  return widget.type === 'kpi_card' || awaitingProvider(widget.type, widgetTypes) !== null || data?.state === 'unavailable';
}
