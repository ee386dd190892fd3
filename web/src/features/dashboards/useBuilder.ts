// The dashboard builder's writes. Layout and size changes show at once (optimistic)
// and are replaced by the server's answer; a failure refetches, so the page never
// keeps a layout the server did not store, and the error is handed to the page.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { DashboardWithWidgets, Layout, UpdateDashboard } from '../../api/types';

export function useBuilder(slug: string, id: string) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const key = keys.dashboard(slug, id);
  const layoutKey = ['save-layout', slug, id] as const;

  const patchCache = (fn: (d: DashboardWithWidgets) => DashboardWithWidgets) =>
    queryClient.setQueryData<DashboardWithWidgets>(key, (d) => (d ? fn(d) : d));
  /** Refetch the dashboard once no other write of it is under way. */
  const settle = (mutationKey: readonly unknown[]) => {
    if (queryClient.isMutating({ mutationKey }) <= 1) void queryClient.invalidateQueries({ queryKey: key, exact: true });
  };

  const saveLayout = useMutation({
    mutationKey: layoutKey,
    mutationFn: (layout: Layout) => api.updateDashboard(slug, id, { layout }),
    onMutate: async (layout) => {
      setError(null);
      await queryClient.cancelQueries({ queryKey: key, exact: true });
      patchCache((d) => ({ ...d, layout }));
    },
    onSuccess: (saved) => {
      if (queryClient.isMutating({ mutationKey: layoutKey }) <= 1) patchCache((d) => ({ ...d, ...saved, widgets: d.widgets }));
    },
    onError: setError,
    onSettled: () => settle(layoutKey),
  });

  const resize = useMutation({
    mutationKey: ['resize', slug, id],
    mutationFn: ({ widgetId, size }: { widgetId: string; size: string }) => api.updateWidget(slug, id, widgetId, { size }),
    onMutate: async ({ widgetId, size }) => {
      setError(null);
      await queryClient.cancelQueries({ queryKey: key, exact: true });
      patchCache((d) => ({ ...d, widgets: d.widgets.map((w) => (w.id === widgetId ? { ...w, size } : w)) }));
    },
    onError: setError,
    onSettled: () => settle(['resize', slug, id]),
  });

  const update = useMutation({
    mutationFn: (body: UpdateDashboard) => api.updateDashboard(slug, id, body),
    onSuccess: (saved) => {
      patchCache((d) => ({ ...d, ...saved, widgets: d.widgets }));
      void queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) });
    },
  });

  const removeWidget = useMutation({
    mutationFn: (widgetId: string) => api.deleteWidget(slug, id, widgetId),
    onMutate: () => setError(null),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: key }),
    onError: setError,
  });

  const duplicate = useMutation({
    mutationFn: () => api.duplicateDashboard(slug, id),
    onMutate: () => setError(null),
    onSuccess: (copy) => {
      queryClient.setQueryData(keys.dashboard(slug, copy.id), copy);
      void queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) });
      void navigate(`/dashboards/${copy.id}`);
    },
    onError: setError,
  });

  const remove = useMutation({
    mutationFn: () => api.deleteDashboard(slug, id),
    onMutate: () => setError(null),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) });
      // The cached dashboard is left to expire: removing it while this page is still
      // mounted (the list page may be loading its code) would fetch it again, a 404.
      void navigate('/', { replace: true });
    },
    onError: setError,
  });

  return { saveLayout, resize, update, removeWidget, duplicate, remove, error, clearError: () => setError(null) };
}
