import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import { SHARED_PULSE } from '../live/useLive';
import { PulseBoard } from '../pulse/PulsePage';
import { Logo } from '../shell/Pages';

/** A Pulse share link: the store's sales today, live, read-only, sized for a TV. */
export default function SharedPulsePage() {
  const { token = '' } = useParams();
  const snapshot = useQuery({
    queryKey: keys.sharedPulse(token),
    queryFn: ({ signal }) => api.sharedPulse(token, signal),
    retry: false,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const gone = snapshot.error instanceof ApiError && snapshot.error.status === 404;
  return (
    <div className="min-h-screen bg-gray-50">
      <header className="border-b border-gray-200 bg-white">
        <div className="mx-auto flex h-14 max-w-[110rem] items-center justify-between px-4 sm:px-8">
          <Logo />
          <span className="rounded-full bg-gray-100 px-2.5 py-0.5 text-xs font-medium text-gray-600">Read-only</span>
        </div>
      </header>
      <main className="mx-auto max-w-[110rem] px-4 py-8 sm:px-8">
        {gone ? (
          <div className="mx-auto max-w-md py-20 text-center">
            <h1 className="text-xl font-semibold text-gray-900">This link does not work</h1>
            <p className="mt-2 text-sm text-gray-600">It may have expired or been revoked. Ask whoever sent it for a new one.</p>
          </div>
        ) : (
          <PulseBoard
            streamKey={`${SHARED_PULSE}${token}`}
            snapshot={snapshot}
            // The link shows one store's events only: nothing to filter.
            store={snapshot.data ? { id: null, name: snapshot.data.store_name, currency: snapshot.data.currency } : null}
            tv
          />
        )}
      </main>
    </div>
  );
}
