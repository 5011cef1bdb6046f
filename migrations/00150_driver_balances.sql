-- +goose Up
-- A balance per driver (issue 10): the /ledger page and the statement's
-- current balance read one row per driver instead of summing the ledger.
--
-- driver_balances is kept by a statement-level trigger on ledger_entries,
-- in the writer's transaction, so every writer (posting, reversal,
-- re-association, a test inserting entries directly) keeps it exact. The
-- entries are append-only (ledger_entries_immutable refuses UPDATE and
-- DELETE, ledger_entries_no_truncate TRUNCATE), so INSERT is the only change
-- to follow. A driver's receivable is the account driver:{id}; the row's
-- driver_id is that id (the statement reads the same account).
--
-- Concurrent posters for the same driver serialise on its row until they
-- commit (the upsert locks it); the trigger upserts in driver_id order so
-- two multi-driver statements lock rows in the same order.
CREATE TABLE driver_balances (
    driver_id      bigint PRIMARY KEY,
    balance_cents  bigint NOT NULL,
    entries        bigint NOT NULL,
    last_txn_at    timestamptz NOT NULL,  -- the latest toll time of its journals
    last_posted_at timestamptz NOT NULL   -- the latest posting of its journals
);
-- /ledger: largest balance first, keyset tiebreaker driver_id.
CREATE INDEX driver_balances_balance_idx ON driver_balances (balance_cents, driver_id);

-- +goose StatementBegin
CREATE FUNCTION driver_balances_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO driver_balances AS b (driver_id, balance_cents, entries, last_txn_at, last_posted_at)
    SELECT substr(e.account, 8)::bigint, sum(e.amount_cents), count(*), max(j.txn_at), max(j.posted_at)
    FROM new_entries e JOIN ledger_journals j ON j.id = e.journal_id
    WHERE e.account LIKE 'driver:%'
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (driver_id) DO UPDATE SET
        balance_cents  = b.balance_cents + excluded.balance_cents,
        entries        = b.entries + excluded.entries,
        last_txn_at    = greatest(b.last_txn_at, excluded.last_txn_at),
        last_posted_at = greatest(b.last_posted_at, excluded.last_posted_at);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER driver_balances_insert AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION driver_balances_apply();

-- Backfill. CREATE TRIGGER holds ledger_entries against writers until the
-- migration commits, so no entry lands between the backfill and the trigger.
INSERT INTO driver_balances (driver_id, balance_cents, entries, last_txn_at, last_posted_at)
SELECT substr(e.account, 8)::bigint, sum(e.amount_cents), count(*), max(j.txn_at), max(j.posted_at)
FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
WHERE e.account LIKE 'driver:%'
GROUP BY 1;

-- +goose Down
DROP TRIGGER driver_balances_insert ON ledger_entries;
DROP FUNCTION driver_balances_apply();
DROP TABLE driver_balances;
