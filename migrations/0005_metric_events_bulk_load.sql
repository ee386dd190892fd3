-- metric_events is the bulk-loaded table (BENCHMARKS.md): checking two foreign keys
-- per row costs more than the load itself. The pipeline writes events only for the
-- integration and store of the job it holds (checked in the same transaction), so the
-- keys add nothing there; what they did for deletions, these triggers do.
ALTER TABLE metric_events DROP CONSTRAINT metric_events_org_id_integration_id_fkey;
ALTER TABLE metric_events DROP CONSTRAINT metric_events_org_id_store_id_fkey;

CREATE FUNCTION forget_metric_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        IF TG_TABLE_NAME = 'stores' THEN
            DELETE FROM public.metric_events WHERE store_id = OLD.id;
        ELSE
            DELETE FROM public.metric_events WHERE integration_id = OLD.id;
        END IF;
        RETURN OLD;
    END
    $$;
ALTER FUNCTION forget_metric_events() OWNER TO pulseboard_worker;

CREATE TRIGGER stores_forget_metric_events AFTER DELETE ON stores
    FOR EACH ROW EXECUTE FUNCTION forget_metric_events();
CREATE TRIGGER integrations_forget_metric_events AFTER DELETE ON integrations
    FOR EACH ROW EXECUTE FUNCTION forget_metric_events();
