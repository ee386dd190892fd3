import type { ReviewView } from '../../../../api/types';
import { EmptyState } from '../../../../components/EmptyState/EmptyState';
import { Badge } from '../../../../components/ui/Card';
import { relativeTime } from '../../../../lib/format';

/** Five stars, the first `rating` filled; read out as "4 out of 5 stars". */
export function Stars({ rating }: { rating: number }) {
  return (
    <span className="inline-flex shrink-0" role="img" aria-label={`${rating} out of 5 stars`}>
      {[1, 2, 3, 4, 5].map((i) => (
        <svg key={i} viewBox="0 0 20 20" className={i <= rating ? 'size-3.5 text-amber-500' : 'size-3.5 text-gray-300'} fill="currentColor" aria-hidden="true">
          <path d="M10 1.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L10 14.9l-5.2 2.7 1-5.8L1.5 7.7l5.9-.9L10 1.5z" />
        </svg>
      ))}
    </span>
  );
}

/** The latest reviews: stars, product, verified badge, pending reviews marked. */
export function ReviewFeed({ reviews, label }: { reviews: ReviewView[]; label: string }) {
  if (reviews.length === 0) {
    return <EmptyState title="No reviews yet" description="Reviews appear here after the next sync." />;
  }
  return (
    <ul className="h-full space-y-3 overflow-y-auto pr-1" aria-label={label} tabIndex={0}>
      {reviews.map((r) => (
        <li key={`${r.provider}/${r.id}`} className="border-b border-gray-100 pb-3 last:border-0">
          <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
            <Stars rating={r.rating} />
            {r.title && <span className="truncate text-sm font-medium text-gray-900">{r.title}</span>}
            {r.verified && <Badge tone="green">Verified buyer</Badge>}
            {!r.published && <Badge tone="amber">Pending</Badge>}
          </div>
          <p className="mt-1 line-clamp-2 text-sm text-gray-700">{r.body}</p>
          <p className="mt-1 truncate text-xs text-gray-500">
            {[r.reviewer_name, r.product_title, relativeTime(r.created_at)].filter(Boolean).join(' · ')}
          </p>
        </li>
      ))}
    </ul>
  );
}
