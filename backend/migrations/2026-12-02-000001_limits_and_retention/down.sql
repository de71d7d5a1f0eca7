ALTER TABLE webhook_events DROP COLUMN raw_body_purged_at;
DROP TABLE webhook_rate_limited;
