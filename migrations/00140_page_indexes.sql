-- +goose Up
-- Pages that do not grow with the data (issue 10).
--
-- 1. One index per whitelisted sort and filter of /ezpass/transactions,
--    each ending in the keyset tiebreaker id (or the default order txn_at,
--    id), so `ORDER BY x, id LIMIT n` and `WHERE f = ? ORDER BY txn_at, id
--    LIMIT n` are index scans that stop after one page.
-- 2. Hourly rollups of the transactions (by kind, status, failure code) and
--    of the ledger's amounts by account group, kept by statement-level triggers, so
--    Home and the failures queue sum a few hundred rows whatever the number
--    of tolls (instead of indexes on ezpass_transactions.created_at and
--    ledger_journals.posted_at: this month's tolls and eight weeks of
--    postings are most of a young database, so a range scan still grows
--    with the data, and two more indexes would slow every import).
-- 3. The driver statement reads a driver's entries newest first with their
--    amounts from one index (keyset pages and the opening balance of a page).

-- Sorts: amount, agency, plate/tag (txn_at, status and created have theirs).
CREATE INDEX ezpass_transactions_amount_idx ON ezpass_transactions (amount_cents, id);
CREATE INDEX ezpass_transactions_agency_idx ON ezpass_transactions (agency, id);
CREATE INDEX ezpass_transactions_tag_or_plate_idx ON ezpass_transactions (tag_or_plate, id);
-- Filters in the default order (txn_at, id). The import filter's index
-- replaces the bare import_id one; status keeps (status, id) for its sort.
CREATE INDEX ezpass_transactions_status_txn_at_idx ON ezpass_transactions (status, txn_at, id);
CREATE INDEX ezpass_transactions_agency_upper_idx ON ezpass_transactions (upper(agency), txn_at, id);
CREATE INDEX ezpass_transactions_medallion_idx ON ezpass_transactions (medallion_id, txn_at, id);
CREATE INDEX medallions_number_upper_idx ON medallions (upper(number));
CREATE INDEX ezpass_transactions_import_txn_at_idx ON ezpass_transactions (import_id, txn_at, id);
DROP INDEX ezpass_transactions_import_idx;
-- The failures queue: oldest id first, all codes or one.
CREATE INDEX ezpass_transactions_failed_id_idx ON ezpass_transactions (id)
    WHERE status IN ('association_failed', 'posting_failed');

-- The medallions page counts vehicles and leases per medallion.
CREATE INDEX vehicles_medallion_idx ON vehicles (medallion_id);
CREATE INDEX leases_medallion_idx ON leases (medallion_id);

-- A driver's receivable entries newest first with their amounts
-- (statement pages, opening balances, balances) without the heap.
-- Not partial: the statement's account is a parameter, and a generic plan
-- cannot prove a partial index's predicate from it.
CREATE INDEX ledger_entries_account_id_idx ON ledger_entries (account, id) INCLUDE (amount_cents, journal_id);
CREATE INDEX ledger_entries_driver_sum_idx ON ledger_entries (driver_id) INCLUDE (amount_cents)
    WHERE account LIKE 'driver:%';

-- ezpass_txn_hourly counts the transactions by the hour they were created
-- (UTC hours: exact for display zones whose offset is a whole number of
-- hours), kind, status and failure code.
CREATE TABLE ezpass_txn_hourly (
    hour         timestamptz NOT NULL,
    kind         text NOT NULL,
    status       text NOT NULL,
    failure_code text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (hour, kind, status, failure_code)
);
CREATE INDEX ezpass_txn_hourly_failed_idx ON ezpass_txn_hourly (failure_code) INCLUDE (n)
    WHERE status IN ('association_failed', 'posting_failed');

