/**
 * The `d` of a sparkline: points spread evenly across `width`, scaled so the lowest
 * value touches the bottom padding and the highest the top one; gaps (null) are
 * bridged, as the card's summary describes the trend between known values. A flat
 * series draws a level line through the middle. Fewer than two known values: null.
 */
export function sparklinePath(values: (number | null)[], width: number, height: number, pad: number): string | null {
  const known = values.flatMap((v, i) => (v === null || !Number.isFinite(v) ? [] : [{ i, v }]));
  if (known.length < 2) return null;
  const min = Math.min(...known.map((p) => p.v));
  const max = Math.max(...known.map((p) => p.v));
  const stepX = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (v: number) => (max === min ? height / 2 : pad + ((max - v) / (max - min)) * (height - 2 * pad));
  const round = (n: number) => Math.round(n * 100) / 100;
  return known.map((p, k) => `${k === 0 ? 'M' : 'L'}${round(p.i * stepX)} ${round(y(p.v))}`).join('');
}
