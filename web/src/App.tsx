import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { LoginPage, SignupPage } from './features/auth/AuthPages';
import { AppShell } from './features/shell/AppShell';
import { NotFound, PageLoading } from './features/shell/Pages';

// Route-level code splitting: charts (Recharts) load only with the pages that draw them.
const DashboardListPage = lazy(() => import('./features/dashboards/DashboardListPage'));
const DashboardPage = lazy(() => import('./features/dashboards/DashboardPage'));
const IntegrationsPage = lazy(() => import('./features/integrations/IntegrationsPage'));
const SharedDashboardPage = lazy(() => import('./features/shared/SharedDashboardPage'));

export function App() {
  return (
    <Suspense fallback={<PageLoading />}>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/signup" element={<SignupPage />} />
        <Route path="/shared/:token" element={<SharedDashboardPage />} />
        <Route element={<AppShell />}>
          <Route index element={<DashboardListPage />} />
          <Route path="dashboards/:id" element={<DashboardPage />} />
          <Route path="settings/integrations" element={<IntegrationsPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
