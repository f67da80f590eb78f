-- SearchUsers over one column instead of four.
--
-- Each candidate a trigram index yields must be checked against the row (trigram matches are
-- only likely ones), and with four expression indexes that check lower-cased four fields per
-- candidate, then again for its rank: about 3 us a candidate, most of a search's time. The four
-- searched fields, lower-cased once when a row is written and joined by U+001F, make that one
-- LIKE on one stored string. A match must lie within one field: no field holds U+001F (emails and
-- usernames cannot, names refuse control characters, checked below as well as by the service),
-- so a query without it cannot span two, and the statement gives a query with it no match
-- (storage/queries/listing.cc). pg_trgm takes the separator for a word break: no trigram spans
-- two fields either.
ALTER TABLE users ADD COLUMN search_text text GENERATED ALWAYS AS (
  email || E'\x1f' || lower(username) || E'\x1f' || lower(first_name) || E'\x1f' ||
  lower(last_name)) STORED;

CREATE INDEX users_search_trgm_idx ON users USING gin (search_text gin_trgm_ops);
-- The four trigram indexes of 0003 stay: replicas of the previous release still search the four
-- fields while a rolling update replaces them, and without the indexes each of their searches
-- would read the whole table. A later migration drops them once no such replica runs.

-- Names written from now on, also by a replica of the previous release, hold no control
-- character; NOT VALID leaves rows written before unchecked (a name with U+001F from then would
-- rank a match after it as a prefix).
ALTER TABLE users ADD CONSTRAINT users_names_printable
  CHECK (first_name !~ '[\x01-\x1f\x7f]' AND last_name !~ '[\x01-\x1f\x7f]') NOT VALID;

-- A recorded outcome holds the row as a client sees it: neither the hash nor the search column.
CREATE OR REPLACE FUNCTION usersvc_user_outcome(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT to_jsonb(u) - 'password_hash' - 'search_text' $$;
