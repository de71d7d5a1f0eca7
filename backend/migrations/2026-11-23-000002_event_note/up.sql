-- Why an event changed less than usual (e.g. "ignored_transition: approval after refund or chargeback").
ALTER TABLE webhook_events ADD COLUMN note TEXT;
-- Treatments may be canceled (a scheduled revocation made moot by a new purchase).
COMMENT ON COLUMN treatments.status IS 'pending | running | done | dead | canceled';

-- The calendar day of a time in a time zone (for the dashboard's daily counts).
CREATE OR REPLACE FUNCTION portaria_day(ts timestamptz, tz text) RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    AS $$ SELECT (ts AT TIME ZONE tz)::date $$;
