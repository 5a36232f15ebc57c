-- Structured lab values read from the reports' text (crates/labs), each with the line it came
-- from; doctors' corrections are appended beside them (the value as read stays).
ALTER TABLE lab_reports ADD COLUMN collected_on DATE;

CREATE TABLE lab_values (
    id               BIGSERIAL PRIMARY KEY,
    report_id        BIGINT NOT NULL REFERENCES lab_reports (id) ON DELETE CASCADE,
    case_id          BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    analyte          TEXT NOT NULL,
    analyte_id       TEXT,
    printed_name     TEXT NOT NULL,
    loinc            TEXT,
    value            DOUBLE PRECISION,
    qualifier        TEXT CHECK (qualifier IN ('<', '<=', '>', '>=')),
    text_value       TEXT,
    unit             TEXT,
    low              DOUBLE PRECISION,
    high             DOUBLE PRECISION,
    range_text       TEXT,
    flag             TEXT CHECK (flag IN ('low', 'high', 'critical_low', 'critical_high', 'abnormal')),
    flag_printed     BOOLEAN NOT NULL DEFAULT FALSE,
    canonical_value  DOUBLE PRECISION,
    canonical_unit   TEXT,
    canonical_low    DOUBLE PRECISION,
    canonical_high   DOUBLE PRECISION,
    panel            TEXT,
    raw              TEXT NOT NULL,
    CHECK (value IS NOT NULL OR text_value IS NOT NULL)
);
CREATE INDEX lab_values_case ON lab_values (case_id);
CREATE INDEX lab_values_report ON lab_values (report_id, position);

CREATE TABLE lab_value_corrections (
    id               BIGSERIAL PRIMARY KEY,
    value_id         BIGINT NOT NULL REFERENCES lab_values (id) ON DELETE CASCADE,
    author_id        BIGINT NOT NULL REFERENCES users (id),
    value            DOUBLE PRECISION,
    qualifier        TEXT CHECK (qualifier IN ('<', '<=', '>', '>=')),
    text_value       TEXT,
    unit             TEXT,
    flag             TEXT CHECK (flag IN ('low', 'high', 'critical_low', 'critical_high', 'abnormal')),
    canonical_value  DOUBLE PRECISION,
    note             TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (value IS NOT NULL OR text_value IS NOT NULL)
);
CREATE INDEX lab_value_corrections_value ON lab_value_corrections (value_id, created_at DESC, id DESC);
CREATE TRIGGER lab_value_corrections_append_only BEFORE UPDATE OR DELETE ON lab_value_corrections
    FOR EACH ROW EXECUTE FUNCTION precedent_forbid_change();
