import { useState, type DragEvent } from 'react';
import type { Layout, WidgetData } from '../../api/types';
import { Select } from '../../components/ui/Field';
import { cx } from '../../lib/cx';
import { arrange, positionOf, spanClass } from './layout';
import { WidgetView, type WidgetMeta } from './widgets/WidgetView';

/** What the builder does with a widget; given only in edit mode. */
export interface GridEditing {
  onMove: (widgetId: string, step: -1 | 1) => void;
  onConfigure: (widgetId: string) => void;
  onResize: (widgetId: string, size: string) => void;
  onRemove: (widgetId: string) => void;
  /** Drag and drop (the arrow buttons do the same by keyboard). */
  onDrop: (widgetId: string, sectionId: string, targetId: string | null) => void;
}

const SIZES: { value: string; label: string }[] = [
  { value: 'small', label: 'Small' },
  { value: 'medium', label: 'Medium' },
  { value: 'large', label: 'Large' },
  { value: 'full', label: 'Full' },
];

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
  onCreateAlert,
  onExplain,
  onAbout,
  editing,
}: {
  layout: Layout;
  widgets: WidgetMeta[];
  data: WidgetData[] | undefined;
  loading: boolean;
  stale?: boolean;
  readOnly?: boolean;
  compareLabel?: string;
  onRemove?: (widgetId: string) => void;
  /** Widgets an alert can watch get "Create alert…" in their menu (not while editing). */
  onCreateAlert?: { can: (widgetId: string) => boolean; create: (widgetId: string) => void };
  /** "Show the records behind this number" for the widgets that can. */
  onExplain?: { can: (widgetId: string) => boolean; open: (widgetId: string, bucket?: string) => void };
  /** The info button ("About this metric") for the widgets showing one catalog metric. */
  onAbout?: { can: (widgetId: string) => boolean; open: (widgetId: string) => void };
  editing?: GridEditing;
}) {
  const byId = new Map((data ?? []).map((d) => [d.widget_id, d]));
  const sections = arrange(layout, widgets);
  const [drag, setDrag] = useState<{ id: string; over: string | null } | null>(null);
  /** Drop-target handlers for a widget (`targetId`) or, with null, the section's free space. */
  const dropTarget = (sectionId: string, targetId: string | null) =>
    editing && drag
      ? {
          onDragOver: (e: DragEvent) => {
            e.preventDefault();
            e.stopPropagation();
            e.dataTransfer.dropEffect = 'move';
            const over = targetId ?? `section:${sectionId}`;
            if (drag.over !== over) setDrag({ ...drag, over });
          },
          onDrop: (e: DragEvent) => {
            e.preventDefault();
            e.stopPropagation();
            editing.onDrop(drag.id, sectionId, targetId);
            setDrag(null);
          },
        }
      : {};
  return (
    <div className="space-y-8">
      {sections.map((section) => (
        <section
          key={section.id}
          data-section-id={section.id}
          aria-labelledby={section.title ? `section-${section.id}` : undefined}
          className={cx(drag?.over === `section:${section.id}` && 'rounded-xl bg-brand-50/60')}
          {...dropTarget(section.id, null)}
        >
          {section.title && (
            <h2 id={`section-${section.id}`} className="mb-3 text-sm font-semibold tracking-wide text-gray-600 uppercase">
              {section.title}
            </h2>
          )}
          {section.widgets.length === 0 ? (
            <p className="rounded-lg border border-dashed border-gray-300 p-6 text-center text-sm text-gray-600">
              {editing ? 'No widgets in this section yet. Move a widget here with its arrow buttons.' : 'No widgets in this section yet.'}
            </p>
          ) : (
            <div className="grid grid-cols-1 items-start gap-4 md:grid-cols-2 lg:grid-cols-12">
              {section.widgets.map((w) => (
                <div
                  key={w.id}
                  data-widget-id={w.id}
                  className={cx(
                    spanClass(layout.columns, w.size),
                    editing && 'cursor-grab rounded-xl outline-2 outline-offset-4 outline-brand-300 outline-dashed active:cursor-grabbing',
                    drag?.id === w.id && 'opacity-50',
                    drag && drag.over === w.id && drag.id !== w.id && 'outline-brand-700 outline-solid',
                  )}
                  draggable={editing ? true : undefined}
                  onDragStart={
                    editing
                      ? (e) => {
                          e.dataTransfer.effectAllowed = 'move';
                          e.dataTransfer.setData('text/plain', w.id);
                          setDrag({ id: w.id, over: null });
                        }
                      : undefined
                  }
                  onDragEnd={editing ? () => setDrag(null) : undefined}
                  {...dropTarget(section.id, w.id)}
                >
                  <WidgetView
                    widget={w}
                    data={byId.get(w.id)}
                    loading={loading}
                    stale={stale}
                    readOnly={readOnly}
                    compareLabel={compareLabel}
                    onRemove={onRemove && !editing ? () => onRemove(w.id) : undefined}
                    onCreateAlert={onCreateAlert && !editing && onCreateAlert.can(w.id) ? () => onCreateAlert.create(w.id) : undefined}
                    onExplain={onExplain && !editing && onExplain.can(w.id) ? () => onExplain.open(w.id) : undefined}
                    onExplainPoint={onExplain && !editing && onExplain.can(w.id) ? (bucket) => onExplain.open(w.id, bucket) : undefined}
                    onAbout={onAbout && !editing && onAbout.can(w.id) ? () => onAbout.open(w.id) : undefined}
                  />
                  {editing && <EditBar widget={w} layout={layout} editing={editing} />}
                </div>
              ))}
            </div>
          )}
        </section>
      ))}
    </div>
  );
}

