-- The sync pipeline (DESIGN §4, §7): a job queue, per-stream cursors, raw provider
-- objects, metric events derived from them, daily rollups in the store's time zone,
-- metric definitions and their daily snapshots, and monthly usage for plan caps.
--
-- Only the worker role writes pipeline data. Users read what the dashboards need
-- (jobs, events, rollups, definitions, snapshots, usage); raw provider objects and
-- cursors are worker-only, like credentials.

CREATE TABLE sync_jobs (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    integration_id   uuid NOT NULL,
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
    -- What asked for it: `schedule`, `manual`, `connect`, `cron`.
    trigger          text NOT NULL,
    -- `backfill` (no cursor yet or too old to resume from) or `incremental`; set by the run.
    sync_type        text,
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3,
    run_after        timestamptz NOT NULL DEFAULT now(),
    -- Lease: the claiming worker, when it must have heartbeated again, and a fencing
    -- token bumped by every claim so a worker whose lease was taken over cannot write.
    locked_by        text,
    lease_expires_at timestamptz,
    heartbeat_at     timestamptz,
    fence            bigint NOT NULL DEFAULT 0,
    records_synced   bigint NOT NULL DEFAULT 0,
    error            text,
    error_details    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);
-- Never two live jobs for one integration.
CREATE UNIQUE INDEX sync_jobs_one_live ON sync_jobs (integration_id) WHERE status IN ('queued', 'running');
CREATE INDEX sync_jobs_due ON sync_jobs (run_after) WHERE status = 'queued';
CREATE INDEX sync_jobs_history ON sync_jobs (org_id, created_at DESC);

-- Where each stream of an integration's sync stands; committed with the data it covers.
CREATE TABLE sync_cursors (
    org_id         uuid NOT NULL,
    integration_id uuid NOT NULL,
    stream         text NOT NULL,
    cursor         jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, stream),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);

-- Provider objects as received: the replayable source of truth for metric_events.
CREATE TABLE raw_records (
    org_id            uuid NOT NULL,
    integration_id    uuid NOT NULL,
    object_type       text NOT NULL,
    external_id       text NOT NULL,
    -- The provider's last-modified time of this version; an older version never overwrites a newer one.
    source_updated_at timestamptz,
    payload           jsonb NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, object_type, external_id),
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);

-- Seed 001's unified events: one or more per source record, replaced when the record changes.
-- Values are integers: minor units of `dimensions->>'currency'` for money, else counts.
CREATE TABLE metric_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           uuid NOT NULL,
    store_id         uuid NOT NULL,
    integration_id   uuid NOT NULL,
    source           text NOT NULL,
    metric_name      text NOT NULL,
    metric_value     bigint NOT NULL,
    dimensions       jsonb NOT NULL DEFAULT '{}',
    recorded_at      timestamptz NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    -- `{object_type}/{external_id}` of the raw record it was derived from.
    source_record_id text NOT NULL,
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, integration_id) REFERENCES integrations (org_id, id) ON DELETE CASCADE
);
CREATE INDEX metric_events_source ON metric_events (integration_id, source_record_id);
CREATE INDEX metric_events_time ON metric_events (store_id, recorded_at);

-- Daily sums per store, source, metric and dimension combination; days in the store's zone.
-- Stocks (MRR, active subscriptions) are stored as daily changes; their level on a day
-- is the running sum up to it.
CREATE TABLE metric_rollups_daily (
    org_id      uuid NOT NULL,
    store_id    uuid NOT NULL,
    source      text NOT NULL,
    metric_name text NOT NULL,
    day         date NOT NULL,
    dimensions  jsonb NOT NULL,
    value_sum   bigint NOT NULL,
    event_count bigint NOT NULL,
    PRIMARY KEY (store_id, source, metric_name, day, dimensions),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

-- Store days whose rollups must be recomputed; written with the events that changed them.
CREATE TABLE rollup_dirty_days (
    org_id   uuid NOT NULL,
    store_id uuid NOT NULL,
    day      date NOT NULL,
    PRIMARY KEY (store_id, day),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

-- Seed 000's metric definitions (per org and store) and their daily snapshots.
CREATE TABLE metric_definitions (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    store_id    uuid NOT NULL,
    slug        text NOT NULL,
    name        text NOT NULL,
    source      text NOT NULL,
    -- The catalog metric it reads (`mrr`), or for a ratio its numerator.
    metric_name text NOT NULL,
    aggregation text NOT NULL CHECK (aggregation IN ('sum', 'avg', 'min', 'max', 'count', 'latest')),
    filter      jsonb NOT NULL DEFAULT '{}',
    unit        text NOT NULL,
    format      text NOT NULL DEFAULT 'number',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (store_id, slug),
    FOREIGN KEY (org_id, store_id) REFERENCES stores (org_id, id) ON DELETE CASCADE
);

CREATE TABLE metric_snapshots (
    org_id        uuid NOT NULL,
    metric_def_id uuid NOT NULL,
    captured_on   date NOT NULL,
    value         bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (metric_def_id, captured_on),
    FOREIGN KEY (org_id, metric_def_id) REFERENCES metric_definitions (org_id, id) ON DELETE CASCADE
);

-- Metric events stored per calendar month (UTC), for plan caps.
CREATE TABLE usage_counters (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    month         date NOT NULL,
    metric_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, month)
);

GRANT SELECT ON sync_jobs, metric_events, metric_rollups_daily, metric_definitions,
    metric_snapshots, usage_counters TO pulseboard_app;
GRANT INSERT ON sync_jobs TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sync_jobs, sync_cursors, raw_records, metric_events,
    metric_rollups_daily, rollup_dirty_days, metric_definitions, metric_snapshots, usage_counters
    TO pulseboard_worker;

-- Members read; members and up ask for a sync (manual refresh); the worker does the rest.
ALTER TABLE sync_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY sync_jobs_select ON sync_jobs FOR SELECT TO pulseboard_app USING (is_org_member(org_id));
CREATE POLICY sync_jobs_insert ON sync_jobs FOR INSERT TO pulseboard_app
    WITH CHECK (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY sync_jobs_update ON sync_jobs FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY sync_jobs_delete ON sync_jobs FOR DELETE TO pulseboard_app USING (false);

-- Read-only for members, written by the worker alone.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['metric_events', 'metric_rollups_daily', 'metric_definitions',
                             'metric_snapshots', 'usage_counters'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO pulseboard_app USING (is_org_member(org_id))', t || '_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO pulseboard_app WITH CHECK (false)', t || '_insert', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false)', t || '_update', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE TO pulseboard_app USING (false)', t || '_delete', t);
    END LOOP;
    -- Worker-only: no grant to the user role, and policies that admit nothing.
    FOREACH t IN ARRAY ARRAY['sync_cursors', 'raw_records', 'rollup_dirty_days'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO pulseboard_app USING (false)', t || '_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO pulseboard_app WITH CHECK (false)', t || '_insert', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false)', t || '_update', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE TO pulseboard_app USING (false)', t || '_delete', t);
    END LOOP;
END $$;
