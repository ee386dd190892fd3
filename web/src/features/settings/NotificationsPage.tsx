import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import type { Preferences } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Card, Skeleton } from '../../components/ui/Card';
import { nextDigestAt } from '../alerts/alerts';
import { useSession } from '../shell/session';
import { inlineSparklines } from './digestPreview';
import { PageHeader, Section } from './parts';

/**
 * The caller's own mail in the current organization: the Monday digest, its
 * "whole dashboard" variant, and alert mails addressed to them. Owners and admins
 * can preview this week's digest as they would receive it.
 */
export default function NotificationsPage() {
  const { slug, membership, canManage } = useSession();
  const prefs = useQuery({ queryKey: keys.preferences(slug), queryFn: ({ signal }) => api.preferences(slug, signal) });
  return (
    <div className="space-y-8">
      <PageHeader title="Notifications" description={`What Pulseboard mails you about ${membership.org_name}. Each organization you belong to has its own settings.`} />
      {prefs.isPending ? (
        <Card className="space-y-4 p-4" aria-busy="true">
          <Skeleton className="h-5 w-72" />
          <Skeleton className="h-5 w-96 max-w-full" />
          <Skeleton className="h-5 w-64" />
        </Card>
      ) : prefs.isError ? (
        <ErrorAlert error={prefs.error} onRetry={() => void prefs.refetch()} />
      ) : (
        <PreferencesForm key={slug} initial={prefs.data} />
      )}
      {canManage && <DigestPreview />}
    </div>
  );
}

function PreferencesForm({ initial }: { initial: Preferences }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [prefs, setPrefs] = useState<Preferences>(initial);
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () => api.savePreferences(slug, prefs),
    onSuccess: (p) => {
      queryClient.setQueryData(keys.preferences(slug), p);
      void queryClient.invalidateQueries({ queryKey: keys.digestPreview(slug) });
      setSaved(true);
    },
  });
  const changed = prefs.digest !== initial.digest || prefs.digest_everything !== initial.digest_everything || prefs.alert_mail !== initial.alert_mail;
  const set = (key: keyof Preferences, value: boolean) => {
    setSaved(false);
    setPrefs((p) => ({ ...p, [key]: value }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Card className="p-4">
      <form onSubmit={submit} className="space-y-4" aria-label="Mail preferences">
        <fieldset className="space-y-4">
          <legend className="sr-only">Mail preferences</legend>
          <Check
            id="pref-digest"
            checked={prefs.digest}
            onChange={(v) => set('digest', v)}
            label="Weekly digest on Mondays"
            help="A short mail each Monday morning: the week’s biggest wins and losses on your dashboards, alerts that fired, and sources that need attention."
          />
          <Check
            id="pref-everything"
            checked={prefs.digest_everything}
            disabled={!prefs.digest}
            onChange={(v) => set('digest_everything', v)}
            label="Send me the whole dashboard instead of the week’s movers"
            help={prefs.digest ? 'Every metric on your dashboards, not only the three that rose and fell the most.' : 'Turn the weekly digest on to choose this.'}
            indent
          />
          <Check
            id="pref-alerts"
            checked={prefs.alert_mail}
            onChange={(v) => set('alert_mail', v)}
            label="Alert emails addressed to me"
            help="When a rule that names you fires. Rules that post to Slack still post there."
          />
        </fieldset>
        <ErrorAlert error={save.error} />
        <div className="flex items-center gap-3">
          <Button type="submit" busy={save.isPending} disabled={!changed && !save.isError}>
            Save preferences
          </Button>
          <p className="text-sm text-brand-800" role="status">
            {saved && !changed ? 'Saved.' : ''}
          </p>
        </div>
      </form>
    </Card>
  );
}

function Check({ id, checked, disabled, onChange, label, help, indent }: { id: string; checked: boolean; disabled?: boolean; onChange: (v: boolean) => void; label: string; help: ReactNode; indent?: boolean }) {
  return (
    <div className={indent ? 'ml-6 flex items-start gap-3' : 'flex items-start gap-3'}>
      <input
        id={id}
        type="checkbox"
        className="mt-0.5 size-4 shrink-0 rounded border-gray-300 accent-brand-700 disabled:opacity-50"
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={`${id}-help`}
      />
      <div>
        <label htmlFor={id} className={disabled ? 'text-sm font-medium text-gray-500' : 'text-sm font-medium text-gray-900'}>
          {label}
        </label>
        <p id={`${id}-help`} className="text-sm text-gray-600">
          {help}
        </p>
      </div>
    </div>
  );
}

function DigestPreview() {
  const { slug } = useSession();
  const [shown, setShown] = useState(false);
  const preview = useQuery({
    queryKey: keys.digestPreview(slug),
    queryFn: ({ signal }) => api.digestPreview(slug, signal),
    enabled: shown,
    retry: false,
  });
  useEffect(() => setShown(false), [slug]);
  const when = nextDigestAt(new Date());
  const whenText = `${when.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' })} at 09:00 UTC`;
  const nothing = preview.error instanceof ApiError && preview.error.status === 404;
  return (
    <Section
      id="digest-preview"
      title="This week’s digest"
      description={`The next one goes out on ${whenText}, to every member who has it turned on; each sees their own dashboards.`}
      action={
        !shown ? (
          <Button variant="secondary" onClick={() => setShown(true)}>
            Preview this week’s digest
          </Button>
        ) : (
          <Button variant="ghost" busy={preview.isFetching} onClick={() => void preview.refetch()}>
            Refresh preview
          </Button>
        )
      }
    >
      {shown &&
        (preview.isPending && preview.isFetching ? (
          <Card className="p-4" aria-busy="true">
            <Skeleton className="h-5 w-80 max-w-full" />
            <Skeleton className="mt-3 h-64 w-full" />
          </Card>
        ) : nothing ? (
          <Alert tone="info" title="Nothing to report this week">
            The digest is skipped for people whose dashboards have no synced metrics yet. Connect a source and add a dashboard, and next Monday’s mail will have
            numbers in it.
          </Alert>
        ) : preview.isError ? (
          <ErrorAlert error={preview.error} onRetry={() => void preview.refetch()} />
        ) : preview.data ? (
          <Card className="overflow-hidden" data-testid="digest-preview">
            <div className="border-b border-gray-200 bg-gray-50 px-4 py-3">
              <p className="text-xs text-gray-600">
                Subject <span className="sr-only">:</span>
              </p>
              <p className="text-sm font-semibold text-gray-900" data-testid="digest-subject">
                {preview.data.subject}
              </p>
              <p className="mt-1 text-xs text-gray-600">
                {preview.data.week_label} · {preview.data.wins.length} {preview.data.wins.length === 1 ? 'win' : 'wins'}, {preview.data.losses.length}{' '}
                {preview.data.losses.length === 1 ? 'loss' : 'losses'}
                {preview.data.watch.length > 0 ? `, ${preview.data.watch.length} to watch` : ''}
              </p>
            </div>
            {/* The mail as sent (its inline sparklines drawn here): no scripts, no same-origin access, no navigation. */}
            <iframe title={`Digest preview: ${preview.data.subject}`} sandbox="" srcDoc={inlineSparklines(preview.data)} className="block h-[36rem] w-full bg-white" />
          </Card>
        ) : null)}
    </Section>
  );
}
