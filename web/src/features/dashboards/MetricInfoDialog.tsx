import { useQuery } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { CatalogEntry, MetricDefinition } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Skeleton } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';

/** The four parts of a definition under plain headings, in reading order; blank parts are left out. */
export function definitionParts(definition: MetricDefinition | undefined): { heading: string; text: string }[] {
  if (!definition) return [];
  return [
    { heading: 'How it’s computed', text: definition.formula },
    { heading: 'Read from', text: definition.source_fields },
    { heading: 'Counted on', text: definition.booked },
    { heading: 'Left out', text: definition.excludes },
  ].filter((part) => part.text?.trim());
}

/** Inline `code` spans of a definition (field names) as <code>. */
function Words({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`)/).map((piece, i) =>
        piece.startsWith('`') && piece.endsWith('`') && piece.length > 2 ? (
          <code key={i} className="rounded bg-gray-100 px-1 py-px font-mono text-[0.8125rem] text-gray-800">
            {piece.slice(1, -1)}
          </code>
        ) : (
          piece
        ),
      )}
    </>
  );
}

/** A catalog metric's written definition: what the info popover shows. */
export function MetricDefinitionList({ entry }: { entry: CatalogEntry }) {
  const parts = definitionParts(entry.metric.definition);
  if (parts.length === 0) return <p className="text-sm text-gray-600">This metric has no written definition yet.</p>;
  return (
    <dl className="space-y-3" data-testid="metric-definition">
      {parts.map((part) => (
        <div key={part.heading}>
          <dt className="text-xs font-semibold tracking-wide text-gray-500 uppercase">{part.heading}</dt>
          <dd className="mt-0.5 text-sm leading-relaxed text-gray-800">
            <Words text={part.text} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * "About this metric": the metric's name, description and definition (how it is
 * computed, the fields it is read from, the day it is counted on and what is left
 * out), from the organization's catalog. Escape, the close button or the backdrop
 * close it; focus goes back to the widget's info button.
 */
export function MetricInfoDialog({ slug, metric, onClose }: { slug: string; metric: string | null; onClose: () => void }) {
  const open = metric !== null;
  const catalog = useQuery({ queryKey: keys.catalog(slug), queryFn: ({ signal }) => api.catalog(slug, signal), enabled: open, staleTime: 5 * 60_000 });
  const entry = catalog.data?.find((c) => c.id === metric);
  return (
    <Dialog open={open} onClose={onClose} title={entry?.metric.name ?? 'About this metric'} description={entry?.metric.description}>
      {catalog.isPending ? (
        <div className="space-y-3" aria-busy="true">
          {Array.from({ length: 4 }, (_, i) => (
            <Skeleton key={i} className="h-8 w-full" />
          ))}
        </div>
      ) : catalog.isError ? (
        <ErrorAlert error={catalog.error} />
      ) : entry ? (
        <MetricDefinitionList entry={entry} />
      ) : (
        <p className="text-sm text-gray-600">This metric is no longer in the catalog: its source may have been disconnected.</p>
      )}
    </Dialog>
  );
}

/** The metric picker's help: the description, then how the number is computed. */
export function MetricHelp({ entry }: { entry: CatalogEntry }) {
  const formula = entry.metric.definition?.formula?.trim();
  return (
    <>
      {entry.metric.description}
      {formula && (
        <span className="mt-1 block" data-testid="metric-formula">
          <span className="font-medium text-gray-600">How it’s computed:</span> <Words text={formula} />
        </span>
      )}
    </>
  );
}
