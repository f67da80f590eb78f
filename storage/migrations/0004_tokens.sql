-- DeleteUser's cascade finds a user's tokens by user_id, used ones too: the partial index of
-- 0002 covers only the unused ones, so without this the cascade scans the whole table.
CREATE INDEX user_tokens_user_id_idx ON user_tokens (user_id);

-- Tokens stop being worth keeping an hour after they expire (used or not: a used token's expiry
-- is at most a day after it was issued), and the service purges them in small batches
-- (storage/queries.cc, kPurgeExpiredTokens), so the table stays as large as a day of issued
-- tokens.
CREATE INDEX user_tokens_expires_at_idx ON user_tokens (expires_at);
