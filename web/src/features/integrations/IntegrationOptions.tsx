import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/client';
import { api } from '../../api/endpoints';
import type { Integration, Provider } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Field } from '../../components/ui/Field';
import { optionProblem, optionText, optionValue } from '../../lib/options';
import { useSession } from '../shell/session';

/** The options an integration's provider declares (PostHog's picked events and
 * breakdown property), edited generically from the declared fields. */
export function IntegrationOptions({ integration, provider }: { integration: Integration; provider: Provider }) {
  const { slug, canManage } = useSession();
  const queryClient = useQueryClient();
  const stored = (integration.options ?? {}) as Record<string, unknown>;
  const initial = () => Object.fromEntries(provider.options.map((f) => [f.name, optionText(f, stored[f.name])]));
  const [texts, setTexts] = useState<Record<string, string>>(initial);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () =>
      api.updateIntegration(slug, integration.id, {
        options: Object.fromEntries(provider.options.map((f) => [f.name, optionValue(f, texts[f.name] ?? '')])),
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['org', slug] }),
  });
  if (provider.options.length === 0) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    for (const f of provider.options) {
      const problem = optionProblem(f, texts[f.name] ?? '');
      if (problem) found[f.name] = problem;
    }
    setProblems(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  const serverField = save.error instanceof ApiError && save.error.field ? save.error.field.replace(/^options\./, '') : null;
  const summary = provider.options
    .map((f) => optionText(f, stored[f.name]))
    .filter(Boolean)
    .join(' · ');
  return (
    <details className="group mt-3 rounded-md border border-gray-200" data-options={integration.id}>
      <summary className="cursor-pointer list-none px-3 py-2 text-sm font-medium text-gray-700 select-none">
        <span className="mr-1 inline-block transition-transform group-open:rotate-90">›</span> Settings
        <span className="ml-2 font-normal text-gray-500">{summary || 'none set'}</span>
      </summary>
      <form onSubmit={submit} className="space-y-3 border-t border-gray-200 p-3" noValidate aria-label={`${provider.name} settings`}>
        {provider.options.map((f) => (
          <Field
            key={f.name}
            name={f.name}
            label={f.kind.type === 'list' ? `${f.label} (up to ${f.kind.max_items}, separated by commas)` : f.label}
            autoComplete="off"
            spellCheck={false}
            placeholder={f.placeholder || undefined}
            value={texts[f.name] ?? ''}
            disabled={!canManage}
            onChange={(e) => setTexts((s) => ({ ...s, [f.name]: e.target.value }))}
            help={f.help}
            error={problems[f.name] ?? (serverField === f.name && save.error ? save.error.message : null)}
          />
        ))}
        <div className="flex items-center gap-3">
          <Button type="submit" size="sm" busy={save.isPending} disabled={!canManage}>
            Save settings
          </Button>
          {save.isSuccess && !save.isPending && <span className="text-xs text-gray-500">Saved; a sync with these settings is queued.</span>}
        </div>
        {save.error && !(serverField && provider.options.some((f) => f.name === serverField)) && <ErrorAlert error={save.error} />}
      </form>
    </details>
  );
}
