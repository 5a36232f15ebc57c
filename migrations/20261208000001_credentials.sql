-- Credentials, second round.
-- session_epoch: every session carries the epoch it was opened in; changing the password, an
--   admin's reset or disabling the account moves it on, which ends every other session at once.
-- must_change_password: set by an admin's reset; until the user picks a new password, only the
--   account page, "who am I" and logging out answer.
-- totp_secret / totp_pending / totp_last_step: two-factor sign-in (RFC 6238, 30 s steps); the
--   pending secret is the one being enrolled, the last step stops a code being used twice.
ALTER TABLE users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_pending text;
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;

-- One-time recovery codes for a lost authenticator: only their SHA-256 is kept.
CREATE TABLE recovery_codes (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_sha256 text NOT NULL,
    used_at timestamptz
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id) WHERE used_at IS NULL;
