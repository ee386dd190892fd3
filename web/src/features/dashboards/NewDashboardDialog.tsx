import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, keys } from '../../api/endpoints';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { Field, Select } from '../../components/ui/Field';
import { cx } from '../../lib/cx';
import { useSession } from '../shell/session';
import { useProviderName } from '../shell/useProviders';

const BLANK = '__blank__';

/** A dashboard from a template (for one store) or an empty one. */
export function NewDashboardDialog({ open, onClose, initialTemplate }: { open: boolean; onClose: () => void; initialTemplate?: string }) {
  const providerName = useProviderName();
  const { slug, stores, store } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const templates = useQuery({ queryKey: keys.templates(slug), queryFn: ({ signal }) => api.templates(slug, signal), enabled: open });
  const [choice, setChoice] = useState<string>(initialTemplate ?? 'saas_revenue');
  const [storeId, setStoreId] = useState(store?.id ?? '');
  const [name, setName] = useState('');
  useEffect(() => {
    if (open) {
      setChoice(initialTemplate ?? 'saas_revenue');
      setStoreId(store?.id ?? '');
      setName('');
    }
  }, [open, initialTemplate, store?.id]);

  const create = useMutation({
    mutationFn: async () => {
      const target = stores.find((s) => s.id === storeId) ?? store;
      if (!target) throw new Error('Create a store first.');
      if (choice === BLANK) {
        return api.createDashboard(slug, { name: name.trim() || 'Untitled dashboard', workspace_id: target.workspace_id });
      }
      return api.fromTemplate(slug, { template: choice, store_id: target.id, ...(name.trim() ? { name: name.trim() } : {}) });
    },
    onSuccess: (d) => {
      void queryClient.invalidateQueries({ queryKey: keys.dashboards(slug) });
      onClose();
      void navigate(`/dashboards/${d.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const options = [...(templates.data ?? []), { id: BLANK, name: 'Blank dashboard', description: 'Start empty and add widgets yourself.', providers: [] as string[] }];
  return (
    <Dialog open={open} onClose={onClose} title="New dashboard" description="Start from a template: its widgets read the store you pick.">
      <form onSubmit={submit} className="space-y-4">
        <fieldset>
          <legend className="sr-only">Template</legend>
          <div className="grid gap-2">
            {templates.isPending && <p className="text-sm text-gray-500">Loading templates…</p>}
            {options.map((t) => (
              <label
                key={t.id}
                className={cx(
                  'flex cursor-pointer items-start gap-3 rounded-lg border p-3 text-sm',
                  choice === t.id ? 'border-brand-500 bg-brand-50/60 ring-1 ring-brand-500' : 'border-gray-200 hover:border-gray-300',
                )}
              >
                <input type="radio" name="template" value={t.id} checked={choice === t.id} onChange={() => setChoice(t.id)} className="mt-0.5 accent-brand-600" />
                <span className="min-w-0">
                  <span className="flex items-center gap-2 font-medium text-gray-900">
                    {t.name}
                    {t.providers.map((p) => (
                      <Badge key={p}>{providerName(p)}</Badge>
                    ))}
                  </span>
                  <span className="mt-0.5 block text-gray-600">{t.description}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="grid gap-3 sm:grid-cols-2">
          <div>
            <label htmlFor="new-store" className="block text-sm font-medium text-gray-800">
              Store
            </label>
            <Select id="new-store" value={storeId} onChange={(e) => setStoreId(e.target.value)} className="mt-1 w-full">
              {stores.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </Select>
          </div>
          <Field label="Name (optional)" value={name} onChange={(e) => setName(e.target.value)} placeholder={options.find((o) => o.id === choice)?.name} />
        </div>
        <ErrorAlert error={create.error ?? templates.error} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" busy={create.isPending} disabled={stores.length === 0}>
            Create dashboard
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
