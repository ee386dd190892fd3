// The page an invitation email links to (`/invite/{token}`): shows which organization
// and role the link is for, then joins it as the signed-in user or signs up through it.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import type { InvitePreview, Me } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button, Spinner } from '../../components/ui/Button';
import { Field } from '../../components/ui/Field';
import { formatDate, ROLE_HELP, ROLE_LABEL } from '../settings/settings';
import { CardPage } from '../shell/Pages';
import { rememberOrg } from '../shell/session';

export default function AcceptInvitePage() {
  const params = useParams();
  const [search] = useSearchParams();
  const token = params.token ?? search.get('token') ?? '';
  const lookup = useQuery({
    queryKey: keys.invite(token),
    queryFn: ({ signal }) => api.lookupInvite(token, signal),
    enabled: token !== '',
    retry: false,
  });
  const me = useQuery({ queryKey: keys.me, queryFn: ({ signal }) => api.me(signal), retry: false });
  const signedOut = me.error instanceof ApiError && me.error.status === 401;
  const loginHref = `/login?next=${encodeURIComponent(`/invite/${token}`)}`;

  if (!token || lookup.isError) {
    const gone = lookup.error instanceof ApiError && lookup.error.status === 410;
    return (
      <CardPage
        homeLink
        wide
        footer={
          <Link className="font-medium text-brand-700 hover:underline" to="/">
            Go to Pulseboard
          </Link>
        }
      >
        <h1 className="text-lg font-semibold text-gray-900">{gone ? 'This invitation can no longer be used' : 'Invitation not found'}</h1>
        <Alert tone={gone ? 'warning' : 'error'} className="mt-4">
          {!token
            ? 'The link has no invitation token. Open the link from the email again.'
            : lookup.error instanceof ApiError && lookup.error.status === 404
              ? 'This invitation link is not valid. Check that the whole link was copied, or ask for a new invitation.'
              : lookup.error instanceof Error
                ? `${lookup.error.message.charAt(0).toUpperCase()}${lookup.error.message.slice(1)}.`.replace(/\.\.$/, '.')
                : null}
        </Alert>
        <p className="mt-4 text-sm text-gray-600">Ask an owner or admin of the organization to send you a new invitation.</p>
      </CardPage>
    );
  }

  if (lookup.isPending || (me.isPending && !signedOut)) {
    return (
      <CardPage homeLink wide>
        <div className="flex h-48 items-center justify-center text-gray-400" role="status" aria-label="Loading">
          <Spinner className="size-6" />
        </div>
      </CardPage>
    );
  }

  const invite = lookup.data;
  return (
    <CardPage
      homeLink
      wide
      footer={
        signedOut ? (
          <>
            Already have an account with {invite.email}?{' '}
            <Link className="font-medium text-brand-700 hover:underline" to={loginHref}>
              Log in to accept
            </Link>
          </>
        ) : undefined
      }
    >
      <p className="text-sm font-medium text-brand-700">You’re invited</p>
      <h1 className="mt-0.5 text-lg font-semibold text-gray-900">Join {invite.org_name} on Pulseboard</h1>
      <dl className="mt-4 grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-1.5 rounded-lg bg-gray-50 px-4 py-3 text-sm">
        <dt className="text-gray-500">Organization</dt>
        <dd className="truncate font-medium text-gray-900">{invite.org_name}</dd>
        <dt className="text-gray-500">Role</dt>
        <dd className="text-gray-900">
          <span className="font-medium">{ROLE_LABEL[invite.role]}</span> <span className="text-gray-500">· {ROLE_HELP[invite.role]}</span>
        </dd>
        <dt className="text-gray-500">For</dt>
        <dd className="truncate text-gray-900">{invite.email}</dd>
        <dt className="text-gray-500">Expires</dt>
        <dd className="text-gray-900">{formatDate(invite.expires_at)}</dd>
      </dl>
      <div className="mt-5">
        {me.data ? (
          <SignedIn me={me.data} invite={invite} token={token} loginHref={loginHref} />
        ) : signedOut ? (
          <SignUpThroughInvite invite={invite} token={token} />
        ) : (
          <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
        )}
      </div>
    </CardPage>
  );
}

function useJoined() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (slug: string, me?: Me) => {
    rememberOrg(slug);
    queryClient.clear();
    if (me) queryClient.setQueryData(keys.me, me);
    void navigate('/', { replace: true });
  };
}

function SignedIn({ me, invite, token, loginHref }: { me: Me; invite: InvitePreview; token: string; loginHref: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const joined = useJoined();
  const accept = useMutation({ mutationFn: () => api.acceptInvite(token), onSuccess: (m) => joined(m.slug) });
  const logout = useMutation({
    mutationFn: api.logout,
    onSettled: () => {
      queryClient.removeQueries({ queryKey: keys.me });
      void navigate(loginHref);
    },
  });
  if (me.user.email.toLowerCase() !== invite.email.toLowerCase()) {
    return (
      <div className="space-y-4">
        <Alert tone="warning">
          You are signed in as <span className="font-medium">{me.user.email}</span>, but this invitation is for{' '}
          <span className="font-medium">{invite.email}</span>. Log out, then log in or sign up with {invite.email}.
        </Alert>
        <div className="flex flex-wrap gap-2">
          <Button busy={logout.isPending} onClick={() => logout.mutate()}>
            Log out and switch account
          </Button>
          <Link to="/" className="inline-flex h-9 items-center rounded-md px-3.5 text-sm font-medium text-gray-700 hover:bg-gray-100">
            Not now
          </Link>
        </div>
      </div>
    );
  }
  const already = me.memberships.find((m) => m.org_name === invite.org_name);
  return (
    <div className="space-y-4">
      <p className="text-sm text-gray-600">
        Signed in as <span className="font-medium text-gray-900">{me.user.email}</span>.
        {already && ` You already belong to an organization called ${invite.org_name}.`}
      </p>
      <ErrorAlert error={accept.error} />
      <Button className="w-full" busy={accept.isPending} onClick={() => accept.mutate()}>
        Accept and join {invite.org_name}
      </Button>
    </div>
  );
}

function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError && error.field === field ? error.message : null;
}

function SignUpThroughInvite({ invite, token }: { invite: InvitePreview; token: string }) {
  const joined = useJoined();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const signup = useMutation({
    mutationFn: () => api.signup({ name, email: invite.email, password, invite_token: token }),
    onSuccess: (me) => {
      const m = me.memberships.find((x) => x.org_name === invite.org_name) ?? me.memberships[0];
      joined(m?.org_slug ?? '', me);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signup.mutate();
  };
  const err = signup.error;
  const other = err instanceof ApiError && err.field && ['name', 'password'].includes(err.field) ? null : err;
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <p className="text-sm text-gray-600">Create your account to join. No new organization is created.</p>
      {other ? <ErrorAlert error={other} /> : null}
      <Field label="Your name" name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldError(err, 'name')} />
      <Field label="Email" type="email" name="email" autoComplete="email" readOnly value={invite.email} help="The invitation is for this address." className="[&_input]:bg-gray-50 [&_input]:text-gray-600" />
      <Field
        label="Password"
        type="password"
        name="password"
        autoComplete="new-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldError(err, 'password')}
        help="At least 10 characters."
      />
      <Button type="submit" className="w-full" busy={signup.isPending}>
        Create account and join
      </Button>
    </form>
  );
}
