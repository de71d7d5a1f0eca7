-- Portaria: the first schema. Every time is timestamptz (UTC), every amount integer cents,
-- every e-mail stored lower-cased (compared case-insensitively by construction).

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is STABLE (it reads a dictionary); this wrapper pins the dictionary so it can be
-- IMMUTABLE and used in generated columns and indexes.
CREATE OR REPLACE FUNCTION portaria_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- Lower-cased, accent-free text used by every search.
CREATE OR REPLACE FUNCTION portaria_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(portaria_unaccent($1)) $$;

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);

CREATE TABLE courses (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- NULL = lifetime access
    access_days INTEGER CHECK (access_days IS NULL OR access_days > 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE product_courses (
    id                  BIGSERIAL PRIMARY KEY,
    source              TEXT NOT NULL,
    external_product_id TEXT NOT NULL,
    product_name        TEXT,
    course_id           BIGINT NOT NULL REFERENCES courses (id),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, external_product_id)
);

CREATE TABLE customers (
    id               BIGSERIAL PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    name             TEXT,
    document         TEXT,
    phone            TEXT,
    search_text      TEXT NOT NULL GENERATED ALWAYS AS (
        portaria_fold(email || ' ' || coalesce(name, '') || ' ' || coalesce(document, ''))
    ) STORED,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX customers_search_trgm ON customers USING gin (search_text gin_trgm_ops);
CREATE INDEX customers_email_prefix ON customers (email text_pattern_ops);
CREATE INDEX customers_document ON customers (document);
ALTER TABLE customers ALTER COLUMN search_text SET STATISTICS 1000;

CREATE TABLE orders (
    id              BIGSERIAL PRIMARY KEY,
    source          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    customer_id     BIGINT NOT NULL REFERENCES customers (id),
    course_id       BIGINT REFERENCES courses (id),
    status          TEXT NOT NULL,
    amount_cents    BIGINT,
    currency        TEXT,
    payment_method  TEXT,
    installments    INTEGER,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX orders_customer ON orders (customer_id);

CREATE TABLE enrollments (
    id          BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    course_id   BIGINT NOT NULL REFERENCES courses (id),
    order_id    BIGINT REFERENCES orders (id),
    -- active | revoked | expired
    status      TEXT NOT NULL,
    granted_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (customer_id, course_id)
);
CREATE INDEX enrollments_expiring ON enrollments (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

CREATE TABLE webhook_events (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    remote_addr  TEXT,
    -- selected request headers, secrets masked
    headers      JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- the raw body as received (lossy UTF-8), truncated to the body limit
    raw_body     TEXT NOT NULL,
    body_size    INTEGER NOT NULL,
    truncated    BOOLEAN NOT NULL DEFAULT false,
    -- processed | duplicate | ignored | invalid_json | unauthorized | payload_too_large | unprocessable
    outcome      TEXT NOT NULL,
    error        TEXT,
    dedup_key    TEXT,
    duplicate_of BIGINT REFERENCES webhook_events (id),
    event_type   TEXT,
    kind         TEXT,
    customer_id  BIGINT REFERENCES customers (id),
    order_id     BIGINT REFERENCES orders (id),
    replay_of    BIGINT REFERENCES webhook_events (id),
    latency_ms   INTEGER
);
-- The deduplication key: at most one original event per (source, business key).
CREATE UNIQUE INDEX webhook_events_dedup ON webhook_events (source, dedup_key)
    WHERE duplicate_of IS NULL AND dedup_key IS NOT NULL;
CREATE INDEX webhook_events_customer ON webhook_events (customer_id, id);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
CREATE INDEX webhook_events_outcome ON webhook_events (outcome, id);

CREATE TABLE treatments (
    id          BIGSERIAL PRIMARY KEY,
    -- grant_access | welcome_message | refused_message | payment_pending_message | payment_expired_message
    -- | revoke_access | refund_message | extend_access | canceled_message
    kind        TEXT NOT NULL,
    -- pending | running | done | dead
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until TIMESTAMPTZ,
    output      TEXT,
    last_error  TEXT,
    reason      TEXT,
    -- what the executor needs: e-mail, name, course, boleto URL / pix code, ...
    payload     JSONB NOT NULL DEFAULT '{}'::jsonb,
    event_id    BIGINT REFERENCES webhook_events (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    course_id   BIGINT REFERENCES courses (id),
    order_id    BIGINT REFERENCES orders (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at     TIMESTAMPTZ
);
CREATE INDEX treatments_due ON treatments (run_at) WHERE status IN ('pending', 'running');
CREATE INDEX treatments_customer ON treatments (customer_id, id);
CREATE INDEX treatments_event ON treatments (event_id);
CREATE INDEX treatments_status ON treatments (status, id);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT REFERENCES users (id),
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   BIGINT,
    details     JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
