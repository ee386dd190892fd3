// The digest preview shows the mail's HTML as sent. Its sparklines are inline
// attachments (`cid:spark-1`, …) that a browser cannot load, so the preview draws
// them from the digest's own series instead: the mail numbers them in the order it
// lists the movers (wins, losses, then the whole dashboard).
import { sparklinePath } from '../../components/Sparkline/path';
import { chartColors } from '../../components/palette';
import type { Digest } from '../../api/types';

const W = 120;
const H = 32;

/** A sparkline as an SVG data URI (the page's CSP allows `data:` images). */
export function sparklineDataUri(series: (number | null)[], good: boolean): string {
  const d = sparklinePath(series, W, H, 2);
  const path = d ? `<path d="${d}" fill="none" stroke="${good ? chartColors.primary : chartColors.down}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">${path}</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** The digest's HTML with every `cid:spark-N` image drawn from the N-th mover's series. */
export function inlineSparklines(digest: Pick<Digest, 'html' | 'wins' | 'losses' | 'everything'>): string {
  const movers = [...digest.wins, ...digest.losses, ...digest.everything];
  return digest.html.replace(/(["'])cid:spark-(\d+)\1/g, (whole, quote: string, n: string) => {
    const mover = movers[Number(n) - 1];
    return mover ? `${quote}${sparklineDataUri(mover.series, mover.good)}${quote}` : whole.replace(/cid:spark-\d+/, sparklineDataUri([], true));
  });
}
