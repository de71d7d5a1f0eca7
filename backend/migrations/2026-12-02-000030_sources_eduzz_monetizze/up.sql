-- Two new webhook sources, eduzz and monetizze (the `Source` vocabulary in backend/src/ingest/event.rs):
-- every column that holds a source accepts them.
ALTER TABLE orders DROP CONSTRAINT orders_source_check;
ALTER TABLE product_courses DROP CONSTRAINT product_courses_source_check;
ALTER TABLE product_mappings DROP CONSTRAINT product_mappings_source_check;
ALTER TABLE orders ADD CONSTRAINT orders_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic', 'eduzz', 'monetizze'));
ALTER TABLE product_courses ADD CONSTRAINT product_courses_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic', 'eduzz', 'monetizze'));
ALTER TABLE product_mappings ADD CONSTRAINT product_mappings_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic', 'eduzz', 'monetizze'));
