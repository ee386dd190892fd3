// Small presentational pieces the settings pages share.
import { useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Card, Skeleton } from '../../components/ui/Card';
import { Dialog } from '../../components/ui/Dialog';
import { cx } from '../../lib/cx';

export function PageHeader({ title, description, action }: { title: string; description?: ReactNode; action?: ReactNode }) {
  return (
    <div className="flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0 flex-1 basis-80">
        <h1 className="text-2xl font-semibold tracking-tight text-gray-900">{title}</h1>
        {description && <p className="mt-0.5 text-sm text-gray-500">{description}</p>}
      </div>
      {action}
    </div>
  );
}

/** A titled block of a settings page. */
export function Section({
  id,
  title,
  description,
  action,
  children,
  className,
}: {
  id: string;
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section aria-labelledby={`${id}-heading`} className={cx('space-y-3', className)}>
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h2 id={`${id}-heading`} className="text-base font-semibold text-gray-900">
            {title}
          </h2>
          {description && <p className="mt-0.5 text-sm text-gray-500">{description}</p>}
        </div>
        {action}
      </div>
      {children}
    </section>
  );
}

/** Placeholder rows while a list loads, the same height as the real ones. */
export function ListSkeleton({ rows = 3, className }: { rows?: number; className?: string }) {
  return (
    <Card className={cx('divide-y divide-gray-100', className)} aria-busy="true">
      <span className="sr-only" role="status">
        Loading
      </span>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="flex h-16 items-center gap-4 px-4">
          <Skeleton className="h-4 w-40" />
          <Skeleton className="hidden h-4 w-56 sm:block" />
          <Skeleton className="ml-auto h-6 w-20" />
        </div>
      ))}
    </Card>
  );
}

/** An empty list: one sentence on what would be here, and how to get some. */
export function EmptyCard({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Card className="px-4 py-8 text-center">
      <p className="text-sm font-medium text-gray-700">{title}</p>
      {children && <div className="mx-auto mt-1 max-w-md text-sm text-gray-500">{children}</div>}
    </Card>
  );
}

/**
 * The server's message for a field, when an error names it. Shown by the field, so
 * without the field's name the server puts first ("recipient_emails: must be …"
 * becomes "Must be …").
 */
export function fieldError(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError) || error.field !== field) return null;
  const message = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** An error that does not belong to one of the listed fields (those show it next to the field). */
export function formError(error: unknown, fields: string[]): unknown {
  if (error instanceof ApiError && error.field && fields.includes(error.field)) return null;
  return error ?? null;
}

/** "Are you sure?" for destructive actions, with the server's refusal shown inside. */
export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} onClose={onClose} title={title} description={description}>
      <div className="space-y-4">
        <ErrorAlert error={error} />
        <div className="flex flex-wrap justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="danger" busy={busy} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

/** Copies text to the clipboard; says "Copied" for a moment. */
export function CopyButton({ text, label = 'Copy', className }: { text: string; label?: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard refused (insecure origin, permissions): select the text for a manual copy.
      const field = document.querySelector<HTMLInputElement>(`input[value="${CSS.escape(text)}"]`);
      field?.select();
      return;
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2000);
  };
  return (
    <Button variant="secondary" className={cx('min-w-20', className)} onClick={() => void copy()}>
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </Button>
  );
}
