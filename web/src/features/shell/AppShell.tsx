import { useMutation, usePrefetchQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { cx } from '../../lib/cx';
import { Logo, PageLoading } from './Pages';
import { SessionProvider, useSession } from './session';
import { providersQuery } from './useProviders';

/** The signed-in frame: header with navigation and switchers; pages render below. */
export function AppShell() {
  const location = useLocation();
  const me = useQuery({ queryKey: keys.me, queryFn: ({ signal }) => api.me(signal), retry: false, staleTime: 60_000 });
  if (me.isPending) return <PageLoading />;
  if (me.error instanceof ApiError && me.error.status === 401) {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (me.isError) {
    return (
      <div className="mx-auto max-w-lg py-24">
        <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
      </div>
    );
  }
  return (
    <SessionProvider me={me.data}>
      <div className="min-h-screen">
        <Header />
        <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 lg:px-8">
          <Outlet />
        </main>
      </div>
    </SessionProvider>
  );
}

function Header() {
  const { me, membership, workspaces, workspace, setWorkspace, stores, store, setOrg, setStore, canEdit } = useSession();
  // Provider names (badges, "Connect Stripe", metric groups) load with the shell, not with each page.
  usePrefetchQuery(providersQuery);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const logout = useMutation({
    mutationFn: api.logout,
    onSettled: () => {
      queryClient.clear();
      void navigate('/login', { replace: true });
    },
  });
  // Integrations has its own link; "Settings" lights up for the rest of /settings.
  const { pathname } = useLocation();
  const inSettings = pathname.startsWith('/settings') && !pathname.startsWith('/settings/integrations');
  const navClass = ({ isActive }: { isActive: boolean }) =>
    cx('rounded-md px-2 py-1.5 text-sm font-medium sm:px-2.5', isActive ? 'bg-gray-100 text-gray-900' : 'text-gray-600 hover:text-gray-900');
  return (
    <header className="sticky top-0 z-20 border-b border-gray-200 bg-white/95 backdrop-blur">
      <div className="mx-auto flex min-h-14 max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2 sm:px-6 lg:px-8">
        <Link to="/" aria-label="Pulseboard home" className="shrink-0">
          <Logo />
        </Link>
        {/* On a phone the links wrap rather than widen the page. */}
        <nav className="flex min-w-0 flex-wrap items-center gap-1" aria-label="Main">
          <NavLink to="/" end className={navClass}>
            Dashboards
          </NavLink>
          {/* Viewers (client-portal users) see dashboards only: the alerts API refuses them. */}
          {canEdit && (
            <NavLink to="/alerts" className={navClass}>
              Alerts
            </NavLink>
          )}
          <NavLink to="/pulse" className={navClass}>
            Pulse
          </NavLink>
          <NavLink to="/settings/integrations" className={navClass}>
            Integrations
          </NavLink>
          <Link to="/settings" aria-current={inSettings ? 'page' : undefined} className={navClass({ isActive: inSettings })}>
            Settings
          </Link>
        </nav>
        {/* On phones the switchers take a row of their own under the navigation. */}
        <div className="order-last flex w-full min-w-0 items-center gap-2 md:order-none md:ml-auto md:w-auto">
          <label className="sr-only" htmlFor="org-switcher">
            Organization
          </label>
          <select
            id="org-switcher"
            value={membership.org_slug}
            onChange={(e) => {
              setOrg(e.target.value);
              void navigate('/');
            }}
            className="h-8 min-w-0 flex-1 truncate rounded-md border-0 bg-gray-50 py-0 pr-7 pl-2 text-sm font-medium text-gray-800 ring-1 ring-gray-200 ring-inset md:max-w-44 md:flex-none"
          >
            {me.memberships.map((m) => (
              <option key={m.org_slug} value={m.org_slug}>
                {m.org_name}
              </option>
            ))}
          </select>
          <span className="text-gray-300" aria-hidden="true">
            /
          </span>
          {/* Agencies group stores by client: with several workspaces, pick one to narrow the stores. */}
          {workspaces.length > 1 && (
            <>
              <label className="sr-only" htmlFor="workspace-switcher">
                Workspace
              </label>
              <select
                id="workspace-switcher"
                value={workspace?.id ?? ''}
                onChange={(e) => setWorkspace(e.target.value || null)}
                className="h-8 min-w-0 flex-1 truncate rounded-md border-0 bg-gray-50 py-0 pr-7 pl-2 text-sm text-gray-700 ring-1 ring-gray-200 ring-inset md:max-w-40 md:flex-none"
              >
                <option value="">All workspaces</option>
                {workspaces.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
              <span className="text-gray-300" aria-hidden="true">
                /
              </span>
            </>
          )}
          <label className="sr-only" htmlFor="store-switcher">
            Store
          </label>
          <select
            id="store-switcher"
            value={store?.id ?? ''}
            onChange={(e) => setStore(e.target.value)}
            disabled={stores.length === 0}
            className="h-8 min-w-0 flex-1 truncate rounded-md border-0 bg-gray-50 py-0 pr-7 pl-2 text-sm text-gray-700 ring-1 ring-gray-200 ring-inset md:max-w-44 md:flex-none"
          >
            {stores.length === 0 && <option value="">No stores</option>}
            {stores.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {s.currency}
              </option>
            ))}
          </select>
        </div>
        <div className="ml-auto flex items-center gap-2 md:ml-0">
          <span className="hidden h-5 w-px bg-gray-200 md:block" aria-hidden="true" />
          <span className="hidden max-w-40 truncate text-sm text-gray-600 lg:block" title={me.user.email}>
            {me.user.name}
          </span>
          <Button variant="ghost" size="sm" busy={logout.isPending} onClick={() => logout.mutate()}>
            Log out
          </Button>
        </div>
      </div>
    </header>
  );
}
