// Pure rules and shaping for the settings pages: who may change what, the state of
// an invite or a token, how full a plan cap is. No React here; see settings.test.ts.
import type { ApiToken, Invite, OrgRole, OutboxEntry, WorkspaceRole } from '../../api/types';

export const ORG_ROLES: OrgRole[] = ['owner', 'admin', 'member', 'viewer'];
/** Invites grant these; ownership is given by an owner after joining. */
export const INVITE_ROLES: OrgRole[] = ['admin', 'member', 'viewer'];

export const ROLE_LABEL: Record<OrgRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
};

export const ROLE_HELP: Record<OrgRole, string> = {
  owner: 'Everything, including billing and ownership.',
  admin: 'Manages members, integrations, workspaces and stores.',
  member: 'Edits dashboards in the workspaces they belong to.',
  viewer: 'Reads dashboards; changes nothing.',
};

/** "an owner", "an admin", "a member", "a viewer". */
export function article(role: OrgRole): 'a' | 'an' {
  return role === 'owner' || role === 'admin' ? 'an' : 'a';
}

export function isOrgAdmin(role: OrgRole): boolean {
  return role === 'owner' || role === 'admin';
}

/**
 * The roles `actor` may give a member who now has `target`, or an empty list when the
 * member's role cannot be changed by this actor (the server has the last word: it also
 * keeps the last owner).
 */
export function assignableRoles(actor: OrgRole, target: OrgRole): OrgRole[] {
  if (actor === 'owner') return ORG_ROLES;
  if (actor === 'admin') return target === 'owner' ? [] : ['admin', 'member', 'viewer'];
  return [];
}

/** Whether `actor` may remove a member with role `target` (not themselves: nobody leaves by accident). */
export function canRemove(actor: OrgRole, target: OrgRole, isSelf: boolean): boolean {
  if (isSelf) return false;
  if (actor === 'owner') return true;
  return actor === 'admin' && target !== 'owner';
}

/** Mirrors the server: org owners/admins, or members who administer the workspace. */
export function canAdminWorkspace(org: OrgRole, ws: WorkspaceRole | null | undefined): boolean {
  return isOrgAdmin(org) || (org === 'member' && ws === 'admin');
}

/** Mirrors the server: org owners/admins, or members who are workspace admins or editors. */
export function canWriteStores(org: OrgRole, ws: WorkspaceRole | null | undefined): boolean {
  return isOrgAdmin(org) || (org === 'member' && (ws === 'admin' || ws === 'editor'));
}

export type InviteState = 'pending' | 'accepted' | 'revoked' | 'expired';

export function inviteState(invite: Pick<Invite, 'accepted_at' | 'revoked_at' | 'expires_at'>, now: Date = new Date()): InviteState {
  if (invite.accepted_at) return 'accepted';
  if (invite.revoked_at) return 'revoked';
  if (new Date(invite.expires_at).getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

/** Pending invites first (soonest to expire first), then the rest newest first. */
export function sortInvites<T extends Pick<Invite, 'accepted_at' | 'revoked_at' | 'expires_at' | 'created_at'>>(invites: T[], now: Date = new Date()): T[] {
  return [...invites].sort((a, b) => {
    const pa = inviteState(a, now) === 'pending' ? 0 : 1;
    const pb = inviteState(b, now) === 'pending' ? 0 : 1;
    if (pa !== pb) return pa - pb;
    if (pa === 0) return a.expires_at.localeCompare(b.expires_at);
    return b.created_at.localeCompare(a.created_at);
  });
}

export type TokenState = 'active' | 'revoked' | 'expired';

export function tokenState(token: Pick<ApiToken, 'revoked_at' | 'expires_at'>, now: Date = new Date()): TokenState {
  if (token.revoked_at) return 'revoked';
  if (token.expires_at && new Date(token.expires_at).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export type MailState = 'sent' | 'failed' | 'retrying' | 'queued';

/**
 * The server's delivery state, with a queued message whose last attempt failed
 * (a temporary refusal, the server unreachable) told apart as `retrying`.
 */
export function mailState(entry: Pick<OutboxEntry, 'state' | 'last_error'>): MailState {
  if (entry.state === 'queued' && entry.last_error) return 'retrying';
  return entry.state;
}

export type MeterState = 'unlimited' | 'ok' | 'near' | 'full';

export interface Meter {
  used: number;
  cap: number | null;
  /** 0–100, for the bar; 0 when there is no cap. */
  percent: number;
  state: MeterState;
}

/** How much of a plan cap is used: `near` from 80 %, `full` at or over the cap. */
export function meter(used: number, cap: number | null | undefined): Meter {
  const safeUsed = Math.max(0, used);
  if (cap === null || cap === undefined) return { used: safeUsed, cap: null, percent: 0, state: 'unlimited' };
  if (cap <= 0) return { used: safeUsed, cap, percent: 100, state: 'full' };
  const ratio = safeUsed / cap;
  const percent = Math.min(100, Math.round(ratio * 1000) / 10);
  const state: MeterState = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'near' : 'ok';
  return { used: safeUsed, cap, percent, state };
}

/** A short absolute date and time, e.g. "Nov 22, 2026, 07:26". */
export function formatDateTime(iso: string | null | undefined, locale = 'en-US'): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(locale, { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** A date without the time, e.g. "Nov 29, 2026". */
export function formatDate(iso: string | null | undefined, locale = 'en-US'): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleDateString(locale, { month: 'short', day: 'numeric', year: 'numeric' });
}

/** The IANA zones the browser knows, with UTC first; a short fallback list for old browsers. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  let zones: string[] = [];
  try {
    zones = intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    zones = [];
  }
  if (zones.length === 0) zones = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Paris', 'Asia/Tokyo', 'Australia/Sydney'];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}

/** Common ISO 4217 codes offered as suggestions; any valid code is accepted by the server. */
export const COMMON_CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'NZD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'JPY', 'INR', 'BRL', 'MXN', 'SGD', 'ZAR'];

/** The browser's own zone, for a new store's default. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
