-- Lab results are the third search modality: a new report (its values come in the same
-- transaction) or a doctor's correction of a value changes the case's lab profile.
CREATE TRIGGER lab_reports_search_change AFTER INSERT OR DELETE ON lab_reports
    FOR EACH ROW EXECUTE FUNCTION precedent_search_change();

CREATE FUNCTION precedent_lab_correction_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_changes (case_id) SELECT case_id FROM lab_values WHERE id = NEW.value_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER lab_value_corrections_search_change AFTER INSERT ON lab_value_corrections
    FOR EACH ROW EXECUTE FUNCTION precedent_lab_correction_change();
