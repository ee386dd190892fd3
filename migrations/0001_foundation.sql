-- Foundation: tenancy, accounts and the roles that make RLS the wall (DESIGN §4, §5).
--
-- Three roles:
--   * the schema owner: whoever runs the migrations (the connecting user);
--   * pulseboard_app: every user-facing request runs as this role inside a
--     transaction (`SET LOCAL ROLE`) with `pulseboard.user_id` set. Not a
--     superuser, no BYPASSRLS, so every policy below applies to it;
--   * pulseboard_worker: background jobs and account bootstrap (sign-up, invite
--     acceptance, session lookup). It bypasses RLS like seed 000's service role
--     and is the only role that may ever read credentials.
-- Roles are cluster-wide, so they are created only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulseboard_app') THEN
        CREATE ROLE pulseboard_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulseboard_worker') THEN
        CREATE ROLE pulseboard_worker NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- The owner switches into both roles with SET LOCAL ROLE.
GRANT pulseboard_app TO CURRENT_USER;
GRANT pulseboard_worker TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO pulseboard_app, pulseboard_worker;

-- The current user id of a request. `nullif(…, '')` because a pooled connection
-- that once had the setting returns '' (not NULL) afterwards.
CREATE FUNCTION app_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('pulseboard.user_id', true), '')::uuid $$;

