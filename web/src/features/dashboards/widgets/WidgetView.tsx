import { lazy, Suspense, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { DisplayConfig, QueryResult, WidgetData } from '../../../api/types';
import { ChartSkeleton } from '../../../components/ChartSkeleton/ChartSkeleton';
import { EmptyState } from '../../../components/EmptyState/EmptyState';
import { MetricCard, MetricCardSkeleton } from '../../../components/MetricCard/MetricCard';
import { Badge, Card, Skeleton } from '../../../components/ui/Card';
import { trendClasses } from '../../../components/palette';
import { cx } from '../../../lib/cx';
import { deltaPct, formatDeltaPct, formatForUnit, formatTick, formatValue, spanDays, trendOf } from '../../../lib/format';
import { isCompact } from '../../../lib/providers';
import { formatOf, invertsDelta, rangeLabel, toComparison, toTimeseries, topGroups } from '../../../lib/series';
import { useProviderName, useWidgetTypes } from '../../shell/useProviders';
import { DataTable } from './DataTable';
import { FunnelView } from './FunnelView';
import { HeatmapSummary } from './cro/HeatmapSummary';
import { ReviewFeed } from './cro/ReviewFeed';
import { SentimentGauge } from './cro/SentimentGauge';
import { SurveySummary } from './cro/SurveySummary';
import { ExperimentCards } from './cro/ExperimentCard';

/** What the grid knows about a widget: enough for the public page, which has no queries. */
export interface WidgetMeta {
  id: string;
  type: string;
  title: string;
  size: string;
  display_config: DisplayConfig;
}

const PLOT_HEIGHT = 232;
const COMPACT_PLOT_HEIGHT = 96;

// Recharts is most of the dashboard's code. It loads in parallel with the dashboard's
// data, starting as soon as this module runs, while KPI cards and tables draw
// without it; each chart shows its skeleton until then.
const loadCharts = () => import('./charts');
loadCharts().catch(() => {}); // a failure shows when a chart renders, through the page's error boundary
const TimeseriesChart = lazy(() => loadCharts().then((m) => ({ default: m.TimeseriesChart })));
const ComparisonBarChart = lazy(() => loadCharts().then((m) => ({ default: m.ComparisonBarChart })));
const PieDonut = lazy(() => loadCharts().then((m) => ({ default: m.PieDonut })));
const StackedBarChart = lazy(() => loadCharts().then((m) => ({ default: m.StackedBarChart })));

export interface WidgetViewProps {
  widget: WidgetMeta;
  data: WidgetData | undefined;
  loading: boolean;
  /** Public pages: no buttons that need an account. */
  readOnly?: boolean;
  compareLabel?: string;
  /** Older data is showing while new data loads. */
  stale?: boolean;
  /** Shows a remove button on hover and focus. */
  onRemove?: () => void;
  /** Adds "Create alert…" to the widget's menu. */
  onCreateAlert?: () => void;
  /** Adds "Show the records behind this number" to the widget's menu. */
  onExplain?: () => void;
  /** The records behind one point of a line chart (its bucket). */
  onExplainPoint?: (bucket: string) => void;
  /** Shows an info button (ⓘ, "About this metric") beside the title that opens the metric's definition. */
  onAbout?: () => void;
  className?: string;
}

export function WidgetView({ widget, data, loading, readOnly = false, compareLabel = 'vs previous period', stale, onRemove, onCreateAlert, onExplain, onExplainPoint, onAbout, className }: WidgetViewProps) {
  const widgetTypes = useWidgetTypes();
  const compact = isCompact(widget, widgetTypes.data, data);
  return (
    <Card
      className={cx('group relative flex flex-col p-4 transition-opacity', compact ? 'h-44' : 'h-80', stale && 'opacity-60', className)}
      data-widget-type={widget.type}
      data-widget-state={loading && !data ? 'loading' : data?.state}
      aria-busy={loading || undefined}
    >
      {onRemove && (
        <button
          type="button"
          onClick={onRemove}
          aria-label={`Remove widget ${widget.title}`}
          title="Remove widget"
          className="absolute -top-2 -right-2 z-10 hidden size-6 items-center justify-center rounded-full border border-gray-200 bg-white text-gray-500 shadow-sm group-focus-within:flex group-hover:flex hover:text-red-700 focus-visible:flex"
        >
          <svg viewBox="0 0 20 20" className="size-3.5" fill="currentColor" aria-hidden="true">
            <path d="M6.28 5.22a.75.75 0 0 0-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 1 0 1.06 1.06L10 11.06l3.72 3.72a.75.75 0 1 0 1.06-1.06L11.06 10l3.72-3.72a.75.75 0 0 0-1.06-1.06L10 8.94 6.28 5.22Z" />
          </svg>
        </button>
      )}
      {(onCreateAlert || onExplain) && !readOnly && <WidgetMenu title={widget.title} onCreateAlert={onCreateAlert} onExplain={onExplain} />}
      {widget.type === 'kpi_card' ? (
        <KpiBody widget={widget} data={data} loading={loading} readOnly={readOnly} compareLabel={compareLabel} onAbout={onAbout} />
      ) : (
        <>
          <WidgetHeader widget={widget} data={data} onAbout={onAbout} />
          <div className="mt-3 min-h-0 flex-1">
            <Suspense fallback={<ChartSkeleton height={compact ? COMPACT_PLOT_HEIGHT : PLOT_HEIGHT} />}>
              <Body widget={widget} data={data} loading={loading} readOnly={readOnly} compact={compact} previousLabel={previousLabelOf(compareLabel)} onExplainPoint={readOnly ? undefined : onExplainPoint} />
            </Suspense>
          </div>
        </>
      )}
    </Card>
  );
}

function KpiBody({
  widget,
  data,
  loading,
  readOnly,
  compareLabel,
  onAbout,
}: {
  widget: WidgetMeta;
  data: WidgetData | undefined;
  loading: boolean;
  readOnly: boolean;
  compareLabel: string;
  onAbout?: () => void;
}) {
  if (!data) return loading ? <MetricCardSkeleton /> : <Unknown />;
  if (isRich(data)) return <Unknown />;
  if (data.state !== 'ok') {
    return (
      <div className="flex h-full flex-col">
        <div className="flex min-w-0 items-center gap-1">
          <h3 className="truncate text-sm font-medium text-gray-600">{widget.title}</h3>
          {onAbout && <AboutButton onClick={onAbout} />}
        </div>
        <div className="min-h-0 flex-1">
          <NotOk data={data} readOnly={readOnly} compact />
        </div>
      </div>
    );
  }
  const r = data.result;
  return (
    <MetricCard
      title={widget.title}
      value={r.total}
      prevValue={r.previous ? (r.previous.total ?? null) : undefined}
      deltaPct={r.delta_pct}
      format={formatForUnit(r.unit)}
      currency={r.currency}
      sparkline={r.series.map((p) => p.value ?? null)}
      invertDelta={invertsDelta(widget.display_config, r)}
      comparisonLabel={compareLabel}
      subtitle={rangeLabel(r.range.from, r.range.to)}
      titleAction={onAbout && <AboutButton onClick={onAbout} />}
    />
  );
}

function WidgetHeader({ widget, data, onAbout }: { widget: WidgetMeta; data: WidgetData | undefined; onAbout?: () => void }) {
  const r = data?.state === 'ok' ? data.result : null;
  const showTotal = r && (widget.type === 'line_chart' || widget.type === 'bar_chart') && r.groups.length === 0;
  return (
    <div className="flex items-start justify-between gap-3">
      <div className="min-w-0">
        <div className="flex min-w-0 items-center gap-1">
          <h3 className="truncate text-sm font-medium text-gray-800">{widget.title}</h3>
          {onAbout && <AboutButton onClick={onAbout} />}
        </div>
        <p className="h-4 truncate text-xs text-gray-500">{r ? rangeLabel(r.range.from, r.range.to) : ''}</p>
      </div>
      {showTotal && r && <HeadlineTotal result={r} invert={invertsDelta(widget.display_config, r)} />}
    </div>
  );
}

function HeadlineTotal({ result, invert }: { result: QueryResult; invert: boolean }) {
  const fmt = formatOf(result);
  const d = result.delta_pct ?? deltaPct(result.total, result.previous?.total);
  const trend = trendOf(d);
  const good = trend === 'flat' ? 'flat' : (trend === 'up') !== invert ? 'up' : 'down';
  return (
    <div className="shrink-0 text-right">
      <p className="text-base font-semibold tabular-nums text-gray-900">{formatValue(result.total, fmt)}</p>
      {result.previous && d !== null && (
        <span className={cx('inline-block rounded-full px-1.5 text-xs font-medium tabular-nums ring-1 ring-inset', trendClasses[good])}>{formatDeltaPct(d)}</span>
      )}
    </div>
  );
}

/** "vs previous year" → "Previous year". */
function previousLabelOf(compareLabel: string): string {
  const rest = compareLabel.replace(/^vs\s+/, '');
  return rest ? rest.charAt(0).toUpperCase() + rest.slice(1) : 'Previous period';
}

function Body({
  widget,
  data,
  loading,
  readOnly,
  compact,
  previousLabel,
  onExplainPoint,
}: {
  widget: WidgetMeta;
  data: WidgetData | undefined;
  loading: boolean;
  readOnly: boolean;
  compact: boolean;
  previousLabel: string;
  onExplainPoint?: (bucket: string) => void;
}) {
  const height = compact ? COMPACT_PLOT_HEIGHT : PLOT_HEIGHT;
  if (!data) {
    if (!loading) return <Unknown />;
    if (widget.type === 'table' || widget.type === 'funnel') {
      return (
        <div className="space-y-3 pt-2" aria-busy="true">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} className="h-5 w-full" />
          ))}
        </div>
      );
    }
    return <ChartSkeleton height={height} />;
  }
  switch (data.state) {
    case 'funnel':
      return <FunnelView steps={data.steps} label={widget.title} height={height} />;
    case 'reviews':
      return <ReviewFeed reviews={data.reviews} label={widget.title} />;
    case 'experiments':
      return <ExperimentCards experiments={data.experiments} label={widget.title} />;
    case 'sentiment':
      return <SentimentGauge sentiment={data.sentiment} label={widget.title} />;
    case 'heatmap':
      return <HeatmapSummary heatmap={data.heatmap} label={widget.title} />;
    case 'ok':
      break;
    default:
      return <NotOk data={data} readOnly={readOnly} compact={compact} />;
  }
  const r = data.result;
  const fmt = formatOf(r);
  switch (widget.type) {
    case 'line_chart':
      return (
        <TimeseriesChart
          data={toTimeseries(r.series, r.previous?.series)}
          label={widget.title}
          format={fmt}
          granularity={r.granularity}
          height={height}
          previousLabel={previousLabel}
          onPointSelect={onExplainPoint}
        />
      );
    case 'bar_chart': {
      const span = spanDays(r.series.map((p) => p.bucket));
      if (widget.display_config?.stacked && r.groups.length > 0) {
        return <StackedBarChart groups={r.groups} label={widget.title} format={fmt} tick={(b) => formatTick(b, span)} height={height} />;
      }
      return (
        <ComparisonBarChart
          data={toComparison(r, (b) => formatTick(b, span))}
          label={widget.title}
          format={fmt}
          height={height}
          previousLabel={previousLabel}
          categorical={r.groups.length > 0}
        />
      );
    }
    case 'pie_chart': {
      const rows = topGroups(r, 6);
      if (rows.length === 0) return <EmptyState title="No breakdown for this period" />;
      return <PieDonut rows={rows} label={widget.title} format={fmt} height={height} />;
    }
    case 'table':
      return <DataTable result={r} label={widget.title} height={height} />;
    case 'survey_summary':
      return <SurveySummary result={r} label={widget.title} />;
    default:
      return (
        <TimeseriesChart data={toTimeseries(r.series, r.previous?.series)} label={widget.title} format={fmt} granularity={r.granularity} height={height} />
      );
  }
}

