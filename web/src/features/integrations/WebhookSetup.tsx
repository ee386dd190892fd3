// "Live updates (webhooks)" under a connected integration: the endpoint URL to give
// the provider, the events to pick, the provider's steps, the signing secret (pasted
// from the provider, or made here and shown once) and whether deliveries arrive.
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import type { CreatedWebhook, Integration, WebhookInfo } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Skeleton } from '../../components/ui/Card';
import { Field } from '../../components/ui/Field';
import { relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';

/**
 * A secret nobody knows, in the provider's format: it creates the endpoint so its URL
 * can be given to a provider (Stripe) that only reveals its own secret after that.
 * Until the real one is pasted, deliveries fail verification and the provider retries.
 */
function placeholderSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function WebhookSetup({ integration, providerName }: { integration: Integration; providerName: string }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const key = keys.webhook(slug, integration.id);
  const info = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.webhook(slug, integration.id, signal),
    retry: (count, error) => !(error instanceof ApiError && error.status > 0 && error.status < 500) && count < 2,
    // Shows the first delivery arriving while someone sets it up at the provider.
    refetchInterval: (q) => (q.state.data?.endpoint ? (q.state.data.endpoint.last_received_at ? 30_000 : 5_000) : false),
  });
  const [shownSecret, setShownSecret] = useState<string | null>(null);
  // The endpoint was made before the provider's secret existed: ask for it first thing.
  const [awaitingSecret, setAwaitingSecret] = useState(false);
  const saved = (r: CreatedWebhook, placeholder = false) => {
    const { secret, ...rest } = r;
    queryClient.setQueryData<WebhookInfo>(key, rest);
    setShownSecret(secret ?? null);
    setAwaitingSecret(placeholder);
  };
  const remove = useMutation({
    mutationFn: () => api.deleteWebhook(slug, integration.id),
    onSuccess: () => {
      setShownSecret(null);
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });

  // Providers that send no webhooks (GA4, PostHog…) show nothing here.
  if (info.error instanceof ApiError && info.error.code === 'webhooks_unsupported') return null;

  return (
    <section className="mt-3 border-t border-gray-200 pt-3" aria-labelledby={`webhook-${integration.id}`} data-testid="webhook-setup">
      {info.isPending ? (
        <Skeleton className="h-16" />
      ) : info.isError ? (
        <ErrorAlert error={info.error} onRetry={() => void info.refetch()} />
      ) : (
        <>
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h4 id={`webhook-${integration.id}`} className="text-sm font-semibold text-gray-900">
              Live updates (webhooks)
            </h4>
            <StatusBadge info={info.data} />
          </div>
          {info.data.endpoint ? (
            <Configured
              integration={integration}
              info={info.data}
              providerName={providerName}
              shownSecret={shownSecret}
              awaitingSecret={awaitingSecret}
              onSaved={(r) => saved(r)}
              onRemove={() => {
                if (window.confirm(`Remove the ${providerName} webhook endpoint? Sales then show up at the next sync instead of at once.`)) remove.mutate();
              }}
              removing={remove.isPending}
            />
          ) : (
            <NotConfigured integration={integration} info={info.data} providerName={providerName} onSaved={saved} />
          )}
          <ErrorAlert error={remove.error} className="mt-2" />
        </>
      )}
    </section>
  );
}

function StatusBadge({ info }: { info: WebhookInfo }) {
  if (!info.endpoint) return <Badge>Not set up</Badge>;
  if (info.endpoint.last_received_at) return <Badge tone="green">Receiving</Badge>;
  return <Badge tone="amber">Waiting for the first delivery</Badge>;
}

/** The secret form: paste the provider's (`pasted`) or have one made (`generated`). */
function useSaveSecret(integration: Integration, onSaved: (r: CreatedWebhook) => void) {
  const { slug } = useSession();
  return useMutation({
    mutationFn: (secret: string | null) => api.createWebhook(slug, integration.id, secret === null ? {} : { secret }),
    onSuccess: onSaved,
  });
}

