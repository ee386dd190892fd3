// Names for the generated OpenAPI schemas, plus the few shapes the document leaves
// untyped (widget configs, the provider list, shared widgets).
import type { components } from './schema';

type S = components['schemas'];

export type Me = S['Me'];
export type MembershipWithWorkspaces = S['MembershipWithWorkspaces'];
export type OrgRole = S['OrgRole'];
export type Store = S['Store'];
export type Integration = S['Integration'];
export type AccountOption = S['AccountOption'];
export type JobView = S['JobView'];
export type DriftCheck = S['DriftCheck'];
export type Usage = S['Usage'];
export type Dashboard = S['Dashboard'];
export type Layout = S['Layout'];
export type UpdateDashboard = S['UpdateDashboard'];
export type Visibility = 'private' | 'workspace' | 'public';
export type Section = S['Section'];
export type TemplateInfo = S['TemplateInfo'];
export type DashboardData = S['DashboardData'];
export type WidgetData = S['WidgetData'];
export type QueryResult = S['QueryResult'];
export type Point = S['Point'];
export type Freshness = S['Freshness'];
export type Explanation = S['Explanation'];
export type ReviewView = S['ReviewView'];
export type ExperimentView = S['ExperimentView'];
export type Sentiment = S['Sentiment'];
export type SentimentPart = S['SentimentPart'];
export type Heatmap = S['Heatmap'];
export type HeatmapRow = S['HeatmapRow'];
export type Preset = S['Preset'];
export type CompareTo = S['CompareTo'];
export type Granularity = S['Granularity'];
export type Share = S['Share'];
export type CreatedShare = S['CreatedShare'];
export type ConnectResponse = S['ConnectResponse'];
export type CatalogEntryRaw = S['CatalogEntry'];
export type SignupRequest = S['SignupRequest'];
export type LoginRequest = S['LoginRequest'];
export type ErrorBody = S['ErrorBody'];

// Settings: members, invites, workspaces, tokens, mailbox.
export type Member = S['Member'];
export type Invite = S['Invite'];
export type InvitePreview = S['InvitePreview'];
export type Membership = S['Membership'];
export type Workspace = S['Workspace'];
export type WorkspaceRole = S['WorkspaceRole'];
export type WorkspaceMember = S['WorkspaceMember'];
export type ApiToken = S['ApiToken'];
export type CreatedToken = S['CreatedToken'];
export type OutboxEntry = S['OutboxEntry'];
export type SlackChannel = S['SlackChannel'];
export type Plan = S['Plan'];

// Alerts, notification preferences, the weekly digest, Slack channels.
export type Alert = S['Alert'];
export type AlertEvent = S['AlertEvent'];
export type AlertKind = S['AlertKind'];
export type AlertPeriod = S['AlertPeriod'];
export type AlertRequest = S['AlertRequest'];
export type AlertStatus = S['AlertStatus'];
export type AlertTestSent = S['TestSent'];
export type Preferences = S['Preferences'];
export type Digest = S['Digest'];
export type Scope = S['Scope'];
export type Filter = S['Filter'];

/** `GET /api/widget-types`: which types wait for a provider Pulseboard does not connect yet. */
export type WidgetTypeInfo = S['WidgetTypeInfo'];

/** Seed 001's widget types. */
export type WidgetType =
  | 'kpi_card'
  | 'line_chart'
  | 'bar_chart'
  | 'table'
  | 'pie_chart'
  | 'funnel'
  | 'heatmap_summary'
  | 'review_feed'
  | 'sentiment_gauge'
  | 'experiment_card'
  | 'survey_summary';

export type WidgetSize = 'small' | 'medium' | 'large' | 'full';

/** What a metric widget asks the metrics service (the OpenAPI document has it as an object). */
export interface MetricQueryConfig {
  metric: string;
  range: S['RangeSpec'];
  scope: S['Scope'];
  granularity?: Granularity;
  group_by?: string | null;
  compare_to?: CompareTo;
  aggregation?: S['AggregationName'] | null;
  filters?: S['Filter'][];
}

/** Settings of the CRO widgets that read stored items or combine metrics. */
export interface CroQueryConfig {
  /** Review feed: only these star ratings. */
  ratings?: number[];
  /** Review feed: all, published or pending reviews. */
  status?: 'all' | 'published' | 'pending';
  /** Experiment card: ended experiments too. */
  include_ended?: boolean;
  /** Review feed and experiment card: how many. */
  limit?: number;
}

