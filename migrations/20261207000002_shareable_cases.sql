-- Which cases patients may meet as similar cases. A patient's similar-case and search results
-- come only from their own cases and from library cases a teaching library explicitly marked
-- shareable (an import flag); never from another patient's case. Only cases owned by the
-- library account can be shareable, and the database refuses anything else.
ALTER TABLE cases ADD COLUMN shareable boolean NOT NULL DEFAULT false;

CREATE FUNCTION precedent_shareable_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.shareable AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.owner_id AND u.kind = 'library') THEN
        RAISE EXCEPTION 'only library cases can be shareable (case owner %)', NEW.owner_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER cases_shareable_check BEFORE INSERT OR UPDATE OF shareable, owner_id ON cases
    FOR EACH ROW EXECUTE FUNCTION precedent_shareable_check();

-- An admin's import records whether the library was shared with patients.
ALTER TABLE imports ADD COLUMN shareable boolean NOT NULL DEFAULT false;
