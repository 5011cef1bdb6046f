package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
)

// User is a person who signs in to Recondesk.
type User struct {
	ID           int64
	Email        string
	Role         auth.Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const userCols = `id, email, role, password_hash, disabled, created_at, updated_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// CreateUser inserts a user; a taken email is a Conflict.
func CreateUser(ctx context.Context, db DBTX, email string, role auth.Role, passwordHash string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx,
		`INSERT INTO users (email, role, password_hash) VALUES ($1, $2, $3) RETURNING `+userCols,
		auth.NormaliseEmail(email), role, passwordHash))
	if IsUniqueViolation(err) {
		return u, apperror.New(apperror.Conflict, "A user with email %s already exists.", auth.NormaliseEmail(email))
	}
	return u, err
}

// UserByEmail finds a user by email.
func UserByEmail(ctx context.Context, db DBTX, email string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, auth.NormaliseEmail(email)))
	return u, notFound(err, "The user")
}

// UserByID finds a user by id.
func UserByID(ctx context.Context, db DBTX, id int64) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, notFound(err, "The user")
}

// ListUsers returns every user ordered by email.
func ListUsers(ctx context.Context, db DBTX) ([]User, error) {
	rows, err := db.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// UpdateUser sets a user's role and disabled flag.
func UpdateUser(ctx context.Context, db DBTX, id int64, role auth.Role, disabled bool) (User, error) {
	u, err := scanUser(db.QueryRow(ctx,
		`UPDATE users SET role = $2, disabled = $3, updated_at = now() WHERE id = $1 RETURNING `+userCols, id, role, disabled))
	return u, notFound(err, "The user")
}

// SetUserPassword replaces a user's password hash.
func SetUserPassword(ctx context.Context, db DBTX, id int64, passwordHash string) error {
	tag, err := db.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, passwordHash)
	if err == nil && tag.RowsAffected() == 0 {
		return apperror.New(apperror.NotFound, "The user was not found.")
	}
	return err
}

// CountAdmins returns how many enabled admins exist.
func CountAdmins(ctx context.Context, db DBTX) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled`).Scan(&n)
	return n, err
}