function SecretForm({
  integration,
  info,
  providerName,
  onSaved,
  submitLabel,
  label,
}: {
  integration: Integration;
  info: WebhookInfo;
  providerName: string;
  onSaved: (r: CreatedWebhook) => void;
  submitLabel: string;
  label: string;
}) {
  const [secret, setSecret] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useSaveSecret(integration, (r) => {
    setSecret('');
    onSaved(r);
  });
  const prefix = info.secret_prefix ?? '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = secret.trim();
    if (!v) return setInvalid(`Paste the signing secret ${providerName} shows for the endpoint.`);
    if (prefix && !v.startsWith(prefix)) return setInvalid(`That is not a signing secret: it starts with ${prefix}`);
    setInvalid(null);
    save.mutate(v);
  };
  const fieldError = invalid ?? (save.error instanceof ApiError && save.error.field === 'secret' ? sentence(save.error.message.replace(/^secret:\s*/, '')) : null);
  return (
    <form onSubmit={submit} noValidate className="flex flex-wrap items-start gap-2">
      <Field
        className="min-w-56 flex-1"
        label={label}
        name="webhook_secret"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder={prefix ? `${prefix}…` : undefined}
        value={secret}
        onChange={(e) => setSecret(e.target.value)}
        help={prefix ? `Starts with ${prefix}. Stripe shows it on the endpoint's page under “Signing secret”.` : undefined}
        error={fieldError}
      />
      <Button type="submit" variant="primary" busy={save.isPending} className="mt-6">
        {submitLabel}
      </Button>
      {save.error && !fieldError && <ErrorAlert error={save.error} className="w-full" />}
    </form>
  );
}

function NotConfigured({
  integration,
  info,
  providerName,
  onSaved,
}: {
  integration: Integration;
  info: WebhookInfo;
  providerName: string;
  onSaved: (r: CreatedWebhook, placeholder?: boolean) => void;
}) {
  const create = useSaveSecret(integration, (r) => onSaved(r, r.secret_source === 'pasted'));
  const intro = (
    <p className="mt-1 text-sm text-gray-600">
      {providerName} can tell Pulseboard about each sale the moment it happens, so the{' '}
      <Link to="/pulse" className="font-medium text-brand-700 underline underline-offset-2">
        Pulse
      </Link>{' '}
      page and your KPI cards update live instead of at the next sync.
    </p>
  );
  if (info.secret_source === 'pasted') {
    return (
      <div className="mt-1 space-y-3">
        {intro}
        <SecretForm integration={integration} info={info} providerName={providerName} onSaved={onSaved} submitLabel="Set up webhooks" label={`${providerName} signing secret`} />
        <p className="text-xs text-gray-500">
          No secret yet? {providerName} shows it after you add the endpoint there.{' '}
          <button
            type="button"
            className="font-medium text-brand-700 underline underline-offset-2 disabled:opacity-50"
            disabled={create.isPending}
            onClick={() => create.mutate(placeholderSecret(info.secret_prefix ?? ''))}
          >
            Get the endpoint URL first
          </button>
          , then paste the secret here.
        </p>
        <ErrorAlert error={create.error} />
      </div>
    );
  }
  if (info.secret_source === 'generated') {
    return (
      <div className="mt-1 space-y-3">
        {intro}
        <Button variant="primary" size="sm" busy={create.isPending} onClick={() => create.mutate(null)}>
          Create webhook endpoint
        </Button>
        <ErrorAlert error={create.error} />
      </div>
    );
  }
  return <p className="mt-1 text-sm text-gray-600">{providerName} signs its webhooks with the app’s own secret; live updates for it are not available yet.</p>;
}

