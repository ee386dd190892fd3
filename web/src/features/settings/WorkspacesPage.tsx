import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { Store, Workspace } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { Field, Select } from '../../components/ui/Field';
import { useSession } from '../shell/session';
import { WorkspacePeopleDialog } from './WorkspacePeople';
import { ConfirmDialog, EmptyCard, fieldError, formError, ListSkeleton, PageHeader } from './parts';
import { browserTimeZone, canAdminWorkspace, canWriteStores, COMMON_CURRENCIES, isOrgAdmin, timeZones } from './settings';

type DialogState =
  | { kind: 'new-workspace' }
  | { kind: 'rename-workspace'; workspace: Workspace }
  | { kind: 'delete-workspace'; workspace: Workspace; stores: Store[] }
  | { kind: 'new-store'; workspaceId: string }
  | { kind: 'edit-store'; store: Store }
  | { kind: 'delete-store'; store: Store }
  | null;

export default function WorkspacesPage() {
  const { slug, membership } = useSession();
  const workspaces = useQuery({ queryKey: keys.workspaces(slug), queryFn: ({ signal }) => api.workspaces(slug, signal) });
  const stores = useQuery({ queryKey: keys.stores(slug), queryFn: ({ signal }) => api.stores(slug, signal) });
  const [dialog, setDialog] = useState<DialogState>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [people, setPeople] = useState<Workspace | null>(null);
  const orgAdmin = isOrgAdmin(membership.role);
  const close = () => setDialog(null);
  const done = (message: string) => {
    setDialog(null);
    setNotice(message);
  };

  const byWorkspace = useMemo(() => {
    const map = new Map<string, Store[]>();
    for (const s of stores.data ?? []) map.set(s.workspace_id, [...(map.get(s.workspace_id) ?? []), s]);
    return map;
  }, [stores.data]);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Workspaces & stores"
        description="A workspace groups stores, for example one per client. A store is the business being measured, with its own currency and time zone."
        action={
          orgAdmin ? (
            <Button
              onClick={() => {
                setNotice(null);
                setDialog({ kind: 'new-workspace' });
              }}
            >
              New workspace
            </Button>
          ) : undefined
        }
      />
      {!orgAdmin && <Alert tone="info">Only owners and admins can create workspaces. Workspace admins and editors can change its stores.</Alert>}
      {notice && (
        <Alert tone="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Alert>
      )}

      {workspaces.isPending || stores.isPending ? (
        <ListSkeleton rows={3} />
      ) : workspaces.isError || stores.isError ? (
        <ErrorAlert
          error={workspaces.error ?? stores.error}
          onRetry={() => {
            void workspaces.refetch();
            void stores.refetch();
          }}
        />
      ) : workspaces.data.length === 0 ? (
        <EmptyCard title="No workspaces you can see">
          {orgAdmin ? 'Create a workspace to add stores to it.' : 'Ask an admin to add you to a workspace.'}
        </EmptyCard>
      ) : (
        <div className="space-y-4">
          {workspaces.data.map((ws) => {
            const list = byWorkspace.get(ws.id) ?? [];
            const wsAdmin = canAdminWorkspace(membership.role, ws.my_role);
            const writer = canWriteStores(membership.role, ws.my_role);
            return (
              <Card key={ws.id} data-workspace={ws.name}>
                <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-gray-100 px-4 py-3">
                  <div className="min-w-0 flex-1 basis-48">
                    <h2 className="truncate text-base font-semibold text-gray-900">{ws.name}</h2>
                    <p className="text-xs text-gray-500">
                      {list.length} {list.length === 1 ? 'store' : 'stores'}
                      {ws.my_role && <> · you are a workspace {ws.my_role}</>}
                    </p>
                  </div>
                  {writer && (
                    <Button
                      variant="secondary"
                      size="sm"
                      onClick={() => {
                        setNotice(null);
                        setDialog({ kind: 'new-store', workspaceId: ws.id });
                      }}
                      aria-label={`Add store to ${ws.name}`}
                    >
                      Add store
                    </Button>
                  )}
                  {wsAdmin && (
                    <Button variant="ghost" size="sm" onClick={() => setPeople(ws)} aria-label={`People in ${ws.name}`}>
                      People
                    </Button>
                  )}
                  {wsAdmin && (
                    <Button variant="ghost" size="sm" onClick={() => setDialog({ kind: 'rename-workspace', workspace: ws })} aria-label={`Rename ${ws.name}`}>
                      Rename
                    </Button>
                  )}
                  {orgAdmin && (
                    <Button variant="ghost" size="sm" className="text-red-700 hover:bg-red-50" onClick={() => setDialog({ kind: 'delete-workspace', workspace: ws, stores: list })} aria-label={`Delete ${ws.name}`}>
                      Delete
                    </Button>
                  )}
                </div>
                {list.length === 0 ? (
                  <p className="px-4 py-5 text-sm text-gray-500">No stores in this workspace yet.{writer ? ' Add one to connect integrations to it.' : ''}</p>
                ) : (
                  <ul className="divide-y divide-gray-100">
                    {list.map((s) => (
                      <li key={s.id} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3" data-store={s.name}>
                        <p className="min-w-0 flex-1 basis-40 truncate text-sm font-medium text-gray-900">{s.name}</p>
                        <div className="flex items-center gap-2 text-sm text-gray-600">
                          <Badge tone="gray">{s.currency}</Badge>
                          <span className="truncate">{s.timezone}</span>
                        </div>
                        {writer && (
                          <div className="flex gap-1">
                            <Button variant="ghost" size="sm" onClick={() => setDialog({ kind: 'edit-store', store: s })} aria-label={`Edit ${s.name}`}>
                              Edit
                            </Button>
                            <Button variant="ghost" size="sm" className="text-red-700 hover:bg-red-50" onClick={() => setDialog({ kind: 'delete-store', store: s })} aria-label={`Delete ${s.name}`}>
                              Delete
                            </Button>
                          </div>
                        )}
                      </li>
                    ))}
                  </ul>
                )}
              </Card>
            );
          })}
        </div>
      )}

      <WorkspaceDialog
        open={dialog?.kind === 'new-workspace' || dialog?.kind === 'rename-workspace'}
        workspace={dialog?.kind === 'rename-workspace' ? dialog.workspace : null}
        onClose={close}
        onDone={done}
      />
      <StoreDialog
        open={dialog?.kind === 'new-store' || dialog?.kind === 'edit-store'}
        store={dialog?.kind === 'edit-store' ? dialog.store : null}
        workspaceId={dialog?.kind === 'new-store' ? dialog.workspaceId : null}
        workspaces={(workspaces.data ?? []).filter((w) => canWriteStores(membership.role, w.my_role))}
        onClose={close}
        onDone={done}
      />
      <DeleteWorkspace dialog={dialog?.kind === 'delete-workspace' ? dialog : null} onClose={close} onDone={done} />
      <WorkspacePeopleDialog workspace={people} onClose={() => setPeople(null)} />
      <DeleteStore store={dialog?.kind === 'delete-store' ? dialog.store : null} onClose={close} onDone={done} />
    </div>
  );
}

