package store

import (
	"context"
	"time"

	"recondesk/internal/apperror"
)

// BindSession records that the browser session token belongs to u. It
// waits for, and then refuses, a concurrent change of u's password, role or
// disabled flag, so a session never outlives the change that should end it.
func BindSession(ctx context.Context, db DBTX, token string, u User, lifetime time.Duration) error {
	if _, err := db.Exec(ctx, `DELETE FROM session_users WHERE created_at < now() - $1::interval`, lifetime.String()); err != nil {
		return err
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO session_users (token, user_id)
		SELECT $1, id FROM (
			SELECT id FROM users
			WHERE id = $2 AND password_hash = $3 AND role = $4 AND NOT disabled
			FOR SHARE
		) u
		ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, created_at = now()`,
		token, u.ID, u.PasswordHash, u.Role)
	if err == nil && tag.RowsAffected() == 0 {
		return apperror.New(apperror.Unauthenticated, "Your account was changed while you signed in. Sign in again.")
	}
	return err
}

// SessionUser returns the enabled user a session token is bound to, or a
// NotFound error when the session is not (or no longer) signed in.
func SessionUser(ctx context.Context, db DBTX, token string, userID int64) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `
		SELECT `+prefixed("u.", userCols)+` FROM session_users s JOIN users u ON u.id = s.user_id
		WHERE s.token = $1 AND s.user_id = $2`, token, userID))
	return u, notFound(err, "The session")
}

// UnbindSession forgets which user a session token belonged to.
func UnbindSession(ctx context.Context, db DBTX, token string) error {
	_, err := db.Exec(ctx, `DELETE FROM session_users WHERE token = $1`, token)
	return err
}

// EndUserSessions deletes every browser session of a user and returns how
// many there were.
func EndUserSessions(ctx context.Context, db DBTX, userID int64) (int64, error) {
	tag, err := db.Exec(ctx, `
		WITH gone AS (DELETE FROM session_users WHERE user_id = $1 RETURNING token)
		DELETE FROM sessions WHERE token IN (SELECT token FROM gone)`, userID)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
