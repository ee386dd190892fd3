import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { SlackChannel } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Field } from '../../components/ui/Field';
import { useSession } from '../shell/session';
import { ConfirmDialog, EmptyCard, fieldError, formError, ListSkeleton, PageHeader, Section } from './parts';
import { formatDate, formatDateTime } from './settings';

/**
 * Slack channels alerts and digests can post to, each an incoming-webhook URL. The URL is
 * a secret: the server stores it encrypted and only ever shows a hint (`…/T000/B000/****`).
 * A channel Slack reports gone (archived, webhook removed) is disabled with Slack's answer.
 */
export default function SlackPage() {
  const { slug, canManage, canEdit } = useSession();
  const channels = useQuery({
    queryKey: keys.slackChannels(slug),
    queryFn: ({ signal }) => api.slackChannels(slug, signal),
    enabled: canEdit,
  });
  const [removing, setRemoving] = useState<SlackChannel | null>(null);
  return (
    <div className="space-y-8">
      <PageHeader
        title="Slack"
        description={
          <>
            Channels alerts and the weekly digest can post to. Create an{' '}
            <a className="text-brand-700 underline" href="https://api.slack.com/messaging/webhooks" target="_blank" rel="noreferrer">
              incoming webhook
            </a>{' '}
            in your Slack workspace and paste its URL here; Pulseboard keeps it encrypted and never shows it again.
          </>
        }
      />
      {!canEdit ? (
        <EmptyCard title="Viewers cannot see Slack channels" />
      ) : (
        <>
          {canManage && <AddChannelForm slug={slug} />}
          <Section id="slack-channels" title="Channels">
            {channels.isPending ? (
              <ListSkeleton rows={2} />
            ) : channels.isError ? (
              <ErrorAlert error={channels.error} onRetry={() => void channels.refetch()} />
            ) : channels.data.length === 0 ? (
              <EmptyCard title="No Slack channels yet">{canManage ? 'Add one above.' : 'Owners and admins can add one.'}</EmptyCard>
            ) : (
              <Card>
                <ul className="divide-y divide-gray-100" data-testid="slack-channels">
                  {channels.data.map((c) => (
                    <li key={c.id} className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3" data-channel={c.name} data-state={c.disabled_at ? 'disabled' : 'active'}>
                      <div className="min-w-0 flex-1 basis-56">
                        <p className="truncate text-sm font-medium text-gray-900">{c.name}</p>
                        <p className="text-xs text-gray-500">
                          <code className="text-gray-700">{c.webhook_hint}</code> · added {formatDate(c.created_at)}
                        </p>
                        {c.disabled_at && (
                          <p className="mt-1 text-xs break-words text-red-700">
                            Disabled {formatDateTime(c.disabled_at)}: Slack answered <code>{c.disabled_reason ?? 'unknown'}</code>. Add the channel again with a new webhook.
                          </p>
                        )}
                      </div>
                      <Badge tone={c.disabled_at ? 'red' : 'green'}>{c.disabled_at ? 'Disabled' : 'Active'}</Badge>
                      {canManage && (
                        <Button variant="danger" size="sm" onClick={() => setRemoving(c)} aria-label={`Remove ${c.name}`}>
                          Remove
                        </Button>
                      )}
                    </li>
                  ))}
                </ul>
              </Card>
            )}
          </Section>
        </>
      )}
      <RemoveChannel slug={slug} channel={removing} onClose={() => setRemoving(null)} />
    </div>
  );
}

function AddChannelForm({ slug }: { slug: string }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const add = useMutation({
    mutationFn: () => api.createSlackChannel(slug, { name: name.trim(), webhook_url: url.trim() }),
    onSuccess: () => {
      setName('');
      setUrl('');
      void queryClient.invalidateQueries({ queryKey: keys.slackChannels(slug) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const other = formError(add.error, ['name', 'webhook_url']);
  return (
    <Card className="p-4">
      <form onSubmit={submit} noValidate className="space-y-3">
        <h2 className="text-sm font-semibold text-gray-900">Add a channel</h2>
        <div className="flex flex-wrap items-start gap-3">
          <Field
            label="Name"
            name="slack-name"
            required
            placeholder="#growth"
            className="w-48"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError(add.error, 'name')}
          />
          <Field
            label="Webhook URL"
            name="slack-webhook-url"
            required
            type="url"
            autoComplete="off"
            placeholder="https://hooks.slack.com/services/…"
            className="min-w-0 flex-1 basis-72"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            error={fieldError(add.error, 'webhook_url')}
          />
          <Button type="submit" busy={add.isPending} disabled={!name.trim() || !url.trim()} className="mt-6">
            Add channel
          </Button>
        </div>
        {other ? <ErrorAlert error={other} /> : null}
      </form>
    </Card>
  );
}

function RemoveChannel({ slug, channel, onClose }: { slug: string; channel: SlackChannel | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteSlackChannel(slug, id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.slackChannels(slug) });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      open={channel !== null}
      title={`Remove ${channel?.name ?? 'channel'}?`}
      description="Alerts stop posting to it, and messages still waiting for it are dropped."
      confirmLabel="Remove channel"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => channel && remove.mutate(channel.id)}
      onClose={() => {
        remove.reset();
        onClose();
      }}
    />
  );
}
