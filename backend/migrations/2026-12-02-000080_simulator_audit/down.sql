DELETE FROM audit_log WHERE action = 'run_simulator';
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('replay_event', 'retry_treatment', 'grant_access', 'extend_access', 'revoke_access', 'resend_welcome', 'import_access', 'bulk_extend', 'bulk_revoke', 'create_course', 'update_course', 'create_product_mapping', 'update_product_mapping', 'delete_product_mapping', 'update_user', 'change_password'));
