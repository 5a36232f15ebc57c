-- The staff-only "diagnosis contains" filter of similar-case search: trigram indexes so a
-- substring search over the recorded and the reviewed diagnoses does not scan every case.
-- (pg_trgm is a trusted extension: the database owner may create it.)
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_diagnosis_trgm ON cases USING gin (diagnosis gin_trgm_ops);
CREATE INDEX validations_diagnosis_trgm ON validations USING gin (diagnosis gin_trgm_ops);
