-- +goose Up
-- The Disputes page reads one keyset page (created_at DESC, id DESC) of a
-- state, or of every state, straight from these indexes.
CREATE INDEX faulty_disputes_state_created_idx ON faulty_disputes (state, created_at, id);
CREATE INDEX faulty_disputes_created_idx ON faulty_disputes (created_at, id);

-- +goose Down
DROP INDEX faulty_disputes_created_idx;
DROP INDEX faulty_disputes_state_created_idx;
