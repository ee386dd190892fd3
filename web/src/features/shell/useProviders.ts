// The server's provider list and widget types, loaded once and kept: both change
// only with a new server release.
import { queryOptions, useQuery } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, keys } from '../../api/endpoints';
import { providerName } from '../../lib/providers';
import { useSignedIn } from './session';

export const providersQuery = queryOptions({
  queryKey: keys.providers,
  queryFn: ({ signal }) => api.providers(signal),
  staleTime: 60 * 60_000,
});

/** Public: share pages use it too. */
export const widgetTypesQuery = queryOptions({
  queryKey: keys.widgetTypes,
  queryFn: ({ signal }) => api.widgetTypes(signal),
  staleTime: Infinity,
});

/** `GET /api/providers`; it needs a session, so public pages do not ask. */
export function useProviders() {
  return useQuery({ ...providersQuery, enabled: useSignedIn() });
}

/** `providerName` over the loaded provider list (the capitalised id until then, and on public pages). */
export function useProviderName(): (id: string) => string {
  const { data } = useProviders();
  return useCallback((id: string) => providerName(id, data), [data]);
}

/** `GET /api/widget-types`: which widget types wait for a provider. */
export function useWidgetTypes() {
  return useQuery(widgetTypesQuery);
}
