package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
)

// APIToken is a revocable bearer token acting as its user.
type APIToken struct {
	ID         int64
	UserID     int64
	UserEmail  string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateAPIToken stores the hash of a new token for a user.
func CreateAPIToken(ctx context.Context, db DBTX, userID int64, name, prefix string, hash []byte, createdBy int64) (int64, error) {
	var id int64
	err := db.QueryRow(ctx,
		`INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		userID, name, prefix, hash, createdBy).Scan(&id)
	return id, err
}

// UserByTokenHash returns the enabled user owning an unrevoked token and
// records its use.
func UserByTokenHash(ctx context.Context, db DBTX, hash []byte) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `
		WITH t AS (
			UPDATE api_tokens SET last_used_at = now()
			WHERE token_hash = $1 AND revoked_at IS NULL
			RETURNING user_id
		)
		SELECT `+prefixed("u.", userCols)+` FROM users u JOIN t ON t.user_id = u.id WHERE NOT u.disabled`, hash))
	if err == pgx.ErrNoRows {
		return u, apperror.New(apperror.Unauthenticated, "The API token is unknown or revoked.")
	}
	return u, err
}

// ListAPITokens returns every token, newest first.
func ListAPITokens(ctx context.Context, db DBTX) ([]APIToken, error) {
	return listAPITokens(ctx, db, 0)
}

// ListUserAPITokens returns one user's tokens, newest first.
func ListUserAPITokens(ctx context.Context, db DBTX, userID int64) ([]APIToken, error) {
	return listAPITokens(ctx, db, userID)
}

// listAPITokens lists the tokens of userID, or every token when it is 0.
func listAPITokens(ctx context.Context, db DBTX, userID int64) ([]APIToken, error) {
	rows, err := db.Query(ctx, `
		SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE $1 = 0 OR t.user_id = $1
		ORDER BY t.created_at DESC, t.id DESC`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		err := r.Scan(&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
		return t, err
	})
}

// RevokeAPIToken revokes a token; revoking twice is a no-op.
func RevokeAPIToken(ctx context.Context, db DBTX, id int64) error {
	tag, err := db.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return apperror.New(apperror.NotFound, "The API token was not found.")
	}
	return err
}

// RevokeUserAPITokens revokes every live token of a user and returns how
// many it revoked.
func RevokeUserAPITokens(ctx context.Context, db DBTX, userID int64) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
