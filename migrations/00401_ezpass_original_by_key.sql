-- +goose Up
-- The stored original of a key, looked up across accounts by key alone
-- (an import's classification probes it once per staged row). Without an
-- index led by dedupe_key and bounded to originals, the planner — with the
-- stale statistics of a table that just grew (autovacuum is off) — walked
-- the whole (account, dedupe_key) partial index for every row, filtering
-- on dedupe_key: a re-import of N stored rows cost O(N × table).
CREATE INDEX ezpass_transactions_original_key_idx ON ezpass_transactions (dedupe_key, id) WHERE conflict_of IS NULL;

-- +goose Down
DROP INDEX ezpass_transactions_original_key_idx;
