import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, keys } from '../../api/endpoints';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card, Skeleton } from '../../components/ui/Card';
import { relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';
import { useProviderName } from '../shell/useProviders';
import { NewDashboardDialog } from './NewDashboardDialog';

export default function DashboardListPage() {
  const providerName = useProviderName();
  const { slug, canEdit, membership } = useSession();
  const [creating, setCreating] = useState<{ template?: string } | null>(null);
  const dashboards = useQuery({ queryKey: keys.dashboards(slug), queryFn: ({ signal }) => api.dashboards(slug, signal) });
  const templates = useQuery({ queryKey: keys.templates(slug), queryFn: ({ signal }) => api.templates(slug, signal) });
  const integrations = useQuery({ queryKey: keys.integrations(slug), queryFn: ({ signal }) => api.integrations(slug, signal) });
  const noIntegrations = integrations.data?.length === 0;

  return (
    <div>
      <div className="flex items-center justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-gray-900">Dashboards</h1>
          <p className="mt-0.5 text-sm text-gray-500">{membership.org_name}</p>
        </div>
        {canEdit && <Button onClick={() => setCreating({})}>New dashboard</Button>}
      </div>

      {noIntegrations && (
        <div className="mt-6 flex flex-wrap items-center justify-between gap-3 rounded-lg border border-brand-200 bg-brand-50 px-4 py-3">
          <p className="text-sm text-brand-900">
            <span className="font-medium">Connect a data source to fill your dashboards.</span> Stripe and Shopify take about a minute.
          </p>
          <Link to="/settings/integrations" className="inline-flex h-8 items-center rounded-md bg-brand-700 px-3 text-sm font-medium text-white hover:bg-brand-800">
            Connect a provider
          </Link>
        </div>
      )}

      <ErrorAlert error={dashboards.error} className="mt-6" onRetry={() => void dashboards.refetch()} />

      {dashboards.isPending ? (
        <div className="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-28 rounded-lg" />
          ))}
        </div>
      ) : dashboards.data && dashboards.data.length > 0 ? (
        <ul className="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {dashboards.data.map((d) => (
            <li key={d.id}>
              <Link to={`/dashboards/${d.id}`} className="block h-full rounded-lg focus-visible:outline-offset-4">
                <Card className="h-full p-4 transition-shadow hover:shadow-md">
                  <div className="flex items-start justify-between gap-2">
                    <h2 className="truncate font-medium text-gray-900">{d.name}</h2>
                    <Badge>{d.visibility}</Badge>
                  </div>
                  <p className="mt-1 line-clamp-2 h-10 text-sm text-gray-600">{d.description || 'No description.'}</p>
                  <p className="mt-3 text-xs text-gray-500">Updated {relativeTime(d.updated_at)}</p>
                </Card>
              </Link>
            </li>
          ))}
        </ul>
      ) : dashboards.data ? (
        <div className="mt-6">
          <h2 className="text-sm font-semibold text-gray-900">Start from a template</h2>
          <p className="text-sm text-gray-500">Each template builds a dashboard for one of your stores in one click.</p>
          <ul className="mt-3 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {(templates.data ?? []).map((t) => (
              <li key={t.id}>
                <Card className="flex h-full flex-col p-4">
                  <div className="flex items-center gap-2">
                    <h3 className="font-medium text-gray-900">{t.name}</h3>
                    {t.providers.map((p) => (
                      <Badge key={p}>{providerName(p)}</Badge>
                    ))}
                  </div>
                  <p className="mt-1 flex-1 text-sm text-gray-600">{t.description}</p>
                  {canEdit && (
                    <Button variant="secondary" size="sm" className="mt-3 self-start" onClick={() => setCreating({ template: t.id })}>
                      Use template
                    </Button>
                  )}
                </Card>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <NewDashboardDialog open={creating !== null} initialTemplate={creating?.template} onClose={() => setCreating(null)} />
    </div>
  );
}
