-- An advanced search's query (free text, lab values: patient data) is kept here under an opaque
-- id instead of in the page's URL, where browser history, proxies' and servers' logs and the
-- Referer header would carry it. Only the user who ran it may open it; kept 30 days.
CREATE TABLE saved_searches (
    id uuid PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_searches_created ON saved_searches (created_at);
