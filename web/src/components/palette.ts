// One palette for every chart (seed 000): primary #1D9E75, neutral #6B7280.
// Hex values for SVG attributes; literal Tailwind classes for HTML.

export const chartColors = {
  primary: '#1D9E75',
  neutral: '#6B7280',
  grid: '#E5E7EB',
  axis: '#6B7280',
  /** Text-safe shades (WCAG AA on white). */
  up: '#0F7B5B',
  down: '#DC2626',
} as const;

/** Categorical series for pies and groups: shades of the primary, then neutrals. */
export const categorical = ['#1D9E75', '#3DB38A', '#6FCAA8', '#0C6049', '#A5DFC8', '#6B7280', '#9CA3AF', '#D1D5DB'] as const;

export function categoricalColor(i: number): string {
  return categorical[i % categorical.length] ?? chartColors.neutral;
}

export const trendClasses = {
  up: 'bg-brand-50 text-brand-700 ring-brand-600/20',
  down: 'bg-red-50 text-red-700 ring-red-600/20',
  flat: 'bg-gray-100 text-gray-600 ring-gray-500/20',
} as const;
