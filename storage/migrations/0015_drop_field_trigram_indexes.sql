-- The four per-field trigram indexes of 0003, which 0011 kept for replicas of the release before
-- it while a rolling update replaced them. Every release since searches users.search_text alone,
-- so an update from the previous release no longer needs them, and each cost every write that
-- sets a name or an email four GIN updates (and bulk loads their builds).
--
-- DROP INDEX locks users against every reader until this transaction ends, and while it waits
-- for a long statement to let go of the table every lookup queues behind it. So it waits at most
-- 200 ms: a starting server tries again a second later (`usersvc migrate` exits 1), and lookups
-- are held up that long at most, until a moment comes when no statement holds the table.
SET LOCAL lock_timeout = '200ms';
DROP INDEX IF EXISTS users_email_trgm_idx;
DROP INDEX IF EXISTS users_username_trgm_idx;
DROP INDEX IF EXISTS users_first_name_trgm_idx;
DROP INDEX IF EXISTS users_last_name_trgm_idx;
