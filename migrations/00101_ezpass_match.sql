-- +goose Up
-- E-ZPass association and posting helpers.

-- +goose StatementBegin
-- A duration for people: "2d 3h 15m", "45m", "0m".
CREATE FUNCTION ezpass_gap(d interval) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s >= 86400 THEN (s / 86400)::text || 'd ' ELSE '' END
        || CASE WHEN s >= 3600 THEN ((s % 86400) / 3600)::text || 'h ' ELSE '' END
        || ((s % 3600) / 60)::text || 'm'
    FROM (SELECT floor(abs(extract(epoch FROM d)))::bigint AS s) x
$$;
-- +goose StatementEnd

-- The failures queue reads failed tolls by failure code (a partial index: matched rows never enter it,
-- so association's row updates do not maintain it).
CREATE INDEX ezpass_transactions_failure_idx ON ezpass_transactions (failure_code, id)
    WHERE status IN ('association_failed', 'posting_failed');

-- +goose Down
DROP INDEX ezpass_transactions_failure_idx;
DROP FUNCTION ezpass_gap(interval);
