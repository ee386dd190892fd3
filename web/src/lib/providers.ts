// Display names for provider ids, for places that have only the id.
const NAMES: Record<string, string> = {
  stripe: 'Stripe',
  shopify: 'Shopify',
  ga4: 'Google Analytics',
  posthog: 'PostHog',
  clarity: 'Microsoft Clarity',
  intelligems: 'Intelligems',
  knocommerce: 'KnoCommerce',
  judgeme: 'Judge.me',
  gorgias: 'Gorgias',
};

export function providerName(id: string): string {
  return NAMES[id] ?? (id ? id.charAt(0).toUpperCase() + id.slice(1) : id);
}

/** Metrics where a rise is bad news: their deltas are coloured the other way round. */
const RISE_IS_BAD = /(^|\.)(refunds|churned_subscriptions|failed_payments|abandoned_checkouts)$/;

export function riseIsBad(metric: string | null | undefined): boolean {
  return Boolean(metric && RISE_IS_BAD.test(metric));
}
