import { useEffect, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { api, keys } from '../../api/endpoints';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Card, Skeleton } from '../../components/ui/Card';
import { providerName } from '../../lib/providers';
import { useSession } from '../shell/session';
import { useProviders } from '../shell/useProviders';
import { AccountPicker } from './AccountPicker';
import { ProviderCard } from './ProviderCard';
import { SyncMonitor } from './SyncMonitor';
import { isLive } from './useSync';

interface Flash {
  tone: 'success' | 'error';
  title?: string;
  /** A provider callback's `?connected=stripe`: titled when shown, with the provider's name once the list has loaded. */
  connected?: string;
  message?: string;
}

/** Reads the provider callback's `?connected=` / `?error=&message=` (or `?choose=` when
 * the account is picked next) once, then tidies the URL. */
function useCallbackFlash(): [Flash | null, (f: Flash | null) => void, string | null, string | null] {
  const [params, setParams] = useSearchParams();
  const [flash, setFlash] = useState<Flash | null>(() => {
    const connected = params.get('connected');
    const error = params.get('error');
    if (connected) return { tone: 'success', connected, message: 'The first sync is running; numbers appear on your dashboards when it finishes.' };
    if (error) return { tone: 'error', title: 'The connection did not complete', message: params.get('message') ?? error.replace(/_/g, ' ') };
    return null;
  });
  const focus = useRef(params.get('provider'));
  const choose = useRef(params.get('choose'));
  useEffect(() => {
    if (params.has('connected') || params.has('error') || params.has('message') || params.has('provider') || params.has('choose')) {
      setParams({}, { replace: true });
    }
  }, [params, setParams]);
  return [flash, setFlash, focus.current, choose.current];
}

export default function IntegrationsPage() {
  const { slug, store, canManage, storesLoading } = useSession();
  const queryClient = useQueryClient();
  const [flash, setFlash, focusProvider, chooseFromCallback] = useCallbackFlash();
  const [picking, setPicking] = useState<string | null>(chooseFromCallback);
  const providers = useProviders();
  const integrations = useQuery({ queryKey: keys.integrations(slug), queryFn: ({ signal }) => api.integrations(slug, signal) });
  const jobs = useQuery({
    queryKey: keys.syncJobs(slug),
    queryFn: ({ signal }) => api.syncJobs(slug, signal),
    refetchInterval: (q) => (q.state.data?.some(isLive) ? 2000 : false),
  });
  const usage = useQuery({ queryKey: keys.usage(slug), queryFn: ({ signal }) => api.usage(slug, signal) });

  // When the last running job finishes, integration rows (last sync, errors) change too.
  const liveCount = jobs.data?.filter(isLive).length ?? 0;
  const previousLive = useRef(liveCount);
  useEffect(() => {
    if (previousLive.current > 0 && liveCount === 0) {
      void queryClient.invalidateQueries({ queryKey: ['org', slug] });
    }
    previousLive.current = liveCount;
  }, [liveCount, queryClient, slug]);

  const mine = (integrations.data ?? []).filter((i) => i.store_id === store?.id);
  const waiting = mine.filter((i) => i.status === 'choosing_account');
  const pickingProvider = (integrations.data ?? []).find((i) => i.id === picking)?.provider ?? focusProvider ?? '';
  const ordered = [...(providers.data ?? [])].sort((a, b) => (a.id === focusProvider ? -1 : b.id === focusProvider ? 1 : a.name.localeCompare(b.name)));

  return (
    <div className="space-y-8">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-gray-900">Integrations</h1>
        <p className="mt-0.5 text-sm text-gray-500">
          Connections for <span className="font-medium text-gray-700">{store?.name ?? '…'}</span>. Pulseboard only reads: it never changes anything in
          your accounts.
        </p>
      </div>

      {flash && (
        <Alert tone={flash.tone} title={flash.connected ? `${providerName(flash.connected, providers.data)} connected` : flash.title} onDismiss={() => setFlash(null)}>
          {flash.message}
        </Alert>
      )}
      {!canManage && <Alert tone="info">Only owners and admins can connect or disconnect providers.</Alert>}
      {canManage &&
        waiting.map((i) => (
          <Alert key={i.id} tone="info" title={`${providerName(i.provider, providers.data)} is waiting for a property`}>
            Nothing syncs until you pick which property Pulseboard reads.{' '}
            <button type="button" className="font-medium text-brand-700 underline" onClick={() => setPicking(i.id)}>
              Pick a property
            </button>
          </Alert>
        ))}
      {picking && canManage && (
        <AccountPicker
          integrationId={picking}
          providerName={providerName(pickingProvider, providers.data)}
          onClose={() => setPicking(null)}
          onChosen={(i) => {
            setPicking(null);
            setFlash({ tone: 'success', connected: i.provider, message: `${i.account_label} is syncing now; numbers appear on your dashboards when it finishes.` });
          }}
        />
      )}
      <ErrorAlert error={providers.error ?? integrations.error} />

      <section aria-labelledby="providers-heading">
        <h2 id="providers-heading" className="sr-only">
          Providers
        </h2>
        {providers.isPending || integrations.isPending || storesLoading ? (
          <div className="grid gap-4 lg:grid-cols-2">
            <Skeleton className="h-56 rounded-lg" />
            <Skeleton className="h-56 rounded-lg" />
          </div>
        ) : store ? (
          <div className="grid items-start gap-4 lg:grid-cols-2">
            {ordered.map((p) => (
              <ProviderCard
                key={p.id}
                provider={p}
                store={store}
                integrations={mine.filter((i) => i.provider === p.id)}
                jobs={jobs.data ?? []}
                highlighted={p.id === focusProvider}
                onFlash={setFlash}
              />
            ))}
          </div>
        ) : (
          <Alert tone="warning">This organization has no store yet.</Alert>
        )}
      </section>

      <SyncMonitor jobs={jobs.data} loading={jobs.isPending} error={jobs.error} />

      {usage.data && (
        <Card className="p-4">
          <h2 className="text-sm font-semibold text-gray-900">Plan: {usage.data.plan.name}</h2>
          <dl className="mt-2 grid grid-cols-3 gap-4 text-sm">
            <UsageItem label="Stores" used={usage.data.stores} cap={usage.data.plan.max_stores} />
            <UsageItem label="Integrations" used={usage.data.integrations} cap={usage.data.plan.max_integrations} />
            <UsageItem label="Events this month" used={usage.data.metric_events_this_month} cap={usage.data.plan.max_events_per_month} />
          </dl>
        </Card>
      )}
    </div>
  );
}

function UsageItem({ label, used, cap }: { label: string; used: number; cap?: number | null }) {
  const nf = new Intl.NumberFormat('en-US');
  return (
    <div>
      <dt className="text-gray-500">{label}</dt>
      <dd className="font-medium tabular-nums text-gray-900">
        {nf.format(used)}
        {cap !== null && cap !== undefined && <span className="font-normal text-gray-500"> / {nf.format(cap)}</span>}
      </dd>
    </div>
  );
}
