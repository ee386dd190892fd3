import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { cx } from '../../lib/cx';
import { Spinner } from '../../components/ui/Button';

export function PageLoading() {
  return (
    <div className="flex min-h-[50vh] items-center justify-center text-gray-400" role="status" aria-label="Loading">
      <Spinner className="size-6" />
    </div>
  );
}

export function NotFound() {
  return (
    <div className="mx-auto max-w-md py-24 text-center">
      <p className="text-sm font-semibold text-brand-700">404</p>
      <h1 className="mt-1 text-2xl font-semibold text-gray-900">Page not found</h1>
      <p className="mt-2 text-sm text-gray-600">The page you asked for does not exist, or you do not have access to it.</p>
      <Link to="/" className="mt-6 inline-block text-sm font-medium text-brand-700 hover:underline">
        Back to dashboards
      </Link>
    </div>
  );
}

export function Logo({ className }: { className?: string }) {
  return (
    <span className={className}>
      <svg viewBox="0 0 32 32" className="inline-block size-7 align-middle" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="#1D9E75" />
        <path d="M5 18h6l3-8 4 14 3-9 2 3h4" fill="none" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <span className="ml-2 align-middle text-base font-semibold tracking-tight text-gray-900">Pulseboard</span>
    </span>
  );
}

/** A page outside the app's shell (sign-in, an invitation): the logo, one card, a footer line. */
export function CardPage({ children, footer, homeLink = false, wide = false }: { children: ReactNode; footer?: ReactNode; homeLink?: boolean; wide?: boolean }) {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      {homeLink ? (
        <Link to="/" aria-label="Pulseboard home">
          <Logo />
        </Link>
      ) : (
        <Logo />
      )}
      <div className={cx('mt-6 w-full rounded-xl border border-gray-200 bg-white p-6 shadow-sm', wide ? 'max-w-md' : 'max-w-sm')}>{children}</div>
      {footer && <p className="mt-4 text-center text-sm text-gray-600">{footer}</p>}
    </main>
  );
}
