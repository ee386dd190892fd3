import { describe, expect, it } from 'vitest';
import type { OptionField } from '../api/types';
import { optionProblem, optionText, optionValue } from './options';

const events: OptionField = {
  name: 'events',
  label: 'Events to count',
  kind: { type: 'list', max_items: 2 },
  placeholder: '',
  help: '',
  pattern: '^[^\\u0000-\\u001f]{1,200}$',
};
const property: OptionField = { name: 'breakdown_property', label: 'Property', kind: { type: 'text' }, placeholder: '', help: '' };

describe('integration options', () => {
  it('shows stored values as text', () => {
    expect(optionText(events, ['signed_up', 'checkout_started'])).toBe('signed_up, checkout_started');
    expect(optionText(events, undefined)).toBe('');
    expect(optionText(property, '$browser')).toBe('$browser');
    expect(optionText(property, ['x'])).toBe('');
  });

  it('sends trimmed lists without repeats, and null for empty', () => {
    expect(optionValue(events, ' signed_up ,checkout_started\nsigned_up, ')).toEqual(['signed_up', 'checkout_started']);
    expect(optionValue(events, ' , ')).toBeNull();
    expect(optionValue(property, '  plan ')).toBe('plan');
    expect(optionValue(property, '   ')).toBeNull();
  });

  it('names the problem the server would refuse', () => {
    expect(optionProblem(events, 'a, b')).toBeNull();
    expect(optionProblem(events, 'a, b, c')).toBe('At most 2 values; this has 3.');
    expect(optionProblem(events, 'a\u0007b')).toBe('“a\u0007b” is not a valid value.');
    expect(optionProblem(property, '')).toBeNull();
  });
});
