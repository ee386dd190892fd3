import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client';
import { api, keys } from '../../api/endpoints';
import type { Me } from '../../api/types';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Field } from '../../components/ui/Field';
import { CardPage } from '../shell/Pages';

/** Only same-site paths: `?next=` must not send people elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function useSignedIn() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  return (me: Me) => {
    queryClient.clear();
    queryClient.setQueryData(keys.me, me);
    void navigate(safeNext(params.get('next')), { replace: true });
  };
}

function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError && error.field === field ? error.message : null;
}

function AuthFrame({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <CardPage footer={footer}>
      <h1 className="text-lg font-semibold text-gray-900">{title}</h1>
      <div className="mt-4">{children}</div>
    </CardPage>
  );
}

export function LoginPage() {
  const signedIn = useSignedIn();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({ mutationFn: api.login, onSuccess: signedIn });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ email, password });
  };
  const next = params.get('next');
  return (
    <AuthFrame
      title="Log in"
      footer={
        <>
          New to Pulseboard?{' '}
          <Link className="font-medium text-brand-700 hover:underline" to={next ? `/signup?next=${encodeURIComponent(next)}` : '/signup'}>
            Create an account
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {params.get('reset') === 'done' && !login.error ? (
          <Alert tone="success" title="Password changed">
            Log in with your new password. Every browser that was signed in has been signed out.
          </Alert>
        ) : null}
        <ErrorAlert error={login.error} />
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Button type="submit" className="w-full" busy={login.isPending}>
          Log in
        </Button>
        <p className="text-center text-sm">
          <Link className="font-medium text-brand-700 hover:underline" to="/forgot-password">
            Forgot your password?
          </Link>
        </p>
      </form>
    </AuthFrame>
  );
}

export function SignupPage() {
  const signedIn = useSignedIn();
  const [form, setForm] = useState({ name: '', email: '', password: '', org_name: '' });
  const signup = useMutation({ mutationFn: api.signup, onSuccess: signedIn });
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signup.mutate(form);
  };
  const err = signup.error;
  return (
    <AuthFrame
      title="Create your account"
      footer={
        <>
          Already have an account?{' '}
          <Link className="font-medium text-brand-700 hover:underline" to="/login">
            Log in
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {err && !(err instanceof ApiError && err.field) ? <ErrorAlert error={err} /> : null}
        <Field label="Your name" name="name" autoComplete="name" required value={form.name} onChange={set('name')} error={fieldError(err, 'name')} />
        <Field label="Work email" type="email" name="email" autoComplete="email" required value={form.email} onChange={set('email')} error={fieldError(err, 'email')} />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          value={form.password}
          onChange={set('password')}
          error={fieldError(err, 'password')}
          help="At least 10 characters."
        />
        <Field
          label="Organization"
          name="org_name"
          autoComplete="organization"
          required
          placeholder="Acme Inc."
          value={form.org_name}
          onChange={set('org_name')}
          error={fieldError(err, 'org_name')}
        />
        {err instanceof ApiError && err.field && !['name', 'email', 'password', 'org_name'].includes(err.field) ? <ErrorAlert error={err} /> : null}
        <Button type="submit" className="w-full" busy={signup.isPending}>
          Create account
        </Button>
      </form>
    </AuthFrame>
  );
}

const backToLogin = (
  <Link className="font-medium text-brand-700 hover:underline" to="/login">
    Back to log in
  </Link>
);

/** Asks for a reset link. The answer is the same whether or not the address has an account. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const ask = useMutation({ mutationFn: api.requestPasswordReset });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    ask.mutate({ email });
  };
  return (
    <AuthFrame title="Reset your password" footer={backToLogin}>
      {ask.isSuccess ? (
        <Alert tone="success" title="Check your email">
          If an account uses {email.trim()}, a link to choose a new password is on its way. It works once, for 30 minutes.
        </Alert>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate aria-label="Ask for a reset link">
          <p className="text-sm text-gray-600">Enter the email you log in with; we will mail you a link to choose a new password.</p>
          {ask.error && !(ask.error instanceof ApiError && ask.error.field === 'email') ? <ErrorAlert error={ask.error} /> : null}
          <Field
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldError(ask.error, 'email')}
          />
          <Button type="submit" className="w-full" busy={ask.isPending} disabled={!email.trim()}>
            Email me a link
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}

/** The page a reset mail links to (`/reset-password/{token}`): the new password, twice. */
export function ResetPasswordPage() {
  const { token = '' } = useParams();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const reset = useMutation({
    mutationFn: () => api.confirmPasswordReset({ token, password }),
    onSuccess: () => void navigate('/login?reset=done', { replace: true }),
  });
  const mismatch = repeat.length > 0 && repeat !== password ? 'The two passwords differ.' : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch) reset.mutate();
  };
  const linkProblem = reset.error instanceof ApiError && reset.error.code.startsWith('reset_token_');
  return (
    <AuthFrame title="Choose a new password" footer={backToLogin}>
      {linkProblem ? (
        <div className="space-y-4">
          <ErrorAlert error={reset.error} />
          <Link className="font-medium text-brand-700 hover:underline" to="/forgot-password">
            Ask for a new link
          </Link>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate aria-label="Choose a new password">
          <p className="text-sm text-gray-600">Setting it signs you out everywhere; then log in with the new one.</p>
          {reset.error && !(reset.error instanceof ApiError && reset.error.field === 'password') ? <ErrorAlert error={reset.error} /> : null}
          <Field
            label="New password"
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            help="At least 10 characters."
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(reset.error, 'password')}
          />
          <Field
            label="New password again"
            type="password"
            name="repeat-password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            error={mismatch}
          />
          <Button type="submit" className="w-full" busy={reset.isPending} disabled={!password || repeat !== password}>
            Set password
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}
