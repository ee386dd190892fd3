-- Share links of a store's Pulse page (the launch-day screen on the office TV).
-- Like dashboard shares: only a hash of the token is kept, a link is revoked (never
-- deleted, so the list shows what was shared), and owners and admins manage them. The
-- public page reads them as the worker role, selected by the token's hash.
CREATE TABLE pulse_shares (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The store whose sales the screen shows (its currency, its time zone's today).
    store_id    uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz,
    revoked_at  timestamptz,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);
CREATE INDEX pulse_shares_org_idx ON pulse_shares (org_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON pulse_shares TO pulseboard_app, pulseboard_worker;

ALTER TABLE pulse_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE pulse_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY pulse_shares_select ON pulse_shares FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY pulse_shares_insert ON pulse_shares FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY pulse_shares_update ON pulse_shares FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY pulse_shares_delete ON pulse_shares FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));
