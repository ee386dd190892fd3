-- Dashboards, widgets and share links (seed 001 §2.2, DESIGN §9).

CREATE TABLE dashboards (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,
    workspace_id uuid NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description  text NOT NULL DEFAULT '',
    -- {"columns": 1|2|3, "sections": [{"id", "title", "widgets": [widget ids in order]}]}
    layout       jsonb NOT NULL,
    visibility   text NOT NULL DEFAULT 'workspace' CHECK (visibility IN ('private', 'workspace', 'public')),
    -- The template it was made from, if any.
    template     text,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE INDEX dashboards_workspace_idx ON dashboards (org_id, workspace_id);

CREATE TABLE widgets (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL,
    dashboard_id   uuid NOT NULL,
    type           text NOT NULL CHECK (type IN ('kpi_card', 'line_chart', 'bar_chart', 'table', 'funnel',
                       'pie_chart', 'heatmap_summary', 'review_feed', 'sentiment_gauge', 'experiment_card',
                       'survey_summary')),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    query_config   jsonb NOT NULL,
    display_config jsonb NOT NULL DEFAULT '{}',
    size           text NOT NULL DEFAULT 'medium' CHECK (size IN ('small', 'medium', 'large', 'full')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, dashboard_id) REFERENCES dashboards (org_id, id) ON DELETE CASCADE
);
CREATE INDEX widgets_dashboard_idx ON widgets (dashboard_id);

-- A share link: only a hash of its token is kept; optionally a subset of widgets.
CREATE TABLE dashboard_shares (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,
    dashboard_id uuid NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    widget_ids   uuid[],
    expires_at   timestamptz,
    revoked_at   timestamptz,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, dashboard_id) REFERENCES dashboards (org_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON dashboards, widgets, dashboard_shares TO pulseboard_app, pulseboard_worker;

-- Who sees a dashboard: `public` every member of the org, `workspace` those who can read
-- its workspace, `private` its creator. Viewers read only.
CREATE FUNCTION can_see_dashboard(p_org uuid, p_workspace uuid, p_visibility text, p_creator uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT public.is_org_member(p_org) AND CASE p_visibility
            WHEN 'public' THEN true
            WHEN 'workspace' THEN public.can_read_workspace(p_org, p_workspace)
            ELSE p_creator = public.app_user_id() END
    $$;
ALTER FUNCTION can_see_dashboard(uuid, uuid, text, uuid) OWNER TO pulseboard_worker;

ALTER TABLE dashboards ENABLE ROW LEVEL SECURITY;
ALTER TABLE dashboards FORCE ROW LEVEL SECURITY;
CREATE POLICY dashboards_select ON dashboards FOR SELECT TO pulseboard_app
    USING (can_see_dashboard(org_id, workspace_id, visibility, created_by));
CREATE POLICY dashboards_insert ON dashboards FOR INSERT TO pulseboard_app
    WITH CHECK (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY dashboards_update ON dashboards FOR UPDATE TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member') AND can_see_dashboard(org_id, workspace_id, visibility, created_by))
    WITH CHECK (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY dashboards_delete ON dashboards FOR DELETE TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member') AND can_see_dashboard(org_id, workspace_id, visibility, created_by));

-- Widgets follow their dashboard (the subquery is itself filtered by the policy above).
ALTER TABLE widgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE widgets FORCE ROW LEVEL SECURITY;
CREATE POLICY widgets_select ON widgets FOR SELECT TO pulseboard_app
    USING (is_org_member(org_id) AND EXISTS (SELECT 1 FROM dashboards d WHERE d.id = dashboard_id));
CREATE POLICY widgets_insert ON widgets FOR INSERT TO pulseboard_app
    WITH CHECK (org_role(org_id) IN ('owner', 'admin', 'member') AND EXISTS (SELECT 1 FROM dashboards d WHERE d.id = dashboard_id));
CREATE POLICY widgets_update ON widgets FOR UPDATE TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member') AND EXISTS (SELECT 1 FROM dashboards d WHERE d.id = dashboard_id))
    WITH CHECK (org_role(org_id) IN ('owner', 'admin', 'member'));
CREATE POLICY widgets_delete ON widgets FOR DELETE TO pulseboard_app
    USING (org_role(org_id) IN ('owner', 'admin', 'member') AND EXISTS (SELECT 1 FROM dashboards d WHERE d.id = dashboard_id));

-- Share links are managed by owners and admins; the public page reads them as the worker.
ALTER TABLE dashboard_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE dashboard_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY dashboard_shares_select ON dashboard_shares FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY dashboard_shares_insert ON dashboard_shares FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY dashboard_shares_update ON dashboard_shares FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY dashboard_shares_delete ON dashboard_shares FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));
