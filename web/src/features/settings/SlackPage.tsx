import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { SlackChannel } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Field } from '../../components/ui/Field';
import { NotFound } from '../shell/Pages';
import { useSession } from '../shell/session';
import { ConfirmDialog, EmptyCard, fieldError, formError, ListSkeleton, PageHeader, Section } from './parts';
import { formatDate } from './settings';

/**
 * The organization's Slack channels, which alert rules can post to: each is an
 * incoming webhook (its URL is a secret the server keeps; only a hint comes back).
 * Owners and admins add and remove them; members see them.
 */
export default function SlackPage() {
  const { slug, canEdit, canManage } = useSession();
  const channels = useQuery({ queryKey: keys.slackChannels(slug), queryFn: ({ signal }) => api.slackChannels(slug, signal), enabled: canEdit });
  const [removing, setRemoving] = useState<SlackChannel | null>(null);
  if (!canEdit) return <NotFound />;
  const list = channels.data ?? [];
  return (
    <div className="space-y-8">
      <PageHeader title="Slack" description="Channels alert rules can post to, besides email. Choose one in an alert’s settings." />
      {canManage && <AddChannel />}
      <Section id="channels" title="Channels">
        {channels.isPending ? (
          <ListSkeleton rows={2} />
        ) : channels.isError ? (
          <ErrorAlert error={channels.error} onRetry={() => void channels.refetch()} />
        ) : list.length === 0 ? (
          <EmptyCard title="No Slack channels yet">
            {canManage ? 'Add one above with its incoming-webhook URL; then pick it in any alert.' : 'Owners and admins of this organization add them.'}
          </EmptyCard>
        ) : (
          <Card>
            <ul className="divide-y divide-gray-100" data-testid="slack-channels">
              {list.map((c) => (
                <li key={c.id} className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3" data-channel={c.name} data-state={c.disabled_at ? 'disabled' : 'active'}>
                  <div className="min-w-0 flex-1 basis-64">
                    <p className="truncate text-sm font-medium text-gray-900">{c.name}</p>
                    <p className="truncate text-xs text-gray-600">
                      <code className="text-gray-700">{c.webhook_hint}</code> · added {formatDate(c.created_at)}
                    </p>
                    {c.disabled_at && (
                      <p className="mt-1 text-xs text-red-700">
                        Slack refused this webhook on {formatDate(c.disabled_at)}
                        {c.disabled_reason ? `: ${c.disabled_reason}` : ''}. Nothing is posted to it any more; add the channel again with a new webhook.
                      </p>
                    )}
                  </div>
                  <Badge tone={c.disabled_at ? 'red' : 'green'}>{c.disabled_at ? 'Disabled' : 'Active'}</Badge>
                  {canManage && (
                    <Button variant="danger" size="sm" onClick={() => setRemoving(c)}>
                      Remove<span className="sr-only"> {c.name}</span>
                    </Button>
                  )}
                </li>
              ))}
            </ul>
          </Card>
        )}
      </Section>
      <RemoveChannel channel={removing} onClose={() => setRemoving(null)} />
    </div>
  );
}

function AddChannel() {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const create = useMutation({
    mutationFn: () => api.createSlackChannel(slug, { name: name.trim(), webhook_url: url.trim() }),
    onSuccess: () => {
      setName('');
      setUrl('');
      void queryClient.invalidateQueries({ queryKey: keys.slackChannels(slug) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Card className="p-4">
      <form onSubmit={submit} noValidate className="space-y-3" aria-labelledby="add-channel-heading">
        <div>
          <h2 id="add-channel-heading" className="text-sm font-semibold text-gray-900">
            Add a channel
          </h2>
          <p className="mt-0.5 text-sm text-gray-600">
            In Slack: Apps → Incoming Webhooks → Add to channel, then copy the webhook URL and paste it here.
          </p>
        </div>
        <div className="flex flex-wrap items-start gap-3">
          <Field
            label="Channel name"
            name="channel-name"
            required
            placeholder="#growth"
            className="w-48"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError(create.error, 'name')}
          />
          <Field
            label="Webhook URL"
            name="webhook-url"
            type="url"
            required
            autoComplete="off"
            placeholder="https://hooks.slack.com/services/…"
            className="min-w-0 flex-1 basis-72"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            error={fieldError(create.error, 'webhook_url')}
          />
          <Button type="submit" busy={create.isPending} disabled={!name.trim() || !url.trim()} className="mt-6">
            Add channel
          </Button>
        </div>
        {formError(create.error, ['name', 'webhook_url']) ? <ErrorAlert error={formError(create.error, ['name', 'webhook_url'])} /> : null}
      </form>
    </Card>
  );
}

function RemoveChannel({ channel, onClose }: { channel: SlackChannel | null; onClose: () => void }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteSlackChannel(slug, id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.slackChannels(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.alerts(slug) });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      open={channel !== null}
      title={`Remove ${channel?.name ?? 'channel'}?`}
      description="Alerts that post to it stop posting there (they keep mailing their recipients), and messages not yet delivered to it are dropped."
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
