-- metric_events keeps one index, (store_id, recorded_at), which every read and rollup
-- uses and which a time-ordered load appends to cheaply. Two per-row costs go
-- (BENCHMARKS.md, ingest):
--
-- * The identity column and its primary key: nothing reads an event by id.
-- * The (integration_id, source_record_id) index, which a load inserts into at random
--   places. Replacing a changed record's events now finds them through the time index:
--   each raw record remembers the instants its current events were recorded at.

ALTER TABLE raw_records ADD COLUMN event_times timestamptz[] NOT NULL DEFAULT '{}';

-- Existing records learn the instants of the events already derived from them.
UPDATE raw_records r SET event_times = e.times
FROM (SELECT integration_id, source_record_id, array_agg(DISTINCT recorded_at ORDER BY recorded_at) AS times
      FROM metric_events GROUP BY integration_id, source_record_id) e
WHERE e.integration_id = r.integration_id
  AND e.source_record_id = r.object_type || '/' || r.external_id;

DROP INDEX metric_events_source;
ALTER TABLE metric_events DROP COLUMN id;

-- An integration's events are found through its store, by the remaining index.
CREATE OR REPLACE FUNCTION forget_metric_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        IF TG_TABLE_NAME = 'stores' THEN
            DELETE FROM public.metric_events WHERE store_id = OLD.id;
        ELSE
            DELETE FROM public.metric_events WHERE store_id = OLD.store_id AND integration_id = OLD.id;
        END IF;
        RETURN OLD;
    END
    $$;
