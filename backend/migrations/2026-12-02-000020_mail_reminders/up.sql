-- Issue 11 (e-mail): the "access ending soon" reminder is a treatment kind of its own.
ALTER TABLE treatments DROP CONSTRAINT treatments_kind_check;
ALTER TABLE treatments ADD CONSTRAINT treatments_kind_check CHECK (kind IN ('grant_access', 'welcome_message', 'refused_message', 'payment_pending_message', 'payment_expired_message', 'revoke_access', 'refund_message', 'extend_access', 'canceled_message', 'access_reminder_message'));
-- The end of access the reminder was queued for: the sweep queues one when it differs from `expires_at`, so
-- each enrollment end is reminded once, and an extension (a new `expires_at`) gets its own reminder.
ALTER TABLE enrollments ADD COLUMN reminded_for timestamptz;
-- When the sweep queued the payment-expired message of a pix / boleto left pending past its time
-- (PIX_EXPIRY_MINUTES / BOLETO_EXPIRY_HOURS): set once, so the message goes out once.
ALTER TABLE orders ADD COLUMN payment_timeout_at timestamptz;
CREATE INDEX orders_waiting_payment_idx ON orders (updated_at) WHERE status = 'waiting_payment' AND payment_timeout_at IS NULL;
