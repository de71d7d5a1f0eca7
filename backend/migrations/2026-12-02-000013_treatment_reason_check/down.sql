ALTER TABLE treatments DROP CONSTRAINT treatments_reason_check;
