import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import { Alert, ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Card } from '../../components/ui/Card';
import { Field } from '../../components/ui/Field';
import { fieldError, formError, PageHeader } from './parts';

/** Change the signed-in user's password: the current one, then the new one twice. */
export default function PasswordPage() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const change = useMutation({
    mutationFn: () => api.changePassword({ current_password: current, new_password: next }),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setRepeat('');
    },
  });
  const mismatch = repeat.length > 0 && repeat !== next ? 'The two new passwords differ.' : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch) change.mutate();
  };
  const other = formError(change.error, ['current_password', 'new_password']);
  return (
    <div className="space-y-6">
      <PageHeader title="Password" description="Changing it signs you out everywhere else; this browser stays signed in. API tokens keep working." />
      {change.isSuccess && <Alert tone="success" title="Password changed">Other browsers and devices have been signed out.</Alert>}
      <Card className="max-w-lg p-4">
        <form onSubmit={submit} noValidate className="space-y-3" aria-label="Change password">
          <Field label="Current password" name="current-password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={fieldError(change.error, 'current_password')} />
          <Field label="New password" name="new-password" type="password" autoComplete="new-password" required help="At least 10 characters." value={next} onChange={(e) => setNext(e.target.value)} error={fieldError(change.error, 'new_password')} />
          <Field label="New password again" name="repeat-password" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} error={mismatch} />
          {other ? <ErrorAlert error={other} /> : null}
          <Button type="submit" busy={change.isPending} disabled={!current || !next || repeat !== next}>
            Change password
          </Button>
        </form>
      </Card>
    </div>
  );
}
