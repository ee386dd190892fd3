import type { HTMLAttributes } from 'react';
import { cx } from '../../lib/cx';

export function Card({ className, ...rest }: HTMLAttributes<HTMLDivElement>) {
  return <div className={cx('rounded-lg border border-gray-200 bg-white shadow-xs', className)} {...rest} />;
}

export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden="true" className={cx('animate-pulse rounded bg-gray-200/70', className)} />;
}

export function Badge({ tone = 'gray', children, className }: { tone?: 'gray' | 'green' | 'red' | 'amber' | 'blue'; children: React.ReactNode; className?: string }) {
  const tones = {
    gray: 'bg-gray-100 text-gray-700 ring-gray-500/20',
    green: 'bg-brand-50 text-brand-800 ring-brand-600/20',
    red: 'bg-red-50 text-red-700 ring-red-600/20',
    amber: 'bg-amber-50 text-amber-800 ring-amber-600/20',
    blue: 'bg-sky-50 text-sky-800 ring-sky-600/20',
  } as const;
  return (
    <span className={cx('inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset', tones[tone], className)}>
      {children}
    </span>
  );
}
