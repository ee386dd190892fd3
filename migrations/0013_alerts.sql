-- Alerts, their firing history, members' notification preferences and the weekly
-- digest's audit trail (seed 000, DESIGN §10).

CREATE TABLE alerts (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    -- What it watches, in the widgets' query model: {"metric", "scope", "filters"}.
    metric            text NOT NULL,
    scope             jsonb NOT NULL,
    filters           jsonb NOT NULL DEFAULT '[]',
    -- The value a rule compares: today so far, yesterday, or a rolling window of whole days.
    period            text NOT NULL DEFAULT 'yesterday'
                      CHECK (period IN ('today', 'yesterday', 'last_7_days', 'last_30_days')),
    kind              text NOT NULL
                      CHECK (kind IN ('above', 'below', 'pct_change_above', 'pct_change_below', 'anomaly', 'pace')),
    -- above/below: the metric's unit (minor units, count, basis points);
    -- pct_change_*, pace: percent; anomaly: how many robust deviations make the band.
    threshold         double precision NOT NULL,
    compare_days      integer NOT NULL DEFAULT 7 CHECK (compare_days BETWEEN 1 AND 365),
    recipient_user_ids uuid[] NOT NULL DEFAULT '{}',
    recipient_emails  text[] NOT NULL DEFAULT '{}',
    slack_channel_id  uuid,
    cooldown_minutes  integer NOT NULL DEFAULT 1440 CHECK (cooldown_minutes BETWEEN 0 AND 43200),
    snoozed_until     timestamptz,
    enabled           boolean NOT NULL DEFAULT true,
    -- Where it was made from, for the deep link in its mail.
    dashboard_id      uuid,
    -- The last evaluation: ok | triggered | waiting (no fresh data).
    state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ok', 'triggered', 'waiting')),
    state_reason      text,
    last_value        bigint,
    last_baseline     bigint,
    last_series       jsonb,
    last_evaluated_at timestamptz,
    last_triggered_at timestamptz,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX alerts_org_idx ON alerts (org_id);
CREATE INDEX alerts_enabled_idx ON alerts (org_id) WHERE enabled;

-- One row per firing: unique per rule and evaluated window, so two concurrent passes,
-- a rerun or a crash after sending can never fire the same crossing twice. The row and
-- its outbox messages commit in one transaction.
CREATE TABLE alert_events (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL,
    alert_id   uuid NOT NULL,
    window_key text NOT NULL,
    fired_at   timestamptz NOT NULL DEFAULT now(),
    value      bigint,
    baseline   bigint,
    message    text NOT NULL,
    recipients integer NOT NULL DEFAULT 0,
    UNIQUE (alert_id, window_key),
    FOREIGN KEY (org_id, alert_id) REFERENCES alerts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_events_org_time_idx ON alert_events (org_id, fired_at DESC);

-- A member's mail choices per organization; no row means the defaults.
CREATE TABLE notification_preferences (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest          boolean NOT NULL DEFAULT true,
    -- The digest lists every dashboard metric instead of only the movers.
    digest_everything boolean NOT NULL DEFAULT false,
    alert_mail      boolean NOT NULL DEFAULT true,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

-- The digest's dedupe and audit trail: one per organization, member and ISO week.
CREATE TABLE digests_sent (
    org_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    iso_week  text NOT NULL CHECK (iso_week ~ '^[0-9]{4}-W[0-9]{2}$'),
    email_id  uuid,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id, iso_week)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON alerts, alert_events, notification_preferences, digests_sent
    TO pulseboard_app, pulseboard_worker;

-- Owners and admins manage alerts; members read them; viewers see none.
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY alerts_select ON alerts FOR SELECT TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY alerts_insert ON alerts FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY alerts_update ON alerts FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY alerts_delete ON alerts FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));

-- History is written by the evaluator (worker role) only.
ALTER TABLE alert_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_events FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_events_select ON alert_events FOR SELECT TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY alert_events_insert ON alert_events FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY alert_events_update ON alert_events FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY alert_events_delete ON alert_events FOR DELETE TO pulseboard_app USING (false);

-- Each member reads and writes only their own preferences, in organizations they belong to.
ALTER TABLE notification_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_preferences_select ON notification_preferences FOR SELECT TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_member(org_id));
CREATE POLICY notification_preferences_insert ON notification_preferences FOR INSERT TO pulseboard_app
    WITH CHECK (user_id = app_user_id() AND is_org_member(org_id));
CREATE POLICY notification_preferences_update ON notification_preferences FOR UPDATE TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_member(org_id))
    WITH CHECK (user_id = app_user_id() AND is_org_member(org_id));
CREATE POLICY notification_preferences_delete ON notification_preferences FOR DELETE TO pulseboard_app
    USING (user_id = app_user_id() AND is_org_member(org_id));

-- The audit trail: admins read it; only the digest job writes it.
ALTER TABLE digests_sent ENABLE ROW LEVEL SECURITY;
ALTER TABLE digests_sent FORCE ROW LEVEL SECURITY;
CREATE POLICY digests_sent_select ON digests_sent FOR SELECT TO pulseboard_app
    USING (is_org_admin(org_id) OR (user_id = app_user_id() AND is_org_member(org_id)));
CREATE POLICY digests_sent_insert ON digests_sent FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY digests_sent_update ON digests_sent FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY digests_sent_delete ON digests_sent FOR DELETE TO pulseboard_app USING (false);