/** Data of the widgets that are not one metric's numbers (funnels, the CRO widgets). */
type RichData = Extract<WidgetData, { state: 'funnel' | 'reviews' | 'experiments' | 'sentiment' | 'heatmap' }>;

function isRich(data: WidgetData): data is RichData {
  return ['funnel', 'reviews', 'experiments', 'sentiment', 'heatmap'].includes(data.state);
}

function NotOk({ data, readOnly, compact }: { data: Exclude<WidgetData, { state: 'ok' } | RichData>; readOnly: boolean; compact: boolean }) {
  const providerName = useProviderName();
  switch (data.state) {
    case 'not_connected': {
      const name = providerName(data.provider);
      return readOnly ? (
        <EmptyState title="No data yet" description={`${name} is not connected.`} icon={compact ? <span /> : undefined} />
      ) : (
        <EmptyState
          title={`Connect ${name} to see this`}
          description={compact ? undefined : `Numbers appear here after the first sync.`}
          icon={compact ? <span /> : undefined}
          action={
            <Link
              to={`/settings/integrations?provider=${encodeURIComponent(data.provider)}`}
              className="inline-flex h-8 items-center rounded-md bg-brand-700 px-3 text-sm font-medium text-white shadow-sm hover:bg-brand-800"
            >
              Connect {name}
            </Link>
          }
        />
      );
    }
    case 'unavailable':
      return (
        <EmptyState
          title={`Arrives with ${data.provider}`}
          description={compact ? undefined : data.message}
          icon={
            <Badge tone="blue" className="mb-1">
              Coming soon
            </Badge>
          }
        />
      );
    case 'error':
      return (
        <EmptyState
          title="This widget could not load"
          description={data.message}
          icon={
            <svg viewBox="0 0 20 20" className="size-6 text-red-400" fill="currentColor" aria-hidden="true">
              <path fillRule="evenodd" d="M18 10a8 8 0 1 1-16 0 8 8 0 0 1 16 0Zm-8-5a.75.75 0 0 1 .75.75v4.5a.75.75 0 0 1-1.5 0v-4.5A.75.75 0 0 1 10 5Zm0 10a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z" clipRule="evenodd" />
            </svg>
          }
        />
      );
  }
}

