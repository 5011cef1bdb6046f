-- +goose Up
-- Searches by part of a driver's name or licence (issue 10): the
-- transactions page's driver filter and the /ledger search read a trigram
-- index instead of testing every driver with ILIKE.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX drivers_name_trgm_idx ON drivers USING gin (name gin_trgm_ops);
CREATE INDEX drivers_tlc_license_trgm_idx ON drivers USING gin (tlc_license gin_trgm_ops);

-- +goose Down
DROP INDEX drivers_tlc_license_trgm_idx;
DROP INDEX drivers_name_trgm_idx;
