import { sparklinePath } from './path';

/**
 * A trend line with no axes, drawn as one SVG path. Plain SVG rather than Recharts:
 * KPI cards are usually the first thing on a dashboard, and this way they draw
 * before the charting library has loaded.
 */
export function Sparkline({ values, color, className }: { values: (number | null)[]; color: string; className?: string }) {
  const d = sparklinePath(values, VIEW_WIDTH, VIEW_HEIGHT, 2);
  if (!d) return null;
  return (
    <svg viewBox={`0 0 ${VIEW_WIDTH} ${VIEW_HEIGHT}`} preserveAspectRatio="none" className={className} width="100%" height="100%" aria-hidden="true">
      <path d={d} fill="none" stroke={color} strokeWidth={1.25} strokeLinejoin="round" strokeLinecap="round" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

const VIEW_WIDTH = 100;
const VIEW_HEIGHT = 32;
