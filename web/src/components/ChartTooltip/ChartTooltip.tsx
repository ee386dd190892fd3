import type { ReactNode } from 'react';

/** The box every chart's tooltip uses. */
export function ChartTooltip({ title, rows, footer }: { title: string; rows: { color: string; label: string; value: string; dashed?: boolean }[]; footer?: ReactNode }) {
  return (
    <div className="min-w-40 rounded-md border border-gray-200 bg-white px-3 py-2 text-xs shadow-lg">
      <p className="font-medium text-gray-900">{title}</p>
      <ul className="mt-1 space-y-0.5">
        {rows.map((r) => (
          <li key={r.label} className="flex items-center justify-between gap-4">
            <span className="flex items-center gap-1.5 text-gray-600">
              <span
                className="inline-block h-0.5 w-3"
                style={{ background: r.dashed ? `repeating-linear-gradient(90deg, ${r.color} 0 3px, transparent 3px 5px)` : r.color }}
                aria-hidden="true"
              />
              {r.label}
            </span>
            <span className="font-medium tabular-nums text-gray-900">{r.value}</span>
          </li>
        ))}
      </ul>
      {footer && <div className="mt-1 border-t border-gray-100 pt-1 text-gray-600">{footer}</div>}
    </div>
  );
}