/** Display options a widget may carry; all optional. */
export interface DisplayConfig {
  /** Colour a rise red and a fall green (refunds, churn). */
  invert_delta?: boolean;
  /** A bar chart with a breakdown stacks its groups per bucket (MRR movements). */
  stacked?: boolean;
}

/** A widget as the authenticated API returns it. */
export type Widget = Omit<S['Widget'], 'query_config' | 'display_config' | 'type' | 'size'> & {
  type: WidgetType | (string & {});
  size: WidgetSize | (string & {});
  query_config: Partial<MetricQueryConfig> & CroQueryConfig & { steps?: MetricQueryConfig[] };
  display_config: DisplayConfig;
};

export type DashboardWithWidgets = Dashboard & { widgets: Widget[] };

/** A widget as a public share shows it: no query, no ids of stores. */
export interface SharedWidget {
  id: string;
  type: Widget['type'];
  title: string;
  size: Widget['size'];
  display_config: DisplayConfig;
}

export type SharedDashboard = Omit<S['SharedDashboard'], 'widgets'> & { widgets: SharedWidget[] };

export type MetricUnit = 'currency_minor' | 'count' | 'percent' | 'basis_points';

export interface MetricSpec {
  id: string;
  name: string;
  description: string;
  unit: MetricUnit;
  aggregation: string;
  kind: 'flow' | 'stock';
  category: string;
  dimensions: string[];
  /** A rise of this metric is bad news (refunds, churn): its deltas are coloured the other way round. */
  rise_is_bad: boolean;
  /** A ratio of two metrics (AOV, ARPU) rather than a sum of events of its own. */
  ratio_of?: { numerator: string; denominator: string } | null;
  /** The metric's written definition, as its derivation computes it. The OpenAPI document
   * declares `metric` as an object, so it is typed here. */
  definition: MetricDefinition;
}

/** How a catalog metric is computed, in plain words (the widget's info popover). */
export interface MetricDefinition {
  /** How the value is computed. */
  formula: string;
  /** The provider's objects and fields it is read from. */
  source_fields: string;
  /** The instant a value is booked on, as a store-local day. */
  booked: string;
  /** What is left out. */
  excludes: string;
}

export interface CatalogEntry {
  id: string;
  provider: string;
  metric: MetricSpec;
}

export interface ApiKeyField {
  name: string;
  label: string;
  secret: boolean;
  placeholder?: string | null;
  help?: string | null;
  pattern?: string | null;
}

/** A per-integration option a provider declares (PostHog's picked events). */
export interface OptionField {
  name: string;
  label: string;
  kind: { type: 'text' } | { type: 'list'; max_items: number };
  placeholder: string;
  help: string;
  /** Each value must match it (checked again on the server). */
  pattern?: string | null;
}

/** `GET /api/providers` (untyped in the OpenAPI document). */
export interface Provider {
  id: string;
  name: string;
  category: string;
  auth: {
    type: 'oauth2' | 'api_key' | string;
    scopes?: string[];
    pkce?: boolean;
    /** The fields of a provider that connects with keys only (PostHog, Clarity). */
    fields?: ApiKeyField[];
  };
  api_key: ApiKeyField[] | null;
  oauth_configured: boolean;
  /** How often an integration is synced unless it says otherwise. */
  default_cadence_minutes: number;
  /** The account to name before connecting (Shopify's shop domain), if the provider needs one. */
  account: ApiKeyField | null;
  /** The account may instead be picked from a list after consent (GA4's properties). */
  account_picker: boolean;
  /** Settings of one integration changed after connecting; empty when there are none. */
  options: OptionField[];
  /** How its webhooks' signing secret is made (`pasted` from the provider, `generated`
   * here, the app's own); null: it sends none. */
  webhooks?: { source: 'pasted' | 'generated' | 'app_secret' | (string & {}); prefix?: string } | null;
  metrics: MetricSpec[];
}

// The live pulse (seed 002) and webhook endpoints.
export type RevenueEvent = S['RevenueEvent'];
export type Pulse = S['Pulse'];
export type PulseShare = S['PulseShare'];
export type CreatedPulseShare = S['CreatedPulseShare'];
export type SharedPulse = S['SharedPulse'];
export type WebhookInfo = S['WebhookInfo'];
export type WebhookEndpoint = S['Endpoint'];
export type CreatedWebhook = S['CreatedWebhook'];
