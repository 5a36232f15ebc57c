-- Case-library imports started from the admin page: progress while they run, the outcome
-- (imported, already present, refused rows with reasons) once they end.
CREATE TABLE imports (
    id               BIGSERIAL PRIMARY KEY,
    admin_id         BIGINT NOT NULL REFERENCES users (id),
    filename         TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    phase            TEXT NOT NULL DEFAULT 'unpacking',
    total            INTEGER NOT NULL DEFAULT 0,
    done             INTEGER NOT NULL DEFAULT 0,
    imported         INTEGER NOT NULL DEFAULT 0,
    already_present  INTEGER NOT NULL DEFAULT 0,
    refused          JSONB NOT NULL DEFAULT '[]',
    error            TEXT,
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ
);
