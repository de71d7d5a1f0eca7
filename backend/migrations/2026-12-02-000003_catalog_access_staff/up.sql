-- Issue 10: run a course business without SQL — the catalog, manual access, staff roles and the audit.

-- Staff roles. The first account is `admin`; the ones after it sign up as `suporte`. A deactivated
-- user's tokens stop working at once: every authenticated request reads `active` and `token_version`
-- (a token carries the version it was issued under; a deactivation or a password change bumps it).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'suporte';
ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
UPDATE users SET role = 'admin' WHERE id = (SELECT min(id) FROM users);
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'suporte'));

-- The catalog: a course's access URL (used in the welcome message) and whether it is sold.
ALTER TABLE courses ADD COLUMN access_url TEXT;
ALTER TABLE courses ADD COLUMN active BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE courses ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Product mappings: (source, external product id, optional offer/plan code) → one or more courses.
-- Resolution: (product, offer) → (product, any offer: offer_code NULL) → the automatic course of
-- `product_courses` (which stays the record of every product seen, mapped or not).
CREATE TABLE product_mappings (
    id                  BIGSERIAL PRIMARY KEY,
    source              TEXT NOT NULL,
    external_product_id TEXT NOT NULL,
    offer_code          TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE product_mappings ADD CONSTRAINT product_mappings_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
CREATE UNIQUE INDEX product_mappings_key ON product_mappings (source, external_product_id, coalesce(offer_code, ''));

CREATE TABLE product_mapping_courses (
    mapping_id BIGINT NOT NULL REFERENCES product_mappings (id) ON DELETE CASCADE,
    course_id  BIGINT NOT NULL REFERENCES courses (id),
    PRIMARY KEY (mapping_id, course_id)
);
CREATE INDEX product_mapping_courses_course ON product_mapping_courses (course_id);

-- Manual actions are treatments like webhook-driven ones, with who did it and why.
ALTER TABLE treatments ADD COLUMN actor_user_id BIGINT REFERENCES users (id);
ALTER TABLE treatments ADD COLUMN staff_reason TEXT;

-- The audit: the staff member's reason and the target before and after the action.
ALTER TABLE audit_log ADD COLUMN reason TEXT;
ALTER TABLE audit_log ADD COLUMN before JSONB;
ALTER TABLE audit_log ADD COLUMN after JSONB;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('replay_event', 'retry_treatment', 'grant_access', 'extend_access', 'revoke_access', 'resend_welcome', 'import_access', 'bulk_extend', 'bulk_revoke', 'create_course', 'update_course', 'create_product_mapping', 'update_product_mapping', 'delete_product_mapping', 'update_user', 'change_password'));
ALTER TABLE audit_log ADD CONSTRAINT audit_log_target_type_check CHECK (target_type IN ('webhook_event', 'treatment', 'customer', 'course', 'product_mapping', 'user', 'import'));
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
