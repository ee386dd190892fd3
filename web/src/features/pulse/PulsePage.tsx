// Seed 002's launch-day screen: today's running total counting up as sales land,
// the last hour's velocity, the latest sales and which campaign brought them, fed
// by the organization's live stream (resumed by sequence number, deduplicated).
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { Bar, BarChart, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, keys } from '../../api/endpoints';
import type { RevenueEvent } from '../../api/types';
import { ChartTooltip } from '../../components/ChartTooltip/ChartTooltip';
import { EmptyState } from '../../components/EmptyState/EmptyState';
import { chartColors } from '../../components/palette';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card, Skeleton } from '../../components/ui/Card';
import { cx } from '../../lib/cx';
import { formatValue, relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';
import { useProviderName } from '../shell/useProviders';
import { liveStream, useLiveEvents, useLiveStatus } from '../live/useLive';
import type { LiveStatus } from '../live/stream';
import { useCountUp, useNow, useThrottled } from './hooks';
import { PulseShareDialog } from './PulseShareDialog';
import {
  campaignBreakdown,
  isRefund,
  latest,
  mergeEvents,
  MINUTE_MS,
  needsNewDay,
  newSales,
  perMinute,
  sum,
  todaysEvents,
  totals,
  VELOCITY_MINUTES,
} from './pulse';
import { playSaleTone, useSaleSound } from './sound';

/** How long a newly arrived sale stays highlighted in the feed. */
const HIGHLIGHT_MS = 2500;

function money(minor: number, currency: string): string {
  const text = formatValue(Math.abs(minor), { format: 'currency', currency });
  return minor < 0 ? `−${text}` : text;
}

const KINDS: Record<string, { label: string; tone: 'green' | 'blue' | 'gray' | 'amber' | 'red' }> = {
  sale: { label: 'Sale', tone: 'green' },
  subscription: { label: 'New subscription', tone: 'blue' },
  renewal: { label: 'Renewal', tone: 'gray' },
  upsell: { label: 'Upsell', tone: 'amber' },
  refund: { label: 'Refund', tone: 'red' },
};

export default function PulsePage() {
  const { slug, store, storesLoading, canManage } = useSession();
  const snapshot = useQuery({
    queryKey: keys.pulse(slug),
    queryFn: ({ signal }) => api.pulse(slug, signal),
    // The stream keeps it current; a refetch is only for a new day.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const [sharing, setSharing] = useState(false);
  return (
    <>
      <PulseBoard
        streamKey={slug}
        snapshot={snapshot}
        store={store ? { id: store.id, name: store.name, currency: store.currency } : null}
        loading={storesLoading}
        actions={
          canManage && store ? (
            <Button variant="secondary" size="sm" onClick={() => setSharing(true)} title="A read-only link to this page, for a screen on the wall">
              Share
            </Button>
          ) : null
        }
      />
      {store && canManage ? <PulseShareDialog open={sharing} onClose={() => setSharing(false)} store={store} /> : null}
    </>
  );
}

/** The store a Pulse board shows; `id` null when the snapshot has only that store's events. */
export interface PulseStore {
  id: string | null;
  name: string;
  currency: string;
}

/**
 * The Pulse itself, for the members' page and a share link's read-only page (`tv`:
 * larger type for a screen across the room, no links into the app).
 */
export function PulseBoard({
  streamKey,
  snapshot,
  store,
  loading = false,
  actions = null,
  tv = false,
}: {
  streamKey: string;
  snapshot: UseQueryResult<{ last_seq: number; timezone: string; today_starts_at: string; events: RevenueEvent[] }>;
  store: PulseStore | null;
  loading?: boolean;
  actions?: ReactNode;
  tv?: boolean;
}) {
  const slug = streamKey;
  const [live, setLive] = useState<readonly RevenueEvent[]>([]);
  const [highlighted, setHighlighted] = useState<ReadonlySet<number>>(new Set());
  const [sound, setSound] = useSaleSound();
  const status = useLiveStatus(slug);
  const now = useNow(5000);
  const startsAt = snapshot.data?.today_starts_at;
  const storeId = store?.id ?? null;

  useLiveEvents(
    slug,
    useCallback(
      (batch: RevenueEvent[]) => {
        setLive((current) => mergeEvents(current, batch));
        const mine = startsAt ? todaysEvents(batch, storeId, startsAt) : [];
        if (mine.length === 0) return;
        const seqs = mine.map((e) => e.seq);
        setHighlighted((h) => new Set([...h, ...seqs]));
        setTimeout(() => setHighlighted((h) => new Set([...h].filter((s) => !seqs.includes(s)))), HIGHLIGHT_MS);
        if (sound && newSales(mine).length > 0) playSaleTone();
      },
      [startsAt, storeId, sound],
    ),
    { after: snapshot.data?.last_seq ?? null, enabled: snapshot.isSuccess },
  );

  // After midnight (the store's), start a new day.
  const { refetch, dataUpdatedAt } = snapshot;
  useEffect(() => {
    if (startsAt && needsNewDay(startsAt, dataUpdatedAt, now)) void refetch();
  }, [startsAt, dataUpdatedAt, now, refetch]);

  const currency = store?.currency ?? 'USD';
  const today = useMemo(
    () => (snapshot.data ? todaysEvents(mergeEvents(snapshot.data.events, live), storeId, snapshot.data.today_starts_at) : []),
    [snapshot.data, live, storeId],
  );
  const t = useMemo(() => totals(today, currency), [today, currency]);
  const buckets = useMemo(() => perMinute(today, currency, now), [today, currency, now]);
  const velocity = sum(buckets);
  const feed = useMemo(() => latest(today, tv ? 12 : 20), [today, tv]);
  const campaigns = useMemo(() => campaignBreakdown(today, currency), [today, currency]);

  const summary = `Today so far: ${money(t.netMinor, currency)} from ${plural(t.sales, 'sale')} and ${plural(t.refunds, 'refund')}. Last 60 minutes: ${money(velocity, currency)}.`;
  const announced = useThrottled(snapshot.isSuccess ? summary : '', 10_000);

  return (
    <div className={cx('space-y-6', tv && 'text-lg')} data-pulse-mode={tv ? 'tv' : 'app'}>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className={cx('font-semibold tracking-tight text-gray-900', tv ? 'text-4xl' : 'text-2xl')}>{tv && store ? `${store.name} · Pulse` : 'Pulse'}</h1>
          <p className={cx('mt-0.5 text-gray-500', tv ? 'text-base' : 'text-sm')}>
            Sales as they happen{store && !tv ? <> in <span className="font-medium text-gray-700">{store.name}</span></> : null}
            {snapshot.data ? <>, since midnight ({snapshot.data.timezone.replace(/_/g, ' ')})</> : null}.
          </p>
        </div>
        <div className="flex items-center gap-2">
          <ConnectionBadge status={snapshot.isSuccess ? status : 'connecting'} />
          {!tv && (
            <Button
              variant="secondary"
              size="sm"
              onClick={() => (status === 'paused' ? liveStream(slug).resume() : liveStream(slug).pause())}
              disabled={!snapshot.isSuccess}
            >
              {status === 'paused' ? 'Resume' : 'Pause'}
            </Button>
          )}
          <Button variant="secondary" size="sm" aria-pressed={sound} onClick={() => setSound(!sound)} title="Play a short tone when a sale arrives">
            <SpeakerIcon on={sound} />
            Sale sound
          </Button>
          {actions}
        </div>
      </div>

      <ErrorAlert error={snapshot.error} onRetry={() => void snapshot.refetch()} />
      <p className="sr-only" aria-live="polite" aria-atomic="true">
        {announced}
      </p>

      {snapshot.isPending || loading ? (
        <div className="grid gap-4 lg:grid-cols-3">
          <Skeleton className="h-40 rounded-lg" />
          <Skeleton className="h-40 rounded-lg lg:col-span-2" />
          <Skeleton className="h-80 rounded-lg lg:col-span-2" />
          <Skeleton className="h-80 rounded-lg" />
        </div>
      ) : snapshot.isSuccess ? (
        <>
          <div className="grid gap-4 lg:grid-cols-3">
            <TotalCard netMinor={t.netMinor} currency={currency} sales={t.sales} refunds={t.refunds} others={t.otherCurrencies} tv={tv} />
            <VelocityCard buckets={buckets} velocity={velocity} currency={currency} now={now} />
          </div>
          {today.length === 0 ? (
            <Card className="py-12">
              {tv ? (
                <EmptyState title="No sales yet today" description="Sales appear here the moment they happen." />
              ) : (
                <EmptyState
                  title="No sales yet today"
                  description="Set up Stripe webhooks on the Integrations page to see sales the moment they happen."
                  action={
                    <Link
                      to="/settings/integrations"
                      className="inline-flex h-9 items-center rounded-md bg-brand-700 px-3.5 text-sm font-medium text-white shadow-sm hover:bg-brand-800"
                    >
                      Set up webhooks
                    </Link>
                  }
                />
              )}
            </Card>
          ) : (
            <div className="grid items-start gap-4 lg:grid-cols-5">
              <Feed events={feed} highlighted={highlighted} now={now} />
              <Campaigns rows={campaigns} currency={currency} />
            </div>
          )}
        </>
      ) : null}
    </div>
  );
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function ConnectionBadge({ status }: { status: LiveStatus }) {
  const look = {
    live: { label: 'Live', dot: 'bg-brand-500', text: 'text-brand-800 bg-brand-50 ring-brand-600/20' },
    connecting: { label: 'Connecting…', dot: 'bg-gray-400', text: 'text-gray-700 bg-gray-100 ring-gray-500/20' },
    idle: { label: 'Connecting…', dot: 'bg-gray-400', text: 'text-gray-700 bg-gray-100 ring-gray-500/20' },
    reconnecting: { label: 'Reconnecting…', dot: 'bg-amber-500', text: 'text-amber-900 bg-amber-50 ring-amber-600/20' },
    paused: { label: 'Paused', dot: 'bg-gray-400', text: 'text-gray-700 bg-gray-100 ring-gray-500/20' },
  }[status];
  return (
    <span role="status" data-live-status={status} className={cx('inline-flex h-8 items-center gap-2 rounded-full px-3 text-sm font-medium ring-1 ring-inset', look.text)}>
      <span className="relative flex size-2" aria-hidden="true">
        {status === 'live' && <span className="absolute inline-flex size-full animate-ping rounded-full bg-brand-400 opacity-60 motion-reduce:hidden" />}
        <span className={cx('relative inline-flex size-2 rounded-full', look.dot)} />
      </span>
      {look.label}
    </span>
  );
}

function TotalCard({
  netMinor,
  currency,
  sales,
  refunds,
  others,
  tv = false,
}: {
  netMinor: number;
  currency: string;
  sales: number;
  refunds: number;
  others: { currency: string; events: number; netMinor: number }[];
  tv?: boolean;
}) {
  const shown = useCountUp(netMinor);
  return (
    <Card className="flex flex-col justify-between p-5">
      <h2 className="text-sm font-medium text-gray-600">Today so far</h2>
      <p
        className={cx('mt-2 font-semibold tracking-tight text-gray-900 tabular-nums', tv ? 'text-5xl sm:text-7xl' : 'text-4xl sm:text-5xl')}
        data-testid="pulse-total" data-value={netMinor} aria-hidden="true">
        {money(shown, currency)}
      </p>
      <p className="mt-3 text-sm text-gray-600" data-testid="pulse-counts">
        <span className="font-medium text-gray-900 tabular-nums">{plural(sales, 'sale')}</span>
        <span className="mx-1.5 text-gray-300" aria-hidden="true">
          ·
        </span>
        <span className={cx('tabular-nums', refunds > 0 && 'text-red-700')}>{plural(refunds, 'refund')}</span>
      </p>
      {others.length > 0 && (
        <p className="mt-1 text-xs text-gray-500">
          Not in the total: {others.map((o) => `${plural(o.events, 'event')} in ${o.currency} (${money(o.netMinor, o.currency)})`).join(', ')}.
        </p>
      )}
    </Card>
  );
}

function VelocityCard({ buckets, velocity, currency, now }: { buckets: number[]; velocity: number; currency: string; now: number }) {
  const data = buckets.map((value, i) => ({ minute: i, value, at: now - (VELOCITY_MINUTES - 1 - i) * MINUTE_MS }));
  const busiest = data.reduce((best, d) => (d.value > best.value ? d : best), data[0] ?? { minute: 0, value: 0, at: now });
  const active = buckets.filter((v) => v !== 0).length;
  const clock = (at: number) => new Date(at).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' });
  const label =
    active === 0
      ? 'Revenue per minute over the last 60 minutes: no sales.'
      : `Revenue per minute over the last 60 minutes: sales in ${plural(active, 'minute')}, the busiest ${money(busiest.value, currency)} at ${clock(busiest.at)}.`;
  const shown = useCountUp(velocity);
  return (
    <Card className="p-5 lg:col-span-2">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-sm font-medium text-gray-600">Last 60 minutes</h2>
        <p className="text-xs text-gray-500">per minute</p>
      </div>
      <p className="mt-2 text-3xl font-semibold tracking-tight text-gray-900 tabular-nums" data-testid="pulse-velocity" data-value={velocity} aria-hidden="true">
        {money(shown, currency)}
      </p>
      <div className="mt-3 h-24" role="img" aria-label={label}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 4, right: 0, bottom: 0, left: 0 }} barCategoryGap={1}>
            <XAxis dataKey="minute" hide />
            <YAxis hide domain={[(min: number) => Math.min(0, min), (max: number) => Math.max(max, 1)]} />
            <ReferenceLine y={0} stroke={chartColors.grid} />
            <Tooltip
              cursor={{ fill: chartColors.grid, fillOpacity: 0.5 }}
              content={({ active: on, payload }) => {
                const row = payload?.[0]?.payload as (typeof data)[number] | undefined;
                if (!on || !row) return null;
                return <ChartTooltip title={clock(row.at)} rows={[{ color: chartColors.primary, label: 'Revenue', value: money(row.value, currency) }]} />;
              }}
            />
            <Bar dataKey="value" isAnimationActive={false} radius={[2, 2, 0, 0]}>
              {data.map((d) => (
                <Cell key={d.minute} fill={d.value < 0 ? chartColors.down : chartColors.primary} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <div className="mt-1 flex justify-between text-xs text-gray-500" aria-hidden="true">
        <span>60 min ago</span>
        <span>now</span>
      </div>
    </Card>
  );
}

function Feed({ events, highlighted, now }: { events: RevenueEvent[]; highlighted: ReadonlySet<number>; now: number }) {
  const name = useProviderName();
  return (
    <Card className="overflow-hidden lg:col-span-3">
      <h2 className="border-b border-gray-100 px-5 py-3 text-sm font-semibold text-gray-900">Latest sales</h2>
      <ol className="divide-y divide-gray-100" aria-label="Latest sales, newest first" data-testid="pulse-feed">
        {events.map((e) => {
          const kind = KINDS[e.kind] ?? { label: e.kind, tone: 'gray' as const };
          const refund = isRefund(e);
          return (
            <li
              key={e.seq}
              data-seq={e.seq}
              className={cx(
                'flex items-center gap-3 px-5 py-2.5 text-sm transition-colors duration-1000 motion-reduce:transition-none',
                highlighted.has(e.seq) ? 'bg-brand-50' : 'bg-white',
              )}
            >
              <span className="w-24 shrink-0 text-xs text-gray-500" title={new Date(e.occurred_at).toLocaleString()}>
                {relativeTime(e.occurred_at, new Date(now))}
              </span>
              <span className="min-w-0 flex-1">
                <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
                  <span className="font-medium text-gray-900">{name(e.provider)}</span>
                  <Badge tone={kind.tone}>{kind.label}</Badge>
                  {e.campaign ? (
                    <span className="inline-flex max-w-48 items-center truncate rounded bg-gray-100 px-1.5 py-0.5 font-mono text-xs text-gray-700" title={`Campaign: ${e.campaign}`}>
                      <span className="sr-only">Campaign </span>#{e.campaign}
                    </span>
                  ) : null}
                </span>
              </span>
              <span className={cx('shrink-0 font-medium tabular-nums', refund ? 'text-red-700' : 'text-gray-900')} data-testid="feed-amount">
                {money(e.amount_minor, e.currency)}
              </span>
            </li>
          );
        })}
      </ol>
    </Card>
  );
}

function Campaigns({ rows, currency }: { rows: ReturnType<typeof campaignBreakdown>; currency: string }) {
  const max = Math.max(1, ...rows.map((r) => r.netMinor));
  return (
    <Card className="overflow-hidden lg:col-span-2">
      <h2 className="border-b border-gray-100 px-5 py-3 text-sm font-semibold text-gray-900">Which campaign is converting</h2>
      <table className="w-full text-sm" data-testid="pulse-campaigns">
        <caption className="sr-only">Revenue by campaign today, best first</caption>
        <thead>
          <tr className="text-left text-xs text-gray-500">
            <th scope="col" className="px-5 pt-3 pb-1 font-medium">
              Campaign
            </th>
            <th scope="col" className="px-2 pt-3 pb-1 text-right font-medium">
              Sales
            </th>
            <th scope="col" className="px-5 pt-3 pb-1 text-right font-medium">
              Revenue
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-campaign={r.campaign ?? ''}>
              <th scope="row" className="px-5 py-2 text-left font-normal">
                <span className={cx('block truncate', r.campaign ? 'font-mono text-gray-900' : 'text-gray-500 italic')}>{r.label}</span>
                <span className="mt-1 block h-1.5 rounded-full bg-gray-100" aria-hidden="true">
                  <span className="block h-full rounded-full bg-brand-500" style={{ width: `${Math.max(0, (r.netMinor / max) * 100)}%` }} />
                </span>
              </th>
              <td className="px-2 py-2 text-right tabular-nums text-gray-700">{r.sales.toLocaleString('en-US')}</td>
              <td className={cx('px-5 py-2 text-right font-medium tabular-nums', r.netMinor < 0 ? 'text-red-700' : 'text-gray-900')}>{money(r.netMinor, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function SpeakerIcon({ on }: { on: boolean }) {
  return (
    <svg viewBox="0 0 20 20" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true">
      <path d="M3 8v4h3l4 3V5L6 8H3Z" strokeLinejoin="round" />
      {on ? <path d="M13 7.5a3.5 3.5 0 0 1 0 5M15 5.5a6 6 0 0 1 0 9" strokeLinecap="round" /> : <path d="m13.5 8 4 4m0-4-4 4" strokeLinecap="round" />}
    </svg>
  );
}
