import { cx } from '../../lib/cx';
import { Skeleton } from '../ui/Card';

/** A chart's box while its data (or the charting code) loads: the same height, so nothing jumps. */
export function ChartSkeleton({ height = 240, className }: { height?: number; className?: string }) {
  return (
    <div className={cx('flex w-full flex-col justify-end gap-2', className)} style={{ height }} aria-busy="true">
      <Skeleton className="h-full w-full rounded-md" />
    </div>
  );
}
