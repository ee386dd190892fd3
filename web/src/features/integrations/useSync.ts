import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { JobView } from '../../api/types';

export const isLive = (j: JobView) => j.status === 'queued' || j.status === 'running';

/**
 * Starts a sync of some integrations and follows their jobs until they finish; then
 * every query of the organization is refreshed (dashboards show the new numbers).
 */
export function useSyncRefresh(slug: string) {
  const queryClient = useQueryClient();
  const [watching, setWatching] = useState<string[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const startedAt = useRef(0);
  const start = useMutation({
    mutationFn: (ids: string[]) => Promise.all(ids.map((id) => api.sync(slug, id))),
    onMutate: () => {
      setFailure(null);
      startedAt.current = Date.now();
    },
    onSuccess: (jobs) => setWatching(jobs.map((j) => j.integration_id)),
  });
  const jobs = useQuery({
    queryKey: keys.syncJobs(slug),
    queryFn: ({ signal }) => api.syncJobs(slug, signal),
    enabled: watching.length > 0,
    refetchInterval: watching.length > 0 ? 1500 : false,
  });
  useEffect(() => {
    if (watching.length === 0 || !jobs.data || jobs.dataUpdatedAt < startedAt.current) return;
    const mine = jobs.data.filter((j) => watching.includes(j.integration_id));
    if (mine.some(isLive)) return;
    // Newest first: the job this refresh ran is the latest one per integration.
    const latest = watching.map((id) => mine.find((j) => j.integration_id === id)).filter((j): j is JobView => Boolean(j));
    const failed = latest.find((j) => j.status === 'failed');
    setFailure(failed ? `${failed.account_label || failed.provider}: ${failed.error ?? 'the sync failed'}` : null);
    setWatching([]);
    void queryClient.invalidateQueries({ queryKey: ['org', slug] });
  }, [jobs.data, jobs.dataUpdatedAt, watching, queryClient, slug]);
  return {
    refresh: (ids: string[]) => start.mutate(ids),
    syncing: start.isPending || watching.length > 0,
    error: start.error,
    failure,
  };
}
