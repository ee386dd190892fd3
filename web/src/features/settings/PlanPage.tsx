import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, keys } from '../../api/endpoints';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Card, Skeleton } from '../../components/ui/Card';
import { cx } from '../../lib/cx';
import { useSession } from '../shell/session';
import { PageHeader } from './parts';
import { meter, type Meter } from './settings';

const nf = new Intl.NumberFormat('en-US');

const BAR: Record<Meter['state'], string> = {
  unlimited: 'bg-brand-500',
  ok: 'bg-brand-500',
  near: 'bg-amber-500',
  full: 'bg-red-500',
};

export default function PlanPage() {
  const { slug, membership } = useSession();
  const usage = useQuery({ queryKey: keys.usage(slug), queryFn: ({ signal }) => api.usage(slug, signal), staleTime: 0 });
  const u = usage.data;
  const rows = u
    ? [
        {
          id: 'stores',
          label: 'Stores',
          m: meter(u.stores, u.plan.max_stores),
          full: 'New stores are refused until you delete one or move to a bigger plan.',
          link: { to: '/settings/workspaces', label: 'Manage stores' },
        },
        {
          id: 'integrations',
          label: 'Integrations',
          m: meter(u.integrations, u.plan.max_integrations),
          full: 'New connections are refused until you disconnect one or move to a bigger plan.',
          link: { to: '/settings/integrations', label: 'Manage integrations' },
        },
        {
          id: 'events',
          label: 'Metric events this month',
          m: meter(u.metric_events_this_month, u.plan.max_events_per_month),
          full: 'This month’s cap is reached: syncs that would store more events fail until the month ends (UTC) or the plan grows.',
          link: null,
        },
      ]
    : [];
  const capped = rows.filter((r) => r.m.state === 'full');
  return (
    <div className="space-y-6">
      <PageHeader
        title="Plan & usage"
        description={
          <>
            What <span className="font-medium text-gray-700">{membership.org_name}</span> uses of its plan. Events are counted per calendar month in UTC.
          </>
        }
      />
      {usage.isError && <ErrorAlert error={usage.error} onRetry={() => void usage.refetch()} />}
      {capped.length > 0 && (
        <Alert tone="warning" title={capped.length === 1 ? `${capped[0]?.label} limit reached` : 'Plan limits reached'}>
          {capped.map((r) => r.label).join(', ')} {capped.length === 1 ? 'is' : 'are'} at the cap of the {u?.plan.name} plan.
        </Alert>
      )}
      <Card className="p-5">
        {usage.isPending || !u ? (
          <div aria-busy="true">
            <span className="sr-only" role="status">
              Loading
            </span>
            <Skeleton className="h-6 w-40" />
            <div className="mt-6 space-y-7">
              {[0, 1, 2].map((i) => (
                <div key={i}>
                  <Skeleton className="h-4 w-48" />
                  <Skeleton className="mt-2 h-2 w-full" />
                </div>
              ))}
            </div>
          </div>
        ) : (
          <>
            <div className="flex flex-wrap items-baseline justify-between gap-2">
              <h2 className="text-lg font-semibold text-gray-900">
                {u.plan.name} <span className="text-sm font-normal text-gray-500">plan</span>
              </h2>
              <p className="text-xs text-gray-500">Plan id: {u.plan.id}</p>
            </div>
            <ul className="mt-5 space-y-6" data-testid="usage">
              {rows.map((r) => (
                <li key={r.id} data-usage={r.id} data-state={r.m.state}>
                  <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
                    <span id={`usage-${r.id}`} className="text-sm font-medium text-gray-800">
                      {r.label}
                    </span>
                    <span className="text-sm text-gray-600 tabular-nums">
                      <span className="font-semibold text-gray-900">{nf.format(r.m.used)}</span>
                      {r.m.cap === null ? ' · no limit' : ` of ${nf.format(r.m.cap)}`}
                    </span>
                  </div>
                  <div
                    role="progressbar"
                    aria-labelledby={`usage-${r.id}`}
                    aria-valuemin={0}
                    aria-valuemax={r.m.cap ?? undefined}
                    aria-valuenow={r.m.used}
                    aria-valuetext={r.m.cap === null ? `${nf.format(r.m.used)}, no limit` : `${nf.format(r.m.used)} of ${nf.format(r.m.cap)}`}
                    className="mt-2 h-2 overflow-hidden rounded-full bg-gray-100"
                  >
                    <div className={cx('h-full rounded-full transition-[width]', BAR[r.m.state])} style={{ width: `${r.m.cap === null ? 0 : Math.max(r.m.percent, r.m.used > 0 ? 1 : 0)}%` }} />
                  </div>
                  <p className={cx('mt-1.5 text-xs', r.m.state === 'full' ? 'text-red-700' : r.m.state === 'near' ? 'text-amber-800' : 'text-gray-500')}>
                    {r.m.state === 'full'
                      ? r.full
                      : r.m.state === 'near'
                        ? `${r.m.percent}% used: close to the limit.`
                        : r.m.state === 'unlimited'
                          ? 'Your plan has no limit here.'
                          : `${r.m.percent}% used.`}
                    {r.link && (
                      <>
                        {' '}
                        <Link to={r.link.to} className="font-medium text-brand-700 hover:underline">
                          {r.link.label}
                        </Link>
                      </>
                    )}
                  </p>
                </li>
              ))}
            </ul>
          </>
        )}
      </Card>
      <p className="text-xs text-gray-500">
        Plans are set by whoever runs this Pulseboard server. On a self-hosted instance, ask your administrator to change it.
      </p>
    </div>
  );
}
