-- A library's labels of each imported case (location, topic, disease class, what confirmed the
-- diagnosis, …: `labels` of the import format), kept so decision support can vote with them.
ALTER TABLE cases ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
