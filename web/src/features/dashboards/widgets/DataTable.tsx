import type { QueryResult } from '../../../api/types';
import { formatBucketLong, formatValue } from '../../../lib/format';
import { formatOf, groupHeading, groupTitle, topGroups } from '../../../lib/series';

/** A table widget: the breakdown by group when the query has one, otherwise the buckets, newest first. */
export function DataTable({ result, label, height }: { result: QueryResult; label: string; height: number }) {
  const fmt = formatOf(result);
  if (result.groups.length > 0) {
    const rows = topGroups(result, 50);
    const sum = rows.reduce((s, r) => s + Math.max(r.total, 0), 0);
    // A narrow widget drops the share bars and keeps the percentages, so names have room.
    return (
      <div className="@container overflow-auto" style={{ height }}>
        <table className="w-full text-sm" aria-label={label}>
          <thead className="sticky top-0 bg-white text-left text-xs text-gray-500">
            <tr>
              <th scope="col" className="w-full py-1.5 font-medium">
                {groupHeading(result)}
              </th>
              <th scope="col" className="whitespace-nowrap py-1.5 text-right font-medium">
                {result.name}
              </th>
              <th scope="col" className="min-w-14 py-1.5 pl-3 text-right font-medium @md:min-w-32 @md:text-left">
                Share
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-gray-100">
            {rows.map((r) => {
              const share = sum > 0 ? (Math.max(r.total, 0) / sum) * 100 : 0;
              return (
                <tr key={r.key}>
                  <td className="max-w-0 truncate py-1.5 pr-2 text-gray-800" title={groupTitle(r)}>
                    {r.name}
                  </td>
                  <td className="whitespace-nowrap py-1.5 text-right font-medium tabular-nums text-gray-900">{formatValue(r.total, fmt)}</td>
                  <td className="py-1.5 pl-3">
                    <div className="flex items-center gap-2">
                      <div className="hidden h-1.5 flex-1 rounded-full bg-gray-100 @md:block">
                        <div className="h-1.5 rounded-full bg-brand-500" style={{ width: `${share}%` }} />
                      </div>
                      <span className="ml-auto w-11 text-right text-xs tabular-nums text-gray-500">{share.toFixed(1)}%</span>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }
  const rows = [...result.series].reverse();
  const prev = result.previous?.series ?? null;
  const n = result.series.length;
  return (
    <div className="overflow-auto" style={{ height }}>
      <table className="w-full text-sm" aria-label={label}>
        <thead className="sticky top-0 bg-white text-left text-xs text-gray-500">
          <tr>
            <th scope="col" className="py-1.5 font-medium">
              Period
            </th>
            <th scope="col" className="py-1.5 text-right font-medium">
              {result.name}
            </th>
            {prev && (
              <th scope="col" className="py-1.5 text-right font-medium">
                Previous
              </th>
            )}
          </tr>
        </thead>
        <tbody className="divide-y divide-gray-100">
          {rows.map((p, i) => (
            <tr key={p.bucket}>
              <td className="py-1.5 text-gray-700">{formatBucketLong(p.bucket, result.granularity)}</td>
              <td className="py-1.5 text-right font-medium tabular-nums text-gray-900">{formatValue(p.value, fmt)}</td>
              {prev && <td className="py-1.5 text-right tabular-nums text-gray-500">{formatValue(prev[n - 1 - i]?.value, fmt)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
