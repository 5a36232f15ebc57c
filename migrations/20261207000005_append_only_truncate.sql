-- Append-only tables refuse TRUNCATE too (row triggers do not fire on it): the audit log, the
-- review history and the case reports.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION precedent_forbid_change();
CREATE TRIGGER validations_no_truncate BEFORE TRUNCATE ON validations
    FOR EACH STATEMENT EXECUTE FUNCTION precedent_forbid_change();
CREATE TRIGGER case_reports_no_truncate BEFORE TRUNCATE ON case_reports
    FOR EACH STATEMENT EXECUTE FUNCTION precedent_forbid_change();