function WorkspaceDialog({ open, workspace, onClose, onDone }: { open: boolean; workspace: Workspace | null; onClose: () => void; onDone: (m: string) => void }) {
  return (
    <Dialog open={open} onClose={onClose} title={workspace ? `Rename ${workspace.name}` : 'New workspace'} description={workspace ? undefined : 'For example one per client, or one per brand.'}>
      {open && <WorkspaceForm key={workspace?.id ?? 'new'} workspace={workspace} onClose={onClose} onDone={onDone} />}
    </Dialog>
  );
}

function WorkspaceForm({ workspace, onClose, onDone }: { workspace: Workspace | null; onClose: () => void; onDone: (m: string) => void }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState(workspace?.name ?? '');
  const save = useMutation({
    mutationFn: () => (workspace ? api.renameWorkspace(slug, workspace.id, { name: name.trim() }) : api.createWorkspace(slug, { name: name.trim() })),
    onSuccess: (ws) => {
      void queryClient.invalidateQueries({ queryKey: keys.workspaces(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.me });
      onDone(workspace ? `Workspace renamed to ${ws.name}.` : `Workspace ${ws.name} created.`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const other = formError(save.error, ['name']);
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <Field label="Workspace name" name="workspace-name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} error={fieldError(save.error, 'name')} />
      {other ? <ErrorAlert error={other} /> : null}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" busy={save.isPending} disabled={!name.trim()}>
          {workspace ? 'Save' : 'Create workspace'}
        </Button>
      </div>
    </form>
  );
}

function StoreDialog({
  open,
  store,
  workspaceId,
  workspaces,
  onClose,
  onDone,
}: {
  open: boolean;
  store: Store | null;
  workspaceId: string | null;
  workspaces: Workspace[];
  onClose: () => void;
  onDone: (m: string) => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={store ? `Edit ${store.name}` : 'New store'}
      description={store ? undefined : 'Money is counted in the store’s currency; daily numbers are days in its time zone.'}
    >
      {open && <StoreForm key={store?.id ?? workspaceId ?? 'new'} store={store} workspaceId={workspaceId} workspaces={workspaces} onClose={onClose} onDone={onDone} />}
    </Dialog>
  );
}

const STORE_FIELDS = ['name', 'currency', 'timezone', 'workspace_id'];

function StoreForm({
  store,
  workspaceId,
  workspaces,
  onClose,
  onDone,
}: {
  store: Store | null;
  workspaceId: string | null;
  workspaces: Workspace[];
  onClose: () => void;
  onDone: (m: string) => void;
}) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const zones = useMemo(() => timeZones(), []);
  const [form, setForm] = useState({
    name: store?.name ?? '',
    currency: store?.currency ?? 'USD',
    timezone: store?.timezone ?? browserTimeZone(),
    workspace_id: store?.workspace_id ?? workspaceId ?? workspaces[0]?.id ?? '',
  });
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const save = useMutation({
    mutationFn: () => {
      const body = { name: form.name.trim(), currency: form.currency.trim().toUpperCase(), timezone: form.timezone.trim() };
      return store ? api.updateStore(slug, store.id, body) : api.createStore(slug, { ...body, workspace_id: form.workspace_id });
    },
    onSuccess: (s) => {
      void queryClient.invalidateQueries({ queryKey: keys.stores(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.usage(slug) });
      onDone(store ? `Store ${s.name} saved.` : `Store ${s.name} created.`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const other = formError(save.error, STORE_FIELDS);
  const wsError = fieldError(save.error, 'workspace_id');
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <Field label="Store name" name="store-name" required autoFocus value={form.name} onChange={set('name')} error={fieldError(save.error, 'name')} placeholder="Acme shop" />
      <div className="grid gap-4 sm:grid-cols-[8rem_minmax(0,1fr)]">
        <Field
          label="Currency"
          name="store-currency"
          required
          list="currency-options"
          maxLength={3}
          autoCapitalize="characters"
          value={form.currency}
          onChange={set('currency')}
          error={fieldError(save.error, 'currency')}
          help="ISO 4217, e.g. EUR"
        />
        <Field
          label="Time zone"
          name="store-timezone"
          required
          list="timezone-options"
          value={form.timezone}
          onChange={set('timezone')}
          error={fieldError(save.error, 'timezone')}
          help="IANA name, e.g. Europe/Paris"
        />
      </div>
      <datalist id="currency-options">
        {COMMON_CURRENCIES.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      <datalist id="timezone-options">
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      {!store && (
        <div>
          <label htmlFor="store-workspace" className="block text-sm font-medium text-gray-800">
            Workspace
          </label>
          <Select id="store-workspace" value={form.workspace_id} onChange={set('workspace_id')} className="mt-1 w-full" aria-invalid={wsError ? true : undefined}>
            {workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </Select>
          {wsError && <p className="mt-1 text-xs text-red-700">{wsError}</p>}
        </div>
      )}
      {store && (
        <p className="text-xs text-gray-500">
          Changing the currency or time zone affects how new numbers are counted; numbers already synced keep their currency.
        </p>
      )}
      {other ? <ErrorAlert error={other} /> : null}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" busy={save.isPending} disabled={!form.name.trim()}>
          {store ? 'Save store' : 'Create store'}
        </Button>
      </div>
    </form>
  );
}

function DeleteWorkspace({
  dialog,
  onClose,
  onDone,
}: {
  dialog: { workspace: Workspace; stores: Store[] } | null;
  onClose: () => void;
  onDone: (m: string) => void;
}) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteWorkspace(slug, id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['org', slug] });
      void queryClient.invalidateQueries({ queryKey: keys.me });
      onDone(`Workspace ${dialog?.workspace.name ?? ''} deleted.`);
    },
  });
  const n = dialog?.stores.length ?? 0;
  return (
    <ConfirmDialog
      open={dialog !== null}
      title={`Delete ${dialog?.workspace.name ?? 'workspace'}?`}
      description={
        n === 0
          ? 'The workspace has no stores; its dashboards are deleted with it. This cannot be undone.'
          : `Its ${n === 1 ? 'store' : `${n} stores`} (${dialog?.stores.map((s) => s.name).join(', ')}) with their integrations and data, and the workspace’s dashboards, are deleted too. This cannot be undone.`
      }
      confirmLabel="Delete workspace"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => dialog && remove.mutate(dialog.workspace.id)}
      onClose={() => {
        remove.reset();
        onClose();
      }}
    />
  );
}

function DeleteStore({ store, onClose, onDone }: { store: Store | null; onClose: () => void; onDone: (m: string) => void }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteStore(slug, id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['org', slug] });
      onDone(`Store ${store?.name ?? ''} deleted.`);
    },
  });
  return (
    <ConfirmDialog
      open={store !== null}
      title={`Delete ${store?.name ?? 'store'}?`}
      description="Its integrations and synced data are deleted too. This cannot be undone."
      confirmLabel="Delete store"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => store && remove.mutate(store.id)}
      onClose={() => {
        remove.reset();
        onClose();
      }}
    />
  );
}
