import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { Invite, Member, OrgRole } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Badge, Card } from '../../components/ui/Card';
import { Field, Select } from '../../components/ui/Field';
import { relativeTime } from '../../lib/format';
import { useSession } from '../shell/session';
import { ConfirmDialog, EmptyCard, fieldError, formError, ListSkeleton, PageHeader, Section } from './parts';
import {
  article,
  assignableRoles,
  canRemove,
  formatDate,
  INVITE_ROLES,
  inviteState,
  ROLE_HELP,
  ROLE_LABEL,
  sortInvites,
  type InviteState,
} from './settings';

const ROLE_TONE: Record<OrgRole, 'green' | 'blue' | 'gray' | 'amber'> = {
  owner: 'green',
  admin: 'blue',
  member: 'gray',
  viewer: 'amber',
};

const INVITE_TONE: Record<InviteState, 'green' | 'gray' | 'red' | 'amber'> = {
  pending: 'amber',
  accepted: 'green',
  revoked: 'gray',
  expired: 'red',
};

export default function MembersPage() {
  const { slug, membership, canManage, me } = useSession();
  const members = useQuery({ queryKey: keys.members(slug), queryFn: ({ signal }) => api.members(slug, signal), staleTime: 0 });
  const invites = useQuery({
    queryKey: keys.invites(slug),
    queryFn: ({ signal }) => api.invites(slug, signal),
    staleTime: 0,
    enabled: canManage,
  });
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <div className="space-y-8">
      <PageHeader
        title="Members"
        description={
          <>
            People in <span className="font-medium text-gray-700">{membership.org_name}</span> and what they may do. You are{' '}
            {article(membership.role)} {ROLE_LABEL[membership.role].toLowerCase()}.
          </>
        }
      />
      {!canManage && <Alert tone="info">Only owners and admins can invite people, change roles or remove members.</Alert>}
      {notice && (
        <Alert tone="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Alert>
      )}

      <Section id="members" title="Members" description={members.data ? `${members.data.length} ${members.data.length === 1 ? 'person' : 'people'}` : undefined}>
        {members.isPending ? (
          <ListSkeleton rows={2} />
        ) : members.isError ? (
          <ErrorAlert error={members.error} onRetry={() => void members.refetch()} />
        ) : members.data.length === 0 ? (
          <EmptyCard title="No members yet" />
        ) : (
          <Card>
            <ul className="divide-y divide-gray-100" data-testid="members">
              {members.data.map((m) => (
                <MemberRow key={m.user_id} member={m} isSelf={m.user_id === me.user.id} onNotice={setNotice} />
              ))}
            </ul>
          </Card>
        )}
      </Section>

      {canManage && (
        <Section id="invites" title="Invitations" description="An invitation link works once and expires after 7 days.">
          <InviteForm onSent={(email) => setNotice(`Invitation sent to ${email}.`)} />
          {invites.isPending ? (
            <ListSkeleton rows={1} />
          ) : invites.isError ? (
            <ErrorAlert error={invites.error} onRetry={() => void invites.refetch()} />
          ) : invites.data.length === 0 ? (
            <EmptyCard title="No invitations yet">Invite a teammate by email above; they get a link to join this organization.</EmptyCard>
          ) : (
            <Card>
              <ul className="divide-y divide-gray-100" data-testid="invites">
                {sortInvites(invites.data).map((i) => (
                  <InviteRow key={i.id} invite={i} />
                ))}
              </ul>
            </Card>
          )}
          <p className="text-xs text-gray-500">
            Without a mail server configured, invitations are not delivered: they are listed in the{' '}
            <Link to="/settings/mailbox" className="font-medium text-brand-700 hover:underline">
              Mailbox
            </Link>
            .
          </p>
        </Section>
      )}
    </div>
  );
}

