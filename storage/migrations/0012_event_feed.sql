-- The outbox as a feed for WatchUserEvents (and, later, cache invalidation): a notification at
-- every commit that wrote events, the safe read point with every read, and what was deleted.

-- One notification per transaction that wrote events, delivered when it commits (PostgreSQL
-- folds repeats of one channel and payload within a transaction). It carries nothing: a listener
-- reads the rows with usersvc_event_feed, in id order, which a notification's order cannot give.
-- Writes from a replica of the previous release and direct SQL notify as well.
CREATE FUNCTION usersvc_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('usersvc_changes', '');
  RETURN NULL;
END $$;

CREATE TRIGGER user_events_notify AFTER INSERT ON user_events
  FOR EACH STATEMENT EXECUTE FUNCTION usersvc_notify_events();

-- The highest id ever deleted from the outbox: a stream cannot resume from before it (its events
-- may be gone), so WatchUserEvents answers OUT_OF_RANGE there. Kept by triggers, so that an
-- operator's DELETE or TRUNCATE counts as well as any purge.
CREATE TABLE user_events_pruned (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  through  bigint  NOT NULL
);
INSERT INTO user_events_pruned (through) VALUES (0);

CREATE FUNCTION usersvc_note_events_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_events_pruned SET through = greatest(through, deleted.max_id)
    FROM (SELECT max(id) AS max_id FROM gone) deleted WHERE deleted.max_id IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER user_events_deleted AFTER DELETE ON user_events
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION usersvc_note_events_deleted();

CREATE FUNCTION usersvc_note_events_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_events_pruned SET through = greatest(through, (SELECT max(id) FROM user_events));
  RETURN NULL;
END $$;

CREATE TRIGGER user_events_truncated BEFORE TRUNCATE ON user_events
  FOR EACH STATEMENT EXECUTE FUNCTION usersvc_note_events_truncated();

-- The read point of 0005's usersvc_events_after on its own: the last id taken, at a moment when
-- every transaction that took an id up to it has ended (committed or rolled back), so a read up
-- to it with a later snapshot skips nothing. NULL when a writer kept its id past lock_timeout.
CREATE FUNCTION usersvc_outbox_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET lock_timeout = '100ms'
AS $$
DECLARE
  horizon bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = '25001',
      MESSAGE = 'the outbox horizon needs READ COMMITTED (a new snapshot per statement)';
  END IF;
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION USING ERRCODE = '25006',
      MESSAGE = 'the outbox horizon is read on the primary only';
  END IF;
  BEGIN
    PERFORM pg_advisory_xact_lock(usersvc_outbox_lock_key());
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO horizon FROM user_events_id_seq;
    -- Rolls this block back, and the lock with it (the variable keeps its value).
    RAISE EXCEPTION USING ERRCODE = 'U0000', MESSAGE = 'release the outbox lock';
  EXCEPTION
    WHEN lock_not_available THEN
      RETURN NULL;
    WHEN SQLSTATE 'U0000' THEN
      NULL;
  END;
  RETURN horizon;
END $$;

-- 0005's reader, now on the shared horizon (same arguments, same rows).
CREATE OR REPLACE FUNCTION usersvc_events_after(p_after_id bigint, p_limit integer)
RETURNS SETOF user_events
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  horizon bigint;
BEGIN
  IF p_after_id IS NULL OR p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'usersvc_events_after: p_after_id must be given and p_limit at least 1';
  END IF;
  horizon := usersvc_outbox_horizon();
  IF horizon IS NULL THEN
    RETURN;
  END IF;
  -- A new statement, so a new snapshot: every id up to the horizon is committed or gone.
  RETURN QUERY SELECT * FROM user_events WHERE id > p_after_id AND id <= horizon
               ORDER BY id LIMIT p_limit;
END $$;

-- The feed's read, in one round trip: up to p_limit events after p_after_id (none when it is
-- NULL: a stream that starts "now" asks only for the horizon), each row carrying the horizon and
-- the pruned mark. With no event to return, one row of those two and NULL event columns; the
-- horizon is NULL when a writer held the read up (read again). A reader that got every event up
-- to the horizon has every event that will ever have an id up to it.
CREATE FUNCTION usersvc_event_feed(p_after_id bigint, p_limit integer)
RETURNS TABLE (horizon bigint, pruned_through bigint, id bigint, event_type text, user_id uuid,
               payload jsonb, created_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  v_horizon bigint;
  v_pruned bigint;
BEGIN
  v_horizon := usersvc_outbox_horizon();
  SELECT p.through INTO v_pruned FROM user_events_pruned p;
  IF v_horizon IS NOT NULL AND p_after_id IS NOT NULL AND p_limit > 0 THEN
    RETURN QUERY SELECT v_horizon, v_pruned, e.id, e.event_type, e.user_id, e.payload, e.created_at
                 FROM user_events e WHERE e.id > p_after_id AND e.id <= v_horizon
                 ORDER BY e.id LIMIT p_limit;
    IF FOUND THEN
      RETURN;
    END IF;
  END IF;
  RETURN QUERY SELECT v_horizon, v_pruned, NULL::bigint, NULL::text, NULL::uuid, NULL::jsonb,
                      NULL::timestamptz;
END $$;
