-- Errors about a request field travel structured: the field in the error report's COLUMN, what
-- is wrong in its DETAIL (storage/result.cc reads both), so nothing downstream reads the message
-- apart. The message stays "<field>: <description>" for people.
CREATE FUNCTION usersvc_raise_field(p_field text, p_description text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'U0400', MESSAGE = p_field || ': ' || p_description,
                        COLUMN = p_field, DETAIL = p_description;
END $$;

-- The functions of earlier migrations raise U0400 through usersvc_raise with that message;
-- they are routed here, at the one place that writes the format, rather than each rewritten.
CREATE OR REPLACE FUNCTION usersvc_raise(code text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF code = 'U0400' AND position(': ' IN message) > 0 THEN
    PERFORM usersvc_raise_field(split_part(message, ': ', 1),
                                substr(message, position(': ' IN message) + 2));
  END IF;
  RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END $$;
