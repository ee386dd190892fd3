import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';
import { cx } from '../../lib/cx';

const control =
  'block rounded-md border-0 bg-white px-3 py-1.5 text-sm text-gray-900 shadow-xs ring-1 ring-inset ring-gray-300 placeholder:text-gray-400 focus:ring-2 focus:ring-inset focus:ring-brand-600 focus:outline-none aria-[invalid=true]:ring-red-400';

export interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  help?: ReactNode;
  error?: string | null;
}

export function Field({ label, help, error, className, id, ...rest }: FieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  const helpId = `${inputId}-help`;
  return (
    <div className={className}>
      <label htmlFor={inputId} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <input
        id={inputId}
        aria-invalid={error ? true : undefined}
        aria-describedby={help || error ? helpId : undefined}
        className={cx(control, 'mt-1 h-9 w-full')}
        {...rest}
      />
      {(error || help) && (
        <p id={helpId} className={cx('mt-1 text-xs', error ? 'text-red-700' : 'text-gray-500')}>
          {error || help}
        </p>
      )}
    </div>
  );
}

export function Select({ className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select className={cx(control, 'h-9 pr-8', className)} {...rest}>
      {children}
    </select>
  );
}
