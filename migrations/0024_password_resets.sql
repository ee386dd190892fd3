-- Password reset links ("Forgot your password?"). A row is one mailed link: only the
-- SHA-256 of its random token is kept, so a leaked table resets nothing. A link works
-- once (`used_at`) and until `expires_at` (30 minutes after it was asked for).
--
-- Not an organization's table: a reset belongs to one user, and the request comes
-- from someone who is not signed in. The app role has no grant and forced row-level
-- security with deny-all policies on top; every statement runs as the worker role
-- through `Bypass::PasswordReset`, selected by the token's hash (or, to ask for a
-- link, by the email address typed in).
CREATE TABLE password_resets (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    -- Who asked (the client address), for the audit of a disputed reset.
    client_addr text NOT NULL
);
-- How many links an address was sent recently (the per-address throttle).
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO pulseboard_worker;

ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY password_resets_select ON password_resets FOR SELECT TO pulseboard_app USING (false);
CREATE POLICY password_resets_insert ON password_resets FOR INSERT TO pulseboard_app WITH CHECK (false);
CREATE POLICY password_resets_update ON password_resets FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY password_resets_delete ON password_resets FOR DELETE TO pulseboard_app USING (false);
