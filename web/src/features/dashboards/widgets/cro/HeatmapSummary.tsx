import type { Heatmap, HeatmapRow } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { cx } from '../../../../lib/cx';

/** A page URL without its scheme and host ("https://shop.example/cart" → "/cart"). */
export function pagePath(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search || '/';
  } catch {
    return url;
  }
}

function fmt(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '—' : v.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** Rage clicks per 100 sessions, coloured by how bad it is. */
function heat(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'bg-gray-50 text-gray-500';
  if (v >= 10) return 'bg-red-100 text-red-800';
  if (v >= 3) return 'bg-amber-100 text-amber-800';
  return 'bg-green-50 text-green-800';
}

function Rows({ rows, first, path }: { rows: HeatmapRow[]; first: string; path: boolean }) {
  return (
    <table className="w-full text-left text-xs">
      <thead className="text-gray-500">
        <tr>
          <th scope="col" className="py-1 pr-2 font-medium">{first}</th>
          <th scope="col" className="py-1 pr-2 text-right font-medium">Sessions</th>
          <th scope="col" className="py-1 pr-2 text-right font-medium">Scroll depth</th>
          <th scope="col" className="py-1 pr-2 text-right font-medium">Rage / 100</th>
          <th scope="col" className="py-1 text-right font-medium">Dead clicks</th>
        </tr>
      </thead>
      <tbody className="tabular-nums text-gray-800">
        {rows.map((r) => (
          <tr key={r.key} className="border-t border-gray-100">
            <th scope="row" className="max-w-[12rem] truncate py-1 pr-2 font-normal" title={r.key}>
              {path ? pagePath(r.key) : r.key}
            </th>
            <td className="py-1 pr-2 text-right">{fmt(r.sessions)}</td>
            <td className="py-1 pr-2 text-right">{r.scroll_depth === null || r.scroll_depth === undefined ? '—' : `${fmt(r.scroll_depth)} %`}</td>
            <td className="py-1 pr-2 text-right">
              <span className={cx('rounded px-1.5 py-0.5', heat(r.rage_per_100))}>{fmt(r.rage_per_100, 1)}</span>
            </td>
            <td className="py-1 text-right">{fmt(r.dead_clicks)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Clarity's frustration signals by page (worst first) and by device. */
export function HeatmapSummary({ heatmap, label }: { heatmap: Heatmap; label: string }) {
  if (heatmap.pages.length === 0 && heatmap.devices.length === 0) {
    return <EmptyState title="No Clarity sessions in this period" />;
  }
  return (
    <div className="h-full space-y-3 overflow-y-auto pr-1" aria-label={label} role="group" tabIndex={0}>
      {heatmap.pages.length > 0 && <Rows rows={heatmap.pages} first="Page" path />}
      {heatmap.devices.length > 0 && <Rows rows={heatmap.devices} first="Device" path={false} />}
    </div>
  );
}
