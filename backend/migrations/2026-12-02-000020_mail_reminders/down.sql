DROP INDEX orders_waiting_payment_idx;
ALTER TABLE orders DROP COLUMN payment_timeout_at;
ALTER TABLE enrollments DROP COLUMN reminded_for;
DELETE FROM treatments WHERE kind = 'access_reminder_message';
ALTER TABLE treatments DROP CONSTRAINT treatments_kind_check;
ALTER TABLE treatments ADD CONSTRAINT treatments_kind_check CHECK (kind IN ('grant_access', 'welcome_message', 'refused_message', 'payment_pending_message', 'payment_expired_message', 'revoke_access', 'refund_message', 'extend_access', 'canceled_message'));
