-- Which version of its provider's sync an integration's stored data comes from.
-- A provider raises its version when what it fetches or derives changes (new
-- fields, new metrics); the worker then forgets the integration's cursors once, so
-- its next sync reads everything again and every record is derived anew
-- (sync::runner). Existing integrations start at 1.
ALTER TABLE integrations ADD COLUMN sync_version integer NOT NULL DEFAULT 1;
