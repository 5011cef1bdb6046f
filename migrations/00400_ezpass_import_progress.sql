-- +goose Up
-- E-ZPass import progress (issue 9): how much of the input a running import
-- has consumed, so that the page can show a percentage. bytes_total is the
-- denominator the parser measures progress against: the file's size for
-- CSV, the uncompressed size of the sheet's XML for a workbook (it differs
-- from size_bytes, the compressed file). Both stay 0 until reading starts.
ALTER TABLE ezpass_imports
    ADD COLUMN bytes_read  bigint NOT NULL DEFAULT 0,
    ADD COLUMN bytes_total bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE ezpass_imports DROP COLUMN bytes_total, DROP COLUMN bytes_read;
