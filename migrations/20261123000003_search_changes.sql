-- The similarity indexes are derived from Postgres. Every change that matters to them (a case's
-- vectors, its images, its validation status, its filter fields) appends the case id to this log;
-- an index remembers the last change it applied and replays the rest.
CREATE TABLE search_changes (
    id      BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL,           -- no foreign key: deleted cases are changes too
    at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION precedent_search_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_ RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN row_ := OLD; ELSE row_ := NEW; END IF;
    -- (plpgsql resolves every field a statement names, so each table gets its own branch)
    IF TG_TABLE_NAME = 'cases' THEN
        INSERT INTO search_changes (case_id) VALUES (row_.id);
    ELSE
        INSERT INTO search_changes (case_id) VALUES (row_.case_id);
    END IF;
    RETURN row_;
END
$$;

CREATE TRIGGER text_vectors_search_change AFTER INSERT OR UPDATE OR DELETE ON text_vectors
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();
CREATE TRIGGER image_vectors_search_change AFTER INSERT OR UPDATE OR DELETE ON image_vectors
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();
CREATE TRIGGER case_images_search_change AFTER DELETE ON case_images
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();
CREATE TRIGGER validations_search_change AFTER INSERT ON validations
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();
CREATE TRIGGER cases_search_change AFTER UPDATE OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();

-- Which encoder each modality's index uses (set by `precedent reindex`; the manifest's
-- defaults until then).
CREATE TABLE search_settings (
    channel TEXT PRIMARY KEY CHECK (channel IN ('text', 'image')),
    model   TEXT NOT NULL,
    set_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
