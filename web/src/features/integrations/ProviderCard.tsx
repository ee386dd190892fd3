import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import type { Integration, JobView, Provider, Store } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Field } from '../../components/ui/Field';
import { cx } from '../../lib/cx';
import { callBudgetText, nextRunText, relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';
import { IntegrationOptions } from './IntegrationOptions';
import { DriftWarning } from './DriftWarning';
import { isLive } from './useSync';
import { WebhookSetup } from './WebhookSetup';

type Flash = { tone: 'success' | 'error'; title: string; message?: string };

const STATUS: Record<string, { tone: 'green' | 'red' | 'amber' | 'blue' | 'gray'; label: string }> = {
  active: { tone: 'green', label: 'Connected' },
  syncing: { tone: 'blue', label: 'Syncing' },
  error: { tone: 'red', label: 'Error' },
  reauth_required: { tone: 'amber', label: 'Reconnect needed' },
  disconnected: { tone: 'gray', label: 'Disconnected' },
};

export function ProviderCard({
  provider,
  store,
  integrations,
  jobs,
  highlighted,
  onFlash,
}: {
  provider: Provider;
  store: Store;
  integrations: Integration[];
  jobs: JobView[];
  highlighted: boolean;
  onFlash: (f: Flash) => void;
}) {
  const connected = integrations.filter((i) => i.status !== 'disconnected');
  return (
    <Card className={cx('p-5', highlighted && 'ring-2 ring-brand-500')} data-provider={provider.id}>
      <div className="flex items-start justify-between gap-3">
        <div>
          <h3 className="text-base font-semibold text-gray-900">{provider.name}</h3>
          <p className="text-sm text-gray-500 capitalize">{provider.category}</p>
        </div>
        {connected.length === 0 && <Badge>Not connected</Badge>}
      </div>
      {connected.length > 0 ? (
        <ul className="mt-4 space-y-3">
          {connected.map((i) => (
            <IntegrationRow key={i.id} integration={i} provider={provider} currency={store.currency} job={jobs.find((j) => j.integration_id === i.id)} onFlash={onFlash} />
          ))}
        </ul>
      ) : (
        <ConnectForms provider={provider} store={store} onFlash={onFlash} />
      )}
    </Card>
  );
}

function IntegrationRow({
  integration,
  provider,
  currency,
  job,
  onFlash,
}: {
  integration: Integration;
  provider: Provider;
  currency: string;
  job: JobView | undefined; onFlash: (f: Flash) => void }) {
  const { slug, canManage } = useSession();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['org', slug] });
  const sync = useMutation({ mutationFn: () => api.sync(slug, integration.id), onSuccess: refresh });
  const reconnect = useMutation({
    mutationFn: () => api.reconnect(slug, integration.id),
    onSuccess: (r) => window.location.assign(r.authorize_url),
  });
  const disconnect = useMutation({
    mutationFn: () => api.disconnect(slug, integration.id),
    onSuccess: () => {
      onFlash({ tone: 'success', title: `${provider.name} disconnected`, message: `${integration.account_label} no longer syncs; its data was removed.` });
      void refresh();
    },
  });
  const status = STATUS[integration.status] ?? { tone: 'gray' as const, label: integration.status };
  const live = job && isLive(job);
  // A job held back by the provider's limit (Clarity's 10 calls a day, GA4's quota).
  const waitingUntil = job?.status === 'queued' ? job.next_run_at : null;
  const needsReauth = integration.status === 'reauth_required';
  const budget = integration.call_budget ?? null;
  const budgetId = `call-budget-${integration.id}`;
  return (
    <li className="rounded-md border border-gray-200 p-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate font-medium text-gray-900">{integration.account_label || integration.external_account_id}</p>
          <p className="text-xs text-gray-500">
            {integration.auth_kind === 'api_key' ? 'API key' : 'OAuth'} · every {integration.cadence_minutes} min ·{' '}
            {waitingUntil
              ? `waiting for the provider's limit; next call ${nextRunText(waitingUntil)}`
              : live
                ? job.status === 'running'
                  ? `syncing… ${job.records_synced.toLocaleString('en-US')} records`
                  : 'sync queued'
                : `last synced ${relativeTime(integration.last_synced_at)}`}
          </p>
        </div>
        <Badge tone={waitingUntil ? 'gray' : live ? 'blue' : status.tone}>{waitingUntil ? 'Waiting' : live ? 'Syncing' : status.label}</Badge>
      </div>
      {waitingUntil && job?.error && <p className="mt-2 text-xs text-gray-600">{job.error}</p>}
      {integration.sync_error && <p className="mt-2 rounded bg-red-50 px-2 py-1 text-xs text-red-800">{integration.sync_error}</p>}
      <DriftWarning integration={integration} providerName={provider.name} currency={currency} />
      <IntegrationOptions integration={integration} provider={provider} />
      <div className="mt-3 flex flex-wrap gap-2">
        <Button
          variant="secondary"
          size="sm"
          busy={sync.isPending}
          disabled={!canManage || live}
          onClick={() => sync.mutate()}
          aria-describedby={budget ? budgetId : undefined}
        >
          Sync now
        </Button>
        {budget && (
          // Said before clicking: a provider that allows so many calls a day (Clarity).
          <span id={budgetId} className={cx('self-center text-xs', budget.remaining > 0 ? 'text-gray-500' : 'text-amber-700')} data-call-budget>
            {callBudgetText(budget)}
          </span>
        )}
        {(integration.auth_kind !== 'api_key' || needsReauth) && provider.oauth_configured && (
          <Button variant={needsReauth ? 'primary' : 'secondary'} size="sm" busy={reconnect.isPending} disabled={!canManage} onClick={() => reconnect.mutate()}>
            Reconnect
          </Button>
        )}
        <Button
          variant="danger"
          size="sm"
          busy={disconnect.isPending}
          disabled={!canManage}
          onClick={() => {
            if (window.confirm(`Disconnect ${integration.account_label}? Pulseboard stops syncing it and deletes its synced data.`)) disconnect.mutate();
          }}
        >
          Disconnect
        </Button>
      </div>
      <ErrorAlert error={sync.error ?? reconnect.error ?? disconnect.error} className="mt-2" />
      {/* Owners and admins only (the server answers 403 to anyone else), for providers that send webhooks. */}
      {canManage && provider.webhooks && integration.status !== 'choosing_account' && <WebhookSetup integration={integration} providerName={provider.name} />}
    </li>
  );
}

