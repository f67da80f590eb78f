-- Addresses, preferences and single-use tokens, plus the functions that change them.
--
-- Every change runs as one function call: it locks the user's row first, so concurrent calls for
-- one user are serialised, and each statement inside a (volatile) function sees the rows the
-- previous lock holder committed. Each writes its outbox row in the same transaction, and only
-- when something changed. Outcomes that are not rows are raised with SQLSTATEs of class U0, whose
-- messages are written for clients (storage/sqlstate.cc):
--   U0400 invalid argument, U0404 not found, U0409 aborted, U0412 failed precondition.

CREATE TABLE addresses (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type           smallint    NOT NULL,
  label          text        NOT NULL DEFAULT '',
  recipient_name text        NOT NULL,
  line1          text        NOT NULL,
  line2          text        NOT NULL DEFAULT '',
  city           text        NOT NULL,
  region         text        NOT NULL DEFAULT '',
  postal_code    text        NOT NULL DEFAULT '',
  country_code   text        NOT NULL,
  phone_number   text        NOT NULL DEFAULT '',
  is_default     boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX addresses_user_idx ON addresses (user_id, type, created_at DESC);
-- At most one default address per user and type, whatever the code above does.
CREATE UNIQUE INDEX addresses_one_default_key ON addresses (user_id, type) WHERE is_default;

CREATE TABLE user_preferences (
  user_id             uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  language            text        NOT NULL,
  currency            text        NOT NULL,
  timezone            text        NOT NULL,
  email_notifications boolean     NOT NULL,
  sms_notifications   boolean     NOT NULL,
  marketing_emails    boolean     NOT NULL,
  theme               smallint    NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each token is kept; the raw token exists in its outbox event alone.
CREATE TABLE user_tokens (
  token_hash bytea       PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose    text        NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
  email      text        NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose) WHERE used_at IS NULL;

CREATE FUNCTION usersvc_raise(code text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END $$;

CREATE FUNCTION usersvc_lock_user(p_user uuid) RETURNS users
LANGUAGE plpgsql AS $$
DECLARE
  found_user users;
BEGIN
  SELECT * INTO found_user FROM users WHERE id = p_user FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM usersvc_raise('U0404', 'user not found');
  END IF;
  RETURN found_user;
END $$;

CREATE FUNCTION usersvc_rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- UpdateUser: the fields named in p_mask take the new values. Email changes clear verification
-- and void outstanding verification tokens.
CREATE FUNCTION usersvc_update_user(p_user uuid, p_mask text[], p_email text, p_username text,
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
    UPDATE user_tokens SET used_at = now()
    WHERE user_id = p_user AND purpose = 'email_verification' AND used_at IS NULL;
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.updated', p_user, jsonb_build_object('changed', to_jsonb(changed)));
  RETURN NEXT updated;
END $$;

-- DeactivateUser (p_active false) and ReactivateUser (true): an event only when the state changes.
CREATE FUNCTION usersvc_set_user_active(p_user uuid, p_active boolean, p_reason text)
RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  current_user_row users := usersvc_lock_user(p_user);
  updated users;
BEGIN
  IF current_user_row.is_active = p_active THEN
    RETURN NEXT current_user_row;
    RETURN;
  END IF;
  UPDATE users SET
    is_active = p_active,
    deactivated_at = CASE WHEN p_active THEN NULL ELSE now() END,
    deactivation_reason = CASE WHEN p_active THEN '' ELSE p_reason END,
    version = version + 1,
    updated_at = now()
  WHERE id = p_user
  RETURNING * INTO updated;
  IF p_active THEN
    INSERT INTO user_events (event_type, user_id, payload)
    VALUES ('user.reactivated', p_user, '{}'::jsonb);
  ELSE
    INSERT INTO user_events (event_type, user_id, payload)
    VALUES ('user.deactivated', p_user, jsonb_build_object('reason', p_reason));
  END IF;
  RETURN NEXT updated;
END $$;

-- The newest remaining address of a type becomes its default when it has none.
CREATE FUNCTION usersvc_ensure_default(p_user uuid, p_type smallint) RETURNS void
LANGUAGE sql AS $$
  UPDATE addresses SET is_default = true, updated_at = clock_timestamp()
  WHERE id = (SELECT id FROM addresses WHERE user_id = p_user AND type = p_type
              ORDER BY created_at DESC, id DESC LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM addresses
                    WHERE user_id = p_user AND type = p_type AND is_default)
$$;

CREATE FUNCTION usersvc_add_address(p_user uuid, p_type smallint, p_label text,
                                    p_recipient_name text, p_line1 text, p_line2 text,
                                    p_city text, p_region text, p_postal_code text,
                                    p_country_code text, p_phone text)
RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  added addresses;
BEGIN
  PERFORM usersvc_lock_user(p_user);
  IF (SELECT count(*) FROM addresses WHERE user_id = p_user) >= 20 THEN
    PERFORM usersvc_raise('U0412', 'a user has at most 20 addresses');
  END IF;
  INSERT INTO addresses (user_id, type, label, recipient_name, line1, line2, city, region,
                         postal_code, country_code, phone_number, is_default)
  VALUES (p_user, p_type, p_label, p_recipient_name, p_line1, p_line2, p_city, p_region,
          p_postal_code, p_country_code, p_phone,
          NOT EXISTS (SELECT 1 FROM addresses
                      WHERE user_id = p_user AND type = p_type AND is_default))
  RETURNING * INTO added;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.address_added', p_user, jsonb_build_object('address_id', added.id));
  RETURN NEXT added;
END $$;

CREATE FUNCTION usersvc_lock_address(p_user uuid, p_address uuid) RETURNS addresses
LANGUAGE plpgsql AS $$
DECLARE
  found_address addresses;
BEGIN
  PERFORM usersvc_lock_user(p_user);
  SELECT * INTO found_address FROM addresses WHERE id = p_address AND user_id = p_user;
  IF NOT FOUND THEN
    PERFORM usersvc_raise('U0404', 'address not found');
  END IF;
  RETURN found_address;
END $$;

CREATE FUNCTION usersvc_update_address(p_user uuid, p_address uuid, p_mask text[], p_type smallint,
                                       p_label text, p_recipient_name text, p_line1 text,
                                       p_line2 text, p_city text, p_region text,
                                       p_postal_code text, p_country_code text, p_phone text)
RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  current_address addresses := usersvc_lock_address(p_user, p_address);
  updated addresses;
  changed text[] := '{}';
  moves boolean;
BEGIN
  IF 'type' = ANY (p_mask) AND p_type IS DISTINCT FROM current_address.type THEN
    changed := changed || 'type'::text; END IF;
  IF 'label' = ANY (p_mask) AND p_label IS DISTINCT FROM current_address.label THEN
    changed := changed || 'label'::text; END IF;
  IF 'recipient_name' = ANY (p_mask) AND p_recipient_name IS DISTINCT FROM current_address.recipient_name THEN
    changed := changed || 'recipient_name'::text; END IF;
  IF 'line1' = ANY (p_mask) AND p_line1 IS DISTINCT FROM current_address.line1 THEN
    changed := changed || 'line1'::text; END IF;
  IF 'line2' = ANY (p_mask) AND p_line2 IS DISTINCT FROM current_address.line2 THEN
    changed := changed || 'line2'::text; END IF;
  IF 'city' = ANY (p_mask) AND p_city IS DISTINCT FROM current_address.city THEN
    changed := changed || 'city'::text; END IF;
  IF 'region' = ANY (p_mask) AND p_region IS DISTINCT FROM current_address.region THEN
    changed := changed || 'region'::text; END IF;
  IF 'postal_code' = ANY (p_mask) AND p_postal_code IS DISTINCT FROM current_address.postal_code THEN
    changed := changed || 'postal_code'::text; END IF;
  IF 'country_code' = ANY (p_mask) AND p_country_code IS DISTINCT FROM current_address.country_code THEN
    changed := changed || 'country_code'::text; END IF;
  IF 'phone_number' = ANY (p_mask) AND p_phone IS DISTINCT FROM current_address.phone_number THEN
    changed := changed || 'phone_number'::text; END IF;
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_address;
    RETURN;
  END IF;

  -- A default that moves to another type leaves its old type to the newest remaining address,
  -- and is the new type's default only if that type has none.
  moves := 'type' = ANY (changed);
  UPDATE addresses SET
    type = CASE WHEN moves THEN p_type ELSE type END,
    label = CASE WHEN 'label' = ANY (changed) THEN p_label ELSE label END,
    recipient_name = CASE WHEN 'recipient_name' = ANY (changed) THEN p_recipient_name ELSE recipient_name END,
    line1 = CASE WHEN 'line1' = ANY (changed) THEN p_line1 ELSE line1 END,
    line2 = CASE WHEN 'line2' = ANY (changed) THEN p_line2 ELSE line2 END,
    city = CASE WHEN 'city' = ANY (changed) THEN p_city ELSE city END,
    region = CASE WHEN 'region' = ANY (changed) THEN p_region ELSE region END,
    postal_code = CASE WHEN 'postal_code' = ANY (changed) THEN p_postal_code ELSE postal_code END,
    country_code = CASE WHEN 'country_code' = ANY (changed) THEN p_country_code ELSE country_code END,
    phone_number = CASE WHEN 'phone_number' = ANY (changed) THEN p_phone ELSE phone_number END,
    is_default = CASE WHEN moves THEN false ELSE is_default END,
    updated_at = clock_timestamp()
  WHERE id = p_address;
  IF moves THEN
    PERFORM usersvc_ensure_default(p_user, current_address.type);
    UPDATE addresses SET is_default = true
    WHERE id = p_address
      AND NOT EXISTS (SELECT 1 FROM addresses
                      WHERE user_id = p_user AND type = p_type AND is_default);
  END IF;
  SELECT * INTO updated FROM addresses WHERE id = p_address;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.address_updated', p_user,
          jsonb_build_object('address_id', p_address, 'changed', to_jsonb(changed)));
  RETURN NEXT updated;
END $$;

CREATE FUNCTION usersvc_delete_address(p_user uuid, p_address uuid) RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  deleted addresses := usersvc_lock_address(p_user, p_address);
BEGIN
  DELETE FROM addresses WHERE id = p_address;
  IF deleted.is_default THEN
    PERFORM usersvc_ensure_default(p_user, deleted.type);
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.address_deleted', p_user, jsonb_build_object('address_id', p_address));
  RETURN NEXT deleted;
END $$;

CREATE FUNCTION usersvc_set_default_address(p_user uuid, p_address uuid) RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  chosen addresses := usersvc_lock_address(p_user, p_address);
BEGIN
  IF NOT chosen.is_default THEN
    UPDATE addresses SET is_default = false, updated_at = clock_timestamp()
    WHERE user_id = p_user AND type = chosen.type AND is_default;
    UPDATE addresses SET is_default = true, updated_at = clock_timestamp()
    WHERE id = p_address
    RETURNING * INTO chosen;
    INSERT INTO user_events (event_type, user_id, payload)
    VALUES ('user.default_address_changed', p_user,
            jsonb_build_object('address_id', p_address,
                               'type', CASE chosen.type WHEN 2 THEN 'BILLING' ELSE 'SHIPPING' END));
  END IF;
  RETURN NEXT chosen;
END $$;

-- SendVerificationEmail: voids the user's earlier verification tokens and issues a new one.
CREATE FUNCTION usersvc_issue_verification(p_user uuid, p_token_hash bytea, p_token text,
                                           p_ttl interval)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  target users := usersvc_lock_user(p_user);
  expires timestamptz := now() + p_ttl;
BEGIN
  IF target.is_email_verified THEN
    PERFORM usersvc_raise('U0412', 'email is already verified');
  END IF;
  IF NOT target.is_active THEN
    PERFORM usersvc_raise('U0412', 'user is deactivated');
  END IF;
  UPDATE user_tokens SET used_at = now()
  WHERE user_id = p_user AND purpose = 'email_verification' AND used_at IS NULL;
  INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)
  VALUES (p_token_hash, p_user, 'email_verification', target.email, expires);
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.email_verification_requested', p_user,
          jsonb_build_object('email', target.email, 'token', p_token,
                             'expires_at', usersvc_rfc3339(expires)));
  RETURN expires;
END $$;

-- Consumes a token at most once: unknown, used, expired and foreign tokens all fail alike.
CREATE FUNCTION usersvc_consume_token(p_token_hash bytea, p_purpose text) RETURNS user_tokens
LANGUAGE plpgsql AS $$
DECLARE
  consumed user_tokens;
BEGIN
  UPDATE user_tokens SET used_at = now()
  WHERE token_hash = p_token_hash AND purpose = p_purpose AND used_at IS NULL
    AND expires_at > now()
  RETURNING * INTO consumed;
  IF NOT FOUND THEN
    PERFORM usersvc_raise('U0400', 'token: invalid or expired');
  END IF;
  RETURN consumed;
END $$;

CREATE FUNCTION usersvc_verify_email(p_token_hash bytea) RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  token user_tokens := usersvc_consume_token(p_token_hash, 'email_verification');
  verified users;
BEGIN
  UPDATE users SET is_email_verified = true, version = version + 1, updated_at = now()
  WHERE id = token.user_id AND email = token.email
  RETURNING * INTO verified;
  IF NOT FOUND THEN
    PERFORM usersvc_raise('U0400', 'token: invalid or expired');
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.email_verified', token.user_id, jsonb_build_object('email', token.email));
  RETURN NEXT verified;
END $$;

-- RequestPasswordReset: a token and an event for an active account, nothing otherwise; the
-- caller cannot tell which.
CREATE FUNCTION usersvc_issue_password_reset(p_email text, p_token_hash bytea, p_token text,
                                             p_ttl interval)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  target users;
  expires timestamptz := now() + p_ttl;
BEGIN
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

-- ResetPassword: consumes the token, sets the hash, voids the user's other reset tokens.
CREATE FUNCTION usersvc_reset_password(p_token_hash bytea, p_password_hash text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  token user_tokens := usersvc_consume_token(p_token_hash, 'password_reset');
BEGIN
  UPDATE users SET password_hash = p_password_hash, version = version + 1, updated_at = now()
  WHERE id = token.user_id;
  UPDATE user_tokens SET used_at = now()
  WHERE user_id = token.user_id AND purpose = 'password_reset' AND used_at IS NULL;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.password_changed', token.user_id, '{}'::jsonb);
END $$;

-- ChangePassword's write: only if the hash is still the one the current password was checked
-- against, so two racing changes cannot both win.
CREATE FUNCTION usersvc_change_password(p_user uuid, p_old_hash text, p_new_hash text)
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
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.password_changed', p_user, '{}'::jsonb);
END $$;

-- Preferences as stored, or the documented defaults (updated_at NULL) for a user who never saved.
CREATE FUNCTION usersvc_preferences_of(p_user uuid) RETURNS user_preferences
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT p FROM user_preferences p WHERE p.user_id = p_user),
    ROW(p_user, 'en', 'USD', 'UTC', true, false, false, 1, NULL)::user_preferences)
