ALTER TABLE webhook_events DROP COLUMN note;
DROP FUNCTION IF EXISTS portaria_day(timestamptz, text);
