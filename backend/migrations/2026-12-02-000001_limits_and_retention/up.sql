-- Webhook requests turned away by the rate limit, counted per source, client address and minute
-- (one row per minute and sender, however large the flood: a flood cannot fill the disk).
CREATE TABLE webhook_rate_limited (
    source      TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    minute      TIMESTAMPTZ NOT NULL,
    requests    BIGINT NOT NULL,
    PRIMARY KEY (source, remote_addr, minute)
);
CREATE INDEX webhook_rate_limited_minute ON webhook_rate_limited (minute);

-- When the retention sweep removed the raw body (the row and its decisions are kept).
ALTER TABLE webhook_events ADD COLUMN raw_body_purged_at TIMESTAMPTZ;
