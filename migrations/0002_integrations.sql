-- Connections to providers (DESIGN §4, §5, §6): integrations, their encrypted
-- credentials, and the server-side half of OAuth states.

CREATE TABLE integrations (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL,
    store_id            uuid NOT NULL,
    provider            text NOT NULL,
    auth_kind           text NOT NULL CHECK (auth_kind IN ('oauth', 'api_key')),
    -- The provider's id for the connected account (stripe_user_id, shop domain, …).
    external_account_id text NOT NULL,
    account_label       text NOT NULL,
    status              text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'syncing', 'error', 'reauth_required', 'disconnected')),
    config              jsonb NOT NULL DEFAULT '{}',
    cadence_minutes     integer NOT NULL CHECK (cadence_minutes > 0),
    expires_at          timestamptz,
    last_synced_at      timestamptz,
    sync_error          text,
    connected_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    -- Reconnecting the same account to the same store updates the row instead of duplicating it.
    UNIQUE (org_id, store_id, provider, external_account_id),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);
CREATE INDEX integrations_store_idx ON integrations (org_id, store_id);

-- One row per secret field. The ciphertext names its key and is bound (AEAD
-- associated data) to integration_id + field, so it cannot be moved to another row.
-- The user-facing role has no grant on this table at all.
CREATE TABLE integration_credentials (
    org_id         uuid NOT NULL,
    integration_id uuid NOT NULL,
    field          text NOT NULL CHECK (field IN ('access_token', 'refresh_token', 'api_key')),
    key_id         text NOT NULL,
    ciphertext     text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, field),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);

-- OAuth states: bound to (org, provider, user, store), single use, short-lived.
-- Only a hash of the state is kept; the state itself travels in the URL and a signed cookie.
CREATE TABLE oauth_states (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_id      uuid NOT NULL,
    provider      text NOT NULL,
    state_hash    bytea NOT NULL UNIQUE,
    pkce_verifier text,
    shop_domain   text,
    -- Set when reconnecting an existing integration.
    integration_id uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON integrations, oauth_states TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON integrations, integration_credentials, oauth_states TO pulseboard_worker;

-- Seed 000: members read integrations; only owners/admins write them.
ALTER TABLE integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY integrations_select ON integrations FOR SELECT TO pulseboard_app USING (is_org_member(org_id));
CREATE POLICY integrations_insert ON integrations FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY integrations_update ON integrations FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY integrations_delete ON integrations FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));

-- Policies that admit nothing, on top of the missing grant: credentials are worker-only.
ALTER TABLE integration_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY integration_credentials_select ON integration_credentials FOR SELECT TO pulseboard_app USING (false);
CREATE POLICY integration_credentials_insert ON integration_credentials FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY integration_credentials_update ON integration_credentials FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY integration_credentials_delete ON integration_credentials FOR DELETE TO pulseboard_app USING (false);

-- A state is visible only to the admin who started the flow, in their org.
ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY oauth_states_select ON oauth_states FOR SELECT TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_admin(org_id));
CREATE POLICY oauth_states_insert ON oauth_states FOR INSERT TO pulseboard_app
    WITH CHECK (user_id = app_user_id() AND is_org_admin(org_id));
CREATE POLICY oauth_states_update ON oauth_states FOR UPDATE TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_admin(org_id)) WITH CHECK (user_id = app_user_id() AND is_org_admin(org_id));
CREATE POLICY oauth_states_delete ON oauth_states FOR DELETE TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_admin(org_id));
