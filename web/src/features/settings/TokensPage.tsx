import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { ApiToken, CreatedToken } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Field, Select } from '../../components/ui/Field';
import { relativeTime } from '../../lib/format';
import { ConfirmDialog, CopyButton, EmptyCard, fieldError, formError, ListSkeleton, PageHeader, Section } from './parts';
import { formatDate, tokenState, type TokenState } from './settings';

const EXPIRY_CHOICES = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Never' },
];

const STATE_TONE: Record<TokenState, 'green' | 'gray' | 'red'> = { active: 'green', revoked: 'gray', expired: 'red' };

export default function TokensPage() {
  const tokens = useQuery({ queryKey: keys.tokens, queryFn: ({ signal }) => api.tokens(signal) });
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const list = [...(tokens.data ?? [])].sort((a, b) => {
    const order = (t: ApiToken) => (tokenState(t) === 'active' ? 0 : 1);
    return order(a) - order(b) || b.created_at.localeCompare(a.created_at);
  });
  return (
    <div className="space-y-8">
      <PageHeader
        title="API tokens"
        description={
          <>
            Personal tokens act as you in scripts and integrations: send one as <code className="rounded bg-gray-100 px-1 py-0.5 text-xs text-gray-800">Authorization: Bearer …</code>{' '}
            to the JSON API. They can do what you can do, in every organization you belong to.
          </>
        }
      />

      {created ? <NewSecret created={created} onDone={() => setCreated(null)} /> : <CreateTokenForm onCreated={setCreated} />}

      <Section id="tokens" title="Your tokens">
        {tokens.isPending ? (
          <ListSkeleton rows={2} />
        ) : tokens.isError ? (
          <ErrorAlert error={tokens.error} onRetry={() => void tokens.refetch()} />
        ) : list.length === 0 ? (
          <EmptyCard title="No tokens yet">Create one above for a script or a CI job; revoke it when it is no longer needed.</EmptyCard>
        ) : (
          <Card>
            <ul className="divide-y divide-gray-100" data-testid="tokens">
              {list.map((t) => {
                const state = tokenState(t);
                return (
                  <li key={t.id} className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3" data-token={t.name} data-state={state}>
                    <div className="min-w-0 flex-1 basis-56">
                      <p className="truncate text-sm font-medium text-gray-900">{t.name}</p>
                      <p className="text-xs text-gray-500">
                        <code className="text-gray-700">{t.prefix}…</code> · created {formatDate(t.created_at)} · last used {relativeTime(t.last_used_at)}
                        {t.expires_at && state === 'active' && <> · expires {formatDate(t.expires_at)}</>}
                      </p>
                    </div>
                    <Badge tone={STATE_TONE[state]} className="capitalize">
                      {state}
                    </Badge>
                    {state === 'active' && (
                      <Button variant="danger" size="sm" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </Button>
                    )}
                  </li>
                );
              })}
            </ul>
          </Card>
        )}
      </Section>
      <RevokeToken token={revoking} onClose={() => setRevoking(null)} />
    </div>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (t: CreatedToken) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const create = useMutation({
    mutationFn: () => api.createToken({ name: name.trim(), expires_in_days: days ? Number(days) : null }),
    onSuccess: (t) => {
      setName('');
      onCreated(t);
      void queryClient.invalidateQueries({ queryKey: keys.tokens });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const other = formError(create.error, ['name', 'expires_in_days']);
  const daysError = fieldError(create.error, 'expires_in_days');
  return (
    <Card className="p-4">
      <form onSubmit={submit} noValidate className="space-y-3">
        <h2 className="text-sm font-semibold text-gray-900">Create a token</h2>
        <div className="flex flex-wrap items-start gap-3">
          <Field
            label="Token name"
            name="token-name"
            required
            placeholder="e.g. Nightly export"
            className="min-w-0 flex-1 basis-64"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError(create.error, 'name')}
          />
          <div className="w-36">
            <label htmlFor="token-expiry" className="block text-sm font-medium text-gray-800">
              Expires after
            </label>
            <Select id="token-expiry" value={days} onChange={(e) => setDays(e.target.value)} className="mt-1 w-full" aria-invalid={daysError ? true : undefined}>
              {EXPIRY_CHOICES.map((c) => (
                <option key={c.label} value={c.value}>
                  {c.label}
                </option>
              ))}
            </Select>
            {daysError && <p className="mt-1 text-xs text-red-700">{daysError}</p>}
          </div>
          <Button type="submit" busy={create.isPending} disabled={!name.trim()} className="mt-6">
            Create token
          </Button>
        </div>
        {other ? <ErrorAlert error={other} /> : null}
      </form>
    </Card>
  );
}

/** The secret, this once: copy it now, it is never shown again. */
function NewSecret({ created, onDone }: { created: CreatedToken; onDone: () => void }) {
  return (
    <Alert tone="success" title={`Token “${created.api_token.name}” created`}>
      <p>Copy it now: this is the only time Pulseboard shows it. Store it like a password.</p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <label htmlFor="new-token-secret" className="sr-only">
          New token secret
        </label>
        <input
          id="new-token-secret"
          readOnly
          value={created.token}
          onFocus={(e) => e.target.select()}
          data-testid="token-secret"
          className="h-9 min-w-0 flex-1 basis-72 rounded-md border-0 bg-white px-3 font-mono text-sm text-gray-900 ring-1 ring-brand-200 ring-inset focus:ring-2 focus:ring-brand-600 focus:outline-none"
        />
        <CopyButton text={created.token} />
        <Button variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
    </Alert>
  );
}

function RevokeToken({ token, onClose }: { token: ApiToken | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeToken(id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.tokens });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      open={token !== null}
      title={`Revoke ${token?.name ?? 'token'}?`}
      description="It stops working at once: scripts that use it get 401 Unauthorized. This cannot be undone."
      confirmLabel="Revoke token"
      busy={revoke.isPending}
      error={revoke.error}
      onConfirm={() => token && revoke.mutate(token.id)}
      onClose={() => {
        revoke.reset();
        onClose();
      }}
    />
  );
}