function MemberRow({ member, isSelf, onNotice }: { member: Member; isSelf: boolean; onNotice: (m: string | null) => void }) {
  const { slug, membership } = useSession();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const roles = assignableRoles(membership.role, member.role);
  const removable = canRemove(membership.role, member.role, isSelf);
  const update = useMutation({
    mutationFn: (role: OrgRole) => api.updateMember(slug, member.user_id, { role }),
    onSuccess: (m) => {
      onNotice(`${m.name} is now ${article(m.role)} ${ROLE_LABEL[m.role].toLowerCase()}.`);
      void queryClient.invalidateQueries({ queryKey: keys.members(slug) });
      if (isSelf) void queryClient.invalidateQueries({ queryKey: keys.me });
    },
  });
  const remove = useMutation({
    mutationFn: () => api.removeMember(slug, member.user_id),
    onSuccess: () => {
      setConfirming(false);
      onNotice(`${member.name} was removed from ${membership.org_name}.`);
      void queryClient.invalidateQueries({ queryKey: keys.members(slug) });
    },
  });
  const selectId = `role-${member.user_id}`;
  return (
    <li className="px-4 py-3" data-member={member.email}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <div className="min-w-0 flex-1 basis-56">
          <p className="truncate text-sm font-medium text-gray-900">
            {member.name}
            {isSelf && <span className="ml-1.5 text-xs font-normal text-gray-500">(you)</span>}
          </p>
          <p className="truncate text-sm text-gray-500">{member.email}</p>
        </div>
        <p className="hidden w-32 text-xs text-gray-500 md:block" title={member.joined_at}>
          Joined {relativeTime(member.joined_at)}
        </p>
        {roles.length > 0 ? (
          <div className="flex items-center gap-2">
            <label htmlFor={selectId} className="sr-only">
              Role for {member.name}
            </label>
            <Select
              id={selectId}
              value={member.role}
              disabled={update.isPending}
              aria-busy={update.isPending || undefined}
              onChange={(e) => {
                onNotice(null);
                update.mutate(e.target.value as OrgRole);
              }}
              className="w-32"
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABEL[r]}
                </option>
              ))}
            </Select>
          </div>
        ) : (
          <Badge tone={ROLE_TONE[member.role]} className="w-fit">
            <span title={ROLE_HELP[member.role]}>{ROLE_LABEL[member.role]}</span>
          </Badge>
        )}
        {removable && (
          <Button variant="danger" size="sm" onClick={() => setConfirming(true)} aria-label={`Remove ${member.name}`}>
            Remove
          </Button>
        )}
      </div>
      {update.isError && <ErrorAlert className="mt-2" error={update.error} />}
      <ConfirmDialog
        open={confirming}
        title={`Remove ${member.name}?`}
        description={`${member.email} loses access to ${membership.org_name} and all its workspaces at once. You can invite them again later.`}
        confirmLabel="Remove member"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setConfirming(false);
          remove.reset();
        }}
      />
    </li>
  );
}

function InviteForm({ onSent }: { onSent: (email: string) => void }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<OrgRole>('member');
  const create = useMutation({
    mutationFn: () => api.createInvite(slug, { email: email.trim(), role }),
    onSuccess: (invite) => {
      setEmail('');
      onSent(invite.email);
      void queryClient.invalidateQueries({ queryKey: keys.invites(slug) });
      void queryClient.invalidateQueries({ queryKey: keys.mailbox(slug) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const other = formError(create.error, ['email', 'role']);
  return (
    <Card className="p-4">
      <form onSubmit={submit} noValidate className="space-y-3">
        <div className="flex flex-wrap items-start gap-3">
          <Field
            label="Email address"
            type="email"
            name="invite-email"
            autoComplete="off"
            required
            placeholder="teammate@example.com"
            className="min-w-0 flex-1 basis-64"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldError(create.error, 'email')}
          />
          <div className="w-40">
            <label htmlFor="invite-role" className="block text-sm font-medium text-gray-800">
              Role
            </label>
            <Select
              id="invite-role"
              value={role}
              onChange={(e) => setRole(e.target.value as OrgRole)}
              aria-describedby="invite-role-help"
              aria-invalid={fieldError(create.error, 'role') ? true : undefined}
              className="mt-1 w-full"
            >
              {INVITE_ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABEL[r]}
                </option>
              ))}
            </Select>
          </div>
          <Button type="submit" busy={create.isPending} disabled={!email.trim()} className="mt-6">
            Send invite
          </Button>
        </div>
        <p id="invite-role-help" className={fieldError(create.error, 'role') ? 'text-xs text-red-700' : 'text-xs text-gray-500'}>
          {fieldError(create.error, 'role') ?? `${ROLE_LABEL[role]}: ${ROLE_HELP[role]}`}
        </p>
        {other ? <ErrorAlert error={other} /> : null}
      </form>
    </Card>
  );
}

function InviteRow({ invite }: { invite: Invite }) {
  const { slug } = useSession();
  const queryClient = useQueryClient();
  const state = inviteState(invite);
  const revoke = useMutation({
    mutationFn: () => api.revokeInvite(slug, invite.id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.invites(slug) }),
  });
  const when =
    state === 'pending'
      ? `Expires ${formatDate(invite.expires_at)}`
      : state === 'accepted'
        ? `Accepted ${relativeTime(invite.accepted_at)}`
        : state === 'revoked'
          ? `Revoked ${relativeTime(invite.revoked_at)}`
          : `Expired ${formatDate(invite.expires_at)}`;
  return (
    <li className="px-4 py-3" data-invite={invite.email} data-state={state}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <div className="min-w-0 flex-1 basis-56">
          <p className="truncate text-sm font-medium text-gray-900">{invite.email}</p>
          <p className="text-xs text-gray-500">
            {ROLE_LABEL[invite.role]} · {when}
          </p>
        </div>
        <Badge tone={INVITE_TONE[state]} className="capitalize">
          {state}
        </Badge>
        {state === 'pending' && (
          <Button variant="secondary" size="sm" busy={revoke.isPending} onClick={() => revoke.mutate()} aria-label={`Revoke the invitation for ${invite.email}`}>
            Revoke
          </Button>
        )}
      </div>
      {revoke.isError && <ErrorAlert className="mt-2" error={revoke.error} />}
    </li>
  );
}
