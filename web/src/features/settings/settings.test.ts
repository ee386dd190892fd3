import { describe, expect, it } from 'vitest';
import {
  assignableRoles,
  canAdminWorkspace,
  canRemove,
  canWriteStores,
  inviteState,
  mailState,
  meter,
  sortInvites,
  timeZones,
  tokenState,
} from './settings';

const now = new Date('2026-11-22T12:00:00Z');

describe('roles', () => {
  it('owners assign every role, admins never touch owners, others nothing', () => {
    expect(assignableRoles('owner', 'owner')).toEqual(['owner', 'admin', 'member', 'viewer']);
    expect(assignableRoles('admin', 'member')).toEqual(['admin', 'member', 'viewer']);
    expect(assignableRoles('admin', 'owner')).toEqual([]);
    expect(assignableRoles('member', 'viewer')).toEqual([]);
    expect(assignableRoles('viewer', 'viewer')).toEqual([]);
  });

  it('removal follows the same rules and never offers removing yourself', () => {
    expect(canRemove('owner', 'owner', false)).toBe(true);
    expect(canRemove('owner', 'owner', true)).toBe(false);
    expect(canRemove('admin', 'owner', false)).toBe(false);
    expect(canRemove('admin', 'viewer', false)).toBe(true);
    expect(canRemove('member', 'viewer', false)).toBe(false);
  });

  it('workspace rights mirror the server', () => {
    expect(canAdminWorkspace('admin', null)).toBe(true);
    expect(canAdminWorkspace('member', 'admin')).toBe(true);
    expect(canAdminWorkspace('member', 'editor')).toBe(false);
    expect(canAdminWorkspace('viewer', 'admin')).toBe(false);
    expect(canWriteStores('member', 'editor')).toBe(true);
    expect(canWriteStores('member', 'viewer')).toBe(false);
    expect(canWriteStores('viewer', 'editor')).toBe(false);
    expect(canWriteStores('owner', undefined)).toBe(true);
  });
});

describe('states', () => {
  const base = { accepted_at: null, revoked_at: null, expires_at: '2026-11-29T00:00:00Z', created_at: '2026-11-22T00:00:00Z' };

  it('invites are accepted, revoked, expired or pending', () => {
    expect(inviteState(base, now)).toBe('pending');
    expect(inviteState({ ...base, accepted_at: '2026-11-22T01:00:00Z' }, now)).toBe('accepted');
    expect(inviteState({ ...base, revoked_at: '2026-11-22T01:00:00Z' }, now)).toBe('revoked');
    expect(inviteState({ ...base, expires_at: '2026-11-22T12:00:00Z' }, now)).toBe('expired');
  });

  it('pending invites come first, soonest expiry first; the rest newest first', () => {
    const a = { ...base, id: 'a', revoked_at: '2026-11-20T00:00:00Z', created_at: '2026-11-19T00:00:00Z' };
    const b = { ...base, id: 'b', expires_at: '2026-11-28T00:00:00Z' };
    const c = { ...base, id: 'c', expires_at: '2026-11-25T00:00:00Z' };
    const d = { ...base, id: 'd', accepted_at: '2026-11-21T00:00:00Z', created_at: '2026-11-21T00:00:00Z' };
    expect(sortInvites([a, b, c, d], now).map((i) => i.id)).toEqual(['c', 'b', 'd', 'a']);
  });

  it('tokens are active, revoked or expired', () => {
    expect(tokenState({ revoked_at: null, expires_at: null }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: '2026-12-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: '2026-11-01T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revoked_at: '2026-11-21T00:00:00Z', expires_at: null }, now)).toBe('revoked');
  });

  it('mail is sent, failed or queued', () => {
    expect(mailState({ state: 'sent', last_error: null })).toBe('sent');
    expect(mailState({ state: 'failed', last_error: '550 5.1.1 mailbox unavailable' })).toBe('failed');
    expect(mailState({ state: 'queued', last_error: '451 4.3.0 try again later' })).toBe('retrying');
    expect(mailState({ state: 'queued', last_error: null })).toBe('queued');
  });
});

describe('meter', () => {
  it('has no bar without a cap', () => {
    expect(meter(5, null)).toEqual({ used: 5, cap: null, percent: 0, state: 'unlimited' });
  });

  it('is ok below 80 %, near from 80 %, full at or over the cap', () => {
    expect(meter(1, 2)).toMatchObject({ percent: 50, state: 'ok' });
    expect(meter(8, 10)).toMatchObject({ percent: 80, state: 'near' });
    expect(meter(2, 2)).toMatchObject({ percent: 100, state: 'full' });
    expect(meter(3, 2)).toMatchObject({ percent: 100, state: 'full' });
    expect(meter(0, 0)).toMatchObject({ percent: 100, state: 'full' });
    expect(meter(1, 3)).toMatchObject({ percent: 33.3, state: 'ok' });
  });
});

describe('timeZones', () => {
  it('lists UTC first, once', () => {
    const zones = timeZones();
    expect(zones[0]).toBe('UTC');
    expect(zones.filter((z) => z === 'UTC')).toHaveLength(1);
    expect(zones.length).toBeGreaterThan(5);
  });
});
