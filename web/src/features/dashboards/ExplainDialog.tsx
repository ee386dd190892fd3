import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import type { Explanation } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Skeleton } from '../../components/ui/Card';
import { formatBucketLong, formatForUnit, formatValue } from '../../lib/format';
import { rangeLabel } from '../../lib/series';
import { useProviderName } from '../shell/useProviders';

/** The file name of an explanation's CSV (`stripe-gross_revenue-records.csv`). */
export function csvName(metric: string): string {
  return `${metric.replace(/[^A-Za-z0-9]+/g, '-')}-records.csv`;
}

/** "Nov 30, 6:59 PM" in the viewer's locale. */
function whenText(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
}

/** "Show the records behind this number": the charges, orders or refunds whose
 * amounts add up to a widget's number, with links to the provider and a CSV. */
export function ExplainDialog({ slug, title, query, bucket, onClose }: { slug: string; title: string; query: object | null; bucket?: string; onClose: () => void }) {
  const open = query !== null;
  const granularity = (query as { granularity?: string } | null)?.granularity;
  const explained = useQuery({
    queryKey: ['explain', slug, JSON.stringify(query), bucket ?? null],
    queryFn: ({ signal }) => api.explain(slug, query ?? {}, signal, bucket),
    enabled: open,
    retry: false,
  });
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={bucket ? `Records behind “${title}”, ${formatBucketLong(bucket, granularity)}` : `Records behind “${title}”`}
      description={bucket ? 'The source records whose amounts add up to this point of the chart, largest first.' : 'The source records whose amounts add up to the number on the widget, largest first.'}
      wide
    >
      {explained.isPending ? (
        <div className="space-y-2" aria-busy="true">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} className="h-5 w-full" />
          ))}
        </div>
      ) : explained.isError ? (
        <ErrorAlert error={explained.error} />
      ) : (
        <Records slug={slug} query={query ?? {}} bucket={bucket} e={explained.data} />
      )}
    </Dialog>
  );
}

function Records({ slug, query, bucket, e }: { slug: string; query: object; bucket?: string; e: Explanation }) {
  const providerName = useProviderName();
  const [downloading, setDownloading] = useState(false);
  const fmt = { format: formatForUnit(e.unit), currency: e.currency ?? undefined };
  const download = async () => {
    setDownloading(true);
    try {
      const response = await fetch(`/api/orgs/${slug}/metrics/explain${bucket ? `?bucket=${encodeURIComponent(bucket)}` : ''}`, {
        method: 'POST',
        headers: { accept: 'text/csv', 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(query),
      });
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = csvName(e.metric);
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setDownloading(false);
    }
  };
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-gray-700">
          <span className="font-semibold tabular-nums text-gray-900">{e.record_count.toLocaleString()}</span> record{e.record_count === 1 ? '' : 's'} add up to{' '}
          <span className="font-semibold tabular-nums text-gray-900" data-testid="explain-total">
            {formatValue(e.total, fmt)}
          </span>{' '}
          · {bucket && bucket.includes('T') ? formatBucketLong(bucket, 'hour') : rangeLabel(e.range.from, e.range.to)}
        </p>
        <Button variant="secondary" size="sm" busy={downloading} onClick={() => void download()} disabled={e.record_count === 0}>
          Download CSV
        </Button>
      </div>
      {e.truncated && <p className="text-xs text-gray-500">The largest {e.records.length.toLocaleString()} are listed; the CSV and the total include them all.</p>}
      {e.records.length === 0 ? (
        <p className="text-sm text-gray-600">No records in this period.</p>
      ) : (
        <div className="max-h-96 overflow-y-auto rounded-md ring-1 ring-gray-200">
          <table className="w-full text-left text-sm">
            <thead className="sticky top-0 bg-gray-50 text-xs text-gray-500">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">Record</th>
                <th scope="col" className="px-3 py-2 font-medium">Source</th>
                <th scope="col" className="px-3 py-2 font-medium">When</th>
                <th scope="col" className="px-3 py-2 text-right font-medium">Amount</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-gray-100 tabular-nums">
              {e.records.map((r) => (
                <tr key={`${r.provider}/${r.object_type}/${r.external_id}`}>
                  <td className="max-w-[16rem] truncate px-3 py-1.5">
                    <span className="text-gray-500">{r.object_type} </span>
                    {r.url ? (
                      <a href={r.url} target="_blank" rel="noreferrer" className="font-mono text-xs text-brand-700 hover:underline">
                        {r.external_id}
                      </a>
                    ) : (
                      <span className="font-mono text-xs text-gray-800">{r.external_id}</span>
                    )}
                  </td>
                  <td className="px-3 py-1.5 text-gray-700">{providerName(r.provider)}</td>
                  <td className="px-3 py-1.5 whitespace-nowrap text-gray-700">{whenText(r.occurred_at)}</td>
                  <td className={r.amount < 0 ? 'px-3 py-1.5 text-right text-red-700' : 'px-3 py-1.5 text-right text-gray-900'}>{formatValue(r.amount, fmt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
