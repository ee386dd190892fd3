/** Joins class names, skipping falsy ones; pass `className` last so callers win. */
export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ');
}
