-- ListUsers' total_size without counting the users on every call.
--
-- user_counts holds how many users there are for each (role, is_active, is_email_verified), kept
-- by the triggers below in the transaction of each change: a statement that sums the rows sees
-- exactly the users its snapshot sees, so a total from here is as exact as count(*). Each
-- combination is spread over slots (the writing backend's pid picks one), so that concurrent
-- CreateUsers do not all wait on one row's lock; a reader sums the slots.
CREATE TABLE user_counts (
  role              smallint NOT NULL,
  is_active         boolean  NOT NULL,
  is_email_verified boolean  NOT NULL,
  slot              smallint NOT NULL,
  n                 bigint   NOT NULL,
  PRIMARY KEY (role, is_active, is_email_verified, slot)
);

-- Adds `delta` users of one combination to the calling backend's slot.
CREATE FUNCTION usersvc_count_users(p_role smallint, p_active boolean, p_verified boolean,
                                    p_delta bigint) RETURNS void LANGUAGE sql AS $$
  INSERT INTO user_counts AS c (role, is_active, is_email_verified, slot, n)
  VALUES (p_role, p_active, p_verified, pg_backend_pid() % 16, p_delta)
  ON CONFLICT (role, is_active, is_email_verified, slot) DO UPDATE SET n = c.n + EXCLUDED.n
$$;

-- Inserts and deletes count once per statement, from the transition table, so that a COPY of a
-- million users makes a handful of upserts rather than a million. Combinations go in key order,
-- the order every writer locks them in. (One INSERT here rather than a call of the function
-- above per combination: a single-row insert costs 20% more with this trigger, 40% with calls.)
-- Both triggers name their transition table `changed`; an insert adds its rows, a delete takes
-- them away.
CREATE FUNCTION usersvc_count_changed_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_counts AS c (role, is_active, is_email_verified, slot, n)
  SELECT role, is_active, is_email_verified, pg_backend_pid() % 16,
         CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END
  FROM changed
  GROUP BY role, is_active, is_email_verified ORDER BY role, is_active, is_email_verified
  ON CONFLICT (role, is_active, is_email_verified, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;

-- An update counts per row, and only when it moves a user to another combination (the WHEN of
-- its trigger): most updates change none of the three and pay nothing.
CREATE FUNCTION usersvc_count_updated_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (OLD.role, OLD.is_active, OLD.is_email_verified)
     < (NEW.role, NEW.is_active, NEW.is_email_verified) THEN
    PERFORM usersvc_count_users(OLD.role, OLD.is_active, OLD.is_email_verified, -1);
    PERFORM usersvc_count_users(NEW.role, NEW.is_active, NEW.is_email_verified, 1);
  ELSE
    PERFORM usersvc_count_users(NEW.role, NEW.is_active, NEW.is_email_verified, 1);
    PERFORM usersvc_count_users(OLD.role, OLD.is_active, OLD.is_email_verified, -1);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION usersvc_count_truncated_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM user_counts;
  RETURN NULL;
END $$;

-- No user may be written between the count below and the triggers taking over.
LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER users_count_inserted AFTER INSERT ON users
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION usersvc_count_changed_users();
CREATE TRIGGER users_count_deleted AFTER DELETE ON users
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION usersvc_count_changed_users();
CREATE TRIGGER users_count_updated AFTER UPDATE OF role, is_active, is_email_verified ON users
  FOR EACH ROW
  WHEN ((OLD.role, OLD.is_active, OLD.is_email_verified)
        IS DISTINCT FROM (NEW.role, NEW.is_active, NEW.is_email_verified))
  EXECUTE FUNCTION usersvc_count_updated_user();
CREATE TRIGGER users_count_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION usersvc_count_truncated_users();

INSERT INTO user_counts (role, is_active, is_email_verified, slot, n)
SELECT role, is_active, is_email_verified, 0, count(*)
FROM users GROUP BY role, is_active, is_email_verified;

-- A created-range filter is counted from this index alone (an index-only scan once the table is
-- vacuumed): it carries the other filters' columns, so no row is read to test them. It replaces
-- the (created_at, id) index that ListUsers' default order walks, which it serves as well.
CREATE INDEX users_created_at_listing_idx ON users (created_at, id)
  INCLUDE (role, is_active, is_email_verified);
DROP INDEX users_created_at_order_idx;
