-- Safe retries for every change that a repeat would apply twice or answer differently (AIP-155,
-- as CreateUser's request_id): a change that came with a request_id records its outcome in the
-- same transaction, and a repeat of that request_id with the same arguments gets the recorded
-- outcome without applying anything; with different arguments (or another method) it is
-- ALREADY_EXISTS. Only successes are recorded: a failed change rolls back with its claim, and
-- its repeat runs afresh.
CREATE TABLE request_outcomes (
  request_id  uuid        PRIMARY KEY,
  method      text        NOT NULL,
  -- A digest of the request's arguments other than secrets (passwords never go into it).
  fingerprint bytea       NOT NULL,
  -- What the first call answered, as the row its function returned ('{}' for no row).
  outcome     jsonb       NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Outcomes are kept a day (storage/queries.cc, kPurgeOldRequestOutcomes).
CREATE INDEX request_outcomes_created_at_idx ON request_outcomes (created_at);

-- NULL: apply the change (no request_id, or its first call). Otherwise the first call's outcome.
-- A concurrent first call with the same request_id makes the INSERT wait for it to end; if it
-- committed, this one gets its outcome, and if it rolled back, this one is the first. A recorded
-- outcome purged between the INSERT and the SELECT makes this call the first after all.
CREATE FUNCTION usersvc_claim_request(p_request_id uuid, p_method text, p_fingerprint bytea)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  first_call request_outcomes;
BEGIN
  IF p_request_id IS NULL THEN
    RETURN NULL;
  END IF;
  LOOP
    INSERT INTO request_outcomes (request_id, method, fingerprint)
    VALUES (p_request_id, p_method, p_fingerprint)
    ON CONFLICT (request_id) DO NOTHING;
    IF FOUND THEN
      RETURN NULL;
    END IF;
    SELECT * INTO first_call FROM request_outcomes WHERE request_id = p_request_id;
    IF FOUND THEN
      IF first_call.method <> p_method OR first_call.fingerprint <> p_fingerprint THEN
        PERFORM usersvc_raise('U0006', 'request_id: already used with different arguments');
      END IF;
      RETURN first_call.outcome;
    END IF;
  END LOOP;
END $$;

CREATE FUNCTION usersvc_record_outcome(p_request_id uuid, p_outcome jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE request_outcomes SET outcome = p_outcome WHERE request_id = p_request_id
$$;

-- A user row as recorded: never with its password hash.
CREATE FUNCTION usersvc_user_outcome(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT to_jsonb(u) - 'password_hash' $$;

-- The changes with a request_id: each runs its function of 0002 once per request_id.

CREATE FUNCTION usersvc_update_user_once(p_request_id uuid, p_fingerprint bytea, p_user uuid,
                                         p_mask text[], p_email text, p_username text,
                                         p_first_name text, p_last_name text, p_phone text,
                                         p_role smallint, p_expected_version bigint)
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
  SELECT * INTO updated FROM usersvc_update_user(p_user, p_mask, p_email, p_username,
                                                 p_first_name, p_last_name, p_phone, p_role,
                                                 p_expected_version);
  PERFORM usersvc_record_outcome(p_request_id, usersvc_user_outcome(updated));
  RETURN NEXT updated;
END $$;

-- DeleteUser as one function, so that "not found" rolls the claim back with it.
CREATE FUNCTION usersvc_delete_user_once(p_request_id uuid, p_fingerprint bytea, p_user uuid)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb := usersvc_claim_request(p_request_id, 'DeleteUser', p_fingerprint);
  deleted_email text;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN p_user;
  END IF;
  DELETE FROM users WHERE id = p_user RETURNING email INTO deleted_email;
  IF NOT FOUND THEN
    PERFORM usersvc_raise('U0404', 'user not found');
  END IF;
  INSERT INTO user_events (event_type, user_id, payload)
  VALUES ('user.deleted', p_user, jsonb_build_object('email', deleted_email));
  RETURN p_user;
END $$;

CREATE FUNCTION usersvc_add_address_once(p_request_id uuid, p_fingerprint bytea, p_user uuid,
                                         p_type smallint, p_label text, p_recipient_name text,
                                         p_line1 text, p_line2 text, p_city text, p_region text,
                                         p_postal_code text, p_country_code text, p_phone text)
RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb := usersvc_claim_request(p_request_id, 'AddAddress', p_fingerprint);
  added addresses;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN NEXT jsonb_populate_record(NULL::addresses, first_outcome);
    RETURN;
  END IF;
  SELECT * INTO added FROM usersvc_add_address(p_user, p_type, p_label, p_recipient_name,
                                               p_line1, p_line2, p_city, p_region,
                                               p_postal_code, p_country_code, p_phone);
  PERFORM usersvc_record_outcome(p_request_id, to_jsonb(added));
  RETURN NEXT added;
END $$;

CREATE FUNCTION usersvc_delete_address_once(p_request_id uuid, p_fingerprint bytea, p_user uuid,
                                            p_address uuid)
RETURNS SETOF addresses
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb := usersvc_claim_request(p_request_id, 'DeleteAddress', p_fingerprint);
  deleted addresses;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN NEXT jsonb_populate_record(NULL::addresses, first_outcome);
    RETURN;
  END IF;
  SELECT * INTO deleted FROM usersvc_delete_address(p_user, p_address);
  PERFORM usersvc_record_outcome(p_request_id, to_jsonb(deleted));
  RETURN NEXT deleted;
END $$;

-- A repeat answers the first call's expiry; the token it would have issued is never stored.
CREATE FUNCTION usersvc_issue_verification_once(p_request_id uuid, p_fingerprint bytea,
                                                p_user uuid, p_token_hash bytea, p_token text,
                                                p_ttl interval)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb :=
    usersvc_claim_request(p_request_id, 'SendVerificationEmail', p_fingerprint);
  expires timestamptz;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN (first_outcome->>'expires_at')::timestamptz;
  END IF;
  expires := usersvc_issue_verification(p_user, p_token_hash, p_token, p_ttl);
  PERFORM usersvc_record_outcome(p_request_id, jsonb_build_object('expires_at', expires));
  RETURN expires;
END $$;

CREATE FUNCTION usersvc_verify_email_once(p_request_id uuid, p_fingerprint bytea,
                                          p_token_hash bytea)
RETURNS SETOF users
LANGUAGE plpgsql AS $$
DECLARE
  first_outcome jsonb := usersvc_claim_request(p_request_id, 'VerifyEmail', p_fingerprint);
  verified users;
BEGIN
  IF first_outcome IS NOT NULL THEN
    RETURN NEXT jsonb_populate_record(NULL::users, first_outcome);
    RETURN;
  END IF;
  SELECT * INTO verified FROM usersvc_verify_email(p_token_hash);
  PERFORM usersvc_record_outcome(p_request_id, usersvc_user_outcome(verified));
  RETURN NEXT verified;
END $$;

CREATE FUNCTION usersvc_change_password_once(p_request_id uuid, p_fingerprint bytea,
                                             p_user uuid, p_old_hash text, p_new_hash text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF usersvc_claim_request(p_request_id, 'ChangePassword', p_fingerprint) IS NULL THEN
    PERFORM usersvc_change_password(p_user, p_old_hash, p_new_hash);
  END IF;
END $$;

CREATE FUNCTION usersvc_issue_password_reset_once(p_request_id uuid, p_fingerprint bytea,
                                                  p_email text, p_token_hash bytea,
                                                  p_token text, p_ttl interval)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF usersvc_claim_request(p_request_id, 'RequestPasswordReset', p_fingerprint) IS NULL THEN
    PERFORM usersvc_issue_password_reset(p_email, p_token_hash, p_token, p_ttl);
  END IF;
END $$;

CREATE FUNCTION usersvc_reset_password_once(p_request_id uuid, p_fingerprint bytea,
                                            p_token_hash bytea, p_password_hash text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF usersvc_claim_request(p_request_id, 'ResetPassword', p_fingerprint) IS NULL THEN
    PERFORM usersvc_reset_password(p_token_hash, p_password_hash);
  END IF;
END $$;
