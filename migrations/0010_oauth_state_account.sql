-- An OAuth flow remembers the account it was started for under a provider-neutral
-- name: a Shopify shop domain today, a GA4 property or a PostHog project tomorrow.
-- Each provider validates the value (`Provider::parse_account`) before it is stored.
ALTER TABLE oauth_states RENAME COLUMN shop_domain TO account_ref;
