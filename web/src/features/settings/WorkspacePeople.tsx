// Who belongs to one workspace and with which workspace role. Org owners and admins
// see every workspace anyway; members and viewers see only the ones they are added to.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { OrgRole, Workspace, WorkspaceMember, WorkspaceRole } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Skeleton } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { Select } from '../../components/ui/Field';
import { useSession } from '../shell/session';
import { isOrgAdmin, ROLE_LABEL } from './settings';

const WS_ROLES: WorkspaceRole[] = ['admin', 'editor', 'viewer'];
const WS_LABEL: Record<WorkspaceRole, string> = { admin: 'Admin', editor: 'Editor', viewer: 'Viewer' };

export function WorkspacePeopleDialog({ workspace, onClose }: { workspace: Workspace | null; onClose: () => void }) {
  return (
    <Dialog
      open={workspace !== null}
      onClose={onClose}
      title={`People in ${workspace?.name ?? 'workspace'}`}
      description="Organization owners and admins see every workspace. Members and viewers see the workspaces they are added to here."
    >
      {workspace && <People workspace={workspace} />}
    </Dialog>
  );
}

function People({ workspace }: { workspace: Workspace }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const people = useQuery({
    queryKey: keys.workspaceMembers(slug, workspace.id),
    queryFn: ({ signal }) => api.workspaceMembers(slug, workspace.id, signal),
    staleTime: 0,
  });
  const orgMembers = useQuery({ queryKey: keys.members(slug), queryFn: ({ signal }) => api.members(slug, signal) });
  const put = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: WorkspaceRole }) => api.putWorkspaceMember(slug, workspace.id, userId, { role }),
    onSuccess: (list) => {
      queryClient.setQueryData(keys.workspaceMembers(slug, workspace.id), list);
      void queryClient.invalidateQueries({ queryKey: keys.workspaces(slug) });
    },
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api.removeWorkspaceMember(slug, workspace.id, userId),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.workspaceMembers(slug, workspace.id) });
      void queryClient.invalidateQueries({ queryKey: keys.workspaces(slug) });
    },
  });
  const inWorkspace = new Set((people.data ?? []).map((p) => p.user_id));
  const addable = (orgMembers.data ?? []).filter((m) => !inWorkspace.has(m.user_id));
  const orgRole = new Map((orgMembers.data ?? []).map((m) => [m.user_id, m.role]));

  return (
    <div className="space-y-4">
      <ErrorAlert error={people.error ?? put.error ?? remove.error} />
      {people.isPending ? (
        <div className="space-y-2" aria-busy="true">
          <Skeleton className="h-10 w-full" />
          <Skeleton className="h-10 w-full" />
        </div>
      ) : people.data && people.data.length === 0 ? (
        <p className="text-sm text-gray-500">Nobody is added to this workspace yet.</p>
      ) : (
        <ul className="divide-y divide-gray-100 rounded-md ring-1 ring-gray-200" data-testid="workspace-people">
          {(people.data ?? []).map((p) => (
            <PersonRow
              key={p.user_id}
              person={p}
              orgRole={orgRole.get(p.user_id)}
              busy={(put.isPending && put.variables?.userId === p.user_id) || (remove.isPending && remove.variables === p.user_id)}
              onRole={(role) => put.mutate({ userId: p.user_id, role })}
              onRemove={() => remove.mutate(p.user_id)}
            />
          ))}
        </ul>
      )}
      {addable.length > 0 && <AddPerson candidates={addable} busy={put.isPending} onAdd={(userId, role) => put.mutate({ userId, role })} />}
    </div>
  );
}

function PersonRow({
  person,
  orgRole,
  busy,
  onRole,
  onRemove,
}: {
  person: WorkspaceMember;
  orgRole: OrgRole | undefined;
  busy: boolean;
  onRole: (r: WorkspaceRole) => void;
  onRemove: () => void;
}) {
  const id = `ws-role-${person.user_id}`;
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-2 px-3 py-2" data-person={person.email}>
      <div className="min-w-0 flex-1 basis-40">
        <p className="truncate text-sm font-medium text-gray-900">{person.name}</p>
        <p className="truncate text-xs text-gray-500">{person.email}</p>
      </div>
      {orgRole && isOrgAdmin(orgRole) && <Badge tone="blue">Org {ROLE_LABEL[orgRole].toLowerCase()}</Badge>}
      <label htmlFor={id} className="sr-only">
        Workspace role for {person.name}
      </label>
      <Select id={id} value={person.role} disabled={busy} onChange={(e) => onRole(e.target.value as WorkspaceRole)} className="w-28">
        {WS_ROLES.map((r) => (
          <option key={r} value={r}>
            {WS_LABEL[r]}
          </option>
        ))}
      </Select>
      <Button variant="ghost" size="sm" className="text-red-700 hover:bg-red-50" disabled={busy} onClick={onRemove} aria-label={`Remove ${person.name} from the workspace`}>
        Remove
      </Button>
    </li>
  );
}

function AddPerson({
  candidates,
  busy,
  onAdd,
}: {
  candidates: { user_id: string; name: string; email: string }[];
  busy: boolean;
  onAdd: (userId: string, role: WorkspaceRole) => void;
}) {
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<WorkspaceRole>('editor');
  const chosen = candidates.some((c) => c.user_id === userId) ? userId : (candidates[0]?.user_id ?? '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen) onAdd(chosen, role);
  };
  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2 border-t border-gray-100 pt-4">
      <div className="min-w-0 flex-1 basis-48">
        <label htmlFor="ws-add-person" className="block text-sm font-medium text-gray-800">
          Add a member of the organization
        </label>
        <Select id="ws-add-person" value={chosen} onChange={(e) => setUserId(e.target.value)} className="mt-1 w-full">
          {candidates.map((c) => (
            <option key={c.user_id} value={c.user_id}>
              {c.name} ({c.email})
            </option>
          ))}
        </Select>
      </div>
      <div>
        <label htmlFor="ws-add-role" className="block text-sm font-medium text-gray-800">
          As
        </label>
        <Select id="ws-add-role" value={role} onChange={(e) => setRole(e.target.value as WorkspaceRole)} className="mt-1 w-28">
          {WS_ROLES.map((r) => (
            <option key={r} value={r}>
              {WS_LABEL[r]}
            </option>
          ))}
        </Select>
      </div>
      <Button type="submit" busy={busy}>
        Add
      </Button>
    </form>
  );
}
