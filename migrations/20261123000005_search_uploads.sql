-- Images uploaded to the advanced search page. A search URL names them by token, so a search
-- can be bookmarked and shared for as long as the upload lives (an hour); only the uploader
-- can use or see them. Expired rows are deleted whenever a new image is uploaded.
CREATE TABLE search_uploads (
    token       TEXT PRIMARY KEY,
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename    TEXT NOT NULL,
    image       BYTEA NOT NULL,
    thumb_jpeg  BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX search_uploads_expiry ON search_uploads (expires_at);
