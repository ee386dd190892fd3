import { useQuery } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import { ErrorAlert } from '../../components/ui/Alert';
import { Badge, Card } from '../../components/ui/Card';
import { relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';
import { EmptyCard, ListSkeleton, PageHeader } from './parts';
import { formatDateTime, mailState, type MailState } from './settings';

const STATE: Record<MailState, { tone: 'green' | 'red' | 'amber' | 'gray'; label: string }> = {
  sent: { tone: 'green', label: 'Sent' },
  failed: { tone: 'red', label: 'Failed' },
  retrying: { tone: 'amber', label: 'Retrying' },
  queued: { tone: 'gray', label: 'Queued' },
};

const KIND: Record<string, string> = {
  invite: 'Invitation',
  alert: 'Alert',
  digest: 'Weekly digest',
  reauth: 'Reconnect needed',
  integration_reauth: 'Reconnect needed',
};

/**
 * Mail the server queued for this organization and what became of it. A failed message
 * shows the mail server's reply (`550 5.1.1 mailbox unavailable`); a retrying one its
 * last reply and when it is tried next. With no SMTP or Resend configured, each message
 * is an `.eml` file under `{data dir}/mail/`, named by its id.
 */
export default function MailboxPage() {
  const { slug, canManage } = useSession();
  const mail = useQuery({
    queryKey: keys.mailbox(slug),
    queryFn: ({ signal }) => api.mailbox(slug, signal),
    staleTime: 0,
    enabled: canManage,
    refetchInterval: (q) => (q.state.data?.some((m) => m.state === 'queued') ? 3000 : false),
  });
  return (
    <div className="space-y-6">
      <PageHeader
        title="Mailbox"
        description={
          <>
            Email Pulseboard sends for this organization: invitations, alerts, the weekly digest. When the server has no mail transport (
            <code className="text-xs">PULSEBOARD_SMTP_URL</code> or <code className="text-xs">PULSEBOARD_RESEND_API_KEY</code>), messages are not delivered: each
            one is written to the server’s data directory as <code className="text-xs">mail/&lt;id&gt;.eml</code>, and listed here.
          </>
        }
      />
      {!canManage ? (
        <EmptyCard title="Only owners and admins can see the mailbox" />
      ) : mail.isPending ? (
        <ListSkeleton rows={3} />
      ) : mail.isError ? (
        <ErrorAlert error={mail.error} onRetry={() => void mail.refetch()} />
      ) : mail.data.length === 0 ? (
        <EmptyCard title="No mail yet">Invite a teammate or set up an alert: the messages Pulseboard sends for this organization appear here.</EmptyCard>
      ) : (
        <Card>
          <ul className="divide-y divide-gray-100" data-testid="mailbox">
            {mail.data.map((m) => {
              const state = mailState(m);
              return (
                <li key={m.id} className="px-4 py-3" data-mail-id={m.id} data-kind={m.kind} data-to={m.to_addr} data-state={state}>
                  <div className="flex flex-wrap items-start gap-x-4 gap-y-1">
                    <div className="min-w-0 flex-1 basis-64">
                      <p className="truncate text-sm font-medium text-gray-900">{m.subject}</p>
                      <p className="truncate text-sm text-gray-600">To {m.to_addr}</p>
                    </div>
                    <div className="flex shrink-0 items-center gap-2">
                      <Badge tone="gray">{KIND[m.kind] ?? m.kind}</Badge>
                      <Badge tone={STATE[state].tone}>{STATE[state].label}</Badge>
                    </div>
                  </div>
                  <p className="mt-1 text-xs text-gray-500">
                    <time dateTime={m.created_at} title={formatDateTime(m.created_at)}>
                      Queued {relativeTime(m.created_at)}
                    </time>
                    {m.sent_at && <> · sent {formatDateTime(m.sent_at)}</>}
                    {m.failed_at && <> · gave up {formatDateTime(m.failed_at)}</>}
                    {state === 'retrying' && <> · next attempt {formatDateTime(m.next_attempt_at)}</>}
                    {m.attempts > 1 && <> · {m.attempts} attempts</>} · file <code className="break-all text-gray-700">mail/{m.id}.eml</code>
                  </p>
                  {m.last_error && state === 'failed' && (
                    <p className="mt-1 text-xs break-words text-red-700" data-testid="mail-reply">
                      Not delivered. The server replied: <code>{m.last_error}</code>
                    </p>
                  )}
                  {m.last_error && state === 'retrying' && (
                    <p className="mt-1 text-xs break-words text-amber-700" data-testid="mail-reply">
                      Last attempt failed, will retry: <code>{m.last_error}</code>
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
        </Card>
      )}
      <p className="text-xs text-gray-500">The API lists who each message went to and its subject; the message body is only in the file.</p>
    </div>
  );
}
