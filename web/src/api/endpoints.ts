// Typed calls, one per endpoint the UI uses. Paths and shapes follow
// `/api/openapi.json` (see `schema.ts`, regenerated with `npm run gen:api`).
import { request } from './client';
import type {
  AccountOption,
  Alert,
  AlertEvent,
  AlertRequest,
  AlertTestSent,
  Digest,
  DriftCheck,
  Preferences,
  SlackChannel,
  ApiToken,
  CatalogEntry,
  CompareTo,
  ConnectResponse,
  CreatedShare,
  CreatedWebhook,
  CreatedToken,
  Dashboard,
  DashboardData,
  DashboardWithWidgets,
  Explanation,
  Integration,
  Invite,
  InvitePreview,
  JobView,
  LoginRequest,
  Me,
  Member,
  Membership,
  OrgRole,
  OutboxEntry,
  Preset,
  Provider,
  Pulse,
  PulseShare,
  CreatedPulseShare,
  SharedPulse,
  Share,
  SharedDashboard,
  SignupRequest,
  Store,
  TemplateInfo,
  UpdateDashboard,
  Usage,
  WebhookInfo,
  Widget,
  WidgetData,
  WidgetTypeInfo,
  Workspace,
  WorkspaceMember,
  WorkspaceRole,
} from './types';

const org = (slug: string) => `/api/orgs/${encodeURIComponent(slug)}`;

