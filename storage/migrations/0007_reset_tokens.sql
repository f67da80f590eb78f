-- Issue #14, argon2id and reset tokens as levers for attackers.

-- A password reset token stops working once the password it would replace changes, or the address
-- it was sent to is no longer the account's: ChangePassword and an email change void them.
CREATE OR REPLACE FUNCTION usersvc_change_password(p_user uuid, p_old_hash text, p_new_hash text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  target users := usersvc_lock_user(p_user);
BEGIN
  IF target.password_hash <> p_old_hash THEN
    PERFORM usersvc_raise('U0409', 'the password changed concurrently, retry');
  END IF;
  UPDATE users SET password_hash = p_new_hash, version = version + 1, updated_at = now()
  WHERE id = p_user;
  UPDATE user_tokens SET used_at = now()
  WHERE user_id = p_user AND purpose = 'password_reset' AND used_at IS NULL;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.password_changed', p_user, '{}'::jsonb);
END $$;

CREATE OR REPLACE FUNCTION usersvc_update_user(p_user uuid, p_mask text[], p_email text, p_username text,
                                    p_first_name text, p_last_name text, p_phone text,
                                    p_role smallint, p_expected_version bigint)
RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  current_user_row users := usersvc_lock_user(p_user);
  updated users;
  changed text[] := '{}';
BEGIN
  IF p_expected_version <> 0 AND current_user_row.version <> p_expected_version THEN
    PERFORM usersvc_raise('U0409', 'expected_version: the user has changed since');
  END IF;
  IF 'email' = ANY (p_mask) AND p_email IS DISTINCT FROM current_user_row.email THEN
    changed := changed || 'email'::text;
  END IF;
  IF 'username' = ANY (p_mask) AND p_username IS DISTINCT FROM current_user_row.username THEN
    changed := changed || 'username'::text;
  END IF;
  IF 'first_name' = ANY (p_mask) AND p_first_name IS DISTINCT FROM current_user_row.first_name THEN
    changed := changed || 'first_name'::text;
  END IF;
  IF 'last_name' = ANY (p_mask) AND p_last_name IS DISTINCT FROM current_user_row.last_name THEN
    changed := changed || 'last_name'::text;
  END IF;
  IF 'phone_number' = ANY (p_mask) AND p_phone IS DISTINCT FROM current_user_row.phone_number THEN
    changed := changed || 'phone_number'::text;
  END IF;
  IF 'role' = ANY (p_mask) AND p_role IS DISTINCT FROM current_user_row.role THEN
    changed := changed || 'role'::text;
  END IF;
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_user_row;
    RETURN;
  END IF;

  UPDATE users SET
    email = CASE WHEN 'email' = ANY (changed) THEN p_email ELSE email END,
    username = CASE WHEN 'username' = ANY (changed) THEN p_username ELSE username END,
    first_name = CASE WHEN 'first_name' = ANY (changed) THEN p_first_name ELSE first_name END,
    last_name = CASE WHEN 'last_name' = ANY (changed) THEN p_last_name ELSE last_name END,
    phone_number = CASE WHEN 'phone_number' = ANY (changed) THEN p_phone ELSE phone_number END,
    role = CASE WHEN 'role' = ANY (changed) THEN p_role ELSE role END,
    is_email_verified = is_email_verified AND NOT ('email' = ANY (changed)),
    version = version + 1,
    updated_at = now()
  WHERE id = p_user
  RETURNING * INTO updated;
  IF 'email' = ANY (changed) THEN
    -- Every outstanding token went to the old address: verification and password reset alike.
    UPDATE user_tokens SET used_at = now()
    WHERE user_id = p_user AND used_at IS NULL;
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.updated', p_user, jsonb_build_object('changed', to_jsonb(changed)));
  RETURN NEXT updated;
END $$;

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
