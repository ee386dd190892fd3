import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { Integration } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Skeleton } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { useSession } from '../shell/session';

/** After consent, the accounts the grant can read (GA4's properties), grouped by what
 * they belong to; picking one activates the integration and starts its first sync. */
export function AccountPicker({
  integrationId,
  providerName,
  onClose,
  onChosen,
}: {
  integrationId: string;
  providerName: string;
  onClose: () => void;
  onChosen: (integration: Integration) => void;
}) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [picked, setPicked] = useState<string | null>(null);
  const accounts = useQuery({
    queryKey: ['org', slug, 'integration-accounts', integrationId],
    queryFn: ({ signal }) => api.accounts(slug, integrationId, signal),
    staleTime: 60_000,
  });
  const choose = useMutation({
    mutationFn: (account: string) => api.chooseAccount(slug, integrationId, account),
    onSuccess: (integration) => {
      void queryClient.invalidateQueries({ queryKey: keys.integrations(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.syncJobs(slug) });
      onChosen(integration);
    },
  });
  const groups = new Map<string, { id: string; label: string }[]>();
  for (const a of accounts.data ?? []) {
    const group = a.group ?? '';
    groups.set(group, [...(groups.get(group) ?? []), { id: a.id, label: a.label }]);
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (picked) choose.mutate(picked);
  };
  return (
    <Dialog open onClose={onClose} title={`Pick the ${providerName} property`} description="Pulseboard reads the property you pick, and only that one.">
      <form onSubmit={submit} className="space-y-4">
        {accounts.isPending ? (
          <div className="space-y-2">
            <Skeleton className="h-6" />
            <Skeleton className="h-6" />
          </div>
        ) : accounts.data && accounts.data.length === 0 ? (
          <p className="text-sm text-gray-600">This Google account cannot read any property. Sign in with an account that has Viewer access to one.</p>
        ) : (
          <div className="max-h-80 space-y-4 overflow-y-auto">
            {[...groups.entries()].map(([group, items]) => (
              <fieldset key={group}>
                {group && <legend className="mb-1 text-xs font-semibold tracking-wide text-gray-500 uppercase">{group}</legend>}
                {items.map((a) => (
                  <label key={a.id} className="flex cursor-pointer items-center gap-2 rounded px-2 py-1.5 text-sm hover:bg-gray-50">
                    <input type="radio" name="account" value={a.id} checked={picked === a.id} onChange={() => setPicked(a.id)} />
                    <span className="text-gray-900">{a.label}</span>
                    <span className="text-xs text-gray-500 tabular-nums">{a.id}</span>
                  </label>
                ))}
              </fieldset>
            ))}
          </div>
        )}
        <ErrorAlert error={accounts.error ?? choose.error} />
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={onClose}>
            Later
          </Button>
          <Button type="submit" busy={choose.isPending} disabled={!picked}>
            Use this property
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
