-- Webhooks and the live revenue pulse (seed 002, DESIGN §11).

-- One endpoint per integration: POST /api/webhooks/{provider}/{id}. Its signing
-- secret is sealed with the key ring like other credentials and never leaves the
-- worker role.
CREATE TABLE webhook_endpoints (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    integration_id   uuid NOT NULL UNIQUE,
    provider         text NOT NULL,
    secret_key_id    text NOT NULL,
    secret_ciphertext text NOT NULL,
    -- Shown instead of the secret: its first characters.
    secret_hint      text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);

-- Verified deliveries, written in one short transaction and acknowledged; the
-- workers process them from here. Unique per endpoint and provider event id, so a
-- replay, a provider retry or a concurrent duplicate is stored once.
CREATE TABLE webhook_inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       uuid NOT NULL,
    endpoint_id  uuid NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    body         bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}',
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    error        text,
    UNIQUE (endpoint_id, event_id),
    FOREIGN KEY (org_id, endpoint_id) REFERENCES webhook_endpoints (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (id) WHERE processed_at IS NULL;
CREATE INDEX webhook_inbox_endpoint_idx ON webhook_inbox (endpoint_id, received_at);

-- Money that moved, one row per source object and kind (a replayed webhook or the
-- later sync of the same object never adds a second), numbered per organization:
-- `seq` is the live stream's event id. Numbers are handed out under the
-- organization's `live_sequences` row lock, held to commit, so rows become visible
-- in `seq` order and a reader that resumes after `seq` n misses nothing.
CREATE TABLE revenue_events (
    org_id         uuid NOT NULL,
    seq            bigint NOT NULL,
    store_id       uuid NOT NULL,
    integration_id uuid NOT NULL,
    provider       text NOT NULL,
    source_id      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('sale', 'subscription', 'renewal', 'upsell', 'refund')),
    amount_minor   bigint NOT NULL,
    currency       text NOT NULL,
    customer_email text,
    campaign       text,
    occurred_at    timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, seq),
    UNIQUE (integration_id, source_id, kind),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);
CREATE INDEX revenue_events_time_idx ON revenue_events (org_id, occurred_at);

CREATE TABLE live_sequences (
    org_id   uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    last_seq bigint NOT NULL DEFAULT 0
);

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_inbox, revenue_events, live_sequences
    TO pulseboard_worker;
-- Endpoints hold secrets: like integration credentials, the user-facing role has no
-- grant on them at all (handlers read them as the worker after checking the role).
GRANT SELECT ON revenue_events, live_sequences, webhook_inbox TO pulseboard_app;

-- Endpoints: policies for completeness; without a grant the user role reaches none.
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_select ON webhook_endpoints FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY webhook_endpoints_insert ON webhook_endpoints FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY webhook_endpoints_update ON webhook_endpoints FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY webhook_endpoints_delete ON webhook_endpoints FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));

-- The inbox is written by the intake (worker role) only; admins may read it.
ALTER TABLE webhook_inbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_inbox FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_inbox_select ON webhook_inbox FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY webhook_inbox_insert ON webhook_inbox FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY webhook_inbox_update ON webhook_inbox FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY webhook_inbox_delete ON webhook_inbox FOR DELETE TO pulseboard_app USING (false);

-- Revenue events: every member reads them (viewers too: the Pulse page is a dashboard).
ALTER TABLE revenue_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE revenue_events FORCE ROW LEVEL SECURITY;
CREATE POLICY revenue_events_select ON revenue_events FOR SELECT TO pulseboard_app USING (is_org_member(org_id));
CREATE POLICY revenue_events_insert ON revenue_events FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY revenue_events_update ON revenue_events FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY revenue_events_delete ON revenue_events FOR DELETE TO pulseboard_app USING (false);

ALTER TABLE live_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE live_sequences FORCE ROW LEVEL SECURITY;
CREATE POLICY live_sequences_select ON live_sequences FOR SELECT TO pulseboard_app USING (is_org_member(org_id));
CREATE POLICY live_sequences_insert ON live_sequences FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY live_sequences_update ON live_sequences FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY live_sequences_delete ON live_sequences FOR DELETE TO pulseboard_app USING (false);
