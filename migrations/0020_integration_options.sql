-- Per-integration options: settings a user changes after connecting, declared by
-- the provider (PostHog's picked events and breakdown property). The provider
-- validates and normalises them before they are stored, so the column holds only
-- what its `parse_options` accepted; every sync receives them. An object, `{}` for
-- integrations of providers without options. Integrations are already readable by
-- members and writable by admins under RLS, so no new policy is needed.
ALTER TABLE integrations ADD COLUMN options jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(options) = 'object');
