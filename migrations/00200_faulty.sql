-- +goose Up
-- Faulty EV-charging bookings: partners, report rows, batches, items, master files, the email outbox.

CREATE TABLE partners (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party_id         text NOT NULL UNIQUE CHECK (btrim(party_id) <> ''),
    name             text NOT NULL CHECK (btrim(name) <> ''),
    -- OCPI credential ObjectIds (24 hex) of the partner, as stored in MongoDB.
    credential_ids   text[] NOT NULL DEFAULT '{}',
    to_addrs         text[] NOT NULL DEFAULT '{}',
    cc_addrs         text[] NOT NULL DEFAULT '{}',
    escalation_addrs text[] NOT NULL DEFAULT '{}',
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The period-level phases (ingestion, validation, tracking) and when each finished.
CREATE TABLE faulty_periods (
    period        text PRIMARY KEY CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    ingested_at   timestamptz,
    validated_at  timestamptz,
    tracked_at    timestamptz,
    report_rows   int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Every attempt at a phase, with its outcome; a failed fetch keeps the (capped) body for diagnosis.
CREATE TABLE faulty_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period       text NOT NULL REFERENCES faulty_periods (period),
    phase        text NOT NULL CHECK (phase IN ('ingestion', 'validation', 'tracking', 'revalidation')),
    status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    actor        text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    message      text NOT NULL DEFAULT '',
    counts       jsonb NOT NULL DEFAULT '{}',
    failing_body bytea
);
CREATE INDEX faulty_runs_period_idx ON faulty_runs (period, started_at DESC);

-- One row per (period, booking) from the report; personal-data columns are never stored.
CREATE TABLE faulty_report_rows (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period             text NOT NULL REFERENCES faulty_periods (period),
    auth_ref           text NOT NULL,
    party_id           text NOT NULL,
    partner_name       text NOT NULL DEFAULT '',
    partner_id         bigint REFERENCES partners (id),
    charger_station_id text NOT NULL DEFAULT '',
    station_name       text NOT NULL DEFAULT '',
    city               text NOT NULL DEFAULT '',
    state              text NOT NULL DEFAULT '',
    connector_id       text NOT NULL DEFAULT '',
    energy_wh          bigint,
    payment_status     text NOT NULL DEFAULT '',
    report_reasons     text NOT NULL DEFAULT '',
    cdr_id             text NOT NULL DEFAULT '',
    ocpi_session_id    text NOT NULL DEFAULT '',
    scheduled_at       timestamptz,
    start_at           timestamptz,
    end_at             timestamptz,
    start_soc          text NOT NULL DEFAULT '',
    stop_soc           text NOT NULL DEFAULT '',
    sheet_row          int NOT NULL,
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    -- True while the booking is in the latest report of the period.
    in_latest_report   boolean NOT NULL DEFAULT true,
    -- Validation against MongoDB: confirmed faulty, or the first failing reason code.
    confirmed          boolean,
    reason             text NOT NULL DEFAULT '',
    fault_reasons      text[] NOT NULL DEFAULT '{}',
    validated_at       timestamptz,
    UNIQUE (period, auth_ref)
);
CREATE INDEX faulty_report_rows_reason_idx ON faulty_report_rows (period, reason) WHERE NOT coalesce(confirmed, false);

CREATE TABLE faulty_batches (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id  bigint NOT NULL REFERENCES partners (id),
    period      text NOT NULL REFERENCES faulty_periods (period),
    created_at  timestamptz NOT NULL DEFAULT now(),
    tracked_at  timestamptz,
    resolved_at timestamptz,
    UNIQUE (partner_id, period)
);

CREATE TABLE faulty_items (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      uuid NOT NULL REFERENCES faulty_batches (id),
    report_row_id bigint NOT NULL REFERENCES faulty_report_rows (id),
    auth_ref      text NOT NULL,
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    resolution    text CHECK (resolution IN ('disappeared', 'no_longer_faulty', 'manual')),
    resolved_at   timestamptz,
    resolved_by   text,
    note          text NOT NULL DEFAULT '',
    reopened      int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'resolved') = (resolution IS NOT NULL AND resolved_at IS NOT NULL)),
    UNIQUE (batch_id, auth_ref)
);
CREATE INDEX faulty_items_batch_state_idx ON faulty_items (batch_id, state);

-- Every state change of an item (resolve, reopen), kept as history.
CREATE TABLE faulty_item_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id    bigint NOT NULL REFERENCES faulty_items (id),
    at         timestamptz NOT NULL DEFAULT now(),
    from_state text NOT NULL,
    to_state   text NOT NULL,
    how        text NOT NULL DEFAULT '',
    note       text NOT NULL DEFAULT '',
    actor      text NOT NULL
);
CREATE INDEX faulty_item_events_item_idx ON faulty_item_events (item_id, at);

-- Immutable versions of each batch's master file.
CREATE TABLE master_files (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id   uuid NOT NULL REFERENCES faulty_batches (id),
    version    int NOT NULL CHECK (version >= 1),
    sha256     text NOT NULL,
    data       bytea NOT NULL,
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, version)
);
CREATE TRIGGER master_files_immutable BEFORE UPDATE OR DELETE ON master_files
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The outbox: one row per email of a batch's thread, decided in the transaction of its step.
CREATE TABLE faulty_emails (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id       uuid NOT NULL REFERENCES faulty_batches (id),
    seq            int NOT NULL CHECK (seq >= 1),
    -- What decided it: notification, reminder, final_reminder, closing, or re_escalation:N.
    step_key       text NOT NULL,
    level          text NOT NULL,
    message_id     text NOT NULL UNIQUE,
    subject        text NOT NULL,
    to_addrs       text[] NOT NULL,
    cc_addrs       text[] NOT NULL DEFAULT '{}',
    body_text      text NOT NULL,
    body_html      text NOT NULL,
    master_file_id bigint REFERENCES master_files (id),
    -- The time the thread headers were computed from (Thread-Index), fixed at decision time.
    planned_at     timestamptz NOT NULL,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts       int NOT NULL DEFAULT 0,
    last_error     text NOT NULL DEFAULT '',
    server_reply   text NOT NULL DEFAULT '',
    sent_at        timestamptz,
    note           text NOT NULL DEFAULT '',
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, seq),
    UNIQUE (batch_id, step_key)
);
CREATE INDEX faulty_emails_state_idx ON faulty_emails (state, id);

-- +goose Down
DROP TABLE faulty_emails;
DROP TABLE master_files;
DROP TABLE faulty_item_events;
DROP TABLE faulty_items;
DROP TABLE faulty_batches;
DROP TABLE faulty_report_rows;
DROP TABLE faulty_runs;
DROP TABLE faulty_periods;
DROP TABLE partners;
