-- +goose Up
-- E-ZPass: fleet reference data, imports, transactions, and the double-entry ledger.

CREATE TABLE medallions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number     text NOT NULL UNIQUE CHECK (btrim(number) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vehicles (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vin          text NOT NULL UNIQUE CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    medallion_id bigint REFERENCES medallions (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A plate (state + normalised plate: upper case letters and digits) bound to a vehicle for a time range.
CREATE TABLE plate_bindings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id bigint NOT NULL REFERENCES vehicles (id),
    state      text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    plate      text NOT NULL CHECK (plate ~ '^[A-Z0-9]+$'),
    valid      tstzrange NOT NULL CHECK (NOT isempty(valid)),
    EXCLUDE USING gist (state WITH =, plate WITH =, valid WITH &&)
);
CREATE INDEX plate_bindings_vehicle_idx ON plate_bindings (vehicle_id);

-- A transponder tag (digits only) bound to a vehicle for a time range.
CREATE TABLE tag_bindings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id bigint NOT NULL REFERENCES vehicles (id),
    tag        text NOT NULL CHECK (tag ~ '^[0-9]+$'),
    valid      tstzrange NOT NULL CHECK (NOT isempty(valid)),
    EXCLUDE USING gist (tag WITH =, valid WITH &&)
);
CREATE INDEX tag_bindings_vehicle_idx ON tag_bindings (vehicle_id);

CREATE TABLE drivers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    tlc_license text NOT NULL UNIQUE CHECK (btrim(tlc_license) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref          text UNIQUE,
    vehicle_id   bigint NOT NULL REFERENCES vehicles (id),
    medallion_id bigint NOT NULL REFERENCES medallions (id),
    valid        tstzrange NOT NULL CHECK (NOT isempty(valid)),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    EXCLUDE USING gist (vehicle_id WITH =, valid WITH &&) WHERE (active)
);
CREATE INDEX leases_vehicle_valid_idx ON leases USING gist (vehicle_id, valid);

CREATE TABLE lease_drivers (
    lease_id   bigint NOT NULL REFERENCES leases (id),
    driver_id  bigint NOT NULL REFERENCES drivers (id),
    is_primary boolean NOT NULL DEFAULT false,
    position   int NOT NULL DEFAULT 1,
    PRIMARY KEY (lease_id, driver_id)
);
CREATE UNIQUE INDEX lease_drivers_one_primary ON lease_drivers (lease_id) WHERE is_primary;

CREATE TABLE ezpass_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       text NOT NULL,
    file_name     text NOT NULL,
    size_bytes    bigint NOT NULL,
    sha256        text NOT NULL UNIQUE,
    format        text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
    message       text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    rows_read     int NOT NULL DEFAULT 0,
    inserted      int NOT NULL DEFAULT 0,
    duplicates    int NOT NULL DEFAULT 0,
    conflicts     int NOT NULL DEFAULT 0,
    errors        int NOT NULL DEFAULT 0,
    tolls         int NOT NULL DEFAULT 0,
    credits       int NOT NULL DEFAULT 0,
    payments      int NOT NULL DEFAULT 0,
    tag_fees      int NOT NULL DEFAULT 0,
    excluded      int NOT NULL DEFAULT 0
);
CREATE INDEX ezpass_imports_created_idx ON ezpass_imports (created_at DESC);

-- The original uploaded file, kept apart so that listing imports stays light.
CREATE TABLE ezpass_import_files (
    import_id bigint PRIMARY KEY REFERENCES ezpass_imports (id),
    data      bytea NOT NULL
);

CREATE TABLE ezpass_import_errors (
    import_id   bigint NOT NULL REFERENCES ezpass_imports (id),
    line        int NOT NULL,
    column_name text NOT NULL DEFAULT '',
    value       text NOT NULL DEFAULT '',
    message     text NOT NULL
);
CREATE INDEX ezpass_import_errors_import_idx ON ezpass_import_errors (import_id, line);