-- +goose StatementBegin
CREATE FUNCTION ezpass_txn_hourly_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ezpass_txn_hourly AS h (hour, kind, status, failure_code, n)
        SELECT date_bin('1 hour', created_at, 'epoch'), kind, status, failure_code, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (hour, kind, status, failure_code) DO UPDATE SET n = h.n + excluded.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO ezpass_txn_hourly AS h (hour, kind, status, failure_code, n)
        SELECT hour, kind, status, failure_code, sum(d) FROM (
            SELECT date_bin('1 hour', created_at, 'epoch') AS hour, kind, status, failure_code, -1 AS d FROM old_rows
            UNION ALL
            SELECT date_bin('1 hour', created_at, 'epoch'), kind, status, failure_code, 1 FROM new_rows
        ) x GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (hour, kind, status, failure_code) DO UPDATE SET n = h.n + excluded.n;
    ELSE
        INSERT INTO ezpass_txn_hourly AS h (hour, kind, status, failure_code, n)
        SELECT date_bin('1 hour', created_at, 'epoch'), kind, status, failure_code, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (hour, kind, status, failure_code) DO UPDATE SET n = h.n + excluded.n;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ezpass_txn_hourly_insert AFTER INSERT ON ezpass_transactions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ezpass_txn_hourly_apply();
CREATE TRIGGER ezpass_txn_hourly_update AFTER UPDATE ON ezpass_transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ezpass_txn_hourly_apply();
CREATE TRIGGER ezpass_txn_hourly_delete AFTER DELETE ON ezpass_transactions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ezpass_txn_hourly_apply();

INSERT INTO ezpass_txn_hourly (hour, kind, status, failure_code, n)
SELECT date_bin('1 hour', created_at, 'epoch'), kind, status, failure_code, count(*)
FROM ezpass_transactions GROUP BY 1, 2, 3, 4;

-- ledger_hourly sums the entries by the hour their journal was posted, the
-- journal's source and the account group ("driver" for every driver:*
-- account, else the account itself).
CREATE TABLE ledger_hourly (
    hour          timestamptz NOT NULL,
    source_type   text NOT NULL,
    account_group text NOT NULL,
    cents         bigint NOT NULL,
    PRIMARY KEY (hour, source_type, account_group)
);

-- +goose StatementBegin
CREATE FUNCTION ledger_account_group(account text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN account LIKE 'driver:%' THEN 'driver' ELSE account END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ledger_hourly_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_hourly AS h (hour, source_type, account_group, cents)
    SELECT date_bin('1 hour', j.posted_at, 'epoch'), j.source_type, ledger_account_group(e.account), sum(e.amount_cents)
    FROM new_rows e JOIN ledger_journals j ON j.id = e.journal_id
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (hour, source_type, account_group) DO UPDATE SET cents = h.cents + excluded.cents;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_hourly_insert AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_hourly_apply();

INSERT INTO ledger_hourly (hour, source_type, account_group, cents)
SELECT date_bin('1 hour', j.posted_at, 'epoch'), j.source_type, ledger_account_group(e.account), sum(e.amount_cents)
FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
GROUP BY 1, 2, 3;

-- +goose Down
DROP TRIGGER ledger_hourly_insert ON ledger_entries;
DROP FUNCTION ledger_hourly_apply();
DROP FUNCTION ledger_account_group(text);
DROP TABLE ledger_hourly;
DROP TRIGGER ezpass_txn_hourly_delete ON ezpass_transactions;
DROP TRIGGER ezpass_txn_hourly_update ON ezpass_transactions;
DROP TRIGGER ezpass_txn_hourly_insert ON ezpass_transactions;
DROP FUNCTION ezpass_txn_hourly_apply();
DROP TABLE ezpass_txn_hourly;
DROP INDEX ledger_entries_driver_sum_idx;
DROP INDEX ledger_entries_account_id_idx;
DROP INDEX leases_medallion_idx;
DROP INDEX vehicles_medallion_idx;
DROP INDEX ezpass_transactions_failed_id_idx;
CREATE INDEX ezpass_transactions_import_idx ON ezpass_transactions (import_id);
DROP INDEX ezpass_transactions_import_txn_at_idx;
DROP INDEX medallions_number_upper_idx;
DROP INDEX ezpass_transactions_medallion_idx;
DROP INDEX ezpass_transactions_agency_upper_idx;
DROP INDEX ezpass_transactions_status_txn_at_idx;
DROP INDEX ezpass_transactions_tag_or_plate_idx;
DROP INDEX ezpass_transactions_agency_idx;
DROP INDEX ezpass_transactions_amount_idx;
