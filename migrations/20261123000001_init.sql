-- Precedent: the walking-skeleton schema. Postgres is the source of truth for everything;
-- image and PDF bytes live in a content-addressed file store named by the sha256 columns.

CREATE FUNCTION precedent_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('patient', 'doctor', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE cases (
    id           BIGSERIAL PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id),
    title        TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    history      TEXT NOT NULL DEFAULT '',   -- presenting complaint, history, symptoms
    exam         TEXT NOT NULL DEFAULT '',
    findings     TEXT NOT NULL DEFAULT '',
    diagnosis    TEXT,                       -- recorded diagnosis (e.g. from an imported library)
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed', 'closed')),
    age_years    INTEGER CHECK (age_years BETWEEN 0 AND 130),
    sex          TEXT CHECK (sex IN ('F', 'M', 'X')),
    body_region  TEXT,
    source       TEXT NOT NULL DEFAULT 'upload',
    external_ref TEXT,                       -- id in an imported library, for idempotent imports
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cases_source_external_ref ON cases (source, external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX cases_owner_created ON cases (owner_id, created_at DESC, id DESC);
CREATE INDEX cases_created ON cases (created_at DESC, id DESC);

CREATE TABLE case_images (
    id           BIGSERIAL PRIMARY KEY,
    case_id      BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    mime         TEXT NOT NULL CHECK (mime IN ('image/png', 'image/jpeg')),
    sha256       TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    byte_size    BIGINT NOT NULL CHECK (byte_size > 0),
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    modality     TEXT NOT NULL DEFAULT 'other' CHECK (modality IN ('xray', 'ct', 'mr', 'other')),
    plane        TEXT,
    caption      TEXT,
    thumb_sha256 TEXT NOT NULL CHECK (thumb_sha256 ~ '^[0-9a-f]{64}$'),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (case_id, position)
);

CREATE TABLE lab_reports (
    id             BIGSERIAL PRIMARY KEY,
    case_id        BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    sha256         TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    byte_size      BIGINT NOT NULL CHECK (byte_size > 0),
    -- extracted: text found; no_text: no text layer (e.g. a scan); failed: unreadable (see extract_error)
    text_status    TEXT NOT NULL CHECK (text_status IN ('extracted', 'no_text', 'failed')),
    extracted_text TEXT NOT NULL DEFAULT '',
    extract_error  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lab_reports_case ON lab_reports (case_id);

-- Doctor validations: append-only history; the newest row is the case's current diagnosis.
CREATE TABLE validations (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    author_id   BIGINT NOT NULL REFERENCES users (id),
    action      TEXT NOT NULL CHECK (action IN ('validate', 'correct')),
    diagnosis   TEXT NOT NULL,
    certainty   TEXT NOT NULL CHECK (certainty IN ('possible', 'probable', 'certain')),
    notes       TEXT NOT NULL DEFAULT '',
    next_tests  TEXT NOT NULL DEFAULT '',
    specialist  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX validations_case ON validations (case_id, created_at DESC, id DESC);
CREATE TRIGGER validations_append_only BEFORE UPDATE OR DELETE ON validations
    FOR EACH ROW EXECUTE FUNCTION precedent_forbid_change();

-- Audit log: who did what to which object, when and from where. Append-only.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id    BIGINT REFERENCES users (id),
    actor_role  TEXT,
    action      TEXT NOT NULL,
    object_kind TEXT,
    object_id   BIGINT,
    ip          TEXT,
    outcome     TEXT NOT NULL DEFAULT 'ok',
    detail      JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_object ON audit_log (object_kind, object_id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION precedent_forbid_change();