CREATE TABLE ezpass_transactions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account         text NOT NULL,
    -- The Lane Txn ID, or 'fp:' || fingerprint for rows without one.
    dedupe_key      text NOT NULL,
    lane_txn_id     text,
    -- SHA-256 of the normalised row: tells a re-import of the same row from a conflicting one.
    row_hash        text NOT NULL,
    import_id       bigint NOT NULL REFERENCES ezpass_imports (id),
    line            int NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('toll', 'credit', 'payment', 'tag_fee', 'excluded')),
    excluded_reason text NOT NULL DEFAULT '',
    tag_or_plate    text NOT NULL DEFAULT '',
    tag             text,
    plate_state     text,
    plate           text,
    agency          text NOT NULL DEFAULT '',
    entry_plaza     text NOT NULL DEFAULT '',
    exit_plaza      text NOT NULL DEFAULT '',
    vehicle_class   text NOT NULL DEFAULT '',
    txn_at          timestamptz NOT NULL,
    posted_on       date,
    -- Positive = the driver owes (a toll); negative = a credit.
    amount_cents    bigint NOT NULL,
    raw             jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'imported' CHECK (status IN
                    ('imported', 'associated', 'posted', 'association_failed', 'posting_failed', 'excluded', 'conflict')),
    failure_code    text NOT NULL DEFAULT '',
    failure_message text NOT NULL DEFAULT '',
    failure_hint    text NOT NULL DEFAULT '',
    vehicle_id      bigint REFERENCES vehicles (id),
    lease_id        bigint REFERENCES leases (id),
    driver_id       bigint REFERENCES drivers (id),
    medallion_id    bigint REFERENCES medallions (id),
    match_method    text CHECK (match_method IN ('tag', 'plate', 'manual')),
    -- Bumped by every re-association of a posted toll; part of the ledger's unique key.
    posting_generation int NOT NULL DEFAULT 0,
    conflict_of     bigint REFERENCES ezpass_transactions (id),
    associated_at   timestamptz,
    posted_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'conflict') = (conflict_of IS NOT NULL))
);
-- One stored row per (account, id); conflicting versions are kept once each beside it.
CREATE UNIQUE INDEX ezpass_transactions_dedupe_key ON ezpass_transactions (account, dedupe_key) WHERE conflict_of IS NULL;
CREATE UNIQUE INDEX ezpass_transactions_conflict_key ON ezpass_transactions (account, dedupe_key, row_hash);
CREATE INDEX ezpass_transactions_status_idx ON ezpass_transactions (status, id);
CREATE INDEX ezpass_transactions_txn_at_idx ON ezpass_transactions (txn_at, id);
CREATE INDEX ezpass_transactions_import_idx ON ezpass_transactions (import_id);
CREATE INDEX ezpass_transactions_driver_idx ON ezpass_transactions (driver_id, txn_at);

-- Double-entry ledger. Journals and entries are never updated or deleted; corrections are reversals.
CREATE TABLE ledger_journals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_type text NOT NULL,
    source_id   text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('charge', 'reversal')),
    -- 0 for the first posting of a source; each re-association posts the next generation.
    generation  int NOT NULL DEFAULT 0,
    txn_at      timestamptz NOT NULL,
    posted_at   timestamptz NOT NULL DEFAULT now(),
    description text NOT NULL,
    created_by  text NOT NULL,
    reversal_of bigint UNIQUE REFERENCES ledger_journals (id),
    CHECK ((kind = 'reversal') = (reversal_of IS NOT NULL)),
    UNIQUE (source_type, source_id, kind, generation)
);

CREATE TABLE ledger_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id   bigint NOT NULL REFERENCES ledger_journals (id),
    account      text NOT NULL CHECK (account ~ '^[a-z]+:[a-z0-9_]+$'),
    amount_cents bigint NOT NULL CHECK (amount_cents <> 0),
    driver_id    bigint REFERENCES drivers (id),
    lease_id     bigint REFERENCES leases (id),
    vehicle_id   bigint REFERENCES vehicles (id),
    medallion_id bigint REFERENCES medallions (id)
);
CREATE INDEX ledger_entries_journal_idx ON ledger_entries (journal_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, journal_id);
CREATE INDEX ledger_entries_driver_idx ON ledger_entries (driver_id, journal_id);

-- +goose StatementBegin
-- Checked at commit: every journal touched has at least two entries summing to zero.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    jid bigint;
    n int;
    total numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journals' THEN
        jid := NEW.id;
    ELSE
        jid := NEW.journal_id;
    END IF;
    SELECT count(*), coalesce(sum(amount_cents), 0) INTO n, total FROM ledger_entries WHERE journal_id = jid;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger journal % is unbalanced: % entries summing to % cents', jid, n, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER ledger_journals_balanced AFTER INSERT ON ledger_journals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE TRIGGER ledger_journals_immutable BEFORE UPDATE OR DELETE ON ledger_journals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_journals_no_truncate BEFORE TRUNCATE ON ledger_journals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE ledger_journals;
DROP FUNCTION ledger_check_balanced();
DROP TABLE ezpass_transactions;
DROP TABLE ezpass_import_errors;
DROP TABLE ezpass_import_files;
DROP TABLE ezpass_imports;
DROP TABLE lease_drivers;
DROP TABLE leases;
DROP TABLE drivers;
DROP TABLE tag_bindings;
DROP TABLE plate_bindings;
DROP TABLE vehicles;
DROP TABLE medallions;
