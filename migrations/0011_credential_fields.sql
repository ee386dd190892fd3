-- A provider declares its own secret key fields (PostHog's personal API key, a
-- Clarity export token, Gorgias's password…), so a credential's field is any
-- lower-case name rather than one of three. Each ciphertext stays bound to its
-- integration and field through the AEAD's associated data.
ALTER TABLE integration_credentials DROP CONSTRAINT integration_credentials_field_check;
ALTER TABLE integration_credentials ADD CONSTRAINT integration_credentials_field_check
    CHECK (field ~ '^[a-z][a-z0-9_]{0,39}$');
