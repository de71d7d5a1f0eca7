-- One list per vocabulary: each TEXT column that holds a vocabulary accepts only its values, the same
-- list as the Rust enum declared with `vocabulary!` (backend/src/vocabulary.rs; a unit test compares them).
-- `webhook_events.source` is not constrained: it records the URL's `{source}` as called, known or not.
-- NULL passes a CHECK, so the nullable `kind` and `note` stay optional.
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_outcome_check CHECK (outcome IN ('processed', 'duplicate', 'ignored', 'unauthorized', 'invalid_json', 'unprocessable', 'payload_too_large', 'unknown_source', 'request_timeout', 'error'));
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_kind_check CHECK (kind IN ('approved', 'refused', 'refunded', 'chargeback', 'waiting_payment', 'expired', 'canceled', 'subscription_canceled', 'renewed', 'ignored'));
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_note_check CHECK (note IN ('approval_after_reversal', 'order_already_approved', 'access_already_active', 'access_renewed', 'renewal_after_reversal', 'no_active_access_to_end', 'not_acted_upon', 'order_already_reversed', 'refund_before_approval', 'access_not_active', 'no_access_to_revoke', 'order_already_paid', 'order_already_in_state', 'already_received', 'purchase_complete', 'dispute_opened', 'payment_late', 'cart_abandoned', 'subscription_changed', 'members_area_activity', 'shipping_event'));
ALTER TABLE orders ADD CONSTRAINT orders_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('new', 'waiting_payment', 'approved', 'refused', 'refunded', 'chargeback', 'expired', 'canceled'));
ALTER TABLE product_courses ADD CONSTRAINT product_courses_source_check CHECK (source IN ('hashtag', 'hotmart', 'kiwify', 'generic'));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_status_check CHECK (status IN ('active', 'revoked', 'expired'));
ALTER TABLE treatments ADD CONSTRAINT treatments_kind_check CHECK (kind IN ('grant_access', 'welcome_message', 'refused_message', 'payment_pending_message', 'payment_expired_message', 'revoke_access', 'refund_message', 'extend_access', 'canceled_message'));
ALTER TABLE treatments ADD CONSTRAINT treatments_status_check CHECK (status IN ('pending', 'running', 'done', 'dead', 'canceled'));
