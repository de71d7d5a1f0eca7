ALTER TABLE courses DROP COLUMN access_webhook_url;
