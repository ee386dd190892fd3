// Per-integration options as a form edits them: a provider declares its fields
// (`GET /api/providers` → `options`), an integration stores their values
// (`Integration.options`), and lists are typed as comma-separated text. Pure, so
// the form stays presentational; tested in options.test.ts.
import type { OptionField } from '../api/types';

export type OptionValue = string | string[] | null;

/** The text a field shows for a stored value: lists joined with ", ". */
export function optionText(field: OptionField, value: unknown): string {
  if (field.kind.type === 'list') return Array.isArray(value) ? value.filter((v) => typeof v === 'string').join(', ') : '';
  return typeof value === 'string' ? value : '';
}

/** The value to send for a field's text: a list split on commas and new lines,
 * trimmed, without blanks or repeats; `null` when empty (unset). */
export function optionValue(field: OptionField, text: string): OptionValue {
  if (field.kind.type === 'list') {
    const items = [...new Set(text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean))];
    return items.length > 0 ? items : null;
  }
  const trimmed = text.trim();
  return trimmed ? trimmed : null;
}

/** Why a field's text would be refused, checked as the server will (too many
 * values, a value not matching the pattern), or null. */
export function optionProblem(field: OptionField, text: string): string | null {
  const value = optionValue(field, text);
  if (value === null) return null;
  const values = Array.isArray(value) ? value : [value];
  if (field.kind.type === 'list' && values.length > field.kind.max_items) {
    return `At most ${field.kind.max_items} values; this has ${values.length}.`;
  }
  if (field.pattern) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(field.pattern);
    } catch {
      return null; // a pattern this browser cannot compile: the server judges
    }
    const bad = values.find((v) => !pattern.test(v));
    if (bad !== undefined) return `“${bad}” is not a valid value.`;
  }
  return null;
}
