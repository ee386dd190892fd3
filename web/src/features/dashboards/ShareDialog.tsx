import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { CreatedShare, Dashboard } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { Select } from '../../components/ui/Field';
import { useSession } from '../shell/session';

const EXPIRIES = [
  { value: '', label: 'Never expires' },
  { value: '1', label: 'Expires in 1 day' },
  { value: '7', label: 'Expires in 7 days' },
  { value: '30', label: 'Expires in 30 days' },
];

const dateFmt = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric' });

/** Read-only links to a dashboard: create one (its URL is shown once), list and revoke. */
export function ShareDialog({ open, onClose, dashboard }: { open: boolean; onClose: () => void; dashboard: Dashboard }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [expiry, setExpiry] = useState('');
  const [created, setCreated] = useState<CreatedShare | null>(null);
  const [copied, setCopied] = useState(false);
  const shares = useQuery({
    queryKey: keys.shares(slug, dashboard.id),
    queryFn: ({ signal }) => api.shares(slug, dashboard.id, signal),
    enabled: open,
  });
  const create = useMutation({
    mutationFn: () =>
      api.createShare(slug, dashboard.id, {
        expires_at: expiry ? new Date(Date.now() + Number(expiry) * 86_400_000).toISOString() : null,
      }),
    onSuccess: (share) => {
      setCreated(share);
      setCopied(false);
      void queryClient.invalidateQueries({ queryKey: keys.shares(slug, dashboard.id) });
    },
  });
  const revoke = useMutation({
    mutationFn: (shareId: string) => api.revokeShare(slug, dashboard.id, shareId),
    onSuccess: (_, shareId) => {
      if (created?.id === shareId) setCreated(null);
      void queryClient.invalidateQueries({ queryKey: keys.shares(slug, dashboard.id) });
    },
  });
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.url);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  const active = (shares.data ?? []).filter((s) => !s.revoked_at && (!s.expires_at || new Date(s.expires_at) > new Date()));
  return (
    <Dialog
      open={open}
      onClose={() => {
        setCreated(null);
        onClose();
      }}
      title={`Share “${dashboard.name}”`}
      description="Anyone with the link can view this dashboard without an account. They cannot change anything or see other dashboards."
    >
      <div className="space-y-4">
        {created ? (
          <div className="rounded-md border border-brand-200 bg-brand-50 p-3">
            <p className="text-sm font-medium text-brand-900">Link created. Copy it now: it is shown only once.</p>
            <div className="mt-2 flex gap-2">
              <input
                readOnly
                value={created.url}
                aria-label="Share link"
                onFocus={(e) => e.currentTarget.select()}
                className="h-9 min-w-0 flex-1 rounded-md border-0 bg-white px-3 font-mono text-xs text-gray-800 ring-1 ring-gray-300 ring-inset"
                data-testid="share-url"
              />
              <Button variant="secondary" onClick={() => void copy()}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            </div>
          </div>
        ) : (
          <div className="flex gap-2">
            <label className="sr-only" htmlFor="share-expiry">
              Expiry
            </label>
            <Select id="share-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)} className="flex-1">
              {EXPIRIES.map((x) => (
                <option key={x.value} value={x.value}>
                  {x.label}
                </option>
              ))}
            </Select>
            <Button busy={create.isPending} onClick={() => create.mutate()}>
              Create link
            </Button>
          </div>
        )}
        <ErrorAlert error={create.error ?? revoke.error ?? shares.error} />
        <div>
          <h3 className="text-xs font-semibold tracking-wide text-gray-500 uppercase">Active links</h3>
          {shares.isPending ? (
            <p className="mt-2 text-sm text-gray-500">Loading…</p>
          ) : active.length === 0 ? (
            <p className="mt-2 text-sm text-gray-500">No active links.</p>
          ) : (
            <ul className="mt-2 divide-y divide-gray-100 rounded-md border border-gray-200">
              {active.map((s) => (
                <li key={s.id} className="flex items-center justify-between gap-3 px-3 py-2 text-sm">
                  <span className="text-gray-700">
                    Created {dateFmt.format(new Date(s.created_at))}
                    {s.widget_ids && <Badge className="ml-2">{s.widget_ids.length} widgets</Badge>}
                    <span className="ml-2 text-gray-500">{s.expires_at ? `· expires ${dateFmt.format(new Date(s.expires_at))}` : '· no expiry'}</span>
                  </span>
                  <Button variant="danger" size="sm" busy={revoke.isPending && revoke.variables === s.id} onClick={() => revoke.mutate(s.id)}>
                    Revoke
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </Dialog>
  );
}
