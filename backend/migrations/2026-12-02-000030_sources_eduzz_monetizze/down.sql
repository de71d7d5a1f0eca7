-- Fails while a row still names eduzz or monetizze: delete or reassign those rows first.
ALTER TABLE orders DROP CONSTRAINT orders_source_check;
ALTER TABLE product_courses DROP CONSTRAINT product_courses_source_check;
ALTER TABLE product_mappings DROP CONSTRAINT product_mappings_source_check;
ALTER TABLE orders ADD CONSTRAINT orders_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
ALTER TABLE product_courses ADD CONSTRAINT product_courses_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
ALTER TABLE product_mappings ADD CONSTRAINT product_mappings_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