export const api = {
  me: (signal?: AbortSignal) => request<Me>('GET', '/api/me', { signal }),
  login: (body: LoginRequest) => request<Me>('POST', '/api/auth/login', { body }),
  signup: (body: SignupRequest) => request<Me>('POST', '/api/auth/signup', { body }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  /** Always 202: the answer does not say whether the address has an account. */
  requestPasswordReset: (body: { email: string }) => request<void>('POST', '/api/auth/password-reset', { body }),
  confirmPasswordReset: (body: { token: string; password: string }) => request<void>('POST', '/api/auth/password-reset/confirm', { body }),

  providers: (signal?: AbortSignal) => request<Provider[]>('GET', '/api/providers', { signal }),
  /** Public (share pages use it too). */
  widgetTypes: (signal?: AbortSignal) => request<WidgetTypeInfo[]>('GET', '/api/widget-types', { signal }),
  stores: (slug: string, signal?: AbortSignal) => request<Store[]>('GET', `${org(slug)}/stores`, { signal }),
  usage: (slug: string, signal?: AbortSignal) => request<Usage>('GET', `${org(slug)}/usage`, { signal }),
  catalog: (slug: string, signal?: AbortSignal) =>
    request<CatalogEntry[]>('GET', `${org(slug)}/metrics/catalog`, { signal }),

  integrations: (slug: string, signal?: AbortSignal) =>
    request<Integration[]>('GET', `${org(slug)}/integrations`, { signal }),
  connect: (slug: string, provider: string, body: { store_id: string; account?: string | null }) =>
    request<ConnectResponse>('POST', `${org(slug)}/integrations/${encodeURIComponent(provider)}/connect`, { body }),
  connectApiKey: (slug: string, provider: string, body: { store_id: string; fields: Record<string, string> }) =>
    request<Integration>('POST', `${org(slug)}/integrations/${encodeURIComponent(provider)}/api-key`, { body }),
  disconnect: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/integrations/${id}`),
  updateIntegration: (slug: string, id: string, body: { cadence_minutes?: number; options?: Record<string, string | string[] | null> }) =>
    request<Integration>('PATCH', `${org(slug)}/integrations/${id}`, { body }),
  accounts: (slug: string, id: string, signal?: AbortSignal) =>
    request<AccountOption[]>('GET', `${org(slug)}/integrations/${id}/accounts`, { signal }),
  chooseAccount: (slug: string, id: string, account: string) =>
    request<Integration>('POST', `${org(slug)}/integrations/${id}/account`, { body: { account } }),
  reconnect: (slug: string, id: string) => request<ConnectResponse>('POST', `${org(slug)}/integrations/${id}/reconnect`),
  sync: (slug: string, id: string) => request<JobView>('POST', `${org(slug)}/integrations/${id}/sync`),
  drift: (slug: string, id: string, signal?: AbortSignal) =>
    request<DriftCheck[]>('GET', `${org(slug)}/integrations/${id}/drift`, { signal }),
  syncJobs: (slug: string, signal?: AbortSignal) =>
    request<JobView[]>('GET', `${org(slug)}/sync-jobs`, { query: { limit: 50 }, signal }),

  dashboards: (slug: string, signal?: AbortSignal) => request<Dashboard[]>('GET', `${org(slug)}/dashboards`, { signal }),
  dashboard: (slug: string, id: string, signal?: AbortSignal) =>
    request<DashboardWithWidgets>('GET', `${org(slug)}/dashboards/${id}`, { signal }),
  createDashboard: (slug: string, body: { name: string; workspace_id: string; description?: string }) =>
    request<Dashboard>('POST', `${org(slug)}/dashboards`, { body }),
  deleteDashboard: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/dashboards/${id}`),
  updateDashboard: (slug: string, id: string, body: UpdateDashboard) =>
    request<Dashboard>('PATCH', `${org(slug)}/dashboards/${id}`, { body }),
  duplicateDashboard: (slug: string, id: string) =>
    request<DashboardWithWidgets>('POST', `${org(slug)}/dashboards/${id}/duplicate`),
  templates: (slug: string, signal?: AbortSignal) =>
    request<TemplateInfo[]>('GET', `${org(slug)}/dashboard-templates`, { signal }),
  fromTemplate: (slug: string, body: { template: string; store_id: string; name?: string }) =>
    request<DashboardWithWidgets>('POST', `${org(slug)}/dashboards/from-template`, { body }),
  dashboardData: (
    slug: string,
    id: string,
    params: { range?: Preset | null; compare_to?: CompareTo | null },
    signal?: AbortSignal,
  ) => request<DashboardData>('GET', `${org(slug)}/dashboards/${id}/data`, { query: params, signal }),
  createWidget: (
    slug: string,
    dashboardId: string,
    body: { type: string; title: string; size: string; section?: string; query_config: object; display_config: object },
  ) => request<Widget>('POST', `${org(slug)}/dashboards/${dashboardId}/widgets`, { body }),
  deleteWidget: (slug: string, dashboardId: string, widgetId: string) =>
    request<void>('DELETE', `${org(slug)}/dashboards/${dashboardId}/widgets/${widgetId}`),
  changePassword: (body: { current_password: string; new_password: string }) => request<void>('POST', '/api/me/password', { body }),
  explain: (slug: string, query: object, signal?: AbortSignal, bucket?: string) =>
    request<Explanation>('POST', `${org(slug)}/metrics/explain${bucket ? `?bucket=${encodeURIComponent(bucket)}` : ''}`, { body: query, signal }),
  previewWidget: (slug: string, body: { type: string; query_config: object }, signal?: AbortSignal) =>
    request<WidgetData>('POST', `${org(slug)}/widgets/preview`, { body, signal }),
  updateWidget: (
    slug: string,
    dashboardId: string,
    widgetId: string,
    body: { title?: string; size?: string; query_config?: object; display_config?: object },
  ) => request<Widget>('PATCH', `${org(slug)}/dashboards/${dashboardId}/widgets/${widgetId}`, { body }),

  shares: (slug: string, dashboardId: string, signal?: AbortSignal) =>
    request<Share[]>('GET', `${org(slug)}/dashboards/${dashboardId}/shares`, { signal }),
  createShare: (slug: string, dashboardId: string, body: { expires_at?: string | null }) =>
    request<CreatedShare>('POST', `${org(slug)}/dashboards/${dashboardId}/shares`, { body }),
  revokeShare: (slug: string, dashboardId: string, shareId: string) =>
    request<void>('DELETE', `${org(slug)}/dashboards/${dashboardId}/shares/${shareId}`),
  shared: (token: string, signal?: AbortSignal) =>
    request<SharedDashboard>('GET', `/api/shared/${encodeURIComponent(token)}`, { signal }),

  // Settings: members and invites, workspaces and stores, personal tokens, mailbox.
  members: (slug: string, signal?: AbortSignal) => request<Member[]>('GET', `${org(slug)}/members`, { signal }),
  updateMember: (slug: string, userId: string, body: { role: OrgRole }) =>
    request<Member>('PATCH', `${org(slug)}/members/${userId}`, { body }),
  removeMember: (slug: string, userId: string) => request<void>('DELETE', `${org(slug)}/members/${userId}`),
  invites: (slug: string, signal?: AbortSignal) => request<Invite[]>('GET', `${org(slug)}/invites`, { signal }),
  createInvite: (slug: string, body: { email: string; role: OrgRole }) =>
    request<Invite>('POST', `${org(slug)}/invites`, { body }),
  revokeInvite: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/invites/${id}`),
  lookupInvite: (token: string, signal?: AbortSignal) =>
    request<InvitePreview>('POST', '/api/invites/lookup', { body: { token }, signal }),
  acceptInvite: (token: string) => request<Membership>('POST', '/api/invites/accept', { body: { token } }),

  workspaces: (slug: string, signal?: AbortSignal) => request<Workspace[]>('GET', `${org(slug)}/workspaces`, { signal }),
  createWorkspace: (slug: string, body: { name: string }) => request<Workspace>('POST', `${org(slug)}/workspaces`, { body }),
  renameWorkspace: (slug: string, id: string, body: { name: string }) =>
    request<Workspace>('PATCH', `${org(slug)}/workspaces/${id}`, { body }),
  deleteWorkspace: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/workspaces/${id}`),
  workspaceMembers: (slug: string, id: string, signal?: AbortSignal) =>
    request<WorkspaceMember[]>('GET', `${org(slug)}/workspaces/${id}/members`, { signal }),
  putWorkspaceMember: (slug: string, id: string, userId: string, body: { role: WorkspaceRole }) =>
    request<WorkspaceMember[]>('PUT', `${org(slug)}/workspaces/${id}/members/${userId}`, { body }),
  removeWorkspaceMember: (slug: string, id: string, userId: string) =>
    request<void>('DELETE', `${org(slug)}/workspaces/${id}/members/${userId}`),
  createStore: (slug: string, body: { name: string; currency: string; timezone: string; workspace_id: string }) =>
    request<Store>('POST', `${org(slug)}/stores`, { body }),
  updateStore: (slug: string, id: string, body: { name?: string; currency?: string; timezone?: string }) =>
    request<Store>('PATCH', `${org(slug)}/stores/${id}`, { body }),
  deleteStore: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/stores/${id}`),

  tokens: (signal?: AbortSignal) => request<ApiToken[]>('GET', '/api/me/tokens', { signal }),
  createToken: (body: { name: string; expires_in_days?: number | null }) =>
    request<CreatedToken>('POST', '/api/me/tokens', { body }),
  revokeToken: (id: string) => request<void>('DELETE', `/api/me/tokens/${id}`),

  mailbox: (slug: string, signal?: AbortSignal) =>
    request<OutboxEntry[]>('GET', `${org(slug)}/mailbox`, { query: { limit: 200 }, signal }),

  // Alerts (owners and admins write, members read), the caller's mail preferences,
  // the digest preview and Slack channels.
  alerts: (slug: string, signal?: AbortSignal) => request<Alert[]>('GET', `${org(slug)}/alerts`, { signal }),
  createAlert: (slug: string, body: AlertRequest) => request<Alert>('POST', `${org(slug)}/alerts`, { body }),
  updateAlert: (slug: string, id: string, body: AlertRequest) => request<Alert>('PUT', `${org(slug)}/alerts/${id}`, { body }),
  deleteAlert: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/alerts/${id}`),
  testAlert: (slug: string, id: string) => request<AlertTestSent>('POST', `${org(slug)}/alerts/${id}/test`),
  snoozeAlert: (slug: string, id: string, hours: number) =>
    request<Alert>('POST', `${org(slug)}/alerts/${id}/snooze`, { body: { hours } }),
  unsnoozeAlert: (slug: string, id: string) => request<Alert>('DELETE', `${org(slug)}/alerts/${id}/snooze`),
  alertHistory: (slug: string, id: string, signal?: AbortSignal) =>
    request<AlertEvent[]>('GET', `${org(slug)}/alerts/${id}/events`, { signal }),
  alertEvents: (slug: string, limit: number, signal?: AbortSignal) =>
    request<AlertEvent[]>('GET', `${org(slug)}/alert-events`, { query: { limit }, signal }),
  preferences: (slug: string, signal?: AbortSignal) => request<Preferences>('GET', `${org(slug)}/notifications`, { signal }),
  savePreferences: (slug: string, body: Preferences) => request<Preferences>('PUT', `${org(slug)}/notifications`, { body }),
  digestPreview: (slug: string, signal?: AbortSignal) => request<Digest>('GET', `${org(slug)}/digest/preview`, { signal }),
  slackChannels: (slug: string, signal?: AbortSignal) => request<SlackChannel[]>('GET', `${org(slug)}/slack-channels`, { signal }),
  createSlackChannel: (slug: string, body: { name: string; webhook_url: string }) =>
    request<SlackChannel>('POST', `${org(slug)}/slack-channels`, { body }),
  deleteSlackChannel: (slug: string, id: string) => request<void>('DELETE', `${org(slug)}/slack-channels/${id}`),

  // The live pulse: today's events; the stream itself is `liveUrl` (an EventSource).
  pulse: (slug: string, signal?: AbortSignal) => request<Pulse>('GET', `${org(slug)}/pulse`, { signal }),
  pulseShares: (slug: string, signal?: AbortSignal) => request<PulseShare[]>('GET', `${org(slug)}/pulse/shares`, { signal }),
  createPulseShare: (slug: string, body: { store_id: string; expires_at?: string | null }) =>
    request<CreatedPulseShare>('POST', `${org(slug)}/pulse/shares`, { body }),
  revokePulseShare: (slug: string, shareId: string) => request<void>('DELETE', `${org(slug)}/pulse/shares/${shareId}`),
  sharedPulse: (token: string, signal?: AbortSignal) =>
    request<SharedPulse>('GET', `/api/shared-pulse/${encodeURIComponent(token)}`, { signal }),
  webhook: (slug: string, integrationId: string, signal?: AbortSignal) =>
    request<WebhookInfo>('GET', `${org(slug)}/integrations/${integrationId}/webhook`, { signal }),
  createWebhook: (slug: string, integrationId: string, body: { secret?: string | null }) =>
    request<CreatedWebhook>('POST', `${org(slug)}/integrations/${integrationId}/webhook`, { body }),
  deleteWebhook: (slug: string, integrationId: string) => request<void>('DELETE', `${org(slug)}/integrations/${integrationId}/webhook`),
};