function ConnectForms({ provider, store, onFlash }: { provider: Provider; store: Store; onFlash: (f: Flash) => void }) {
  const { slug, canManage } = useSession();
  const queryClient = useQueryClient();
  const [account, setAccount] = useState('');
  // The account some providers need named before connecting (Shopify's shop).
  const accountField = provider.account;
  const [fields, setFields] = useState<Record<string, string>>({});
  // Key-only providers (PostHog, Clarity) show their form at once; OAuth providers
  // may offer keys as the second way (Stripe's restricted key).
  const keyOnly = provider.auth.type === 'api_key';
  const keyFields = (keyOnly ? provider.auth.fields : provider.api_key) ?? [];
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const oauth = useMutation({
    mutationFn: () => api.connect(slug, provider.id, { store_id: store.id, account: accountField && account.trim() ? account.trim() : null }),
    onSuccess: (r) => window.location.assign(r.authorize_url),
  });
  const apiKey = useMutation({
    mutationFn: () => api.connectApiKey(slug, provider.id, { store_id: store.id, fields }),
    onSuccess: (i) => {
      setFields({});
      onFlash({ tone: 'success', title: `${provider.name} connected`, message: `${i.account_label} is syncing now; numbers appear on your dashboards when it finishes.` });
      void queryClient.invalidateQueries({ queryKey: keys.integrations(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.syncJobs(slug) });
      void queryClient.invalidateQueries({ queryKey: ['org', slug] });
    },
  });
  const submitOauth = (e: FormEvent) => {
    e.preventDefault();
    oauth.mutate();
  };
  const submitKey = (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    for (const f of keyFields) {
      const v = (fields[f.name] ?? '').trim();
      if (!v) problems[f.name] = `Enter your ${f.label.toLowerCase()}.`;
      else if (f.pattern) {
        try {
          if (!new RegExp(f.pattern).test(v)) problems[f.name] = f.placeholder ? `That does not look right: expected something like ${f.placeholder}` : 'That does not look right.';
        } catch {
          /* a pattern this browser cannot compile: let the server judge */
        }
      }
    }
    setInvalid(problems);
    if (Object.keys(problems).length === 0) apiKey.mutate();
  };
  const serverField = apiKey.error instanceof ApiError && apiKey.error.field ? apiKey.error.field.replace(/^fields\./, '') : null;
  const keyForm = keyFields.length > 0 && (
    <form onSubmit={submitKey} className={cx('space-y-3', !keyOnly && 'border-t border-gray-200 p-3')} noValidate aria-label={`${provider.name} API key`}>
      {keyFields.map((f) => (
        <Field
          key={f.name}
          name={f.name}
          label={f.label}
          type={f.secret ? 'password' : 'text'}
          autoComplete="off"
          spellCheck={false}
          placeholder={f.placeholder ?? undefined}
          value={fields[f.name] ?? ''}
          onChange={(e) => setFields((s) => ({ ...s, [f.name]: e.target.value }))}
          help={f.help}
          error={invalid[f.name] ?? (serverField === f.name && apiKey.error ? apiKey.error.message : null)}
        />
      ))}
      <Button type="submit" variant={keyOnly ? 'primary' : 'secondary'} busy={apiKey.isPending} disabled={!canManage}>
        {keyOnly ? `Connect ${provider.name}` : 'Connect with API key'}
      </Button>
      {apiKey.error && !(serverField && keyFields.some((f) => f.name === serverField)) && <ErrorAlert error={apiKey.error} />}
    </form>
  );
  if (keyOnly) return <div className="mt-4">{keyForm}</div>;
  return (
    <div className="mt-4 space-y-4">
      {provider.oauth_configured ? (
        <form onSubmit={submitOauth} className="space-y-3">
          {accountField && (
            <Field
              label={accountField.label}
              placeholder={accountField.placeholder ?? undefined}
              value={account}
              onChange={(e) => setAccount(e.target.value)}
              required={!provider.account_picker}
              help={provider.account_picker ? `${accountField.help ?? ''} Or leave it empty and pick it after signing in.`.trim() : (accountField.help ?? undefined)}
            />
          )}
          <Button type="submit" busy={oauth.isPending} disabled={!canManage || (Boolean(accountField) && !provider.account_picker && !account.trim())}>
            Connect {provider.name}
          </Button>
          <ErrorAlert error={oauth.error} />
        </form>
      ) : (
        <p className="text-sm text-gray-500">
          One-click connect is not set up on this server{provider.api_key ? '; use an API key instead.' : '. An administrator sets the app credentials.'}
        </p>
      )}
      {keyForm && (
        <details className="group rounded-md border border-gray-200" open={!provider.oauth_configured}>
          <summary className="cursor-pointer list-none px-3 py-2 text-sm font-medium text-gray-700 select-none">
            <span className="mr-1 inline-block transition-transform group-open:rotate-90">›</span> Or connect with an API key
          </summary>
          {keyForm}
        </details>
      )}
    </div>
  );
}
