-- Doctors mark similar-case hits as relevant or not: an evaluation set from real use
-- (`precedent eval --judged`). One current judgement per doctor, query case and hit.
CREATE TABLE relevance_judgements (
    query_case  BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    hit_case    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    judge_id    BIGINT NOT NULL REFERENCES users (id),
    relevant    BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (query_case, hit_case, judge_id),
    CHECK (query_case <> hit_case)
);
CREATE INDEX relevance_judgements_query ON relevance_judgements (query_case);
