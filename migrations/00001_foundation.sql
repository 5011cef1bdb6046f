-- +goose Up
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- scs sessions (github.com/alexedwards/scs/pgxstore)
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    role          text NOT NULL CHECK (role IN ('viewer', 'finance', 'admin')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    name         text NOT NULL CHECK (btrim(name) <> ''),
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed sign-ins, counted per account and per client address for throttling.
CREATE TABLE login_failures (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key   text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at_idx ON login_failures (key, at);

CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    subject_type text NOT NULL DEFAULT '',
    subject_id   text NOT NULL DEFAULT '',
    before       jsonb,
    after        jsonb,
    reason       text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id, at DESC);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC);

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Messages received by the embedded SMTP sink (`recondesk dev` only), shown in Admin → Mailbox.
CREATE TABLE mailbox_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    mail_from   text NOT NULL,
    rcpt_to     text[] NOT NULL,
    message_id  text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '',
    raw         bytea NOT NULL
);
CREATE INDEX mailbox_messages_received_idx ON mailbox_messages (received_at DESC);

-- +goose Down
DROP TABLE mailbox_messages;
DROP TABLE audit_events;
DROP FUNCTION refuse_change();
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE sessions;
