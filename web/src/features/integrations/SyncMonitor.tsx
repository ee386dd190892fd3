import type { JobView } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Spinner } from '../../components/ui/Button';
import { Badge, Card, Skeleton } from '../../components/ui/Card';
import { formatDuration, nextRunText, relativeTime } from '../../lib/format';
import { useProviderName } from '../shell/useProviders';
import { isLive } from './useSync';

const TONE: Record<string, 'green' | 'red' | 'blue' | 'gray' | 'amber'> = {
  success: 'green',
  failed: 'red',
  running: 'blue',
  queued: 'gray',
  cancelled: 'amber',
};

/** The last 50 sync jobs; the page polls while one is queued or running. */
export function SyncMonitor({ jobs, loading, error }: { jobs: JobView[] | undefined; loading: boolean; error: unknown }) {
  const providerName = useProviderName();
  const live = jobs?.some(isLive);
  return (
    <section aria-labelledby="sync-heading">
      <div className="mb-3 flex items-center gap-2">
        <h2 id="sync-heading" className="text-base font-semibold text-gray-900">
          Sync activity
        </h2>
        {live && (
          <span className="inline-flex items-center gap-1 text-xs text-sky-700">
            <Spinner className="size-3" /> live
          </span>
        )}
      </div>
      <ErrorAlert error={error} />
      <Card className="overflow-x-auto">
        <table className="w-full text-sm">
          <thead className="border-b border-gray-200 bg-gray-50 text-left text-xs text-gray-500">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">
                Source
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Status
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Trigger
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                Records
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                Duration
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Started
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-gray-100" data-testid="sync-jobs">
            {loading ? (
              Array.from({ length: 3 }, (_, i) => (
                <tr key={i}>
                  <td colSpan={6} className="px-4 py-2.5">
                    <Skeleton className="h-4 w-full" />
                  </td>
                </tr>
              ))
            ) : !jobs || jobs.length === 0 ? (
              <tr>
                <td colSpan={6} className="px-4 py-6 text-center text-gray-500">
                  No syncs yet. Connecting a provider starts the first one.
                </td>
              </tr>
            ) : (
              jobs.map((j) => (
                <tr key={j.id} data-status={j.status}>
                  <td className="px-4 py-2">
                    <span className="font-medium text-gray-800">{providerName(j.provider)}</span>
                    <span className="ml-1.5 text-gray-500">{j.account_label}</span>
                  </td>
                  <td className="px-4 py-2">
                    <Badge tone={TONE[j.status] ?? 'gray'}>
                      {j.status}
                      {j.attempt > 1 ? ` · try ${j.attempt}/${j.max_attempts}` : ''}
                    </Badge>
                    {j.error && (
                      <p className="mt-1 max-w-md text-xs break-words text-red-700" title={j.error}>
                        {j.error}
                      </p>
                    )}
                    {j.next_run_at && (
                      <p className="mt-1 text-xs text-gray-600" title={j.next_run_at}>
                        Next try {nextRunText(j.next_run_at)}
                      </p>
                    )}
                  </td>
                  <td className="px-4 py-2 text-gray-600">
                    {j.trigger}
                    {j.sync_type ? ` · ${j.sync_type}` : ''}
                  </td>
                  <td className="px-4 py-2 text-right tabular-nums text-gray-800">{j.records_synced.toLocaleString('en-US')}</td>
                  <td className="px-4 py-2 text-right tabular-nums text-gray-600">{formatDuration(j.duration_seconds)}</td>
                  <td className="px-4 py-2 text-gray-600" title={j.started_at ?? j.created_at}>
                    {relativeTime(j.started_at ?? j.created_at)}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Card>
    </section>
  );
}
