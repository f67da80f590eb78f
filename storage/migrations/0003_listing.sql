-- Keyset pagination for ListUsers and trigram search for SearchUsers.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ListUsers orders by (created_at, id), (email, id) or (username, id), either direction.
CREATE INDEX users_created_at_order_idx ON users (created_at, id);
CREATE INDEX users_email_order_idx ON users (email, id);
CREATE INDEX users_username_order_idx ON users (username, id);

-- SearchUsers matches a case-insensitive substring of any of these; one trigram index each, so
-- that a match never spans two fields.
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_first_name_trgm_idx ON users USING gin (lower(first_name) gin_trgm_ops);
CREATE INDEX users_last_name_trgm_idx ON users USING gin (lower(last_name) gin_trgm_ops);
