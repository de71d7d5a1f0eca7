-- A treatment's reason is a vocabulary (`TreatmentReason` in backend/src/treatments/rules.rs): the reasons of
-- the rules and of the expiry sweep, and `manual` (a staff action), `import` (a CSV import) and `bulk` (a bulk
-- course action). NULL passes the CHECK: a treatment may have no reason.
-- Reasons written as English sentences before they became codes get their code; any other text (none was
-- ever written by Portaria) becomes NULL rather than stop the migration.
UPDATE treatments SET reason = CASE reason
    WHEN 'payment approved' THEN 'payment_approved'
    WHEN 'subscription renewed' THEN 'subscription_renewed'
    WHEN 'payment refused' THEN 'payment_refused'
    WHEN 'awaiting payment' THEN 'awaiting_payment'
    WHEN 'payment expired' THEN 'payment_expired'
    WHEN 'purchase canceled' THEN 'purchase_canceled'
    WHEN 'subscription canceled: access ends with the paid period' THEN 'subscription_canceled_end_of_period'
    WHEN 'subscription canceled' THEN 'subscription_canceled'
    WHEN 'payment refunded' THEN 'payment_refunded'
    END
  WHERE reason NOT IN ('payment_approved', 'repurchase', 'subscription_renewed', 'payment_refunded', 'chargeback', 'payment_refused', 'awaiting_payment', 'payment_expired', 'purchase_canceled', 'subscription_canceled_end_of_period', 'subscription_canceled', 'expired', 'manual', 'import', 'bulk');
ALTER TABLE treatments ADD CONSTRAINT treatments_reason_check CHECK (reason IN ('payment_approved', 'repurchase', 'subscription_renewed', 'payment_refunded', 'chargeback', 'payment_refused', 'awaiting_payment', 'payment_expired', 'purchase_canceled', 'subscription_canceled_end_of_period', 'subscription_canceled', 'expired', 'manual', 'import', 'bulk'));