function Unknown(): ReactNode {
  return <EmptyState title="No data" />;
}


/** The ⓘ beside a widget's title that opens its metric's definition. */
function AboutButton({ onClick }: { onClick: () => void }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label="About this metric"
      title="About this metric"
      className="-m-0.5 flex size-5 shrink-0 items-center justify-center rounded-full text-gray-400 hover:text-gray-700 focus-visible:text-gray-700 focus-visible:outline-2 focus-visible:outline-brand-600"
    >
      <svg viewBox="0 0 20 20" className="size-4" fill="currentColor" aria-hidden="true">
        <path fillRule="evenodd" d="M18 10a8 8 0 1 1-16 0 8 8 0 0 1 16 0Zm-7-4a1 1 0 1 1-2 0 1 1 0 0 1 2 0ZM9 9a.75.75 0 0 0 0 1.5h.253a.25.25 0 0 1 .244.304l-.459 2.066A1.75 1.75 0 0 0 10.747 15H11a.75.75 0 0 0 0-1.5h-.253a.25.25 0 0 1-.244-.304l.459-2.066A1.75 1.75 0 0 0 9.253 9H9Z" clipRule="evenodd" />
      </svg>
    </button>
  );
}

/**
 * The widget's menu: a small button in the card's corner (shown on hover and on
 * focus) opening a list of actions. Escape or a click elsewhere closes it and focus
 * goes back to the button.
 */
