import type { Layout, WidgetData } from '../../api/types';
import { arrange, spanClass } from './layout';
import { WidgetView, type WidgetMeta } from './widgets/WidgetView';

/** Sections of widgets in 1, 2 or 3 columns; used by the app and by public share pages. */
export function DashboardGrid({
  layout,
  widgets,
  data,
  loading,
  stale,
  readOnly,
  compareLabel,
  onRemove,
}: {
  layout: Layout;
  widgets: WidgetMeta[];
  data: WidgetData[] | undefined;
  loading: boolean;
  stale?: boolean;
  readOnly?: boolean;
  compareLabel?: string;
  onRemove?: (widgetId: string) => void;
}) {
  const byId = new Map((data ?? []).map((d) => [d.widget_id, d]));
  const sections = arrange(layout, widgets);
  return (
    <div className="space-y-8">
      {sections.map((section) => (
        <section key={section.id} aria-labelledby={section.title ? `section-${section.id}` : undefined}>
          {section.title && (
            <h2 id={`section-${section.id}`} className="mb-3 text-sm font-semibold tracking-wide text-gray-500 uppercase">
              {section.title}
            </h2>
          )}
          {section.widgets.length === 0 ? (
            <p className="rounded-lg border border-dashed border-gray-300 p-6 text-center text-sm text-gray-500">No widgets in this section yet.</p>
          ) : (
            <div className="grid grid-cols-1 items-start gap-4 md:grid-cols-2 lg:grid-cols-12">
              {section.widgets.map((w) => (
                <WidgetView
                  key={w.id}
                  widget={w}
                  data={byId.get(w.id)}
                  loading={loading}
                  stale={stale}
                  readOnly={readOnly}
                  compareLabel={compareLabel}
                  onRemove={onRemove ? () => onRemove(w.id) : undefined}
                  className={spanClass(layout.columns, w.size)}
                />
              ))}
            </div>
          )}
        </section>
      ))}
    </div>
  );
}
