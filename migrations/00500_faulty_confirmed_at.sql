-- +goose Up
-- When validation first confirmed a report row as faulty (the "confirmed" step of each
-- booking's history in the master file's Tracking sheet). validated_at moves with every
-- re-validation; confirmed_at stays until the row stops being confirmed.
ALTER TABLE faulty_report_rows ADD COLUMN confirmed_at timestamptz;
UPDATE faulty_report_rows SET confirmed_at = validated_at WHERE confirmed;

-- +goose Down
ALTER TABLE faulty_report_rows DROP COLUMN confirmed_at;
