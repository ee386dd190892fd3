import { useEffect, useState, type FormEvent } from 'react';
import type { UseMutationResult } from '@tanstack/react-query';
import type { Dashboard, UpdateDashboard, Visibility } from '../../api/types';
import { ErrorAlert } from '../../components/ui/Alert';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Field } from '../../components/ui/Field';
import { cx } from '../../lib/cx';

const VISIBILITIES: { value: Visibility; label: string; help: string }[] = [
  { value: 'private', label: 'Private', help: 'Only you.' },
  { value: 'workspace', label: 'Workspace', help: 'Members of this dashboard’s workspace.' },
  { value: 'public', label: 'Organization', help: 'Every member of the organization.' },
];

/** Name, description and visibility of a dashboard. */
export function DashboardSettingsDialog({
  open,
  onClose,
  dashboard,
  update,
}: {
  open: boolean;
  onClose: () => void;
  dashboard: Dashboard;
  update: UseMutationResult<Dashboard, Error, UpdateDashboard>;
}) {
  const [name, setName] = useState(dashboard.name);
  const [description, setDescription] = useState(dashboard.description);
  const [visibility, setVisibility] = useState(dashboard.visibility);
  const { reset } = update;
  useEffect(() => {
    if (!open) return;
    setName(dashboard.name);
    setDescription(dashboard.description);
    setVisibility(dashboard.visibility);
    reset();
  }, [open, dashboard.name, dashboard.description, dashboard.visibility, reset]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ name: name.trim(), description: description.trim(), visibility }, { onSuccess: onClose });
  };
  return (
    <Dialog open={open} onClose={onClose} title="Dashboard settings">
      <form onSubmit={submit} className="space-y-4">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What this dashboard is for" />
        <fieldset>
          <legend className="text-sm font-medium text-gray-800">Who can see it</legend>
          <div className="mt-1.5 grid gap-2 sm:grid-cols-3">
            {VISIBILITIES.map((v) => (
              <label
                key={v.value}
                className={cx(
                  'flex cursor-pointer flex-col rounded-md px-3 py-2 text-sm ring-1 ring-inset has-focus-visible:outline-2 has-focus-visible:outline-brand-500',
                  visibility === v.value ? 'bg-brand-50 ring-brand-600' : 'ring-gray-300 hover:bg-gray-50',
                )}
              >
                <span className="flex items-center gap-2 font-medium text-gray-900">
                  <input type="radio" name="visibility" value={v.value} checked={visibility === v.value} onChange={() => setVisibility(v.value)} className="accent-brand-700" />
                  {v.label}
                </span>
                <span className="mt-0.5 text-xs text-gray-600">{v.help}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <ErrorAlert error={update.error} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" busy={update.isPending}>
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
