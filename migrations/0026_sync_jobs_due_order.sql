-- Claims take due jobs in (run_after, id) order, in batches, and each process
-- resumes its next claim after the last job it took, so a claim does not walk
-- back over the index entries its earlier claims left behind (DESIGN §7).
DROP INDEX sync_jobs_due;
CREATE INDEX sync_jobs_due ON sync_jobs (run_after, id) WHERE status = 'queued';

-- A finished sync no longer touches its organization's row: the data version that
-- keys cached dashboards adds the sum of the integrations' `last_synced_at`
-- (db::dashboards::data_version), so workers finishing batches of syncs that share
-- organizations take no lock on them. The trigger keeps every other change, and
-- fires on an update only when the status or the store really changed.
DROP TRIGGER integrations_touch_org_data ON integrations;
CREATE TRIGGER integrations_touch_org_data
    AFTER INSERT OR DELETE ON integrations
    FOR EACH ROW EXECUTE FUNCTION touch_org_data();
CREATE TRIGGER integrations_touch_org_data_on_change
    AFTER UPDATE OF status, store_id ON integrations
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.store_id IS DISTINCT FROM NEW.store_id)
    EXECUTE FUNCTION touch_org_data();

-- Room on each page for updated row versions: a finished sync's freshness and a
-- running job's heartbeat change no indexed column, so with free space on the page
-- they are heap-only updates that write no index entries.
ALTER TABLE integrations SET (fillfactor = 80);
ALTER TABLE sync_jobs SET (fillfactor = 80);