-- ---------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email)),
    name          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE organizations (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    slug               text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    plan               text NOT NULL DEFAULT 'free',
    trial_ends_at      timestamptz,
    white_label_config jsonb NOT NULL DEFAULT '{}',
    feature_flags      jsonb NOT NULL DEFAULT '{}',
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE org_members (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user_idx ON org_members (user_id);

CREATE TABLE workspaces (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       text NOT NULL,
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Composite keys everywhere: a foreign key can only point inside its own org,
    -- so constraint errors cannot be used to probe other tenants.
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE workspace_members (
    org_id       uuid NOT NULL,
    workspace_id uuid NOT NULL,
    user_id      uuid NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
    -- Leaving the organization removes every workspace membership in it.
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);

CREATE TABLE stores (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,
    workspace_id uuid NOT NULL,
    name         text NOT NULL,
    -- ISO 4217 and IANA names, validated by the application before they get here.
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    timezone     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE INDEX stores_workspace_idx ON stores (org_id, workspace_id);

CREATE TABLE invites (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email)),
    role        text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    -- Only a SHA-256 of the token is kept; the token itself lives in the email.
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  timestamptz,
    UNIQUE (org_id, id)
);

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    user_agent   text,
    client_addr  text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- The first characters of the token, shown in lists so a user can tell tokens apart.
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    action        text NOT NULL,
    target_type   text NOT NULL,
    target_id     text,
    details       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, created_at DESC);

-- Transactional outbox: a message is written in the same transaction as the
-- action that causes it, and a background loop delivers it exactly once.
CREATE TABLE email_outbox (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    to_addr         text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    sent_at         timestamptz,
    last_error      text,
    UNIQUE (org_id, id)
);
CREATE INDEX email_outbox_pending_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Login throttling state. Internal: the user-facing role has no grant at all.
CREATE TABLE login_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email        text NOT NULL,
    client_addr  text NOT NULL,
    succeeded    boolean NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_addr_idx ON login_attempts (client_addr, attempted_at);

-- ---------------------------------------------------------------------------
-- Membership helpers. SECURITY DEFINER with a pinned search_path, owned by the
-- worker role (BYPASSRLS) so that reading org_members inside a policy on
-- org_members does not recurse even when the schema owner is not a superuser.
-- ---------------------------------------------------------------------------

CREATE FUNCTION org_role(p_org uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT m.role FROM public.org_members m
        WHERE m.org_id = p_org AND m.user_id = public.app_user_id()
    $$;

CREATE FUNCTION is_org_member(p_org uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT public.org_role(p_org) IS NOT NULL $$;

CREATE FUNCTION is_org_admin(p_org uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(public.org_role(p_org) IN ('owner', 'admin'), false) $$;

CREATE FUNCTION workspace_role(p_workspace uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT wm.role FROM public.workspace_members wm
        WHERE wm.workspace_id = p_workspace AND wm.user_id = public.app_user_id()
    $$;

-- Org owners/admins see every workspace of their org; others see the ones they belong to.
CREATE FUNCTION can_read_workspace(p_org uuid, p_workspace uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT public.is_org_admin(p_org)
            OR (public.is_org_member(p_org) AND public.workspace_role(p_workspace) IS NOT NULL)
    $$;

-- Org viewers never write, whatever their workspace role.
CREATE FUNCTION can_write_workspace(p_org uuid, p_workspace uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT public.is_org_admin(p_org)
            OR (coalesce(public.org_role(p_org) = 'member', false)
                AND coalesce(public.workspace_role(p_workspace) IN ('admin', 'editor'), false))
    $$;

CREATE FUNCTION is_workspace_admin(p_org uuid, p_workspace uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT public.is_org_admin(p_org)
            OR (coalesce(public.org_role(p_org) = 'member', false)
                AND coalesce(public.workspace_role(p_workspace) = 'admin', false))
    $$;

-- Users may see the profiles of people they share an organization with.
CREATE FUNCTION shares_org_with(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT EXISTS (
            SELECT 1 FROM public.org_members mine
            JOIN public.org_members theirs ON theirs.org_id = mine.org_id
            WHERE mine.user_id = public.app_user_id() AND theirs.user_id = p_user
        )
    $$;

-- An organization always keeps at least one owner. Enforced in the database so
-- that two concurrent demotions cannot both succeed: the org row is locked first.
CREATE FUNCTION keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF OLD.role <> 'owner' THEN
            RETURN NULL;
        END IF;
        -- Deleting the organization itself cascades here; nothing to protect then.
        PERFORM 1 FROM public.organizations WHERE id = OLD.org_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM public.org_members WHERE org_id = OLD.org_id AND role = 'owner') THEN
            RAISE EXCEPTION 'an organization must keep at least one owner'
                USING ERRCODE = 'P0001', CONSTRAINT = 'org_members_last_owner';
        END IF;
        RETURN NULL;
    END
    $$;

CREATE CONSTRAINT TRIGGER org_members_keep_an_owner
    AFTER UPDATE OR DELETE ON org_members
    FOR EACH ROW EXECUTE FUNCTION keep_an_owner();

ALTER FUNCTION org_role(uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION is_org_member(uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION is_org_admin(uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION workspace_role(uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION can_read_workspace(uuid, uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION can_write_workspace(uuid, uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION is_workspace_admin(uuid, uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION shares_org_with(uuid) OWNER TO pulseboard_worker;
ALTER FUNCTION keep_an_owner() OWNER TO pulseboard_worker;

-- ---------------------------------------------------------------------------
-- Grants. The worker may do everything; the app role gets table verbs and the
-- policies decide which rows. login_attempts is never granted to the app role.
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON
    users, organizations, org_members, workspaces, workspace_members, stores,
    invites, sessions, api_tokens, audit_log, email_outbox
    TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pulseboard_worker;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO pulseboard_worker, pulseboard_app;

-- ---------------------------------------------------------------------------
-- Row-level security: enabled and FORCED on every table, one policy per verb.
-- ---------------------------------------------------------------------------

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_select ON users FOR SELECT TO pulseboard_app
    USING (id = app_user_id() OR shares_org_with(id));
CREATE POLICY users_insert ON users FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY users_update ON users FOR UPDATE TO pulseboard_app
    USING (id = app_user_id()) WITH CHECK (id = app_user_id());
CREATE POLICY users_delete ON users FOR DELETE TO pulseboard_app USING (false);

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organizations_select ON organizations FOR SELECT TO pulseboard_app
    USING (is_org_member(id));
-- New organizations are bootstrapped by the worker role (the creator is not a member yet).
CREATE POLICY organizations_insert ON organizations FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY organizations_update ON organizations FOR UPDATE TO pulseboard_app
    USING (is_org_admin(id)) WITH CHECK (is_org_admin(id));
CREATE POLICY organizations_delete ON organizations FOR DELETE TO pulseboard_app
    USING (coalesce(org_role(id) = 'owner', false));

ALTER TABLE org_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_members FORCE ROW LEVEL SECURITY;
CREATE POLICY org_members_select ON org_members FOR SELECT TO pulseboard_app
    USING (is_org_member(org_id));
-- Admins manage members, but only an owner can make an owner.
CREATE POLICY org_members_insert ON org_members FOR INSERT TO pulseboard_app
    WITH CHECK (is_org_admin(org_id) AND (role <> 'owner' OR org_role(org_id) = 'owner'));
CREATE POLICY org_members_update ON org_members FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id))
    WITH CHECK (is_org_admin(org_id) AND (role <> 'owner' OR org_role(org_id) = 'owner'));
CREATE POLICY org_members_delete ON org_members FOR DELETE TO pulseboard_app
    USING (is_org_admin(org_id) OR user_id = app_user_id());

ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspaces_select ON workspaces FOR SELECT TO pulseboard_app
    USING (can_read_workspace(org_id, id));
CREATE POLICY workspaces_insert ON workspaces FOR INSERT TO pulseboard_app
    WITH CHECK (is_org_admin(org_id));
CREATE POLICY workspaces_update ON workspaces FOR UPDATE TO pulseboard_app
    USING (is_workspace_admin(org_id, id)) WITH CHECK (is_workspace_admin(org_id, id));
CREATE POLICY workspaces_delete ON workspaces FOR DELETE TO pulseboard_app
    USING (is_org_admin(org_id));

ALTER TABLE workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_members FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_members_select ON workspace_members FOR SELECT TO pulseboard_app
    USING (can_read_workspace(org_id, workspace_id));
CREATE POLICY workspace_members_insert ON workspace_members FOR INSERT TO pulseboard_app
    WITH CHECK (is_workspace_admin(org_id, workspace_id));
CREATE POLICY workspace_members_update ON workspace_members FOR UPDATE TO pulseboard_app
    USING (is_workspace_admin(org_id, workspace_id)) WITH CHECK (is_workspace_admin(org_id, workspace_id));
CREATE POLICY workspace_members_delete ON workspace_members FOR DELETE TO pulseboard_app
    USING (is_workspace_admin(org_id, workspace_id));

ALTER TABLE stores ENABLE ROW LEVEL SECURITY;
ALTER TABLE stores FORCE ROW LEVEL SECURITY;
CREATE POLICY stores_select ON stores FOR SELECT TO pulseboard_app
    USING (can_read_workspace(org_id, workspace_id));
CREATE POLICY stores_insert ON stores FOR INSERT TO pulseboard_app
    WITH CHECK (can_write_workspace(org_id, workspace_id));
CREATE POLICY stores_update ON stores FOR UPDATE TO pulseboard_app
    USING (can_write_workspace(org_id, workspace_id)) WITH CHECK (can_write_workspace(org_id, workspace_id));
CREATE POLICY stores_delete ON stores FOR DELETE TO pulseboard_app
    USING (can_write_workspace(org_id, workspace_id));

ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
CREATE POLICY invites_select ON invites FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY invites_insert ON invites FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY invites_update ON invites FOR UPDATE TO pulseboard_app
    USING (is_org_admin(org_id)) WITH CHECK (is_org_admin(org_id));
CREATE POLICY invites_delete ON invites FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_select ON sessions FOR SELECT TO pulseboard_app USING (user_id = app_user_id());
CREATE POLICY sessions_insert ON sessions FOR INSERT TO pulseboard_app WITH CHECK (user_id = app_user_id());
CREATE POLICY sessions_update ON sessions FOR UPDATE TO pulseboard_app
    USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
CREATE POLICY sessions_delete ON sessions FOR DELETE TO pulseboard_app USING (user_id = app_user_id());

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_select ON api_tokens FOR SELECT TO pulseboard_app USING (user_id = app_user_id());
CREATE POLICY api_tokens_insert ON api_tokens FOR INSERT TO pulseboard_app WITH CHECK (user_id = app_user_id());
CREATE POLICY api_tokens_update ON api_tokens FOR UPDATE TO pulseboard_app
    USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
CREATE POLICY api_tokens_delete ON api_tokens FOR DELETE TO pulseboard_app USING (user_id = app_user_id());

-- The audit log is append-only for users: admins read it, nobody edits it.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_select ON audit_log FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY audit_log_insert ON audit_log FOR INSERT TO pulseboard_app
    WITH CHECK (is_org_member(org_id) AND actor_user_id = app_user_id());
CREATE POLICY audit_log_update ON audit_log FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY audit_log_delete ON audit_log FOR DELETE TO pulseboard_app USING (false);

-- Members queue mail as a side effect of their actions; only admins read it back;
-- delivery state is the worker's business.
ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY email_outbox_select ON email_outbox FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY email_outbox_insert ON email_outbox FOR INSERT TO pulseboard_app WITH CHECK (is_org_member(org_id));
CREATE POLICY email_outbox_update ON email_outbox FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY email_outbox_delete ON email_outbox FOR DELETE TO pulseboard_app USING (false);

-- Internal table: forced RLS with no policy for the app role denies everything,
-- on top of it having no grant.
ALTER TABLE login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_attempts FORCE ROW LEVEL SECURITY;
