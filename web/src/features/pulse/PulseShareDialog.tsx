import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { CreatedPulseShare, Store } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { useSession } from '../shell/session';

const dateFmt = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric' });

/** Read-only links to a store's Pulse page (the office TV): create one (shown once), list and revoke. */
export function PulseShareDialog({ open, onClose, store }: { open: boolean; onClose: () => void; store: Store }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<CreatedPulseShare | null>(null);
  const [copied, setCopied] = useState(false);
  const shares = useQuery({ queryKey: keys.pulseShares(slug), queryFn: ({ signal }) => api.pulseShares(slug, signal), enabled: open });
  const create = useMutation({
    mutationFn: () => api.createPulseShare(slug, { store_id: store.id }),
    onSuccess: (share) => {
      setCreated(share);
      setCopied(false);
      void queryClient.invalidateQueries({ queryKey: keys.pulseShares(slug) });
    },
  });
  const revoke = useMutation({
    mutationFn: (shareId: string) => api.revokePulseShare(slug, shareId),
    onSuccess: (_, shareId) => {
      if (created?.id === shareId) setCreated(null);
      void queryClient.invalidateQueries({ queryKey: keys.pulseShares(slug) });
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
  const active = (shares.data ?? []).filter((s) => s.store_id === store.id && !s.revoked_at && (!s.expires_at || new Date(s.expires_at) > new Date()));
  return (
    <Dialog
      open={open}
      onClose={() => {
        setCreated(null);
        onClose();
      }}
      title={`Share the Pulse of “${store.name}”`}
      description="Anyone with the link sees today's sales of this store live, without an account: amounts and campaigns, never customers. They cannot change anything."
    >
      <div className="space-y-4">
        {created ? (
          <div className="rounded-md border border-brand-200 bg-brand-50 p-3">
            <p className="text-sm font-medium text-brand-900">Link created. Copy it now: it is shown only once.</p>
            <div className="mt-2 flex gap-2">
              <input
                readOnly
                value={created.url}
                aria-label="Pulse share link"
                onFocus={(e) => e.currentTarget.select()}
                className="h-9 min-w-0 flex-1 rounded-md border-0 bg-white px-3 font-mono text-xs text-gray-800 ring-1 ring-gray-300 ring-inset"
                data-testid="pulse-share-url"
              />
              <Button variant="secondary" onClick={() => void copy()}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            </div>
          </div>
        ) : (
          <Button busy={create.isPending} onClick={() => create.mutate()}>
            Create link
          </Button>
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
                  <span className="text-gray-700">Created {dateFmt.format(new Date(s.created_at))}</span>
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
