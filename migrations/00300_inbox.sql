-- +goose Up
-- Partner replies (DESIGN §4.7): the finance mailbox's UID state, inbound messages and their
-- attachments, partners' responses per item, disputes and failing recipients.

-- How far each mailbox has been read: one row per (mailbox, UIDVALIDITY). A new UIDVALIDITY
-- starts a new row at UID 0; messages already stored are recognised by their dedupe key.
CREATE TABLE inbox_mailboxes (
    mailbox      text NOT NULL CHECK (btrim(mailbox) <> ''),
    uid_validity bigint NOT NULL CHECK (uid_validity > 0),
    last_uid     bigint NOT NULL DEFAULT 0 CHECK (last_uid >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, uid_validity)
);

-- Every message read from the mailbox, stored once: by Message-ID, else by a hash of its bytes.
CREATE TABLE inbound_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key   text NOT NULL UNIQUE,
    message_id   text NOT NULL DEFAULT '',
    mailbox      text NOT NULL,
    uid_validity bigint NOT NULL,
    uid          bigint NOT NULL,
    from_addr    text NOT NULL DEFAULT '',
    to_addrs     text[] NOT NULL DEFAULT '{}',
    subject      text NOT NULL DEFAULT '',
    in_reply_to  text NOT NULL DEFAULT '',
    refs         text NOT NULL DEFAULT '',
    sent_at      timestamptz,
    received_at  timestamptz NOT NULL,
    size         int NOT NULL DEFAULT 0,
    sha256       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('human', 'auto_reply', 'bounce')),
    batch_id     uuid REFERENCES faulty_batches (id),
    matched_by   text NOT NULL DEFAULT '' CHECK (matched_by IN ('', 'in_reply_to', 'references', 'subject_token', 'manual')),
    body_text    text NOT NULL DEFAULT '',
    body_html    text NOT NULL DEFAULT '',
    -- A human reply pauses the batch's ladder until then (PARTNER_REPLY_GRACE business days).
    pauses_until timestamptz,
    -- What could not be used: unknown or foreign references, unreadable files (reason texts).
    problems     jsonb NOT NULL DEFAULT '[]',
    -- Bounces: the recipients the report says failed.
    failed_rcpts text[] NOT NULL DEFAULT '{}',
    attached_by  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_messages_batch_idx ON inbound_messages (batch_id, received_at);
CREATE INDEX inbound_messages_unmatched_idx ON inbound_messages (received_at DESC) WHERE batch_id IS NULL;

CREATE TABLE inbound_attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES inbound_messages (id),
    seq          int NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         int NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    UNIQUE (message_id, seq)
);

-- A partner's answer for one item, from a returned master file (history; latest counts).
CREATE TABLE faulty_item_responses (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id            bigint NOT NULL REFERENCES faulty_items (id),
    batch_id           uuid NOT NULL REFERENCES faulty_batches (id),
    inbound_message_id bigint NOT NULL REFERENCES inbound_messages (id),
    response           text NOT NULL CHECK (response IN ('paid', 'credited', 'disputed', 'will_pay', 'other')),
    note               text NOT NULL DEFAULT '',
    -- Paid / Credited: re-check against MongoDB at the next validation.
    recheck            boolean NOT NULL DEFAULT false,
    at                 timestamptz NOT NULL DEFAULT now(),
    UNIQUE (inbound_message_id, item_id)
);
CREATE INDEX faulty_item_responses_item_idx ON faulty_item_responses (item_id, at);

-- Items a partner disputes: out of the ladder until finance accepts (resolve) or rejects.
CREATE TABLE faulty_disputes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id        bigint NOT NULL REFERENCES faulty_items (id),
    batch_id       uuid NOT NULL REFERENCES faulty_batches (id),
    response_id    bigint NOT NULL REFERENCES faulty_item_responses (id),
    state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'rejected')),
    partner_note   text NOT NULL DEFAULT '',
    decided_by     text NOT NULL DEFAULT '',
    decided_at     timestamptz,
    decision_note  text NOT NULL DEFAULT '',
    -- A rejection's note goes into the batch's next email; this is that email.
    mailed_email_id bigint REFERENCES faulty_emails (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'open') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX faulty_disputes_open_idx ON faulty_disputes (item_id) WHERE state = 'open';
CREATE INDEX faulty_disputes_batch_idx ON faulty_disputes (batch_id, state);

-- Recipients a bounce reported as failing, per partner, until cleared.
CREATE TABLE partner_recipient_failures (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id         bigint NOT NULL REFERENCES partners (id),
    address            text NOT NULL,
    reason             text NOT NULL DEFAULT '',
    batch_id           uuid REFERENCES faulty_batches (id),
    inbound_message_id bigint NOT NULL REFERENCES inbound_messages (id),
    at                 timestamptz NOT NULL DEFAULT now(),
    cleared_at         timestamptz
);
CREATE UNIQUE INDEX partner_recipient_failures_open_idx ON partner_recipient_failures (partner_id, lower(address)) WHERE cleared_at IS NULL;

-- +goose Down
DROP TABLE partner_recipient_failures;
DROP TABLE faulty_disputes;
DROP TABLE faulty_item_responses;
DROP TABLE inbound_attachments;
DROP TABLE inbound_messages;
DROP TABLE inbox_mailboxes;
