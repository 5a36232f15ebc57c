-- Who an account belongs to: a person, or the system (the log-in-less owner of imported
-- libraries, the demo accounts). System accounts are found by kind, never by e-mail, and
-- their addresses are reserved (sign-up and admins refuse them).
ALTER TABLE users ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'library', 'demo'));

-- The accounts the system made before kinds existed. The library owner was created without a
-- usable password ('!'); an account holding that address with a real password signed up as it
-- and stays a person.
UPDATE users SET kind = 'library' WHERE lower(email) = 'library@precedent.internal' AND password_hash = '!';
UPDATE users SET kind = 'demo'
 WHERE lower(email) IN ('patient@demo.precedent', 'patient2@demo.precedent', 'doctor@demo.precedent', 'admin@demo.precedent');

-- At most one library owner.
CREATE UNIQUE INDEX users_one_library ON users (kind) WHERE kind = 'library';
