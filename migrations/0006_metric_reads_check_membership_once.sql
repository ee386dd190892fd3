-- The metric tables are read in bulk (a dashboard reads thousands of rollup rows).
-- Their SELECT policy called is_org_member(org_id) for every row: a SECURITY DEFINER
-- call each, seconds for a large store. The same rule, with the caller's
-- organizations computed once per statement (an InitPlan) and compared per row.
CREATE FUNCTION member_org_ids() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT coalesce(array_agg(m.org_id), '{}') FROM public.org_members m
        WHERE m.user_id = public.app_user_id()
    $$;
ALTER FUNCTION member_org_ids() OWNER TO pulseboard_worker;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['metric_events', 'metric_rollups_daily', 'metric_definitions',
                             'metric_snapshots', 'usage_counters'] LOOP
        EXECUTE format('DROP POLICY %I ON %I', t || '_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO pulseboard_app
                        USING (org_id = ANY ((SELECT public.member_org_ids())::uuid[]))', t || '_select', t);
    END LOOP;
END
$$;
