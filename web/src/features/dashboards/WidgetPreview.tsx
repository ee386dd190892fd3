import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import { WidgetView } from './widgets/WidgetView';

/** Settings that stop changing for this long are previewed (typing a title or
 * flicking through selects does not send a request per keystroke). */
const SETTLE_MS = 300;

function useSettled<T>(value: T): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), SETTLE_MS);
    return () => clearTimeout(t);
  }, [value]);
  return settled;
}

/** The builder's live preview: the widget as it will look with the settings chosen
 * so far, from the same data path as the dashboard (nothing is saved). */
export function WidgetPreview({ slug, type, title, query, enabled }: { slug: string; type: string; title: string; query: object; enabled: boolean }) {
  // Whether to ask settles with the settings: a form just completed is not asked
  // about with the incomplete settings of 300 ms before.
  const settled = useSettled(JSON.stringify({ type, query_config: query, enabled }));
  const { enabled: ask, ...body } = JSON.parse(settled) as { type: string; query_config: object; enabled: boolean };
  const preview = useQuery({
    queryKey: ['widget-preview', slug, settled],
    queryFn: ({ signal }) => api.previewWidget(slug, body, signal),
    enabled: ask,
    staleTime: 30_000,
    retry: false,
  });
  const data = preview.error
    ? { state: 'error' as const, widget_id: '', message: preview.error instanceof Error ? preview.error.message : 'These settings cannot be previewed.' }
    : preview.data;
  return (
    <div className="sm:col-span-2">
      <p className="mb-1 text-sm font-medium text-gray-800" id="w-preview-label">
        Preview
      </p>
      <div aria-labelledby="w-preview-label" role="region">
        <WidgetView widget={{ id: 'preview', type, title, size: 'medium', display_config: {} }} data={data} loading={preview.isFetching} readOnly />
      </div>
    </div>
  );
}
