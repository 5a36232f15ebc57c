-- The case report a doctor writes from the suggestions and releases to the patient. Every save
-- is a new version (append-only, like validations); the patient sees the latest released one.
CREATE TABLE case_reports (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    author_id   BIGINT NOT NULL REFERENCES users (id),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'released')),
    diagnoses   TEXT NOT NULL DEFAULT '',      -- one per line, most likely first
    next_tests  TEXT NOT NULL DEFAULT '',      -- one per line
    specialist  TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',      -- in words for the patient
    -- What the doctor did with each suggestion: [{"kind","suggested","decision"}], decision one
    -- of accepted / rejected / added (a line the doctor wrote that was not suggested).
    decisions   JSONB NOT NULL DEFAULT '[]',
    -- The evidence cases of the suggestions at the time (ids), for provenance.
    evidence    BIGINT[] NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_reports_case ON case_reports (case_id, created_at DESC, id DESC);
CREATE TRIGGER case_reports_append_only BEFORE UPDATE OR DELETE ON case_reports
    FOR EACH ROW EXECUTE FUNCTION precedent_forbid_change();
