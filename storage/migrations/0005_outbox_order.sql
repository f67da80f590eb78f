-- The outbox read in id order without skipping a commit.
--
-- A bigserial id is taken when the row is inserted, so two transactions can commit out of id
-- order: one takes id 7 and is still open when another takes id 8 and commits. A consumer that
-- reads "id > 6" sees 8, resumes after 8, and never sees 7.
--
-- Two ways out were measured (pgbench, an UPDATE plus an outbox INSERT per transaction, fsync
-- on, README "Outbox order"): taking one exclusive lock from the id to the commit makes ids
-- follow commits for every reader, but serialises every commit's flush and cut write throughput
-- 2-4x at 8-64 clients. What is here keeps concurrent commits: a writer holds a shared advisory
-- lock from the moment it takes an id until it ends; a reader takes the same lock exclusively,
-- which waits only for the writers that already hold ids, and then reads with a snapshot that
-- shows each of them committed or gone. Every id taken later is larger than any it returns.

-- "usersvc outbox" among advisory locks: the bytes of 'usvcobox' (the migrations' key differs).
CREATE FUNCTION usersvc_outbox_lock_key() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 8463238294201855864::bigint $$;

-- The lock before the id: an id is never taken without its writer being visible to a reader.
CREATE FUNCTION usersvc_next_event_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(usersvc_outbox_lock_key());
  RETURN nextval('user_events_id_seq');
END $$;

ALTER TABLE user_events ALTER COLUMN id SET DEFAULT usersvc_next_event_id();

-- The consumers' read: events after p_after_id in id order, at most p_limit, only from
-- transactions that have ended, so resuming after the last id returned never skips one.
--
-- The exclusive lock waits for the writers that hold ids; once it is granted, every id taken so
-- far belongs to a transaction that has ended, and no new one can be taken. The function notes
-- the last id taken (the horizon) and lets the lock go at once: it is taken inside a
-- subtransaction that is then rolled back on purpose, so no error or cancel can leave it behind,
-- and a consumer's own transaction never holds writers up. Then it reads up to the horizon with
-- a snapshot taken after those transactions ended. A writer that keeps its transaction open
-- after taking an id holds the reader up: the reader waits at most lock_timeout (writers that
-- come after it queue behind it meanwhile) and returns nothing, because nothing after p_after_id
-- can be read safely until that writer ends.
CREATE FUNCTION usersvc_events_after(p_after_id bigint, p_limit integer)
RETURNS SETOF user_events
LANGUAGE plpgsql VOLATILE
SET lock_timeout = '100ms'
AS $$
DECLARE
  horizon bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- A snapshot taken for the whole transaction, before the lock, could miss the writers the
    -- lock waited for.
    RAISE EXCEPTION USING ERRCODE = '25001',
      MESSAGE = 'usersvc_events_after needs READ COMMITTED (a new snapshot per statement)';
  END IF;
  IF pg_is_in_recovery() THEN
    -- A standby's lock does not see the primary's writers, and its sequence runs ahead of them.
    RAISE EXCEPTION USING ERRCODE = '25006',
      MESSAGE = 'usersvc_events_after reads the outbox on the primary only';
  END IF;
  IF p_after_id IS NULL OR p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'usersvc_events_after: p_after_id must be given and p_limit at least 1';
  END IF;
  BEGIN
    PERFORM pg_advisory_xact_lock(usersvc_outbox_lock_key());
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO horizon FROM user_events_id_seq;
    -- Rolls this block back, and the lock with it (the variable keeps its value).
    RAISE EXCEPTION USING ERRCODE = 'U0000', MESSAGE = 'release the outbox lock';
  EXCEPTION
    WHEN lock_not_available THEN
      RETURN;
    WHEN SQLSTATE 'U0000' THEN
      NULL;
  END;
  -- Under READ COMMITTED this query's snapshot is taken now: every id up to the horizon is
  -- committed and visible, or rolled back.
  RETURN QUERY SELECT * FROM user_events WHERE id > p_after_id AND id <= horizon
               ORDER BY id LIMIT p_limit;
END $$;
