-- +goose Up
-- Fewer indexes for every toll written (issue 10). Four indexes were led by
-- or held the toll's key: the two unique keys (account, dedupe_key) and
-- (account, dedupe_key, row_hash), and two look-up indexes led by the key
-- for the import's cross-account probes, (dedupe_key, row_hash) and
-- (dedupe_key, id) WHERE conflict_of IS NULL. Every insert, and every
-- association and posting (their updates change the status, so they are
-- never HOT), wrote an entry into all four.
--
-- The two unique keys led by dedupe_key enforce the same uniqueness and
-- serve both probes: a key's stored original (a handful of rows per key,
-- one per account at most) and "same key and data stored" (a prefix of the
-- second). At a million tolls this is two index insertions fewer per row
-- version and about 100 MB less index for the 128 MB of shared buffers
-- that bulk association and posting thrash through.
CREATE UNIQUE INDEX ezpass_transactions_key_account ON ezpass_transactions (dedupe_key, account)
    WHERE conflict_of IS NULL;
CREATE UNIQUE INDEX ezpass_transactions_key_hash_account ON ezpass_transactions (dedupe_key, row_hash, account);
DROP INDEX ezpass_transactions_dedupe_key;
DROP INDEX ezpass_transactions_conflict_key;
DROP INDEX ezpass_transactions_key_hash_idx;
DROP INDEX ezpass_transactions_original_key_idx;

-- +goose Down
CREATE INDEX ezpass_transactions_original_key_idx ON ezpass_transactions (dedupe_key, id) WHERE conflict_of IS NULL;
CREATE INDEX ezpass_transactions_key_hash_idx ON ezpass_transactions (dedupe_key, row_hash);
CREATE UNIQUE INDEX ezpass_transactions_conflict_key ON ezpass_transactions (account, dedupe_key, row_hash);
CREATE UNIQUE INDEX ezpass_transactions_dedupe_key ON ezpass_transactions (account, dedupe_key) WHERE conflict_of IS NULL;
DROP INDEX ezpass_transactions_key_hash_account;
DROP INDEX ezpass_transactions_key_account;
