-- +goose Up
-- E-ZPass import hardening (issue 8): failed imports do not block the same
-- file, tolls are found across accounts, and text columns have limits.

-- Finding imports stranded in 'running'.
CREATE INDEX ezpass_imports_running_idx ON ezpass_imports (id) WHERE status = 'running';

-- A Lane Txn ID (or fingerprint) already stored under another account is
-- found by key alone, so that it is never stored (and posted) twice.
CREATE INDEX ezpass_transactions_key_hash_idx ON ezpass_transactions (dedupe_key, row_hash);

-- Limits on stored text (the parser refuses longer values as row errors
-- first). NOT VALID: enforced for new rows without re-checking old ones.
ALTER TABLE ezpass_imports
    ADD CONSTRAINT ezpass_imports_text_len CHECK (
        length(account) <= 64 AND length(file_name) <= 255 AND length(format) <= 8 AND
        length(message) <= 2000 AND length(created_by) <= 100 AND length(time_zone) <= 64) NOT VALID;
ALTER TABLE ezpass_transactions
    ADD CONSTRAINT ezpass_transactions_text_len CHECK (
        length(account) <= 64 AND length(dedupe_key) <= 100 AND length(coalesce(lane_txn_id, '')) <= 64 AND
        length(row_hash) <= 64 AND length(excluded_reason) <= 500 AND length(tag_or_plate) <= 64 AND
        length(coalesce(tag, '')) <= 32 AND length(coalesce(plate_state, '')) <= 8 AND
        length(coalesce(plate, '')) <= 32 AND length(agency) <= 100 AND length(entry_plaza) <= 100 AND
        length(exit_plaza) <= 100 AND length(vehicle_class) <= 32 AND octet_length(raw::text) <= 65536) NOT VALID;
ALTER TABLE ezpass_import_errors
    ADD CONSTRAINT ezpass_import_errors_text_len CHECK (
        length(column_name) <= 200 AND length(value) <= 300 AND length(message) <= 1000) NOT VALID;

-- +goose Down
ALTER TABLE ezpass_import_errors DROP CONSTRAINT ezpass_import_errors_text_len;
ALTER TABLE ezpass_transactions DROP CONSTRAINT ezpass_transactions_text_len;
ALTER TABLE ezpass_imports DROP CONSTRAINT ezpass_imports_text_len;
DROP INDEX ezpass_transactions_key_hash_idx;
DROP INDEX ezpass_imports_running_idx;
