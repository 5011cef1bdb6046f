-- +goose Up
-- The E-ZPass toll a journal posts, as a bigint: joins from tolls to their journals use an integer key
-- and an index, so their plans do not depend on fresh statistics (joining on id::text = source_id
-- made the planner nest loops over 20k × 20k rows when statistics were stale).
-- A stored generated column: existing journals are backfilled by the rewrite (no UPDATE, which the
-- ledger's append-only triggers refuse), and every new EZPASS journal gets it whoever inserts it.
ALTER TABLE ledger_journals
    ADD COLUMN toll_id bigint GENERATED ALWAYS AS (CASE WHEN source_type = 'EZPASS' THEN source_id::bigint END) STORED;
CREATE INDEX ledger_journals_toll_idx ON ledger_journals (toll_id, kind, generation) WHERE toll_id IS NOT NULL;

-- +goose Down
DROP INDEX ledger_journals_toll_idx;
ALTER TABLE ledger_journals DROP COLUMN toll_id;
