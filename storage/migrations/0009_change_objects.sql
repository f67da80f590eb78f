-- Update masks named once: UpdateUser, UpdateAddress and UpdateUserPreferences take what to
-- change as one JSON object, column -> new value, holding exactly the fields of the update mask
-- (callbacks/ builds it from one table per mask). Nothing here lists the mutable fields: the
-- columns follow from the object's keys. The signatures of 0002 and 0006 stay for replicas of an
-- earlier release during a rolling update.

-- The columns of p_table, in table order, that p_changes would set to another value than p_row
-- (a row of that table as jsonb) holds. A key that is no column of the table is a programming
-- error, not a request the caller could mend.
CREATE FUNCTION usersvc_changed_columns(p_table regclass, p_row jsonb, p_changes jsonb)
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  unknown text;
  changed text[];
BEGIN
  SELECT key INTO unknown FROM jsonb_object_keys(p_changes) key
  WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = p_table AND a.attname = key AND a.attnum > 0
                      AND NOT a.attisdropped)
  LIMIT 1;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'change object names %, which is no column of %', unknown, p_table;
  END IF;
  SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}') INTO changed
  FROM pg_attribute a
  WHERE a.attrelid = p_table AND p_changes ? a.attname::text
    AND p_changes -> a.attname::text IS DISTINCT FROM p_row -> a.attname::text;
  RETURN changed;
END $$;

-- Sets p_columns of p_table's row p_id to their values in p_changes, and whatever p_also says
-- (SQL written by the functions below, never by a caller).
CREATE FUNCTION usersvc_set_columns(p_table regclass, p_id uuid, p_columns text[],
                                    p_changes jsonb, p_also text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('UPDATE %s t SET %s FROM jsonb_populate_record(NULL::%s, $1) r WHERE t.id = $2',
                 p_table,
                 concat_ws(', ', (SELECT string_agg(format('%I = r.%I', c, c), ', ')
                                  FROM unnest(p_columns) c),
                           nullif(p_also, '')),
                 p_table)
  USING p_changes, p_id;
END $$;

-- UpdateUser. Email changes clear verification and void outstanding verification tokens.
CREATE FUNCTION usersvc_update_user(p_user uuid, p_changes jsonb, p_expected_version bigint)
RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  current_user_row users := usersvc_lock_user(p_user);
  changed text[];
  updated users;
BEGIN
  IF p_expected_version <> 0 AND current_user_row.version <> p_expected_version THEN
    PERFORM usersvc_raise('U0409', 'expected_version: the user has changed since');
  END IF;
  changed := usersvc_changed_columns('users', to_jsonb(current_user_row), p_changes);
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_user_row;
    RETURN;
  END IF;
  PERFORM usersvc_set_columns(
      'users', p_user, changed, p_changes,
      'version = t.version + 1, updated_at = now()'
      || CASE WHEN 'email' = ANY (changed) THEN ', is_email_verified = false' ELSE '' END);
  IF 'email' = ANY (changed) THEN
    UPDATE user_tokens SET used_at = now()
    WHERE user_id = p_user AND purpose = 'email_verification' AND used_at IS NULL;
  END IF;
  SELECT * INTO updated FROM users WHERE id = p_user;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.updated', p_user, jsonb_build_object('changed', to_jsonb(changed)));
  RETURN NEXT updated;
END $$;

CREATE FUNCTION usersvc_update_user_once(p_request_id uuid, p_fingerprint bytea, p_user uuid,
                                         p_changes jsonb, p_expected_version bigint)
RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb := usersvc_claim_request(p_request_id, 'UpdateUser', p_fingerprint);
  updated users;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN NEXT jsonb_populate_record(NULL::users, first_outcome);
    RETURN;
  END IF;
  SELECT * INTO updated FROM usersvc_update_user(p_user, p_changes, p_expected_version);
  PERFORM usersvc_record_outcome(p_request_id, usersvc_user_outcome(updated));
  RETURN NEXT updated;
END $$;

-- UpdateAddress. A default that moves to another type leaves its old type to the newest
-- remaining address, and is the new type's default only if that type has none.
CREATE FUNCTION usersvc_update_address(p_user uuid, p_address uuid, p_changes jsonb)
RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  current_address addresses := usersvc_lock_address(p_user, p_address);
  changed text[];
  moves boolean;
  updated addresses;
BEGIN
  changed := usersvc_changed_columns('addresses', to_jsonb(current_address), p_changes);
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_address;
    RETURN;
  END IF;
  moves := 'type' = ANY (changed);
  PERFORM usersvc_set_columns(
      'addresses', p_address, changed, p_changes,
      'updated_at = clock_timestamp()' || CASE WHEN moves THEN ', is_default = false' ELSE '' END);
  SELECT * INTO updated FROM addresses WHERE id = p_address;
  IF moves THEN
    PERFORM usersvc_ensure_default(p_user, current_address.type);
    UPDATE addresses SET is_default = true
    WHERE id = p_address
      AND NOT EXISTS (SELECT 1 FROM addresses
                      WHERE user_id = p_user AND type = updated.type AND is_default);
    SELECT * INTO updated FROM addresses WHERE id = p_address;
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.address_updated', p_user,
          jsonb_build_object('address_id', p_address, 'changed', to_jsonb(changed)));
  RETURN NEXT updated;
END $$;

-- UpdateUserPreferences: the stored row (or the defaults) with the changes, written whole.
CREATE FUNCTION usersvc_update_preferences(p_user uuid, p_changes jsonb)
RETURNS SETOF user_preferences
LANGUAGE plpgsql AS $$
DECLARE
  current_prefs user_preferences;
  next_prefs user_preferences;
  changed text[];
BEGIN
  PERFORM usersvc_lock_user(p_user);
  IF p_changes ? 'timezone'
     AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_changes ->> 'timezone') THEN
    PERFORM usersvc_raise('U0400', 'preferences.timezone: must be an IANA time zone name');
  END IF;
  current_prefs := usersvc_preferences_of(p_user);
  changed := usersvc_changed_columns('user_preferences', to_jsonb(current_prefs), p_changes);
  IF cardinality(changed) = 0 THEN
    RETURN NEXT current_prefs;
    RETURN;
  END IF;
  next_prefs := jsonb_populate_record(current_prefs, p_changes);
  next_prefs.updated_at := now();
  -- The user's row lock serialises every writer of its preferences.
  DELETE FROM user_preferences WHERE user_id = p_user;
  INSERT INTO user_preferences SELECT (next_prefs).*;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.preferences_updated', p_user, jsonb_build_object('changed', to_jsonb(changed)));
  RETURN NEXT next_prefs;
END $$;
