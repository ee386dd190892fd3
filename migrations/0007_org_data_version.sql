-- When an organization's numbers last changed: a sync finished or started, an
-- integration connected or went away, a store changed zone, currency or workspace.
-- Cached dashboard results are keyed by it (dashboards::data); reading one row is
-- far cheaper than aggregating integrations and stores under their row policies.
ALTER TABLE organizations ADD COLUMN data_changed_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION touch_org_data() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        org uuid;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            org := OLD.org_id;
        ELSE
            org := NEW.org_id;
        END IF;
        UPDATE public.organizations SET data_changed_at = clock_timestamp() WHERE id = org;
        RETURN NULL;
    END
    $$;
ALTER FUNCTION touch_org_data() OWNER TO pulseboard_worker;

CREATE TRIGGER integrations_touch_org_data
    AFTER INSERT OR DELETE OR UPDATE OF last_synced_at, status, store_id ON integrations
    FOR EACH ROW EXECUTE FUNCTION touch_org_data();
CREATE TRIGGER stores_touch_org_data
    AFTER INSERT OR DELETE OR UPDATE OF timezone, currency, workspace_id ON stores
    FOR EACH ROW EXECUTE FUNCTION touch_org_data();