/** The organization's server-sent revenue events, starting after `after` (a sequence number). */
export function liveUrl(slug: string, after?: number | null): string {
  const base = `${org(slug)}/live`;
  return after === undefined || after === null ? base : `${base}?after=${after}`;
}

/** A Pulse share link's server-sent revenue events (the same stream, one store, no session). */
export function sharedPulseLiveUrl(token: string, after?: number | null): string {
  const base = `/api/shared-pulse/${encodeURIComponent(token)}/live`;
  return after === undefined || after === null ? base : `${base}?after=${after}`;
}

/** Query keys, so invalidation names the same things the queries do. */
export const keys = {
  me: ['me'] as const,
  providers: ['providers'] as const,
  widgetTypes: ['widget-types'] as const,
  stores: (slug: string) => ['org', slug, 'stores'] as const,
  usage: (slug: string) => ['org', slug, 'usage'] as const,
  catalog: (slug: string) => ['org', slug, 'catalog'] as const,
  integrations: (slug: string) => ['org', slug, 'integrations'] as const,
  syncJobs: (slug: string) => ['org', slug, 'sync-jobs'] as const,
  drift: (slug: string, id: string) => ['org', slug, 'drift', id] as const,
  dashboards: (slug: string) => ['org', slug, 'dashboards'] as const,
  dashboard: (slug: string, id: string) => ['org', slug, 'dashboard', id] as const,
  dashboardData: (slug: string, id: string, range: string, compare: string) =>
    ['org', slug, 'dashboard', id, 'data', range, compare] as const,
  templates: (slug: string) => ['org', slug, 'templates'] as const,
  shares: (slug: string, id: string) => ['org', slug, 'dashboard', id, 'shares'] as const,
  shared: (token: string) => ['shared', token] as const,
  members: (slug: string) => ['org', slug, 'members'] as const,
  invites: (slug: string) => ['org', slug, 'invites'] as const,
  workspaces: (slug: string) => ['org', slug, 'workspaces'] as const,
  workspaceMembers: (slug: string, id: string) => ['org', slug, 'workspaces', id, 'members'] as const,
  mailbox: (slug: string) => ['org', slug, 'mailbox'] as const,
  alerts: (slug: string) => ['org', slug, 'alerts'] as const,
  alertHistory: (slug: string, id: string) => ['org', slug, 'alerts', id, 'events'] as const,
  alertEvents: (slug: string) => ['org', slug, 'alerts', 'events'] as const,
  preferences: (slug: string) => ['org', slug, 'notifications'] as const,
  digestPreview: (slug: string) => ['org', slug, 'digest-preview'] as const,
  slackChannels: (slug: string) => ['org', slug, 'slack-channels'] as const,
  pulse: (slug: string) => ['org', slug, 'pulse'] as const,
  pulseShares: (slug: string) => ['org', slug, 'pulse-shares'] as const,
  sharedPulse: (token: string) => ['shared-pulse', token] as const,
  webhook: (slug: string, integrationId: string) => ['org', slug, 'integrations', integrationId, 'webhook'] as const,
  tokens: ['me', 'tokens'] as const,
  invite: (token: string) => ['invite', token] as const,
};
