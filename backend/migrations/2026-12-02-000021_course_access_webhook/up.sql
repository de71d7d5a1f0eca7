-- The course platform's own endpoint for access webhooks (access.granted / extended / revoked);
-- NULL: ACCESS_WEBHOOK_URL, when set.
ALTER TABLE courses ADD COLUMN access_webhook_url TEXT
    CONSTRAINT courses_access_webhook_url_check CHECK (access_webhook_url ~* '^https?://[^[:space:]]+$' AND length(access_webhook_url) <= 2000);
