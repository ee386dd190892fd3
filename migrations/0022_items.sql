-- Source records widgets show as themselves (a review in the review feed, an
-- experiment on its card): connectors' `Derive::items`, in their provider-neutral
-- shapes (`crates/connectors/src/items.rs`), written by the sync sink with the raw
-- record they come from (`source_record_id`, as on metric_events) and replaced when
-- it changes: a record that no longer gives an item (a review hidden) removes it.
CREATE TABLE items (
    org_id         uuid NOT NULL,
    store_id       uuid NOT NULL,
    integration_id uuid NOT NULL,
    provider       text NOT NULL,
    kind           text NOT NULL,
    item_id        text NOT NULL,
    source_record_id text NOT NULL,
    -- When a review was written, when an experiment started: what feeds order by.
    occurred_at    timestamptz NOT NULL,
    data           jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, kind, item_id),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);
CREATE INDEX items_feed ON items (store_id, kind, occurred_at DESC);
CREATE INDEX items_source ON items (integration_id, source_record_id);

GRANT SELECT ON items TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO pulseboard_worker;

-- Read-only for members (the metric tables' rule), written by the worker alone.
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items FORCE ROW LEVEL SECURITY;
CREATE POLICY items_select ON items FOR SELECT TO pulseboard_app
    USING (org_id = ANY ((SELECT public.member_org_ids())::uuid[]));
CREATE POLICY items_insert ON items FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY items_update ON items FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY items_delete ON items FOR DELETE TO pulseboard_app USING (false);
