-- A provider whose account is picked after consent (a GA4 property) is stored as
-- `choosing_account` between the OAuth callback and the user's pick: its tokens are
-- kept (encrypted) but nothing syncs until an account is chosen.
ALTER TABLE integrations DROP CONSTRAINT integrations_status_check;
ALTER TABLE integrations ADD CONSTRAINT integrations_status_check
    CHECK (status IN ('active', 'syncing', 'error', 'reauth_required', 'disconnected', 'choosing_account'));