function EditBar({ widget, layout, editing }: { widget: WidgetMeta; layout: Layout; editing: GridEditing }) {
  const pos = positionOf(layout, widget.id);
  const vertical = layout.columns === 1;
  const back = vertical ? 'Move up' : 'Move left';
  const forward = vertical ? 'Move down' : 'Move right';
  return (
    <div role="toolbar" aria-label={`Edit ${widget.title}`} className="mt-1 flex flex-wrap items-center gap-1 px-1 pb-0.5">
      <IconButton label={`${back}: ${widget.title}`} title={back} action="back" disabled={!pos || pos.first} onClick={() => editing.onMove(widget.id, -1)}>
        <path d={vertical ? 'M10 4l-5 5h3.5v7h3V9H15z' : 'M4 10l5-5v3.5h7v3H9V15z'} />
      </IconButton>
      <IconButton label={`${forward}: ${widget.title}`} title={forward} action="forward" disabled={!pos || pos.last} onClick={() => editing.onMove(widget.id, 1)}>
        <path d={vertical ? 'M10 16l5-5h-3.5V4h-3v7H5z' : 'M16 10l-5 5v-3.5H4v-3h7V5z'} />
      </IconButton>
      <label className="sr-only" htmlFor={`size-${widget.id}`}>
        Size of {widget.title}
      </label>
      <Select id={`size-${widget.id}`} value={widget.size} onChange={(e) => editing.onResize(widget.id, e.target.value)} className="h-8 w-24 shrink-0 py-0 pr-7 pl-2 text-xs">
        {SIZES.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </Select>
      <span className="flex-1" aria-hidden="true" />
      <IconButton label={`Configure ${widget.title}`} title="Configure" action="configure" onClick={() => editing.onConfigure(widget.id)}>
        <path
          fillRule="evenodd"
          clipRule="evenodd"
          d="M8.34 1.8A1 1 0 0 1 9.32 1h1.36a1 1 0 0 1 .98.8l.28 1.4a6.98 6.98 0 0 1 1.6.93l1.35-.46a1 1 0 0 1 1.18.45l.68 1.18a1 1 0 0 1-.2 1.25l-1.07.94a7.05 7.05 0 0 1 0 1.85l1.07.94a1 1 0 0 1 .2 1.25l-.68 1.18a1 1 0 0 1-1.18.45l-1.35-.46a6.98 6.98 0 0 1-1.6.93l-.28 1.4a1 1 0 0 1-.98.8H9.32a1 1 0 0 1-.98-.8l-.28-1.4a6.98 6.98 0 0 1-1.6-.93l-1.35.46a1 1 0 0 1-1.18-.45l-.68-1.18a1 1 0 0 1 .2-1.25l1.07-.94a7.05 7.05 0 0 1 0-1.85l-1.07-.94a1 1 0 0 1-.2-1.25l.68-1.18a1 1 0 0 1 1.18-.45l1.35.46a6.98 6.98 0 0 1 1.6-.93l.28-1.4ZM10 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5Z"
        />
      </IconButton>
      <IconButton label={`Remove widget ${widget.title}`} title="Remove" action="remove" danger onClick={() => editing.onRemove(widget.id)}>
        <path
          fillRule="evenodd"
          clipRule="evenodd"
          d="M8.75 1A2.75 2.75 0 0 0 6 3.75v.44c-.8.08-1.57.18-2.34.32a.75.75 0 1 0 .27 1.47l.15-.03.84 10.52A2.75 2.75 0 0 0 7.66 19h4.68a2.75 2.75 0 0 0 2.74-2.53l.84-10.52.15.03a.75.75 0 0 0 .27-1.47A41 41 0 0 0 14 4.19v-.44A2.75 2.75 0 0 0 11.25 1h-2.5ZM10 4c.84 0 1.67.03 2.5.08v-.33c0-.69-.56-1.25-1.25-1.25h-2.5c-.69 0-1.25.56-1.25 1.25v.33C8.33 4.03 9.16 4 10 4ZM8.58 7.72a.75.75 0 0 0-1.5.06l.3 7.5a.75.75 0 1 0 1.5-.06l-.3-7.5Zm4.34.06a.75.75 0 1 0-1.5-.06l-.3 7.5a.75.75 0 1 0 1.5.06l.3-7.5Z"
        />
      </IconButton>
    </div>
  );
}

function IconButton({
  label,
  title,
  action,
  disabled,
  danger,
  onClick,
  children,
}: {
  label: string;
  title: string;
  action: string;
  disabled?: boolean;
  danger?: boolean;
  onClick: () => void;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      aria-label={label}
      title={title}
      data-action={action}
      disabled={disabled}
      onClick={onClick}
      className={cx(
        'inline-flex size-8 shrink-0 items-center justify-center rounded-md bg-white text-gray-600 ring-1 ring-gray-300 ring-inset hover:bg-gray-50 disabled:cursor-not-allowed disabled:text-gray-300',
        danger && 'hover:text-red-700',
      )}
    >
      <svg viewBox="0 0 20 20" className="size-4" fill="currentColor" aria-hidden="true">
        {children}
      </svg>
    </button>
  );
}
