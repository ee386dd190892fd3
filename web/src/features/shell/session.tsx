// Who is signed in, which organization and store they are looking at. The choice
// of org and store is remembered in localStorage (not the URL), so provider
// callbacks such as /settings/integrations?connected=stripe land in the same place.
// A link may still name the org (`?org=acme`, as mails do): it switches to that org
// when the user belongs to it.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useLocation } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { Me, MembershipWithWorkspaces, Store, Workspace } from '../../api/types';

const ORG_KEY = 'pulseboard.org';
const storeKey = (org: string) => `pulseboard.store.${org}`;
const workspaceKey = (org: string) => `pulseboard.workspace.${org}`;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

/** Opens `slug` the next time the signed-in shell mounts (after accepting an invite). */
export function rememberOrg(slug: string) {
  write(ORG_KEY, slug);
}

export interface Session {
  me: Me;
  membership: MembershipWithWorkspaces;
  slug: string;
  /** owner/admin may manage integrations and shares. */
  canManage: boolean;
  /** viewers cannot edit dashboards. */
  canEdit: boolean;
  /** The workspaces the caller can see; `workspace` narrows the stores (null: all). */
  workspaces: Workspace[];
  workspace: Workspace | null;
  setWorkspace: (id: string | null) => void;
  /** The stores of the chosen workspace (or all). */
  stores: Store[];
  storesLoading: boolean;
  store: Store | null;
  setOrg: (slug: string) => void;
  setStore: (id: string) => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  const [orgChoice, setOrgChoice] = useState<string | null>(() => {
    const wanted = new URLSearchParams(window.location.search).get('org');
    if (wanted && me.memberships.some((m) => m.org_slug === wanted)) {
      write(ORG_KEY, wanted);
      return wanted;
    }
    return read(ORG_KEY);
  });
  const membership = me.memberships.find((m) => m.org_slug === orgChoice) ?? me.memberships[0];
  const slug = membership?.org_slug ?? '';
  const [storeChoice, setStoreChoice] = useState<string | null>(() => (slug ? read(storeKey(slug)) : null));
  const stores = useQuery({
    queryKey: keys.stores(slug),
    queryFn: ({ signal }) => api.stores(slug, signal),
    enabled: Boolean(slug),
  });
  const workspaces = useQuery({
    queryKey: keys.workspaces(slug),
    queryFn: ({ signal }) => api.workspaces(slug, signal),
    enabled: Boolean(slug),
  });
  const [workspaceChoice, setWorkspaceChoice] = useState<string | null>(() => (slug ? read(workspaceKey(slug)) : null));
  const workspaceList = useMemo(() => workspaces.data ?? [], [workspaces.data]);
  const workspace = workspaceList.find((w) => w.id === workspaceChoice) ?? null;
  const list = useMemo(
    () => (stores.data ?? []).filter((s) => !workspace || s.workspace_id === workspace.id),
    [stores.data, workspace],
  );
  const store = list.find((s) => s.id === storeChoice) ?? list[0] ?? null;

  const setOrg = useCallback((next: string) => {
    write(ORG_KEY, next);
    setOrgChoice(next);
    setStoreChoice(read(storeKey(next)));
    setWorkspaceChoice(read(workspaceKey(next)));
  }, []);
  // The same for links followed inside the app.
  const { search } = useLocation();
  useEffect(() => {
    const wanted = new URLSearchParams(search).get('org');
    if (wanted && wanted !== slug && me.memberships.some((m) => m.org_slug === wanted)) setOrg(wanted);
    // Only when the link changes: switching orgs by hand must not bounce back.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);
  const setWorkspace = useCallback(
    (id: string | null) => {
      write(workspaceKey(slug), id ?? '');
      setWorkspaceChoice(id);
    },
    [slug],
  );
  const setStore = useCallback(
    (id: string) => {
      write(storeKey(slug), id);
      setStoreChoice(id);
    },
    [slug],
  );

  const value = useMemo<Session | null>(() => {
    if (!membership) return null;
    return {
      me,
      membership,
      slug,
      canManage: membership.role === 'owner' || membership.role === 'admin',
      canEdit: membership.role !== 'viewer',
      workspaces: workspaceList,
      workspace,
      setWorkspace,
      stores: list,
      storesLoading: stores.isPending,
      store,
      setOrg,
      setStore,
    };
  }, [me, membership, slug, workspaceList, workspace, setWorkspace, list, stores.isPending, store, setOrg, setStore]);

  if (!value) {
    return (
      <div className="mx-auto max-w-md py-24 text-center text-sm text-gray-600">
        You are not a member of any organization yet. Ask an owner to invite you.
      </div>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** Whether a signed-in shell is around (false on public pages such as shares). */
export function useSignedIn(): boolean {
  return useContext(SessionContext) !== null;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
