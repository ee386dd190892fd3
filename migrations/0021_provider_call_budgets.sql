-- Daily call budgets a provider keeps per account rather than per integration
-- (Clarity allows 10 export calls per project and UTC day, whichever integration
-- makes them): one counter per provider, account (the integration's
-- `external_account_id`, Clarity's project) and UTC day. The worker takes a call
-- with one atomic `INSERT … ON CONFLICT DO UPDATE … WHERE calls < limit`, so two
-- integrations of one project can never take the last call together. Not tenant
-- data: two organizations connecting the same project share its counter, as they
-- share Clarity's limit.
CREATE TABLE provider_call_budgets (
    provider   text NOT NULL,
    account    text NOT NULL,
    -- The UTC day, `YYYY-MM-DD`.
    day        date NOT NULL,
    calls      integer NOT NULL CHECK (calls >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account, day)
);

GRANT SELECT ON provider_call_budgets TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON provider_call_budgets TO pulseboard_worker;
ALTER TABLE provider_call_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_call_budgets FORCE ROW LEVEL SECURITY;
-- Members see the counters of the accounts their organizations' integrations read
-- (the subquery is itself under the integrations' RLS); only the worker writes.
CREATE POLICY provider_call_budgets_select ON provider_call_budgets FOR SELECT TO pulseboard_app
    USING (EXISTS (SELECT 1 FROM integrations i
                   WHERE i.provider = provider_call_budgets.provider
                     AND i.external_account_id = provider_call_budgets.account));
CREATE POLICY provider_call_budgets_insert ON provider_call_budgets FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY provider_call_budgets_update ON provider_call_budgets FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY provider_call_budgets_delete ON provider_call_budgets FOR DELETE TO pulseboard_app USING (false);

-- Clarity kept its budget per integration, in a `clarity.budget` cursor
-- (`{"day", "calls"}`): today's counts of the integrations of one project add up.
INSERT INTO provider_call_budgets (provider, account, day, calls)
SELECT i.provider, i.external_account_id, (c.cursor ->> 'day')::date,
       sum((c.cursor ->> 'calls')::integer)
FROM sync_cursors c JOIN integrations i ON i.id = c.integration_id
WHERE c.stream = 'clarity.budget' AND c.cursor ->> 'day' = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')
GROUP BY i.provider, i.external_account_id, (c.cursor ->> 'day')::date;
