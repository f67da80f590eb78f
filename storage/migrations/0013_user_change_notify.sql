-- Lookup caches learn of every change to a user, however it was made (through any replica, an
-- older release, or SQL by hand): each statement that updates or deletes users notifies, on the
-- channel of 0012, with the payload 'users:' and the ids it touched, comma-separated, or
-- 'users:*' when there are too many for one notification (its payload holds 8,000 bytes) or the
-- table was truncated: a listener then forgets every user. Delivered at commit, and not at all on
-- rollback. INSERT does not notify: a cache holds users that exist, and a new one is nobody's
-- entry yet.
CREATE FUNCTION usersvc_notify_users_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids text;
  touched bigint;
BEGIN
  SELECT count(*), string_agg(id::text, ',') INTO touched, ids
    FROM (SELECT id FROM changed LIMIT 101) first_ones;
  IF touched = 0 THEN
    RETURN NULL;
  END IF;
  PERFORM pg_notify('usersvc_changes', 'users:' || CASE WHEN touched > 100 THEN '*' ELSE ids END);
  RETURN NULL;
END $$;

CREATE TRIGGER users_changed_notify AFTER UPDATE ON users
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION usersvc_notify_users_changed();

CREATE TRIGGER users_deleted_notify AFTER DELETE ON users
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION usersvc_notify_users_changed();

CREATE FUNCTION usersvc_notify_users_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('usersvc_changes', 'users:*');
  RETURN NULL;
END $$;

CREATE TRIGGER users_truncated_notify AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION usersvc_notify_users_truncated();
