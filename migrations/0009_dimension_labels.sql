-- Readable names of dimension values, per store: a product's title for its id, a
-- plan's name for its price id. Written by syncs from the records that carry them
-- (connectors' `Provider::dimension_labels`); breakdowns show them beside the value.
CREATE TABLE dimension_labels (
    org_id     uuid NOT NULL,
    store_id   uuid NOT NULL,
    dimension  text NOT NULL,
    value      text NOT NULL,
    label      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, dimension, value),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

GRANT SELECT ON dimension_labels TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON dimension_labels TO pulseboard_worker;

-- Read-only for members (the metric tables' rule), written by the worker alone.
ALTER TABLE dimension_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE dimension_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY dimension_labels_select ON dimension_labels FOR SELECT TO pulseboard_app
    USING (org_id = ANY ((SELECT public.member_org_ids())::uuid[]));
CREATE POLICY dimension_labels_insert ON dimension_labels FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY dimension_labels_update ON dimension_labels FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY dimension_labels_delete ON dimension_labels FOR DELETE TO pulseboard_app USING (false);

-- Names for what earlier syncs stored: Shopify products' titles and Stripe prices'
-- nicknames (from subscriptions' items), as `dimension_labels` in the connectors reads them.
INSERT INTO dimension_labels (org_id, store_id, dimension, value, label)
SELECT DISTINCT ON (i.store_id, r.payload->>'id') r.org_id, i.store_id, 'product', r.payload->>'id', btrim(r.payload->>'title')
FROM raw_records r JOIN integrations i ON i.id = r.integration_id
WHERE i.provider = 'shopify' AND r.object_type = 'product'
  AND r.payload->>'id' <> '' AND btrim(r.payload->>'title') <> ''
ON CONFLICT DO NOTHING;

INSERT INTO dimension_labels (org_id, store_id, dimension, value, label)
SELECT DISTINCT ON (i.store_id, item->'price'->>'id') r.org_id, i.store_id, 'plan', item->'price'->>'id', btrim(item->'price'->>'nickname')
FROM raw_records r JOIN integrations i ON i.id = r.integration_id
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.payload->'items'->'data') = 'array'
                                             THEN r.payload->'items'->'data' ELSE '[]' END) AS item
WHERE i.provider = 'stripe' AND r.object_type = 'subscription'
  AND item->'price'->>'id' <> '' AND btrim(item->'price'->>'nickname') <> ''
ON CONFLICT DO NOTHING;
