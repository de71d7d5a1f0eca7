-- A product's other id (Hotmart: the numeric `id` beside the `ucode` that keys the product), so that
-- an event carrying only that id (SUBSCRIPTION_CANCELLATION) finds the product its purchases were
-- keyed by. Filled from the stored bodies of the Hotmart purchases already processed (authenticated;
-- a rejected body teaches nothing).
CREATE TABLE product_aliases (
    source TEXT NOT NULL,
    alias TEXT NOT NULL,
    external_product_id TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, alias)
);
ALTER TABLE product_aliases ADD CONSTRAINT product_aliases_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic', 'eduzz', 'monetizze'));

DO $$
DECLARE
    r RECORD;
    body JSONB;
    product_id TEXT;
    product_ucode TEXT;
BEGIN
    FOR r IN
        SELECT raw_body FROM webhook_events
        WHERE source = 'hotmart' AND outcome = 'processed' AND raw_body_purged_at IS NULL
          AND raw_body LIKE '%"ucode"%'
        ORDER BY id
    LOOP
        BEGIN
            body := r.raw_body::jsonb;
        EXCEPTION WHEN others THEN
            CONTINUE; -- not JSON (a rejected body): nothing to learn from it
        END;
        IF jsonb_typeof(body -> 'data' -> 'product') = 'object'
            AND jsonb_typeof(body -> 'data' -> 'product' -> 'id') IN ('string', 'number')
            AND jsonb_typeof(body -> 'data' -> 'product' -> 'ucode') IN ('string', 'number') THEN
            product_id := btrim(body -> 'data' -> 'product' ->> 'id');
            product_ucode := btrim(body -> 'data' -> 'product' ->> 'ucode');
            IF product_id <> '' AND product_ucode <> '' THEN
                INSERT INTO product_aliases (source, alias, external_product_id)
                VALUES ('hotmart', product_id, product_ucode)
                ON CONFLICT (source, alias) DO UPDATE SET external_product_id = EXCLUDED.external_product_id;
            END IF;
        END IF;
    END LOOP;
END
$$;
