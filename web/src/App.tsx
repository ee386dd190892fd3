import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { LoginPage, SignupPage } from './features/auth/AuthPages';
import { AppShell } from './features/shell/AppShell';
import { NotFound, PageLoading } from './features/shell/Pages';
import { SettingsIndex, SettingsLayout } from './features/settings/SettingsLayout';

// Route-level code splitting: charts (Recharts) load only with the pages that draw them.
const DashboardListPage = lazy(() => import('./features/dashboards/DashboardListPage'));
const DashboardPage = lazy(() => import('./features/dashboards/DashboardPage'));
const IntegrationsPage = lazy(() => import('./features/integrations/IntegrationsPage'));
const SharedDashboardPage = lazy(() => import('./features/shared/SharedDashboardPage'));
const AcceptInvitePage = lazy(() => import('./features/invite/AcceptInvitePage'));
const MembersPage = lazy(() => import('./features/settings/MembersPage'));
const WorkspacesPage = lazy(() => import('./features/settings/WorkspacesPage'));
const TokensPage = lazy(() => import('./features/settings/TokensPage'));
const PlanPage = lazy(() => import('./features/settings/PlanPage'));
const MailboxPage = lazy(() => import('./features/settings/MailboxPage'));

export function App() {
  return (
    <Suspense fallback={<PageLoading />}>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/signup" element={<SignupPage />} />
        <Route path="/shared/:token" element={<SharedDashboardPage />} />
        <Route path="/invite/:token" element={<AcceptInvitePage />} />
        <Route path="/invite" element={<AcceptInvitePage />} />
        <Route element={<AppShell />}>
          <Route index element={<DashboardListPage />} />
          <Route path="dashboards/:id" element={<DashboardPage />} />
          <Route path="settings" element={<SettingsLayout />}>
            <Route index element={<SettingsIndex />} />
            <Route path="integrations" element={<IntegrationsPage />} />
            <Route path="members" element={<MembersPage />} />
            <Route path="workspaces" element={<WorkspacesPage />} />
            <Route path="tokens" element={<TokensPage />} />
            <Route path="plan" element={<PlanPage />} />
            <Route path="mailbox" element={<MailboxPage />} />
          </Route>
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
