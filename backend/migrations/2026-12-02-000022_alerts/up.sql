-- When each alert was last sent (one row per condition key: `outbox_age`, `rejections:<source>`,
-- `dead:<treatment id>`, `dead:many`), so that replicas and restarts send at most one message per
-- condition per ALERT_WINDOW; and `cursor:dead`, how far the search for newly dead treatments has read
-- (the `updated_at` of the last one seen).
CREATE TABLE alert_marks (
    key TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    at TIMESTAMPTZ NOT NULL
);
