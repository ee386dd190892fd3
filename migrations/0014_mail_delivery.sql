-- Real mail delivery (SMTP, Resend) and Slack incoming webhooks.

-- ---------------------------------------------------------------------------
-- The mail outbox grows what a real transport needs: the HTML part's inline
-- images, the one-click unsubscribe URL, and a terminal failed state.
-- State: `sent_at` set → sent; `failed_at` set → failed (a permanent refusal,
-- or the attempts ran out); neither → queued. `last_error` holds the server's
-- reply ("550 5.1.1 mailbox unavailable") of the latest failed attempt.
-- ---------------------------------------------------------------------------

ALTER TABLE email_outbox
    -- [{content_id, content_type, base64}], referenced from body_html as cid:…
    ADD COLUMN inline_images   jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN unsubscribe_url text,
    ADD COLUMN failed_at       timestamptz,
    ADD CONSTRAINT email_outbox_one_outcome CHECK (sent_at IS NULL OR failed_at IS NULL);

DROP INDEX email_outbox_pending_idx;
CREATE INDEX email_outbox_pending_idx ON email_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- ---------------------------------------------------------------------------
-- Slack channels: an incoming-webhook URL per channel. The URL is a secret (it
-- lets anyone post into the channel), so it is stored encrypted by the
-- application's vault, and the user-facing role may write it but never read it
-- back: its SELECT grant names every column but the ciphertext.
-- ---------------------------------------------------------------------------

CREATE TABLE slack_channels (
    id                 uuid PRIMARY KEY,
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name               text NOT NULL,
    -- Vault ciphertext of the webhook URL, bound to (id, 'slack_channels.webhook_url').
    webhook_ciphertext text NOT NULL,
    -- What the UI shows instead of the URL: `…/T000/B000/****`.
    webhook_hint       text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- Set when Slack says the webhook is gone (404 no_service, 410
    -- channel_is_archived): nothing more is posted to it.
    disabled_at        timestamptz,
    disabled_reason    text,
    UNIQUE (org_id, id)
);

-- Messages for Slack, queued like mail: the payload is a complete
-- incoming-webhook body (Block Kit `blocks` and a `text` fallback).
CREATE TABLE slack_outbox (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    channel_id      uuid NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, channel_id) REFERENCES slack_channels (org_id, id) ON DELETE CASCADE,
    CHECK (sent_at IS NULL OR failed_at IS NULL)
);
CREATE INDEX slack_outbox_pending_idx ON slack_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

GRANT SELECT (id, org_id, name, webhook_hint, created_at, disabled_at, disabled_reason),
      INSERT, DELETE
    ON slack_channels TO pulseboard_app;
GRANT SELECT, INSERT ON slack_outbox TO pulseboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON slack_channels, slack_outbox TO pulseboard_worker;

-- Members see their organization's channels (the API keeps viewers out);
-- owners and admins add and remove them; disabling is the worker's business.
ALTER TABLE slack_channels ENABLE ROW LEVEL SECURITY;
ALTER TABLE slack_channels FORCE ROW LEVEL SECURITY;
CREATE POLICY slack_channels_select ON slack_channels FOR SELECT TO pulseboard_app USING (is_org_member(org_id));
CREATE POLICY slack_channels_insert ON slack_channels FOR INSERT TO pulseboard_app WITH CHECK (is_org_admin(org_id));
CREATE POLICY slack_channels_update ON slack_channels FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY slack_channels_delete ON slack_channels FOR DELETE TO pulseboard_app USING (is_org_admin(org_id));

-- Like the mail outbox: members may queue as a side effect of their actions,
-- admins read it back, delivery state is the worker's.
ALTER TABLE slack_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE slack_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY slack_outbox_select ON slack_outbox FOR SELECT TO pulseboard_app USING (is_org_admin(org_id));
CREATE POLICY slack_outbox_insert ON slack_outbox FOR INSERT TO pulseboard_app WITH CHECK (is_org_member(org_id));
CREATE POLICY slack_outbox_update ON slack_outbox FOR UPDATE TO pulseboard_app USING (false) WITH CHECK (false);
CREATE POLICY slack_outbox_delete ON slack_outbox FOR DELETE TO pulseboard_app USING (false);
