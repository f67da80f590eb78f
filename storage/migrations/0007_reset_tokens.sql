-- Issue #14, argon2id and reset tokens as levers for attackers.

-- A password reset token stops working once the password it would replace changes, or the address
-- it was sent to is no longer the account's; every other token dies with the address too. One
-- trigger on users does it for every writer (ChangePassword, ResetPassword, UpdateUser), rather
-- than each function being rewritten here.
CREATE FUNCTION usersvc_void_tokens_on_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS DISTINCT FROM OLD.email THEN
    UPDATE user_tokens SET used_at = now() WHERE user_id = NEW.id AND used_at IS NULL;
  ELSIF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
    UPDATE user_tokens SET used_at = now()
    WHERE user_id = NEW.id AND purpose = 'password_reset' AND used_at IS NULL;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER users_void_tokens AFTER UPDATE OF email, password_hash ON users
FOR EACH ROW EXECUTE FUNCTION usersvc_void_tokens_on_change();

-- RequestPasswordReset answers the same whether or not an account has the email; it must also
-- take the same time. Without this table an unknown address ran a read-only transaction, whose
-- commit waits for no WAL flush, and a known one wrote rows and waited: a timing oracle for who
-- has an account. Every request now writes one row here first (and the log serves operators
-- looking into floods of reset requests). Addresses are kept as digests keyed with a random salt
-- made once per database, so the log alone does not confirm a guessed address (whoever can read
-- the salt can read the users table as well). Rows older than a day are purged.
CREATE TABLE password_reset_salt (salt bytea NOT NULL);
INSERT INTO password_reset_salt
SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp(),
                         'UTF8'));

CREATE FUNCTION usersvc_reset_request_digest(p_email text) RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT sha256((SELECT salt FROM password_reset_salt) || convert_to(p_email, 'UTF8'))
$$;

CREATE TABLE password_reset_requests (
  email_digest bytea       NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_requested_at_idx ON password_reset_requests (requested_at);

CREATE OR REPLACE FUNCTION usersvc_issue_password_reset(p_email text, p_token_hash bytea,
                                                        p_token text, p_ttl interval)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  target users;
  expires timestamptz := now() + p_ttl;
BEGIN
  INSERT INTO password_reset_requests (email_digest) VALUES (usersvc_reset_request_digest(p_email));
  SELECT * INTO target FROM users WHERE email = p_email AND is_active;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)
  VALUES (p_token_hash, target.id, 'password_reset', target.email, expires);
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.password_reset_requested', target.id,
          jsonb_build_object('email', target.email, 'token', p_token,
                             'expires_at', usersvc_rfc3339(expires)));
END $$;
