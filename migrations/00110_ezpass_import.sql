-- +goose Up
-- E-ZPass import pipeline and Transactions page.

-- The time zone an import's wall-clock times are read in, fixed at upload so
-- that a retried or re-run import reads the file exactly the same way.
ALTER TABLE ezpass_imports ADD COLUMN time_zone text NOT NULL DEFAULT 'America/New_York';

-- Original files are kept uncompressed out of line, so that the import job
-- (and downloads) can read them back in slices with bounded memory.
ALTER TABLE ezpass_import_files ALTER COLUMN data SET STORAGE EXTERNAL;

-- Transactions page filters: plate or tag.
CREATE INDEX ezpass_transactions_tag_idx ON ezpass_transactions (tag, txn_at) WHERE tag IS NOT NULL;
CREATE INDEX ezpass_transactions_plate_idx ON ezpass_transactions (plate, txn_at) WHERE plate IS NOT NULL;

-- +goose Down
DROP INDEX ezpass_transactions_plate_idx;
DROP INDEX ezpass_transactions_tag_idx;
ALTER TABLE ezpass_import_files ALTER COLUMN data SET STORAGE EXTENDED;
ALTER TABLE ezpass_imports DROP COLUMN time_zone;
