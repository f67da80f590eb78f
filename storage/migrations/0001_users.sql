-- Accounts and the transactional outbox.
CREATE TABLE users (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email               text        NOT NULL CHECK (email = lower(email)),
  username            text        NOT NULL,
  password_hash       text        NOT NULL,
  first_name          text        NOT NULL DEFAULT '',
  last_name           text        NOT NULL DEFAULT '',
  phone_number        text        NOT NULL DEFAULT '',
  role                smallint    NOT NULL DEFAULT 1,
  is_active           boolean     NOT NULL DEFAULT true,
  is_email_verified   boolean     NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deactivated_at      timestamptz,
  deactivation_reason text        NOT NULL DEFAULT '',
  version             bigint      NOT NULL DEFAULT 1,
  -- CreateUser idempotency (AIP-155): the caller's request_id and a digest of its arguments.
  create_request_id   uuid,
  create_fingerprint  bytea
);

-- Emails are stored lower-cased; usernames keep their case but are unique case-insensitively.
-- The index names are what a 23505 reports, and CreateUser names the taken field from them.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_create_request_id_key ON users (create_request_id);

CREATE TABLE user_events (
  id          bigserial   PRIMARY KEY,
  event_type  text        NOT NULL,
  user_id     uuid,
  payload     jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
