-- +goose Up
-- Validation reads a period's rows in keyset chunks by id (WHERE period = $1 AND id > $2
-- ORDER BY id LIMIT n): one range scan per chunk instead of sorting the period each time.
CREATE INDEX faulty_report_rows_period_id_idx ON faulty_report_rows (period, id);

-- +goose Down
DROP INDEX faulty_report_rows_period_id_idx;
