import { useQuery } from '@tanstack/react-query';
import { api, keys } from '../../api/endpoints';
import type { Integration } from '../../api/types';
import { driftWarningText } from '../../lib/drift';
import { useSession } from '../shell/session';

/**
 * The drift check's warnings for the integration's latest checked day (yesterday
 * after a sync): Pulseboard's number against the provider's own summary, with the
 * records explaining the difference. Nothing when the day matched.
 */
export function DriftWarning({ integration, providerName, currency }: { integration: Integration; providerName: string; currency: string }) {
  const { slug } = useSession();
  const drift = useQuery({
    queryKey: keys.drift(slug, integration.id),
    queryFn: ({ signal }) => api.drift(slug, integration.id, signal),
    enabled: integration.provider === 'stripe',
  });
  const latest = drift.data?.[0]?.day;
  const warnings = (drift.data ?? []).filter((c) => c.day === latest && c.warning);
  if (warnings.length === 0) return null;
  return (
    <div role="status" className="mt-2 rounded bg-amber-50 px-2 py-1 text-xs text-amber-800" data-drift-warning>
      {warnings.map((c) => (
        <p key={c.metric}>{driftWarningText(c, integration.provider, providerName, currency)}</p>
      ))}
    </div>
  );
}
