import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import { ErrorAlert } from '../../components/ui/Alert';
import { Skeleton } from '../../components/ui/Card';
import { relativeTime } from '../../lib/format';
import { freshnessOf, oldestSync } from '../../lib/series';
import { DashboardGrid } from '../dashboards/DashboardGrid';
import { Logo } from '../shell/Pages';

/** The public, read-only view of a shared dashboard: no account, no controls. */
export default function SharedDashboardPage() {
  const { token = '' } = useParams();
  const shared = useQuery({ queryKey: keys.shared(token), queryFn: ({ signal }) => api.shared(token, signal), retry: false });
  const oldest = shared.data ? oldestSync(freshnessOf(shared.data.data)) : null;
  return (
    <div className="min-h-screen">
      <header className="border-b border-gray-200 bg-white">
        <div className="mx-auto flex h-14 max-w-7xl items-center justify-between px-4 sm:px-6 lg:px-8">
          <Logo />
          <span className="rounded-full bg-gray-100 px-2.5 py-0.5 text-xs font-medium text-gray-600">Read-only</span>
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 lg:px-8">
        {shared.isError ? (
          shared.error instanceof ApiError && shared.error.status === 404 ? (
            <div className="mx-auto max-w-md py-20 text-center">
              <h1 className="text-xl font-semibold text-gray-900">This link does not work</h1>
              <p className="mt-2 text-sm text-gray-600">It may have expired or been revoked. Ask whoever sent it for a new one.</p>
            </div>
          ) : (
            <ErrorAlert error={shared.error} onRetry={() => void shared.refetch()} />
          )
        ) : (
          <>
            {shared.data ? (
              <>
                <h1 className="text-2xl font-semibold tracking-tight text-gray-900">{shared.data.name}</h1>
                <p className="mt-0.5 h-5 text-sm text-gray-500">
                  {shared.data.description}
                  {oldest && <span className="ml-2 text-gray-500">· Updated {relativeTime(oldest)}</span>}
                </p>
              </>
            ) : (
              <>
                <Skeleton className="h-7 w-64" />
                <Skeleton className="mt-1.5 h-4 w-96 max-w-full" />
              </>
            )}
            <div className="mt-6">
              {shared.data ? (
                <DashboardGrid layout={shared.data.layout} widgets={shared.data.widgets} data={shared.data.data} loading={false} readOnly />
              ) : (
                <div className="grid grid-cols-1 gap-4 md:grid-cols-2 lg:grid-cols-4" aria-busy="true">
                  {Array.from({ length: 4 }, (_, i) => (
                    <Skeleton key={i} className="h-44 rounded-lg" />
                  ))}
                </div>
              )}
            </div>
          </>
        )}
      </main>
    </div>
  );
}
