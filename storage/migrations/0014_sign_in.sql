-- Issue #18: VerifyPassword's count of attempts, and the re-hash of imported Django passwords.

-- Sign-in attempts that were not (yet) the right password, per address, whether or not an
-- account has it: a lockout that only known accounts got would tell an attacker which addresses
-- have one. Kept under the salted digest of 0007, never the address. An attempt is counted before
-- its password is checked (usersvc_claim_sign_in), so that guesses sent all at once cannot get
-- past the limit while their hashes are being computed; the right password deletes the row
-- (usersvc_sign_in_succeeded). Rows whose window has passed are purged.
CREATE TABLE sign_in_attempts (
  email_digest      bytea       PRIMARY KEY,
  attempts          integer     NOT NULL,
  window_started_at timestamptz NOT NULL
);

-- Counts one attempt for p_email: 0 when its password may be checked (one of the first 5 in the
-- 15 minutes since the first), else the milliseconds until the window ends (nothing is counted
-- past the sixth, so a locked address costs one row update per attempt, never a hash).
CREATE FUNCTION usersvc_claim_sign_in(p_email text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  window_length constant interval := interval '15 minutes';
  counted integer;
  started timestamptz;
BEGIN
  INSERT INTO sign_in_attempts AS a VALUES (usersvc_reset_request_digest(p_email), 1, now())
  ON CONFLICT (email_digest) DO UPDATE SET
    attempts = CASE WHEN a.window_started_at <= now() - window_length THEN 1
                    ELSE least(a.attempts + 1, 6) END,
    window_started_at = CASE WHEN a.window_started_at <= now() - window_length THEN now()
                             ELSE a.window_started_at END
  RETURNING a.attempts, a.window_started_at INTO counted, started;
  IF counted <= 5 THEN
    RETURN 0;
  END IF;
  RETURN greatest(1, ceil(extract(epoch FROM started + window_length - now()) * 1000))::bigint;
END $$;

-- The right password: the count starts again, and a hash that should be replaced (p_new_hash not
-- NULL) is, but only if it is still the one that was checked (a password change in between wins).
-- A re-hash is not a new password: it keeps the version, updated_at and the reset tokens.
CREATE FUNCTION usersvc_sign_in_succeeded(p_email text, p_user uuid, p_checked_hash text,
                                          p_new_hash text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sign_in_attempts WHERE email_digest = usersvc_reset_request_digest(p_email);
  IF p_new_hash IS NOT NULL THEN
    PERFORM set_config('usersvc.rehashing', 'on', true);
    UPDATE users SET password_hash = p_new_hash
    WHERE id = p_user AND password_hash = p_checked_hash;
    PERFORM set_config('usersvc.rehashing', 'off', true);
  END IF;
END $$;

-- 0007's trigger, with the re-hash left out: the password it would replace is unchanged.
CREATE OR REPLACE FUNCTION usersvc_void_tokens_on_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS DISTINCT FROM OLD.email THEN
    UPDATE user_tokens SET used_at = now() WHERE user_id = NEW.id AND used_at IS NULL;
  ELSIF NEW.password_hash IS DISTINCT FROM OLD.password_hash
        AND current_setting('usersvc.rehashing', true) IS DISTINCT FROM 'on' THEN
    UPDATE user_tokens SET used_at = now()
    WHERE user_id = NEW.id AND purpose = 'password_reset' AND used_at IS NULL;
  END IF;
  RETURN NULL;
END $$;
