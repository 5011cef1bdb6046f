-- +goose Up
-- Which user each browser session belongs to, so that an admin's password
-- reset, disable or role change can end exactly that user's sessions. A
-- session without a row here is not signed in (web/middleware.go loadUser).
CREATE TABLE session_users (
    token      text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_users_user_idx ON session_users (user_id);

-- +goose Down
DROP TABLE session_users;
