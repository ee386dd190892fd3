import { Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage } from './features/auth/AuthPages';
import { AppShell } from './features/shell/AppShell';
import { lazyPage, PageErrorBoundary } from './features/shell/lazyPage';
import { NotFound, PageLoading } from './features/shell/Pages';
import { SettingsIndex, SettingsLayout } from './features/settings/SettingsLayout';

// Route-level code splitting: charts (Recharts) load only with the pages that draw them.
const DashboardListPage = lazyPage(() => import('./features/dashboards/DashboardListPage'));
const loadDashboardPage = () => import('./features/dashboards/DashboardPage');
const DashboardPage = lazyPage(loadDashboardPage);
const IntegrationsPage = lazyPage(() => import('./features/integrations/IntegrationsPage'));
const PulsePage = lazyPage(() => import('./features/pulse/PulsePage'));
const loadSharedPage = () => import('./features/shared/SharedDashboardPage');
const SharedDashboardPage = lazyPage(loadSharedPage);
const SharedPulsePage = lazyPage(() => import('./features/shared/SharedPulsePage'));

// Opening a dashboard link: fetch its code (and the charts) while the session is
// checked, instead of after. The lazy pages reuse the same module promise.
if (window.location.pathname.startsWith('/dashboards/')) void loadDashboardPage().catch(() => {});
if (window.location.pathname.startsWith('/shared/')) void loadSharedPage().catch(() => {});
const AcceptInvitePage = lazyPage(() => import('./features/invite/AcceptInvitePage'));
const MembersPage = lazyPage(() => import('./features/settings/MembersPage'));
const WorkspacesPage = lazyPage(() => import('./features/settings/WorkspacesPage'));
const TokensPage = lazyPage(() => import('./features/settings/TokensPage'));
const PasswordPage = lazyPage(() => import('./features/settings/PasswordPage'));
const PlanPage = lazyPage(() => import('./features/settings/PlanPage'));
const MailboxPage = lazyPage(() => import('./features/settings/MailboxPage'));
const NotificationsPage = lazyPage(() => import('./features/settings/NotificationsPage'));
const SlackPage = lazyPage(() => import('./features/settings/SlackPage'));
const AlertsPage = lazyPage(() => import('./features/alerts/AlertsPage'));

export function App() {
  return (
    <PageErrorBoundary>
      <Suspense fallback={<PageLoading />}>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/signup" element={<SignupPage />} />
          <Route path="/forgot-password" element={<ForgotPasswordPage />} />
          <Route path="/reset-password/:token" element={<ResetPasswordPage />} />
          <Route path="/shared/:token" element={<SharedDashboardPage />} />
          <Route path="/shared-pulse/:token" element={<SharedPulsePage />} />
          <Route path="/invite/:token" element={<AcceptInvitePage />} />
          <Route path="/invite" element={<AcceptInvitePage />} />
          <Route element={<AppShell />}>
            <Route index element={<DashboardListPage />} />
            <Route path="dashboards/:id" element={<DashboardPage />} />
            <Route path="alerts" element={<AlertsPage />} />
            <Route path="pulse" element={<PulsePage />} />
            <Route path="settings" element={<SettingsLayout />}>
              <Route index element={<SettingsIndex />} />
              <Route path="integrations" element={<IntegrationsPage />} />
              <Route path="members" element={<MembersPage />} />
              <Route path="workspaces" element={<WorkspacesPage />} />
              <Route path="password" element={<PasswordPage />} />
              <Route path="tokens" element={<TokensPage />} />
              <Route path="plan" element={<PlanPage />} />
              <Route path="mailbox" element={<MailboxPage />} />
              <Route path="notifications" element={<NotificationsPage />} />
              <Route path="slack" element={<SlackPage />} />
            </Route>
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </Suspense>
    </PageErrorBoundary>
  );
}
