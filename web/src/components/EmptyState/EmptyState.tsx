import type { ReactNode } from 'react';
import { cx } from '../../lib/cx';

/** What a chart shows instead of a blank plot: a sentence and, usually, a button. */
export function EmptyState({
  title,
  description,
  action,
  icon,
  className,
}: {
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
  className?: string;
}) {
  return (
    <div className={cx('flex h-full flex-col items-center justify-center gap-2 px-4 text-center', className)}>
      {icon ?? (
        <svg viewBox="0 0 24 24" className="size-7 text-gray-300" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
          <path d="M3 3v18h18" strokeLinecap="round" />
          <path d="m7 15 4-4 3 3 5-6" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      )}
      <p className="text-sm font-medium text-gray-700">{title}</p>
      {description && <p className="max-w-xs text-xs text-gray-500">{description}</p>}
      {action && <div className="mt-1">{action}</div>}
    </div>
  );
}
