// React's view of the shared live streams: one `LiveStream` (one EventSource) per
// organization for the whole app, opened while something subscribes.
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys, liveUrl, sharedPulseLiveUrl } from '../../api/endpoints';
import type { RevenueEvent, Widget } from '../../api/types';
import { LiveStream, type LiveStatus } from './stream';
import { dashboardStores, debounce } from './refresh';

const streams = new Map<string, LiveStream>();

/** Streams keyed by this prefix and a token are a Pulse share link's (org slugs have no colon). */
export const SHARED_PULSE = 'shared-pulse:';

/** The organization's shared stream (or, for `shared-pulse:<token>`, a share link's). */
export function liveStream(slug: string): LiveStream {
  let stream = streams.get(slug);
  if (!stream) {
    const token = slug.startsWith(SHARED_PULSE) ? slug.slice(SHARED_PULSE.length) : null;
    stream = new LiveStream({
      url: (after) => (token === null ? liveUrl(slug, after) : sharedPulseLiveUrl(token, after)),
      // Same origin: the session cookie goes along.
      open: (url) => new EventSource(url, { withCredentials: true }),
    });
    streams.set(slug, stream);
  }
  return stream;
}

export function useLiveStatus(slug: string): LiveStatus {
  const stream = liveStream(slug);
  return useSyncExternalStore(stream.onStatus, stream.getStatus, () => 'idle' as const);
}

/**
 * Calls `onEvents` with each batch of new revenue events while `enabled`. With
 * `after` (a snapshot's `last_seq`) nothing after it is missed.
 */
export function useLiveEvents(slug: string, onEvents: (events: RevenueEvent[]) => void, options: { after?: number | null; enabled?: boolean } = {}) {
  const { after = null, enabled = true } = options;
  const handler = useRef(onEvents);
  useEffect(() => {
    handler.current = onEvents;
  });
  useEffect(() => {
    if (!enabled || !slug) return;
    return liveStream(slug).subscribe((events) => handler.current(events), after);
  }, [slug, after, enabled]);
}

/**
 * Refreshes a dashboard's data when a sale for one of its stores arrives: the
 * server updates the rollups before it announces the event, so a refetch sees it.
 * Several sales in a burst cost one refetch (debounced by `waitMs`).
 */
export function useLiveDashboardRefresh(slug: string, dashboardId: string, storeIds: ReadonlySet<string>, waitMs = 1000) {
  const queryClient = useQueryClient();
  const stores = useRef(storeIds);
  useEffect(() => {
    stores.current = storeIds;
  });
  const refresh = useRef<ReturnType<typeof debounce> | null>(null);
  useEffect(() => {
    const d = debounce(() => {
      void queryClient.invalidateQueries({ queryKey: ['org', slug, 'dashboard', dashboardId, 'data'] });
    }, waitMs);
    refresh.current = d;
    return () => d.cancel();
  }, [queryClient, slug, dashboardId, waitMs]);
  useLiveEvents(
    slug,
    (events) => {
      if (events.some((e) => stores.current.has(e.store_id))) refresh.current?.();
    },
    { enabled: storeIds.size > 0 && Boolean(dashboardId) },
  );
}

/** `useLiveDashboardRefresh` for a dashboard's widgets (the stores they read). */
export function useLiveDashboard(slug: string, dashboardId: string, widgets: readonly Widget[] | undefined) {
  // All the organization's stores (a workspace-wide widget names its workspace, not stores).
  const stores = useQuery({ queryKey: keys.stores(slug), queryFn: ({ signal }) => api.stores(slug, signal), enabled: Boolean(slug) });
  const storeIds = useMemo(() => dashboardStores(widgets ?? [], stores.data ?? []), [widgets, stores.data]);
  useLiveDashboardRefresh(slug, dashboardId, storeIds);
}