function WidgetMenu({ title, onCreateAlert, onExplain }: { title: string; onCreateAlert?: () => void; onExplain?: () => void }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const away = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== button.current) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  return (
    <div className="absolute top-2 right-2 z-10">
      <button
        ref={button}
        type="button"
        aria-label={`Actions for ${title}`}
        title="Actions"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
        className={cx(
          'flex size-7 items-center justify-center rounded-md bg-white text-gray-600 ring-1 ring-gray-200 ring-inset hover:bg-gray-50 hover:text-gray-900 focus-visible:opacity-100',
          open ? 'opacity-100' : 'opacity-0 group-focus-within:opacity-100 group-hover:opacity-100',
        )}
      >
        <svg viewBox="0 0 20 20" className="size-4" fill="currentColor" aria-hidden="true">
          <path d="M3 10a1.5 1.5 0 1 1 3 0 1.5 1.5 0 0 1-3 0Zm5.5 0a1.5 1.5 0 1 1 3 0 1.5 1.5 0 0 1-3 0Zm7-1.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Z" />
        </svg>
      </button>
      {open && (
        <div
          ref={menu}
          id={id}
          role="menu"
          aria-label={`Actions for ${title}`}
          onKeyDown={(e) => {
            if (e.key === 'Escape' || e.key === 'Tab') {
              e.preventDefault();
              close();
            }
          }}
          className="absolute right-0 mt-1 w-64 rounded-md bg-white py-1 shadow-lg ring-1 ring-gray-200"
        >
          {onCreateAlert && (
            <MenuItem
              label="Create alert…"
              onSelect={() => {
                setOpen(false);
                // Focus the menu's button first: the dialog gives focus back to it when it closes.
                button.current?.focus();
                onCreateAlert();
              }}
              icon={
                <path
                  d="M14.86 17.08a23.85 23.85 0 0 0 5.45-1.31A8.97 8.97 0 0 1 18 9.75V9A6 6 0 0 0 6 9v.75a8.97 8.97 0 0 1-2.31 6.02c1.73.64 3.56 1.08 5.45 1.31m5.72 0a24.26 24.26 0 0 1-5.72 0m5.72 0a3 3 0 1 1-5.72 0"
                  strokeLinecap="round"
                  strokeLinejoin="round"
                />
              }
            />
          )}
          {onExplain && (
            <MenuItem
              label="Show the records behind this number"
              onSelect={() => {
                setOpen(false);
                button.current?.focus();
                onExplain();
              }}
              icon={<path d="M3.75 5.25h16.5m-16.5 4.5h16.5m-16.5 4.5h10.5m-10.5 4.5h7.5" strokeLinecap="round" strokeLinejoin="round" />}
            />
          )}
        </div>
      )}
    </div>
  );
}

function MenuItem({ label, onSelect, icon }: { label: string; onSelect: () => void; icon: ReactNode }) {
  return (
    <button
      type="button"
      role="menuitem"
      className="flex w-full items-center gap-2 px-3 py-1.5 text-left text-sm text-gray-800 hover:bg-gray-50 focus:bg-gray-100 focus:outline-none"
      onClick={onSelect}
    >
      <svg viewBox="0 0 24 24" className="size-4 shrink-0 text-gray-500" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
        {icon}
      </svg>
      {label}
    </button>
  );
}
