-- SearchUsers over one column instead of four.
--
-- Each candidate a trigram index yields must be checked against the row (trigram matches are
-- only likely ones), and with four expression indexes that check lower-cased four fields per
-- candidate, then again for its rank: about 3 us a candidate, most of a search's time. The four
-- searched fields, lower-cased once when a row is written and joined by U+001F (a control
-- character no name has: pg_trgm takes it for a word break, so no trigram spans two fields), make
-- that one LIKE on one stored string. A match must still lie within one field, so the statement
-- checks the fields themselves only for the rows that pass (storage/queries/listing.cc).
ALTER TABLE users ADD COLUMN search_text text GENERATED ALWAYS AS (
  email || E'\x1f' || lower(username) || E'\x1f' || lower(first_name) || E'\x1f' ||
  lower(last_name)) STORED;

CREATE INDEX users_search_trgm_idx ON users USING gin (search_text gin_trgm_ops);
-- Replicas of the previous release still search the four fields: without these indexes their
-- searches read the table until they are replaced.
DROP INDEX users_email_trgm_idx;
DROP INDEX users_username_trgm_idx;
DROP INDEX users_first_name_trgm_idx;
DROP INDEX users_last_name_trgm_idx;

-- A recorded outcome holds the row as a client sees it: neither the hash nor the search column.
CREATE OR REPLACE FUNCTION usersvc_user_outcome(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT to_jsonb(u) - 'password_hash' - 'search_text' $$;
