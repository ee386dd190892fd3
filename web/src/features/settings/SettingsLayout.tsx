import { Suspense } from 'react';
import { Navigate, NavLink, Outlet } from 'react-router';
import { cx } from '../../lib/cx';
import { PageLoading } from '../shell/Pages';
import { useSession } from '../shell/session';

const LINKS: { to: string; label: string; adminOnly?: boolean; notViewer?: boolean }[] = [
  { to: '/settings/integrations', label: 'Integrations' },
  { to: '/settings/members', label: 'Members' },
  { to: '/settings/workspaces', label: 'Workspaces & stores' },
  { to: '/settings/notifications', label: 'Notifications' },
  { to: '/settings/slack', label: 'Slack', notViewer: true },
  { to: '/settings/password', label: 'Password' },
  { to: '/settings/tokens', label: 'API tokens' },
  { to: '/settings/plan', label: 'Plan & usage' },
  { to: '/settings/mailbox', label: 'Mailbox', adminOnly: true },
];

/** The settings area: a sub-navigation (a scrolling row on phones, a column on wide screens) and the page. */
export function SettingsLayout() {
  const { canManage, canEdit } = useSession();
  const links = LINKS.filter((l) => (!l.adminOnly || canManage) && (!l.notViewer || canEdit));
  return (
    <div className="lg:grid lg:grid-cols-[12rem_minmax(0,1fr)] lg:gap-8">
      <nav aria-label="Settings" className="-mx-4 mb-6 border-b border-gray-200 px-4 sm:-mx-6 sm:px-6 lg:mx-0 lg:mb-0 lg:border-0 lg:px-0">
        <p className="hidden px-2.5 pb-2 text-xs font-semibold tracking-wide text-gray-500 uppercase lg:block">Settings</p>
        <ul className="-mb-px flex gap-1 overflow-x-auto lg:flex-col lg:overflow-visible">
          {links.map((l) => (
            <li key={l.to} className="shrink-0">
              <NavLink
                to={l.to}
                className={({ isActive }) =>
                  cx(
                    'block border-b-2 px-2.5 py-2 text-sm font-medium whitespace-nowrap lg:rounded-md lg:border-b-0 lg:py-1.5',
                    isActive
                      ? 'border-brand-600 text-gray-900 lg:bg-gray-100'
                      : 'border-transparent text-gray-600 hover:text-gray-900 lg:hover:bg-gray-50',
                  )
                }
              >
                {l.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="min-w-0">
        {/* Pages load lazily; the sub-navigation stays while one does. */}
        <Suspense fallback={<PageLoading />}>
          <Outlet />
        </Suspense>
      </div>
    </div>
  );
}

export function SettingsIndex() {
  return <Navigate to="/settings/members" replace />;
}
