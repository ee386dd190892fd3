import { useEffect, type ReactNode } from 'react';
import { Alert } from './Alert';

/**
 * A message that floats at the bottom of the screen for a while (the result of an
 * action whose effect is elsewhere, such as a test mail). Announced politely.
 */
export function Toast({ title, children, tone = 'success', onDismiss, timeoutMs = 12_000 }: { title?: ReactNode; children?: ReactNode; tone?: 'success' | 'error' | 'info'; onDismiss: () => void; timeoutMs?: number }) {
  useEffect(() => {
    const t = window.setTimeout(onDismiss, timeoutMs);
    return () => window.clearTimeout(t);
  }, [onDismiss, timeoutMs]);
  return (
    <div className="fixed right-4 bottom-4 z-50 w-[min(26rem,calc(100vw-2rem))] shadow-lg" data-testid="toast">
      <Alert tone={tone} title={title} onDismiss={onDismiss}>
        {children}
      </Alert>
    </div>
  );
}
