-- Embedding pipeline: a job per case change, and the vectors each encoder produced.

CREATE TABLE embedding_jobs (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    run_after   TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX embedding_jobs_queue ON embedding_jobs (run_after, id) WHERE state = 'pending';
CREATE INDEX embedding_jobs_case ON embedding_jobs (case_id) WHERE state IN ('pending', 'running');

-- One vector per case text field and model. `field`: 'presenting' (history + exam: what a new
-- case knows) or 'full' (everything the case says, for library matching).
CREATE TABLE text_vectors (
    case_id     BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (field IN ('presenting', 'full')),
    model       TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector      REAL[] NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, field, model)
);

CREATE TABLE image_vectors (
    image_id    BIGINT NOT NULL REFERENCES case_images (id) ON DELETE CASCADE,
    case_id     BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    model       TEXT NOT NULL,
    vector      REAL[] NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, model)
);
CREATE INDEX image_vectors_case ON image_vectors (case_id);