$$;

CREATE FUNCTION usersvc_update_preferences(p_user uuid, p_mask text[], p_language text,
                                           p_currency text, p_timezone text,
                                           p_email_notifications boolean,
                                           p_sms_notifications boolean,
                                           p_marketing_emails boolean, p_theme smallint)
RETURNS SETOF user_preferences
LANGUAGE plpgsql AS $$
DECLARE
  current_prefs user_preferences;
  next_prefs user_preferences;
  changed text[] := '{}';
BEGIN
  PERFORM usersvc_lock_user(p_user);
  IF 'timezone' = ANY (p_mask)
     AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_timezone) THEN
    PERFORM usersvc_raise('U0400', 'preferences.timezone: must be an IANA time zone name');
  END IF;
  current_prefs := usersvc_preferences_of(p_user);
  next_prefs := current_prefs;
  IF 'language' = ANY (p_mask) AND p_language IS DISTINCT FROM current_prefs.language THEN
    next_prefs.language := p_language; changed := changed || 'language'::text; END IF;
  IF 'currency' = ANY (p_mask) AND p_currency IS DISTINCT FROM current_prefs.currency THEN
    next_prefs.currency := p_currency; changed := changed || 'currency'::text; END IF;
  IF 'timezone' = ANY (p_mask) AND p_timezone IS DISTINCT FROM current_prefs.timezone THEN
    next_prefs.timezone := p_timezone; changed := changed || 'timezone'::text; END IF;
  IF 'email_notifications' = ANY (p_mask)
     AND p_email_notifications IS DISTINCT FROM current_prefs.email_notifications THEN
    next_prefs.email_notifications := p_email_notifications;
    changed := changed || 'email_notifications'::text; END IF;
  IF 'sms_notifications' = ANY (p_mask)
     AND p_sms_notifications IS DISTINCT FROM current_prefs.sms_notifications THEN
    next_prefs.sms_notifications := p_sms_notifications;
    changed := changed || 'sms_notifications'::text; END IF;
  IF 'marketing_emails' = ANY (p_mask)
     AND p_marketing_emails IS DISTINCT FROM current_prefs.marketing_emails THEN
    next_prefs.marketing_emails := p_marketing_emails;
    changed := changed || 'marketing_emails'::text; END IF;
  IF 'theme' = ANY (p_mask) AND p_theme IS DISTINCT FROM current_prefs.theme THEN
    next_prefs.theme := p_theme; changed := changed || 'theme'::text; END IF;
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_prefs;
    RETURN;
  END IF;
  INSERT INTO user_preferences AS p (user_id, language, currency, timezone, email_notifications,
                                     sms_notifications, marketing_emails, theme, updated_at)
  VALUES (p_user, next_prefs.language, next_prefs.currency, next_prefs.timezone,
          next_prefs.email_notifications, next_prefs.sms_notifications,
          next_prefs.marketing_emails, next_prefs.theme, now())
  ON CONFLICT (user_id) DO UPDATE SET
    language = excluded.language, currency = excluded.currency, timezone = excluded.timezone,
    email_notifications = excluded.email_notifications,
    sms_notifications = excluded.sms_notifications, marketing_emails = excluded.marketing_emails,
    theme = excluded.theme, updated_at = excluded.updated_at
  RETURNING * INTO next_prefs;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.preferences_updated', p_user, jsonb_build_object('changed', to_jsonb(changed)));
  RETURN NEXT next_prefs;
END $$;
