-- The outbox is a queue: every treatment is inserted pending and updated to done within seconds, so
-- the claim's index (`treatments_due`, pending and running only) keeps the entries of rows already
-- done until a vacuum removes them, and a claim walks them all. With the default thresholds (20 % of
-- the table) a table of a million treatments waits for 200,000 dead rows; vacuum it after 1 % (or
-- 1,000 rows) instead, so that a burst of webhooks does not slow the claims for long.
ALTER TABLE treatments SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02
);
