-- The drift check (DESIGN §7): after a successful sync, the store-local day before
-- is recomputed from the provider's own summary (Stripe's balance transactions) and
-- compared, metric by metric, with what Pulseboard booked for that day. One row per
-- integration, day and metric; `records` lists the source records that explain a
-- difference (present on one side only, or with other amounts), at most 50.
CREATE TABLE drift_checks (
    org_id           uuid NOT NULL,
    store_id         uuid NOT NULL,
    integration_id   uuid NOT NULL,
    day              date NOT NULL,
    metric           text NOT NULL,
    source_value     bigint NOT NULL,
    pulseboard_value bigint NOT NULL,
    -- pulseboard_value - source_value.
    difference       bigint NOT NULL,
    -- The difference is above the threshold (see crates/server/src/sync/drift.rs).
    warning          boolean NOT NULL,
    -- [{"record": "charge/ch_…", "source": 1200, "pulseboard": null}, …]
    records          jsonb NOT NULL DEFAULT '[]',
    -- Records differing beyond the ones kept in `records`.
    records_left_out integer NOT NULL DEFAULT 0,
    checked_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, day, metric),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

GRANT SELECT ON drift_checks TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON drift_checks TO pulseboard_worker;

-- Read-only for members (the metric tables' rule), written by the worker alone.
ALTER TABLE drift_checks ENABLE ROW LEVEL SECURITY;
ALTER TABLE drift_checks FORCE ROW LEVEL SECURITY;
CREATE POLICY drift_checks_select ON drift_checks FOR SELECT TO pulseboard_app
    USING (org_id = ANY ((SELECT public.member_org_ids())::uuid[]));
CREATE POLICY drift_checks_insert ON drift_checks FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY drift_checks_update ON drift_checks FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY drift_checks_delete ON drift_checks FOR DELETE TO pulseboard_app USING (false);