function Configured({
  integration,
  info,
  providerName,
  shownSecret,
  awaitingSecret,
  onSaved,
  onRemove,
  removing,
}: {
  integration: Integration;
  info: WebhookInfo;
  providerName: string;
  shownSecret: string | null;
  awaitingSecret: boolean;
  onSaved: (r: CreatedWebhook) => void;
  onRemove: () => void;
  removing: boolean;
}) {
  const endpoint = info.endpoint;
  if (!endpoint) return null;
  const received = endpoint.last_received_at;
  return (
    <div className="mt-2 space-y-3 text-sm">
      {shownSecret && (
        <Alert tone="success" title="Signing secret (shown once)">
          <p>Paste it into {providerName}’s webhook settings now; Pulseboard keeps it sealed and cannot show it again.</p>
          <CopyField label="Signing secret" value={shownSecret} className="mt-2" />
        </Alert>
      )}
      <CopyField label="Endpoint URL" value={info.url ?? ''} />
      <div>
        <p className="font-medium text-gray-800">Events to send</p>
        <ul className="mt-1 flex flex-wrap gap-1.5" aria-label="Events to send">
          {info.events.map((e) => (
            <li key={e} className="rounded bg-gray-100 px-1.5 py-0.5 font-mono text-xs text-gray-700">
              {e}
            </li>
          ))}
        </ul>
      </div>
      <div>
        <p className="font-medium text-gray-800">In {providerName}</p>
        <ol className="mt-1 list-decimal space-y-1 pl-5 text-gray-700">
          {info.steps.map((s) => (
            <li key={s} className="break-words">
              {s}
            </li>
          ))}
        </ol>
      </div>
      <p className="text-gray-700" data-testid="webhook-last-delivery">
        {received ? (
          <>
            Last delivery <span className="font-medium">{relativeTime(received)}</span> · {endpoint.deliveries.toLocaleString('en-US')}{' '}
            {endpoint.deliveries === 1 ? 'delivery' : 'deliveries'} in all
          </>
        ) : (
          'Nothing received yet.'
        )}{' '}
        <span className="text-gray-500">Secret {endpoint.secret_hint}</span>
      </p>
      {info.secret_source === 'pasted' &&
        (awaitingSecret ? (
          <SecretForm integration={integration} info={info} providerName={providerName} onSaved={onSaved} submitLabel="Save secret" label={`${providerName} signing secret`} />
        ) : (
          <details className="group">
            <summary className="cursor-pointer text-sm font-medium text-gray-700 select-none">Replace the signing secret</summary>
            <div className="mt-2">
              <SecretForm integration={integration} info={info} providerName={providerName} onSaved={onSaved} submitLabel="Save secret" label="New signing secret" />
            </div>
          </details>
        ))}
      <div className="flex flex-wrap gap-2">
        {info.secret_source === 'generated' && <RegenerateButton integration={integration} onSaved={onSaved} />}
        <Button variant="danger" size="sm" busy={removing} onClick={onRemove}>
          Remove webhook
        </Button>
      </div>
    </div>
  );
}

function RegenerateButton({ integration, onSaved }: { integration: Integration; onSaved: (r: CreatedWebhook) => void }) {
  const save = useSaveSecret(integration, onSaved);
  return (
    <>
      <Button variant="secondary" size="sm" busy={save.isPending} onClick={() => save.mutate(null)}>
        New secret
      </Button>
      <ErrorAlert error={save.error} className="w-full" />
    </>
  );
}

/** A read-only value with a copy button (the text stays selectable where the clipboard is refused). */
function CopyField({ label, value, className }: { label: string; value: string; className?: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      document.getElementById(id)?.focus();
    }
  };
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <div className="mt-1 flex items-center gap-2">
        <input
          id={id}
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          data-testid={label === 'Endpoint URL' ? 'webhook-url' : undefined}
          className="block h-9 min-w-0 flex-1 rounded-md border-0 bg-gray-50 px-3 font-mono text-xs text-gray-900 ring-1 ring-gray-300 ring-inset focus:ring-2 focus:ring-brand-600 focus:outline-none"
        />
        <Button variant="secondary" size="md" onClick={() => void copy()} aria-label={`Copy ${label.toLowerCase()}`}>
          Copy
        </Button>
      </div>
      <p role="status" className={copied ? 'mt-1 text-xs text-brand-800' : 'sr-only'}>
        {copied ? `${label} copied` : ''}
      </p>
    </div>
  );
}

function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
